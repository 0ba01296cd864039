//! The reconciler (scheduled): nothing stays stranded.
//! - PENDING past the grace period: the queue message was lost -> re-enqueue.
//! - PROCESSING past the lease: ask the provider by our id. SUCCESSFUL -> SUCCESS;
//!   FAILED/REFUNDED/never received -> refund + FAILED; still processing / provider down ->
//!   leave it, and past `stuck_after` count it in the `StuckTransactions` alert metric.

use crate::clock::Clock;
use crate::domain::TxStatus;
use crate::provider::{ProviderStatus, TopupProvider, TopupRequest};
use crate::queue::TopupQueue;
use crate::store::{Ledger, StoreError, WorkStore};
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
    pub ledger: &'a dyn Ledger,
    pub queue: &'a dyn TopupQueue,
    pub provider: &'a dyn TopupProvider,
    pub clock: &'a dyn Clock,
    pub pending_grace: Duration,
    pub processing_lease: Duration,
    pub stuck_after: Duration,
    pub batch: i32,
}

impl Reconciler<'_> {
    pub async fn run(&self) -> Result<ReconcileReport, StoreError> {
        let mut report = ReconcileReport::default();
        let now = self.clock.now();

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
            match self.provider.status(&request).await {
                ProviderStatus::Successful {
                    operator_transaction_id,
                } => {
                    let ms = (now - tx.created_at).num_milliseconds().max(0);
                    self.ledger
                        .mark_success(&tx, &operator_transaction_id, now, ms)
                        .await?;
                    report.succeeded += 1;
                    tracing::info!(transaction_id = %tx.id, "reconciled: SUCCESS");
                }
                ProviderStatus::Failed { reason } => {
                    self.ledger.refund_and_fail(&tx, &reason, now).await?;
                    report.refunded += 1;
                    tracing::info!(transaction_id = %tx.id, %reason, "reconciled: FAILED, refunded");
                }
                ProviderStatus::NotFound => {
                    self.ledger
                        .refund_and_fail(&tx, "Top-up never reached the provider", now)
                        .await?;
                    report.refunded += 1;
                    tracing::info!(transaction_id = %tx.id, "reconciled: never sent, refunded");
                }
                ProviderStatus::Processing | ProviderStatus::Unavailable { .. } => {
                    self.work.touch_processing(&tx.id, now).await?;
                    report.still_processing += 1;
                    if now - tx.created_at > self.stuck_after {
                        report.stuck += 1;
                        tracing::error!(transaction_id = %tx.id, "transaction stuck; needs a human");
                    }
                }
            }
        }
        crate::telemetry::emit_metric("StuckTransactions", report.stuck as f64, "Count");
        Ok(report)
    }
}

impl<'a> Reconciler<'a> {
    /// Wire a reconciler from the cold-start app (config gives the grace, lease, stuck age).
    pub fn from_app(
        app: &'a crate::app::App,
        service: &'a crate::topup::TopupService,
        queue: &'a crate::queue::SqsQueue,
    ) -> Result<Self, crate::config::ConfigError> {
        let d = |s: std::time::Duration| {
            Duration::from_std(s).map_err(|_| crate::config::ConfigError("duration".into()))
        };
        Ok(Self {
            work: app.store.as_ref(),
            ledger: app.store.as_ref(),
            queue,
            provider: service.provider.as_ref(),
            clock: app.clock.as_ref(),
            pending_grace: d(app.config.pending_grace)?,
            processing_lease: d(app.config.processing_lease)?,
            stuck_after: d(app.config.stuck_after)?,
            batch: 100,
        })
    }
}
