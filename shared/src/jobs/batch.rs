//! One SQS batch, as both queue consumers (top-up worker, webhook dispatcher) handle it: every
//! record runs concurrently and on its own; a record whose processing fails or panics is
//! reported in `batchItemFailures` (SQS redelivers only it), the others are done.

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use futures::FutureExt;
use std::fmt::Display;
use std::future::Future;
use std::panic::AssertUnwindSafe;

/// Run `process(body)` for every record of `event`; `what` names the work in the logs.
pub async fn each_record<F, Fut, E>(event: SqsEvent, what: &str, process: F) -> SqsBatchResponse
where
    F: Fn(String) -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: Display,
{
    let process = &process;
    let jobs = event.records.into_iter().filter_map(|record| {
        let Some(message_id) = record.message_id.clone().filter(|m| !m.is_empty()) else {
            tracing::error!("SQS record without a message id; cannot report it, skipped");
            return None;
        };
        let body = record.body.unwrap_or_default();
        Some(async move {
            match AssertUnwindSafe(process(body)).catch_unwind().await {
                Ok(Ok(())) => None,
                Ok(Err(e)) => {
                    tracing::error!(%message_id, error = %e, "{what} failed; will be retried");
                    Some(message_id)
                }
                Err(_) => {
                    tracing::error!(%message_id, "{what} panicked; will be retried");
                    Some(message_id)
                }
            }
        })
    });
    let mut response = SqsBatchResponse::default();
    for message_id in futures::future::join_all(jobs).await.into_iter().flatten() {
        let mut failure = BatchItemFailure::default();
        failure.item_identifier = message_id;
        response.batch_item_failures.push(failure);
    }
    response
}
