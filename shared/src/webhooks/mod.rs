//! Outbound webhooks (Standard Webhooks): events are written to an outbox in the same
//! DynamoDB transaction as the outcome that causes them, then delivered by the
//! `webhook-dispatcher` function (SQS), with the spec's retry schedule; `webhook-sweep`
//! (scheduled) re-enqueues anything due whose message was lost, so nothing is ever lost.

pub mod dispatch;
pub mod endpoint;
pub mod event;
pub mod queue;
pub mod sender;
pub mod signing;
pub mod ssrf;

use crate::ports::StoreError;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
pub use endpoint::Endpoint;
pub use event::{Delivery, DeliveryStatus, EventType, OutboxEvent};

/// A due delivery found by the sweep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueRef {
    pub customer_id: String,
    pub event_id: String,
    pub attempts: u32,
}

/// The final (or next) state one attempt leaves a delivery in.
#[derive(Debug, Clone, PartialEq)]
pub struct AttemptRecord {
    pub status: DeliveryStatus,
    pub result: String,
    pub at: DateTime<Utc>,
    /// PENDING: when the next attempt is due.
    pub next_attempt_at: Option<DateTime<Utc>>,
}

/// The read side of webhooks: a customer's endpoint and latest deliveries. The dashboard
/// (`api::dashboard`) needs only this; the dispatcher and `relier-admin` use [`WebhookStore`].
#[async_trait]
pub trait WebhookReader: Send + Sync {
    async fn get_endpoint(&self, customer_id: &str) -> Result<Option<Endpoint>, StoreError>;
    /// Latest first.
    async fn list_deliveries(
        &self,
        customer_id: &str,
        limit: i32,
    ) -> Result<Vec<Delivery>, StoreError>;
}

/// Webhook endpoints and the outbox (DynamoDB: `adapters::dynamo::webhooks`).
#[async_trait]
pub trait WebhookStore: WebhookReader {
    async fn put_endpoint(&self, endpoint: &Endpoint) -> Result<(), StoreError>;
    /// `put_endpoint` and its audit record in one transaction (ops changes: `relier-admin`).
    async fn put_endpoint_audited(
        &self,
        endpoint: &Endpoint,
        audit: &crate::ops::AuditRecord,
    ) -> Result<(), StoreError>;
    async fn disable_endpoint(
        &self,
        customer_id: &str,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// Write a standalone event (ping, replay copy). Outcome events are written by the ledger
    /// inside the outcome's own transaction instead.
    async fn insert_event(&self, event: &OutboxEvent) -> Result<(), StoreError>;
    async fn get_delivery(
        &self,
        customer_id: &str,
        event_id: &str,
    ) -> Result<Option<Delivery>, StoreError>;

    /// Claim attempt `attempts + 1` of a PENDING delivery that has made exactly `attempts`
    /// (a conditional update; a duplicate message loses). While in flight it is due again at
    /// `lease_until`, so a dispatcher that dies mid-attempt is retried by the sweep.
    async fn claim_attempt(
        &self,
        customer_id: &str,
        event_id: &str,
        attempts: u32,
        lease_until: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// Record the result of attempt number `attempts` (only if still at that attempt).
    async fn record_attempt(
        &self,
        customer_id: &str,
        event_id: &str,
        attempts: u32,
        record: &AttemptRecord,
    ) -> Result<(), StoreError>;
    /// PENDING again from attempt 0 (ops replay of a FAILED/SKIPPED delivery).
    async fn reset_delivery(
        &self,
        customer_id: &str,
        event_id: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// PENDING deliveries due at or before `now` (sparse GSI, never a scan).
    async fn due(&self, now: DateTime<Utc>, limit: i32) -> Result<Vec<DueRef>, StoreError>;
}
