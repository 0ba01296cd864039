//! The ledger check: for every account, opening balance + Σ ledger deltas == balance, the
//! sequence has no gaps, each line's before/after chain is exact, and no balance went below
//! what the account allows.

use crate::domain::Account;
use crate::ports::{LedgerAudit, StoreError};
use rust_decimal::Decimal;

#[derive(Debug, Clone, PartialEq)]
pub struct LedgerReport {
    pub customer_id: String,
    pub entries: usize,
    pub balance: Decimal,
    pub problems: Vec<String>,
}

impl LedgerReport {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

pub async fn check_account(
    store: &dyn LedgerAudit,
    account: &Account,
) -> Result<LedgerReport, StoreError> {
    let customer = account.customer_id.as_str();
    let entries = store.ledger_entries(customer).await?;
    let mut problems = Vec::new();
    let mut running = account.opening_balance;
    let mut expected_seq = 1;
    for e in &entries {
        if e.seq != expected_seq {
            problems.push(format!(
                "sequence gap: expected {expected_seq}, found {}",
                e.seq
            ));
        }
        expected_seq = e.seq + 1;
        if e.balance_before != running {
            problems.push(format!(
                "seq {}: balance_before {} but running balance is {}",
                e.seq, e.balance_before, running
            ));
        }
        if e.balance_before + e.delta != e.balance_after {
            problems.push(format!("seq {}: before + delta != after", e.seq));
        }
        if e.balance_after < -account.overdraft_usd {
            problems.push(format!(
                "seq {}: balance {} below the allowed minimum",
                e.seq, e.balance_after
            ));
        }
        running += e.delta;
    }
    if running != account.balance {
        problems.push(format!(
            "opening {} + ledger = {} but balance is {}",
            account.opening_balance, running, account.balance
        ));
    }
    if account.version != entries.last().map(|e| e.seq).unwrap_or(0) {
        problems.push(format!(
            "account version {} does not match the last ledger sequence",
            account.version
        ));
    }
    Ok(LedgerReport {
        customer_id: customer.to_owned(),
        entries: entries.len(),
        balance: account.balance,
        problems,
    })
}

/// Check every account (admin: scans the accounts).
pub async fn check_all(store: &dyn LedgerAudit) -> Result<Vec<LedgerReport>, StoreError> {
    let mut reports = Vec::new();
    for account in store.list_accounts().await? {
        reports.push(check_account(store, &account).await?);
    }
    Ok(reports)
}
