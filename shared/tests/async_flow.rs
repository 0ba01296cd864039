//! Async top-ups through SQS (moto) and recovery (DynamoDB Local): nothing is charged twice,
//! nothing stays stranded, whatever step a process dies at.

mod common;

use async_trait::async_trait;
use aws_lambda_events::event::sqs::SqsEvent;
use chrono::{Duration, Utc};
use common::*;
use relier::adapters::clock::ManualClock;
use relier::adapters::dynamo::DynamoStore;
use relier::adapters::sqs::SqsQueue;
use relier::api::partner as handlers;
use relier::domain::TxKind;
use relier::domain::{TransactionId, TxStatus};
use relier::jobs::reconciler::{ReconcileReport, Reconciler};
use relier::jobs::worker;
use relier::ports::Clock;
use relier::ports::TransactionReader;
use relier::ports::{ProviderStatus, TopupOutcome, TopupProvider, TopupRequest};
use relier::ports::{QueueError, TopupQueue};
use relier::topup::TopupService;
use serde_json::json;
use std::sync::Arc;

struct Env {
    store: Arc<DynamoStore>,
    sqs: aws_sdk_sqs::Client,
    queue: SqsQueue,
    queue_url: String,
    clock: Arc<ManualClock>,
    provider: Arc<RecordingProvider>,
    service: TopupService,
}

async fn env() -> Env {
    let store = store().await;
    seed_partners(&store).await;
    let sdk = sdk().await;
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let name = unique("t-topups");
    let queue_url = relier::adapters::sqs::create_queues(&sqs, &name, &format!("{name}-dlq"))
        .await
        .expect("moto SQS must be running (infra/local/stack.sh up, or make test)");
    let queue = SqsQueue::new(sqs.clone(), queue_url.clone());
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let provider = Arc::new(RecordingProvider::default());
    let service = service_with(&store, provider.clone(), "18.52", clock.clone());
    Env {
        store,
        sqs,
        queue,
        queue_url,
        clock,
        provider,
        service,
    }
}

impl Env {
    fn async_request(&self, body: &str) -> lambda_http::Request {
        request(
            "POST",
            "/api/enviadespensa/topup-async",
            &[
                ("content-type", "application/json"),
                ("x-api-key", HAZ_KEY),
                ("x-customer-id", "HAZ_001"),
            ],
            Some(body),
        )
    }

    async fn receive(&self) -> SqsEvent {
        receive_event(&self.sqs, &self.queue_url).await
    }

    fn reconciler<'a>(&'a self, provider: &'a dyn TopupProvider) -> Reconciler<'a> {
        Reconciler {
            work: self.store.as_ref(),
            ledger: self.store.as_ref(),
            queue: &self.queue,
            provider,
            clock: self.clock.as_ref(),
            pending_grace: Duration::seconds(60),
            processing_lease: Duration::seconds(300),
            stuck_after: Duration::hours(1),
            batch: 100,
        }
    }

    async fn status(&self, id: &str) -> TxStatus {
        self.store
            .get_transaction(&TransactionId::parse(id).unwrap())
            .await
            .unwrap()
            .unwrap()
            .status
    }
}

fn sqs_event(bodies: &[(&str, &str)]) -> SqsEvent {
    let records: Vec<_> = bodies
        .iter()
        .map(|(id, body)| json!({"messageId": id, "body": body, "eventSource": "aws:sqs"}))
        .collect();
    serde_json::from_value(json!({ "Records": records })).unwrap()
}

#[tokio::test]
async fn async_happy_path_accepts_then_worker_delivers() {
    let env = env().await;
    // WHEN the seed's async request is sent
    let req = env.async_request(r#"{"phone":"5566374683","amount":20,"reference":"ORDER_12345"}"#);
    let (status, body) = read(
        handlers::topup_async(req, env.store.as_ref(), &env.service, &env.queue)
            .await
            .unwrap(),
    )
    .await;
    // THEN the seed's body: PENDING, amount in MXN, queuedAt, check_status_url
    assert_eq!(status, 200, "{body}");
    let t = &body["transaction"];
    let id = t["id"].as_str().unwrap().to_owned();
    assert_eq!(t["status"], json!("PENDING"));
    assert_eq!(t["amount"], json!(20));
    assert_eq!(t["phone"], json!("5566374683"));
    assert_eq!(t["reference"], json!("ORDER_12345"));
    assert_eq!(t["currency"], json!("MXN"));
    assert!(t["queuedAt"].as_str().unwrap().ends_with('Z'));
    assert_eq!(body["message"], json!("Transaction queued for processing"));
    assert_eq!(
        body["check_status_url"],
        json!(format!("/api/transaction/{id}"))
    );
    // priced like the sync path, debited at once
    assert_eq!(balance_of(&env.store, "HAZ_001").await, dec("9998.92"));
    assert_eq!(env.status(&id).await, TxStatus::Pending);

    // AND the worker, fed the real queue message, delivers it
    let event = env.receive().await;
    assert_eq!(event.records.len(), 1);
    let resp = worker::handle_batch(event, env.store.as_ref(), &env.service).await;
    assert!(resp.batch_item_failures.is_empty());
    assert_eq!(env.status(&id).await, TxStatus::Success);
    assert_eq!(env.provider.sends(), 1);
    let req = with_path_id(request("GET", "/x", &[], None), &id);
    let (_, body) = read(
        handlers::transaction_status(req, env.store.as_ref(), env.store.as_ref())
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(body["transaction"]["status"], json!("SUCCESS"));
    assert_eq!(balance_of(&env.store, "HAZ_001").await, dec("9998.92"));
    assert_ledger_ok(&env.store).await;
}

#[tokio::test]
async fn async_failure_is_refunded_and_counters_restored() {
    let env = env().await;
    let req = env.async_request(r#"{"phone":"5500000001","amount":100}"#);
    let (_, body) = read(
        handlers::topup_async(req, env.store.as_ref(), &env.service, &env.queue)
            .await
            .unwrap(),
    )
    .await;
    let id = body["transaction"]["id"].as_str().unwrap().to_owned();
    assert_eq!(balance_of(&env.store, "HAZ_001").await, dec("9994.60"));
    let pk = format!("DAILY#HAZ_001#{}", today());
    assert_eq!(counter(&env.store, &pk, "CUSTOMER").await, dec("100"));
    let resp = worker::handle_batch(env.receive().await, env.store.as_ref(), &env.service).await;
    assert!(resp.batch_item_failures.is_empty());
    assert_eq!(env.status(&id).await, TxStatus::Failed);
    assert_eq!(balance_of(&env.store, "HAZ_001").await, dec("10000"));
    assert_eq!(counter(&env.store, &pk, "CUSTOMER").await, dec("0"));
    assert_ledger_ok(&env.store).await;
}

#[tokio::test]
async fn async_refusals_are_answered_synchronously() {
    let env = env().await;
    let req = env.async_request(r#"{"phone":"5566374683","amount":25}"#);
    let (s, b) = read(
        handlers::topup_async(req, env.store.as_ref(), &env.service, &env.queue)
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 400);
    assert_eq!(b["error"], json!("Invalid product amount"));
    put(&env.store, AccountSpec::new("LOW_002", "low2_key_123", "1")).await;
    let req = request(
        "POST",
        "/api/enviadespensa/topup-async",
        &[
            ("content-type", "application/json"),
            ("x-api-key", "low2_key_123"),
            ("x-customer-id", "LOW_002"),
        ],
        Some(r#"{"phone":"5566374683","amount":500}"#),
    );
    let (s, b) = read(
        handlers::topup_async(req, env.store.as_ref(), &env.service, &env.queue)
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 403);
    assert_eq!(b["required_usd"], json!(27));
    assert!(env.receive().await.records.is_empty(), "nothing enqueued");
    // idempotent: the same reference twice is one debit, one message
    for _ in 0..2 {
        let req = env.async_request(r#"{"phone":"5566374683","amount":20,"reference":"A-1"}"#);
        let (s, _) = read(
            handlers::topup_async(req, env.store.as_ref(), &env.service, &env.queue)
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(s, 200);
    }
    assert_eq!(env.receive().await.records.len(), 1);
    assert_eq!(balance_of(&env.store, "HAZ_001").await, dec("9998.92"));
}

#[tokio::test]
async fn duplicate_delivery_and_racing_workers_send_once() {
    let env = env().await;
    let req = env.async_request(r#"{"phone":"5566374683","amount":50}"#);
    let (_, body) = read(
        handlers::topup_async(req, env.store.as_ref(), &env.service, &env.queue)
            .await
            .unwrap(),
    )
    .await;
    let id = body["transaction"]["id"].as_str().unwrap().to_owned();
    let msg = relier::adapters::sqs::message_body(&TransactionId::parse(&id).unwrap());
    // the same message delivered twice in one batch, and to two workers at once
    let batch = sqs_event(&[("m1", &msg), ("m2", &msg)]);
    let (a, b, c) = tokio::join!(
        worker::handle_batch(batch, env.store.as_ref(), &env.service),
        worker::handle_batch(sqs_event(&[("m3", &msg)]), env.store.as_ref(), &env.service),
        worker::handle_batch(sqs_event(&[("m4", &msg)]), env.store.as_ref(), &env.service),
    );
    assert!(
        a.batch_item_failures.is_empty()
            && b.batch_item_failures.is_empty()
            && c.batch_item_failures.is_empty()
    );
    assert_eq!(env.provider.sends(), 1);
    assert_eq!(env.status(&id).await, TxStatus::Success);
    assert_eq!(store_ledger_len(&env.store).await, 1);
    assert_ledger_ok(&env.store).await;
}

async fn store_ledger_len(store: &DynamoStore) -> usize {
    store.ledger_entries("HAZ_001").await.unwrap().len()
}

/// A provider that panics on one number: the panic must stay with its message.
struct PanickyProvider(RecordingProvider);

#[async_trait]
impl TopupProvider for PanickyProvider {
    fn name(&self) -> &str {
        "relier"
    }
    async fn send_topup(&self, r: &TopupRequest) -> TopupOutcome {
        if r.phone.as_str() == "5599999999" {
            panic!("provider bug");
        }
        self.0.send_topup(r).await
    }
    async fn status(&self, r: &TopupRequest) -> ProviderStatus {
        self.0.status(r).await
    }
}

#[tokio::test]
async fn bad_messages_are_isolated() {
    let mut env = env().await;
    env.service.provider = Arc::new(PanickyProvider(RecordingProvider::default()));
    let mut ids = Vec::new();
    for phone in ["5599999999", "5566374683"] {
        let req = env.async_request(&format!(r#"{{"phone":"{phone}","amount":10}}"#));
        let (_, body) = read(
            handlers::topup_async(req, env.store.as_ref(), &env.service, &env.queue)
                .await
                .unwrap(),
        )
        .await;
        ids.push(body["transaction"]["id"].as_str().unwrap().to_owned());
    }
    let m0 = relier::adapters::sqs::message_body(&TransactionId::parse(&ids[0]).unwrap());
    let m1 = relier::adapters::sqs::message_body(&TransactionId::parse(&ids[1]).unwrap());
    let batch = sqs_event(&[
        ("garbage", "not json"),
        ("wrong-shape", r#"{"id": 1}"#),
        ("panics", &m0),
        ("fine", &m1),
        (
            "unknown-id",
            r#"{"transaction_id":"RLRDOESNOTEXIST000000000000000"}"#,
        ),
    ]);
    let resp = worker::handle_batch(batch, env.store.as_ref(), &env.service).await;
    let failed: Vec<_> = resp
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    assert_eq!(failed, ["panics"], "only the panicking message is retried");
    assert_eq!(env.status(&ids[1]).await, TxStatus::Success);
    // the panicked one was claimed (PROCESSING); the reconciler settles it later
    assert_eq!(env.status(&ids[0]).await, TxStatus::Processing);
}

/// A queue whose sends always fail (crash between the debit and the enqueue).
struct DeadQueue;

#[async_trait]
impl TopupQueue for DeadQueue {
    async fn enqueue(&self, _: &TransactionId) -> Result<(), QueueError> {
        Err(QueueError("injected: queue down".into()))
    }
}

#[tokio::test]
async fn every_crash_window_is_recovered_by_the_reconciler() {
    let env = env().await;
    let mut ids = Vec::new();

    // 1. Debit committed, enqueue lost: the partner still gets PENDING.
    let req = env.async_request(r#"{"phone":"5566374683","amount":10,"reference":"W1"}"#);
    let (s, body) = read(
        handlers::topup_async(req, env.store.as_ref(), &env.service, &DeadQueue)
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(body["transaction"]["status"], json!("PENDING"));
    let lost_message = body["transaction"]["id"].as_str().unwrap().to_owned();
    ids.push(lost_message.clone());

    let account = relier::api::partner::auth::authenticate(
        env.store.as_ref(),
        Some(HAZ_KEY),
        Some("HAZ_001"),
    )
    .await
    .unwrap();
    let input = |phone: &str| {
        let body = json!({"phone": phone, "amount": 20})
            .as_object()
            .unwrap()
            .clone();
        relier::api::partner::request::parse_topup(&body, None).unwrap()
    };

    // 2. Sync: debit committed (PROCESSING), process died before calling the provider.
    let never_sent = match env
        .service
        .accept(&account, &input("5566374684"), TxKind::Sync)
        .await
        .unwrap()
    {
        relier::topup::Accepted::New(tx) => tx,
        other => panic!("{other:?}"),
    };
    ids.push(never_sent.id.to_string());

    // 3. Provider delivered, process died before finalizing.
    let delivered = match env
        .service
        .accept(&account, &input("5566374685"), TxKind::Sync)
        .await
        .unwrap()
    {
        relier::topup::Accepted::New(tx) => tx,
        other => panic!("{other:?}"),
    };
    let out = env
        .provider
        .send_topup(&TopupRequest {
            transaction_id: delivered.id.clone(),
            phone: delivered.phone.clone(),
            amount: delivered.amount_mxn,
        })
        .await;
    assert!(matches!(out, TopupOutcome::Success { .. }));
    ids.push(delivered.id.to_string());

    // 4./5. Unknown outcomes (timeouts) through the worker: later SUCCESSFUL / FAILED upstream.
    for phone in ["5500000002", "5500000003"] {
        let req = env.async_request(&format!(r#"{{"phone":"{phone}","amount":30}}"#));
        let (_, body) = read(
            handlers::topup_async(req, env.store.as_ref(), &env.service, &env.queue)
                .await
                .unwrap(),
        )
        .await;
        ids.push(body["transaction"]["id"].as_str().unwrap().to_owned());
    }
    let resp = worker::handle_batch(env.receive().await, env.store.as_ref(), &env.service).await;
    assert!(resp.batch_item_failures.is_empty());
    for id in &ids[3..] {
        assert_eq!(
            env.status(id).await,
            TxStatus::Processing,
            "unknown outcome is not a failure"
        );
    }
    let sends_before = env.provider.sends();

    // Nothing is touched before the grace period / lease.
    let report = env.reconciler(env.provider.as_ref()).run().await.unwrap();
    assert_eq!(report, ReconcileReport::default());

    // After the grace period the lost message is re-enqueued and the worker delivers it.
    env.clock.advance(Duration::seconds(90));
    let report = env.reconciler(env.provider.as_ref()).run().await.unwrap();
    assert_eq!(report.requeued, 1);
    let resp = worker::handle_batch(env.receive().await, env.store.as_ref(), &env.service).await;
    assert!(resp.batch_item_failures.is_empty());
    assert_eq!(env.status(&lost_message).await, TxStatus::Success);

    // After the lease, PROCESSING records are settled by asking the provider: never resent.
    env.clock.advance(Duration::seconds(400));
    let report = env.reconciler(env.provider.as_ref()).run().await.unwrap();
    assert_eq!(report.succeeded, 2, "{report:?}");
    assert_eq!(report.refunded, 2, "{report:?}");
    assert_eq!(
        env.provider.sends(),
        sends_before + 1,
        "only the lost message was sent, once"
    );
    assert_eq!(
        env.status(&ids[1]).await,
        TxStatus::Failed,
        "never sent -> refunded"
    );
    assert_eq!(
        env.status(&ids[2]).await,
        TxStatus::Success,
        "delivered -> success"
    );
    assert_eq!(
        env.status(&ids[3]).await,
        TxStatus::Success,
        "5500000002 -> success"
    );
    assert_eq!(
        env.status(&ids[4]).await,
        TxStatus::Failed,
        "5500000003 -> refunded"
    );

    // Everything is terminal, and the money adds up: 10 + 20 + 30 MXN charged.
    for id in &ids {
        assert!(env.status(id).await.is_terminal());
    }
    let expected = dec("10000") - dec("0.54") - dec("1.08") - dec("1.62");
    assert_eq!(balance_of(&env.store, "HAZ_001").await, expected);
    assert_ledger_ok(&env.store).await;
    // a second run finds nothing to do
    env.clock.advance(Duration::seconds(400));
    assert_eq!(
        env.reconciler(env.provider.as_ref()).run().await.unwrap(),
        ReconcileReport::default()
    );
}

/// A provider that never knows (status PROCESSING forever).
struct ForeverProcessing(RecordingProvider);

#[async_trait]
impl TopupProvider for ForeverProcessing {
    fn name(&self) -> &str {
        "relier"
    }
    async fn send_topup(&self, r: &TopupRequest) -> TopupOutcome {
        self.0.send_topup(r).await
    }
    async fn status(&self, _: &TopupRequest) -> ProviderStatus {
        ProviderStatus::Processing
    }
}

#[tokio::test]
async fn a_transaction_stuck_for_hours_is_flagged_and_left_for_a_human() {
    let env = env().await;
    let req = env.async_request(r#"{"phone":"5500000002","amount":10}"#);
    let (_, body) = read(
        handlers::topup_async(req, env.store.as_ref(), &env.service, &env.queue)
            .await
            .unwrap(),
    )
    .await;
    let id = body["transaction"]["id"].as_str().unwrap().to_owned();
    worker::handle_batch(env.receive().await, env.store.as_ref(), &env.service).await;
    let provider = ForeverProcessing(RecordingProvider::default());
    env.clock.advance(Duration::minutes(10));
    let report = env.reconciler(&provider).run().await.unwrap();
    assert_eq!((report.still_processing, report.stuck), (1, 0));
    env.clock.advance(Duration::hours(2));
    let report = env.reconciler(&provider).run().await.unwrap();
    assert_eq!((report.still_processing, report.stuck), (1, 1));
    assert_eq!(env.status(&id).await, TxStatus::Processing);
    assert_eq!(balance_of(&env.store, "HAZ_001").await, dec("9999.46"));
}

#[tokio::test]
async fn clock_is_the_records_clock() {
    // The ManualClock drives created_at/updated_at, so recovery timing is deterministic.
    let env = env().await;
    let t0 = env.clock.now();
    let req = env.async_request(r#"{"phone":"5566374683","amount":10}"#);
    let (_, body) = read(
        handlers::topup_async(req, env.store.as_ref(), &env.service, &env.queue)
            .await
            .unwrap(),
    )
    .await;
    let id = TransactionId::parse(body["transaction"]["id"].as_str().unwrap()).unwrap();
    let tx = env.store.get_transaction(&id).await.unwrap().unwrap();
    assert_eq!(tx.created_at.timestamp_millis(), t0.timestamp_millis());
    assert_eq!(tx.kind, TxKind::Async);
}
