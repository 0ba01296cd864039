//! Every store port in memory, with the DynamoDB adapter's rules (version bump and ledger line
//! per balance change, idempotency claims, daily counters, the minute window, exactly-once
//! settle), for use-case tests that need no database. The DynamoDB adapter itself is tested
//! against DynamoDB Local.

use crate::domain::{
    Account, CounterKey, CustomerId, LedgerEntry, LimitScope, RateRecord, Transaction,
    TransactionId, TxStatus,
};
use crate::ports::{
    AccountReader, DebitOutcome, DebitRequest, Ledger, LedgerAudit, RateReader, RateWriter,
    RefundOutcome, StoreError, TransactionReader, WorkStore,
};
use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};
use rust_decimal::Decimal;
use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Debug, Default)]
struct State {
    accounts: HashMap<String, Account>,
    transactions: HashMap<String, Transaction>,
    ledger: HashMap<String, Vec<LedgerEntry>>,
    /// (customer, idempotency key) -> transaction id.
    claims: HashMap<(String, String), String>,
    /// Daily MXN counters and per-minute accepted counts, by key.
    counters: HashMap<(String, String), Decimal>,
    minutes: HashMap<String, u32>,
    rate: Option<RateRecord>,
}

#[derive(Debug, Default)]
pub struct MemoryStore {
    state: Mutex<State>,
}

fn at(now: DateTime<Utc>) -> String {
    now.to_rfc3339_opts(SecondsFormat::Millis, true)
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().expect("memory store")
    }

    /// Create or replace an account (tests' fixtures).
    pub fn put_account(&self, account: Account) {
        self.state()
            .accounts
            .insert(account.customer_id.as_str().to_owned(), account);
    }

    pub fn counter_used(&self, key: &CounterKey) -> Decimal {
        self.state()
            .counters
            .get(&(key.pk.clone(), key.sk.clone()))
            .copied()
            .unwrap_or_default()
    }
}

fn counter_key(tx: &Transaction, scope: LimitScope, now: DateTime<Utc>) -> CounterKey {
    CounterKey {
        pk: format!("DAILY#{}#{}", tx.customer_id, now.format("%Y-%m-%d")),
        sk: match scope {
            LimitScope::Customer => "CUSTOMER".to_owned(),
            LimitScope::Phone => format!("PHONE#{}", tx.phone),
        },
    }
}

/// One ledger line and the account's new balance and version.
fn post(
    state: &mut State,
    customer: &str,
    tx: &TransactionId,
    kind: &str,
    delta: Decimal,
    now: DateTime<Utc>,
) -> Decimal {
    let account = state.accounts.get_mut(customer).expect("account exists");
    let before = account.balance;
    account.balance += delta;
    account.version += 1;
    account.updated_at = Some(now);
    let entry = LedgerEntry {
        customer_id: customer.to_owned(),
        seq: account.version,
        transaction_id: tx.as_str().to_owned(),
        kind: kind.to_owned(),
        delta,
        balance_before: before,
        balance_after: account.balance,
        at: at(now),
    };
    let after = account.balance;
    state
        .ledger
        .entry(customer.to_owned())
        .or_default()
        .push(entry);
    after
}

#[async_trait]
impl Ledger for MemoryStore {
    async fn debit(
        &self,
        _account: &Account,
        request: DebitRequest,
    ) -> Result<DebitOutcome, StoreError> {
        let DebitRequest {
            transaction: mut tx,
            limits,
            max_per_minute,
            now,
        } = request;
        let mut state = self.state();
        let customer = tx.customer_id.as_str().to_owned();
        // Keyed like the DynamoDB claim item: customer + the rendered key.
        let claim = tx
            .idempotency_key
            .as_ref()
            .map(|k| (customer.clone(), k.render()));
        if let Some(id) = claim.as_ref().and_then(|c| state.claims.get(c)) {
            let existing = state.transactions.get(id).cloned().ok_or_else(|| {
                StoreError::Corrupt(format!("claim without its transaction {id}"))
            })?;
            return Ok(DebitOutcome::AlreadyClaimed(Box::new(existing)));
        }
        let Some(account) = state.accounts.get(&customer).filter(|a| a.active).cloned() else {
            return Ok(DebitOutcome::AccountUnavailable);
        };
        let amount = tx.amount_mxn.as_decimal();
        let keys: Vec<_> = limits
            .iter()
            .map(|l| (l.clone(), counter_key(&tx, l.scope, now)))
            .collect();
        for (limit, key) in &keys {
            let used = state
                .counters
                .get(&(key.pk.clone(), key.sk.clone()))
                .copied()
                .unwrap_or_default();
            if used + amount > limit.limit_mxn {
                return Ok(DebitOutcome::LimitExceeded {
                    scope: limit.scope,
                    limit_mxn: limit.limit_mxn,
                    used_mxn: used,
                });
            }
        }
        let after = account.balance - tx.amount_usd;
        if after < -account.overdraft_usd {
            return Ok(DebitOutcome::InsufficientBalance {
                current_balance: account.balance,
            });
        }
        let minute = format!("RATE#{customer}#{}", now.format("%Y-%m-%dT%H:%M"));
        if let Some(max) = max_per_minute {
            if state.minutes.get(&minute).copied().unwrap_or(0) >= max {
                return Ok(DebitOutcome::RateLimited {
                    limit_per_minute: max,
                });
            }
        }
        // Commit: everything below happens together, as in the one DynamoDB transaction.
        *state.minutes.entry(minute).or_default() += 1;
        for (_, key) in &keys {
            *state
                .counters
                .entry((key.pk.clone(), key.sk.clone()))
                .or_default() += amount;
        }
        tx.counters = keys.into_iter().map(|(_, k)| k).collect();
        tx.balance_before = account.balance;
        tx.balance_after = post(&mut state, &customer, &tx.id, "DEBIT", -tx.amount_usd, now);
        if let Some(c) = claim {
            state.claims.insert(c, tx.id.as_str().to_owned());
        }
        state
            .transactions
            .insert(tx.id.as_str().to_owned(), tx.clone());
        Ok(DebitOutcome::Debited(Box::new(tx)))
    }

    async fn mark_success(
        &self,
        transaction: &Transaction,
        provider: &str,
        operator_transaction_id: &str,
        processed_at: DateTime<Utc>,
        response_time_ms: i64,
    ) -> Result<bool, StoreError> {
        let mut state = self.state();
        let Some(tx) = state.transactions.get_mut(transaction.id.as_str()) else {
            return Ok(false);
        };
        if tx.status.is_terminal() {
            return Ok(false);
        }
        tx.status = TxStatus::Success;
        tx.provider = provider.to_owned();
        tx.operator_transaction_id = Some(operator_transaction_id.to_owned());
        tx.processed_at = Some(processed_at);
        tx.updated_at = processed_at;
        tx.response_time_ms = Some(response_time_ms);
        Ok(true)
    }

    async fn refund_and_fail(
        &self,
        transaction: &Transaction,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<RefundOutcome, StoreError> {
        let mut state = self.state();
        let stored = state
            .transactions
            .get(transaction.id.as_str())
            .cloned()
            .ok_or_else(|| {
                StoreError::Corrupt(format!("transaction {} missing", transaction.id))
            })?;
        if stored.status.is_terminal() {
            return Ok(RefundOutcome::AlreadyFinal(stored.status));
        }
        let amount = stored.amount_mxn.as_decimal();
        for key in &stored.counters {
            *state
                .counters
                .entry((key.pk.clone(), key.sk.clone()))
                .or_default() -= amount;
        }
        let customer = stored.customer_id.as_str().to_owned();
        let balance_after = post(
            &mut state,
            &customer,
            &stored.id,
            "REFUND",
            stored.amount_usd,
            now,
        );
        let tx = state
            .transactions
            .get_mut(transaction.id.as_str())
            .expect("present");
        tx.status = TxStatus::Failed;
        tx.failure_reason = Some(reason.to_owned());
        tx.processed_at = Some(now);
        tx.updated_at = now;
        tx.response_time_ms = Some((now - tx.created_at).num_milliseconds().max(0));
        Ok(RefundOutcome::Refunded { balance_after })
    }
}

#[async_trait]
impl WorkStore for MemoryStore {
    async fn claim(
        &self,
        id: &TransactionId,
        now: DateTime<Utc>,
    ) -> Result<Option<Transaction>, StoreError> {
        let mut state = self.state();
        match state.transactions.get_mut(id.as_str()) {
            Some(tx) if tx.status == TxStatus::Pending => {
                tx.status = TxStatus::Processing;
                tx.attempts += 1;
                tx.updated_at = now;
                Ok(Some(tx.clone()))
            }
            _ => Ok(None),
        }
    }

    async fn list_open(
        &self,
        status: TxStatus,
        before: DateTime<Utc>,
        limit: i32,
    ) -> Result<Vec<Transaction>, StoreError> {
        let mut open: Vec<Transaction> = self
            .state()
            .transactions
            .values()
            .filter(|t| t.status == status && t.updated_at < before)
            .cloned()
            .collect();
        open.sort_by_key(|t| t.updated_at);
        open.truncate(limit.max(0) as usize);
        Ok(open)
    }

    async fn touch_pending(
        &self,
        id: &TransactionId,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        Ok(self.touch(id, TxStatus::Pending, now))
    }

    async fn touch_processing(
        &self,
        id: &TransactionId,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        Ok(self.touch(id, TxStatus::Processing, now))
    }
}

impl MemoryStore {
    fn touch(&self, id: &TransactionId, status: TxStatus, now: DateTime<Utc>) -> bool {
        match self.state().transactions.get_mut(id.as_str()) {
            Some(tx) if tx.status == status => {
                tx.updated_at = now;
                true
            }
            _ => false,
        }
    }
}

#[async_trait]
impl AccountReader for MemoryStore {
    async fn get_account(&self, customer: &CustomerId) -> Result<Option<Account>, StoreError> {
        Ok(self.state().accounts.get(customer.as_str()).cloned())
    }
}

#[async_trait]
impl TransactionReader for MemoryStore {
    async fn get_transaction(&self, id: &TransactionId) -> Result<Option<Transaction>, StoreError> {
        Ok(self.state().transactions.get(id.as_str()).cloned())
    }
}

#[async_trait]
impl RateReader for MemoryStore {
    async fn get_rate(&self) -> Result<Option<RateRecord>, StoreError> {
        Ok(self.state().rate.clone())
    }
}

#[async_trait]
impl RateWriter for MemoryStore {
    async fn put_rate(&self, rate: &RateRecord) -> Result<(), StoreError> {
        self.state().rate = Some(rate.clone());
        Ok(())
    }
}

#[async_trait]
impl LedgerAudit for MemoryStore {
    async fn list_accounts(&self) -> Result<Vec<Account>, StoreError> {
        Ok(self.state().accounts.values().cloned().collect())
    }
    async fn ledger_entries(&self, customer: &str) -> Result<Vec<LedgerEntry>, StoreError> {
        let mut entries = self
            .state()
            .ledger
            .get(customer)
            .cloned()
            .unwrap_or_default();
        entries.sort_by_key(|e| e.seq);
        Ok(entries)
    }
}
