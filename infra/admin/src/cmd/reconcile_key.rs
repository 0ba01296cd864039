//! `reconcile-key add ID | --all-partners`, `list`, `revoke ID PREFIX`.

use super::{fail, now};
use crate::ctx::Ctx;
use anyhow::bail;
use clap::Subcommand;
use relier::ops::keys;
use relier::ops::ports::{AdminStore, ReconcileScope};

#[derive(Subcommand)]
pub enum ReconcileKeyCmd {
    /// A new export key (printed once) for one partner, or for every partner (ops).
    Add {
        customer_id: Option<String>,
        #[arg(long, conflicts_with = "customer_id")]
        all_partners: bool,
    },
    /// Active reconcile keys of a partner (or `--all-partners`).
    List {
        customer_id: Option<String>,
        #[arg(long, conflicts_with = "customer_id")]
        all_partners: bool,
    },
    /// Revoke the key starting with PREFIX (`*` as ID for an all-partners key).
    Revoke { customer_id: String, prefix: String },
}

fn scope(customer_id: Option<String>, all: bool) -> anyhow::Result<ReconcileScope> {
    match (customer_id, all) {
        (_, true) => Ok(ReconcileScope::AllPartners),
        (Some(id), false) => ReconcileScope::parse(&id).map_err(|e| anyhow::anyhow!("{e}")),
        (None, false) => bail!("give a customer id or --all-partners"),
    }
}

pub async fn run(ctx: &Ctx, cmd: ReconcileKeyCmd) -> anyhow::Result<()> {
    match cmd {
        ReconcileKeyCmd::Add {
            customer_id,
            all_partners,
        } => {
            let scope = scope(customer_id, all_partners)?;
            let actor = ctx.actor().await?;
            let (secret, key) = keys::add_reconcile_key(&ctx.store, &actor, scope, now())
                .await
                .map_err(fail)?;
            println!(
                "added reconcile key {} for {}",
                key.key.prefix,
                if key.scope == ReconcileScope::AllPartners {
                    "all partners"
                } else {
                    key.scope.as_str()
                }
            );
            println!("x-reconcile-key (shown once, stored only as a hash): {secret}");
        }
        ReconcileKeyCmd::List {
            customer_id,
            all_partners,
        } => {
            let scope = scope(customer_id, all_partners)?;
            let list = ctx.store.reconcile_keys(&scope).await?;
            for k in &list {
                println!(
                    "{:<14} {:<26} {}",
                    k.key.prefix,
                    relier::api::json::timestamp(k.key.created_at),
                    k.key.created_by
                );
            }
            println!("{} active reconcile key(s)", list.len());
        }
        ReconcileKeyCmd::Revoke {
            customer_id,
            prefix,
        } => {
            let scope = ReconcileScope::parse(&customer_id).map_err(|e| anyhow::anyhow!("{e}"))?;
            let actor = ctx.actor().await?;
            let revoked = keys::revoke_reconcile_key(&ctx.store, &actor, scope, &prefix, now())
                .await
                .map_err(fail)?;
            println!("revoked reconcile key {revoked} of {customer_id}");
        }
    }
    Ok(())
}
