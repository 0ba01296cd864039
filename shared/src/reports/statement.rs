//! The statement: opening balance, every ledger line (top-up, refund, credit, adjustment) with
//! the balance after it, closing balance. opening + Σ amounts == closing by construction
//! (each line's `balance_before` is the previous line's `balance_after`; the ledger check
//! proves the chain), and [`view`] refuses to render a page where it does not hold.

use super::export::kind;
use super::ports::LedgerLine;
use super::range::DateRange;
use crate::api::json::{money, timestamp};
use crate::domain::{Account, Transaction};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::collections::HashMap;

/// Lines per response; a longer statement continues with `cursor` (`next_cursor`).
pub const LINES_PER_PAGE: usize = 1000;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("statement does not add up: opening {opening} + lines {sum} != closing {closing}")]
pub struct Unbalanced {
    pub opening: Decimal,
    pub sum: Decimal,
    pub closing: Decimal,
}

/// `opening` is the balance before this page's first line (for an empty page: the balance at
/// the start of the range).
pub fn view(
    account: &Account,
    range: &DateRange,
    opening: Decimal,
    lines: &[LedgerLine],
    transactions: &HashMap<String, Transaction>,
    next_cursor: Option<&str>,
) -> Result<Value, Unbalanced> {
    let opening = lines.first().map_or(opening, |l| l.entry.balance_before);
    let closing = lines.last().map_or(opening, |l| l.entry.balance_after);
    let sum: Decimal = lines.iter().map(|l| l.entry.delta).sum();
    let chained = lines
        .windows(2)
        .all(|w| w[0].entry.balance_after == w[1].entry.balance_before);
    if opening + sum != closing || !chained {
        return Err(Unbalanced {
            opening,
            sum,
            closing,
        });
    }
    let rendered: Vec<Value> = lines
        .iter()
        .map(|l| {
            let e = &l.entry;
            let tx = transactions.get(&e.transaction_id);
            json!({
                "seq": e.seq,
                "at": e.at,
                "kind": kind(&e.kind),
                "transaction_id": e.transaction_id,
                "reference": tx.and_then(|t| t.reference.clone()).or_else(|| l.reference.clone()),
                "note": l.note,
                "phone": tx.map(|t| t.phone.as_str()),
                "amount_mxn": tx.map(|t| t.amount_mxn.value()),
                "amount_usd": money(e.delta),
                "balance_after_usd": money(e.balance_after),
            })
        })
        .collect();
    let credits: Decimal = lines
        .iter()
        .filter(|l| l.entry.delta > Decimal::ZERO)
        .map(|l| l.entry.delta)
        .sum();
    Ok(json!({
        "success": true,
        "customer_id": account.customer_id.as_str(),
        "company_name": account.company_name,
        "currency": "USD",
        "date_from": range.from.to_string(),
        "date_to": range.to.to_string(),
        "opening_balance_usd": money(opening),
        "total_in_usd": money(credits),
        "total_out_usd": money(credits - sum),
        "closing_balance_usd": money(closing),
        "lines": rendered,
        "line_count": lines.len(),
        "next_cursor": next_cursor,
        "generated_at": timestamp(chrono::Utc::now()),
    }))
}
