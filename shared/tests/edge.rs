//! The API's edge against DynamoDB Local: the 300-requests-per-15-minutes window and its
//! headers, Retry-After on every 429, IP allowlists (partner and distributor), GET /api/limits.

mod common;

use chrono::TimeZone;
use common::*;
use lambda_http::{Body, Request, Response};
use relier::adapters::clock::{ManualClock, SystemClock};
use relier::adapters::dynamo::DynamoStore;
use relier::api::edge::gate::Gate;
use relier::api::edge::routes;
use relier::api::edge::window::RequestWindows;
use relier::ports::Clock;
use serde_json::{json, Value};

fn gate<'a>(store: &'a DynamoStore, clock: &'a dyn Clock) -> Gate<'a> {
    Gate {
        accounts: store,
        windows: store,
        clock,
    }
}

fn h(resp: &Response<Body>, name: &str) -> Option<String> {
    resp.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
}

fn creds<'a>(customer: &'a str, key: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![("x-api-key", key), ("x-customer-id", customer)]
}

/// A request as API Gateway (REST) delivers it, from `source_ip`.
fn from_ip(
    method: &str,
    path: &str,
    source_ip: &str,
    headers: Value,
    body: Option<&str>,
) -> Request {
    let event = json!({
        "resource": path, "path": path, "httpMethod": method,
        "headers": headers, "multiValueHeaders": {}, "queryStringParameters": null,
        "multiValueQueryStringParameters": null, "pathParameters": null, "stageVariables": null,
        "requestContext": {"resourcePath": path, "httpMethod": method, "path": format!("/v1{path}"),
            "accountId": "123456789012", "stage": "v1", "requestId": "r-ip",
            "identity": {"sourceIp": source_ip}, "apiId": "a1"},
        "body": body, "isBase64Encoded": false
    });
    lambda_http::request::from_str(&event.to_string()).unwrap()
}

#[tokio::test]
async fn the_301st_request_of_a_window_is_a_429_with_retry_after() {
    // GIVEN an account on the guides' default (300 / 15 min) and a clock 5 minutes into a
    // window (tomorrow: the counters' TTL must lie in the future, DynamoDB Local expires items)
    let store = store().await;
    put(
        &store,
        AccountSpec::new("RATE_001", "rate-key-0123456789", "100"),
    )
    .await;
    let start =
        relier::api::edge::window::window_start(chrono::Utc::now() + chrono::Duration::days(1));
    let start = chrono::Utc.timestamp_opt(start, 0).unwrap();
    let clock = ManualClock::new(start + chrono::Duration::minutes(5));
    let g = gate(&store, &clock);
    // WHEN it calls /api/balance 300 times
    for i in 1..=300u32 {
        let req = request(
            "GET",
            "/api/balance",
            &creds("RATE_001", "rate-key-0123456789"),
            None,
        );
        let resp = routes::balance(req, g).await.unwrap();
        // THEN each answer counts down
        assert_eq!(resp.status(), 200, "request {i}");
        assert_eq!(h(&resp, "x-ratelimit-limit").as_deref(), Some("300"));
        assert_eq!(
            h(&resp, "x-ratelimit-remaining"),
            Some((300 - i).to_string())
        );
        assert_eq!(
            h(&resp, "ratelimit-policy").as_deref(),
            Some("\"15min\";q=300;w=900")
        );
    }
    // AND the 301st is refused with the seed's shape and Retry-After = time to 10:15
    let req = request(
        "GET",
        "/api/balance",
        &creds("RATE_001", "rate-key-0123456789"),
        None,
    );
    let resp = routes::balance(req, g).await.unwrap();
    assert_eq!(resp.status(), 429);
    assert_eq!(h(&resp, "retry-after").as_deref(), Some("600"));
    assert_eq!(h(&resp, "x-ratelimit-remaining").as_deref(), Some("0"));
    let reset = start + chrono::Duration::minutes(15);
    assert_eq!(
        h(&resp, "x-ratelimit-reset"),
        Some(reset.timestamp().to_string())
    );
    assert_eq!(
        h(&resp, "ratelimit").as_deref(),
        Some("\"15min\";r=0;t=600")
    );
    let (_, body) = read(resp).await;
    assert_eq!(body["success"], json!(false));
    assert_eq!(body["error"], json!("Too many requests"));
    assert_eq!(body["retry_after_seconds"], json!(600));
    // AND the refusal was not counted; the next window starts from zero
    let customer = relier::domain::CustomerId::parse("RATE_001").unwrap();
    assert_eq!(
        store
            .requests_in_window(&customer, clock.now())
            .await
            .unwrap(),
        300
    );
    clock.advance(chrono::Duration::minutes(10));
    let req = request(
        "GET",
        "/api/balance",
        &creds("RATE_001", "rate-key-0123456789"),
        None,
    );
    let resp = routes::balance(req, g).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(h(&resp, "x-ratelimit-remaining").as_deref(), Some("299"));
}

#[tokio::test]
async fn a_refused_topup_changes_nothing_and_every_answer_has_the_headers() {
    // GIVEN an account allowed 2 requests per 15 minutes
    let store = store().await;
    let mut spec = AccountSpec::new("RATE_002", "rate-key-2-0123456789", "100");
    spec.max_per_15min = Some(2);
    put(&store, spec).await;
    let svc = service(&store, "18.52");
    let clock = SystemClock;
    let g = gate(&store, &clock);
    let topup = |body: &'static str| topup_request("RATE_002", "rate-key-2-0123456789", body);
    // WHEN it sends a bad top-up (400) and a good one
    let resp = routes::topup(topup(r#"{"phone":"5566374683","amount":25}"#), g, &svc)
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert_eq!(h(&resp, "x-ratelimit-remaining").as_deref(), Some("1"));
    let resp = routes::topup(topup(r#"{"phone":"5566374683","amount":20}"#), g, &svc)
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(h(&resp, "x-ratelimit-remaining").as_deref(), Some("0"));
    let before = balance_of(&store, "RATE_002").await;
    // THEN the third is a 429 that charges nothing and writes no ledger line
    let resp = routes::topup(topup(r#"{"phone":"5566374683","amount":20}"#), g, &svc)
        .await
        .unwrap();
    assert_eq!(resp.status(), 429);
    assert!(h(&resp, "retry-after").is_some());
    assert_eq!(balance_of(&store, "RATE_002").await, before);
    assert_eq!(store.ledger_entries("RATE_002").await.unwrap().len(), 1);
    assert_ledger_ok(&store).await;
    // AND wrong credentials are a plain 401 without window headers
    let resp = routes::balance(
        request("GET", "/api/balance", &creds("RATE_002", "wrong"), None),
        g,
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), 401);
    assert!(h(&resp, "x-ratelimit-limit").is_none());
}

#[tokio::test]
async fn the_daily_limit_429_says_retry_at_midnight_utc() {
    // GIVEN an account with a 10 MXN daily limit that used it
    let store = store().await;
    let mut spec = AccountSpec::new("DAILY_001", "daily-key-0123456789", "100");
    spec.daily_limit_mxn = Some("10");
    put(&store, spec).await;
    let svc = service(&store, "18.52");
    let clock = SystemClock;
    let g = gate(&store, &clock);
    let body = r#"{"phone":"5566374683","amount":10}"#;
    let req = topup_request("DAILY_001", "daily-key-0123456789", body);
    assert_eq!(routes::topup(req, g, &svc).await.unwrap().status(), 200);
    // WHEN it tops up again
    let req = topup_request("DAILY_001", "daily-key-0123456789", body);
    let resp = routes::topup(req, g, &svc).await.unwrap();
    // THEN 429 with Retry-After = seconds until 00:00 UTC
    assert_eq!(resp.status(), 429);
    let expected =
        relier::api::partner::error::seconds_until_utc_midnight(chrono::Utc::now()) as i64;
    let got: i64 = h(&resp, "retry-after").unwrap().parse().unwrap();
    assert!((got - expected).abs() <= 2, "{got} vs {expected}");
    assert!(h(&resp, "x-ratelimit-remaining").is_some());
}

#[tokio::test]
async fn an_allowlist_admits_only_its_addresses_from_the_request_context() {
    // GIVEN an account that may call only from 203.0.113.0/24
    let store = store().await;
    let mut spec = AccountSpec::new("IPLOCK_001", "iplock-key-0123456789", "100");
    spec.allowed_ips = vec!["203.0.113.0/24".into()];
    put(&store, spec).await;
    let clock = SystemClock;
    let g = gate(&store, &clock);
    let headers = json!({"x-api-key": "iplock-key-0123456789", "x-customer-id": "IPLOCK_001"});
    // WHEN it calls from inside the block
    let resp = routes::balance(
        from_ip("GET", "/api/balance", "203.0.113.9", headers.clone(), None),
        g,
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), 200);
    // THEN ok; from 127.0.0.1 it is 403 with the guide's body, and X-Forwarded-For does not help
    let mut spoofed = headers.clone();
    spoofed["x-forwarded-for"] = json!("203.0.113.9");
    for req in [
        from_ip("GET", "/api/balance", "127.0.0.1", headers.clone(), None),
        from_ip("GET", "/api/balance", "127.0.0.1", spoofed, None),
        // no request context at all: the address is unknown, so not on the list
        request(
            "GET",
            "/api/balance",
            &creds("IPLOCK_001", "iplock-key-0123456789"),
            None,
        ),
    ] {
        let (status, body) = read(routes::balance(req, g).await.unwrap()).await;
        assert_eq!(status, 403);
        assert_eq!(
            body,
            json!({"success": false, "error": "IP not authorized"})
        );
    }
    // AND refused requests did not use up the window (only the admitted one counted)
    let customer = relier::domain::CustomerId::parse("IPLOCK_001").unwrap();
    assert_eq!(
        store
            .requests_in_window(&customer, clock.now())
            .await
            .unwrap(),
        1
    );
}

#[tokio::test]
async fn distributor_sign_in_honours_the_allowlist() {
    // GIVEN SmartBiz with an allowlist excluding 127.0.0.1
    let store = store().await;
    seed_partners(&store).await;
    let tokens =
        relier::api::distributor::TokenIssuer::new(b"edge-test-secret-0123456789abcdef").unwrap();
    let body = json!({"customer_id": "SMARTBIZ_001", "secret_key": SMARTBIZ_SECRET}).to_string();
    let headers = json!({"content-type": "application/json"});
    let mut sb = account(
        &AccountSpec::new("SMARTBIZ_001", SMARTBIZ_KEY, "200"),
        "SmartBiz Telecom",
    );
    sb.secret_key_hash = Some(relier::domain::credentials::hash_key(SMARTBIZ_SECRET));
    sb.allowed_ips = vec!["198.51.100.0/24".into()];
    store.put_account(&sb, false).await.unwrap();
    // WHEN it signs in from 127.0.0.1, then from inside the block
    let outside = from_ip(
        "POST",
        "/api/distributor/login",
        "127.0.0.1",
        headers.clone(),
        Some(&body),
    );
    let (status, b) = read(
        relier::api::distributor::login(outside, store.as_ref(), &tokens)
            .await
            .unwrap(),
    )
    .await;
    // THEN 403 "IP not authorized" in the distributor shape; inside, tokens
    assert_eq!(status, 403);
    assert_eq!(b["error"], json!("IP not authorized"));
    assert_eq!(b["response_code"], json!("05"));
    let inside = from_ip(
        "POST",
        "/api/distributor/login",
        "198.51.100.20",
        headers,
        Some(&body),
    );
    let (status, b) = read(
        relier::api::distributor::login(inside, store.as_ref(), &tokens)
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{b}");
}

#[tokio::test]
async fn limits_report_what_the_debit_counted() {
    // GIVEN HAZ (5,000 MXN/day per customer) and SmartBiz (per phone) after one top-up each
    let store = store().await;
    seed_partners(&store).await;
    let svc = service(&store, "18.52");
    let clock = SystemClock;
    let g = gate(&store, &clock);
    let body = r#"{"phone":"5566374683","amount":20}"#;
    for (c, k) in [("HAZ_001", HAZ_KEY), ("SMARTBIZ_001", SMARTBIZ_KEY)] {
        let resp = routes::topup(topup_request(c, k, body), g, &svc)
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
    }
    // WHEN each asks GET /api/limits?phone=5566374683
    let counters = store.as_ref();
    let ask = |c: &'static str, k: &'static str| {
        let req = request("GET", "/api/limits?phone=5566374683", &creds(c, k), None);
        async move { routes::limits(req, g, counters).await.unwrap() }
    };
    let resp = ask("HAZ_001", HAZ_KEY).await;
    assert!(h(&resp, "x-ratelimit-remaining").is_some());
    let (status, haz) = read(resp).await;
    // THEN HAZ sees its customer-wide usage, SmartBiz its phone's
    assert_eq!(status, 200, "{haz}");
    assert_eq!(
        haz["daily"]["customer"],
        json!({"limit_mxn": 5000, "used_mxn": 20, "remaining_mxn": 4980})
    );
    assert_eq!(haz["daily"]["phone"]["used_mxn"], Value::Null);
    // (the seed partners here have no per-minute limit, so nothing counts their minute)
    assert_eq!(haz["topups_per_minute"]["limit"], Value::Null);
    assert_eq!(haz["topups_per_minute"]["used"], Value::Null);
    assert_eq!(haz["requests_per_15min"]["used"], json!(2));
    assert_eq!(haz["requests_per_15min"]["limit"], json!(300));
    let (_, sb) = read(ask("SMARTBIZ_001", SMARTBIZ_KEY).await).await;
    assert_eq!(sb["daily"]["phone"]["used_mxn"], json!(20));
    assert_eq!(sb["daily"]["phone"]["remaining_mxn"], json!(199980));
    assert_eq!(sb["daily"]["customer"]["limit_mxn"], Value::Null);
    // AND a malformed phone is a 400 in the seed shape
    let req = request(
        "GET",
        "/api/limits?phone=123",
        &creds("HAZ_001", HAZ_KEY),
        None,
    );
    let (status, b) = read(routes::limits(req, g, store.as_ref()).await.unwrap()).await;
    assert_eq!(status, 400);
    assert_eq!(b["error"], json!("Validation failed"));
}
