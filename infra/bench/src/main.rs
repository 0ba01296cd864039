//! `make bench-sync` (issue 14): the sync top-up use case in process — `handlers::topup`
//! (authorization, pricing, atomic debit, sandbox provider at 0 ms, final status) called
//! directly, no emulator — against DynamoDB Local, at concurrency 1, 8 and 32, on one account
//! and spread over 32 accounts. Next to each figure, the limit: the same DynamoDB requests
//! replayed raw (captured from a real top-up, fresh keys) at the same concurrency. Then the
//! DynamoDB calls and capacity of one top-up (counted on the wire, `ReturnConsumedCapacity`)
//! and the on-demand cost per 1,000 top-ups. Figures only: nothing here is asserted.
//!
//! A crate of its own (not a `shared` bench) so a release build needs no dev-dependencies.
//! Env: `BENCH_SYNC_N` top-ups per run (default 400); the local stack's env (infra/local/env.sh).

#[path = "../../../shared/tests/common/ddb_meter.rs"]
mod ddb_meter;
mod raw;

use ddb_meter::DdbMeter;
use lambda_http::{Body, Request};
use relier::adapters::clock::SystemClock;
use relier::adapters::dynamo::DynamoStore;
use relier::adapters::sandbox::SandboxProvider;
use relier::domain::credentials::hash_key;
use relier::domain::Account;
use relier::domain::{Commission, CustomerId, FxRate};
use relier::topup::rates::FixedRate;
use relier::topup::TopupService;
use rust_decimal::Decimal;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const ACCOUNTS: usize = 32;
const CONCURRENCY: [usize; 3] = [1, 8, 32];
/// DynamoDB on-demand, us-east-1, Standard table class (AWS price list since 2024-11-01).
const USD_PER_MILLION_WRITE_UNITS: f64 = 0.625;
const USD_PER_MILLION_READ_UNITS: f64 = 0.125;

fn customer(i: usize) -> String {
    format!("BENCH_{i:02}")
}
fn api_key(i: usize) -> String {
    format!("bench_key_{i:02}")
}

/// A partner with room for any run: large balance, a daily limit (so the debit carries the
/// counter item, as the seeds' partners do) far above what the bench spends, no per-minute cap.
fn bench_account(i: usize) -> Account {
    let balance = Decimal::from(1_000_000_000u64);
    Account {
        customer_id: CustomerId::parse(&customer(i)).expect("id"),
        company_name: format!("Bench {i}"),
        balance,
        credit_limit: balance,
        overdraft_usd: Decimal::ZERO,
        opening_balance: balance,
        commission: Commission::parse(Decimal::ZERO).expect("commission"),
        daily_limit_mxn: Some(Decimal::from(1_000_000_000_000u64)),
        daily_limit_per_phone_mxn: None,
        max_topups_per_minute: None,
        max_requests_per_15min: None,
        allowed_ips: vec![],
        low_balance_usd: None,
        low_balance_alerted: false,
        api_key_hashes: vec![hash_key(&api_key(i))],
        secret_key_hash: None,
        active: true,
        version: 0,
        updated_at: None,
    }
}

fn request(i: usize, reference: &str) -> Request {
    let body = format!(r#"{{"phone":"5566374683","amount":20,"reference":"{reference}"}}"#);
    lambda_http::http::Request::builder()
        .method("POST")
        .uri("/api/enviadespensa/topup")
        .header("content-type", "application/json")
        .header("x-api-key", api_key(i))
        .header("x-customer-id", customer(i))
        .body(Body::Text(body))
        .expect("request")
}

fn service(store: &Arc<DynamoStore>) -> TopupService {
    TopupService {
        ledger: store.clone(),
        transactions: store.clone(),
        rates: Arc::new(FixedRate(
            FxRate::parse(Decimal::new(1852, 2)).expect("rate"),
        )),
        provider: Arc::new(SandboxProvider::new(Duration::ZERO)),
        clock: Arc::new(SystemClock),
    }
}

#[derive(Debug, Clone, Copy)]
struct Figures {
    per_sec: f64,
    p50: f64,
    p95: f64,
    p99: f64,
    failed: usize,
}

/// How long one scenario may take before it is reported as unfinished (the bench never hangs:
/// concurrent transactions on one item have been seen to stall DynamoDB Local).
fn scenario_budget() -> Duration {
    Duration::from_secs(
        std::env::var("BENCH_SYNC_SCENARIO_SECS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(120),
    )
}

/// Run `n` operations at concurrency `c`; `op(k)` is the k-th. Latencies in ms. None: not
/// finished within `scenario_budget()` (its workers are aborted).
async fn run<F, Fut>(n: usize, c: usize, op: F) -> Option<Figures>
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = bool> + Send,
{
    let op = Arc::new(op);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..c)
        .map(|_| {
            let (op, next) = (op.clone(), next.clone());
            tokio::spawn(async move {
                let mut out = Vec::new();
                loop {
                    let k = next.fetch_add(1, Ordering::Relaxed);
                    if k >= n {
                        return out;
                    }
                    let t = Instant::now();
                    let ok = op(k).await;
                    out.push((t.elapsed().as_secs_f64() * 1000.0, ok));
                }
            })
        })
        .collect();
    let aborts: Vec<_> = workers.iter().map(|w| w.abort_handle()).collect();
    let collect = async {
        let mut all = Vec::with_capacity(n);
        for w in workers {
            all.extend(w.await.expect("worker"));
        }
        all
    };
    let Ok(all) = tokio::time::timeout(scenario_budget(), collect).await else {
        aborts.iter().for_each(|a| a.abort());
        return None;
    };
    let wall = started.elapsed().as_secs_f64();
    let failed = all.iter().filter(|(_, ok)| !ok).count();
    let mut ms: Vec<f64> = all.into_iter().map(|(ms, _)| ms).collect();
    ms.sort_by(f64::total_cmp);
    let pct = |p: f64| ms[((ms.len() as f64 * p).ceil() as usize).clamp(1, ms.len()) - 1];
    Some(Figures {
        per_sec: n as f64 / wall,
        p50: pct(0.50),
        p95: pct(0.95),
        p99: pct(0.99),
        failed,
    })
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let n: usize = std::env::var("BENCH_SYNC_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(400);
    let sdk = relier::config::aws_sdk_config().await;
    let plain = aws_sdk_dynamodb::Client::new(&sdk);
    let nonce = relier::domain::TransactionId::generate().as_str()[3..11].to_lowercase();
    let (accounts_table, transactions_table) = (
        format!("bench-sync-accounts-{nonce}"),
        format!("bench-sync-transactions-{nonce}"),
    );
    relier::adapters::dynamo::schema::create_tables(&plain, &accounts_table, &transactions_table)
        .await
        .expect("DynamoDB Local must be running (make stack-up)");
    let store = Arc::new(DynamoStore::new(
        plain.clone(),
        &accounts_table,
        &transactions_table,
    ));
    for i in 0..ACCOUNTS {
        store
            .put_account(&bench_account(i), false)
            .await
            .expect("account");
    }

    // One top-up per account through a capturing, metering client: the raw shapes, and the
    // calls + capacity of a cold-path top-up (first on that account for this instance).
    let capture = raw::Capture::default();
    let meter = DdbMeter::with_capacity();
    let metered_client = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(&sdk)
            .interceptor(capture.clone())
            .interceptor(meter.clone())
            .build(),
    );
    let metered = Arc::new(DynamoStore::new(
        metered_client,
        &accounts_table,
        &transactions_table,
    ));
    let metered_svc = service(&metered);
    let mut shapes = Vec::new();
    for i in 0..ACCOUNTS {
        let resp = relier::api::partner::topup(
            request(i, &format!("SHAPE-{i}")),
            metered.as_ref(),
            &metered_svc,
        )
        .await
        .expect("handler");
        assert_eq!(
            resp.status(),
            200,
            "bench top-up refused: {:?}",
            resp.body()
        );
        shapes.push(capture.take());
    }
    // Warm path: 50 more top-ups on one account, counted.
    meter.take();
    let counted = 50;
    for k in 0..counted {
        let resp = relier::api::partner::topup(
            request(0, &format!("COUNT-{k}")),
            metered.as_ref(),
            &metered_svc,
        )
        .await
        .expect("handler");
        assert_eq!(resp.status(), 200);
    }
    let tally = meter.take();
    let shapes = Arc::new(shapes);

    let svc = Arc::new(service(&store));
    println!("\nsync top-ups in process vs raw DynamoDB Local ({n} per run; latencies in ms)\n");
    println!("| accounts | concurrency | ours top-ups/s | p50 | p95 | p99 | raw debit tx/s | ours / raw | raw sequence p50 | our code at p50 |");
    println!("|---|---|---|---|---|---|---|---|---|---|");
    // 32 accounts first: the figures the goal is about, before any single-account contention.
    for spread in [ACCOUNTS, 1usize] {
        for c in CONCURRENCY {
            let label = format!("{spread}-{c}");
            let ours = {
                let (store, svc, label) = (store.clone(), svc.clone(), label.clone());
                run(n, c, move |k| {
                    let (store, svc) = (store.clone(), svc.clone());
                    let req = request(k % spread, &format!("R{label}-{k}"));
                    async move {
                        let resp = relier::api::partner::topup(req, store.as_ref(), &svc).await;
                        matches!(resp, Ok(r) if r.status() == 200)
                    }
                })
                .await
            };
            let raw_tx = {
                let (client, shapes, nonce) = (plain.clone(), shapes.clone(), nonce.clone());
                run(n, c, move |k| {
                    let (client, shapes, nonce) = (client.clone(), shapes.clone(), nonce.clone());
                    async move {
                        raw::debit(&client, &shapes[k % spread], &nonce)
                            .await
                            .is_ok()
                    }
                })
                .await
            };
            let raw_seq = {
                let (client, shapes, nonce) = (plain.clone(), shapes.clone(), nonce.clone());
                run(n, c, move |k| {
                    let (client, shapes, nonce) = (client.clone(), shapes.clone(), nonce.clone());
                    async move {
                        raw::sequence(&client, &shapes[k % spread], &nonce)
                            .await
                            .is_ok()
                    }
                })
                .await
            };
            let (Some(ours), Some(raw_tx), Some(raw_seq)) = (ours, raw_tx, raw_seq) else {
                println!(
                    "| {spread} | {c} | did not finish within {} s | | | | | | | |",
                    scenario_budget().as_secs()
                );
                continue;
            };
            let failed = ours.failed + raw_tx.failed + raw_seq.failed;
            println!(
                "| {spread} | {c} | {:.0} | {:.2} | {:.2} | {:.2} | {:.0} | {:.0} % | {:.2} | {:+.2}{} |",
                ours.per_sec,
                ours.p50,
                ours.p95,
                ours.p99,
                raw_tx.per_sec,
                100.0 * ours.per_sec / raw_tx.per_sec,
                raw_seq.p50,
                ours.p50 - raw_seq.p50,
                if failed > 0 { format!(" ({failed} failed)") } else { String::new() },
            );
        }
    }

    let per = |x: f64| x / counted as f64;
    let calls: Vec<String> = tally
        .calls
        .iter()
        .map(|(op, k)| format!("{op} {:.2}", per(*k as f64)))
        .collect();
    let (rru, wru) = (per(tally.read_units), per(tally.write_units));
    let usd_per_1000 = 1000.0
        * (wru * USD_PER_MILLION_WRITE_UNITS + rru * USD_PER_MILLION_READ_UNITS)
        / 1_000_000.0;
    println!("\nper warm sync top-up (mean of {counted}, counted on the wire):");
    println!(
        "  DynamoDB calls: {} ({} consistent reads)",
        calls.join(", "),
        per(tally.consistent_reads as f64)
    );
    println!("  capacity DynamoDB Local reports: {rru:.2} read units, {wru:.2} write units");
    println!(
        "  on-demand cost per 1,000 top-ups: ${usd_per_1000:.5} \
         (us-east-1 Standard: ${USD_PER_MILLION_WRITE_UNITS}/M write units, ${USD_PER_MILLION_READ_UNITS}/M read units)"
    );

    for table in [&accounts_table, &transactions_table] {
        let _ = plain.delete_table().table_name(table.as_str()).send().await;
    }
}
