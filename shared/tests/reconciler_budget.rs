//! The reconciler within its time budget (issue 13, point 6), on DynamoDB Local: a slow provider
//! cannot make it overrun its Lambda timeout, and the rate age it reports is the stored rate's.

mod common;

use async_trait::async_trait;
use chrono::{Duration, Utc};
use common::*;
use relier::adapters::clock::ManualClock;
use relier::adapters::dynamo::DynamoStore;
use relier::domain::{RateRecord, TransactionId, TxStatus};
use relier::jobs::fx_refresh::{report_rate_age, NO_RATE_AGE_SECS};
use relier::jobs::reconciler::{Budget, Reconciler};
use relier::ports::{ProviderStatus, TopupOutcome, TopupProvider, TopupRequest};
use relier::ports::{QueueError, RateWriter, TopupQueue, TransactionReader};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration as StdDuration;
use tokio::time::Instant;

/// Delivers like the sandbox, but every status question hangs for `delay`.
struct SlowStatus {
    inner: RecordingProvider,
    delay: StdDuration,
    asked: AtomicU32,
}

#[async_trait]
impl TopupProvider for SlowStatus {
    fn name(&self) -> &str {
        "relier"
    }
    async fn send_topup(&self, r: &TopupRequest) -> TopupOutcome {
        self.inner.send_topup(r).await
    }
    async fn status(&self, _: &TopupRequest) -> ProviderStatus {
        self.asked.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(self.delay).await;
        ProviderStatus::Processing
    }
}

/// No PENDING transaction exists in these tests; the queue is never used.
struct NoQueue;

#[async_trait]
impl TopupQueue for NoQueue {
    async fn enqueue(&self, _: &TransactionId) -> Result<(), QueueError> {
        panic!("nothing should be re-enqueued here")
    }
}

/// GIVEN three sync top-ups whose outcome is unknown (sandbox 5500000002 times out), 10 minutes
/// old: PROCESSING past the lease.
async fn three_unknown_outcomes() -> (Arc<DynamoStore>, Arc<ManualClock>, Vec<String>) {
    let store = store().await;
    seed_partners(&store).await;
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let svc = service_with(
        &store,
        Arc::new(RecordingProvider::default()),
        "18.52",
        clock.clone(),
    );
    let mut ids = Vec::new();
    for _ in 0..3 {
        let (status, body) = topup(
            &store,
            &svc,
            "HAZ_001",
            HAZ_KEY,
            r#"{"phone":"5500000002","amount":10}"#,
        )
        .await;
        assert_eq!(status, 202, "{body}");
        ids.push(body["transaction"]["id"].as_str().unwrap().to_owned());
    }
    clock.advance(Duration::minutes(10));
    (store, clock, ids)
}

fn reconciler<'a>(
    store: &'a DynamoStore,
    provider: &'a dyn TopupProvider,
    clock: &'a ManualClock,
) -> Reconciler<'a> {
    Reconciler {
        work: store,
        ledger: store,
        queue: &NoQueue,
        provider,
        clock,
        pending_grace: Duration::seconds(60),
        processing_lease: Duration::seconds(300),
        stuck_after: Duration::hours(1),
        batch: 100,
    }
}

async fn status_of(store: &DynamoStore, id: &str) -> TxStatus {
    store
        .get_transaction(&TransactionId::parse(id).unwrap())
        .await
        .unwrap()
        .unwrap()
        .status
}

#[tokio::test]
async fn a_hanging_provider_costs_one_bounded_call_per_transaction_not_the_whole_run() {
    let (store, clock, ids) = three_unknown_outcomes().await;
    // GIVEN a provider whose status calls hang far longer than the run may take
    let provider = SlowStatus {
        inner: RecordingProvider::default(),
        delay: StdDuration::from_secs(30),
        asked: AtomicU32::new(0),
    };
    let budget = Budget {
        deadline: Instant::now() + StdDuration::from_secs(5),
        per_call: StdDuration::from_millis(300),
        concurrency: 3,
        write_reserve: StdDuration::from_millis(500),
    };
    // WHEN the reconciler runs
    let started = Instant::now();
    let report = reconciler(&store, &provider, &clock)
        .run_within(budget)
        .await
        .unwrap();
    // THEN each transaction got one bounded, concurrent question and was left PROCESSING
    assert_eq!(provider.asked.load(Ordering::SeqCst), 3);
    assert_eq!((report.still_processing, report.deferred), (3, 0));
    assert!(
        started.elapsed() < StdDuration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    for id in &ids {
        assert_eq!(status_of(&store, id).await, TxStatus::Processing);
    }
    assert_ledger_ok(&store).await;
}

#[tokio::test]
async fn work_that_does_not_fit_the_budget_is_left_for_the_next_run() {
    let (store, clock, ids) = three_unknown_outcomes().await;
    let provider = SlowStatus {
        inner: RecordingProvider::default(),
        delay: StdDuration::from_millis(1),
        asked: AtomicU32::new(0),
    };
    // GIVEN a run whose budget is already below one provider call plus its writes
    let budget = Budget {
        deadline: Instant::now() + StdDuration::from_millis(100),
        per_call: StdDuration::from_secs(8),
        concurrency: 8,
        write_reserve: StdDuration::from_secs(3),
    };
    // WHEN it runs
    let report = reconciler(&store, &provider, &clock)
        .run_within(budget)
        .await
        .unwrap();
    // THEN nothing is asked, everything is deferred, and nothing changed
    assert_eq!(provider.asked.load(Ordering::SeqCst), 0);
    assert_eq!(report.deferred, 3);
    assert_eq!(report.still_processing, 0);
    for id in &ids {
        assert_eq!(status_of(&store, id).await, TxStatus::Processing);
    }
}

#[test]
fn the_budget_ends_before_the_lambda_deadline() {
    // GIVEN a Lambda deadline 60 s from now
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    rt.block_on(async {
        let budget = Budget::from_lambda_deadline(now_ms + 60_000);
        // THEN the run stops starting work MARGIN before it
        let left = budget.deadline.saturating_duration_since(Instant::now());
        assert!(
            left <= StdDuration::from_secs(60) - Budget::MARGIN,
            "{left:?}"
        );
        assert!(left >= StdDuration::from_secs(55), "{left:?}");
        // AND an already-passed deadline gives an empty budget, not a panic
        let past = Budget::from_lambda_deadline(now_ms - 1_000);
        assert!(past.deadline <= Instant::now());
    });
}

#[tokio::test]
async fn the_rate_age_is_the_stored_rates_age_and_huge_when_none_is_stored() {
    let store = store().await;
    let now = Utc::now();
    // GIVEN no rate stored yet (a fresh deploy before the first fx-refresh)
    // THEN the reported age pages (far above any threshold)
    assert_eq!(
        report_rate_age(store.as_ref(), now).await,
        Some(NO_RATE_AGE_SECS)
    );
    // GIVEN a rate written three hours ago
    store
        .put_rate(&RateRecord {
            rate: dec("18.52"),
            updated_at: now - Duration::hours(3),
            source: "test".into(),
        })
        .await
        .unwrap();
    // THEN its age is reported in seconds
    assert_eq!(report_rate_age(store.as_ref(), now).await, Some(3 * 3600));
}
