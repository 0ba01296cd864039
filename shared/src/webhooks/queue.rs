//! The dispatch queue: one message per delivery attempt to make. SQS delays are at most
//! 15 minutes, so a longer wait is a chain of delayed messages (each re-delays itself until
//! due); the scheduled sweep re-enqueues anything due whose message was lost.

use crate::ports::QueueError;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// SQS's maximum `DelaySeconds`.
pub const MAX_DELAY_SECS: i64 = 900;
/// The dispatcher's Lambda timeout is 60 s; visibility 6 x that (AWS's recommendation).
pub const VISIBILITY_TIMEOUT_SECS: u32 = 360;
/// A message whose handling crashed this many times goes to the DLQ (the sweep still
/// finds the delivery in the table, so the DLQ is only an alarm, never a loss).
pub const MAX_RECEIVE_COUNT: u32 = 5;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DispatchMessage {
    pub customer_id: String,
    pub event_id: String,
    /// Attempts already made when this message was sent; a message whose delivery has moved
    /// on (another message made that attempt) is stale and dropped.
    pub attempts: u32,
}

#[async_trait]
pub trait DispatchQueue: Send + Sync {
    /// Send `message`, delivered after `delay_secs` (clamped to 0..=900).
    async fn send(&self, message: &DispatchMessage, delay_secs: i64) -> Result<(), QueueError>;
}

#[derive(Clone)]
pub struct SqsDispatchQueue {
    client: aws_sdk_sqs::Client,
    url: String,
}

impl SqsDispatchQueue {
    pub fn new(client: aws_sdk_sqs::Client, url: impl Into<String>) -> Self {
        Self {
            client,
            url: url.into(),
        }
    }
}

#[async_trait]
impl DispatchQueue for SqsDispatchQueue {
    async fn send(&self, message: &DispatchMessage, delay_secs: i64) -> Result<(), QueueError> {
        let body = serde_json::to_string(message).map_err(|e| QueueError(e.to_string()))?;
        self.client
            .send_message()
            .queue_url(&self.url)
            .message_body(body)
            .delay_seconds(delay_secs.clamp(0, MAX_DELAY_SECS) as i32)
            .send()
            .await
            .map_err(|e| QueueError(format!("{e:?}").chars().take(300).collect()))?;
        Ok(())
    }
}

/// Create the webhook queue and its DLQ (idempotent; local setup). Returns the queue URL.
pub async fn create_queues(
    client: &aws_sdk_sqs::Client,
    queue: &str,
    dead_letter_queue: &str,
) -> Result<String, QueueError> {
    crate::adapters::sqs::create_queue_with_dlq(
        client,
        queue,
        dead_letter_queue,
        VISIBILITY_TIMEOUT_SECS,
        MAX_RECEIVE_COUNT,
    )
    .await
}
