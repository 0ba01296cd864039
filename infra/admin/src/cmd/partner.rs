//! `partner create | show | list | set | disable | enable`. With a usage plan (`--usage-plan-id`
//! or `--stack`) `create` also registers the first key with API Gateway.

use super::{fail, now};
use crate::ctx::Ctx;
use clap::{Args, Subcommand};
use relier::ops::partners::{self, commission_from_percent, NewPartner};
use relier::ops::ports::{AdminStore, PartnerSettings};
use rust_decimal::Decimal;
use std::str::FromStr;

#[derive(Subcommand)]
pub enum PartnerCmd {
    /// Create a partner (balance 0; fund it with `credit`). Prints its first API key, once.
    Create(CreateArgs),
    /// Settings, balance and key count of one partner.
    Show {
        customer_id: String,
    },
    /// Every partner, one line each.
    List,
    /// Change settings (limits, commission, low-balance threshold ...). `none` removes a limit.
    Set(SetArgs),
    /// Refuse every request of the partner (401) until `enable`.
    Disable {
        customer_id: String,
    },
    Enable {
        customer_id: String,
    },
}

fn decimal(raw: &str) -> Result<Decimal, String> {
    Decimal::from_str(raw.trim()).map_err(|_| format!("{raw:?} is not a decimal number"))
}

/// A limit that may be removed: a number, or `none`.
#[derive(Clone, Debug)]
pub struct Limit(pub Option<Decimal>);

fn limit(raw: &str) -> Result<Limit, String> {
    if raw.eq_ignore_ascii_case("none") {
        Ok(Limit(None))
    } else {
        decimal(raw).map(|d| Limit(Some(d)))
    }
}

#[derive(Args)]
pub struct CreateArgs {
    #[arg(long)]
    pub customer_id: String,
    #[arg(long)]
    pub company: String,
    /// Credit line shown by /api/balance, USD.
    #[arg(long, value_parser = decimal, default_value = "0")]
    pub credit_limit: Decimal,
    /// How far below zero the balance may go, USD (0 = strictly prepaid).
    #[arg(long, value_parser = decimal, default_value = "0")]
    pub overdraft_usd: Decimal,
    /// Commission in percent (5 = 5 % off the USD price).
    #[arg(long, value_parser = decimal, default_value = "0")]
    pub commission: Decimal,
    #[arg(long, value_parser = decimal)]
    pub daily_limit_mxn: Option<Decimal>,
    #[arg(long, value_parser = decimal)]
    pub daily_limit_per_phone_mxn: Option<Decimal>,
    /// Accepted top-ups per minute (the guides promise 200; 0 = unlimited).
    #[arg(long, default_value_t = 200)]
    pub max_topups_per_minute: u32,
}

#[derive(Args)]
pub struct SetArgs {
    pub customer_id: String,
    #[arg(long)]
    pub company: Option<String>,
    #[arg(long, value_parser = decimal)]
    pub credit_limit: Option<Decimal>,
    #[arg(long, value_parser = decimal)]
    pub overdraft_usd: Option<Decimal>,
    /// Percent.
    #[arg(long, value_parser = decimal)]
    pub commission: Option<Decimal>,
    /// MXN per UTC day, or `none`.
    #[arg(long, value_parser = limit)]
    pub daily_limit_mxn: Option<Limit>,
    /// MXN per end-user phone per UTC day, or `none`.
    #[arg(long, value_parser = limit)]
    pub daily_limit_per_phone_mxn: Option<Limit>,
    /// Accepted top-ups per minute, or `none` (0 = none).
    #[arg(long, value_parser = limit)]
    pub max_topups_per_minute: Option<Limit>,
    /// USD, or `none` (`balance.low` fires when a debit crosses it; default 1,000).
    #[arg(long, visible_alias = "low-balance-usd", value_parser = limit)]
    pub low_balance_threshold_usd: Option<Limit>,
    /// Requests per 15-minute window on the partner routes, or `none` (the guides' 300).
    #[arg(long, value_parser = limit)]
    pub max_requests_per_15min: Option<Limit>,
    /// Allow only this source address or CIDR block (repeat for several; replaces the list).
    #[arg(long = "allow-ip", value_name = "CIDR")]
    pub allow_ip: Vec<String>,
    /// Remove the IP allowlist (any address may call).
    #[arg(long, conflicts_with = "allow_ip")]
    pub clear_allow_ip: bool,
}

fn whole(l: Limit, flag: &str) -> anyhow::Result<Option<u32>> {
    match l.0 {
        None => Ok(None),
        Some(d) => d
            .normalize()
            .to_string()
            .parse::<u32>()
            .map(Some)
            .map_err(|_| anyhow::anyhow!("{flag} must be a whole number")),
    }
}

fn per_minute(l: Limit) -> anyhow::Result<Option<u32>> {
    match l.0 {
        None => Ok(None),
        Some(d) if d.is_zero() => Ok(None),
        Some(d) => d
            .normalize()
            .to_string()
            .parse::<u32>()
            .map(Some)
            .map_err(|_| anyhow::anyhow!("--max-topups-per-minute must be a whole number")),
    }
}

impl SetArgs {
    fn settings(self) -> anyhow::Result<PartnerSettings> {
        Ok(PartnerSettings {
            company_name: self.company,
            credit_limit: self.credit_limit,
            overdraft_usd: self.overdraft_usd,
            commission: self
                .commission
                .map(commission_from_percent)
                .transpose()
                .map_err(fail)?,
            daily_limit_mxn: self.daily_limit_mxn.map(|l| l.0),
            daily_limit_per_phone_mxn: self.daily_limit_per_phone_mxn.map(|l| l.0),
            max_topups_per_minute: self.max_topups_per_minute.map(per_minute).transpose()?,
            low_balance_threshold_usd: self.low_balance_threshold_usd.map(|l| l.0),
            max_requests_per_15min: self
                .max_requests_per_15min
                .map(|l| whole(l, "--max-requests-per-15min"))
                .transpose()?,
            allowed_ips: if self.clear_allow_ip {
                Some(Vec::new())
            } else if self.allow_ip.is_empty() {
                None
            } else {
                Some(self.allow_ip.iter().map(|c| c.trim().to_owned()).collect())
            },
            active: None,
        })
    }
}

pub async fn run(ctx: &Ctx, cmd: PartnerCmd) -> anyhow::Result<()> {
    match cmd {
        PartnerCmd::Create(a) => {
            let actor = ctx.actor().await?;
            // Resolved first: a missing usage plan refuses before anything is stored.
            let gateway = ctx.gateway()?;
            if let Some((gw, plan)) = &gateway {
                relier::ops::gateway::check_plan(gw, plan)
                    .await
                    .map_err(fail)?;
            }
            let created = partners::create(
                &ctx.store,
                &actor,
                NewPartner {
                    customer_id: a.customer_id,
                    company_name: a.company,
                    credit_limit: a.credit_limit,
                    overdraft_usd: a.overdraft_usd,
                    commission_percent: a.commission,
                    daily_limit_mxn: a.daily_limit_mxn,
                    daily_limit_per_phone_mxn: a.daily_limit_per_phone_mxn,
                    max_topups_per_minute: Some(a.max_topups_per_minute),
                },
                now(),
            )
            .await
            .map_err(fail)?;
            println!(
                "created partner {} ({}), balance 0.00 USD",
                created.account.customer_id, created.account.company_name
            );
            println!(
                "API key (shown once, stored only as a hash): {}",
                created.api_key
            );
            match gateway {
                None => println!("not registered with API Gateway (no --usage-plan-id / --stack)"),
                Some((gw, plan)) => {
                    let id = created.account.customer_id.as_str();
                    let prefix = relier::ops::secrets::prefix(&created.api_key);
                    let key = relier::ops::gateway::register_first_key(
                        &gw,
                        &plan,
                        id,
                        &created.api_key,
                        &prefix,
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
        PartnerCmd::Show { customer_id } => {
            let p = partners::get(&ctx.store, &customer_id)
                .await
                .map_err(fail)?;
            println!(
                "{}",
                serde_json::to_string_pretty(&partners::show_view(&p))?
            );
        }
        PartnerCmd::List => {
            let all = ctx.store.list_partners().await?;
            println!(
                "{:<24} {:<9} {:>14} {:>5}  company",
                "customer_id", "status", "balance_usd", "keys"
            );
            for p in &all {
                let a = &p.account;
                println!(
                    "{:<24} {:<9} {:>14} {:>5}  {}",
                    a.customer_id.as_str(),
                    if a.active { "ACTIVE" } else { "DISABLED" },
                    format!("{:.2}", a.balance),
                    a.api_key_hashes.len(),
                    a.company_name
                );
            }
            println!("{} partner(s)", all.len());
        }
        PartnerCmd::Set(a) => {
            let actor = ctx.actor().await?;
            let id = a.customer_id.clone();
            let after = partners::set(&ctx.store, &actor, &id, a.settings()?, "partner.set", now())
                .await
                .map_err(fail)?;
            println!("updated partner {id}:");
            println!(
                "{}",
                serde_json::to_string_pretty(&partners::settings_view(&after))?
            );
        }
        PartnerCmd::Disable { customer_id } => toggle(ctx, &customer_id, false).await?,
        PartnerCmd::Enable { customer_id } => toggle(ctx, &customer_id, true).await?,
    }
    Ok(())
}

async fn toggle(ctx: &Ctx, customer_id: &str, active: bool) -> anyhow::Result<()> {
    let actor = ctx.actor().await?;
    let settings = PartnerSettings {
        active: Some(active),
        ..PartnerSettings::default()
    };
    let action = if active {
        "partner.enable"
    } else {
        "partner.disable"
    };
    partners::set(&ctx.store, &actor, customer_id, settings, action, now())
        .await
        .map_err(fail)?;
    println!(
        "partner {customer_id} {}",
        if active {
            "enabled"
        } else {
            "disabled: every request is now 401"
        }
    );
    Ok(())
}
