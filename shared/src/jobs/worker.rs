//! The SQS worker: claim (PENDING -> PROCESSING), send upstream, finalize. Duplicate
//! deliveries and racing workers lose the claim and never reach the provider.

use crate::domain::TransactionId;
use crate::ports::{StoreError, WorkStore};
use crate::topup::TopupService;
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct Message {
    transaction_id: String,
}

/// What happened to one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageResult {
    /// Sent and finalized (or left PROCESSING on an unknown outcome, for the reconciler).
    Processed,
    /// Not ours to process: already claimed / final / unknown id. Deleted.
    Skipped,
    /// Malformed body: logged and dropped (never retried forever).
    Dropped,
}

pub async fn process_message(
    body: &str,
    work: &dyn WorkStore,
    service: &TopupService,
) -> Result<MessageResult, StoreError> {
    let Ok(message) = serde_json::from_str::<Message>(body) else {
        tracing::error!(body_len = body.len(), "malformed queue message dropped");
        return Ok(MessageResult::Dropped);
    };
    let Ok(id) = TransactionId::parse(&message.transaction_id) else {
        tracing::error!("queue message with an invalid transaction id dropped");
        return Ok(MessageResult::Dropped);
    };
    let now = service.clock.now();
    let Some(tx) = work.claim(&id, now).await? else {
        tracing::info!(transaction_id = %id, "not PENDING (duplicate delivery or already handled); skipped");
        return Ok(MessageResult::Skipped);
    };
    let done = service.execute(tx).await?;
    tracing::info!(transaction_id = %id, status = done.transaction.status.as_str(), "processed");
    Ok(MessageResult::Processed)
}

/// Handle a batch: messages run concurrently, each on its own (a panic or a store error
/// affects only its own message, which goes back to the queue via `batchItemFailures`).
pub async fn handle_batch(
    event: SqsEvent,
    work: &dyn WorkStore,
    service: &TopupService,
) -> SqsBatchResponse {
    super::batch::each_record(event, "message", |body| async move {
        process_message(&body, work, service).await.map(|_| ())
    })
    .await
}
