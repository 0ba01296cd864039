//! The money-safety rules: which Reloadly answers are definite failures (safe to refund),
//! which mean "unknown" (never refund, never resend), and the status mapping.

use super::dto::{operator_transaction_id, value_as_i64, ApiResponse};
use super::error::describe_api_error;
use super::ReloadlyProvider;
use crate::ports::{ProviderStatus, TopupOutcome};
use serde_json::Value;

/// Reloadly error codes that mean "rejected, nothing delivered, nothing charged" (seed 003
/// "Error Codes"), with the reason we record. Matched after [`normalize_code`].
pub(super) const DEFINITE_FAILURES: &[(&str, &str)] = &[
    (
        "INSUFFICIENT_BALANCE",
        "the provider account has insufficient balance",
    ),
    (
        "INVALID_AMOUNT_FOR_OPERATOR",
        "the amount is not valid for this phone's operator",
    ),
    ("INVALID_AMOUNT", "the amount was rejected as invalid"),
    (
        "INVALID_RECIPIENT_PHONE",
        "the phone number is not valid for Mexico",
    ),
    ("INVALID_PHONE_NUMBER", "the phone number is not valid"),
    ("INVALID_SENDER_PHONE", "the sender phone was rejected"),
    (
        "OPERATOR_UNAVAILABLE_OR_CURRENTLY_INACTIVE",
        "the phone's operator is currently unavailable",
    ),
    (
        "OPERATOR_NOT_IN_SERVICE",
        "the phone's operator is not in service",
    ),
    (
        "PHONE_RECENTLY_RECHARGED",
        "the phone was topped up moments ago; retry in a few minutes",
    ),
    (
        "MAX_DAILY_TRANSACTION_COUNT_REACHED",
        "the provider's daily transaction count limit was reached",
    ),
    (
        "MAX_DAILY_TRANSACTION_AMOUNT_REACHED",
        "the provider's daily transaction amount limit was reached",
    ),
    (
        "COUNTRY_NOT_SUPPORTED",
        "top-ups to Mexico are not enabled at the provider",
    ),
    ("INACTIVE_ACCOUNT", "the provider account is inactive"),
    ("ACCOUNT_NOT_FOUND", "the provider account was not found"),
    (
        "TOPUP_TRANSACTION_FAILED",
        "the operator rejected the top-up",
    ),
    (
        "TRANSACTION_CANNOT_BE_PROCESSED_AT_THE_MOMENT",
        "the provider cannot process top-ups at the moment",
    ),
    (
        "COULD_NOT_AUTO_DETECT_OPERATOR",
        "could not determine the mobile operator of this phone number",
    ),
    (
        "INVALID_REQUEST",
        "the provider rejected the request as invalid",
    ),
    ("RATE_LIMIT_REACHED", "the provider rate limit was reached"),
    (
        "NOT_AUTHORIZED",
        "the provider refused the request (not authorized)",
    ),
    (
        "AUTHENTICATION_FAILURE",
        "authentication with the provider failed",
    ),
];

/// HTTP statuses that Reloadly only returns before processing anything (seed 003 "HTTP status
/// codes"): a 4xx with one of these is a definite failure even with an unknown `errorCode`.
pub(super) const REJECTED_BEFORE_PROCESSING: &[u16] = &[400, 401, 403, 404, 405, 406, 415, 429];

/// `OPERATOR_UNAVAILABLE_OR_ CURRENTLY INACTIVE` (as printed in seed 004) -> the canonical code.
pub(super) fn normalize_code(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for ch in raw.trim().chars() {
        let c = if ch.is_ascii_alphanumeric() {
            ch.to_ascii_uppercase()
        } else {
            '_'
        };
        if c == '_' && (out.is_empty() || out.ends_with('_')) {
            continue;
        }
        out.push(c);
    }
    out.trim_end_matches('_').to_owned()
}

pub(super) fn definite_reason(code: &str) -> Option<String> {
    DEFINITE_FAILURES
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(c, text)| format!("{text} (Reloadly {c})"))
}

/// Reloadly's answer to a reused `customIdentifier` is not documented precisely; match any
/// error code or message that says the identifier is a duplicate / already used.
pub(super) fn is_duplicate_custom_identifier(code: Option<&str>, message: Option<&str>) -> bool {
    let code = code.unwrap_or_default();
    let msg = message.unwrap_or_default().to_ascii_lowercase();
    if code.contains("DUPLICATE") {
        return true;
    }
    let mentions_identifier = code.contains("CUSTOM_IDENTIFIER")
        || msg.contains("customidentifier")
        || msg.contains("custom identifier")
        || msg.contains("custom_identifier");
    let says_reused = ["ALREADY", "EXIST", "USED", "UNIQUE"]
        .iter()
        .any(|w| code.contains(w))
        || [
            "already",
            "duplicat",
            "exist",
            "been used",
            "in use",
            "unique",
        ]
        .iter()
        .any(|w| msg.contains(w));
    mentions_identifier && says_reused
}

pub(super) fn map_status(
    status: &str,
    operator_transaction_id: String,
    transaction_id: i64,
) -> ProviderStatus {
    match status {
        "SUCCESSFUL" => ProviderStatus::Successful {
            operator_transaction_id,
        },
        "PROCESSING" | "PENDING" => ProviderStatus::Processing,
        "REFUNDED" | "FAILED" => ProviderStatus::Failed {
            reason: format!(
                "Reloadly reported transaction {transaction_id} as {status} (not delivered)"
            ),
        },
        other => unavailable(format!("unrecognized Reloadly status `{other}`")),
    }
}

pub(super) fn unavailable(reason: String) -> ProviderStatus {
    ProviderStatus::Unavailable { reason }
}

pub(super) enum TopupMapping {
    Done(TopupOutcome),
    Duplicate,
}

impl ReloadlyProvider {
    pub(super) fn map_topup_response(&self, response: ApiResponse) -> TopupMapping {
        let status = response.status;
        if status.is_success() {
            let body = &response.body;
            let transaction_id = body.get("transactionId").and_then(value_as_i64);
            let upstream = body
                .get("status")
                .and_then(Value::as_str)
                .map(normalize_code);
            return match upstream.as_deref() {
                Some("SUCCESSFUL") => TopupMapping::Done(TopupOutcome::Success {
                    operator_transaction_id: operator_transaction_id(body)
                        .or_else(|| transaction_id.map(|t| t.to_string()))
                        .unwrap_or_default(),
                }),
                Some("REFUNDED") | Some("FAILED") => TopupMapping::Done(TopupOutcome::Failed {
                    reason: format!(
                        "Reloadly reported the top-up as {} (not delivered)",
                        upstream.as_deref().unwrap_or_default()
                    ),
                }),
                Some(other) => TopupMapping::Done(TopupOutcome::Unknown {
                    reason: format!(
                        "Reloadly answered {other} for transaction {}; awaiting final status",
                        transaction_id
                            .map(|t| t.to_string())
                            .unwrap_or_else(|| "?".into())
                    ),
                }),
                None => TopupMapping::Done(TopupOutcome::Unknown {
                    reason: format!(
                        "Reloadly answered HTTP {} without a status",
                        status.as_u16()
                    ),
                }),
            };
        }
        if status.is_server_error() {
            return TopupMapping::Done(TopupOutcome::Unknown {
                reason: format!(
                    "Reloadly answered HTTP {} (the top-up may have been processed)",
                    status.as_u16()
                ),
            });
        }
        let code = response.error_code();
        let message = response.message();
        if status.is_client_error() {
            if is_duplicate_custom_identifier(code.as_deref(), message.as_deref()) {
                return TopupMapping::Duplicate;
            }
            if let Some(reason) = code.as_deref().and_then(definite_reason) {
                return TopupMapping::Done(TopupOutcome::Failed { reason });
            }
            if REJECTED_BEFORE_PROCESSING.contains(&status.as_u16()) {
                return TopupMapping::Done(TopupOutcome::Failed {
                    reason: format!(
                        "Reloadly rejected the top-up (HTTP {}: {})",
                        status.as_u16(),
                        describe_api_error(&code, &message)
                    ),
                });
            }
        }
        TopupMapping::Done(TopupOutcome::Unknown {
            reason: format!(
                "unrecognized Reloadly answer HTTP {} ({})",
                status.as_u16(),
                describe_api_error(&code, &message)
            ),
        })
    }
}
