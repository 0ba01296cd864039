//! The dispatcher: one SQS message = one delivery attempt. Claims the attempt (conditional
//! update, so duplicate messages never double-send), signs, POSTs, records the result and
//! schedules the next attempt. Messages of a batch run concurrently, each bounded by the 15 s
//! attempt timeout, so a slow endpoint never holds up another partner's deliveries.

use super::event::{delay_before, EventType};
use super::queue::{DispatchMessage, DispatchQueue};
use super::sender::{AttemptResult, WebhookSender};
use super::signing::signature_header;
use super::{AttemptRecord, DeliveryStatus, WebhookStore};
use crate::ports::Clock;
use crate::ports::StoreError;
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use chrono::Duration;
use serde::Serialize;
use std::sync::Arc;

/// An attempt in flight is due again (for the sweep) after this long: the 15 s attempt
/// timeout plus margin.
pub const ATTEMPT_LEASE_SECS: i64 = 60;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handled {
    Delivered,
    /// Failed this attempt; the next one is scheduled.
    Retrying,
    /// Last attempt failed, or 410 Gone (endpoint disabled). Kept for replay.
    Failed,
    /// No endpoint / disabled / not subscribed.
    Skipped,
    /// Not due yet: re-delayed (SQS delays are at most 15 min).
    Delayed,
    /// The delivery moved on or is final: a duplicate or stale message.
    Stale,
    /// Malformed message or unknown event.
    Dropped,
}

#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct SweepReport {
    pub requeued: u32,
    pub errors: u32,
}

pub struct Dispatcher {
    pub store: Arc<dyn WebhookStore>,
    pub queue: Arc<dyn DispatchQueue>,
    pub sender: Arc<dyn WebhookSender>,
    pub clock: Arc<dyn Clock>,
}

impl Dispatcher {
    pub async fn process(&self, msg: &DispatchMessage) -> Result<Handled, StoreError> {
        let (customer, event_id) = (msg.customer_id.as_str(), msg.event_id.as_str());
        let Some(delivery) = self.store.get_delivery(customer, event_id).await? else {
            tracing::warn!(
                customer,
                event_id,
                "dispatch message for an unknown event dropped"
            );
            return Ok(Handled::Dropped);
        };
        if delivery.status != DeliveryStatus::Pending || delivery.attempts != msg.attempts {
            return Ok(Handled::Stale);
        }
        let now = self.clock.now();
        if let Some(due) = delivery.next_attempt_at {
            // whole seconds, rounded up (stored times are to the millisecond)
            let wait = ((due - now).num_milliseconds() + 999).div_euclid(1000);
            if wait > 0 {
                if let Err(e) = self.queue.send(msg, wait).await {
                    tracing::warn!(event_id, error = %e, "re-delay failed; the sweep will pick it up");
                }
                return Ok(Handled::Delayed);
            }
        }
        let lease = now + Duration::seconds(ATTEMPT_LEASE_SECS);
        if !self
            .store
            .claim_attempt(customer, event_id, delivery.attempts, lease)
            .await?
        {
            return Ok(Handled::Stale);
        }
        let attempt = delivery.attempts + 1;
        let event_type = delivery.event.event_type;
        let endpoint = self.store.get_endpoint(customer).await?;
        let skip = match &endpoint {
            None => Some("no webhook endpoint configured"),
            Some(ep) if ep.disabled_reason.is_some() => Some("endpoint disabled"),
            Some(ep) if !ep.wants(event_type) => Some("endpoint not subscribed to this event"),
            Some(_) => None,
        };
        let (Some(endpoint), None) = (endpoint, skip) else {
            let reason = skip.unwrap_or_default();
            self.record(msg, attempt, DeliveryStatus::Skipped, reason, None)
                .await?;
            return Ok(Handled::Skipped);
        };

        let timestamp = now.timestamp();
        let body = delivery.event.body.as_str();
        let headers = vec![
            ("webhook-id".to_owned(), event_id.to_owned()),
            ("webhook-timestamp".to_owned(), timestamp.to_string()),
            (
                "webhook-signature".to_owned(),
                signature_header(
                    &endpoint.signing_secrets(now),
                    event_id,
                    timestamp,
                    body.as_bytes(),
                ),
            ),
        ];
        let result = self.sender.post(&endpoint.url, &headers, body).await;
        let described = result.describe();
        tracing::info!(customer, event_id, event_type = event_type.as_str(), attempt, result = %described, "webhook attempt");
        match result {
            AttemptResult::Status(code) if (200..300).contains(&code) => {
                self.record(msg, attempt, DeliveryStatus::Delivered, &described, None)
                    .await?;
                Ok(Handled::Delivered)
            }
            AttemptResult::Status(410) => {
                let at = self.clock.now();
                self.store
                    .disable_endpoint(customer, "endpoint answered 410 Gone", at)
                    .await?;
                tracing::warn!(customer, "webhook endpoint answered 410 Gone: disabled");
                self.record(
                    msg,
                    attempt,
                    DeliveryStatus::Failed,
                    "HTTP 410 (endpoint disabled)",
                    None,
                )
                .await?;
                Ok(Handled::Failed)
            }
            _ => match delay_before(attempt + 1) {
                Some(wait) => {
                    let next = self.clock.now() + wait;
                    self.record(
                        msg,
                        attempt,
                        DeliveryStatus::Pending,
                        &described,
                        Some(next),
                    )
                    .await?;
                    let next_msg = DispatchMessage {
                        attempts: attempt,
                        ..msg.clone()
                    };
                    if let Err(e) = self.queue.send(&next_msg, wait.num_seconds()).await {
                        tracing::warn!(event_id, error = %e, "scheduling the retry failed; the sweep will pick it up");
                    }
                    Ok(Handled::Retrying)
                }
                None => {
                    tracing::error!(
                        customer,
                        event_id,
                        "webhook delivery failed after the last attempt"
                    );
                    crate::telemetry::emit_metric("WebhookDeliveriesFailed", 1.0, "Count");
                    self.record(msg, attempt, DeliveryStatus::Failed, &described, None)
                        .await?;
                    Ok(Handled::Failed)
                }
            },
        }
    }

    async fn record(
        &self,
        msg: &DispatchMessage,
        attempt: u32,
        status: DeliveryStatus,
        result: &str,
        next_attempt_at: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<(), StoreError> {
        let record = AttemptRecord {
            status,
            result: result.to_owned(),
            at: self.clock.now(),
            next_attempt_at,
        };
        self.store
            .record_attempt(&msg.customer_id, &msg.event_id, attempt, &record)
            .await
    }

    /// Enqueue a delivery now (after a ping or a replay was written).
    pub async fn enqueue(&self, customer_id: &str, event_id: &str) -> Result<(), StoreError> {
        let msg = DispatchMessage {
            customer_id: customer_id.to_owned(),
            event_id: event_id.to_owned(),
            attempts: 0,
        };
        self.queue
            .send(&msg, 0)
            .await
            .map_err(|e| StoreError::Unavailable(e.to_string()))
    }

    /// Scheduled: re-enqueue every PENDING delivery that is due (its message was lost, its
    /// wait was longer than SQS's 15-minute delay, or the writer died before notifying).
    pub async fn sweep(&self, limit: i32) -> Result<SweepReport, StoreError> {
        let mut report = SweepReport::default();
        for due in self.store.due(self.clock.now(), limit).await? {
            let msg = DispatchMessage {
                customer_id: due.customer_id,
                event_id: due.event_id,
                attempts: due.attempts,
            };
            match self.queue.send(&msg, 0).await {
                Ok(()) => report.requeued += 1,
                Err(e) => {
                    report.errors += 1;
                    tracing::error!(event_id = %msg.event_id, error = %e, "sweep re-enqueue failed");
                }
            }
        }
        Ok(report)
    }

    /// A batch of dispatch messages, run concurrently; a store error or panic fails only its
    /// own message (`batchItemFailures`); malformed messages are dropped.
    pub async fn handle_batch(&self, event: SqsEvent) -> SqsBatchResponse {
        crate::jobs::batch::each_record(event, "dispatch", |body| async move {
            let Ok(msg) = serde_json::from_str::<DispatchMessage>(&body) else {
                tracing::error!("malformed dispatch message dropped");
                return Ok(());
            };
            self.process(&msg).await.map(|_| ())
        })
        .await
    }
}

/// Parse `--events a,b` for ops: every name must be a known event type.
pub fn parse_event_list(text: &str) -> Result<Vec<EventType>, String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| EventType::parse(s).ok_or_else(|| format!("unknown event type {s}")))
        .collect()
}
