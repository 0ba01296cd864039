//! The partner dashboard against DynamoDB Local: sign-in and sessions, data bound to the
//! session's customer, listing filters and pages, charts. The browser test
//! (`infra/local/browser_test.py`) drives the same pages in Chromium; the Webhooks page has its
//! own suite (`dashboard_webhooks.rs`).

mod common;
#[path = "common/dashboard.rs"]
mod dashboard_support;

use chrono::{Duration, Utc};
use common::*;
use dashboard_support::*;
use relier::adapters::clock::ManualClock;
use relier::api::dashboard::session;
use serde_json::{json, Value};
use std::sync::Arc;

#[tokio::test]
async fn wrong_credentials_get_one_generic_error_and_no_cookie() {
    // GIVEN the seed partners
    let store = store().await;
    seed_partners(&store).await;
    let d = dashboard(&store, Arc::new(ManualClock::new(Utc::now())));
    // WHEN signing in with a wrong key, an unknown customer, another customer's key
    let mut pages = Vec::new();
    for (customer, key) in [
        ("HAZ_001", "wrong"),
        ("NOPE_001", HAZ_KEY),
        ("SMARTBIZ_001", HAZ_KEY),
    ] {
        let resp = login(&d, customer, key, Some(ORIGIN)).await;
        // THEN 401, the same message, and no session cookie
        assert_eq!(resp.status(), 401);
        assert!(set_cookies(&resp)
            .iter()
            .all(|c| !c.starts_with("relier_session")));
        let page = text(&resp);
        assert!(page.contains(r#"id="login-error""#));
        pages.push(page.replace(customer, ""));
    }
    assert!(
        pages.windows(2).all(|w| w[0] == w[1]),
        "nothing tells which field was wrong"
    );
}

#[tokio::test]
async fn state_changes_from_another_origin_are_refused() {
    let store = store().await;
    seed_partners(&store).await;
    let d = dashboard(&store, Arc::new(ManualClock::new(Utc::now())));
    for origin in [None, Some("https://evil.example")] {
        let resp = login(&d, "HAZ_001", HAZ_KEY, origin).await;
        assert_eq!(resp.status(), 403);
        assert!(set_cookies(&resp).is_empty());
    }
}

#[tokio::test]
async fn session_is_hashed_sliding_and_ends_at_sign_out() {
    // GIVEN a signed-in partner
    let store = store().await;
    seed_partners(&store).await;
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let d = dashboard(&store, clock.clone());
    let resp = login(&d, "HAZ_001", HAZ_KEY, Some(ORIGIN)).await;
    assert_eq!(resp.headers()["location"], "/dashboard/overview");
    let raw = set_cookies(&resp)
        .into_iter()
        .find(|c| c.starts_with("relier_session="))
        .unwrap();
    for attr in ["HttpOnly", "SameSite=Strict", "Max-Age=1800", "Path=/"] {
        assert!(raw.contains(attr), "{raw}");
    }
    assert!(!raw.contains("Secure"), "plain http in sandbox");
    let cookie = raw.split(';').next().unwrap().to_owned();
    let id = cookie.trim_start_matches("relier_session=");
    // THEN only the id's hash is stored
    use relier::api::dashboard::ports::SessionStore;
    assert!(store
        .get_session(&session::hash_id(id))
        .await
        .unwrap()
        .is_some());
    assert!(store.get_session(id).await.unwrap().is_none());

    // WHEN the partner keeps using it every 20 minutes THEN it stays alive past 30 minutes
    for _ in 0..3 {
        clock.advance(Duration::minutes(20));
        let (status, body) = get_json(&d, "/api/dashboard/overview", &cookie).await;
        assert_eq!(status, 200, "{body}");
    }
    // WHEN idle for 31 minutes THEN it is gone: pages send to sign-in, the API says 401
    clock.advance(Duration::minutes(31));
    let resp = get(&d, "/dashboard/overview", &cookie).await;
    assert_eq!(
        (
            resp.status().as_u16(),
            resp.headers()["location"].to_str().unwrap()
        ),
        (303, "/dashboard")
    );
    assert_eq!(
        get_json(&d, "/api/dashboard/overview", &cookie).await.0,
        401
    );

    // GIVEN a fresh session WHEN signing out THEN the cookie is cleared and the session deleted
    let cookie = signed_in(&d, "HAZ_001", HAZ_KEY).await;
    let resp = d
        .handle(request(
            "POST",
            "/dashboard/logout",
            &[
                ("cookie", &cookie),
                ("origin", ORIGIN),
                ("host", "127.0.0.1:9000"),
            ],
            None,
        ))
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    assert!(set_cookies(&resp)
        .iter()
        .any(|c| c.starts_with("relier_session=;") && c.contains("Max-Age=0")));
    assert_eq!(
        get_json(&d, "/api/dashboard/overview", &cookie).await.0,
        401
    );
    let page = get(&d, "/dashboard", &cookie).await;
    assert!(text(&page).contains(r#"action="/dashboard/login""#));
}

#[tokio::test]
async fn data_is_the_sessions_customers_only_and_reuses_the_partner_views() {
    // GIVEN top-ups by HAZ and by SmartBiz
    let store = store().await;
    seed_partners(&store).await;
    let svc = service(&store, "18.52");
    let mut haz_ids = Vec::new();
    for (phone, amount, reference) in [
        ("5566374683", 20, "A-1"),
        ("5500000001", 10, "A-2"),
        ("5566374684", 50, "A-3"),
    ] {
        let body = json!({"phone": phone, "amount": amount, "reference": reference}).to_string();
        let (_, b) = topup(&store, &svc, "HAZ_001", HAZ_KEY, &body).await;
        haz_ids.push(b["transaction"]["id"].as_str().unwrap().to_owned());
    }
    let (_, b) = topup(
        &store,
        &svc,
        "SMARTBIZ_001",
        SMARTBIZ_KEY,
        r#"{"phone":"5537686660","amount":10}"#,
    )
    .await;
    let smartbiz_tx = b["transaction"]["id"].as_str().unwrap().to_owned();
    let d = dashboard(&store, Arc::new(ManualClock::new(Utc::now())));
    let cookie = signed_in(&d, "HAZ_001", HAZ_KEY).await;

    // THEN the overview's balance is /api/balance's body
    let (_, overview) = get_json(&d, "/api/dashboard/overview", &cookie).await;
    let (_, api_balance) = read(
        relier::api::partner::balance(
            request(
                "GET",
                "/api/balance",
                &[("x-api-key", HAZ_KEY), ("x-customer-id", "HAZ_001")],
                None,
            ),
            store.as_ref(),
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(overview["balance"], api_balance);
    assert_eq!(
        overview["today"]["used_mxn"],
        json!(70),
        "20 + 50; the failed 10 was given back"
    );
    assert_eq!(overview["today"]["daily_limit_mxn"], json!(5000));
    assert_eq!(overview["last_24h"]["success_rate_percent"], json!(66.7));
    // AND the low-balance threshold is the one `balance.low` uses (HAZ has none of its own:
    // the 1,000 USD default, marked as such), never "not set"
    assert_eq!(overview["low_balance_threshold_usd"], json!(1000));
    assert_eq!(overview["low_balance_threshold_is_default"], json!(true));

    // THEN the listing is newest first, pages by cursor, filters by status/phone/reference
    let (_, p1) = get_json(&d, "/api/dashboard/transactions?limit=2", &cookie).await;
    let ids: Vec<&str> = p1["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [haz_ids[2].as_str(), haz_ids[1].as_str()]);
    let cursor = p1["next_cursor"].as_str().expect("a next page");
    let path = format!(
        "/api/dashboard/transactions?limit=2&cursor={}",
        relier::api::dashboard::web::encode(cursor)
    );
    let (_, p2) = get_json(&d, &path, &cookie).await;
    assert_eq!(p2["transactions"][0]["id"], json!(haz_ids[0]));
    assert_eq!(p2["next_cursor"], Value::Null);
    let (_, failed) = get_json(&d, "/api/dashboard/transactions?status=FAILED", &cookie).await;
    assert_eq!(failed["count"], json!(1));
    assert_eq!(failed["transactions"][0]["phone"], json!("5500000001"));
    let (_, by_phone) = get_json(&d, "/api/dashboard/transactions?phone=5566374684", &cookie).await;
    assert_eq!(by_phone["transactions"][0]["reference"], json!("A-3"));
    let (_, by_ref) = get_json(&d, "/api/dashboard/transactions?reference=A-1", &cookie).await;
    assert_eq!(by_ref["transactions"][0]["id"], json!(haz_ids[0]));
    let (status, bad) = get_json(&d, "/api/dashboard/transactions?status=LOST", &cookie).await;
    assert_eq!(
        (status, bad["error"].clone()),
        (400, json!("Validation failed"))
    );
    assert_eq!(
        get_json(&d, "/api/dashboard/transactions?cursor=forged", &cookie)
            .await
            .0,
        400
    );

    // THEN a detail carries the status endpoint's fields plus balance before/after
    let (status, detail) = get_json(
        &d,
        &format!("/api/dashboard/transactions/{}", haz_ids[0]),
        &cookie,
    )
    .await;
    assert_eq!(status, 200);
    let mut expected = relier::api::partner::views::transaction_status(
        &relier::ports::TransactionReader::get_transaction(
            store.as_ref(),
            &relier::domain::TransactionId::parse(&haz_ids[0]).unwrap(),
        )
        .await
        .unwrap()
        .unwrap(),
    )["transaction"]
        .clone();
    expected["balance_before_usd"] = json!(10000);
    expected["balance_after_usd"] = json!(9998.92);
    assert_eq!(detail["transaction"], expected);

    // THEN another customer's transaction does not exist here (API and page)
    let (status, _) = get_json(
        &d,
        &format!("/api/dashboard/transactions/{smartbiz_tx}"),
        &cookie,
    )
    .await;
    assert_eq!(status, 404);
    let page = get(
        &d,
        &format!("/dashboard/transactions/{smartbiz_tx}"),
        &cookie,
    )
    .await;
    assert_eq!(page.status(), 404);
    assert!(!text(&page).contains("5537686660"));

    // THEN the CSV has a header and the filtered rows
    let csv = text(&get(&d, "/dashboard/export.csv?status=SUCCESS", &cookie).await);
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("transaction_id,created_at"));
    assert_eq!(lines.len(), 3, "{csv}");

    // THEN the charts have 30 days, today's volume is the successful MXN
    let (_, charts) = get_json(&d, "/api/dashboard/charts", &cookie).await;
    let days = charts["days"].as_array().unwrap();
    assert_eq!(days.len(), 30);
    assert_eq!(days[29]["volume_mxn"], json!(70));
    assert_eq!(
        (days[29]["success"].clone(), days[29]["failed"].clone()),
        (json!(2), json!(1))
    );
    let page = text(&get(&d, "/dashboard/charts", &cookie).await);
    assert_eq!(
        page.matches(r#"<rect class="bar""#).count(),
        60,
        "30 MXN + 30 USD bars"
    );

    // THEN the listing and the statement are the partner API's bodies (one source of truth)
    let today = today();
    let partner = |path: String| {
        request(
            "GET",
            &path,
            &[("x-api-key", HAZ_KEY), ("x-customer-id", "HAZ_001")],
            None,
        )
    };
    let q = format!("date_from={today}&date_to={today}&limit=2");
    let (_, api_list) = read(
        relier::api::reports::transactions(
            partner(format!("/api/transactions?{q}")),
            store.as_ref(),
            store.as_ref(),
        )
        .await
        .unwrap(),
    )
    .await;
    let (_, mine) = get_json(&d, &format!("/api/dashboard/transactions?{q}"), &cookie).await;
    let mut stripped = mine.clone();
    for row in stripped["transactions"].as_array_mut().unwrap() {
        let row = row.as_object_mut().unwrap();
        row.remove("balance_before_usd");
        row.remove("balance_after_usd");
    }
    assert_eq!(stripped, api_list);
    let q = format!("date_from={today}&date_to={today}");
    let (_, api_statement) = read(
        relier::api::reports::statement(
            partner(format!("/api/statement?{q}")),
            store.as_ref(),
            store.as_ref(),
        )
        .await
        .unwrap(),
    )
    .await;
    let (_, mut mine) = get_json(&d, &format!("/api/dashboard/statement?{q}"), &cookie).await;
    mine["generated_at"] = api_statement["generated_at"].clone();
    assert_eq!(mine, api_statement);

    // THEN the statement's lines add up from opening to closing
    let (_, st) = get_json(&d, "/api/dashboard/statement", &cookie).await;
    assert_eq!(st["opening_balance_usd"], json!(10000));
    assert_eq!(
        st["lines"].as_array().unwrap().len(),
        4,
        "3 debits + 1 refund"
    );
    assert_eq!(st["closing_balance_usd"], api_balance["current_balance"]);
}

#[tokio::test]
async fn assets_are_hashed_compressed_and_cacheable_pages_are_not() {
    let store = store().await;
    let d = dashboard(&store, Arc::new(ManualClock::new(Utc::now())));
    let page = d
        .handle(request("GET", "/dashboard", &[], None))
        .await
        .unwrap();
    assert_eq!(page.headers()["cache-control"], "no-store");
    let csp = page.headers()["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("script-src 'self'")
            && csp.contains("frame-ancestors 'none'")
            && !csp.contains("unsafe-inline")
    );
    assert_eq!(page.headers()["x-content-type-options"], "nosniff");
    assert_eq!(page.headers()["referrer-policy"], "same-origin");
    let html = text(&page);
    let css = relier::api::dashboard::assets::url("app.css");
    assert!(html.contains(&css));
    let resp = d
        .handle(request(
            "GET",
            &css,
            &[("accept-encoding", "gzip, br")],
            None,
        ))
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-encoding"], "gzip");
    assert!(resp.headers()["cache-control"]
        .to_str()
        .unwrap()
        .contains("immutable"));
    let etag = resp.headers()["etag"].to_str().unwrap().to_owned();
    let again = d
        .handle(request("GET", &css, &[("if-none-match", &etag)], None))
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    let stale = d
        .handle(request(
            "GET",
            "/dashboard/assets/app.000000000000.css",
            &[],
            None,
        ))
        .await
        .unwrap();
    assert_eq!(stale.status(), 404);
}
