//! The reconciler (scheduled): nothing stays stranded.
//! - PENDING past the grace period: the queue message was lost -> re-enqueue.
//! - PROCESSING past the lease: ask the provider by our id. SUCCESSFUL -> SUCCESS;
//!   FAILED/REFUNDED/never received -> refund + FAILED; still processing / provider down ->
//!   leave it, and past `stuck_after` count it in the `StuckTransactions` alert metric.
//!
//! Every run works within a [`Budget`] (from the Lambda context's deadline): provider calls are
//! bounded in time and concurrency, work that would not fit is left for the next run
//! (`deferred`), and `StuckTransactions` is emitted at the end of every run, also a failed one, so
//! its absence (the `reconciler-heartbeat` alarm) means the reconciler did not run.

use crate::domain::TxStatus;
use crate::ports::{
    Clock, Ledger, ProviderStatus, StoreError, TopupProvider, TopupQueue, TopupRequest, WorkStore,
};
use chrono::Duration;
use futures::StreamExt;
use serde::Serialize;
use tokio::time::Instant;

/// How long one run may take and how it spends it.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    /// Stop starting new work when this is near (the Lambda deadline minus a margin).
    pub deadline: Instant,
    /// Upper bound of one provider status call (a slow provider is "unavailable" for this run).
    pub per_call: std::time::Duration,
    /// Provider status calls in flight at once.
    pub concurrency: usize,
    /// Time kept after a provider answer for its DynamoDB writes.
    pub write_reserve: std::time::Duration,
}

impl Budget {
    pub const PER_CALL: std::time::Duration = std::time::Duration::from_secs(8);
    pub const CONCURRENCY: usize = 8;
    pub const WRITE_RESERVE: std::time::Duration = std::time::Duration::from_secs(3);
    /// Left unused before the Lambda deadline (the metric line and the response).
    pub const MARGIN: std::time::Duration = std::time::Duration::from_secs(3);

    /// The default bounds, ending `MARGIN` before `deadline`.
    pub fn until(deadline: Instant) -> Self {
        Self {
            deadline: deadline
                .checked_sub(Self::MARGIN)
                .unwrap_or_else(Instant::now),
            per_call: Self::PER_CALL,
            concurrency: Self::CONCURRENCY,
            write_reserve: Self::WRITE_RESERVE,
        }
    }

    /// From a Lambda context deadline (milliseconds since the Unix epoch).
    pub fn from_lambda_deadline(deadline_epoch_ms: u64) -> Self {
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        let left = std::time::Duration::from_millis(deadline_epoch_ms.saturating_sub(now_ms));
        Self::until(Instant::now() + left)
    }

    fn left(&self) -> std::time::Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }

    /// Enough time left to ask the provider about one more transaction and write the answer.
    fn fits_one_more(&self) -> bool {
        self.left() >= self.per_call + self.write_reserve
    }
}

#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct ReconcileReport {
    pub requeued: u32,
    pub succeeded: u32,
    pub refunded: u32,
    pub still_processing: u32,
    pub stuck: u32,
    /// Open transactions not looked at because the run's time budget ran out (next run).
    pub deferred: u32,
}

/// What happened to one PROCESSING transaction.
enum Checked {
    Succeeded,
    Refunded,
    StillProcessing { stuck: bool },
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
    /// One run with the default bounds and a 50 s budget (tests, the bench, local runs).
    pub async fn run(&self) -> Result<ReconcileReport, StoreError> {
        self.run_within(Budget::until(
            Instant::now() + std::time::Duration::from_secs(53),
        ))
        .await
    }

    /// One run within `budget`. `StuckTransactions` is emitted whatever happens (the count so far
    /// if a DynamoDB error ends the run, which is then returned).
    pub async fn run_within(&self, budget: Budget) -> Result<ReconcileReport, StoreError> {
        let mut report = ReconcileReport::default();
        let result = self.reconcile(&budget, &mut report).await;
        crate::telemetry::emit_metric("StuckTransactions", report.stuck as f64, "Count");
        if report.deferred > 0 {
            tracing::warn!(
                deferred = report.deferred,
                "time budget ran out; the next run continues"
            );
        }
        result.map(|()| report)
    }

    async fn reconcile(
        &self,
        budget: &Budget,
        report: &mut ReconcileReport,
    ) -> Result<(), StoreError> {
        let now = self.clock.now();

        for tx in self
            .work
            .list_open(TxStatus::Pending, now - self.pending_grace, self.batch)
            .await?
        {
            if budget.left() < budget.write_reserve {
                report.deferred += 1;
                continue;
            }
            match self.queue.enqueue(&tx.id).await {
                Ok(()) => {
                    self.work.touch_pending(&tx.id, now).await?;
                    report.requeued += 1;
                    tracing::warn!(transaction_id = %tx.id, "PENDING past grace; re-enqueued");
                }
                Err(e) => tracing::error!(transaction_id = %tx.id, error = %e, "re-enqueue failed"),
            }
        }

        let processing = self
            .work
            .list_open(
                TxStatus::Processing,
                now - self.processing_lease,
                self.batch,
            )
            .await?;
        let mut checks = futures::stream::iter(processing)
            .map(|tx| async move {
                if !budget.fits_one_more() {
                    return None;
                }
                Some(self.check(tx, now, budget).await)
            })
            .buffer_unordered(budget.concurrency.max(1));
        let mut first_error = None;
        while let Some(outcome) = checks.next().await {
            match outcome {
                None => report.deferred += 1,
                Some(Ok(Checked::Succeeded)) => report.succeeded += 1,
                Some(Ok(Checked::Refunded)) => report.refunded += 1,
                Some(Ok(Checked::StillProcessing { stuck })) => {
                    report.still_processing += 1;
                    report.stuck += u32::from(stuck);
                }
                Some(Err(e)) => {
                    tracing::error!(error = %e, "reconciling a transaction failed; next run retries");
                    first_error.get_or_insert(e);
                }
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Ask the provider (bounded by `budget.per_call`) and apply its answer.
    async fn check(
        &self,
        tx: crate::domain::Transaction,
        now: chrono::DateTime<chrono::Utc>,
        budget: &Budget,
    ) -> Result<Checked, StoreError> {
        let request = TopupRequest {
            transaction_id: tx.id.clone(),
            phone: tx.phone.clone(),
            amount: tx.amount_mxn,
        };
        let status = tokio::time::timeout(budget.per_call, self.provider.status(&request))
            .await
            .unwrap_or_else(|_| ProviderStatus::Unavailable {
                reason: format!("no status answer within {:?}", budget.per_call),
            });
        match status {
            ProviderStatus::Successful {
                operator_transaction_id,
            } => {
                let ms = (now - tx.created_at).num_milliseconds().max(0);
                self.ledger
                    .mark_success(&tx, &operator_transaction_id, now, ms)
                    .await?;
                tracing::info!(transaction_id = %tx.id, "reconciled: SUCCESS");
                Ok(Checked::Succeeded)
            }
            ProviderStatus::Failed { reason } => {
                self.ledger.refund_and_fail(&tx, &reason, now).await?;
                tracing::info!(transaction_id = %tx.id, %reason, "reconciled: FAILED, refunded");
                Ok(Checked::Refunded)
            }
            ProviderStatus::NotFound => {
                self.ledger
                    .refund_and_fail(&tx, "Top-up never reached the provider", now)
                    .await?;
                tracing::info!(transaction_id = %tx.id, "reconciled: never sent, refunded");
                Ok(Checked::Refunded)
            }
            ProviderStatus::Processing | ProviderStatus::Unavailable { .. } => {
                self.work.touch_processing(&tx.id, now).await?;
                let stuck = now - tx.created_at > self.stuck_after;
                if stuck {
                    tracing::error!(transaction_id = %tx.id, "transaction stuck; needs a human");
                }
                Ok(Checked::StillProcessing { stuck })
            }
        }
    }
}
