//! The domain: values parsed once at the boundary, money with explicit rounding, and the
//! records the use cases work on. No I/O, no HTTP.

pub mod account;
pub mod credentials;
pub mod idempotency;
pub mod ids;
pub mod ledger;
pub mod limits;
pub mod money;
pub mod transaction;

pub use account::{Account, DEFAULT_LOW_BALANCE_USD};
pub use idempotency::IdempotencyKey;
pub use ids::{CustomerId, Phone, Reference, TransactionId};
pub use ledger::LedgerEntry;
pub use limits::{LimitCheck, LimitScope};
pub use money::{
    price_usd, round_cents, Commission, FxRate, MxnAmount, RateRecord, UsdAmount,
    ALLOWED_AMOUNTS_MXN, MAX_TOPUP_MXN,
};
pub use transaction::{CounterKey, Transaction, TxKind, TxStatus};
