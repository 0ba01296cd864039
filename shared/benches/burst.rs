//! Burst benchmark (issue 4): 1,000 async top-ups accepted against the local stack, then the
//! queue drained by the worker; prints accepted/s and drained/s, and checks that every
//! transaction is terminal and the ledger adds up. Figures only: nothing here is asserted
//! on time. Needs the local stack (`make stack-up`); run with `make bench`.

use aws_lambda_events::event::sqs::SqsEvent;
use relier::adapters::clock::SystemClock;
use relier::adapters::dynamo::DynamoStore;
use relier::adapters::sandbox::SandboxProvider;
use relier::adapters::sqs::SqsQueue;
use relier::domain::credentials::hash_key;
use relier::domain::Account;
use relier::domain::{Commission, CustomerId, FxRate};
use relier::ports::TransactionReader;
use relier::topup::rates::FixedRate;
use relier::topup::TopupService;
use rust_decimal::Decimal;
use serde_json::json;
use std::sync::Arc;
use std::time::Instant;

const BURST: usize = 1_000;
const CONCURRENCY: usize = 50;

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let sdk = relier::config::aws_sdk_config().await;
    let dynamo = aws_sdk_dynamodb::Client::new(&sdk);
    // moto (Python, one process) is the slow part locally: give the harness's own SQS calls room.
    let sqs_config = aws_sdk_sqs::config::Builder::from(&sdk)
        .timeout_config(
            aws_config::timeout::TimeoutConfig::builder()
                .operation_timeout(std::time::Duration::from_secs(60))
                .operation_attempt_timeout(std::time::Duration::from_secs(30))
                .build(),
        )
        .build();
    let sqs = aws_sdk_sqs::Client::from_conf(sqs_config);
    let suffix = &relier::domain::TransactionId::generate().as_str()[3..11].to_lowercase();
    let (accounts, transactions) = (
        format!("bench-accounts-{suffix}"),
        format!("bench-transactions-{suffix}"),
    );
    relier::adapters::dynamo::schema::create_tables(&dynamo, &accounts, &transactions)
        .await
        .expect("local stack must be up: make stack-up");
    let queue_name = format!("bench-topups-{suffix}");
    let url = relier::adapters::sqs::create_queues(&sqs, &queue_name, &format!("{queue_name}-dlq"))
        .await
        .expect("moto SQS must be up");
    let store = Arc::new(DynamoStore::new(dynamo, accounts, transactions));
    let queue = Arc::new(SqsQueue::new(sqs.clone(), url.clone()));
    let service = Arc::new(TopupService {
        ledger: store.clone(),
        transactions: store.clone(),
        rates: Arc::new(FixedRate(FxRate::parse(Decimal::new(1852, 2)).unwrap())),
        provider: Arc::new(SandboxProvider::default()),
        clock: Arc::new(SystemClock),
    });
    // 20 partners so the burst is not one account's serialized stream.
    for p in 0..20 {
        let account = Account {
            customer_id: CustomerId::parse(&format!("BENCH_{p:02}")).unwrap(),
            company_name: "Bench".into(),
            balance: Decimal::from(100_000),
            credit_limit: Decimal::from(100_000),
            overdraft_usd: Decimal::ZERO,
            opening_balance: Decimal::from(100_000),
            commission: Commission::ZERO,
            daily_limit_mxn: None,
            daily_limit_per_phone_mxn: None,
            max_topups_per_minute: None,
            max_requests_per_15min: None,
            allowed_ips: Vec::new(),
            api_key_hashes: vec![hash_key(&format!("bench_key_{p:02}"))],
            secret_key_hash: None,
            active: true,
            version: 0,
            updated_at: None,
            low_balance_usd: None,
            low_balance_alerted: false,
        };
        store.put_account(&account, false).await.unwrap();
    }

    // Accept.
    let started = Instant::now();
    let sem = Arc::new(tokio::sync::Semaphore::new(CONCURRENCY));
    let mut tasks = Vec::new();
    for i in 0..BURST {
        let (store, service, queue, sem) =
            (store.clone(), service.clone(), queue.clone(), sem.clone());
        tasks.push(tokio::spawn(async move {
            let _permit = sem.acquire().await.unwrap();
            let p = i % 20;
            let body = json!({"phone": format!("55{:08}", i), "amount": 10, "reference": format!("B-{i}")}).to_string();
            let req = lambda_http::http::Request::builder()
                .method("POST")
                .uri("/api/enviadespensa/topup-async")
                .header("content-type", "application/json")
                .header("x-api-key", format!("bench_key_{p:02}"))
                .header("x-customer-id", format!("BENCH_{p:02}"))
                .body(lambda_http::Body::Text(body))
                .unwrap();
            let resp = relier::api::partner::topup_async(req, store.as_ref(), &service, queue.as_ref()).await.unwrap();
            assert_eq!(resp.status(), 200);
            let text = match resp.body() {
                lambda_http::Body::Text(t) => t.clone(),
                _ => String::new(),
            };
            let v: serde_json::Value = serde_json::from_str(&text).unwrap();
            v["transaction"]["id"].as_str().unwrap().to_owned()
        }));
    }
    let mut ids = Vec::new();
    for t in tasks {
        ids.push(t.await.unwrap());
    }
    let accept_secs = started.elapsed().as_secs_f64();

    // Drain, like the event source mapping: batches of 10, 5 concurrent pollers.
    let started = Instant::now();
    let mut pollers = Vec::new();
    for _ in 0..5 {
        let (sqs, url, store, service) = (sqs.clone(), url.clone(), store.clone(), service.clone());
        pollers.push(tokio::spawn(async move {
            let mut empty = 0;
            let mut handled = 0usize;
            while empty < 3 {
                let out = sqs.receive_message().queue_url(&url).max_number_of_messages(10).wait_time_seconds(1).send().await.unwrap();
                let msgs = out.messages().to_vec();
                if msgs.is_empty() {
                    empty += 1;
                    continue;
                }
                empty = 0;
                let records: Vec<_> = msgs.iter().map(|m| json!({"messageId": m.message_id(), "body": m.body(), "eventSource": "aws:sqs"})).collect();
                let event: SqsEvent = serde_json::from_value(json!({"Records": records})).unwrap();
                let resp = relier::jobs::worker::handle_batch(event, store.as_ref(), &service).await;
                let failed: Vec<_> = resp.batch_item_failures.iter().map(|f| f.item_identifier.clone()).collect();
                for m in &msgs {
                    if !failed.contains(&m.message_id().unwrap_or_default().to_owned()) {
                        sqs.delete_message().queue_url(&url).receipt_handle(m.receipt_handle().unwrap()).send().await.unwrap();
                        handled += 1;
                    }
                }
            }
            handled
        }));
    }
    let mut drained = 0;
    for p in pollers {
        drained += p.await.unwrap();
    }
    let drain_secs = started.elapsed().as_secs_f64();

    // Anything a timeout left PROCESSING is settled by the reconciler, as in production.
    let clock = relier::adapters::clock::ManualClock::new(
        chrono::Utc::now() + chrono::Duration::minutes(10),
    );
    let later = TopupService {
        clock: std::sync::Arc::new(clock),
        ..TopupService::clone(&service)
    };
    let report = relier::jobs::reconciler::Reconciler {
        work: store.as_ref(),
        queue: queue.as_ref(),
        service: &later,
        pending_grace: chrono::Duration::seconds(60),
        processing_lease: chrono::Duration::seconds(300),
        stuck_after: chrono::Duration::hours(1),
        batch: 1000,
    }
    .run()
    .await
    .unwrap();
    let mut terminal = 0;
    for id in &ids {
        let tx = store
            .get_transaction(&relier::domain::TransactionId::parse(id).unwrap())
            .await
            .unwrap()
            .unwrap();
        if tx.status.is_terminal() {
            terminal += 1;
        }
    }
    let reports = relier::jobs::ledger_check::check_all(store.as_ref())
        .await
        .unwrap();
    let ledger_ok = reports.iter().all(|r| r.ok());
    println!("reconciler afterwards: {report:?}");
    println!("burst: {BURST} async top-ups, {CONCURRENCY} concurrent clients, 20 partners");
    println!(
        "accepted: {:.0}/s ({accept_secs:.2} s)",
        BURST as f64 / accept_secs
    );
    println!(
        "drained:  {:.0}/s ({drain_secs:.2} s, {drained} messages)",
        drained as f64 / drain_secs
    );
    println!(
        "terminal: {terminal}/{BURST}; ledger check: {}",
        if ledger_ok { "OK" } else { "FAILED" }
    );
    if terminal != BURST || !ledger_ok {
        std::process::exit(1);
    }
}
