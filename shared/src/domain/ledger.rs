//! One ledger line: every balance change of an account is one, in version order.

use rust_decimal::Decimal;

/// One ledger line: each change of an account's balance, in version order.
#[derive(Debug, Clone, PartialEq)]
pub struct LedgerEntry {
    pub customer_id: String,
    pub seq: u64,
    pub transaction_id: String,
    pub kind: String,
    pub delta: Decimal,
    pub balance_before: Decimal,
    pub balance_after: Decimal,
    pub at: String,
}
