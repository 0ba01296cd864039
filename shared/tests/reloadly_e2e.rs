//! The partner flows with `TOPUP_PROVIDER=reloadly`: a wiremock fake of Reloadly's HTTP API,
//! the real Reloadly client, DynamoDB Local and moto SQS. Also `fx-refresh` writing the rate.

mod common;

use common::*;
use relier::adapters::clock::SystemClock;
use relier::adapters::select::provider_from_lookup;
use relier::api::partner as handlers;
use relier::ports::RateReader;
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;
use wiremock::matchers::{body_partial_json, method, path, path_regex};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const OK_PHONE: &str = "5566374683";
const BAD_PHONE: &str = "5566374600";

/// A fake Reloadly: token, auto-detect, /topups (SUCCESSFUL, or INVALID_PHONE_NUMBER for
/// BAD_PHONE), fx-rate, balance.
async fn fake_reloadly() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "tok", "scope": "send-topups", "expires_in": 86400, "token_type": "Bearer"
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path_regex(
            r"^/operators/auto-detect/phone/\d+/countries/MX$",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": 1234, "operatorId": 1234, "name": "Telcel Mexico", "country": {"isoName": "MX"}
        })))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/topups"))
        .and(body_partial_json(
            json!({"recipientPhone": {"number": format!("52{BAD_PHONE}")}}),
        ))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "timeStamp": 1, "message": "Invalid phone number", "path": "/topups",
            "errorCode": "INVALID_PHONE_NUMBER", "infoLink": null
        })))
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/topups"))
        .respond_with(|req: &Request| {
            let body: serde_json::Value = serde_json::from_slice(&req.body).unwrap();
            ResponseTemplate::new(200).set_body_json(json!({
                "transactionId": 4242,
                "status": "SUCCESSFUL",
                "operatorTransactionId": "TELCEL-77",
                "customIdentifier": body["customIdentifier"],
                "requestedAmount": body["amount"],
                "deliveredAmount": body["amount"],
                "deliveredAmountCurrencyCode": "MXN",
            }))
        })
        .with_priority(5)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/operators/countries/MX"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            {"id": 1234, "operatorId": 1234, "name": "Telcel Mexico"}
        ])))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/operators/fx-rate"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": 1234, "name": "Telcel Mexico", "fxRate": 18.7731, "currencyCode": "MXN"
        })))
        .mount(&server)
        .await;
    server
}

async fn reloadly(server: &MockServer) -> Arc<dyn relier::ports::TopupProvider> {
    let settings = HashMap::from([
        ("MODE", "PRODUCTION".to_owned()),
        ("TOPUP_PROVIDER", "reloadly".to_owned()),
        ("RELOADLY_ENV", "sandbox".to_owned()),
        ("RELOADLY_AUTH_URL", server.uri()),
        ("RELOADLY_API_URL", server.uri()),
        ("RELOADLY_CLIENT_ID", "client".to_owned()),
        ("RELOADLY_CLIENT_SECRET", "secret".to_owned()),
        ("RELOADLY_TIMEOUT_MS", "5000".to_owned()),
    ]);
    provider_from_lookup(move |name| settings.get(name).cloned())
        .await
        .unwrap()
}

#[tokio::test]
async fn sync_and_async_partner_flows_go_through_reloadly() {
    let server = fake_reloadly().await;
    let store = store().await;
    seed_partners(&store).await;
    let svc = service_with(
        &store,
        reloadly(&server).await,
        "18.52",
        Arc::new(SystemClock),
    );

    // sync: delivered through POST /topups, recorded with Reloadly's operator id and name
    let req = topup_request(
        "HAZ_001",
        HAZ_KEY,
        &format!(r#"{{"phone":"{OK_PHONE}","amount":20,"reference":"R-1"}}"#),
    );
    let (status, body) = read(handlers::topup(req, store.as_ref(), &svc).await.unwrap()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["transaction"]["provider"], json!("reloadly"));
    assert_eq!(
        body["transaction"]["operatorTransactionId"],
        json!("TELCEL-77")
    );
    let sent: Vec<serde_json::Value> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == "/topups")
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["customIdentifier"], body["transaction"]["id"]);
    assert_eq!(sent[0]["amount"], json!(20));
    assert_eq!(sent[0]["useLocalAmount"], json!(true));

    // sync, definite failure upstream: FAILED and refunded
    let before = balance_of(&store, "HAZ_001").await;
    let req = topup_request(
        "HAZ_001",
        HAZ_KEY,
        &format!(r#"{{"phone":"{BAD_PHONE}","amount":50}}"#),
    );
    let (status, body) = read(handlers::topup(req, store.as_ref(), &svc).await.unwrap()).await;
    assert_eq!(status, 500, "{body}");
    assert_eq!(body["transaction"]["status"], json!("FAILED"));
    assert_eq!(balance_of(&store, "HAZ_001").await, before);

    // async: accepted, then the worker delivers it through Reloadly
    let sqs = aws_sdk_sqs::Client::new(&sdk().await);
    let name = unique("t-rl");
    let url = relier::adapters::sqs::create_queues(&sqs, &name, &format!("{name}-dlq"))
        .await
        .unwrap();
    let queue = relier::adapters::sqs::SqsQueue::new(sqs.clone(), url.clone());
    let req = request(
        "POST",
        "/api/enviadespensa/topup-async",
        &[
            ("content-type", "application/json"),
            ("x-api-key", HAZ_KEY),
            ("x-customer-id", "HAZ_001"),
        ],
        Some(&format!(
            r#"{{"phone":"{OK_PHONE}","amount":30,"reference":"R-2"}}"#
        )),
    );
    let (status, body) = read(
        handlers::topup_async(req, store.as_ref(), &svc, &queue)
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    let id = body["transaction"]["id"].as_str().unwrap().to_owned();
    let event = receive_event(&sqs, &url).await;
    assert_eq!(event.records.len(), 1);
    let resp = relier::jobs::worker::handle_batch(event, store.as_ref(), &svc).await;
    assert!(resp.batch_item_failures.is_empty());
    let req = with_path_id(request("GET", "/x", &[], None), &id);
    let (_, body) = read(
        handlers::transaction_status(req, store.as_ref(), store.as_ref())
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(body["transaction"]["status"], json!("SUCCESS"));
    assert_eq!(body["transaction"]["provider"], json!("reloadly"));
    assert_eq!(
        body["transaction"]["operator_transaction_id"],
        json!("TELCEL-77")
    );
    assert_ledger_ok(&store).await;
}

#[tokio::test]
async fn fx_refresh_writes_the_rate_item_with_the_spread() {
    let server = fake_reloadly().await;
    let store = store().await;
    let settings = HashMap::from([
        ("RELOADLY_ENV", "sandbox".to_owned()),
        ("RELOADLY_AUTH_URL", server.uri()),
        ("RELOADLY_API_URL", server.uri()),
        ("RELOADLY_CLIENT_ID", "client".to_owned()),
        ("RELOADLY_CLIENT_SECRET", "secret".to_owned()),
    ]);
    let config =
        relier::adapters::reloadly::ReloadlyConfig::from_lookup(|n| settings.get(n).cloned())
            .await
            .unwrap();
    let provider = relier::adapters::reloadly::ReloadlyProvider::new(config).unwrap();
    // 1% spread: 18.7731 * 0.99 = 18.585369 -> 18.5853 (4 places, toward zero)
    let record =
        relier::jobs::fx_refresh::refresh(&provider, store.as_ref(), &SystemClock, dec("1"))
            .await
            .unwrap();
    assert_eq!(record.rate, dec("18.5853"));
    assert_eq!(record.source, "reloadly");
    let stored = store.get_rate().await.unwrap().unwrap();
    assert_eq!(stored.rate, dec("18.5853"));
    assert!((chrono::Utc::now() - stored.updated_at).num_seconds() < 60);

    // the partner API prices with the refreshed rate (the stored-rate source, not a fixed one)
    seed_partners(&store).await;
    let mut svc = service(&store, "1");
    svc.rates = Arc::new(relier::topup::rates::StoredRate::new(
        store.clone(),
        std::time::Duration::from_secs(6 * 3600),
        std::time::Duration::from_secs(60),
    ));
    let req = topup_request("HAZ_001", HAZ_KEY, r#"{"phone":"5566374683","amount":100}"#);
    let (status, body) = read(handlers::topup(req, store.as_ref(), &svc).await.unwrap()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["transaction"]["exchange_rate"], json!(18.5853));
    assert_eq!(body["transaction"]["amount_usd"], json!(5.38)); // 100 / 18.5853 = 5.3806..

    // an implausible feed is refused and the stored rate is left alone
    let bad = relier::jobs::fx_refresh::refresh(
        &relier::jobs::fx_refresh::FixedFeed(dec("0.05")),
        store.as_ref(),
        &SystemClock,
        dec("0"),
    )
    .await;
    assert!(bad.is_err());
    assert_eq!(
        store.get_rate().await.unwrap().unwrap().rate,
        dec("18.5853")
    );
}
