//! Partner API against DynamoDB Local: the seeds' examples shape for shape, and every
//! failure path that touches money.

mod common;

use common::*;
use relier::api::partner as handlers;
use relier::ports::TransactionReader;
use serde_json::{json, Value};
use std::sync::atomic::Ordering;

fn keys_of(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
    k.sort();
    k
}

#[tokio::test]
async fn balance_matches_the_seed_shape() {
    // GIVEN the HAZ Group sandbox partner
    let store = store().await;
    seed_partners(&store).await;
    // WHEN it asks for its balance with the seed's curl headers
    let req = request(
        "GET",
        "/api/balance",
        &[("x-api-key", HAZ_KEY), ("x-customer-id", "HAZ_001")],
        None,
    );
    let (status, body) = read(handlers::balance(req, store.as_ref()).await.unwrap()).await;
    // THEN the body is the seed's, field for field
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({
            "success": true,
            "customer_id": "HAZ_001",
            "company_name": "HAZ Group",
            "current_balance": 10000,
            "credit_limit": 10000,
            "currency": "USD",
        })
    );
}

#[tokio::test]
async fn credentials_are_checked_as_one_401() {
    let store = store().await;
    seed_partners(&store).await;
    let mut disabled = AccountSpec::new("OFF_001", "off_key_123", "50");
    disabled.active = false;
    put(&store, disabled).await;
    let cases: Vec<Vec<(&str, &str)>> = vec![
        vec![],
        vec![("x-api-key", HAZ_KEY)],
        vec![("x-customer-id", "HAZ_001")],
        vec![("x-api-key", "wrong"), ("x-customer-id", "HAZ_001")],
        // a valid key with another customer's id
        vec![("x-api-key", SMARTBIZ_KEY), ("x-customer-id", "HAZ_001")],
        vec![("x-api-key", HAZ_KEY), ("x-customer-id", "NOBODY")],
        vec![("x-api-key", HAZ_KEY), ("x-customer-id", "../etc")],
        vec![("x-api-key", "off_key_123"), ("x-customer-id", "OFF_001")],
    ];
    for headers in cases {
        let req = request("GET", "/api/balance", &headers, None);
        let (status, body) = read(handlers::balance(req, store.as_ref()).await.unwrap()).await;
        assert_eq!(status, 401, "{headers:?}");
        assert_eq!(body["success"], json!(false));
        assert_eq!(body["error"], json!("Invalid API credentials"));
        // and the same for a top-up, which must charge nothing
        let req = request(
            "POST",
            "/api/enviadespensa/topup",
            &[headers.clone(), vec![("content-type", "application/json")]].concat(),
            Some(r#"{"phone":"5566374683","amount":20}"#),
        );
        let svc = service(&store, "18.52");
        let (status, _) = read(handlers::topup(req, store.as_ref(), &svc).await.unwrap()).await;
        assert_eq!(status, 401);
    }
    assert_eq!(balance_of(&store, "HAZ_001").await, dec("10000"));
}

#[tokio::test]
async fn sync_topup_matches_the_seed_example_and_status_endpoint() {
    // GIVEN HAZ Group with 10000 USD and the rate of the seed (18.52)
    let store = store().await;
    seed_partners(&store).await;
    let svc = service(&store, "18.52");
    // WHEN it tops up 20 MXN with the seed's request
    let req = topup_request(
        "HAZ_001",
        HAZ_KEY,
        r#"{"phone":"5566374683","amount":20,"reference":"ORDER_12345"}"#,
    );
    let (status, body) = read(handlers::topup(req, store.as_ref(), &svc).await.unwrap()).await;
    // THEN the seed's success body, with the seed's numbers
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        keys_of(&body),
        [
            "billing",
            "message",
            "remaining_balance",
            "success",
            "transaction"
        ]
    );
    let t = &body["transaction"];
    assert_eq!(
        keys_of(t),
        [
            "amount_mxn",
            "amount_usd",
            "currency",
            "exchange_rate",
            "id",
            "operatorTransactionId",
            "phone",
            "processedAt",
            "provider",
            "reference",
            "status"
        ]
    );
    assert_eq!(t["status"], json!("SUCCESS"));
    assert_eq!(t["amount_mxn"], json!(20));
    assert_eq!(t["amount_usd"], json!(1.08));
    assert_eq!(t["exchange_rate"], json!(18.52));
    assert_eq!(t["phone"], json!("5566374683"));
    assert_eq!(t["reference"], json!("ORDER_12345"));
    assert_eq!(t["provider"], json!("relier"));
    assert_eq!(t["currency"], json!("MXN"));
    assert!(t["operatorTransactionId"].as_str().unwrap().len() > 4);
    assert!(t["processedAt"].as_str().unwrap().ends_with('Z'));
    let id = t["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("RLR") && id.len() >= 20);
    assert_eq!(
        body["billing"],
        json!({"deducted_usd": 1.08, "balance_before_usd": 10000, "balance_after_usd": 9998.92, "exchange_rate": 18.52})
    );
    assert_eq!(
        body["message"],
        json!("Top-up of 20 MXN processed successfully. $1.08 USD deducted from balance.")
    );
    assert_eq!(body["remaining_balance"], json!(9998.92));
    assert_eq!(balance_of(&store, "HAZ_001").await, dec("9998.92"));

    // AND the status endpoint (no auth, per the seed) shows the union of v1 and v2 fields
    let req = with_path_id(
        request("GET", &format!("/api/transaction/{id}"), &[], None),
        &id,
    );
    let (status, body) = read(
        handlers::transaction_status(req, store.as_ref(), store.as_ref())
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    let t = &body["transaction"];
    for field in [
        "id",
        "transaction_id",
        "customer_id",
        "phone",
        "amount",
        "amount_mxn",
        "amount_usd",
        "exchange_rate",
        "status",
        "reference",
        "operator_transaction_id",
        "provider",
        "response_time_ms",
        "created_at",
        "processed_at",
        "currency",
    ] {
        assert!(t.get(field).is_some(), "missing {field}");
    }
    assert_eq!(t["transaction_id"], json!(id));
    assert_eq!(t["customer_id"], json!("HAZ_001"));
    assert_eq!(t["amount"], json!(1.08));
    assert_eq!(t["status"], json!("SUCCESS"));
    assert!(t["response_time_ms"].is_number());

    // AND the balance endpoint agrees
    let req = request(
        "GET",
        "/api/balance",
        &[("x-api-key", HAZ_KEY), ("x-customer-id", "HAZ_001")],
        None,
    );
    let (_, body) = read(handlers::balance(req, store.as_ref()).await.unwrap()).await;
    assert_eq!(body["current_balance"], json!(9998.92));
    assert_ledger_ok(&store).await;
}

#[tokio::test]
async fn smartbiz_example_prices_50_mxn_at_2_94() {
    let store = store().await;
    seed_partners(&store).await;
    let svc = service(&store, "17.0068");
    let req = topup_request(
        "SMARTBIZ_001",
        SMARTBIZ_KEY,
        r#"{"phone":"5512345678","amount":50,"reference":"ORDER-12345"}"#,
    );
    let (status, body) = read(handlers::topup(req, store.as_ref(), &svc).await.unwrap()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["transaction"]["amount_usd"], json!(2.94));
    assert_eq!(body["transaction"]["exchange_rate"], json!(17.0068));
    assert_eq!(
        body["billing"],
        json!({"deducted_usd": 2.94, "balance_before_usd": 200, "balance_after_usd": 197.06, "exchange_rate": 17.0068})
    );
    assert_eq!(body["remaining_balance"], json!(197.06));
}

#[tokio::test]
async fn failed_topup_is_refunded_and_counters_restored() {
    // GIVEN HAZ (per-customer limit) and SmartBiz (per-phone limit)
    let store = store().await;
    seed_partners(&store).await;
    let svc = service(&store, "18.52");
    for (customer, key, pk_sk) in [
        ("HAZ_001", HAZ_KEY, "CUSTOMER".to_owned()),
        ("SMARTBIZ_001", SMARTBIZ_KEY, "PHONE#5500000001".to_owned()),
    ] {
        let before = balance_of(&store, customer).await;
        // WHEN the always-failing test number is topped up
        let req = topup_request(
            customer,
            key,
            r#"{"phone":"5500000001","amount":100,"reference":"F-1"}"#,
        );
        let (status, body) = read(handlers::topup(req, store.as_ref(), &svc).await.unwrap()).await;
        // THEN success:false, FAILED, balance and counters back where they were
        assert_eq!(status, 500, "{body}");
        assert_eq!(body["success"], json!(false));
        assert_eq!(body["error"], json!("Transaction processing failed"));
        assert_eq!(body["transaction"]["status"], json!("FAILED"));
        assert_eq!(
            body["remaining_balance"],
            serde_json::to_value(relier::api::json::money(before)).unwrap()
        );
        assert_eq!(balance_of(&store, customer).await, before);
        let pk = format!("DAILY#{customer}#{}", today());
        assert_eq!(counter(&store, &pk, &pk_sk).await, dec("0"));
        // AND the status endpoint says FAILED
        let id = body["transaction"]["id"].as_str().unwrap().to_owned();
        let req = with_path_id(request("GET", "/x", &[], None), &id);
        let (_, body) = read(
            handlers::transaction_status(req, store.as_ref(), store.as_ref())
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(body["transaction"]["status"], json!("FAILED"));
        // AND a retry with the same reference replays the failure: never a second attempt
        let req = topup_request(
            customer,
            key,
            r#"{"phone":"5500000001","amount":100,"reference":"F-1"}"#,
        );
        let (status, body) = read(handlers::topup(req, store.as_ref(), &svc).await.unwrap()).await;
        assert_eq!(status, 500);
        assert_eq!(body["transaction"]["id"], json!(id));
        assert_eq!(balance_of(&store, customer).await, before);
    }
    assert_ledger_ok(&store).await;
}

#[tokio::test]
async fn same_reference_never_charges_twice() {
    let store = store().await;
    seed_partners(&store).await;
    let provider = std::sync::Arc::new(RecordingProvider::default());
    let svc = service_with(
        &store,
        provider.clone(),
        "18.52",
        std::sync::Arc::new(relier::adapters::clock::SystemClock),
    );
    let body = r#"{"phone":"5566374683","amount":20,"reference":"ORDER_1"}"#;
    let (s1, b1) = topup(&store, &svc, "HAZ_001", HAZ_KEY, body).await;
    let (s2, b2) = topup(&store, &svc, "HAZ_001", HAZ_KEY, body).await;
    assert_eq!((s1, s2), (200, 200));
    assert_eq!(b1["transaction"]["id"], b2["transaction"]["id"]);
    assert_eq!(b1, b2);
    assert_eq!(provider.sends(), 1);
    assert_eq!(balance_of(&store, "HAZ_001").await, dec("9998.92"));

    // a different body under the same reference is a 409 and charges nothing
    let other = r#"{"phone":"5566374683","amount":50,"reference":"ORDER_1"}"#;
    let (s3, b3) = topup(&store, &svc, "HAZ_001", HAZ_KEY, other).await;
    assert_eq!(s3, 409, "{b3}");
    assert_eq!(b3["success"], json!(false));
    assert_eq!(b3["transaction_id"], b1["transaction"]["id"]);
    assert_eq!(balance_of(&store, "HAZ_001").await, dec("9998.92"));

    // the same reference from another customer is independent
    let (s4, _) = topup(&store, &svc, "SMARTBIZ_001", SMARTBIZ_KEY, body).await;
    assert_eq!(s4, 200);

    // without a reference there is no de-duplication ...
    let plain = r#"{"phone":"5566374683","amount":10}"#;
    for _ in 0..2 {
        let (s, _) = topup(&store, &svc, "HAZ_001", HAZ_KEY, plain).await;
        assert_eq!(s, 200);
    }
    assert_eq!(balance_of(&store, "HAZ_001").await, dec("9997.84"));
    // ... unless an Idempotency-Key header is sent
    for _ in 0..2 {
        let mut req = topup_request("HAZ_001", HAZ_KEY, plain);
        req.headers_mut()
            .insert("idempotency-key", "K-1".parse().unwrap());
        let (s, _) = read(handlers::topup(req, store.as_ref(), &svc).await.unwrap()).await;
        assert_eq!(s, 200);
    }
    assert_eq!(balance_of(&store, "HAZ_001").await, dec("9997.30"));
    assert_ledger_ok(&store).await;
}

#[tokio::test]
async fn insufficient_balance_is_a_403_with_the_seed_body() {
    let store = store().await;
    put(&store, AccountSpec::new("LOW_001", "low_key_123", "5.00")).await;
    let svc = service(&store, "18.52");
    let req = topup_request(
        "LOW_001",
        "low_key_123",
        r#"{"phone":"5566374683","amount":200}"#,
    );
    let (status, body) = read(handlers::topup(req, store.as_ref(), &svc).await.unwrap()).await;
    assert_eq!(status, 403);
    assert_eq!(
        body,
        json!({
            "success": false,
            "error": "Insufficient balance",
            "current_balance_usd": 5,
            "requested_mxn": 200,
            "required_usd": 10.8,
            "exchange_rate": 18.52,
        })
    );
    assert_eq!(balance_of(&store, "LOW_001").await, dec("5.00"));
    // exactly the balance is allowed (prepaid, no overdraft): 5.00 USD buys 90 MXN = 4.86
    let req = topup_request(
        "LOW_001",
        "low_key_123",
        r#"{"phone":"5566374683","amount":90}"#,
    );
    let (status, body) = read(handlers::topup(req, store.as_ref(), &svc).await.unwrap()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(balance_of(&store, "LOW_001").await, dec("0.14"));
    assert_ledger_ok(&store).await;
}

#[tokio::test]
async fn daily_limits_are_429s_with_the_seed_body() {
    let store = store().await;
    seed_partners(&store).await;
    let svc = service(&store, "18.52");
    // HAZ: 5,000 MXN per customer per day. Use 4,800 (9 x 500 + 300), as in the seed example.
    for i in 0..9 {
        let b = format!(r#"{{"phone":"55663746{:02}","amount":500}}"#, i);
        let (s, body) = topup(&store, &svc, "HAZ_001", HAZ_KEY, &b).await;
        assert_eq!(s, 200, "{body}");
    }
    let (s, _) = topup(
        &store,
        &svc,
        "HAZ_001",
        HAZ_KEY,
        r#"{"phone":"5566374699","amount":300}"#,
    )
    .await;
    assert_eq!(s, 200);
    let before = balance_of(&store, "HAZ_001").await;
    let (s, body) = topup(
        &store,
        &svc,
        "HAZ_001",
        HAZ_KEY,
        r#"{"phone":"5566374698","amount":300}"#,
    )
    .await;
    assert_eq!(s, 429);
    assert_eq!(body["error"], json!("Daily transaction limit exceeded"));
    assert_eq!(body["daily_limit_mxn"], json!(5000));
    assert_eq!(body["used_today_mxn"], json!(4800));
    assert_eq!(body["requested_mxn"], json!(300));
    assert_eq!(body["available_mxn"], json!(200));
    assert_eq!(balance_of(&store, "HAZ_001").await, before);
    // 200 still fits exactly
    let (s, _) = topup(
        &store,
        &svc,
        "HAZ_001",
        HAZ_KEY,
        r#"{"phone":"5566374698","amount":200}"#,
    )
    .await;
    assert_eq!(s, 200);
    let (s, body) = topup(
        &store,
        &svc,
        "HAZ_001",
        HAZ_KEY,
        r#"{"phone":"5566374698","amount":10}"#,
    )
    .await;
    assert_eq!(s, 429);
    assert_eq!(body["available_mxn"], json!(0));

    // Per-phone limit (SmartBiz-style), small so the test is quick: 100 MXN per phone.
    let mut spec = AccountSpec::new("PHONE_001", "phone_key_123", "1000");
    spec.daily_limit_per_phone_mxn = Some("100");
    put(&store, spec).await;
    let (s, _) = topup(
        &store,
        &svc,
        "PHONE_001",
        "phone_key_123",
        r#"{"phone":"5512345678","amount":100}"#,
    )
    .await;
    assert_eq!(s, 200);
    let (s, body) = topup(
        &store,
        &svc,
        "PHONE_001",
        "phone_key_123",
        r#"{"phone":"5512345678","amount":10}"#,
    )
    .await;
    assert_eq!(s, 429);
    assert_eq!(body["limit_scope"], json!("phone"));
    assert_eq!(body["used_today_mxn"], json!(100));
    // another phone of the same partner is fine
    let (s, _) = topup(
        &store,
        &svc,
        "PHONE_001",
        "phone_key_123",
        r#"{"phone":"5512345679","amount":10}"#,
    )
    .await;
    assert_eq!(s, 200);
    // a single top-up above the whole limit
    let mut spec = AccountSpec::new("TINY_001", "tiny_key_123", "1000");
    spec.daily_limit_mxn = Some("50");
    put(&store, spec).await;
    let (s, body) = topup(
        &store,
        &svc,
        "TINY_001",
        "tiny_key_123",
        r#"{"phone":"5512345678","amount":100}"#,
    )
    .await;
    assert_eq!(s, 429);
    assert_eq!(body["available_mxn"], json!(50));
    assert_ledger_ok(&store).await;
}

#[tokio::test]
async fn bad_input_is_a_400_and_changes_nothing() {
    let store = store().await;
    seed_partners(&store).await;
    let svc = service(&store, "18.52");
    let auth = [("x-api-key", HAZ_KEY), ("x-customer-id", "HAZ_001")];
    let big = format!(
        r#"{{"phone":"5566374683","amount":20,"reference":"{}"}}"#,
        "x".repeat(10_000)
    );
    let cases: Vec<(Option<&str>, Option<&str>, &str)> = vec![
        (
            Some("application/json"),
            Some("{not json"),
            "Validation failed",
        ),
        (Some("application/json"), Some(""), "Validation failed"),
        (Some("application/json"), None, "Validation failed"),
        (Some("application/json"), Some("[1,2]"), "Validation failed"),
        (
            Some("text/plain"),
            Some(r#"{"phone":"5566374683","amount":20}"#),
            "Validation failed",
        ),
        (
            None,
            Some(r#"{"phone":"5566374683","amount":20}"#),
            "Validation failed",
        ),
        (Some("application/json"), Some(&big), "Validation failed"),
        (
            Some("application/json"),
            Some(r#"{"phone":"5566374683","amount":25}"#),
            "Invalid product amount",
        ),
        (
            Some("application/json"),
            Some(r#"{"phone":"12345","amount":20}"#),
            "Validation failed",
        ),
        (
            Some("application/json; charset=utf-8"),
            Some(r#"{"phone":"5566374683","amount":"x"}"#),
            "Validation failed",
        ),
    ];
    for (ct, body, error) in cases {
        let mut headers = auth.to_vec();
        if let Some(ct) = ct {
            headers.push(("content-type", ct));
        }
        let req = request("POST", "/api/enviadespensa/topup", &headers, body);
        let (status, resp) = read(handlers::topup(req, store.as_ref(), &svc).await.unwrap()).await;
        assert_eq!(status, 400, "{ct:?} {body:?}: {resp}");
        assert_eq!(resp["success"], json!(false));
        assert_eq!(resp["error"], json!(error));
    }
    let req = topup_request("HAZ_001", HAZ_KEY, r#"{"phone":"5566374683","amount":25}"#);
    let (_, resp) = read(handlers::topup(req, store.as_ref(), &svc).await.unwrap()).await;
    assert_eq!(
        resp,
        json!({
            "success": false,
            "error": "Invalid product amount",
            "message": "Only fixed amounts are allowed",
            "allowed_amounts": [10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 150, 200, 300, 500],
            "requested_amount": 25,
        })
    );
    assert_eq!(balance_of(&store, "HAZ_001").await, dec("10000"));
    assert!(store.ledger_entries("HAZ_001").await.unwrap().is_empty());
}

#[tokio::test]
async fn stale_or_missing_rate_is_refused_with_503() {
    use relier::domain::RateRecord;
    use relier::ports::RateWriter;
    use relier::topup::rates::StoredRate;
    use std::sync::Arc;
    use std::time::Duration;
    let store = store().await;
    seed_partners(&store).await;
    let mut svc = service(&store, "18.52");
    svc.rates = Arc::new(StoredRate::new(
        store.clone(),
        Duration::from_secs(6 * 3600),
        Duration::from_secs(0),
    ));
    let body = r#"{"phone":"5566374683","amount":20}"#;
    // no rate item at all
    let (s, b) = topup(&store, &svc, "HAZ_001", HAZ_KEY, body).await;
    assert_eq!(s, 503, "{b}");
    assert_eq!(b["success"], json!(false));
    // a rate 7 hours old
    store
        .put_rate(&RateRecord {
            rate: dec("18.52"),
            updated_at: chrono::Utc::now() - chrono::Duration::hours(7),
            source: "test".into(),
        })
        .await
        .unwrap();
    let (s, _) = topup(&store, &svc, "HAZ_001", HAZ_KEY, body).await;
    assert_eq!(s, 503);
    assert_eq!(balance_of(&store, "HAZ_001").await, dec("10000"));
    // a fresh one is used, and stored on the transaction
    store
        .put_rate(&RateRecord {
            rate: dec("17.0068"),
            updated_at: chrono::Utc::now(),
            source: "test".into(),
        })
        .await
        .unwrap();
    let (s, b) = topup(
        &store,
        &svc,
        "HAZ_001",
        HAZ_KEY,
        r#"{"phone":"5566374683","amount":50}"#,
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(b["transaction"]["amount_usd"], json!(2.94));
    let id =
        relier::domain::TransactionId::parse(b["transaction"]["id"].as_str().unwrap()).unwrap();
    let tx = store.get_transaction(&id).await.unwrap().unwrap();
    assert_eq!(tx.exchange_rate, dec("17.0068"));
}

#[tokio::test]
async fn warm_path_uses_at_most_two_writes() {
    let store = store().await;
    seed_partners(&store).await;
    let svc = service(&store, "18.52");
    // warm up
    topup(
        &store,
        &svc,
        "HAZ_001",
        HAZ_KEY,
        r#"{"phone":"5566374683","amount":10}"#,
    )
    .await;
    let (r0, w0) = (
        store.calls().reads.load(Ordering::SeqCst),
        store.calls().writes.load(Ordering::SeqCst),
    );
    let (s, _) = topup(
        &store,
        &svc,
        "HAZ_001",
        HAZ_KEY,
        r#"{"phone":"5566374683","amount":20,"reference":"W-1"}"#,
    )
    .await;
    assert_eq!(s, 200);
    let writes = store.calls().writes.load(Ordering::SeqCst) - w0;
    let reads = store.calls().reads.load(Ordering::SeqCst) - r0;
    assert_eq!(writes, 2, "debit transaction + finalize");
    assert_eq!(
        reads, 1,
        "one consistent account read (auth + exact balance)"
    );
}

#[tokio::test]
async fn unknown_provider_outcome_stays_pending_and_charged() {
    let store = store().await;
    seed_partners(&store).await;
    let svc = service(&store, "18.52");
    let req = topup_request(
        "HAZ_001",
        HAZ_KEY,
        r#"{"phone":"5500000002","amount":20,"reference":"U-1"}"#,
    );
    let (status, body) = read(handlers::topup(req, store.as_ref(), &svc).await.unwrap()).await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["transaction"]["status"], json!("PENDING"));
    let id = body["transaction"]["id"].as_str().unwrap();
    assert_eq!(
        body["check_status_url"],
        json!(format!("/api/transaction/{id}"))
    );
    let tx = store
        .get_transaction(&relier::domain::TransactionId::parse(id).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(tx.status, relier::domain::TxStatus::Processing);
    assert_eq!(balance_of(&store, "HAZ_001").await, dec("9998.92"));
}

#[tokio::test]
async fn status_endpoint_errors() {
    let store = store().await;
    seed_partners(&store).await;
    let svc = service(&store, "18.52");
    let (_, b) = topup(
        &store,
        &svc,
        "HAZ_001",
        HAZ_KEY,
        r#"{"phone":"5566374683","amount":20}"#,
    )
    .await;
    let id = b["transaction"]["id"].as_str().unwrap().to_owned();
    let status_of = |headers: Vec<(&'static str, &'static str)>, id: String| {
        let store = store.clone();
        async move {
            let req = with_path_id(
                request("GET", &format!("/api/transaction/{id}"), &headers, None),
                &id,
            );
            read(
                handlers::transaction_status(req, store.as_ref(), store.as_ref())
                    .await
                    .unwrap(),
            )
            .await
        }
    };
    assert_eq!(
        status_of(vec![], "RLRNOSUCHTRANSACTION0000000000".into())
            .await
            .0,
        404
    );
    assert_eq!(status_of(vec![], "../../etc/passwd".into()).await.0, 404);
    assert_eq!(
        status_of(
            vec![("x-api-key", HAZ_KEY), ("x-customer-id", "HAZ_001")],
            id.clone()
        )
        .await
        .0,
        200
    );
    assert_eq!(
        status_of(
            vec![("x-api-key", "bad"), ("x-customer-id", "HAZ_001")],
            id.clone()
        )
        .await
        .0,
        401
    );
    let (s, b) = status_of(
        vec![
            ("x-api-key", SMARTBIZ_KEY),
            ("x-customer-id", "SMARTBIZ_001"),
        ],
        id.clone(),
    )
    .await;
    assert_eq!(s, 403);
    assert_eq!(b["success"], json!(false));
    // the id also works from the raw path when no path parameters are given (cargo lambda watch)
    let req = request("GET", &format!("/api/transaction/{id}"), &[], None);
    let (s, _) = read(
        handlers::transaction_status(req, store.as_ref(), store.as_ref())
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn accepted_topups_per_minute_are_limited_per_customer() {
    // GIVEN a partner allowed 3 top-ups per minute, and a clock we control
    let store = store().await;
    let mut spec = AccountSpec::new("RATE_001", "rate_key_1234", "100");
    spec.max_per_minute = Some(3);
    put(&store, spec).await;
    let start = chrono::Utc::now()
        .date_naive()
        .and_hms_opt(12, 0, 10)
        .unwrap()
        .and_utc();
    let clock = std::sync::Arc::new(relier::adapters::clock::ManualClock::new(start));
    let svc = service_with(
        &store,
        std::sync::Arc::new(RecordingProvider::default()),
        "18.52",
        clock.clone(),
    );
    let body = r#"{"phone":"5566374683","amount":10}"#;
    for _ in 0..3 {
        assert_eq!(
            topup(&store, &svc, "RATE_001", "rate_key_1234", body)
                .await
                .0,
            200
        );
    }
    // WHEN a 4th arrives in the same minute
    let (status, resp) = topup(&store, &svc, "RATE_001", "rate_key_1234", body).await;
    // THEN 429 "Too many requests", nothing charged
    assert_eq!(status, 429, "{resp}");
    assert_eq!(resp["success"], json!(false));
    assert_eq!(resp["error"], json!("Too many requests"));
    assert_eq!(resp["limit_per_minute"], json!(3));
    assert_eq!(resp["retry_after_seconds"], json!(50));
    assert_eq!(balance_of(&store, "RATE_001").await, dec("98.38"));
    // AND a refusal for another reason does not use up the window; the next minute is open
    clock.advance(chrono::Duration::seconds(60));
    assert_eq!(
        topup(&store, &svc, "RATE_001", "rate_key_1234", body)
            .await
            .0,
        200
    );
    assert_eq!(balance_of(&store, "RATE_001").await, dec("97.84"));
    assert_ledger_ok(&store).await;
}
