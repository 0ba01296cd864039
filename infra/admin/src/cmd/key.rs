//! `key add ID`, `key list ID`, `key revoke ID PREFIX`: rotation without downtime (add, move
//! the partner to the new key, revoke the old). In AWS, register a new key with API Gateway's
//! usage plan with `infra/register-partner-key.sh` (see README "Operating Relier").

use super::{fail, now};
use crate::ctx::Ctx;
use clap::Subcommand;
use relier::ops::keys;

#[derive(Subcommand)]
pub enum KeyCmd {
    /// A new active API key, printed once; the partner's other keys keep working.
    Add { customer_id: String },
    /// Active keys: prefix, created, by whom.
    List { customer_id: String },
    /// Revoke the key starting with PREFIX (≥ 8 characters); it is 401 from then on.
    Revoke { customer_id: String, prefix: String },
}

pub async fn run(ctx: &Ctx, cmd: KeyCmd) -> anyhow::Result<()> {
    match cmd {
        KeyCmd::Add { customer_id } => {
            let actor = ctx.actor().await?;
            let (secret, record) = keys::add_api_key(&ctx.store, &actor, &customer_id, now())
                .await
                .map_err(fail)?;
            println!("added API key {} to {customer_id}", record.prefix);
            println!("API key (shown once, stored only as a hash): {secret}");
        }
        KeyCmd::List { customer_id } => {
            let list = keys::list_api_keys(&ctx.store, &customer_id)
                .await
                .map_err(fail)?;
            println!(
                "{:<14} {:<14} {:<26} created_by",
                "prefix", "sha256", "created_at"
            );
            for k in &list {
                println!(
                    "{:<14} {:<14} {:<26} {}",
                    k.prefix.as_deref().unwrap_or("(fixture)"),
                    k.hash_prefix,
                    k.created_at
                        .map(relier::api::json::timestamp)
                        .unwrap_or_default(),
                    k.created_by.as_deref().unwrap_or("")
                );
            }
            println!(
                "{} active key(s); last use is not tracked (see README)",
                list.len()
            );
        }
        KeyCmd::Revoke {
            customer_id,
            prefix,
        } => {
            let actor = ctx.actor().await?;
            let revoked = keys::revoke_api_key(&ctx.store, &actor, &customer_id, &prefix, now())
                .await
                .map_err(fail)?;
            println!("revoked key {revoked} of {customer_id}: it is refused (401) from now on");
        }
    }
    Ok(())
}
