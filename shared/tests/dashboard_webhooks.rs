//! The dashboard's Webhooks page against DynamoDB Local: the signed-in customer's endpoint
//! (never its signing secret), its latest deliveries, the low-balance threshold; nothing of
//! another customer; outside text escaped; signed-out requests refused.

mod common;
#[path = "common/dashboard.rs"]
mod dashboard_support;

use chrono::{Duration, Utc};
use common::*;
use dashboard_support::*;
use relier::adapters::clock::ManualClock;
use relier::webhooks::{AttemptRecord, DeliveryStatus, Endpoint, EventType, OutboxEvent};
use relier::webhooks::{WebhookReader, WebhookStore};
use serde_json::json;
use std::sync::Arc;

const HOSTILE_URL: &str = r#"https://hooks.example/"><script>alert(1)</script>"#;
const HOSTILE_RESULT: &str = "HTTP 500 <img src=x onerror=alert(2)>";

#[tokio::test]
async fn the_page_shows_the_endpoint_and_deliveries_but_never_the_secret() {
    // GIVEN HAZ with an endpoint for two event types, and two top-ups (their events are in the
    // outbox, written with the outcome)
    let store = store().await;
    seed_partners(&store).await;
    let now = Utc::now();
    let events = Some(vec![EventType::TopupSucceeded, EventType::TopupFailed]);
    let (ep, secret) = Endpoint::new("HAZ_001", "https://hooks.haz.example/relier", events, now);
    store.put_endpoint(&ep).await.unwrap();
    let svc = service(&store, "18.52");
    for phone in ["5566374683", "5500000001"] {
        let body = json!({"phone": phone, "amount": 10}).to_string();
        topup(&store, &svc, "HAZ_001", HAZ_KEY, &body).await;
    }
    let d = dashboard(&store, Arc::new(ManualClock::new(now)));
    let cookie = signed_in(&d, "HAZ_001", HAZ_KEY).await;

    // WHEN the partner reads /api/dashboard/webhooks
    let (status, body) = get_json(&d, "/api/dashboard/webhooks", &cookie).await;

    // THEN the endpoint is there, enabled, with its events, and the secret only "set"
    assert_eq!(status, 200, "{body}");
    let e = &body["endpoint"];
    assert_eq!(e["url"], json!("https://hooks.haz.example/relier"));
    assert_eq!(e["events"], json!(["topup.succeeded", "topup.failed"]));
    assert_eq!(
        (e["enabled"].clone(), e["disabled_reason"].clone()),
        (json!(true), json!(null))
    );
    assert_eq!(e["signing_secret"], json!("set"));
    // AND the deliveries are the store's, newest first, with their state
    let listed = store.list_deliveries("HAZ_001", 50).await.unwrap();
    let rows = body["deliveries"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    let types: Vec<_> = rows.iter().map(|r| r["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["topup.failed", "topup.succeeded"]);
    assert_eq!(rows[0]["event_id"], json!(listed[0].event.id));
    assert_eq!(
        (rows[0]["status"].clone(), rows[0]["attempts"].clone()),
        (json!("PENDING"), json!(0))
    );
    // AND the low-balance threshold (HAZ: the 1,000 USD default)
    assert_eq!(body["low_balance_threshold_usd"], json!(1000));

    // WHEN the page is opened (in English) THEN the same, and no secret anywhere
    let resp = get(&d, "/dashboard/webhooks?lang=en", &cookie).await;
    assert_eq!(resp.status(), 200);
    let page = text(&resp);
    assert!(page.contains(r#"id="wh-endpoint""#) && page.contains("hooks.haz.example"));
    assert!(page.contains(&format!(r#"data-id="{}""#, listed[1].event.id)));
    assert!(page.contains(r#"href="/dashboard/webhooks" aria-current="page""#));
    assert!(page.contains("1,000.00 USD"));
    for text in [page.as_str(), &body.to_string()] {
        assert!(!text.contains(&secret.expose()));
        assert!(!text.contains("whsec_"), "not even the prefix");
    }
    // AND the Spanish page says the same in Spanish
    let es = text(&get(&d, "/dashboard/webhooks?lang=es", &cookie).await);
    assert!(es.contains("Últimos envíos") && es.contains(r#"<html lang="es">"#));
}

#[tokio::test]
async fn another_customers_endpoint_and_deliveries_are_never_shown() {
    // GIVEN SmartBiz has an endpoint and an event; HAZ has neither
    let store = store().await;
    seed_partners(&store).await;
    let now = Utc::now();
    let (ep, _) = Endpoint::new("SMARTBIZ_001", "https://smartbiz.example/hooks", None, now);
    store.put_endpoint(&ep).await.unwrap();
    let ping = OutboxEvent::new("SMARTBIZ_001", EventType::Ping, json!({}), now);
    store.insert_event(&ping).await.unwrap();
    let d = dashboard(&store, Arc::new(ManualClock::new(now)));

    // WHEN HAZ opens its Webhooks page and JSON
    let haz = signed_in(&d, "HAZ_001", HAZ_KEY).await;
    let (_, body) = get_json(&d, "/api/dashboard/webhooks", &haz).await;
    let page = text(&get(&d, "/dashboard/webhooks?lang=en", &haz).await);

    // THEN HAZ sees "none configured — ask ops", and nothing of SmartBiz's
    assert_eq!(body["endpoint"], json!(null));
    assert_eq!(body["deliveries"], json!([]));
    assert!(page.contains(r#"id="wh-none""#) && page.contains("Ask your account manager"));
    for text in [page.as_str(), &body.to_string()] {
        assert!(!text.contains("smartbiz.example") && !text.contains(&ping.id));
    }
    // AND SmartBiz sees its own endpoint (all events) and its ping
    let sb = signed_in(&d, "SMARTBIZ_001", SMARTBIZ_KEY).await;
    let (_, body) = get_json(&d, "/api/dashboard/webhooks", &sb).await;
    assert_eq!(
        body["endpoint"]["url"],
        json!("https://smartbiz.example/hooks")
    );
    assert_eq!(body["endpoint"]["events"], json!("all"));
    assert_eq!(body["deliveries"][0]["event_id"], json!(ping.id));
}

#[tokio::test]
async fn a_hostile_url_reason_and_last_result_are_escaped() {
    // GIVEN an endpoint whose URL carries markup (written straight to the store), a delivery
    // whose receiver answered with markup, and the endpoint disabled after a 410 with markup
    let store = store().await;
    seed_partners(&store).await;
    let now = Utc::now();
    let (ep, _) = Endpoint::new("HAZ_001", HOSTILE_URL, None, now);
    store.put_endpoint(&ep).await.unwrap();
    let event = OutboxEvent::new("HAZ_001", EventType::Ping, json!({}), now);
    store.insert_event(&event).await.unwrap();
    assert!(store
        .claim_attempt("HAZ_001", &event.id, 0, now + Duration::seconds(30))
        .await
        .unwrap());
    let next = now + Duration::seconds(5);
    let record = AttemptRecord {
        status: DeliveryStatus::Pending,
        result: HOSTILE_RESULT.into(),
        at: now,
        next_attempt_at: Some(next),
    };
    store
        .record_attempt("HAZ_001", &event.id, 1, &record)
        .await
        .unwrap();
    store
        .disable_endpoint("HAZ_001", "410 Gone <b>bye</b>", now)
        .await
        .unwrap();
    let d = dashboard(&store, Arc::new(ManualClock::new(now)));
    let cookie = signed_in(&d, "HAZ_001", HAZ_KEY).await;

    // WHEN the page is rendered
    let page = text(&get(&d, "/dashboard/webhooks?lang=en", &cookie).await);

    // THEN the outside text is shown escaped, never as markup
    assert!(!page.contains("<script>alert(1)") && !page.contains("<img") && !page.contains("<b>"));
    assert!(page.contains("&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(page.contains("HTTP 500 &lt;img src=x onerror=alert(2)&gt;"));
    assert!(page.contains("410 Gone &lt;b&gt;bye&lt;/b&gt;"));
    // AND the JSON says disabled, why, and when the next attempt is due
    let (_, body) = get_json(&d, "/api/dashboard/webhooks", &cookie).await;
    assert_eq!(body["endpoint"]["enabled"], json!(false));
    assert_eq!(
        body["endpoint"]["disabled_reason"],
        json!("410 Gone <b>bye</b>")
    );
    let row = &body["deliveries"][0];
    assert_eq!(
        (row["attempts"].clone(), row["last_result"].clone()),
        (json!(1), json!(HOSTILE_RESULT))
    );
    assert_eq!(
        row["next_attempt_at"],
        json!(relier::api::json::timestamp(next))
    );
}

#[tokio::test]
async fn signed_out_requests_get_401_json_or_the_sign_in_page() {
    // GIVEN an endpoint for HAZ and no session
    let store = store().await;
    seed_partners(&store).await;
    let (ep, _) = Endpoint::new("HAZ_001", "https://hooks.haz.example/x", None, Utc::now());
    store.put_endpoint(&ep).await.unwrap();
    let d = dashboard(&store, Arc::new(ManualClock::new(Utc::now())));
    for cookie in ["", "relier_session=forged"] {
        // WHEN the JSON is asked for THEN 401 JSON
        let (status, body) = get_json(&d, "/api/dashboard/webhooks", cookie).await;
        assert_eq!((status, body["success"].clone()), (401, json!(false)));
        // WHEN the page is asked for THEN a redirect to sign-in, and nothing of the endpoint
        let resp = get(&d, "/dashboard/webhooks", cookie).await;
        assert_eq!(resp.status(), 303);
        assert_eq!(resp.headers()["location"], "/dashboard");
        assert!(!text(&resp).contains("hooks.haz.example"));
    }
}
