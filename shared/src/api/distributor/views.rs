//! The purchase answer, field for field as the distributor guide shows it.

use super::codes::ResponseCode;
use super::error::DistributorError;
use crate::api::json::money;
use crate::domain::{Transaction, TxStatus};
use serde_json::{json, Value};

/// The purchase answer for the record's state.
pub(super) fn purchase_answer(tx: &Transaction, dist_id: &str) -> (u16, Value) {
    let id = tx.id.as_str();
    let auth_code: String = id
        .chars()
        .rev()
        .take(6)
        .collect::<String>()
        .chars()
        .rev()
        .collect();
    match tx.status {
        TxStatus::Success => (
            200,
            json!({
                "success": true,
                "transaction_id": id,
                "distributor_transaction_id": dist_id,
                "response_code": ResponseCode::Approved.as_str(),
                "response_message": ResponseCode::Approved.message(),
                "reference": tx.operator_transaction_id,
                "auth_code": auth_code,
                "balance_after": money(tx.balance_after),
            }),
        ),
        TxStatus::Failed => {
            let mut e = DistributorError::new(
                500,
                ResponseCode::IssuerUnavailable,
                format!(
                    "Top-up failed: {}. No balance was deducted.",
                    tx.failure_reason
                        .as_deref()
                        .unwrap_or("the carrier rejected it")
                ),
            );
            e.extra.insert("transaction_id".into(), json!(id));
            (e.http, e.body(Some(dist_id)))
        }
        TxStatus::Pending | TxStatus::Processing => (
            202,
            json!({
                "success": true,
                "status": "PENDING",
                "transaction_id": id,
                "distributor_transaction_id": dist_id,
                "response_code": ResponseCode::InProcess.as_str(),
                "response_message": ResponseCode::InProcess.message(),
                "balance_after": money(tx.balance_after),
                "message": "The carrier has not confirmed yet. Repeat the same request (same distributor_transaction_id) for the final result; it is never charged twice.",
            }),
        ),
    }
}
