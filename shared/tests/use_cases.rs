//! Use cases without a database: the top-up service, the worker and the reconciler on the
//! in-memory store ports (`adapters::memory`). The DynamoDB adapter and the end-to-end flows
//! are tested against DynamoDB Local in the other files.

use chrono::{Duration, Utc};
use relier::adapters::clock::ManualClock;
use relier::adapters::memory::MemoryStore;
use relier::adapters::sandbox::SandboxProvider;
use relier::domain::credentials::hash_key;
use relier::domain::{
    Account, Commission, CustomerId, FxRate, IdempotencyKey, MxnAmount, Phone, Reference, TxKind,
    TxStatus,
};
use relier::jobs::reconciler::Reconciler;
use relier::ports::{QueueError, TopupQueue, TransactionReader};
use relier::topup::rates::FixedRate;
use relier::topup::{Accepted, TopupError, TopupInput, TopupService};
use rust_decimal::Decimal;
use std::str::FromStr;
use std::sync::{Arc, Mutex};

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

/// Records what would have been sent to SQS.
#[derive(Default)]
struct MemoryQueue(Mutex<Vec<String>>);

#[async_trait::async_trait]
impl TopupQueue for MemoryQueue {
    async fn enqueue(&self, id: &relier::domain::TransactionId) -> Result<(), QueueError> {
        self.0.lock().unwrap().push(id.as_str().to_owned());
        Ok(())
    }
}

/// The shared test app: the real use cases wired on in-memory ports, the sandbox provider,
/// a fixed 18.52 rate and a clock the test moves.
struct TestApp {
    store: Arc<MemoryStore>,
    clock: Arc<ManualClock>,
    queue: MemoryQueue,
    service: TopupService,
}

impl TestApp {
    fn new() -> Self {
        let store = Arc::new(MemoryStore::new());
        let clock = Arc::new(ManualClock::new(Utc::now()));
        let service = TopupService {
            ledger: store.clone(),
            transactions: store.clone(),
            rates: Arc::new(FixedRate(FxRate::parse(dec("18.52")).unwrap())),
            provider: Arc::new(SandboxProvider::default()),
            clock: clock.clone(),
        };
        Self {
            store,
            clock,
            queue: MemoryQueue::default(),
            service,
        }
    }

    fn partner(&self, id: &str, balance: &str, daily_limit: Option<&str>) -> Account {
        let account = Account {
            customer_id: CustomerId::parse(id).unwrap(),
            company_name: id.into(),
            balance: dec(balance),
            credit_limit: Decimal::ZERO,
            overdraft_usd: Decimal::ZERO,
            opening_balance: dec(balance),
            commission: Commission::ZERO,
            daily_limit_mxn: daily_limit.map(dec),
            daily_limit_per_phone_mxn: None,
            max_topups_per_minute: Some(200),
            max_requests_per_15min: None,
            allowed_ips: vec![],
            low_balance_usd: None,
            low_balance_alerted: false,
            api_key_hashes: vec![hash_key("key")],
            secret_key_hash: None,
            active: true,
            version: 0,
            updated_at: None,
        };
        self.store.put_account(account.clone());
        account
    }

    fn reconciler(&self) -> Reconciler<'_> {
        Reconciler {
            work: self.store.as_ref(),
            queue: &self.queue,
            service: &self.service,
            pending_grace: Duration::seconds(60),
            processing_lease: Duration::seconds(300),
            stuck_after: Duration::hours(1),
            batch: 100,
        }
    }

    async fn balance(&self, id: &str) -> Decimal {
        use relier::ports::AccountReader;
        self.store
            .get_account(&CustomerId::parse(id).unwrap())
            .await
            .unwrap()
            .unwrap()
            .balance
    }

    async fn ledger_adds_up(&self) {
        for report in relier::jobs::ledger_check::check_all(self.store.as_ref())
            .await
            .unwrap()
        {
            assert!(report.ok(), "{report:?}");
        }
    }
}

fn input(phone: &str, amount: u32, reference: Option<&str>) -> TopupInput {
    TopupInput {
        phone: Phone::parse(phone).unwrap(),
        amount: MxnAmount::parse(amount).unwrap(),
        reference: reference.map(|r| Reference::parse(r).unwrap()),
        idempotency_key: reference.map(|r| IdempotencyKey::Reference(Reference::parse(r).unwrap())),
    }
}

#[tokio::test]
async fn a_delivered_topup_is_charged_once_and_succeeds() {
    // GIVEN a partner with 10 USD
    let app = TestApp::new();
    let account = app.partner("HAZ_001", "10", None);
    // WHEN it tops up 20 MXN (1.08 USD at 18.52) twice with the same reference
    let done = app
        .service
        .topup_sync(&account, &input("5500000000", 20, Some("R1")))
        .await
        .unwrap();
    let again = app
        .service
        .topup_sync(&account, &input("5500000000", 20, Some("R1")))
        .await
        .unwrap();
    // THEN it succeeded once, was charged once, and the ledger adds up
    assert_eq!(done.transaction.status, TxStatus::Success);
    assert_eq!(again.transaction.id, done.transaction.id);
    assert_eq!(app.balance("HAZ_001").await, dec("8.92"));
    app.ledger_adds_up().await;
}

#[tokio::test]
async fn a_definite_failure_is_refunded_exactly_once() {
    let app = TestApp::new();
    let account = app.partner("HAZ_001", "10", None);
    let done = app
        .service
        .topup_sync(&account, &input("5500000001", 20, None))
        .await
        .unwrap();
    assert_eq!(done.transaction.status, TxStatus::Failed);
    assert_eq!(done.balance_after_refund, Some(dec("10")));
    // settling it again changes nothing (the record is final)
    let settled = app
        .service
        .settle(
            done.transaction.clone(),
            relier::topup::FinalOutcome::NotDelivered {
                reason: "again".into(),
            },
            0,
        )
        .await
        .unwrap();
    assert_eq!(settled.balance_after_refund, None);
    assert_eq!(app.balance("HAZ_001").await, dec("10"));
    app.ledger_adds_up().await;
}

#[tokio::test]
async fn refusals_charge_nothing() {
    let app = TestApp::new();
    let poor = app.partner("POOR_001", "0.50", None);
    let capped = app.partner("CAP_001", "100", Some("30"));
    let err = app
        .service
        .topup_sync(&poor, &input("5500000000", 20, None))
        .await
        .unwrap_err();
    assert!(
        matches!(err, TopupError::InsufficientBalance { .. }),
        "{err:?}"
    );
    app.service
        .topup_sync(&capped, &input("5500000000", 20, None))
        .await
        .unwrap();
    let err = app
        .service
        .topup_sync(&capped, &input("5500000000", 20, None))
        .await
        .unwrap_err();
    assert!(
        matches!(err, TopupError::DailyLimitExceeded { .. }),
        "{err:?}"
    );
    assert_eq!(app.balance("POOR_001").await, dec("0.50"));
    assert_eq!(app.balance("CAP_001").await, dec("98.92"));
    app.ledger_adds_up().await;
}

#[tokio::test]
async fn an_unknown_outcome_is_settled_by_the_reconciler() {
    // GIVEN a sync top-up whose outcome is unknown (sandbox 5500000002: later SUCCESSFUL)
    let app = TestApp::new();
    let account = app.partner("HAZ_001", "10", None);
    let done = app
        .service
        .topup_sync(&account, &input("5500000002", 20, None))
        .await
        .unwrap();
    assert_eq!(done.transaction.status, TxStatus::Processing);
    // WHEN the lease passes and the reconciler runs
    app.clock.advance(Duration::minutes(10));
    let report = app.reconciler().run().await.unwrap();
    // THEN it asked the provider and settled it SUCCESS, charged once
    assert_eq!(report.succeeded, 1);
    let tx = app
        .store
        .get_transaction(&done.transaction.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(tx.status, TxStatus::Success);
    assert_eq!(app.balance("HAZ_001").await, dec("8.92"));
    app.ledger_adds_up().await;
}

#[tokio::test]
async fn the_worker_claims_then_settles_and_a_lost_message_is_requeued() {
    // GIVEN an async top-up whose queue message was lost, and one that fails upstream
    let app = TestApp::new();
    let account = app.partner("HAZ_001", "10", None);
    let Accepted::New(lost) = app
        .service
        .accept(&account, &input("5500000000", 20, None), TxKind::Async)
        .await
        .unwrap()
    else {
        panic!("new")
    };
    let Accepted::New(failing) = app
        .service
        .accept(&account, &input("5500000001", 10, None), TxKind::Async)
        .await
        .unwrap()
    else {
        panic!("new")
    };
    // WHEN the worker gets the second message (twice: a duplicate delivery)
    let body = format!(r#"{{"transaction_id":"{}"}}"#, failing.id);
    let first = relier::jobs::worker::process_message(&body, app.store.as_ref(), &app.service)
        .await
        .unwrap();
    let second = relier::jobs::worker::process_message(&body, app.store.as_ref(), &app.service)
        .await
        .unwrap();
    // THEN it is processed once (refunded), and the duplicate is skipped
    assert_eq!(first, relier::jobs::worker::MessageResult::Processed);
    assert_eq!(second, relier::jobs::worker::MessageResult::Skipped);
    assert_eq!(app.balance("HAZ_001").await, dec("8.92"));
    // AND the reconciler re-enqueues the lost one after the grace period
    app.clock.advance(Duration::minutes(2));
    let report = app.reconciler().run().await.unwrap();
    assert_eq!(report.requeued, 1);
    assert_eq!(
        *app.queue.0.lock().unwrap(),
        vec![lost.id.as_str().to_owned()]
    );
    app.ledger_adds_up().await;
}
