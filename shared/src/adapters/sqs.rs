//! The top-up queue on SQS (the [`TopupQueue`] port), and its setup for `relier-admin`.

use crate::domain::TransactionId;
use crate::ports::{QueueError, TopupQueue};
use async_trait::async_trait;

#[derive(Clone)]
pub struct SqsQueue {
    client: aws_sdk_sqs::Client,
    url: String,
}

impl SqsQueue {
    pub fn new(client: aws_sdk_sqs::Client, url: impl Into<String>) -> Self {
        Self {
            client,
            url: url.into(),
        }
    }

    /// Cheap liveness probe for /health.
    pub async fn ping(&self) -> Result<(), QueueError> {
        self.client
            .get_queue_attributes()
            .queue_url(&self.url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
            .send()
            .await
            .map_err(|e| QueueError(format!("{e:?}").chars().take(300).collect()))?;
        Ok(())
    }
}

pub fn message_body(id: &TransactionId) -> String {
    serde_json::json!({ "transaction_id": id.as_str() }).to_string()
}

#[async_trait]
impl TopupQueue for SqsQueue {
    async fn enqueue(&self, id: &TransactionId) -> Result<(), QueueError> {
        self.client
            .send_message()
            .queue_url(&self.url)
            .message_body(message_body(id))
            .send()
            .await
            .map_err(|e| QueueError(format!("{e:?}").chars().take(300).collect()))?;
        Ok(())
    }
}

/// Queue settings, declared once for code; a test checks template.yaml agrees.
/// Visibility timeout = 6 x the worker's 30 s timeout (AWS's recommendation).
pub const VISIBILITY_TIMEOUT_SECS: u32 = 180;
/// Deliveries before a message goes to the dead-letter queue.
pub const MAX_RECEIVE_COUNT: u32 = 5;
/// Dead letters are kept 14 days.
pub const DLQ_RETENTION_SECS: u32 = 1_209_600;

/// The queue name at the end of a queue URL.
pub fn queue_name(url: &str) -> &str {
    url.rsplit('/').next().unwrap_or(url)
}

/// Create the DLQ and the top-up queue with its redrive policy (idempotent). Returns the
/// top-up queue URL.
pub async fn create_queues(
    client: &aws_sdk_sqs::Client,
    queue: &str,
    dead_letter_queue: &str,
) -> Result<String, QueueError> {
    create_queue_with_dlq(
        client,
        queue,
        dead_letter_queue,
        VISIBILITY_TIMEOUT_SECS,
        MAX_RECEIVE_COUNT,
    )
    .await
}

/// Create a dead-letter queue and a queue that redrives to it after `max_receive_count`
/// receives (idempotent; local setup of the top-up and webhook queues). Returns the queue URL.
pub async fn create_queue_with_dlq(
    client: &aws_sdk_sqs::Client,
    queue: &str,
    dead_letter_queue: &str,
    visibility_timeout_secs: impl ToString,
    max_receive_count: impl ToString,
) -> Result<String, QueueError> {
    use aws_sdk_sqs::types::QueueAttributeName as A;
    let err = |e: &dyn std::fmt::Debug| QueueError(format!("{e:?}").chars().take(300).collect());
    let dlq_url = client
        .create_queue()
        .queue_name(dead_letter_queue)
        .attributes(A::MessageRetentionPeriod, DLQ_RETENTION_SECS.to_string())
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
        "maxReceiveCount": max_receive_count.to_string(),
    })
    .to_string();
    let url = client
        .create_queue()
        .queue_name(queue)
        .attributes(A::VisibilityTimeout, visibility_timeout_secs.to_string())
        .attributes(A::RedrivePolicy, redrive)
        .send()
        .await
        .map_err(|e| err(&e))?
        .queue_url
        .unwrap_or_default();
    Ok(url)
}
