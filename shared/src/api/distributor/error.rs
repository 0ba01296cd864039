//! A refusal in the guide's shape: `{success:false, error, response_code, response_message, …}`,
//! and the mapping of refused top-ups and unreadable bodies to it.

use super::codes::ResponseCode;
use crate::api::http::BadBody;
use crate::api::json::money;
use crate::topup::TopupError;
use serde_json::{json, Map, Value};

/// A refusal in the guide's shape: `{success:false, error, response_code, …}`.
#[derive(Debug, Clone, PartialEq)]
pub struct DistributorError {
    pub http: u16,
    pub code: ResponseCode,
    pub error: String,
    pub extra: Map<String, Value>,
    /// `Retry-After` seconds (429s only).
    pub retry_after: Option<u32>,
}

impl DistributorError {
    pub(super) fn new(http: u16, code: ResponseCode, error: impl Into<String>) -> Self {
        Self {
            http,
            code,
            error: error.into(),
            extra: Map::new(),
            retry_after: None,
        }
    }
    pub(super) fn unauthorized() -> Self {
        Self::new(
            401,
            ResponseCode::Unauthorized,
            "Unauthorized: invalid or missing token",
        )
    }
    pub(super) fn body(&self, distributor_transaction_id: Option<&str>) -> Value {
        let mut body = json!({
            "success": false,
            "error": self.error,
            "response_code": self.code.as_str(),
            "response_message": self.code.message(),
        });
        if let Some(id) = distributor_transaction_id {
            body["distributor_transaction_id"] = json!(id);
        }
        for (k, v) in &self.extra {
            body[k] = v.clone();
        }
        body
    }
}

/// An unreadable body: 400 / 12.
pub(super) fn from_body(err: BadBody) -> DistributorError {
    DistributorError::new(400, ResponseCode::InvalidTransaction, err.0)
}

/// A refused top-up in the distributor vocabulary.
pub(super) fn from_topup(err: TopupError) -> DistributorError {
    match err {
        TopupError::AccountUnavailable => DistributorError::unauthorized(),
        TopupError::InsufficientBalance {
            current_balance_usd,
            required_usd,
            ..
        } => {
            let mut e =
                DistributorError::new(402, ResponseCode::InsufficientFunds, "Insufficient balance");
            e.extra.insert("balance".into(), money(current_balance_usd));
            e.extra.insert("required_usd".into(), money(required_usd));
            e
        }
        TopupError::DailyLimitExceeded { .. } => {
            let mut e = DistributorError::new(
                429,
                ResponseCode::AmountLimit,
                "Daily transaction limit exceeded",
            );
            e.retry_after = Some(crate::api::partner::error::seconds_until_utc_midnight(
                chrono::Utc::now(),
            ));
            e
        }
        TopupError::RateLimited {
            retry_after_seconds,
            ..
        } => {
            let mut e =
                DistributorError::new(429, ResponseCode::FrequencyLimit, "Too many requests");
            e.retry_after = Some(retry_after_seconds.max(1));
            e
        }
        TopupError::IdempotencyConflict { .. } => DistributorError::new(
            400,
            ResponseCode::InvalidTransaction,
            "distributor_transaction_id was already used for a different purchase",
        ),
        TopupError::RateUnavailable | TopupError::Unavailable(_) => unavailable(),
    }
}

pub(super) fn unavailable() -> DistributorError {
    DistributorError::new(
        503,
        ResponseCode::SystemError,
        "System error: service temporarily unavailable",
    )
}
