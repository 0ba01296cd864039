//! Reloadly's JSON answers and the defensive readers of their fields (numbers may come as
//! numbers or strings).

use super::error::ReloadlyError;
use super::outcome::normalize_code;
use reqwest::StatusCode;
use rust_decimal::Decimal;
use serde_json::Value;
use std::str::FromStr;

/// A response that arrived completely: status plus the body parsed as JSON (`Null` when the
/// body was empty or not JSON).
pub(super) struct ApiResponse {
    pub(super) status: StatusCode,
    pub(super) body: Value,
}

impl ApiResponse {
    pub(super) fn error_code(&self) -> Option<String> {
        self.body
            .get("errorCode")
            .and_then(Value::as_str)
            .map(normalize_code)
            .filter(|c| !c.is_empty())
    }
    pub(super) fn message(&self) -> Option<String> {
        self.body
            .get("message")
            .and_then(Value::as_str)
            .map(str::to_owned)
    }
    pub(super) fn into_error(self) -> ReloadlyError {
        ReloadlyError::Api {
            status: self.status.as_u16(),
            error_code: self.error_code(),
            message: self.message(),
        }
    }
    pub(super) fn success(self) -> Result<Value, ReloadlyError> {
        if self.status.is_success() {
            Ok(self.body)
        } else {
            Err(self.into_error())
        }
    }
}

pub(super) fn operator_transaction_id(value: &Value) -> Option<String> {
    match value.get("operatorTransactionId")? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A bare array, or a Spring-style page `{"content": [...]}` (what Reloadly's list endpoints
/// return).
pub(super) fn page_items(body: &Value) -> Option<&Vec<Value>> {
    body.as_array()
        .or_else(|| body.get("content").and_then(Value::as_array))
}

pub(super) fn value_as_u64(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n
            .as_u64()
            .or_else(|| n.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

pub(super) fn value_as_i64(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

pub(super) fn value_as_decimal(v: &Value) -> Option<Decimal> {
    let text = match v {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.trim().to_owned(),
        _ => return None,
    };
    Decimal::from_str(&text)
        .or_else(|_| Decimal::from_scientific(&text))
        .ok()
}
