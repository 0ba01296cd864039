//! Store ports: small traits, each handler takes only the ones it needs (mirrored by its IAM
//! policy in template.yaml). [`dynamo::DynamoStore`] implements them all on DynamoDB.

use crate::domain::{Commission, CustomerId, MxnAmount, Phone, TransactionId, TxStatus};
use crate::error::LimitScope;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

pub mod dynamo;
pub mod schema;

#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// DynamoDB could not be reached or refused the call (throttling, timeouts, 5xx).
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// An item we wrote does not parse back: a bug or manual tampering.
    #[error("corrupt item: {0}")]
    Corrupt(String),
}

/// A partner account (the `ACCOUNT` item).
#[derive(Debug, Clone, PartialEq)]
pub struct Account {
    pub customer_id: CustomerId,
    pub company_name: String,
    /// Prepaid USD balance.
    pub balance: Decimal,
    /// The credit line agreed with the partner (shown by `/api/balance`).
    pub credit_limit: Decimal,
    /// How far below zero the balance may go (0 = strictly prepaid).
    pub overdraft_usd: Decimal,
    /// Balance before the first ledger entry (ledger check anchor).
    pub opening_balance: Decimal,
    pub commission: Commission,
    /// Per customer per UTC day, MXN. None = no limit.
    pub daily_limit_mxn: Option<Decimal>,
    /// Per end-user phone per customer per UTC day, MXN. None = no limit.
    pub daily_limit_per_phone_mxn: Option<Decimal>,
    /// Accepted top-ups per customer per minute (the guides' 200/minute). None = unlimited.
    pub max_topups_per_minute: Option<u32>,
    /// SHA-256 (hex) of each active API key (several during a rotation).
    pub api_key_hashes: Vec<String>,
    /// SHA-256 (hex) of the distributor secret key, if any.
    pub secret_key_hash: Option<String>,
    pub active: bool,
    /// Optimistic-concurrency version; also the ledger sequence number.
    pub version: u64,
    /// When the balance last changed (None: never since the account was created).
    pub updated_at: Option<DateTime<Utc>>,
    /// `balance.low` threshold (None: the default, 1,000 USD).
    pub low_balance_usd: Option<Decimal>,
    /// `balance.low` already sent for the current dip below the threshold (re-armed by a
    /// credit that brings the balance back to or above it).
    pub low_balance_alerted: bool,
}

impl Account {
    /// The `balance.low` threshold in force.
    pub fn low_balance_threshold(&self) -> Decimal {
        self.low_balance_usd
            .unwrap_or(crate::webhooks::event::DEFAULT_LOW_BALANCE_USD)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxKind {
    Sync,
    Async,
}

impl TxKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TxKind::Sync => "SYNC",
            TxKind::Async => "ASYNC",
        }
    }
}

/// A daily-limit counter the debit added to (and a refund takes back from).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CounterKey {
    pub pk: String,
    pub sk: String,
}

/// A top-up transaction record.
#[derive(Debug, Clone, PartialEq)]
pub struct Transaction {
    pub id: TransactionId,
    pub customer_id: CustomerId,
    pub phone: Phone,
    pub amount_mxn: MxnAmount,
    pub amount_usd: Decimal,
    pub exchange_rate: Decimal,
    pub commission: Decimal,
    pub status: TxStatus,
    pub kind: TxKind,
    pub reference: Option<String>,
    /// `reference` or the `Idempotency-Key` header: the key the debit claimed.
    pub idempotency_key: Option<String>,
    pub provider: String,
    pub operator_transaction_id: Option<String>,
    pub failure_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub queued_at: Option<DateTime<Utc>>,
    pub processed_at: Option<DateTime<Utc>>,
    pub response_time_ms: Option<i64>,
    pub attempts: u32,
    pub balance_before: Decimal,
    pub balance_after: Decimal,
    pub counters: Vec<CounterKey>,
}

/// A daily limit the debit must respect.
#[derive(Debug, Clone, PartialEq)]
pub struct LimitCheck {
    pub scope: LimitScope,
    pub limit_mxn: Decimal,
}

/// Everything the atomic debit writes.
#[derive(Debug, Clone)]
pub struct DebitRequest {
    /// The new record; status PENDING (async) or PROCESSING (sync: sent right away).
    pub transaction: Transaction,
    pub limits: Vec<LimitCheck>,
    /// At most this many accepted top-ups per customer in the current UTC minute.
    pub max_per_minute: Option<u32>,
    pub now: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum DebitOutcome {
    /// Committed: balance debited, record created, key claimed, counters and ledger written.
    /// The record as written (balances and counters filled in).
    Debited(Box<Transaction>),
    /// The idempotency key was already claimed by this transaction (same or other body).
    AlreadyClaimed(Box<Transaction>),
    InsufficientBalance {
        current_balance: Decimal,
    },
    LimitExceeded {
        scope: LimitScope,
        limit_mxn: Decimal,
        used_mxn: Decimal,
    },
    /// The customer's accepted top-ups this minute reached the limit.
    RateLimited {
        limit_per_minute: u32,
    },
    /// The account disappeared or was disabled between auth and debit.
    AccountUnavailable,
}

#[derive(Debug, Clone, PartialEq)]
pub enum RefundOutcome {
    Refunded {
        balance_after: Decimal,
    },
    /// The record was no longer PENDING/PROCESSING: someone else finalized it.
    AlreadyFinal(TxStatus),
}

/// An exchange-rate record (MXN per USD).
#[derive(Debug, Clone, PartialEq)]
pub struct RateRecord {
    pub rate: Decimal,
    pub updated_at: DateTime<Utc>,
    pub source: String,
}

/// One ledger line: each change of an account's balance, in version order.
#[derive(Debug, Clone, PartialEq)]
pub struct LedgerEntry {
    pub customer_id: String,
    pub seq: u64,
    pub transaction_id: String,
    pub kind: String,
    pub delta: Decimal,
    pub balance_before: Decimal,
    pub balance_after: Decimal,
    pub at: String,
}

#[async_trait]
pub trait AccountReader: Send + Sync {
    /// Strongly consistent read of an account.
    async fn get_account(&self, customer: &CustomerId) -> Result<Option<Account>, StoreError>;
}

#[async_trait]
pub trait TransactionReader: Send + Sync {
    async fn get_transaction(&self, id: &TransactionId) -> Result<Option<Transaction>, StoreError>;
}

#[async_trait]
pub trait RateReader: Send + Sync {
    async fn get_rate(&self) -> Result<Option<RateRecord>, StoreError>;
}

#[async_trait]
pub trait RateWriter: Send + Sync {
    async fn put_rate(&self, rate: &RateRecord) -> Result<(), StoreError>;
}

/// The money-moving writes.
#[async_trait]
pub trait Ledger: Send + Sync {
    /// One atomic TransactWriteItems: debit (version-checked), record, idempotency claim,
    /// daily counters (conditioned on the limits), ledger entry. Retries conflicts.
    async fn debit(
        &self,
        account: &Account,
        request: DebitRequest,
    ) -> Result<DebitOutcome, StoreError>;

    /// PENDING/PROCESSING -> SUCCESS, with the `topup.succeeded` outbox event in the same
    /// transaction. Returns false if the record was already final.
    async fn mark_success(
        &self,
        transaction: &Transaction,
        operator_transaction_id: &str,
        processed_at: DateTime<Utc>,
        response_time_ms: i64,
    ) -> Result<bool, StoreError>;

    /// PENDING/PROCESSING -> FAILED, with the balance credited back, counters reversed and a
    /// REFUND ledger entry and the `topup.failed` outbox event, all in one transaction,
    /// exactly once.
    async fn refund_and_fail(
        &self,
        transaction: &Transaction,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<RefundOutcome, StoreError>;
}

/// Work-state changes used by the async worker and the reconciler.
#[async_trait]
pub trait WorkStore: Send + Sync {
    /// PENDING -> PROCESSING (attempts + 1). None if it was not PENDING (duplicate delivery,
    /// another worker, or already final).
    async fn claim(
        &self,
        id: &TransactionId,
        now: DateTime<Utc>,
    ) -> Result<Option<Transaction>, StoreError>;

    /// Open transactions in `status` last updated before `before` (sparse GSI, no scan).
    async fn list_open(
        &self,
        status: TxStatus,
        before: DateTime<Utc>,
        limit: i32,
    ) -> Result<Vec<Transaction>, StoreError>;

    /// Bump `updated_at` of a still-PENDING record (after re-enqueueing it).
    async fn touch_pending(
        &self,
        id: &TransactionId,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// Bump `updated_at` of a still-PROCESSING record (status asked, still unknown).
    async fn touch_processing(
        &self,
        id: &TransactionId,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
}
