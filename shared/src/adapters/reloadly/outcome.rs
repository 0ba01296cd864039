//! The money-safety rules: which Reloadly answers are definite failures (safe to refund),
//! which mean "unknown" (never refund, never resend), and the status mapping.

use super::dto::{ApiResponse, ErrorBody, Listing, StatusResponse, TopupTransaction};
use super::error::describe_api_error;
use crate::ports::{ProviderStatus, TopupOutcome};
use reqwest::StatusCode;

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

/// What `POST /topups` answered: the transaction on a 2xx, else Reloadly's error body.
#[derive(Debug)]
pub(super) enum TopupAnswer {
    Accepted(TopupTransaction),
    Refused(ErrorBody),
}

impl TopupAnswer {
    pub(super) fn of(response: &ApiResponse) -> Self {
        if response.status.is_success() {
            Self::Accepted(response.decode())
        } else {
            Self::Refused(response.error_body())
        }
    }
}

/// The outcome of a `POST /topups` that Reloadly answered. Only an explicit final status or a
/// rejection Reloadly documents as "nothing processed" is final; a 2xx without a status, any
/// other status, a 5xx and an unrecognized error are `Unknown` (never refunded, never resent).
pub(super) fn topup_outcome(http: StatusCode, answer: &TopupAnswer) -> TopupMapping {
    let error = match answer {
        TopupAnswer::Accepted(tx) => return accepted_outcome(http, tx),
        TopupAnswer::Refused(error) => error,
    };
    if http.is_server_error() {
        return TopupMapping::Done(TopupOutcome::Unknown {
            reason: format!(
                "Reloadly answered HTTP {} (the top-up may have been processed)",
                http.as_u16()
            ),
        });
    }
    let code = error.error_code();
    let message = error.message.clone();
    if http.is_client_error() {
        if is_duplicate_custom_identifier(code.as_deref(), message.as_deref()) {
            return TopupMapping::Duplicate;
        }
        if let Some(reason) = code.as_deref().and_then(definite_reason) {
            return TopupMapping::Done(TopupOutcome::Failed { reason });
        }
        if REJECTED_BEFORE_PROCESSING.contains(&http.as_u16()) {
            return TopupMapping::Done(TopupOutcome::Failed {
                reason: format!(
                    "Reloadly rejected the top-up (HTTP {}: {})",
                    http.as_u16(),
                    describe_api_error(&code, &message)
                ),
            });
        }
    }
    TopupMapping::Done(TopupOutcome::Unknown {
        reason: format!(
            "unrecognized Reloadly answer HTTP {} ({})",
            http.as_u16(),
            describe_api_error(&code, &message)
        ),
    })
}

fn accepted_outcome(http: StatusCode, tx: &TopupTransaction) -> TopupMapping {
    let upstream = tx.status.as_deref().map(normalize_code);
    TopupMapping::Done(match upstream.as_deref() {
        Some("SUCCESSFUL") => TopupOutcome::Success {
            operator_transaction_id: tx
                .operator_transaction_id
                .clone()
                .or_else(|| tx.transaction_id.map(|t| t.to_string()))
                .unwrap_or_default(),
        },
        Some(final_status @ ("REFUNDED" | "FAILED")) => TopupOutcome::Failed {
            reason: format!("Reloadly reported the top-up as {final_status} (not delivered)"),
        },
        Some(other) => TopupOutcome::Unknown {
            reason: format!(
                "Reloadly answered {other} for transaction {}; awaiting final status",
                tx.transaction_id
                    .map(|t| t.to_string())
                    .unwrap_or_else(|| "?".into())
            ),
        },
        None => TopupOutcome::Unknown {
            reason: format!("Reloadly answered HTTP {} without a status", http.as_u16()),
        },
    })
}

/// What the transactions report (filtered by `customIdentifier`) says about our top-up.
#[derive(Debug)]
pub(super) enum ReportFinding {
    Entry(TopupTransaction),
    NotFound,
    Unavailable(ProviderStatus),
}

pub(super) fn find_in_report(
    report: Option<Listing<TopupTransaction>>,
    our_id: &str,
) -> ReportFinding {
    let Some(Listing(entries)) = report else {
        return ReportFinding::Unavailable(unavailable(
            "transactions report has an unexpected format".into(),
        ));
    };
    if entries.is_empty() {
        return ReportFinding::NotFound;
    }
    match entries
        .into_iter()
        .find(|t| t.custom_identifier.as_deref() == Some(our_id))
    {
        Some(entry) => ReportFinding::Entry(entry),
        // Entries, but none of them ours: the filter was not applied, so absence proves
        // nothing. Never answer NotFound here (it would refund a possibly delivered top-up).
        None => ReportFinding::Unavailable(unavailable(
            "transactions report did not honour the customIdentifier filter".into(),
        )),
    }
}

/// Our top-up's status from its report entry and, when the status endpoint answered, its
/// live status (which wins). No status anywhere is `Unavailable`, never a final answer.
pub(super) fn status_outcome(
    entry: &TopupTransaction,
    live: Option<&StatusResponse>,
) -> ProviderStatus {
    let reported = entry.status.as_deref().map(normalize_code);
    let Some(transaction_id) = entry.transaction_id else {
        return match reported {
            Some(s) => map_status(
                &s,
                entry.operator_transaction_id.clone().unwrap_or_default(),
                0,
            ),
            None => unavailable("report entry has neither transactionId nor status".into()),
        };
    };
    if let Some(live) = live {
        if let Some(status) = live.status().map(normalize_code) {
            let op_id = live
                .operator_transaction_id()
                .map(str::to_owned)
                .or_else(|| entry.operator_transaction_id.clone())
                .unwrap_or_else(|| transaction_id.to_string());
            return map_status(&status, op_id, transaction_id);
        }
    }
    match reported {
        Some(s) => {
            let op_id = entry
                .operator_transaction_id
                .clone()
                .unwrap_or_else(|| transaction_id.to_string());
            map_status(&s, op_id, transaction_id)
        }
        None => unavailable(format!(
            "no status for Reloadly transaction {transaction_id}"
        )),
    }
}
