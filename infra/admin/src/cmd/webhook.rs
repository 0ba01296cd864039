//! `webhook …`: a partner's webhook endpoint (Standard Webhooks).
//!
//! The signing secret (`whsec_…`) is printed once, by `set` (new endpoint) and
//! `rotate-secret`, and never again. It is stored (not hashed) in the endpoint item because
//! the dispatcher must sign with it: an HMAC key cannot be recovered from a hash. The
//! `balance.low` threshold is `partner set ID --low-balance-threshold-usd N`.

use crate::ctx::Ctx;
use anyhow::{bail, Context};
use clap::Subcommand;
use relier::ops::AuditRecord;
use relier::ports::{AccountReader, Clock};
use relier::webhooks::dispatch::{parse_event_list, Dispatcher};
use relier::webhooks::{ssrf, Endpoint, OutboxEvent, WebhookReader, WebhookStore};
use std::sync::Arc;

#[derive(Subcommand)]
pub enum WebhookCmd {
    /// Set (or change) the endpoint; prints the signing secret once for a new endpoint.
    Set {
        customer_id: String,
        /// https only with MODE=PRODUCTION (never a private/loopback/metadata address)
        #[arg(long)]
        url: String,
        /// Comma-separated: topup.succeeded,topup.failed,balance.low,balance.credited (default: all)
        #[arg(long)]
        events: Option<String>,
    },
    /// New signing secret (printed once); the previous one also signs for 24 h.
    RotateSecret { customer_id: String },
    /// Send a `ping` event.
    Test { customer_id: String },
    /// The latest 50 events: type, status, attempts, last result, next attempt.
    Deliveries { customer_id: String },
    /// Send an event again (same webhook-id), e.g. a FAILED one after the endpoint is fixed.
    Replay {
        customer_id: String,
        event_id: String,
    },
}

fn dispatcher(ctx: &Ctx) -> anyhow::Result<Dispatcher> {
    let url = ctx
        .config
        .webhook_queue_url
        .clone()
        .context("WEBHOOK_QUEUE_URL is required")?;
    Ok(Dispatcher {
        store: Arc::new(ctx.store.clone()),
        queue: Arc::new(relier::webhooks::queue::SqsDispatchQueue::new(
            aws_sdk_sqs::Client::new(&ctx.sdk),
            url,
        )),
        sender: Arc::new(relier::webhooks::sender::HttpSender::new(ctx.config.mode)),
        clock: Arc::new(relier::adapters::clock::SystemClock),
    })
}

/// The audit record of a configuration change (written with it, in one transaction); the
/// views never carry a secret.
async fn audit(
    ctx: &Ctx,
    customer: &str,
    action: &str,
    before: Option<&Endpoint>,
    after: &Endpoint,
) -> anyhow::Result<AuditRecord> {
    Ok(AuditRecord::new(
        customer,
        &ctx.actor().await?,
        action,
        before.map_or(serde_json::Value::Null, Endpoint::audit_view),
        after.audit_view(),
        after.updated_at,
    ))
}

pub async fn run(ctx: &Ctx, cmd: WebhookCmd) -> anyhow::Result<()> {
    let store = &ctx.store;
    let now = relier::adapters::clock::SystemClock.now();
    match cmd {
        WebhookCmd::Set {
            customer_id,
            url,
            events,
        } => {
            ssrf::check_url(&url, ctx.config.mode).map_err(anyhow::Error::msg)?;
            let events = events
                .as_deref()
                .map(parse_event_list)
                .transpose()
                .map_err(anyhow::Error::msg)?;
            let id = relier::domain::CustomerId::parse(&customer_id).map_err(anyhow::Error::msg)?;
            if store.get_account(&id).await?.is_none() {
                bail!("no partner {customer_id}");
            }
            match store.get_endpoint(&customer_id).await? {
                Some(old) => {
                    let mut ep = old.clone();
                    ep.url = url.clone();
                    ep.events = events;
                    ep.disabled_reason = None;
                    ep.updated_at = now;
                    let record = audit(ctx, &customer_id, "webhook.set", Some(&old), &ep).await?;
                    store.put_endpoint_audited(&ep, &record).await?;
                    println!("webhook endpoint of {customer_id} updated (enabled): {url}");
                    println!("signing secret unchanged (`webhook rotate-secret {customer_id}` replaces it)");
                }
                None => {
                    let (ep, secret) = Endpoint::new(&customer_id, &url, events, now);
                    let record = audit(ctx, &customer_id, "webhook.set", None, &ep).await?;
                    store.put_endpoint_audited(&ep, &record).await?;
                    println!("webhook endpoint of {customer_id} set: {url}");
                    println!(
                        "signing secret (shown once, give it to the partner): {}",
                        secret.expose()
                    );
                }
            }
        }
        WebhookCmd::RotateSecret { customer_id } => {
            let old = store
                .get_endpoint(&customer_id)
                .await?
                .with_context(|| format!("{customer_id} has no webhook endpoint"))?;
            let mut ep = old.clone();
            let secret = ep.rotate(now);
            let record = audit(ctx, &customer_id, "webhook.rotate_secret", Some(&old), &ep).await?;
            store.put_endpoint_audited(&ep, &record).await?;
            println!("new signing secret (shown once): {}", secret.expose());
            println!("the previous secret also signs for 24 h (webhook-signature carries both)");
        }
        WebhookCmd::Test { customer_id } => {
            let dispatcher = dispatcher(ctx)?;
            if store.get_endpoint(&customer_id).await?.is_none() {
                bail!("{customer_id} has no webhook endpoint");
            }
            let event = OutboxEvent::ping(&customer_id, now);
            store.insert_event(&event).await?;
            dispatcher.enqueue(&customer_id, &event.id).await?;
            println!(
                "ping {} queued; `relier-admin webhook deliveries {customer_id}` shows the result",
                event.id
            );
        }
        WebhookCmd::Deliveries { customer_id } => {
            println!(
                "{:<32} {:<17} {:<10} {:>8}  {:<24} {:<20} next attempt",
                "event", "type", "status", "attempts", "created", "last result"
            );
            for d in store.list_deliveries(&customer_id, 50).await? {
                println!(
                    "{:<32} {:<17} {:<10} {:>8}  {:<24} {:<20} {}",
                    d.event.id,
                    d.event.event_type.as_str(),
                    d.status.as_str(),
                    d.attempts,
                    relier::api::json::timestamp(d.event.created_at),
                    d.last_result.as_deref().unwrap_or("-"),
                    d.next_attempt_at
                        .map(relier::api::json::timestamp)
                        .unwrap_or_else(|| "-".into())
                );
            }
        }
        WebhookCmd::Replay {
            customer_id,
            event_id,
        } => {
            let dispatcher = dispatcher(ctx)?;
            if store.get_delivery(&customer_id, &event_id).await?.is_none() {
                bail!("no event {event_id} for {customer_id}");
            }
            if !store.reset_delivery(&customer_id, &event_id, now).await? {
                bail!("{event_id} is still being delivered (PENDING); nothing to replay");
            }
            dispatcher.enqueue(&customer_id, &event_id).await?;
            println!("{event_id} queued again (same webhook-id, attempts from 0)");
        }
    }
    Ok(())
}
