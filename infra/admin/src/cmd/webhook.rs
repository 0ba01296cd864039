//! `relier-admin webhook …` and `relier-admin partner set ID --low-balance-usd N`.
//!
//! The signing secret (`whsec_…`) is printed once, by `set` (new endpoint) and
//! `rotate-secret`, and never again. It is stored (not hashed) in the endpoint item because
//! the dispatcher must sign with it: an HMAC key cannot be recovered from a hash.

use anyhow::{bail, Context};
use relier::clock::{Clock, SystemClock};
use relier::config::Mode;
use relier::store::dynamo::DynamoStore;
use relier::webhooks::dispatch::{parse_event_list, Dispatcher};
use relier::webhooks::{ssrf, Endpoint, OutboxEvent, WebhookStore};
use rust_decimal::Decimal;
use std::str::FromStr;

pub const USAGE: &str = "\
relier-admin webhook set ID --url URL [--events topup.succeeded,topup.failed,balance.low,balance.credited]
relier-admin webhook rotate-secret ID
relier-admin webhook test ID
relier-admin webhook deliveries ID
relier-admin webhook replay ID EVENT_ID
relier-admin partner set ID --low-balance-usd N";

/// `--name value` from `args`.
fn flag<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
}

fn positional(args: &[String], i: usize, what: &str) -> anyhow::Result<String> {
    args.get(i)
        .filter(|a| !a.starts_with("--"))
        .cloned()
        .with_context(|| format!("missing {what}\nusage:\n{USAGE}"))
}

pub async fn webhook(
    args: &[String],
    store: &DynamoStore,
    dispatcher: Option<&Dispatcher>,
    mode: Mode,
) -> anyhow::Result<()> {
    let now = SystemClock.now();
    let sub = args.first().map(String::as_str).unwrap_or_default();
    let customer = positional(args, 1, "partner ID")?;
    match sub {
        "set" => {
            let url = flag(args, "--url").with_context(|| format!("--url is required\n{USAGE}"))?;
            ssrf::check_url(url, mode).map_err(anyhow::Error::msg)?;
            let events = flag(args, "--events")
                .map(parse_event_list)
                .transpose()
                .map_err(anyhow::Error::msg)?;
            use relier::store::AccountReader;
            let id = relier::domain::CustomerId::parse(&customer).map_err(anyhow::Error::msg)?;
            if store.get_account(&id).await?.is_none() {
                bail!("no partner {customer}");
            }
            match store.get_endpoint(&customer).await? {
                Some(mut ep) => {
                    ep.url = url.to_owned();
                    ep.events = events;
                    ep.disabled_reason = None;
                    ep.updated_at = now;
                    store.put_endpoint(&ep).await?;
                    println!("webhook endpoint of {customer} updated (enabled): {url}");
                    println!("signing secret unchanged (relier-admin webhook rotate-secret {customer} to replace it)");
                }
                None => {
                    let (ep, secret) = Endpoint::new(&customer, url, events, now);
                    store.put_endpoint(&ep).await?;
                    println!("webhook endpoint of {customer} set: {url}");
                    println!(
                        "signing secret (shown once, give it to the partner): {}",
                        secret.expose()
                    );
                }
            }
        }
        "rotate-secret" => {
            let mut ep = store
                .get_endpoint(&customer)
                .await?
                .with_context(|| format!("{customer} has no webhook endpoint"))?;
            let secret = ep.rotate(now);
            store.put_endpoint(&ep).await?;
            println!("new signing secret (shown once): {}", secret.expose());
            println!("the previous secret also signs for 24 h (webhook-signature carries both)");
        }
        "test" => {
            let dispatcher = dispatcher.context("WEBHOOK_QUEUE_URL is required")?;
            if store.get_endpoint(&customer).await?.is_none() {
                bail!("{customer} has no webhook endpoint");
            }
            let event = OutboxEvent::ping(&customer, now);
            store.insert_event(&event).await?;
            dispatcher.enqueue(&customer, &event.id).await?;
            println!(
                "ping {} queued; `relier-admin webhook deliveries {customer}` shows the result",
                event.id
            );
        }
        "deliveries" => {
            println!(
                "{:<32} {:<17} {:<10} {:>8}  {:<24} {:<20} next attempt",
                "event", "type", "status", "attempts", "created", "last result"
            );
            for d in store.list_deliveries(&customer, 50).await? {
                println!(
                    "{:<32} {:<17} {:<10} {:>8}  {:<24} {:<20} {}",
                    d.event.id,
                    d.event.event_type.as_str(),
                    d.status.as_str(),
                    d.attempts,
                    relier::json::timestamp(d.event.created_at),
                    d.last_result.as_deref().unwrap_or("-"),
                    d.next_attempt_at
                        .map(relier::json::timestamp)
                        .unwrap_or_else(|| "-".into())
                );
            }
        }
        "replay" => {
            let dispatcher = dispatcher.context("WEBHOOK_QUEUE_URL is required")?;
            let event_id = positional(args, 2, "EVENT_ID")?;
            if store.get_delivery(&customer, &event_id).await?.is_none() {
                bail!("no event {event_id} for {customer}");
            }
            if !store.reset_delivery(&customer, &event_id, now).await? {
                bail!("{event_id} is still being delivered (PENDING); nothing to replay");
            }
            dispatcher.enqueue(&customer, &event_id).await?;
            println!("{event_id} queued again (same webhook-id, attempts from 0)");
        }
        _ => bail!("usage:\n{USAGE}"),
    }
    Ok(())
}

/// `partner set ID --low-balance-usd N`.
pub async fn partner(args: &[String], store: &DynamoStore) -> anyhow::Result<()> {
    if args.first().map(String::as_str) != Some("set") {
        bail!("usage:\n{USAGE}");
    }
    let customer = positional(args, 1, "partner ID")?;
    let Some(text) = flag(args, "--low-balance-usd") else {
        bail!("usage:\n{USAGE}");
    };
    let threshold = Decimal::from_str(text)
        .ok()
        .filter(|d| *d >= Decimal::ZERO && d.scale() <= 2)
        .context("--low-balance-usd must be a non-negative amount in USD (at most 2 decimals)")?;
    if !store
        .set_low_balance_threshold(&customer, threshold)
        .await?
    {
        bail!("no partner {customer}");
    }
    println!("{customer}: balance.low threshold {threshold} USD");
    Ok(())
}
