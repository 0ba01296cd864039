//! The reconciler (scheduled): nothing stays stranded.
//! - PENDING past the grace period: the queue message was lost -> re-enqueue.
//! - PROCESSING past the lease: ask the provider by our id. SUCCESSFUL -> SUCCESS;
//!   FAILED/REFUNDED/never received -> refund + FAILED; still processing / provider down ->
//!   leave it, and past `stuck_after` count it in the `StuckTransactions` alert metric.

use crate::domain::TxStatus;
use crate::ports::{ProviderStatus, StoreError, TopupQueue, TopupRequest, WorkStore};
use crate::topup::{FinalOutcome, TopupService};
use chrono::Duration;
use serde::Serialize;

#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct ReconcileReport {
    pub requeued: u32,
    pub succeeded: u32,
    pub refunded: u32,
    pub still_processing: u32,
    pub stuck: u32,
}

pub struct Reconciler<'a> {
    pub work: &'a dyn WorkStore,
    pub queue: &'a dyn TopupQueue,
    /// Its provider is asked for the status; its `settle` applies what the provider says.
    pub service: &'a TopupService,
    pub pending_grace: Duration,
    pub processing_lease: Duration,
    pub stuck_after: Duration,
    pub batch: i32,
}

impl Reconciler<'_> {
    pub async fn run(&self) -> Result<ReconcileReport, StoreError> {
        let mut report = ReconcileReport::default();
        let now = self.service.clock.now();

        for tx in self
            .work
            .list_open(TxStatus::Pending, now - self.pending_grace, self.batch)
            .await?
        {
            match self.queue.enqueue(&tx.id).await {
                Ok(()) => {
                    self.work.touch_pending(&tx.id, now).await?;
                    report.requeued += 1;
                    tracing::warn!(transaction_id = %tx.id, "PENDING past grace; re-enqueued");
                }
                Err(e) => tracing::error!(transaction_id = %tx.id, error = %e, "re-enqueue failed"),
            }
        }

        for tx in self
            .work
            .list_open(
                TxStatus::Processing,
                now - self.processing_lease,
                self.batch,
            )
            .await?
        {
            let request = TopupRequest {
                transaction_id: tx.id.clone(),
                phone: tx.phone.clone(),
                amount: tx.amount_mxn,
            };
            let (id, created_at) = (tx.id.clone(), tx.created_at);
            let (provider, status) = self.service.provider.status_via(&request).await;
            match status {
                ProviderStatus::Successful {
                    operator_transaction_id,
                } => {
                    let outcome = FinalOutcome::Delivered {
                        provider,
                        operator_transaction_id,
                    };
                    self.service.settle(tx, outcome, 0).await?;
                    report.succeeded += 1;
                    tracing::info!(transaction_id = %id, "reconciled: SUCCESS");
                }
                ProviderStatus::Failed { reason } => {
                    tracing::info!(transaction_id = %id, %reason, "reconciled: FAILED, refunding");
                    let outcome = FinalOutcome::NotDelivered { reason };
                    self.service.settle(tx, outcome, 0).await?;
                    report.refunded += 1;
                }
                ProviderStatus::NotFound => {
                    let outcome = FinalOutcome::NotDelivered {
                        reason: "Top-up never reached the provider".into(),
                    };
                    self.service.settle(tx, outcome, 0).await?;
                    report.refunded += 1;
                    tracing::info!(transaction_id = %id, "reconciled: never sent, refunded");
                }
                ProviderStatus::Processing | ProviderStatus::Unavailable { .. } => {
                    self.work.touch_processing(&id, now).await?;
                    report.still_processing += 1;
                    if now - created_at > self.stuck_after {
                        report.stuck += 1;
                        tracing::error!(transaction_id = %id, "transaction stuck; needs a human");
                    }
                }
            }
        }
        crate::telemetry::emit_metric("StuckTransactions", report.stuck as f64, "Count");
        Ok(report)
    }
}
