//! Concurrency against DynamoDB Local: no interleaving overspends or double-charges.

mod common;

use common::*;
use relier::api::partner as handlers;
use serde_json::json;
use std::sync::Arc;

/// A freshly started DynamoDB Local (a cold JVM) is slow for its first few hundred calls.
async fn warm_up(store: &relier::adapters::dynamo::DynamoStore) {
    put(store, AccountSpec::new("WARM_001", "warm_key_123", "1000")).await;
    let svc = service(&Arc::new(store.clone()), "18.52");
    for i in 0..30 {
        let body = format!(r#"{{"phone":"55{:08}","amount":10}}"#, 20_000_000 + i);
        let req = topup_request("WARM_001", "warm_key_123", &body);
        handlers::topup(req, store, &svc).await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn five_hundred_concurrent_topups_never_overspend() {
    // GIVEN an account whose balance covers exactly 40 top-ups of 10 MXN (0.54 USD each)
    let store = store().await;
    put(
        &store,
        AccountSpec::new("RACE_001", "race_key_123", "21.60"),
    )
    .await;
    warm_up(&store).await;
    // 5 independent stores = 5 Lambda instances racing on the same account (only the
    // DynamoDB version condition stands between them), 100 concurrent requests each.
    let instances: Vec<_> = (0..5)
        .map(|_| {
            let s = Arc::new(relier::adapters::dynamo::DynamoStore::new(
                store.client().clone(),
                store.accounts_table(),
                store.transactions_table(),
            ));
            let svc = Arc::new(service(&s, "18.52"));
            (s, svc)
        })
        .collect();
    // WHEN 500 top-ups arrive at once
    let mut tasks = Vec::new();
    for i in 0..500 {
        let (store, svc) = instances[i % 5].clone();
        tasks.push(tokio::spawn(async move {
            let body = format!(r#"{{"phone":"55{:08}","amount":10}}"#, 10_000_000 + i);
            let req = topup_request("RACE_001", "race_key_123", &body);
            read(handlers::topup(req, store.as_ref(), &svc).await.unwrap()).await
        }));
    }
    let mut ok = 0;
    let mut refused = 0;
    for t in tasks {
        let (status, body) = t.await.unwrap();
        match status {
            200 => ok += 1,
            403 => {
                assert_eq!(body["error"], json!("Insufficient balance"));
                refused += 1;
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }
    // THEN exactly 40 succeed, 460 are refused, and the balance is exactly zero
    assert_eq!(ok, 40);
    assert_eq!(refused, 460);
    assert_eq!(balance_of(&store, "RACE_001").await, dec("0"));
    assert_eq!(store.ledger_entries("RACE_001").await.unwrap().len(), 40);
    assert_ledger_ok(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_hundred_concurrent_retries_of_one_reference_charge_once() {
    let store = store().await;
    warm_up(&store).await;
    put(&store, AccountSpec::new("DUP_001", "dup_key_123", "100")).await;
    let provider = Arc::new(RecordingProvider::default());
    let svc = Arc::new(service_with(
        &store,
        provider.clone(),
        "18.52",
        Arc::new(relier::adapters::clock::SystemClock),
    ));
    let mut tasks = Vec::new();
    for _ in 0..100 {
        let store = store.clone();
        let svc = svc.clone();
        tasks.push(tokio::spawn(async move {
            let req = topup_request(
                "DUP_001",
                "dup_key_123",
                r#"{"phone":"5566374683","amount":20,"reference":"SAME-REF"}"#,
            );
            read(handlers::topup(req, store.as_ref(), &svc).await.unwrap()).await
        }));
    }
    let mut ids = std::collections::HashSet::new();
    for t in tasks {
        let (status, body) = t.await.unwrap();
        // a replay may observe the record while it is still in flight (202) or done (200)
        assert!(status == 200 || status == 202, "{status}: {body}");
        ids.insert(body["transaction"]["id"].as_str().unwrap().to_owned());
    }
    assert_eq!(ids.len(), 1, "one transaction id for all retries");
    assert_eq!(provider.sends(), 1, "one upstream call");
    assert_eq!(balance_of(&store, "DUP_001").await, dec("98.92"));
    assert_eq!(store.ledger_entries("DUP_001").await.unwrap().len(), 1);
    assert_ledger_ok(&store).await;
}
