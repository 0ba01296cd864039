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
    use aws_sdk_sqs::types::QueueAttributeName as A;
    let err = |e: &dyn std::fmt::Debug| QueueError(format!("{e:?}").chars().take(300).collect());
    let dlq_url = client
        .create_queue()
        .queue_name(dead_letter_queue)
        .attributes(
            A::MessageRetentionPeriod,
            crate::adapters::sqs::DLQ_RETENTION_SECS.to_string(),
        )
        .send()
        .await
        .map_err(|e| err(&e))?
        .queue_url
        .unwrap_or_default();
    let dlq_arn = client
        .get_queue_attributes()
        .queue_url(&dlq_url)
        .attribute_names(A::QueueArn)
        .send()
        .await
        .map_err(|e| err(&e))?
        .attributes
        .and_then(|a| a.get(&A::QueueArn).cloned())
        .ok_or_else(|| QueueError("dead-letter queue has no ARN".into()))?;
    let redrive = serde_json::json!({
        "deadLetterTargetArn": dlq_arn,
        "maxReceiveCount": MAX_RECEIVE_COUNT.to_string(),
    })
    .to_string();
    Ok(client
        .create_queue()
        .queue_name(queue)
        .attributes(A::VisibilityTimeout, VISIBILITY_TIMEOUT_SECS.to_string())
        .attributes(A::RedrivePolicy, redrive)
        .send()
        .await
        .map_err(|e| err(&e))?
        .queue_url
        .unwrap_or_default())
}
