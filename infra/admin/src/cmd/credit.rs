//! `credit ID --usd AMOUNT --reference WIRE_REF [--note TEXT]` and
//! `adjust ID --usd ±AMOUNT --reference REF --note TEXT`.

use super::{fail, now};
use crate::ctx::Ctx;
use clap::Args;
use relier::ops::balance::{self, ChangeDone, ChangeRequest};
use relier::ops::ports::BalanceChangeKind;

#[derive(Args)]
pub struct CreditArgs {
    pub customer_id: String,
    /// USD received, e.g. 1500.00
    #[arg(long)]
    pub usd: String,
    /// The wire transfer's reference: running the command again with it changes nothing.
    #[arg(long)]
    pub reference: String,
    #[arg(long)]
    pub note: Option<String>,
}

#[derive(Args)]
pub struct AdjustArgs {
    pub customer_id: String,
    /// Signed USD, e.g. -12.50 (never below the account's floor).
    #[arg(long, allow_hyphen_values = true)]
    pub usd: String,
    #[arg(long)]
    pub reference: String,
    /// Why (required).
    #[arg(long)]
    pub note: String,
}

async fn apply(ctx: &Ctx, kind: BalanceChangeKind, req: ChangeRequest<'_>) -> anyhow::Result<()> {
    let actor = ctx.actor().await?;
    let customer = req.customer.to_owned();
    match balance::apply(&ctx.store, &actor, req, now()).await.map_err(fail)? {
        ChangeDone::Applied {
            id,
            seq,
            before,
            after,
        } => println!(
            "{} {customer}: balance {before:.2} -> {after:.2} USD (ledger line {seq}, id {id})",
            kind.as_str()
        ),
        ChangeDone::AlreadyApplied { id, seq } => println!(
            "already applied: this reference is ledger line {seq} of {customer} (id {id}); nothing changed"
        ),
    }
    Ok(())
}

pub async fn credit(ctx: &Ctx, a: CreditArgs) -> anyhow::Result<()> {
    let req = ChangeRequest {
        customer: &a.customer_id,
        kind: BalanceChangeKind::Credit,
        amount_usd: &a.usd,
        reference: &a.reference,
        note: a.note.as_deref(),
    };
    apply(ctx, BalanceChangeKind::Credit, req).await
}

pub async fn adjust(ctx: &Ctx, a: AdjustArgs) -> anyhow::Result<()> {
    let req = ChangeRequest {
        customer: &a.customer_id,
        kind: BalanceChangeKind::Adjustment,
        amount_usd: &a.usd,
        reference: &a.reference,
        note: Some(&a.note),
    };
    apply(ctx, BalanceChangeKind::Adjustment, req).await
}
