//! Crediting a wire transfer and adjusting a balance: the same versioned conditional write as
//! a top-up's debit (balance + version + ledger line in one transaction), idempotent on the
//! reference, never below the account's floor (`-overdraft_usd`).

use super::ports::{AdminStore, BalanceChange, BalanceChangeKind, BalanceOutcome};
use super::{refused, Actor, OpsError};
use crate::domain::CustomerId;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use std::str::FromStr;

/// Longest reference / note accepted (a wire reference is short; notes are free text).
const MAX_REFERENCE: usize = 200;
const MAX_NOTE: usize = 1000;

/// Parse a USD amount given on the command line: a decimal with at most 2 decimal places.
pub fn parse_usd(raw: &str) -> Result<Decimal, OpsError> {
    let v = Decimal::from_str(raw.trim())
        .map_err(|_| refused(format!("{raw:?} is not an amount in USD (e.g. 1500.00)")))?;
    if v.normalize().scale() > 2 {
        return Err(refused(format!(
            "{raw} has more than 2 decimal places (cents)"
        )));
    }
    Ok(v.round_dp(2))
}

pub struct ChangeRequest<'a> {
    pub customer: &'a str,
    pub kind: BalanceChangeKind,
    pub amount_usd: &'a str,
    pub reference: &'a str,
    pub note: Option<&'a str>,
}

/// What the command reports.
#[derive(Debug, Clone, PartialEq)]
pub enum ChangeDone {
    Applied {
        id: String,
        seq: u64,
        before: Decimal,
        after: Decimal,
    },
    AlreadyApplied {
        id: String,
        seq: u64,
    },
}

pub async fn apply(
    store: &dyn AdminStore,
    actor: &Actor,
    req: ChangeRequest<'_>,
    now: DateTime<Utc>,
) -> Result<ChangeDone, OpsError> {
    let customer_id = CustomerId::parse(req.customer)
        .map_err(|_| refused(format!("no partner {:?}", req.customer)))?;
    let amount = parse_usd(req.amount_usd)?;
    match req.kind {
        BalanceChangeKind::Credit if amount <= Decimal::ZERO => {
            return Err(refused(
                "a credit must be positive (use `adjust` to take money off)",
            ))
        }
        BalanceChangeKind::Adjustment if amount.is_zero() => {
            return Err(refused("an adjustment of 0 changes nothing"))
        }
        _ => {}
    }
    let reference = req.reference.trim();
    if reference.is_empty() || reference.chars().count() > MAX_REFERENCE || reference.contains('\0')
    {
        return Err(refused(format!(
            "reference must be 1-{MAX_REFERENCE} characters"
        )));
    }
    let note = req.note.map(str::trim).filter(|n| !n.is_empty());
    if req.kind == BalanceChangeKind::Adjustment && note.is_none() {
        return Err(refused("an adjustment needs --note saying why"));
    }
    if note.is_some_and(|n| n.chars().count() > MAX_NOTE) {
        return Err(refused(format!(
            "note must be at most {MAX_NOTE} characters"
        )));
    }
    let change = BalanceChange {
        customer_id,
        kind: req.kind,
        amount_usd: amount,
        reference: reference.to_owned(),
        note: note.map(str::to_owned),
        actor: actor.clone(),
        at: now,
    };
    match store.apply_balance_change(&change).await? {
        BalanceOutcome::Applied {
            id,
            seq,
            balance_before,
            balance_after,
        } => Ok(ChangeDone::Applied {
            id: id.as_str().to_owned(),
            seq,
            before: balance_before,
            after: balance_after,
        }),
        BalanceOutcome::AlreadyApplied { id, seq } => Ok(ChangeDone::AlreadyApplied { id, seq }),
        BalanceOutcome::ReferenceConflict { kind, amount_usd } => Err(refused(format!(
            "reference {reference:?} was already used for a {kind} of {amount_usd} USD; nothing changed"
        ))),
        BalanceOutcome::BelowFloor { balance, floor } => Err(refused(format!(
            "{amount:.2} would take the balance {balance:.2} below its floor {floor:.2}; nothing changed"
        ))),
        BalanceOutcome::UnknownPartner => Err(refused(format!("no partner {}", req.customer))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn amounts_are_cents() {
        assert_eq!(parse_usd("1500").unwrap(), dec!(1500));
        assert_eq!(parse_usd("-12.5").unwrap(), dec!(-12.5));
        assert_eq!(parse_usd("0.10").unwrap(), dec!(0.10));
        assert!(parse_usd("1.005").is_err());
        assert!(parse_usd("abc").is_err());
        assert!(parse_usd("1e3").is_err());
    }
}
