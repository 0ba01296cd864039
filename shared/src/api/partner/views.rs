//! Response bodies, field for field as the partner guides (seeds 000 and 001) show them.

use crate::api::json::{money, timestamp};
use crate::domain::{Account, Transaction, TxStatus};
use rust_decimal::Decimal;
use serde_json::{json, Value};

pub fn check_status_url(tx: &Transaction) -> String {
    format!("/api/transaction/{}", tx.id)
}

/// `GET /api/balance`.
pub fn balance(account: &Account) -> Value {
    json!({
        "success": true,
        "customer_id": account.customer_id.as_str(),
        "company_name": account.company_name,
        "current_balance": money(account.balance),
        "credit_limit": money(account.credit_limit),
        "currency": "USD",
    })
}

/// The seeds' `billing` block: what this top-up took from the balance.
fn billing(tx: &Transaction) -> Value {
    json!({
        "deducted_usd": money(tx.amount_usd),
        "balance_before_usd": money(tx.balance_before),
        "balance_after_usd": money(tx.balance_after),
        "exchange_rate": money(tx.exchange_rate),
    })
}

fn usd_text(v: Decimal) -> String {
    format!("{:.2}", v.round_dp(2))
}

/// `POST /api/enviadespensa/topup`: (HTTP status, body) for the record's current state.
/// SUCCESS -> 200; FAILED (refunded) -> 500 "Transaction processing failed" (seed 001);
/// still open (provider outcome unknown) -> 202 with status PENDING and `check_status_url`.
pub fn sync_topup(tx: &Transaction, balance_after_refund: Option<Decimal>) -> (u16, Value) {
    let transaction = json!({
        "id": tx.id.as_str(),
        "status": tx.status.public(),
        "amount_mxn": tx.amount_mxn.value(),
        "amount_usd": money(tx.amount_usd),
        "exchange_rate": money(tx.exchange_rate),
        "phone": tx.phone.as_str(),
        "reference": tx.reference,
        "operatorTransactionId": tx.operator_transaction_id,
        "provider": tx.provider,
        "processedAt": tx.processed_at.map(timestamp),
        "currency": "MXN",
    });
    match tx.status {
        TxStatus::Success => (
            200,
            json!({
                "success": true,
                "transaction": transaction,
                "billing": billing(tx),
                "message": format!(
                    "Top-up of {} MXN processed successfully. ${} USD deducted from balance.",
                    tx.amount_mxn.value(),
                    usd_text(tx.amount_usd)
                ),
                "remaining_balance": money(tx.balance_after),
            }),
        ),
        TxStatus::Failed => {
            let mut body = json!({
                "success": false,
                "error": "Transaction processing failed",
                "message": format!(
                    "Top-up of {} MXN failed: {}. No balance was deducted.",
                    tx.amount_mxn.value(),
                    tx.failure_reason.as_deref().unwrap_or("the carrier rejected it")
                ),
                "transaction": transaction,
                "refunded_usd": money(tx.amount_usd),
            });
            if let Some(balance) = balance_after_refund {
                body["remaining_balance"] = money(balance);
            }
            (500, body)
        }
        TxStatus::Pending | TxStatus::Processing => (
            202,
            json!({
                "success": true,
                "transaction": transaction,
                "billing": billing(tx),
                "message": "Top-up sent; the carrier has not confirmed it yet. Poll check_status_url for the final status (a failed top-up is refunded automatically).",
                "check_status_url": check_status_url(tx),
                "remaining_balance": money(tx.balance_after),
            }),
        ),
    }
}

/// `POST /api/enviadespensa/topup-async`: always 200 with the record's public status.
pub fn async_topup(tx: &Transaction) -> Value {
    json!({
        "success": true,
        "transaction": {
            "id": tx.id.as_str(),
            "status": tx.status.public(),
            "amount": tx.amount_mxn.value(),
            "phone": tx.phone.as_str(),
            "reference": tx.reference,
            "queuedAt": timestamp(tx.queued_at.unwrap_or(tx.created_at)),
            "currency": "MXN",
        },
        "message": "Transaction queued for processing",
        "check_status_url": check_status_url(tx),
    })
}

/// `GET /api/transaction/{id}`: the union of the v1 and v2 guides' fields (v2's `amount` is
/// the USD amount; v1's `currency` is the top-up currency).
pub fn transaction_status(tx: &Transaction) -> Value {
    let mut t = json!({
        "id": tx.id.as_str(),
        "transaction_id": tx.id.as_str(),
        "customer_id": tx.customer_id.as_str(),
        "phone": tx.phone.as_str(),
        "amount": money(tx.amount_usd),
        "amount_mxn": tx.amount_mxn.value(),
        "amount_usd": money(tx.amount_usd),
        "exchange_rate": money(tx.exchange_rate),
        "status": tx.status.public(),
        "reference": tx.reference,
        "operator_transaction_id": tx.operator_transaction_id,
        "provider": tx.provider,
        "response_time_ms": tx.response_time_ms,
        "created_at": timestamp(tx.created_at),
        "processed_at": tx.processed_at.map(timestamp),
        "currency": "MXN",
    });
    if tx.status == TxStatus::Failed {
        t["error"] = json!(tx.failure_reason);
    }
    json!({ "success": true, "transaction": t })
}
