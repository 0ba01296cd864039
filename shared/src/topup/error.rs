//! Why a top-up was refused before anything was charged. Independent of HTTP: the partner
//! API maps it to `ApiError`, the distributor API to its response codes.

use crate::domain::LimitScope;
use crate::ports::RateError;
use rust_decimal::Decimal;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TopupError {
    /// No fresh exchange rate: we refuse to price rather than guess.
    #[error("exchange rate unavailable")]
    RateUnavailable,
    /// A dependency (database) is down: nothing was charged.
    #[error("service unavailable: {0}")]
    Unavailable(String),
    #[error("insufficient balance")]
    InsufficientBalance {
        current_balance_usd: Decimal,
        requested_mxn: u32,
        required_usd: Decimal,
        exchange_rate: Decimal,
    },
    #[error("daily limit exceeded")]
    DailyLimitExceeded {
        scope: LimitScope,
        daily_limit_mxn: Decimal,
        used_today_mxn: Decimal,
        requested_mxn: u32,
    },
    /// More accepted top-ups this minute than the account's limit.
    #[error("rate limited")]
    RateLimited {
        limit_per_minute: u32,
        retry_after_seconds: u32,
    },
    /// The same idempotency key was already used for a different top-up.
    #[error("idempotency conflict")]
    IdempotencyConflict {
        reference: String,
        transaction_id: String,
    },
    /// The account disappeared or was disabled between authentication and the debit.
    #[error("account unavailable")]
    AccountUnavailable,
}

impl From<RateError> for TopupError {
    fn from(e: RateError) -> Self {
        match e {
            RateError::Unavailable => TopupError::RateUnavailable,
            RateError::Store(e) => TopupError::Unavailable(e.to_string()),
        }
    }
}
