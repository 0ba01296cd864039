//! `GET /api/transactions`: the partner's transactions, newest first, each with the status
//! endpoint's fields, and `next_cursor` for the next page.

use super::ports::{Page, TxFilter};
use crate::api::partner::views;
use crate::api::partner::ApiError;
use crate::domain::Transaction;
use crate::domain::{Phone, Reference};
use serde_json::{json, Value};

pub const DEFAULT_LIMIT: usize = 50;
pub const MAX_LIMIT: usize = 200;

/// Parse the listing's filters: `status` (PENDING, SUCCESS, FAILED), `phone`, `reference`.
pub fn filter(
    status: Option<&str>,
    phone: Option<&str>,
    reference: Option<&str>,
) -> Result<TxFilter, ApiError> {
    let statuses = match status.map(|s| s.trim().to_ascii_uppercase()).as_deref() {
        None | Some("") => vec![],
        Some("PENDING") => vec!["PENDING".into(), "PROCESSING".into()],
        Some("SUCCESS") => vec!["SUCCESS".into()],
        Some("FAILED") => vec!["FAILED".into()],
        Some(other) => {
            return Err(ApiError::validation(format!(
                "status must be PENDING, SUCCESS or FAILED, got {other:?}"
            )))
        }
    };
    let phone = phone
        .filter(|p| !p.is_empty())
        .map(|p| Phone::parse(p).map(|p| p.as_str().to_owned()))
        .transpose()
        .map_err(|_| ApiError::validation("phone must be 10 digits"))?;
    let reference = reference
        .filter(|r| !r.is_empty())
        .map(|r| Reference::parse(r).map(|r| r.as_str().to_owned()))
        .transpose()
        .map_err(ApiError::validation)?;
    Ok(TxFilter {
        statuses,
        phone,
        reference,
    })
}

pub fn limit(raw: Option<&str>) -> Result<usize, ApiError> {
    match raw {
        None | Some("") => Ok(DEFAULT_LIMIT),
        Some(v) => v
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| ApiError::validation(format!("limit must be 1 to {MAX_LIMIT}"))),
    }
}

pub fn view(page: &Page<Transaction>) -> Value {
    let transactions: Vec<Value> = page
        .items
        .iter()
        .map(|t| views::transaction_status(t)["transaction"].clone())
        .collect();
    json!({
        "success": true,
        "count": transactions.len(),
        "transactions": transactions,
        "next_cursor": page.next,
    })
}
