//! One error enum for the partner API, and its one mapping to an HTTP status + the seeds'
//! error body. Expected failures are values (handlers return `Ok(Response)` for them);
//! only bugs surface as `Err` from a handler.

use crate::api::json::money;
use crate::domain::{LimitScope, ALLOWED_AMOUNTS_MXN};
use crate::topup::TopupError;
use rust_decimal::Decimal;
use serde_json::{json, Value};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ApiError {
    /// x-api-key / x-customer-id absent.
    #[error("missing credentials")]
    MissingCredentials,
    /// Unknown customer, wrong key, key of another customer, disabled partner.
    #[error("invalid credentials")]
    InvalidCredentials,
    /// Malformed JSON, wrong types, missing fields, bad phone, wrong content type, too large.
    #[error("validation failed: {message}")]
    Validation { message: String },
    /// An amount outside the fixed denominations.
    #[error("invalid product amount {requested}")]
    InvalidAmount { requested: Value },
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
    /// More accepted top-ups this minute than the partner's limit (200/minute in the guides).
    #[error("rate limited")]
    RateLimited {
        limit_per_minute: u32,
        retry_after_seconds: u32,
    },
    /// The same reference/idempotency key was already used for a different top-up.
    #[error("idempotency conflict")]
    IdempotencyConflict {
        reference: String,
        transaction_id: String,
    },
    #[error("transaction not found")]
    TransactionNotFound,
    /// Valid credentials, but the transaction belongs to another customer.
    #[error("transaction belongs to another customer")]
    TransactionForbidden,
    /// No fresh exchange rate: we refuse to price rather than guess.
    #[error("exchange rate unavailable")]
    RateUnavailable,
    /// A dependency (database, queue) is down: nothing was charged.
    #[error("service unavailable: {0}")]
    ServiceUnavailable(String),
    #[error("route not found")]
    RouteNotFound,
}

impl ApiError {
    pub fn validation(message: impl Into<String>) -> Self {
        ApiError::Validation {
            message: message.into(),
        }
    }

    pub fn status(&self) -> u16 {
        match self {
            ApiError::MissingCredentials | ApiError::InvalidCredentials => 401,
            ApiError::Validation { .. } | ApiError::InvalidAmount { .. } => 400,
            ApiError::InsufficientBalance { .. } | ApiError::TransactionForbidden => 403,
            ApiError::DailyLimitExceeded { .. } | ApiError::RateLimited { .. } => 429,
            ApiError::IdempotencyConflict { .. } => 409,
            ApiError::TransactionNotFound | ApiError::RouteNotFound => 404,
            ApiError::RateUnavailable | ApiError::ServiceUnavailable(_) => 503,
        }
    }

    /// The body partners parse (seeds 000 and 001).
    pub fn body(&self) -> Value {
        match self {
            ApiError::MissingCredentials => json!({
                "success": false,
                "error": "Invalid API credentials",
                "message": "Missing x-api-key or x-customer-id header",
            }),
            ApiError::InvalidCredentials => json!({
                "success": false,
                "error": "Invalid API credentials",
                "message": "The x-api-key and x-customer-id headers do not match an active account",
            }),
            ApiError::Validation { message } => json!({
                "success": false,
                "error": "Validation failed",
                "message": message,
            }),
            ApiError::InvalidAmount { requested } => json!({
                "success": false,
                "error": "Invalid product amount",
                "message": "Only fixed amounts are allowed",
                "allowed_amounts": ALLOWED_AMOUNTS_MXN,
                "requested_amount": requested,
            }),
            ApiError::InsufficientBalance {
                current_balance_usd,
                requested_mxn,
                required_usd,
                exchange_rate,
            } => json!({
                "success": false,
                "error": "Insufficient balance",
                "current_balance_usd": money(*current_balance_usd),
                "requested_mxn": requested_mxn,
                "required_usd": money(*required_usd),
                "exchange_rate": money(*exchange_rate),
            }),
            ApiError::DailyLimitExceeded {
                scope,
                daily_limit_mxn,
                used_today_mxn,
                requested_mxn,
            } => {
                let available = (*daily_limit_mxn - *used_today_mxn).max(Decimal::ZERO);
                json!({
                    "success": false,
                    "error": "Daily transaction limit exceeded",
                    "daily_limit_mxn": money(*daily_limit_mxn),
                    "used_today_mxn": money(*used_today_mxn),
                    "requested_mxn": requested_mxn,
                    "available_mxn": money(available),
                    "limit_scope": scope.as_str(),
                })
            }
            ApiError::RateLimited {
                limit_per_minute,
                retry_after_seconds,
            } => json!({
                "success": false,
                "error": "Too many requests",
                "message": format!(
                    "Rate limit exceeded: {limit_per_minute} top-ups per minute. Wait {retry_after_seconds} seconds before retrying."
                ),
                "limit_per_minute": limit_per_minute,
                "retry_after_seconds": retry_after_seconds,
            }),
            ApiError::IdempotencyConflict {
                reference,
                transaction_id,
            } => json!({
                "success": false,
                "error": "Duplicate reference",
                "message": "This reference was already used for a different top-up (phone or amount differ). Use a new reference.",
                "reference": reference,
                "transaction_id": transaction_id,
            }),
            ApiError::TransactionNotFound => json!({
                "success": false,
                "error": "Transaction not found",
            }),
            ApiError::TransactionForbidden => json!({
                "success": false,
                "error": "Forbidden",
                "message": "This transaction belongs to another customer",
            }),
            ApiError::RateUnavailable => json!({
                "success": false,
                "error": "Service temporarily unavailable",
                "message": "Exchange rate is temporarily unavailable; nothing was charged. Retry later.",
            }),
            ApiError::ServiceUnavailable(_) => json!({
                "success": false,
                "error": "Service temporarily unavailable",
                "message": "A backing service is unavailable. Retry later with the same reference: a reference is never charged twice, and a top-up that was not delivered is refunded automatically.",
            }),
            ApiError::RouteNotFound => json!({
                "success": false,
                "error": "Not found",
            }),
        }
    }
}

impl From<crate::api::http::BadBody> for ApiError {
    fn from(e: crate::api::http::BadBody) -> Self {
        ApiError::Validation { message: e.0 }
    }
}

/// A refused top-up in the partner API's vocabulary.
impl From<TopupError> for ApiError {
    fn from(e: TopupError) -> Self {
        match e {
            TopupError::RateUnavailable => ApiError::RateUnavailable,
            TopupError::Unavailable(m) => ApiError::ServiceUnavailable(m),
            TopupError::InsufficientBalance {
                current_balance_usd,
                requested_mxn,
                required_usd,
                exchange_rate,
            } => ApiError::InsufficientBalance {
                current_balance_usd,
                requested_mxn,
                required_usd,
                exchange_rate,
            },
            TopupError::DailyLimitExceeded {
                scope,
                daily_limit_mxn,
                used_today_mxn,
                requested_mxn,
            } => ApiError::DailyLimitExceeded {
                scope,
                daily_limit_mxn,
                used_today_mxn,
                requested_mxn,
            },
            TopupError::RateLimited {
                limit_per_minute,
                retry_after_seconds,
            } => ApiError::RateLimited {
                limit_per_minute,
                retry_after_seconds,
            },
            TopupError::IdempotencyConflict {
                reference,
                transaction_id,
            } => ApiError::IdempotencyConflict {
                reference,
                transaction_id,
            },
            // Authenticated a moment ago, gone or disabled now: the same 401 as any bad key.
            TopupError::AccountUnavailable => ApiError::InvalidCredentials,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn every_error_maps_to_its_seed_status() {
        let cases: Vec<(ApiError, u16, &str)> = vec![
            (ApiError::MissingCredentials, 401, "Invalid API credentials"),
            (ApiError::InvalidCredentials, 401, "Invalid API credentials"),
            (ApiError::validation("x"), 400, "Validation failed"),
            (
                ApiError::InvalidAmount {
                    requested: json!(25),
                },
                400,
                "Invalid product amount",
            ),
            (
                ApiError::InsufficientBalance {
                    current_balance_usd: dec!(5.00),
                    requested_mxn: 200,
                    required_usd: dec!(10.80),
                    exchange_rate: dec!(18.52),
                },
                403,
                "Insufficient balance",
            ),
            (
                ApiError::DailyLimitExceeded {
                    scope: LimitScope::Customer,
                    daily_limit_mxn: dec!(5000),
                    used_today_mxn: dec!(4800),
                    requested_mxn: 300,
                },
                429,
                "Daily transaction limit exceeded",
            ),
            (
                ApiError::IdempotencyConflict {
                    reference: "R".into(),
                    transaction_id: "RLRX".into(),
                },
                409,
                "Duplicate reference",
            ),
            (
                ApiError::RateLimited {
                    limit_per_minute: 200,
                    retry_after_seconds: 12,
                },
                429,
                "Too many requests",
            ),
            (ApiError::TransactionNotFound, 404, "Transaction not found"),
            (ApiError::TransactionForbidden, 403, "Forbidden"),
            (
                ApiError::RateUnavailable,
                503,
                "Service temporarily unavailable",
            ),
            (
                ApiError::ServiceUnavailable("db".into()),
                503,
                "Service temporarily unavailable",
            ),
        ];
        for (err, status, error) in cases {
            assert_eq!(err.status(), status, "{err:?}");
            let body = err.body();
            assert_eq!(body["success"], json!(false));
            assert_eq!(body["error"], json!(error));
        }
    }

    #[test]
    fn seed_bodies_match_field_for_field() {
        let body = ApiError::InvalidAmount {
            requested: json!(25),
        }
        .body();
        assert_eq!(
            body["allowed_amounts"],
            json!([10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 150, 200, 300, 500])
        );
        assert_eq!(body["requested_amount"], json!(25));
        assert_eq!(body["message"], json!("Only fixed amounts are allowed"));

        let body = ApiError::DailyLimitExceeded {
            scope: LimitScope::Customer,
            daily_limit_mxn: dec!(5000),
            used_today_mxn: dec!(4800),
            requested_mxn: 300,
        }
        .body();
        assert_eq!(body["daily_limit_mxn"], json!(5000));
        assert_eq!(body["used_today_mxn"], json!(4800));
        assert_eq!(body["requested_mxn"], json!(300));
        assert_eq!(body["available_mxn"], json!(200));

        let body = ApiError::InsufficientBalance {
            current_balance_usd: dec!(5.00),
            requested_mxn: 200,
            required_usd: dec!(10.80),
            exchange_rate: dec!(18.52),
        }
        .body();
        assert_eq!(body["current_balance_usd"], json!(5));
        assert_eq!(body["required_usd"], json!(10.8));
        assert_eq!(body["exchange_rate"], json!(18.52));
    }
}
