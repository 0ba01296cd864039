//! The Reloadly client against a local fake of Reloadly's HTTP API (wiremock). No internet.

use relier::adapters::failover::FailoverProvider;
use relier::adapters::reloadly::{
    ReloadlyConfig, ReloadlyCredentials, ReloadlyEnv, ReloadlyError, ReloadlyProvider,
    TOPUPS_MEDIA_TYPE,
};
use relier::adapters::select::provider_from_lookup;
use relier::config::ProviderConfigError;
use relier::domain::{MxnAmount, Phone, TransactionId};
use relier::ports::{ProviderStatus, TopupOutcome, TopupProvider, TopupRequest};
use rust_decimal_macros::dec;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use wiremock::matchers::{
    bearer_token, body_partial_json, header, method, path, path_regex, query_param,
};
use wiremock::{Mock, MockServer, ResponseTemplate};

const PHONE: &str = "5512345678";
const PHONE_INTL: &str = "525512345678";
const TELCEL: i64 = 1234;
const SECRET: &str = "s3cr3t-value";

fn config(server: &MockServer, timeout: Duration) -> ReloadlyConfig {
    let mut c = ReloadlyConfig::new(
        ReloadlyCredentials::new("client-1", SECRET),
        ReloadlyEnv::Sandbox,
    );
    c.auth_url = server.uri();
    c.api_url = server.uri();
    c.connect_timeout = Duration::from_millis(500);
    c.timeout = timeout;
    c
}

fn provider(server: &MockServer) -> ReloadlyProvider {
    ReloadlyProvider::new(config(server, Duration::from_secs(5))).unwrap()
}

fn request(phone: &str, amount: u32) -> TopupRequest {
    TopupRequest {
        transaction_id: TransactionId::generate(),
        phone: Phone::parse(phone).unwrap(),
        amount: MxnAmount::parse(amount).unwrap(),
    }
}

fn token_body(token: &str) -> Value {
    json!({"access_token": token, "scope": "send-topups", "expires_in": 86400, "token_type": "Bearer"})
}

async fn mount_token(server: &MockServer, expected_calls: u64) {
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(token_body("tok-1")))
        .expect(expected_calls)
        .named("token")
        .mount(server)
        .await;
}

async fn mount_detect(
    server: &MockServer,
    phone_intl: &str,
    operator_id: i64,
    expected_calls: u64,
) {
    Mock::given(method("GET"))
        .and(path(format!(
            "/operators/auto-detect/phone/{phone_intl}/countries/MX"
        )))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": operator_id, "operatorId": operator_id, "name": "Telcel Mexico",
            "country": {"isoName": "MX", "name": "Mexico"}
        })))
        .expect(expected_calls)
        .named("auto-detect")
        .mount(server)
        .await;
}

fn successful(req: &TopupRequest, op_tx: &str) -> Value {
    json!({
        "transactionId": 4242,
        "status": "SUCCESSFUL",
        "operatorTransactionId": op_tx,
        "customIdentifier": req.transaction_id.as_str(),
        "recipientPhone": format!("52{}", req.phone.as_str()),
        "operatorId": TELCEL,
        "requestedAmount": req.amount.value(),
        "deliveredAmount": req.amount.value(),
        "deliveredAmountCurrencyCode": "MXN",
    })
}

fn error_body(code: &str, message: &str) -> Value {
    json!({"timeStamp": 1700000000000u64, "message": message, "path": "/topups", "errorCode": code, "infoLink": null})
}

fn for_tx(req: &TopupRequest) -> impl wiremock::Match {
    body_partial_json(json!({"customIdentifier": req.transaction_id.as_str()}))
}

async fn topup_posts(server: &MockServer) -> usize {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.method.as_str() == "POST" && r.url.path() == "/topups")
        .count()
}

// ---- token --------------------------------------------------------------------------------

#[tokio::test]
async fn token_is_fetched_once_and_reused_for_many_topups() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .and(body_partial_json(json!({
            "client_id": "client-1",
            "client_secret": SECRET,
            "grant_type": "client_credentials",
            "audience": "https://topups-sandbox.reloadly.com",
        })))
        // expires_in as a string, as in one of the doc samples
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"access_token": "tok-1", "scope": "", "expires_in": "5184000", "token_type": "Bearer"}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    mount_detect(&server, PHONE_INTL, TELCEL, 1).await;
    Mock::given(method("POST"))
        .and(path("/topups"))
        .and(bearer_token("tok-1"))
        .and(header("accept", TOPUPS_MEDIA_TYPE))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"status": "SUCCESSFUL", "operatorTransactionId": "OP", "transactionId": 1}),
        ))
        .expect(5)
        .mount(&server)
        .await;

    let p = provider(&server);
    for _ in 0..5 {
        let out = p.send_topup(&request(PHONE, 50)).await;
        assert!(matches!(out, TopupOutcome::Success { .. }), "{out:?}");
    }
}

#[tokio::test]
async fn concurrent_callers_share_one_token_fetch() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(token_body("tok-1"))
                .set_delay(Duration::from_millis(200)),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path_regex(
            "^/operators/auto-detect/phone/52[0-9]{10}/countries/MX$",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"operatorId": TELCEL})))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/topups"))
        .and(bearer_token("tok-1"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"status": "SUCCESSFUL", "operatorTransactionId": "OP"})),
        )
        .expect(10)
        .mount(&server)
        .await;

    let p = Arc::new(provider(&server));
    let tasks: Vec<_> = (0..10)
        .map(|i| {
            let p = Arc::clone(&p);
            tokio::spawn(
                async move { p.send_topup(&request(&format!("55000000{i:02}"), 20)).await },
            )
        })
        .collect();
    for out in futures::future::join_all(tasks).await {
        assert!(matches!(out.unwrap(), TopupOutcome::Success { .. }));
    }
}

#[tokio::test]
async fn token_expired_401_refreshes_once_and_retries_the_request() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(token_body("old")))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(token_body("new")))
        .expect(1)
        .mount(&server)
        .await;
    mount_detect(&server, PHONE_INTL, TELCEL, 1).await;
    // The cached detect result was obtained with "old"; now "old" has expired.
    let p = provider(&server);
    assert_eq!(
        p.detect_operator(&Phone::parse(PHONE).unwrap())
            .await
            .unwrap(),
        TELCEL
    );

    Mock::given(method("POST"))
        .and(path("/topups"))
        .and(bearer_token("old"))
        .respond_with(
            ResponseTemplate::new(401).set_body_json(error_body("TOKEN_EXPIRED", "Expired token")),
        )
        .expect(1)
        .mount(&server)
        .await;
    let req = request(PHONE, 100);
    Mock::given(method("POST"))
        .and(path("/topups"))
        .and(bearer_token("new"))
        .respond_with(ResponseTemplate::new(200).set_body_json(successful(&req, "OP-NEW")))
        .expect(1)
        .mount(&server)
        .await;

    let out = p.send_topup(&req).await;
    assert_eq!(
        out,
        TopupOutcome::Success {
            operator_transaction_id: "OP-NEW".into()
        }
    );
}

#[tokio::test]
async fn a_second_401_is_a_definite_failure_without_looping() {
    let server = MockServer::start().await;
    mount_token(&server, 2).await;
    mount_detect(&server, PHONE_INTL, TELCEL, 1).await;
    Mock::given(method("POST"))
        .and(path("/topups"))
        .respond_with(
            ResponseTemplate::new(401).set_body_json(error_body("AUTHENTICATION_FAILURE", "nope")),
        )
        .expect(2)
        .mount(&server)
        .await;
    let out = provider(&server).send_topup(&request(PHONE, 50)).await;
    assert!(matches!(out, TopupOutcome::Failed { .. }), "{out:?}");
}

#[tokio::test]
async fn a_token_with_no_lifetime_left_is_refetched() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"access_token": "t", "expires_in": 0})),
        )
        .expect(2)
        .mount(&server)
        .await;
    mount_detect(&server, PHONE_INTL, TELCEL, 1).await;
    Mock::given(method("POST"))
        .and(path("/topups"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"status": "SUCCESSFUL", "operatorTransactionId": "OP"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let p = provider(&server);
    assert!(matches!(
        p.send_topup(&request(PHONE, 10)).await,
        TopupOutcome::Success { .. }
    ));
}

#[tokio::test]
async fn bad_credentials_fail_definitely_and_send_nothing() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(json!({"errorCode": "INVALID_CREDENTIALS", "message": "bad"})),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/topups"))
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&server)
        .await;
    let out = provider(&server).send_topup(&request(PHONE, 10)).await;
    match out {
        TopupOutcome::Failed { reason } => assert!(!reason.contains(SECRET)),
        other => panic!("{other:?}"),
    }
}

// ---- operator auto-detect -----------------------------------------------------------------

#[tokio::test]
async fn operator_is_detected_once_per_phone_and_cached() {
    let server = MockServer::start().await;
    mount_token(&server, 1).await;
    mount_detect(&server, PHONE_INTL, TELCEL, 1).await;
    mount_detect(&server, "525598765432", 99, 1).await;
    Mock::given(method("POST"))
        .and(path("/topups"))
        .and(body_partial_json(json!({"operatorId": TELCEL})))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"status": "SUCCESSFUL", "operatorTransactionId": "A"})),
        )
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/topups"))
        .and(body_partial_json(json!({"operatorId": 99})))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"status": "SUCCESSFUL", "operatorTransactionId": "B"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let p = provider(&server);
    for phone in [PHONE, PHONE, "5598765432"] {
        assert!(matches!(
            p.send_topup(&request(phone, 30)).await,
            TopupOutcome::Success { .. }
        ));
    }
}

#[tokio::test]
async fn operator_cache_entries_expire() {
    let server = MockServer::start().await;
    mount_token(&server, 1).await;
    mount_detect(&server, PHONE_INTL, TELCEL, 2).await;
    let mut c = config(&server, Duration::from_secs(5));
    c.operator_cache_ttl = Duration::from_millis(50);
    let p = ReloadlyProvider::new(c).unwrap();
    let phone = Phone::parse(PHONE).unwrap();
    p.detect_operator(&phone).await.unwrap();
    p.detect_operator(&phone).await.unwrap();
    tokio::time::sleep(Duration::from_millis(80)).await;
    p.detect_operator(&phone).await.unwrap();
}

#[tokio::test]
async fn could_not_auto_detect_operator_is_a_definite_failure_and_nothing_is_sent() {
    let server = MockServer::start().await;
    mount_token(&server, 1).await;
    Mock::given(method("GET"))
        .and(path(format!(
            "/operators/auto-detect/phone/{PHONE_INTL}/countries/MX"
        )))
        .respond_with(ResponseTemplate::new(404).set_body_json(error_body(
            "COULD_NOT_AUTO_DETECT_OPERATOR",
            "Could not auto detect operator for given phone number",
        )))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/topups"))
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&server)
        .await;
    match provider(&server).send_topup(&request(PHONE, 50)).await {
        TopupOutcome::Failed { reason } => {
            assert!(reason.contains("mobile operator"), "{reason}");
            assert!(
                reason.contains("COULD_NOT_AUTO_DETECT_OPERATOR"),
                "{reason}"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn unreachable_reloadly_is_a_definite_failure() {
    let server = MockServer::start().await;
    mount_token(&server, 1).await;
    // A port nobody listens on: connect errors prove nothing was sent.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let mut c = config(&server, Duration::from_secs(5));
    c.api_url = format!("http://127.0.0.1:{port}");
    let out = ReloadlyProvider::new(c)
        .unwrap()
        .send_topup(&request(PHONE, 50))
        .await;
    assert!(matches!(out, TopupOutcome::Failed { .. }), "{out:?}");
}

// ---- top-up outcomes ----------------------------------------------------------------------

#[tokio::test]
async fn successful_topup_sends_the_documented_body_and_headers() {
    let server = MockServer::start().await;
    mount_token(&server, 1).await;
    mount_detect(&server, PHONE_INTL, TELCEL, 1).await;
    let req = request(PHONE, 200);
    Mock::given(method("POST"))
        .and(path("/topups"))
        .and(header("accept", TOPUPS_MEDIA_TYPE))
        .and(header("authorization", "Bearer tok-1"))
        .and(wiremock::matchers::body_json(json!({
            "operatorId": TELCEL,
            "amount": 200,
            "useLocalAmount": true,
            "customIdentifier": req.transaction_id.as_str(),
            "recipientPhone": {"countryCode": "MX", "number": PHONE_INTL},
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(successful(&req, "TELCEL-778899")))
        .expect(1)
        .mount(&server)
        .await;
    let p = provider(&server);
    assert_eq!(p.name(), "reloadly");
    assert_eq!(
        p.send_topup(&req).await,
        TopupOutcome::Success {
            operator_transaction_id: "TELCEL-778899".into()
        }
    );
}

#[tokio::test]
async fn every_documented_error_code_is_a_definite_failure() {
    let codes = [
        "INSUFFICIENT_BALANCE",
        "INVALID_AMOUNT_FOR_OPERATOR",
        "INVALID_AMOUNT",
        "INVALID_RECIPIENT_PHONE",
        "INVALID_PHONE_NUMBER",
        "OPERATOR_UNAVAILABLE_OR_CURRENTLY_INACTIVE",
        "OPERATOR_NOT_IN_SERVICE",
        "PHONE_RECENTLY_RECHARGED",
        "MAX_DAILY_TRANSACTION_COUNT_REACHED",
        "MAX_DAILY_TRANSACTION_AMOUNT_REACHED",
        "COUNTRY_NOT_SUPPORTED",
        "INACTIVE_ACCOUNT",
        "ACCOUNT_NOT_FOUND",
        "TOPUP_TRANSACTION_FAILED",
        "TRANSACTION_CANNOT_BE_PROCESSED_AT_THE_MOMENT",
    ];
    let server = MockServer::start().await;
    mount_token(&server, 1).await;
    Mock::given(method("GET"))
        .and(path_regex("^/operators/auto-detect/"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"operatorId": TELCEL})))
        .mount(&server)
        .await;
    let p = provider(&server);
    for (i, code) in codes.iter().enumerate() {
        let req = request(PHONE, 50);
        // Reloadly uses 400 for most business errors; vary the status a little.
        let status = if i % 3 == 0 { 422 } else { 400 };
        Mock::given(method("POST"))
            .and(path("/topups"))
            .and(for_tx(&req))
            .respond_with(ResponseTemplate::new(status).set_body_json(error_body(code, "rejected")))
            .expect(1)
            .mount(&server)
            .await;
        match p.send_topup(&req).await {
            TopupOutcome::Failed { reason } => assert!(reason.contains(code), "{code}: {reason}"),
            other => panic!("{code}: expected Failed, got {other:?}"),
        }
    }
    // The code as printed with spaces in seed 004 is understood too.
    let req = request(PHONE, 50);
    Mock::given(method("POST"))
        .and(path("/topups"))
        .and(for_tx(&req))
        .respond_with(ResponseTemplate::new(422).set_body_json(error_body(
            "OPERATOR_UNAVAILABLE_OR_ CURRENTLY INACTIVE",
            "operator down",
        )))
        .mount(&server)
        .await;
    assert!(matches!(
        p.send_topup(&req).await,
        TopupOutcome::Failed { .. }
    ));
    assert_eq!(
        topup_posts(&server).await,
        codes.len() + 1,
        "each top-up posted exactly once"
    );
}

#[tokio::test]
async fn an_unrecognized_business_error_is_unknown_not_failed() {
    let server = MockServer::start().await;
    mount_token(&server, 1).await;
    mount_detect(&server, PHONE_INTL, TELCEL, 1).await;
    Mock::given(method("POST"))
        .and(path("/topups"))
        .respond_with(ResponseTemplate::new(409).set_body_json(error_body("SOMETHING_NEW", "?")))
        .expect(1)
        .mount(&server)
        .await;
    let out = provider(&server).send_topup(&request(PHONE, 50)).await;
    assert!(matches!(out, TopupOutcome::Unknown { .. }), "{out:?}");
}

#[tokio::test]
async fn processing_is_unknown_then_the_status_poll_says_successful() {
    let server = MockServer::start().await;
    mount_token(&server, 1).await;
    mount_detect(&server, PHONE_INTL, TELCEL, 1).await;
    let req = request(PHONE, 100);
    let id = req.transaction_id.as_str();
    Mock::given(method("POST"))
        .and(path("/topups"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"transactionId": 777, "status": "PROCESSING", "customIdentifier": id}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/topups/reports/transactions"))
        .and(query_param("customIdentifier", id))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "content": [{"transactionId": 777, "status": "PROCESSING", "customIdentifier": id}],
            "totalElements": 1
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/topups/777/status"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "code": null, "message": null, "status": "SUCCESSFUL",
            "transaction": {"transactionId": 777, "status": "SUCCESSFUL", "operatorTransactionId": "OP-777", "customIdentifier": id}
        })))
        .expect(1)
        .mount(&server)
        .await;

    let p = provider(&server);
    assert!(matches!(
        p.send_topup(&req).await,
        TopupOutcome::Unknown { .. }
    ));
    assert_eq!(
        p.status(&req).await,
        ProviderStatus::Successful {
            operator_transaction_id: "OP-777".into()
        }
    );
}

#[tokio::test]
async fn a_timeout_is_unknown_and_the_topup_is_never_posted_twice() {
    let server = MockServer::start().await;
    mount_token(&server, 1).await;
    mount_detect(&server, PHONE_INTL, TELCEL, 1).await;
    let req = request(PHONE, 50);
    Mock::given(method("POST"))
        .and(path("/topups"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(successful(&req, "LATE"))
                .set_delay(Duration::from_millis(1500)),
        )
        .expect(1)
        .mount(&server)
        .await;
    let p = ReloadlyProvider::new(config(&server, Duration::from_millis(400))).unwrap();
    let started = std::time::Instant::now();
    let out = p.send_topup(&req).await;
    assert!(matches!(out, TopupOutcome::Unknown { .. }), "{out:?}");
    assert!(
        started.elapsed() < Duration::from_millis(1200),
        "the client timeout applied"
    );
    assert_eq!(topup_posts(&server).await, 1);
}

#[tokio::test]
async fn a_5xx_is_unknown_and_not_retried() {
    for status in [500u16, 502, 503] {
        let server = MockServer::start().await;
        mount_token(&server, 1).await;
        mount_detect(&server, PHONE_INTL, TELCEL, 1).await;
        Mock::given(method("POST"))
            .and(path("/topups"))
            .respond_with(
                ResponseTemplate::new(status)
                    .set_body_json(error_body("INTERNAL_SERVER_ERROR", "boom")),
            )
            .expect(1)
            .mount(&server)
            .await;
        let out = provider(&server).send_topup(&request(PHONE, 50)).await;
        assert!(
            matches!(out, TopupOutcome::Unknown { .. }),
            "{status}: {out:?}"
        );
    }
}

#[tokio::test]
async fn an_unreadable_success_is_unknown() {
    let server = MockServer::start().await;
    mount_token(&server, 1).await;
    mount_detect(&server, PHONE_INTL, TELCEL, 1).await;
    Mock::given(method("POST"))
        .and(path("/topups"))
        .respond_with(ResponseTemplate::new(200).set_body_string("<html>gateway</html>"))
        .expect(1)
        .mount(&server)
        .await;
    let out = provider(&server).send_topup(&request(PHONE, 50)).await;
    assert!(matches!(out, TopupOutcome::Unknown { .. }), "{out:?}");
}

#[tokio::test]
async fn a_duplicate_custom_identifier_looks_the_status_up() {
    let server = MockServer::start().await;
    mount_token(&server, 1).await;
    mount_detect(&server, PHONE_INTL, TELCEL, 1).await;
    let req = request(PHONE, 50);
    let id = req.transaction_id.as_str();
    Mock::given(method("POST"))
        .and(path("/topups"))
        .respond_with(ResponseTemplate::new(400).set_body_json(error_body(
            "INVALID_REQUEST",
            "customIdentifier already used for another transaction",
        )))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/topups/reports/transactions"))
        .and(query_param("customIdentifier", id))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "content": [{"transactionId": 31, "status": "SUCCESSFUL", "operatorTransactionId": "OP-31", "customIdentifier": id}]
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/topups/31/status"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"status": "SUCCESSFUL", "transaction": {"operatorTransactionId": "OP-31"}}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    assert_eq!(
        provider(&server).send_topup(&req).await,
        TopupOutcome::Success {
            operator_transaction_id: "OP-31".into()
        }
    );
}

#[tokio::test]
async fn a_duplicate_whose_status_is_unavailable_stays_unknown() {
    let server = MockServer::start().await;
    mount_token(&server, 1).await;
    mount_detect(&server, PHONE_INTL, TELCEL, 1).await;
    Mock::given(method("POST"))
        .and(path("/topups"))
        .respond_with(
            ResponseTemplate::new(409)
                .set_body_json(error_body("DUPLICATED_TRANSACTION", "duplicate")),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/topups/reports/transactions"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let out = provider(&server).send_topup(&request(PHONE, 50)).await;
    assert!(matches!(out, TopupOutcome::Unknown { .. }), "{out:?}");
}

// ---- status -------------------------------------------------------------------------------

async fn status_with(report: ResponseTemplate, live: Option<ResponseTemplate>) -> ProviderStatus {
    let server = MockServer::start().await;
    mount_token(&server, 1).await;
    Mock::given(method("GET"))
        .and(path("/topups/reports/transactions"))
        .respond_with(report)
        .mount(&server)
        .await;
    if let Some(live) = live {
        Mock::given(method("GET"))
            .and(path("/topups/55/status"))
            .respond_with(live)
            .mount(&server)
            .await;
    }
    provider(&server).status(&fixed_request()).await
}

fn fixed_request() -> TopupRequest {
    TopupRequest {
        transaction_id: TransactionId::parse("RLRSTATUSTEST0000000000000001").unwrap(),
        phone: Phone::parse(PHONE).unwrap(),
        amount: MxnAmount::parse(50).unwrap(),
    }
}

fn report_of(status: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({"content": [{
        "transactionId": 55, "status": status, "operatorTransactionId": "OP-55",
        "customIdentifier": "RLRSTATUSTEST0000000000000001"
    }]}))
}

fn live_of(status: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(
        json!({"status": status, "transaction": {"transactionId": 55, "status": status}}),
    )
}

#[tokio::test]
async fn status_maps_refunded_and_failed_to_failed() {
    for s in ["REFUNDED", "FAILED"] {
        let got = status_with(report_of("PROCESSING"), Some(live_of(s))).await;
        match got {
            ProviderStatus::Failed { reason } => assert!(reason.contains(s), "{reason}"),
            other => panic!("{s}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn status_maps_processing_and_successful() {
    assert_eq!(
        status_with(report_of("PROCESSING"), Some(live_of("PROCESSING"))).await,
        ProviderStatus::Processing
    );
    // The operator transaction id comes from the report when the live status lacks it.
    assert_eq!(
        status_with(report_of("PROCESSING"), Some(live_of("SUCCESSFUL"))).await,
        ProviderStatus::Successful {
            operator_transaction_id: "OP-55".into()
        }
    );
}

#[tokio::test]
async fn status_of_an_unknown_id_is_not_found() {
    let empty_page =
        ResponseTemplate::new(200).set_body_json(json!({"content": [], "totalElements": 0}));
    assert_eq!(
        status_with(empty_page, None).await,
        ProviderStatus::NotFound
    );
    let empty_array = ResponseTemplate::new(200).set_body_json(json!([]));
    assert_eq!(
        status_with(empty_array, None).await,
        ProviderStatus::NotFound
    );
}

#[tokio::test]
async fn status_is_unavailable_on_5xx_or_an_unfiltered_report() {
    let got = status_with(ResponseTemplate::new(500), None).await;
    assert!(matches!(got, ProviderStatus::Unavailable { .. }), "{got:?}");
    // Entries that are not ours: the filter was ignored, so absence proves nothing.
    let other = ResponseTemplate::new(200).set_body_json(json!({"content": [{"transactionId": 1, "status": "SUCCESSFUL", "customIdentifier": "someone-else"}]}));
    let got = status_with(other, None).await;
    assert!(matches!(got, ProviderStatus::Unavailable { .. }), "{got:?}");
}

#[tokio::test]
async fn status_falls_back_to_the_report_when_the_status_endpoint_fails() {
    assert_eq!(
        status_with(report_of("SUCCESSFUL"), Some(ResponseTemplate::new(404))).await,
        ProviderStatus::Successful {
            operator_transaction_id: "OP-55".into()
        }
    );
    let got = status_with(report_of("REFUNDED"), Some(ResponseTemplate::new(503))).await;
    assert!(matches!(got, ProviderStatus::Failed { .. }), "{got:?}");
}

#[tokio::test]
async fn status_times_out_as_unavailable() {
    let server = MockServer::start().await;
    mount_token(&server, 1).await;
    Mock::given(method("GET"))
        .and(path("/topups/reports/transactions"))
        .respond_with(report_of("SUCCESSFUL").set_delay(Duration::from_millis(1500)))
        .mount(&server)
        .await;
    let p = ReloadlyProvider::new(config(&server, Duration::from_millis(300))).unwrap();
    let got = p.status(&fixed_request()).await;
    assert!(matches!(got, ProviderStatus::Unavailable { .. }), "{got:?}");
}

// ---- balance and fx -----------------------------------------------------------------------

#[tokio::test]
async fn account_balance_is_parsed() {
    let server = MockServer::start().await;
    mount_token(&server, 1).await;
    Mock::given(method("GET"))
        .and(path("/accounts/balance"))
        .and(header("accept", TOPUPS_MEDIA_TYPE))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "balance": 1234.56, "currencyCode": "USD", "currencyName": "US Dollar", "updatedAt": "2024-01-01 00:00:00"
        })))
        .expect(1)
        .mount(&server)
        .await;
    assert_eq!(
        provider(&server).account_balance().await.unwrap(),
        (dec!(1234.56), "USD".to_owned())
    );
}

#[tokio::test]
async fn fx_rate_for_a_given_operator() {
    let server = MockServer::start().await;
    mount_token(&server, 1).await;
    Mock::given(method("POST"))
        .and(path("/operators/fx-rate"))
        .and(body_partial_json(json!({"operatorId": 77, "amount": 1})))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"id": 77, "name": "Telcel Mexico", "fxRate": 18.52, "currencyCode": "MXN"}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    assert_eq!(
        provider(&server)
            .fx_rate_mxn_per_usd(Some(77))
            .await
            .unwrap(),
        dec!(18.52)
    );
}

#[tokio::test]
async fn fx_rate_finds_telcel_when_no_operator_is_given() {
    let server = MockServer::start().await;
    mount_token(&server, 1).await;
    Mock::given(method("GET"))
        .and(path("/operators/countries/MX"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            {"id": 10, "operatorId": 10, "name": "Movistar Mexico"},
            {"id": 20, "operatorId": 20, "name": "Telcel Mexico"},
        ])))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/operators/fx-rate"))
        .and(body_partial_json(json!({"operatorId": 20, "amount": 1})))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"fxRate": "17.0068", "currencyCode": "MXN"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    assert_eq!(
        provider(&server).fx_rate_mxn_per_usd(None).await.unwrap(),
        dec!(17.0068)
    );
}

#[tokio::test]
async fn fx_rate_rejects_a_non_mxn_or_non_positive_rate() {
    let server = MockServer::start().await;
    mount_token(&server, 1).await;
    Mock::given(method("POST"))
        .and(path("/operators/fx-rate"))
        .and(body_partial_json(json!({"operatorId": 1})))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"fxRate": 1.16, "currencyCode": "HTG"})),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/operators/fx-rate"))
        .and(body_partial_json(json!({"operatorId": 2})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"fxRate": 0})))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/operators/fx-rate"))
        .and(body_partial_json(json!({"operatorId": 3})))
        .respond_with(
            ResponseTemplate::new(404).set_body_json(error_body("OPERATOR_NOT_FOUND", "no")),
        )
        .mount(&server)
        .await;
    let p = provider(&server);
    assert!(matches!(
        p.fx_rate_mxn_per_usd(Some(1)).await,
        Err(ReloadlyError::Decode(_))
    ));
    assert!(matches!(
        p.fx_rate_mxn_per_usd(Some(2)).await,
        Err(ReloadlyError::Decode(_))
    ));
    let err = p.fx_rate_mxn_per_usd(Some(3)).await.unwrap_err();
    assert_eq!(err.error_code(), Some("OPERATOR_NOT_FOUND"));
}

// ---- failover -----------------------------------------------------------------------------

struct Counting {
    calls: Arc<AtomicUsize>,
}

#[async_trait::async_trait]
impl TopupProvider for Counting {
    fn name(&self) -> &str {
        "backup"
    }
    async fn send_topup(&self, _: &TopupRequest) -> TopupOutcome {
        self.calls.fetch_add(1, Ordering::SeqCst);
        TopupOutcome::Success {
            operator_transaction_id: "BACKUP".into(),
        }
    }
    async fn status(&self, _: &TopupRequest) -> ProviderStatus {
        ProviderStatus::NotFound
    }
}

async fn failover_with(topup_answer: ResponseTemplate, timeout: Duration) -> (TopupOutcome, usize) {
    let server = MockServer::start().await;
    mount_token(&server, 1).await;
    mount_detect(&server, PHONE_INTL, TELCEL, 1).await;
    Mock::given(method("POST"))
        .and(path("/topups"))
        .respond_with(topup_answer)
        .expect(1)
        .mount(&server)
        .await;
    let calls = Arc::new(AtomicUsize::new(0));
    let chain = FailoverProvider::new(vec![
        Box::new(ReloadlyProvider::new(config(&server, timeout)).unwrap()),
        Box::new(Counting {
            calls: Arc::clone(&calls),
        }),
    ]);
    assert_eq!(chain.name(), "reloadly+backup");
    let out = chain.send_topup(&request(PHONE, 50)).await;
    (out, calls.load(Ordering::SeqCst))
}

#[tokio::test]
async fn failover_tries_the_next_provider_after_a_definite_failure() {
    let (out, backup_calls) = failover_with(
        ResponseTemplate::new(400).set_body_json(error_body("INSUFFICIENT_BALANCE", "low")),
        Duration::from_secs(5),
    )
    .await;
    assert_eq!(
        out,
        TopupOutcome::Success {
            operator_transaction_id: "BACKUP".into()
        }
    );
    assert_eq!(backup_calls, 1);
}

#[tokio::test]
async fn failover_stops_at_unknown() {
    let (out, backup_calls) =
        failover_with(ResponseTemplate::new(502), Duration::from_secs(5)).await;
    assert!(matches!(out, TopupOutcome::Unknown { .. }), "{out:?}");
    assert_eq!(backup_calls, 0);

    let slow = ResponseTemplate::new(200)
        .set_body_json(json!({"status": "SUCCESSFUL"}))
        .set_delay(Duration::from_millis(1500));
    let (out, backup_calls) = failover_with(slow, Duration::from_millis(400)).await;
    assert!(matches!(out, TopupOutcome::Unknown { .. }), "{out:?}");
    assert_eq!(backup_calls, 0, "a timeout must never fail over");
}

// ---- configuration ------------------------------------------------------------------------

fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

async fn select(
    map: &HashMap<String, String>,
) -> Result<Arc<dyn TopupProvider>, ProviderConfigError> {
    provider_from_lookup(|k| map.get(k).cloned()).await
}

#[test]
fn selection_futures_are_send() {
    fn assert_send<T: Send>(_: &T) {}
    // Compile-time only: Lambda mains may spawn these.
    let f = relier::adapters::select::provider_from_env();
    assert_send(&f);
    let g = relier::adapters::select::reloadly_from_env();
    assert_send(&g);
}

#[tokio::test]
async fn selection_by_topup_provider_and_mode() {
    let sandbox = select(&vars(&[("MODE", "SANDBOX")])).await.unwrap();
    assert_eq!(sandbox.name(), "relier");

    let missing = select(&vars(&[("MODE", "LIVE")])).await;
    assert!(matches!(
        missing,
        Err(ProviderConfigError::Missing("TOPUP_PROVIDER"))
    ));

    let unknown = select(&vars(&[("TOPUP_PROVIDER", "acme")])).await;
    assert!(matches!(unknown, Err(ProviderConfigError::Invalid { .. })));

    let no_env = select(&vars(&[
        ("TOPUP_PROVIDER", "reloadly"),
        ("RELOADLY_CLIENT_ID", "a"),
        ("RELOADLY_CLIENT_SECRET", "b"),
    ]))
    .await;
    assert!(matches!(
        no_env,
        Err(ProviderConfigError::Missing("RELOADLY_ENV"))
    ));
}

#[tokio::test]
async fn reloadly_selected_from_settings_talks_to_the_configured_hosts() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .and(body_partial_json(json!({"client_id": "cid", "client_secret": "csecret", "audience": "https://topups.reloadly.com"})))
        .respond_with(ResponseTemplate::new(200).set_body_json(token_body("tok-1")))
        .expect(1)
        .mount(&server)
        .await;
    mount_detect(&server, PHONE_INTL, TELCEL, 1).await;
    Mock::given(method("POST"))
        .and(path("/topups"))
        .respond_with(
            ResponseTemplate::new(400)
                .set_body_json(error_body("PHONE_RECENTLY_RECHARGED", "wait")),
        )
        .expect(1)
        .mount(&server)
        .await;
    let uri = server.uri();
    let map = vars(&[
        ("TOPUP_PROVIDER", "reloadly, sandbox"),
        ("RELOADLY_ENV", "live"),
        ("RELOADLY_CLIENT_ID", "cid"),
        ("RELOADLY_CLIENT_SECRET", "csecret"),
        ("RELOADLY_AUTH_URL", &uri),
        ("RELOADLY_API_URL", &format!("{uri}/")),
        ("RELOADLY_TIMEOUT_MS", "3000"),
    ]);
    let chain = select(&map).await.unwrap();
    assert_eq!(chain.name(), "reloadly+relier");
    // Reloadly fails definitely, so the sandbox (second in the chain) answers.
    let out = chain.send_topup(&request(PHONE, 50)).await;
    assert!(matches!(out, TopupOutcome::Success { .. }), "{out:?}");
}

// Secrets Manager credentials (RELOADLY_SECRET_ID): shared/tests/secrets.rs, against moto.
