//! The ports: small traits the use cases (topup/, jobs/) depend on; adapters/ implements
//! them (DynamoDB, SQS, Reloadly, the sandbox, the system clock) and `app.rs` wires them.
//! Each handler takes only the ones it needs (mirrored by its IAM policy in template.yaml).

use crate::domain::{
    Account, CustomerId, FxRate, LedgerEntry, LimitCheck, LimitScope, MxnAmount, Phone, RateRecord,
    Transaction, TransactionId, TxStatus,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

// ---------------------------------------------------------------- store

#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// DynamoDB could not be reached or refused the call (throttling, timeouts, 5xx).
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// An item we wrote does not parse back: a bug or manual tampering.
    #[error("corrupt item: {0}")]
    Corrupt(String),
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

    /// PENDING/PROCESSING -> SUCCESS, recording the provider that delivered, with the
    /// `topup.succeeded` outbox event in the same transaction. Returns false if the record was
    /// already final.
    async fn mark_success(
        &self,
        transaction: &Transaction,
        provider: &str,
        operator_transaction_id: &str,
        processed_at: DateTime<Utc>,
        response_time_ms: i64,
    ) -> Result<bool, StoreError>;

    /// PENDING/PROCESSING -> FAILED, with the balance credited back, counters reversed, a
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

/// What the ledger check reads: every account and its ledger lines (an ops scan, never on a
/// request path).
#[async_trait]
pub trait LedgerAudit: Send + Sync {
    async fn list_accounts(&self) -> Result<Vec<Account>, StoreError>;
    async fn ledger_entries(&self, customer: &str) -> Result<Vec<LedgerEntry>, StoreError>;
}

// ---------------------------------------------------------------- clock

/// Time as a port, so tests (and the reconciler's recovery tests) can move it.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

// ---------------------------------------------------------------- queue

#[derive(Debug, Clone, thiserror::Error)]
#[error("queue unavailable: {0}")]
pub struct QueueError(pub String);

#[async_trait]
pub trait TopupQueue: Send + Sync {
    /// Send `{"transaction_id": ...}` for the worker.
    async fn enqueue(&self, id: &TransactionId) -> Result<(), QueueError>;
}

// ---------------------------------------------------------------- rates

/// Why no rate can be priced with: nothing was charged.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RateError {
    /// No rate, or a stale one: we refuse to price rather than guess.
    #[error("exchange rate unavailable")]
    Unavailable,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The MXN/USD rate top-ups are priced with.
#[async_trait]
pub trait RateSource: Send + Sync {
    async fn current(&self, now: DateTime<Utc>) -> Result<FxRate, RateError>;
}

/// Where a fresh MXN-per-USD rate comes from (`fx-refresh`).
#[async_trait]
pub trait FxFeed: Send + Sync {
    fn source(&self) -> &str;
    async fn mxn_per_usd(&self) -> Result<Decimal, String>;
    /// Our prepaid balance with the provider, if it has one (reported as a metric).
    async fn provider_balance(&self) -> Option<(Decimal, String)> {
        None
    }
}

// ---------------------------------------------------------------- provider

/// What we ask a provider to deliver. `transaction_id` is our id and doubles as the provider's
/// idempotency key (Reloadly's `customIdentifier`).
#[derive(Debug, Clone)]
pub struct TopupRequest {
    pub transaction_id: TransactionId,
    pub phone: Phone,
    pub amount: MxnAmount,
}

/// The result of sending a top-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TopupOutcome {
    /// Delivered.
    Success { operator_transaction_id: String },
    /// Definitely not delivered (and nothing charged upstream): safe to refund the partner.
    Failed { reason: String },
    /// We cannot tell (timeout, connection reset after send, 5xx, PROCESSING upstream).
    /// Never refund and never resend blindly: the reconciler asks [`TopupProvider::status`].
    Unknown { reason: String },
}

/// The provider's view of a top-up we may have sent earlier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderStatus {
    Successful {
        operator_transaction_id: String,
    },
    Processing,
    /// FAILED or REFUNDED upstream: nothing was delivered, safe to refund.
    Failed {
        reason: String,
    },
    /// The provider has no record of this id: it never received it.
    NotFound,
    /// The provider could not be asked (timeout, 5xx): try again later.
    Unavailable {
        reason: String,
    },
}

/// The upstream airtime provider. Implementations: `adapters::sandbox`, `adapters::reloadly`,
/// chained by `adapters::failover`.
#[async_trait]
pub trait TopupProvider: Send + Sync {
    /// Recorded on the transaction (`provider` field of the partner API).
    fn name(&self) -> &str;
    /// Send one top-up. Must not retry on its own once the request may have reached upstream.
    async fn send_topup(&self, request: &TopupRequest) -> TopupOutcome;
    /// Ask for the status of a top-up we may have sent, by our transaction id.
    async fn status(&self, request: &TopupRequest) -> ProviderStatus;
    /// [`Self::send_topup`], with the name of the provider that answered (a failover chain
    /// names the member that delivered; it is what the transaction records).
    async fn send_via(&self, request: &TopupRequest) -> (String, TopupOutcome) {
        (self.name().to_owned(), self.send_topup(request).await)
    }
    /// [`Self::status`], with the name of the provider that answered.
    async fn status_via(&self, request: &TopupRequest) -> (String, ProviderStatus) {
        (self.name().to_owned(), self.status(request).await)
    }
}
