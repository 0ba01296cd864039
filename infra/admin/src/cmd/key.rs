//! `key add ID`, `key list ID`, `key revoke ID PREFIX`: rotation without downtime (add, move
//! the partner to the new key, revoke the old). With a usage plan (`--usage-plan-id` or
//! `--stack`), add / revoke also create / delete the API Gateway key (relier::ops::gateway has
//! the order of the steps and what a partial failure leaves).

use super::{fail, now};
use crate::ctx::Ctx;
use clap::Subcommand;
use relier::ops::{gateway, keys};

#[derive(Subcommand)]
pub enum KeyCmd {
    /// A new active API key, printed once; the partner's other keys keep working. With a usage
    /// plan it is also created at API Gateway and attached to the plan.
    Add { customer_id: String },
    /// Active keys: prefix, created, by whom, last used (to within 15 minutes).
    List { customer_id: String },
    /// Revoke the key starting with PREFIX (≥ 8 characters); it is 401 from then on. With a
    /// usage plan its API Gateway key is deleted too.
    Revoke { customer_id: String, prefix: String },
}

fn show_key(customer_id: &str) -> impl FnMut(&str, &relier::ops::ports::KeyRecord) + Send + '_ {
    move |secret, record| {
        println!("added API key {} to {customer_id}", record.prefix);
        println!("API key (shown once, stored only as a hash): {secret}");
    }
}

pub async fn run(ctx: &Ctx, cmd: KeyCmd) -> anyhow::Result<()> {
    match cmd {
        KeyCmd::Add { customer_id } => {
            let actor = ctx.actor().await?;
            match ctx.gateway()? {
                None => {
                    let (secret, record) =
                        keys::add_api_key(&ctx.store, &actor, &customer_id, now())
                            .await
                            .map_err(fail)?;
                    show_key(&customer_id)(&secret, &record);
                    println!("not registered with API Gateway (no --usage-plan-id / --stack)");
                }
                Some((gw, plan)) => {
                    let (_, key) = gateway::add_api_key(
                        &ctx.store,
                        &gw,
                        &plan,
                        &actor,
                        &customer_id,
                        now(),
                        &mut show_key(&customer_id),
                    )
                    .await
                    .map_err(fail)?;
                    println!(
                        "created API Gateway key {} ({}) in usage plan {plan}",
                        key.id, key.name
                    );
                }
            }
        }
        KeyCmd::List { customer_id } => {
            let list = keys::list_api_keys(&ctx.store, &ctx.store, &customer_id)
                .await
                .map_err(fail)?;
            println!(
                "{:<14} {:<14} {:<26} {:<26} created_by",
                "prefix", "sha256", "created_at", "last_used"
            );
            let time = |t: Option<chrono::DateTime<chrono::Utc>>| {
                t.map(relier::api::json::timestamp).unwrap_or_default()
            };
            for k in &list {
                println!(
                    "{:<14} {:<14} {:<26} {:<26} {}",
                    k.prefix.as_deref().unwrap_or("(fixture)"),
                    k.hash_prefix,
                    time(k.created_at),
                    k.last_used
                        .map(relier::api::json::timestamp)
                        .unwrap_or_else(|| "never".into()),
                    k.created_by.as_deref().unwrap_or("")
                );
            }
            println!(
                "{} active key(s); last_used is the key's first request in each 15-minute window",
                list.len()
            );
        }
        KeyCmd::Revoke {
            customer_id,
            prefix,
        } => {
            let actor = ctx.actor().await?;
            match ctx.gateway()? {
                None => {
                    let revoked =
                        keys::revoke_api_key(&ctx.store, &actor, &customer_id, &prefix, now())
                            .await
                            .map_err(fail)?;
                    println!(
                        "revoked key {revoked} of {customer_id}: it is refused (401) from now on"
                    );
                }
                Some((gw, _)) => {
                    let done = gateway::revoke_api_key(
                        &ctx.store,
                        &ctx.store,
                        &gw,
                        &actor,
                        &customer_id,
                        &prefix,
                        now(),
                    )
                    .await
                    .map_err(fail)?;
                    match &done.prefix {
                        Some(p) => println!(
                            "revoked key {p} of {customer_id}: it is refused (401) from now on"
                        ),
                        None => println!("key {prefix} of {customer_id} was already revoked"),
                    }
                    if done.gateway_keys.is_empty() {
                        println!("no API Gateway key of it found (nothing to delete there)");
                    }
                    for k in &done.gateway_keys {
                        println!("deleted API Gateway key {} ({})", k.id, k.name);
                    }
                }
            }
        }
    }
    Ok(())
}
