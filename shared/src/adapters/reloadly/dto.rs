//! Reloadly's requests and answers as typed structs (seeds 003/004, docs.reloadly.com).
//!
//! Answers are read defensively, as Reloadly's own samples disagree (numbers come as numbers
//! or strings; the status endpoint answers the transaction flat or under `transaction`):
//! unknown fields are ignored, and a field of an unexpected type reads as absent instead of
//! failing the whole answer. A body that is not a JSON object reads as all fields absent.
//! Which absent field means "outcome unknown" is decided in `outcome.rs`, never here.

use super::error::ReloadlyError;
use super::outcome::normalize_code;
use reqwest::StatusCode;
use rust_decimal::Decimal;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use std::str::FromStr;

// ---- requests -------------------------------------------------------------------------------

/// `POST {auth}/oauth/token` (client credentials).
#[derive(Serialize)]
pub(super) struct TokenRequest<'a> {
    pub(super) client_id: &'a str,
    pub(super) client_secret: &'a str,
    pub(super) grant_type: &'static str,
    pub(super) audience: &'a str,
}

/// `POST /topups`: `amount` in the operator's local currency (MXN), our transaction id as
/// `customIdentifier` (Reloadly refuses a second top-up with the same one).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct TopupRequestBody<'a> {
    pub(super) operator_id: i64,
    pub(super) amount: u32,
    pub(super) use_local_amount: bool,
    pub(super) custom_identifier: &'a str,
    pub(super) recipient_phone: RecipientPhone,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct RecipientPhone {
    pub(super) country_code: &'static str,
    pub(super) number: String,
}

/// `POST /operators/fx-rate`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct FxRateRequest {
    pub(super) operator_id: i64,
    pub(super) amount: u32,
}

// ---- answers --------------------------------------------------------------------------------

/// The token answer (`expires_in` is a number in one doc sample and a string in the other).
#[derive(Debug, Default, Deserialize)]
pub(super) struct TokenResponse {
    #[serde(default, deserialize_with = "string")]
    pub(super) access_token: Option<String>,
    #[serde(default, deserialize_with = "unsigned")]
    pub(super) expires_in: Option<u64>,
}

/// Reloadly's error body: `{timeStamp, message, path, errorCode, infoLink, details}`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ErrorBody {
    #[serde(default, deserialize_with = "string")]
    error_code: Option<String>,
    #[serde(default, deserialize_with = "string")]
    pub(super) message: Option<String>,
}

impl ErrorBody {
    /// The `errorCode`, normalized (upper case, `_` separators), when there is one.
    pub(super) fn error_code(&self) -> Option<String> {
        self.error_code
            .as_deref()
            .map(normalize_code)
            .filter(|c| !c.is_empty())
    }
}

/// A top-up as Reloadly describes it: the answer to `POST /topups`, an entry of the
/// transactions report, and (flat or nested) the status endpoint's answer.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct TopupTransaction {
    #[serde(default, deserialize_with = "signed")]
    pub(super) transaction_id: Option<i64>,
    /// `SUCCESSFUL`, `PROCESSING`, `REFUNDED`, `FAILED` (as sent; normalized by the mapping).
    #[serde(default, deserialize_with = "string")]
    pub(super) status: Option<String>,
    /// The operator's reference: a non-blank string or a number (`null` in some samples).
    #[serde(default, deserialize_with = "reference")]
    pub(super) operator_transaction_id: Option<String>,
    #[serde(default, deserialize_with = "string")]
    pub(super) custom_identifier: Option<String>,
}

/// `GET /topups/{id}/status`: the transaction flat (docs sample) or under `transaction` with
/// `code`/`message` beside it (what the API answers today). Both are read.
#[derive(Debug, Default, Deserialize)]
pub(super) struct StatusResponse {
    #[serde(flatten)]
    pub(super) flat: TopupTransaction,
    #[serde(default, deserialize_with = "object")]
    pub(super) transaction: Option<TopupTransaction>,
}

impl StatusResponse {
    /// The live status: the top-level one, else the nested transaction's.
    pub(super) fn status(&self) -> Option<&str> {
        self.flat
            .status
            .as_deref()
            .or_else(|| self.transaction.as_ref()?.status.as_deref())
    }
    /// The operator's reference: the nested transaction's, else the top-level one.
    pub(super) fn operator_transaction_id(&self) -> Option<&str> {
        self.transaction
            .as_ref()
            .and_then(|t| t.operator_transaction_id.as_deref())
            .or(self.flat.operator_transaction_id.as_deref())
    }
}

/// `GET /accounts/balance`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct BalanceResponse {
    #[serde(default, deserialize_with = "decimal")]
    pub(super) balance: Option<Decimal>,
    #[serde(default, deserialize_with = "string")]
    pub(super) currency_code: Option<String>,
}

/// `POST /operators/fx-rate`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct FxRateResponse {
    #[serde(default, deserialize_with = "decimal")]
    pub(super) fx_rate: Option<Decimal>,
    #[serde(default, deserialize_with = "string")]
    pub(super) currency_code: Option<String>,
}

/// An operator (auto-detect answer, or an entry of `GET /operators/countries/MX`).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Operator {
    /// Present (outer `Some`) even when unreadable: `operatorId` wins over `id` when sent.
    #[serde(default, deserialize_with = "present_signed")]
    operator_id: Option<Option<i64>>,
    #[serde(default, deserialize_with = "signed")]
    id: Option<i64>,
    #[serde(default, deserialize_with = "string")]
    pub(super) name: Option<String>,
}

impl Operator {
    /// `operatorId` when the answer has that field, else `id`.
    pub(super) fn id(&self) -> Option<i64> {
        match self.operator_id {
            Some(sent) => sent,
            None => self.id,
        }
    }
}

/// A list answer: a bare array, or a Spring-style page `{"content": [...]}` (what Reloadly's
/// list endpoints return). An entry that is not an object reads as all fields absent.
#[derive(Debug)]
pub(super) struct Listing<T>(pub(super) Vec<T>);

impl<T: DeserializeOwned + Default> Listing<T> {
    /// `None` when the body is neither an array nor an object with a `content` array.
    pub(super) fn decode(body: &[u8]) -> Option<Self> {
        let entries = match serde_json::from_slice::<Value>(body).ok()? {
            Value::Array(entries) => entries,
            Value::Object(mut page) => match page.remove("content")? {
                Value::Array(entries) => entries,
                _ => return None,
            },
            _ => return None,
        };
        Some(Self(entries.into_iter().map(lenient_object).collect()))
    }
}

/// A response that arrived completely: its status and its body, decoded per endpoint.
pub(super) struct ApiResponse {
    pub(super) status: StatusCode,
    pub(super) body: Vec<u8>,
}

impl ApiResponse {
    /// The body as `T`; a body that is not a JSON object reads as `T::default()`.
    pub(super) fn decode<T: DeserializeOwned + Default>(&self) -> T {
        decode(&self.body)
    }
    pub(super) fn error_body(&self) -> ErrorBody {
        self.decode()
    }
    pub(super) fn into_error(self) -> ReloadlyError {
        let error = self.error_body();
        ReloadlyError::Api {
            status: self.status.as_u16(),
            error_code: error.error_code(),
            message: error.message,
        }
    }
    /// The decoded body of a success, else the error Reloadly answered.
    pub(super) fn success<T: DeserializeOwned + Default>(self) -> Result<T, ReloadlyError> {
        if self.status.is_success() {
            Ok(self.decode())
        } else {
            Err(self.into_error())
        }
    }
}

/// `T` from a JSON object; anything else (empty, HTML, an array, a number) is `T::default()`.
pub(super) fn decode<T: DeserializeOwned + Default>(body: &[u8]) -> T {
    match serde_json::from_slice::<Value>(body) {
        Ok(value) => lenient_object(value),
        Err(_) => T::default(),
    }
}

fn lenient_object<T: DeserializeOwned + Default>(value: Value) -> T {
    if value.is_object() {
        serde_json::from_value(value).unwrap_or_default()
    } else {
        T::default()
    }
}

// ---- lenient field readers ------------------------------------------------------------------

fn string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) => Some(s),
        _ => None,
    })
}

fn signed<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(value_as_i64(&Value::deserialize(d)?))
}

fn present_signed<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<i64>>, D::Error> {
    Ok(Some(value_as_i64(&Value::deserialize(d)?)))
}

fn unsigned<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Ok(value_as_u64(&Value::deserialize(d)?))
}

fn decimal<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
    Ok(value_as_decimal(&Value::deserialize(d)?))
}

fn reference<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

fn object<'de, D: Deserializer<'de>>(d: D) -> Result<Option<TopupTransaction>, D::Error> {
    let value = Value::deserialize(d)?;
    Ok(value.is_object().then(|| lenient_object(value)))
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
