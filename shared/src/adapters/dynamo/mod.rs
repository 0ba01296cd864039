//! DynamoDB implementation of the store ports.
//!
//! Money invariant: an account's `balance` only changes in a `TransactWriteItems` that also
//! bumps its `version` (condition: the version we read) and writes the ledger entry with that
//! version as its sequence number. So every balance change has exactly one ledger line with an
//! exact `balance_before`/`balance_after`, and no interleaving can lose an update.

pub mod fixtures;
pub mod schema;

/// `entity` of account items: the hash key of the sparse `partners` index.
const PARTNER_ENTITY: &str = "PARTNER";

use crate::domain::{
    Account, Commission, CounterKey, CustomerId, LedgerEntry, LimitCheck, LimitScope, MxnAmount,
    Phone, RateRecord, Transaction, TransactionId, TxKind, TxStatus,
};
use crate::ports::{
    AccountReader, DebitOutcome, DebitRequest, Ledger, LedgerAudit, RateReader, RateWriter,
    RefundOutcome, StoreError, TransactionReader, WorkStore,
};
use crate::webhooks::event::low_balance_fires;
use crate::webhooks::OutboxEvent;
use async_trait::async_trait;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, CancellationReason, Put, ReturnValue, ReturnValuesOnConditionCheckFailure,
    TransactWriteItem, Update,
};
use aws_sdk_dynamodb::Client;
use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use rust_decimal::Decimal;
use schema::OPEN_INDEX;
use std::collections::HashMap;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

mod admin;
mod listing;

type Item = HashMap<String, AttributeValue>;

pub mod webhooks;

/// Upper bound on optimistic-concurrency / conflict retries of one debit or refund...
const MAX_ATTEMPTS: u32 = 400;
/// ... and on the time they may take (the top-up function's timeout is 28 s).
const RETRY_BUDGET: std::time::Duration = std::time::Duration::from_secs(10);

/// Counts the DynamoDB calls this store makes (tests assert the warm-path budget).
#[derive(Debug, Default)]
pub struct CallCounter {
    pub reads: AtomicU64,
    pub writes: AtomicU64,
}

#[derive(Clone)]
pub struct DynamoStore {
    client: Client,
    accounts_table: String,
    transactions_table: String,
    calls: Arc<CallCounter>,
    /// Per-account in-process serialization of balance changes. Across processes (Lambda
    /// instances) the version condition is what guarantees correctness; this lock only stops
    /// one process's concurrent requests from racing each other into retry storms.
    account_locks: Arc<std::sync::Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>,
    /// Poked after a transaction wrote webhook outbox events (None: only the sweep sends).
    webhook_queue: Option<Arc<dyn crate::webhooks::queue::DispatchQueue>>,
}

impl DynamoStore {
    fn account_lock(&self, customer: &str) -> Arc<tokio::sync::Mutex<()>> {
        self.account_locks
            .lock()
            .expect("account lock map")
            .entry(customer.to_owned())
            .or_default()
            .clone()
    }

    pub fn new(
        client: Client,
        accounts_table: impl Into<String>,
        transactions_table: impl Into<String>,
    ) -> Self {
        Self {
            client,
            accounts_table: accounts_table.into(),
            transactions_table: transactions_table.into(),
            calls: Arc::new(CallCounter::default()),
            account_locks: Arc::default(),
            webhook_queue: None,
        }
    }

    /// Poke this queue after writing webhook outbox events (the dispatcher sends them at once).
    pub fn with_webhook_queue(
        mut self,
        queue: Arc<dyn crate::webhooks::queue::DispatchQueue>,
    ) -> Self {
        self.webhook_queue = Some(queue);
        self
    }

    pub fn client(&self) -> &Client {
        &self.client
    }
    pub fn accounts_table(&self) -> &str {
        &self.accounts_table
    }
    pub fn transactions_table(&self) -> &str {
        &self.transactions_table
    }
    pub fn calls(&self) -> &CallCounter {
        &self.calls
    }

    fn read(&self) {
        self.calls.reads.fetch_add(1, Ordering::Relaxed);
    }
    fn write(&self) {
        self.calls.writes.fetch_add(1, Ordering::Relaxed);
    }

    /// Open the connection during cold start (a GetItem every function may do).
    pub async fn warm(&self) -> Result<(), StoreError> {
        self.get_item(&self.accounts_table, pk_sk("WARMUP", "WARMUP"))
            .await
            .map(|_| ())
    }

    /// Cheap liveness probe for /health.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.client
            .describe_table()
            .table_name(&self.accounts_table)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    /// Create or replace an account (admin / fixtures only; never on a request path).
    /// With `only_if_absent`, an existing account is left untouched.
    pub async fn put_account(
        &self,
        account: &Account,
        only_if_absent: bool,
    ) -> Result<bool, StoreError> {
        let mut req = self
            .client
            .put_item()
            .table_name(&self.accounts_table)
            .set_item(Some(account_item(account)));
        if only_if_absent {
            req = req.condition_expression("attribute_not_exists(pk)");
        }
        self.write();
        match req.send().await {
            Ok(_) => Ok(true),
            Err(e) if is_conditional_failure(&e) => Ok(false),
            Err(e) => Err(unavailable(e)),
        }
    }

    /// Every account (admin only: a scan, never on a request path).
    pub async fn list_accounts(&self) -> Result<Vec<Account>, StoreError> {
        let mut out = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            self.read();
            let page = self
                .client
                .scan()
                .table_name(&self.accounts_table)
                .filter_expression("sk = :sk")
                .expression_attribute_values(":sk", s("ACCOUNT"))
                .consistent_read(true)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(unavailable)?;
            for item in page.items() {
                out.push(parse_account(item)?);
            }
            match page.last_evaluated_key() {
                Some(k) if !k.is_empty() => start = Some(k.clone()),
                _ => break,
            }
        }
        Ok(out)
    }

    /// An account's ledger, in sequence order.
    pub async fn ledger_entries(&self, customer: &str) -> Result<Vec<LedgerEntry>, StoreError> {
        let mut out = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            self.read();
            let page = self
                .client
                .query()
                .table_name(&self.accounts_table)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", s(format!("LEDGER#{customer}")))
                .consistent_read(true)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(unavailable)?;
            for item in page.items() {
                out.push(LedgerEntry {
                    customer_id: customer.to_owned(),
                    seq: get_dec(item, "seq")?
                        .try_into()
                        .map_err(|_| corrupt("seq"))?,
                    transaction_id: get_s(item, "transaction_id")?,
                    kind: get_s(item, "kind")?,
                    delta: get_dec(item, "delta")?,
                    balance_before: get_dec(item, "balance_before")?,
                    balance_after: get_dec(item, "balance_after")?,
                    at: get_s(item, "at")?,
                });
            }
            match page.last_evaluated_key() {
                Some(k) if !k.is_empty() => start = Some(k.clone()),
                _ => break,
            }
        }
        out.sort_by_key(|e| e.seq);
        Ok(out)
    }

    async fn get_item(&self, table: &str, key: Item) -> Result<Option<Item>, StoreError> {
        self.read();
        let out = self
            .client
            .get_item()
            .table_name(table)
            .set_key(Some(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(out.item)
    }

    async fn counter_used(&self, key: &CounterKey) -> Result<Decimal, StoreError> {
        let item = self
            .get_item(&self.accounts_table, pk_sk(&key.pk, &key.sk))
            .await?;
        match item {
            Some(item) => Ok(opt_dec(&item, "used_mxn")?.unwrap_or_default()),
            None => Ok(Decimal::ZERO),
        }
    }

    async fn transaction_by_claim(&self, idem_pk: &str) -> Result<Option<Transaction>, StoreError> {
        let Some(item) = self
            .get_item(&self.accounts_table, pk_sk(idem_pk, "IDEM"))
            .await?
        else {
            return Ok(None);
        };
        let id = TransactionId::parse(&get_s(&item, "transaction_id")?).map_err(corrupt)?;
        self.get_transaction(&id).await
    }
}

// ---------------------------------------------------------------------------------------------
// Key layout (accounts table, pk / sk):
//   ACCOUNT#{customer}            ACCOUNT             the account
//   LEDGER#{customer}             SEQ#{version:012}   one line per balance change
//   DAILY#{customer}#{yyyy-mm-dd} CUSTOMER | PHONE#{phone}   daily MXN counters (TTL)
//   IDEM#{customer}#{key}         IDEM                idempotency claim -> transaction id
//   FX#USD_MXN                    CURRENT             the exchange rate
// ---------------------------------------------------------------------------------------------

fn account_pk(customer: &str) -> String {
    format!("ACCOUNT#{customer}")
}
fn ledger_key(customer: &str, seq: u64) -> Item {
    pk_sk(&format!("LEDGER#{customer}"), &format!("SEQ#{seq:012}"))
}
pub(crate) fn idem_pk(customer: &str, key: &str) -> String {
    format!("IDEM#{customer}#{key}")
}
fn counter_key(customer: &str, scope: LimitScope, phone: &Phone, now: DateTime<Utc>) -> CounterKey {
    let pk = format!("DAILY#{customer}#{}", now.format("%Y-%m-%d"));
    let sk = match scope {
        LimitScope::Customer => "CUSTOMER".to_owned(),
        LimitScope::Phone => format!("PHONE#{phone}"),
    };
    CounterKey { pk, sk }
}
/// Counters live through the next UTC day, then DynamoDB's TTL removes them.
fn counter_expiry(now: DateTime<Utc>) -> i64 {
    let midnight = now
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .expect("midnight exists")
        .and_utc();
    (midnight + Duration::days(2)).timestamp()
}

fn pk_sk(pk: &str, sk: &str) -> Item {
    HashMap::from([("pk".to_owned(), s(pk)), ("sk".to_owned(), s(sk))])
}
fn tx_key(id: &TransactionId) -> Item {
    HashMap::from([("id".to_owned(), s(id.as_str()))])
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}
/// Numbers are always written from decimal strings.
fn n(v: Decimal) -> AttributeValue {
    AttributeValue::N(v.normalize().to_string())
}
fn nu(v: u64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}
fn ts(at: DateTime<Utc>) -> AttributeValue {
    s(at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
}

fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(what.to_string())
}
fn unavailable<E: std::fmt::Debug>(e: E) -> StoreError {
    StoreError::Unavailable(format!("{e:?}").chars().take(500).collect())
}

fn get_s(item: &Item, k: &str) -> Result<String, StoreError> {
    opt_s(item, k)?.ok_or_else(|| corrupt(format!("missing {k}")))
}
fn opt_s(item: &Item, k: &str) -> Result<Option<String>, StoreError> {
    match item.get(k) {
        None | Some(AttributeValue::Null(_)) => Ok(None),
        Some(AttributeValue::S(v)) => Ok(Some(v.clone())),
        Some(_) => Err(corrupt(format!("{k} is not a string"))),
    }
}
fn get_dec(item: &Item, k: &str) -> Result<Decimal, StoreError> {
    opt_dec(item, k)?.ok_or_else(|| corrupt(format!("missing {k}")))
}
fn opt_dec(item: &Item, k: &str) -> Result<Option<Decimal>, StoreError> {
    match item.get(k) {
        None | Some(AttributeValue::Null(_)) => Ok(None),
        Some(AttributeValue::N(v)) => Decimal::from_str(v)
            .or_else(|_| Decimal::from_scientific(v))
            .map(Some)
            .map_err(|_| corrupt(format!("{k} is not a decimal: {v}"))),
        Some(_) => Err(corrupt(format!("{k} is not a number"))),
    }
}
fn get_time(item: &Item, k: &str) -> Result<DateTime<Utc>, StoreError> {
    opt_time(item, k)?.ok_or_else(|| corrupt(format!("missing {k}")))
}
fn opt_time(item: &Item, k: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
    opt_s(item, k)?
        .map(|v| {
            DateTime::parse_from_rfc3339(&v)
                .map(|d| d.with_timezone(&Utc))
                .map_err(|_| corrupt(format!("{k} is not a timestamp")))
        })
        .transpose()
}

fn account_item(a: &Account) -> Item {
    let mut item = pk_sk(&account_pk(a.customer_id.as_str()), "ACCOUNT");
    item.insert("customer_id".into(), s(a.customer_id.as_str()));
    // Sparse key of the `partners` index (lists accounts without a scan).
    item.insert(schema::PARTNERS_INDEX_KEYS.0.into(), s(PARTNER_ENTITY));
    item.insert("company_name".into(), s(&a.company_name));
    item.insert("balance".into(), n(a.balance));
    item.insert("credit_limit".into(), n(a.credit_limit));
    item.insert("overdraft_usd".into(), n(a.overdraft_usd));
    item.insert("opening_balance".into(), n(a.opening_balance));
    item.insert("commission_rate".into(), n(a.commission.value()));
    if let Some(l) = a.daily_limit_mxn {
        item.insert("daily_limit_mxn".into(), n(l));
    }
    if let Some(l) = a.daily_limit_per_phone_mxn {
        item.insert("daily_limit_per_phone_mxn".into(), n(l));
    }
    if let Some(l) = a.max_topups_per_minute {
        item.insert("max_topups_per_minute".into(), nu(l as u64));
    }
    item.insert(
        "api_key_hashes".into(),
        AttributeValue::L(a.api_key_hashes.iter().map(s).collect()),
    );
    if let Some(h) = &a.secret_key_hash {
        item.insert("secret_key_hash".into(), s(h));
    }
    item.insert(
        "status".into(),
        s(if a.active { "ACTIVE" } else { "DISABLED" }),
    );
    item.insert("version".into(), nu(a.version));
    if let Some(at) = a.updated_at {
        item.insert("updated_at".into(), ts(at));
    }
    if let Some(t) = a.low_balance_usd {
        item.insert("low_balance_threshold_usd".into(), n(t));
    }
    item.insert(
        "low_balance_alerted".into(),
        AttributeValue::Bool(a.low_balance_alerted),
    );
    item
}

fn parse_account(item: &Item) -> Result<Account, StoreError> {
    let hashes = match item.get("api_key_hashes") {
        Some(AttributeValue::L(list)) => {
            list.iter().filter_map(|v| v.as_s().ok().cloned()).collect()
        }
        Some(AttributeValue::Ss(list)) => list.clone(),
        _ => Vec::new(),
    };
    Ok(Account {
        customer_id: CustomerId::parse(&get_s(item, "customer_id")?).map_err(corrupt)?,
        company_name: get_s(item, "company_name")?,
        balance: get_dec(item, "balance")?,
        credit_limit: opt_dec(item, "credit_limit")?.unwrap_or_default(),
        overdraft_usd: opt_dec(item, "overdraft_usd")?.unwrap_or_default(),
        opening_balance: opt_dec(item, "opening_balance")?.unwrap_or_default(),
        commission: Commission::parse(opt_dec(item, "commission_rate")?.unwrap_or_default())
            .map_err(corrupt)?,
        daily_limit_mxn: opt_dec(item, "daily_limit_mxn")?,
        daily_limit_per_phone_mxn: opt_dec(item, "daily_limit_per_phone_mxn")?,
        max_topups_per_minute: opt_dec(item, "max_topups_per_minute")?
            .map(|d| d.try_into().map_err(|_| corrupt("max_topups_per_minute")))
            .transpose()?,
        api_key_hashes: hashes,
        secret_key_hash: opt_s(item, "secret_key_hash")?,
        active: opt_s(item, "status")?.as_deref() == Some("ACTIVE"),
        version: opt_dec(item, "version")?
            .unwrap_or_default()
            .try_into()
            .map_err(|_| corrupt("version"))?,
        updated_at: opt_time(item, "updated_at")?,
        low_balance_usd: opt_dec(item, "low_balance_threshold_usd")?,
        low_balance_alerted: matches!(
            item.get("low_balance_alerted"),
            Some(AttributeValue::Bool(true))
        ),
    })
}

fn transaction_item(t: &Transaction) -> Item {
    let mut item = tx_key(&t.id);
    item.insert("customer_id".into(), s(t.customer_id.as_str()));
    item.insert("phone".into(), s(t.phone.as_str()));
    item.insert("amount_mxn".into(), nu(t.amount_mxn.value() as u64));
    item.insert("amount_usd".into(), n(t.amount_usd));
    item.insert("exchange_rate".into(), n(t.exchange_rate));
    item.insert("commission_rate".into(), n(t.commission));
    item.insert("status".into(), s(t.status.as_str()));
    if !t.status.is_terminal() {
        item.insert("open_status".into(), s(t.status.as_str()));
    }
    item.insert("kind".into(), s(t.kind.as_str()));
    let opt = |item: &mut Item, k: &str, v: &Option<String>| {
        if let Some(v) = v {
            item.insert(k.into(), s(v));
        }
    };
    opt(&mut item, "reference", &t.reference);
    opt(&mut item, "idempotency_key", &t.idempotency_key);
    opt(
        &mut item,
        "operator_transaction_id",
        &t.operator_transaction_id,
    );
    opt(&mut item, "failure_reason", &t.failure_reason);
    item.insert("provider".into(), s(&t.provider));
    item.insert("created_at".into(), ts(t.created_at));
    item.insert("updated_at".into(), ts(t.updated_at));
    if let Some(at) = t.queued_at {
        item.insert("queued_at".into(), ts(at));
    }
    if let Some(at) = t.processed_at {
        item.insert("processed_at".into(), ts(at));
    }
    if let Some(ms) = t.response_time_ms {
        item.insert("response_time_ms".into(), AttributeValue::N(ms.to_string()));
    }
    item.insert("attempts".into(), nu(t.attempts as u64));
    item.insert("balance_before".into(), n(t.balance_before));
    item.insert("balance_after".into(), n(t.balance_after));
    item.insert(
        "counters".into(),
        AttributeValue::L(
            t.counters
                .iter()
                .map(|c| {
                    AttributeValue::M(HashMap::from([
                        ("pk".to_owned(), s(&c.pk)),
                        ("sk".to_owned(), s(&c.sk)),
                    ]))
                })
                .collect(),
        ),
    );
    item
}

fn parse_transaction(item: &Item) -> Result<Transaction, StoreError> {
    let amount: u32 = get_dec(item, "amount_mxn")?
        .try_into()
        .map_err(|_| corrupt("amount_mxn"))?;
    let counters = match item.get("counters") {
        Some(AttributeValue::L(list)) => list
            .iter()
            .filter_map(|v| v.as_m().ok())
            .map(|m| {
                Ok(CounterKey {
                    pk: get_s(m, "pk")?,
                    sk: get_s(m, "sk")?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?,
        _ => Vec::new(),
    };
    Ok(Transaction {
        id: TransactionId::parse(&get_s(item, "id")?).map_err(corrupt)?,
        customer_id: CustomerId::parse(&get_s(item, "customer_id")?).map_err(corrupt)?,
        phone: Phone::parse(&get_s(item, "phone")?).map_err(corrupt)?,
        amount_mxn: MxnAmount::any(amount).map_err(corrupt)?,
        amount_usd: get_dec(item, "amount_usd")?,
        exchange_rate: get_dec(item, "exchange_rate")?,
        commission: opt_dec(item, "commission_rate")?.unwrap_or_default(),
        status: TxStatus::parse(&get_s(item, "status")?).ok_or_else(|| corrupt("status"))?,
        kind: match get_s(item, "kind")?.as_str() {
            "ASYNC" => TxKind::Async,
            _ => TxKind::Sync,
        },
        reference: opt_s(item, "reference")?,
        idempotency_key: opt_s(item, "idempotency_key")?,
        provider: opt_s(item, "provider")?.unwrap_or_default(),
        operator_transaction_id: opt_s(item, "operator_transaction_id")?,
        failure_reason: opt_s(item, "failure_reason")?,
        created_at: get_time(item, "created_at")?,
        updated_at: get_time(item, "updated_at")?,
        queued_at: opt_time(item, "queued_at")?,
        processed_at: opt_time(item, "processed_at")?,
        response_time_ms: opt_dec(item, "response_time_ms")?
            .map(|d| d.try_into().map_err(|_| corrupt("response_time_ms")))
            .transpose()?,
        attempts: opt_dec(item, "attempts")?
            .unwrap_or_default()
            .try_into()
            .map_err(|_| corrupt("attempts"))?,
        balance_before: opt_dec(item, "balance_before")?.unwrap_or_default(),
        balance_after: opt_dec(item, "balance_after")?.unwrap_or_default(),
        counters,
    })
}

/// When a balance change is recorded: never before the account's previous change, so a
/// ledger's `at` never decreases with its sequence (a statement by time is a contiguous run
/// of sequence numbers, even if clocks of two Lambda instances disagree by a few ms).
fn ledger_time(now: DateTime<Utc>, last_change: Option<DateTime<Utc>>) -> DateTime<Utc> {
    last_change.map_or(now, |last| now.max(last))
}

#[allow(clippy::too_many_arguments)]
fn ledger_item(
    customer: &str,
    seq: u64,
    tx: &TransactionId,
    kind: &str,
    delta: Decimal,
    before: Decimal,
    after: Decimal,
    now: DateTime<Utc>,
) -> Item {
    let mut item = ledger_key(customer, seq);
    item.insert("seq".into(), nu(seq));
    // Key of the `ledger-by-time` index (statements and the reconciliation export).
    item.insert(schema::LEDGER_INDEX_KEYS.0.into(), s(customer));
    item.insert("transaction_id".into(), s(tx.as_str()));
    item.insert("kind".into(), s(kind));
    item.insert("delta".into(), n(delta));
    item.insert("balance_before".into(), n(before));
    item.insert("balance_after".into(), n(after));
    item.insert("at".into(), ts(now));
    item
}

fn ledger_put_item(table: &str, item: Item) -> Result<TransactWriteItem, StoreError> {
    Ok(TransactWriteItem::builder()
        .put(
            Put::builder()
                .table_name(table)
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(pk)")
                .build()
                .map_err(corrupt)?,
        )
        .build())
}

#[allow(clippy::too_many_arguments)]
fn ledger_put(
    table: &str,
    customer: &str,
    seq: u64,
    tx: &TransactionId,
    kind: &str,
    delta: Decimal,
    before: Decimal,
    after: Decimal,
    now: DateTime<Utc>,
) -> Result<TransactWriteItem, StoreError> {
    ledger_put_item(
        table,
        ledger_item(customer, seq, tx, kind, delta, before, after, now),
    )
}

fn is_conditional_failure<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> bool {
    e.as_service_error().and_then(ProvideErrorMetadata::code)
        == Some("ConditionalCheckFailedException")
}

/// What went wrong in a cancelled transaction.
enum Cancel {
    /// Reason per item (in request order), with the item's old image when DynamoDB returns it.
    Reasons(Vec<CancellationReason>),
    /// Conflicting concurrent transaction / throttling: retry after a backoff.
    Retry,
}

fn classify(
    e: SdkError<TransactWriteItemsError, aws_sdk_dynamodb::config::http::HttpResponse>,
) -> Result<Cancel, StoreError> {
    if let SdkError::ServiceError(se) = &e {
        match se.err() {
            TransactWriteItemsError::TransactionCanceledException(tc) => {
                let reasons = tc.cancellation_reasons().to_vec();
                let conflict = reasons.iter().any(|r| {
                    matches!(
                        r.code(),
                        Some("TransactionConflict")
                            | Some("ThrottlingError")
                            | Some("ProvisionedThroughputExceeded")
                    )
                });
                let failed = reasons
                    .iter()
                    .any(|r| r.code() == Some("ConditionalCheckFailed"));
                if failed {
                    return Ok(Cancel::Reasons(reasons));
                }
                if conflict || reasons.is_empty() {
                    return Ok(Cancel::Retry);
                }
                return Err(StoreError::Unavailable(format!(
                    "transaction cancelled: {:?}",
                    reasons.iter().map(|r| r.code()).collect::<Vec<_>>()
                )));
            }
            TransactWriteItemsError::TransactionInProgressException(_)
            | TransactWriteItemsError::ProvisionedThroughputExceededException(_)
            | TransactWriteItemsError::ThrottlingException(_)
            | TransactWriteItemsError::RequestLimitExceeded(_) => return Ok(Cancel::Retry),
            _ => {}
        }
    }
    // Timeouts, dispatch failures and 5xx are ambiguous: the write may have committed. Retrying
    // the same items is safe (the record's `attribute_not_exists(id)` detects our own commit).
    match &e {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            Ok(Cancel::Retry)
        }
        SdkError::ServiceError(se) if se.raw().status().is_server_error() => Ok(Cancel::Retry),
        _ => Err(unavailable(e)),
    }
}

fn failed(reasons: &[CancellationReason], idx: usize) -> bool {
    reasons
        .get(idx)
        .is_some_and(|r| r.code() == Some("ConditionalCheckFailed"))
}

async fn backoff(attempt: u32) {
    let cap_ms = (2u64 << attempt.min(5)).min(50);
    let ms = rand::rng().random_range(0..=cap_ms);
    tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
}

#[async_trait]
impl LedgerAudit for DynamoStore {
    async fn list_accounts(&self) -> Result<Vec<Account>, StoreError> {
        DynamoStore::list_accounts(self).await
    }
    async fn ledger_entries(&self, customer: &str) -> Result<Vec<LedgerEntry>, StoreError> {
        DynamoStore::ledger_entries(self, customer).await
    }
}

#[async_trait]
impl AccountReader for DynamoStore {
    async fn get_account(&self, customer: &CustomerId) -> Result<Option<Account>, StoreError> {
        self.get_item(
            &self.accounts_table,
            pk_sk(&account_pk(customer.as_str()), "ACCOUNT"),
        )
        .await?
        .map(|item| parse_account(&item))
        .transpose()
    }
}

#[async_trait]
impl TransactionReader for DynamoStore {
    async fn get_transaction(&self, id: &TransactionId) -> Result<Option<Transaction>, StoreError> {
        self.get_item(&self.transactions_table, tx_key(id))
            .await?
            .map(|item| parse_transaction(&item))
            .transpose()
    }
}

const RATE_PK: &str = "FX#USD_MXN";

#[async_trait]
impl RateReader for DynamoStore {
    async fn get_rate(&self) -> Result<Option<RateRecord>, StoreError> {
        let Some(item) = self
            .get_item(&self.accounts_table, pk_sk(RATE_PK, "CURRENT"))
            .await?
        else {
            return Ok(None);
        };
        Ok(Some(RateRecord {
            rate: get_dec(&item, "rate")?,
            updated_at: get_time(&item, "updated_at")?,
            source: opt_s(&item, "source")?.unwrap_or_default(),
        }))
    }
}

#[async_trait]
impl RateWriter for DynamoStore {
    async fn put_rate(&self, rate: &RateRecord) -> Result<(), StoreError> {
        let mut item = pk_sk(RATE_PK, "CURRENT");
        item.insert("rate".into(), n(rate.rate));
        item.insert("updated_at".into(), ts(rate.updated_at));
        item.insert("source".into(), s(&rate.source));
        self.write();
        self.client
            .put_item()
            .table_name(&self.accounts_table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }
}

#[async_trait]
impl Ledger for DynamoStore {
    async fn debit(
        &self,
        account: &Account,
        request: DebitRequest,
    ) -> Result<DebitOutcome, StoreError> {
        let DebitRequest {
            transaction: mut tx,
            limits,
            max_per_minute,
            now,
        } = request;
        let customer = tx.customer_id.as_str().to_owned();
        let amount = tx.amount_mxn.as_decimal();
        let cost = tx.amount_usd;
        let claim_pk = tx.idempotency_key.as_ref().map(|k| idem_pk(&customer, k));
        let counters: Vec<(LimitCheck, CounterKey)> = limits
            .into_iter()
            .map(|l| {
                let key = counter_key(&customer, l.scope, &tx.phone, now);
                (l, key)
            })
            .collect();
        tx.counters = counters.iter().map(|(_, k)| k.clone()).collect();

        // A single top-up above a whole daily limit can never pass: answer without writing.
        for (limit, key) in &counters {
            if amount > limit.limit_mxn {
                if let Some(pk) = &claim_pk {
                    if let Some(existing) = self.transaction_by_claim(pk).await? {
                        return Ok(DebitOutcome::AlreadyClaimed(Box::new(existing)));
                    }
                }
                return Ok(DebitOutcome::LimitExceeded {
                    scope: limit.scope,
                    limit_mxn: limit.limit_mxn,
                    used_mxn: self.counter_used(key).await?,
                });
            }
        }

        let lock = self.account_lock(&customer);
        let _serialized = lock.lock().await;
        let mut current = account.clone();
        let started = std::time::Instant::now();
        for attempt in 0..MAX_ATTEMPTS {
            if started.elapsed() > RETRY_BUDGET {
                break;
            }
            if attempt > 0 {
                match self.get_account(&tx.customer_id).await? {
                    Some(a) => current = a,
                    None => return Ok(DebitOutcome::AccountUnavailable),
                }
            }
            if !current.active {
                return Ok(DebitOutcome::AccountUnavailable);
            }
            let before = current.balance;
            let after = before - cost;
            if after < -current.overdraft_usd {
                // A replay of an already-charged reference wins over a low balance.
                if let Some(pk) = &claim_pk {
                    if let Some(existing) = self.transaction_by_claim(pk).await? {
                        return Ok(DebitOutcome::AlreadyClaimed(Box::new(existing)));
                    }
                }
                return Ok(DebitOutcome::InsufficientBalance {
                    current_balance: before,
                });
            }
            let seq = current.version + 1;
            let at = ledger_time(now, current.updated_at);
            tx.balance_before = before;
            tx.balance_after = after;
            // balance.low: once per dip below the threshold (the flag is in the same
            // version-checked update, so two racing debits cannot both fire it).
            let threshold = current.low_balance_threshold();
            let low_event =
                low_balance_fires(after, threshold, current.low_balance_alerted).then(|| {
                    OutboxEvent::balance_low(&customer, after, threshold, tx.id.as_str(), now)
                });
            let balance_update = if low_event.is_some() {
                "SET balance = :after, version = :seq, updated_at = :now, low_balance_alerted = :alerted"
            } else {
                "SET balance = :after, version = :seq, updated_at = :now"
            };

            let mut items = Vec::with_capacity(6);
            // 0: the balance, version-checked (exact before/after, no lost update).
            items.push(
                TransactWriteItem::builder()
                    .update(
                        Update::builder()
                            .table_name(&self.accounts_table)
                            .set_key(Some(pk_sk(&account_pk(&customer), "ACCOUNT")))
                            .update_expression(balance_update)
                            .condition_expression(
                                "version = :v AND balance = :before AND #st = :active",
                            )
                            .set_expression_attribute_values(Some(
                                low_event
                                    .as_ref()
                                    .map(|_| {
                                        HashMap::from([(
                                            ":alerted".to_owned(),
                                            AttributeValue::Bool(true),
                                        )])
                                    })
                                    .unwrap_or_default(),
                            ))
                            .expression_attribute_names("#st", "status")
                            .expression_attribute_values(":after", n(after))
                            .expression_attribute_values(":before", n(before))
                            .expression_attribute_values(":seq", nu(seq))
                            .expression_attribute_values(":v", nu(current.version))
                            .expression_attribute_values(":now", ts(at))
                            .expression_attribute_values(":active", s("ACTIVE"))
                            .return_values_on_condition_check_failure(
                                ReturnValuesOnConditionCheckFailure::AllOld,
                            )
                            .build()
                            .map_err(corrupt)?,
                    )
                    .build(),
            );
            // 1: the transaction record.
            items.push(
                TransactWriteItem::builder()
                    .put(
                        Put::builder()
                            .table_name(&self.transactions_table)
                            .set_item(Some(transaction_item(&tx)))
                            .condition_expression("attribute_not_exists(id)")
                            .build()
                            .map_err(corrupt)?,
                    )
                    .build(),
            );
            // 2: the idempotency claim.
            let claim_idx = claim_pk.as_ref().map(|pk| {
                let mut item = pk_sk(pk, "IDEM");
                item.insert("transaction_id".into(), s(tx.id.as_str()));
                item.insert("created_at".into(), ts(now));
                items.push(
                    TransactWriteItem::builder()
                        .put(
                            Put::builder()
                                .table_name(&self.accounts_table)
                                .set_item(Some(item))
                                .condition_expression("attribute_not_exists(pk)")
                                .return_values_on_condition_check_failure(
                                    ReturnValuesOnConditionCheckFailure::AllOld,
                                )
                                .build()
                                .expect("static put"),
                        )
                        .build(),
                );
                items.len() - 1
            });
            // 3..: the daily counters, each conditioned to stay within its limit.
            let first_counter = items.len();
            for (limit, key) in &counters {
                items.push(
                    TransactWriteItem::builder()
                        .update(
                            Update::builder()
                                .table_name(&self.accounts_table)
                                .set_key(Some(pk_sk(&key.pk, &key.sk)))
                                .update_expression("SET expires_at = :exp ADD used_mxn :amt")
                                .condition_expression(
                                    "attribute_not_exists(used_mxn) OR used_mxn <= :max",
                                )
                                .expression_attribute_values(":exp", nu(counter_expiry(now) as u64))
                                .expression_attribute_values(":amt", n(amount))
                                .expression_attribute_values(":max", n(limit.limit_mxn - amount))
                                .return_values_on_condition_check_failure(
                                    ReturnValuesOnConditionCheckFailure::AllOld,
                                )
                                .build()
                                .map_err(corrupt)?,
                        )
                        .build(),
                );
            }
            // the per-minute rate window (fixed UTC minute), if the account has a rate limit.
            let rate_idx = max_per_minute.map(|max| {
                items.push(
                    TransactWriteItem::builder()
                        .update(
                            Update::builder()
                                .table_name(&self.accounts_table)
                                .set_key(Some(pk_sk(
                                    &format!("RATE#{customer}#{}", now.format("%Y-%m-%dT%H:%M")),
                                    "MINUTE",
                                )))
                                .update_expression("SET expires_at = :exp ADD accepted :one")
                                .condition_expression(
                                    "attribute_not_exists(accepted) OR accepted < :max",
                                )
                                .expression_attribute_values(
                                    ":exp",
                                    nu((now + Duration::minutes(5)).timestamp() as u64),
                                )
                                .expression_attribute_values(":one", nu(1))
                                .expression_attribute_values(":max", nu(max as u64))
                                .build()
                                .expect("static update"),
                        )
                        .build(),
                );
                (items.len() - 1, max)
            });
            // last: the ledger line, sequence = new version.
            items.push(ledger_put(
                &self.accounts_table,
                &customer,
                seq,
                &tx.id,
                "DEBIT",
                -cost,
                before,
                after,
                at,
            )?);
            // and the balance.low outbox event, if this debit fires it.
            if let Some(event) = &low_event {
                items.push(webhooks::outbox_put(&self.accounts_table, event)?);
            }

            self.write();
            let result = self
                .client
                .transact_write_items()
                .set_transact_items(Some(items))
                .send()
                .await;
            let reasons = match result {
                Ok(_) => {
                    if let Some(event) = &low_event {
                        self.poke_dispatcher(&[event]).await;
                    }
                    return Ok(DebitOutcome::Debited(Box::new(tx)));
                }
                Err(e) => match classify(e)? {
                    Cancel::Retry => {
                        backoff(attempt).await;
                        continue;
                    }
                    Cancel::Reasons(r) => r,
                },
            };
            if let (Some(idx), Some(pk)) = (claim_idx, &claim_pk) {
                if failed(&reasons, idx) {
                    return match self.transaction_by_claim(pk).await? {
                        Some(existing) => Ok(DebitOutcome::AlreadyClaimed(Box::new(existing))),
                        None => Err(corrupt(format!("claim {pk} without its transaction"))),
                    };
                }
            }
            for (i, (limit, key)) in counters.iter().enumerate() {
                if failed(&reasons, first_counter + i) {
                    let used = match reasons[first_counter + i].item() {
                        Some(old) => opt_dec(old, "used_mxn")?.unwrap_or_default(),
                        None => self.counter_used(key).await?,
                    };
                    return Ok(DebitOutcome::LimitExceeded {
                        scope: limit.scope,
                        limit_mxn: limit.limit_mxn,
                        used_mxn: used,
                    });
                }
            }
            if let Some((idx, max)) = rate_idx {
                if failed(&reasons, idx) {
                    return Ok(DebitOutcome::RateLimited {
                        limit_per_minute: max,
                    });
                }
            }
            if failed(&reasons, 1) {
                // The record exists: an earlier attempt of THIS debit committed although its
                // answer was lost (timeout). 130 random bits never collide by chance.
                if let Some(existing) = self.get_transaction(&tx.id).await? {
                    if existing.customer_id == tx.customer_id {
                        return Ok(DebitOutcome::Debited(Box::new(existing)));
                    }
                }
                return Err(corrupt(format!("transaction id {} reused", tx.id)));
            }
            // The account moved under us (another debit won the version): re-read, retry.
            backoff(attempt).await;
        }
        Err(StoreError::Unavailable(
            "debit did not commit after repeated conflicts".into(),
        ))
    }

    async fn mark_success(
        &self,
        transaction: &Transaction,
        operator_transaction_id: &str,
        processed_at: DateTime<Utc>,
        response_time_ms: i64,
    ) -> Result<bool, StoreError> {
        let mut done = transaction.clone();
        done.status = TxStatus::Success;
        done.operator_transaction_id = Some(operator_transaction_id.to_owned());
        done.processed_at = Some(processed_at);
        done.updated_at = processed_at;
        done.response_time_ms = Some(response_time_ms);
        let event = OutboxEvent::topup_outcome(&done, processed_at)
            .ok_or_else(|| corrupt("a SUCCESS record has an outcome event"))?;
        let update = Update::builder()
            .table_name(&self.transactions_table)
            .set_key(Some(tx_key(&transaction.id)))
            .update_expression(
                "SET #st = :success, operator_transaction_id = :op, processed_at = :at, \
                 updated_at = :at, response_time_ms = :ms REMOVE open_status, lease_until",
            )
            .condition_expression("#st IN (:pending, :processing)")
            .expression_attribute_names("#st", "status")
            .expression_attribute_values(":success", s("SUCCESS"))
            .expression_attribute_values(":pending", s("PENDING"))
            .expression_attribute_values(":processing", s("PROCESSING"))
            .expression_attribute_values(":op", s(operator_transaction_id))
            .expression_attribute_values(":at", ts(processed_at))
            .expression_attribute_values(":ms", AttributeValue::N(response_time_ms.to_string()))
            .build()
            .map_err(corrupt)?;
        let items = vec![
            TransactWriteItem::builder().update(update).build(),
            webhooks::outbox_put(&self.accounts_table, &event)?,
        ];
        for attempt in 0..5 {
            self.write();
            let result = self
                .client
                .transact_write_items()
                .set_transact_items(Some(items.clone()))
                .send()
                .await;
            match result {
                Ok(_) => {
                    self.poke_dispatcher(&[&event]).await;
                    return Ok(true);
                }
                Err(e) => match classify(e)? {
                    Cancel::Retry => backoff(attempt).await,
                    // Already final (someone else settled it), or an ambiguous earlier
                    // attempt of ours committed: either way not ours to report.
                    Cancel::Reasons(r) if failed(&r, 0) => return Ok(false),
                    Cancel::Reasons(_) => return Err(corrupt("outbox event id reused")),
                },
            }
        }
        Err(StoreError::Unavailable(
            "success did not commit after repeated conflicts".into(),
        ))
    }

    async fn refund_and_fail(
        &self,
        tx: &Transaction,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<RefundOutcome, StoreError> {
        let customer = tx.customer_id.as_str();
        let amount = tx.amount_mxn.as_decimal();
        let response_ms = (now - tx.created_at).num_milliseconds().max(0);
        let mut done = tx.clone();
        done.status = TxStatus::Failed;
        done.failure_reason = Some(reason.to_owned());
        done.processed_at = Some(now);
        done.updated_at = now;
        done.response_time_ms = Some(response_ms);
        let event = OutboxEvent::topup_outcome(&done, now)
            .ok_or_else(|| corrupt("a FAILED record has an outcome event"))?;
        let lock = self.account_lock(customer);
        let _serialized = lock.lock().await;
        let started = std::time::Instant::now();
        for attempt in 0..MAX_ATTEMPTS {
            if started.elapsed() > RETRY_BUDGET {
                break;
            }
            let account = self
                .get_account(&tx.customer_id)
                .await?
                .ok_or_else(|| corrupt(format!("account {customer} missing for refund")))?;
            let before = account.balance;
            let after = before + tx.amount_usd;
            let seq = account.version + 1;
            let at = ledger_time(now, account.updated_at);
            let mut items = Vec::with_capacity(5);
            items.push(
                TransactWriteItem::builder()
                    .update(
                        Update::builder()
                            .table_name(&self.transactions_table)
                            .set_key(Some(tx_key(&tx.id)))
                            .update_expression(
                                "SET #st = :failed, failure_reason = :reason, processed_at = :now, \
                                 updated_at = :now, refunded_at = :now, response_time_ms = :ms \
                                 REMOVE open_status, lease_until",
                            )
                            .condition_expression("#st IN (:pending, :processing)")
                            .expression_attribute_names("#st", "status")
                            .expression_attribute_values(":failed", s("FAILED"))
                            .expression_attribute_values(":pending", s("PENDING"))
                            .expression_attribute_values(":processing", s("PROCESSING"))
                            .expression_attribute_values(":reason", s(reason))
                            .expression_attribute_values(":now", ts(now))
                            .expression_attribute_values(
                                ":ms",
                                AttributeValue::N(response_ms.to_string()),
                            )
                            .return_values_on_condition_check_failure(
                                ReturnValuesOnConditionCheckFailure::AllOld,
                            )
                            .build()
                            .map_err(corrupt)?,
                    )
                    .build(),
            );
            items.push(
                TransactWriteItem::builder()
                    .update(
                        Update::builder()
                            .table_name(&self.accounts_table)
                            .set_key(Some(pk_sk(&account_pk(customer), "ACCOUNT")))
                            .update_expression(
                                "SET balance = :after, version = :seq, updated_at = :now",
                            )
                            .condition_expression("version = :v AND balance = :before")
                            .expression_attribute_values(":after", n(after))
                            .expression_attribute_values(":before", n(before))
                            .expression_attribute_values(":seq", nu(seq))
                            .expression_attribute_values(":v", nu(account.version))
                            .expression_attribute_values(":now", ts(at))
                            .build()
                            .map_err(corrupt)?,
                    )
                    .build(),
            );
            for key in &tx.counters {
                items.push(
                    TransactWriteItem::builder()
                        .update(
                            Update::builder()
                                .table_name(&self.accounts_table)
                                .set_key(Some(pk_sk(&key.pk, &key.sk)))
                                .update_expression(
                                    "SET expires_at = if_not_exists(expires_at, :exp) ADD used_mxn :neg",
                                )
                                .expression_attribute_values(
                                    ":exp",
                                    nu(counter_expiry(tx.created_at) as u64),
                                )
                                .expression_attribute_values(":neg", n(-amount))
                                .build()
                                .map_err(corrupt)?,
                        )
                        .build(),
                );
            }
            items.push(ledger_put(
                &self.accounts_table,
                customer,
                seq,
                &tx.id,
                "REFUND",
                tx.amount_usd,
                before,
                after,
                at,
            )?);
            items.push(webhooks::outbox_put(&self.accounts_table, &event)?);
            self.write();
            let result = self
                .client
                .transact_write_items()
                .set_transact_items(Some(items))
                .send()
                .await;
            let reasons = match result {
                Ok(_) => {
                    self.poke_dispatcher(&[&event]).await;
                    return Ok(RefundOutcome::Refunded {
                        balance_after: after,
                    });
                }
                Err(e) => match classify(e)? {
                    Cancel::Retry => {
                        backoff(attempt).await;
                        continue;
                    }
                    Cancel::Reasons(r) => r,
                },
            };
            if failed(&reasons, 0) {
                let status = match reasons[0].item() {
                    Some(old) => TxStatus::parse(&get_s(old, "status")?),
                    None => self.get_transaction(&tx.id).await?.map(|t| t.status),
                };
                return Ok(RefundOutcome::AlreadyFinal(status.ok_or_else(|| {
                    corrupt(format!("transaction {} missing", tx.id))
                })?));
            }
            backoff(attempt).await;
        }
        Err(StoreError::Unavailable(
            "refund did not commit after repeated conflicts".into(),
        ))
    }
}

#[async_trait]
impl WorkStore for DynamoStore {
    async fn claim(
        &self,
        id: &TransactionId,
        now: DateTime<Utc>,
    ) -> Result<Option<Transaction>, StoreError> {
        self.write();
        let result = self
            .client
            .update_item()
            .table_name(&self.transactions_table)
            .set_key(Some(tx_key(id)))
            .update_expression(
                "SET #st = :processing, open_status = :processing, updated_at = :now, \
                 attempts = if_not_exists(attempts, :zero) + :one",
            )
            .condition_expression("#st = :pending")
            .expression_attribute_names("#st", "status")
            .expression_attribute_values(":processing", s("PROCESSING"))
            .expression_attribute_values(":pending", s("PENDING"))
            .expression_attribute_values(":now", ts(now))
            .expression_attribute_values(":zero", nu(0))
            .expression_attribute_values(":one", nu(1))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match result {
            Ok(out) => out
                .attributes
                .map(|item| parse_transaction(&item))
                .transpose(),
            Err(e) if is_conditional_failure(&e) => Ok(None),
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn list_open(
        &self,
        status: TxStatus,
        before: DateTime<Utc>,
        limit: i32,
    ) -> Result<Vec<Transaction>, StoreError> {
        self.read();
        let out = self
            .client
            .query()
            .table_name(&self.transactions_table)
            .index_name(OPEN_INDEX)
            .key_condition_expression("open_status = :st AND updated_at < :before")
            .expression_attribute_values(":st", s(status.as_str()))
            .expression_attribute_values(":before", ts(before))
            .limit(limit)
            .send()
            .await
            .map_err(unavailable)?;
        out.items().iter().map(parse_transaction).collect()
    }

    async fn touch_pending(
        &self,
        id: &TransactionId,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.touch(id, TxStatus::Pending, now).await
    }

    async fn touch_processing(
        &self,
        id: &TransactionId,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.touch(id, TxStatus::Processing, now).await
    }
}

impl DynamoStore {
    async fn touch(
        &self,
        id: &TransactionId,
        status: TxStatus,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.write();
        let result = self
            .client
            .update_item()
            .table_name(&self.transactions_table)
            .set_key(Some(tx_key(id)))
            .update_expression("SET updated_at = :now")
            .condition_expression("#st = :st")
            .expression_attribute_names("#st", "status")
            .expression_attribute_values(":st", s(status.as_str()))
            .expression_attribute_values(":now", ts(now))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if is_conditional_failure(&e) => Ok(false),
            Err(e) => Err(unavailable(e)),
        }
    }
}
