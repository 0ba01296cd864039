//! `audit ID`: the append-only audit trail of a partner (`*`: all-partners keys).

use crate::ctx::Ctx;
use clap::Args;
use relier::ops::ports::AdminStore;

#[derive(Args)]
pub struct AuditArgs {
    /// Customer id, or `*` for actions on all-partners reconcile keys.
    pub customer_id: String,
    /// One JSON object per line instead of the readable form.
    #[arg(long)]
    pub json: bool,
}

pub async fn run(ctx: &Ctx, a: AuditArgs) -> anyhow::Result<()> {
    let records = ctx.store.audit_records(&a.customer_id).await?;
    for r in &records {
        if a.json {
            println!(
                "{}",
                serde_json::json!({
                    "at": relier::api::json::timestamp(r.at), "actor": r.actor, "action": r.action,
                    "customer_id": r.customer_id, "before": r.before, "after": r.after,
                })
            );
        } else {
            println!(
                "{}  {:<22} {}\n    before: {}\n    after:  {}",
                relier::api::json::timestamp(r.at),
                r.action,
                r.actor,
                r.before,
                r.after
            );
        }
    }
    if !a.json {
        println!("{} record(s) for {}", records.len(), a.customer_id);
    }
    Ok(())
}
