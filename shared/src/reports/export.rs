//! The reconciliation CSV (SmartBiz guide: `GET /api/admin/reconcile/export`): one row per
//! ledger line in the range, so a file reconciles the balance to the cent:
//! first row's `balance_before_usd` + Σ `delta_usd` = last row's `balance_after_usd`.
//! Top-up rows (`kind` TOPUP) carry the transaction's fields; a failed top-up also has its
//! REFUND row; CREDIT and ADJUSTMENT rows carry the wire reference and the note.

use super::csv;
use super::ports::LedgerLine;
use crate::api::json::timestamp;
use crate::domain::{Account, Transaction};
use rust_decimal::Decimal;
use std::collections::HashMap;

/// Rows per response; a larger range continues with `cursor` (header `x-next-cursor`).
/// 5,000 rows of ≤ ~600 bytes stay far below Lambda's 6 MB response limit.
pub const ROWS_PER_RESPONSE: usize = 5000;

pub const COLUMNS: [&str; 22] = [
    "kind",
    "transaction_id",
    "created_at",
    "processed_at",
    "customer_id",
    "company",
    "phone",
    "amount_mxn",
    "amount_usd",
    "exchange_rate",
    "commission",
    "status",
    "reference",
    "operator_transaction_id",
    "provider",
    "response_time_ms",
    "balance_before_usd",
    "balance_after_usd",
    "delta_usd",
    "ledger_seq",
    "ledger_at",
    "note",
];

pub fn header() -> String {
    csv::row(&COLUMNS)
}

fn usd(v: Decimal) -> String {
    format!("{:.2}", v.round_dp(2))
}

/// The row's `kind`: a top-up's debit is TOPUP; REFUND, CREDIT, ADJUSTMENT as on the ledger.
pub fn kind(ledger_kind: &str) -> &str {
    match ledger_kind {
        "DEBIT" => "TOPUP",
        other => other,
    }
}

/// Ids of the transactions the lines refer to (top-ups and their refunds).
pub fn transaction_ids(lines: &[LedgerLine]) -> Vec<crate::domain::TransactionId> {
    lines
        .iter()
        .filter(|l| matches!(l.entry.kind.as_str(), "DEBIT" | "REFUND"))
        .filter_map(|l| crate::domain::TransactionId::parse(&l.entry.transaction_id).ok())
        .collect()
}

pub fn row(account: &Account, line: &LedgerLine, tx: Option<&Transaction>) -> String {
    let e = &line.entry;
    let opt = |v: Option<String>| v.unwrap_or_default();
    let status = match (tx, e.kind.as_str()) {
        (Some(t), _) => t.status.public().to_owned(),
        (None, "CREDIT" | "ADJUSTMENT") => "APPLIED".to_owned(),
        _ => String::new(),
    };
    let fields: Vec<String> = vec![
        kind(&e.kind).to_owned(),
        e.transaction_id.clone(),
        tx.map(|t| timestamp(t.created_at))
            .unwrap_or_else(|| e.at.clone()),
        opt(tx.and_then(|t| t.processed_at).map(timestamp)),
        account.customer_id.as_str().to_owned(),
        account.company_name.clone(),
        opt(tx.map(|t| t.phone.as_str().to_owned())),
        opt(tx.map(|t| t.amount_mxn.value().to_string())),
        usd(tx.map_or(e.delta, |t| t.amount_usd)),
        opt(tx.map(|t| t.exchange_rate.normalize().to_string())),
        opt(tx.map(|t| t.commission.normalize().to_string())),
        status,
        opt(tx
            .and_then(|t| t.reference.clone())
            .or_else(|| line.reference.clone())),
        opt(tx.and_then(|t| t.operator_transaction_id.clone())),
        opt(tx.map(|t| t.provider.clone())),
        opt(tx.and_then(|t| t.response_time_ms).map(|ms| ms.to_string())),
        usd(e.balance_before),
        usd(e.balance_after),
        usd(e.delta),
        e.seq.to_string(),
        e.at.clone(),
        opt(line.note.clone()),
    ];
    csv::row(&fields)
}

/// Rows for one partner's lines (transactions looked up by id).
pub fn rows(
    account: &Account,
    lines: &[LedgerLine],
    transactions: &HashMap<String, Transaction>,
) -> String {
    lines
        .iter()
        .map(|l| row(account, l, transactions.get(&l.entry.transaction_id)))
        .collect()
}

/// `relier_SMARTBIZ_001_2025-10-01_2025-10-31.csv` (`all` for the ops key).
pub fn filename(scope: &str, from: &str, to: &str) -> String {
    let scope = if scope == "*" { "all" } else { scope };
    format!("relier_{scope}_{from}_{to}.csv")
}
