//! The contract every `TopupProvider` must keep, checked the same way for each of them: the
//! sandbox, Reloadly (against a wiremock fake of its API) and a failover chain.
//!
//! - a delivered top-up is `Success` with an operator transaction id, and its status is
//!   `Successful` with the same id;
//! - a definite failure is `Failed`, and its status is `Failed` or `NotFound` (both refund);
//! - an unknown outcome is `Unknown` (never `Failed`: that would refund a delivered top-up),
//!   and a later status lookup settles it (here: `Successful`).

use relier::adapters::failover::FailoverProvider;
use relier::adapters::reloadly::{
    ReloadlyConfig, ReloadlyCredentials, ReloadlyEnv, ReloadlyProvider,
};
use relier::adapters::sandbox::SandboxProvider;
use relier::domain::{MxnAmount, Phone, TransactionId};
use relier::ports::{ProviderStatus, TopupOutcome, TopupProvider, TopupRequest};
use serde_json::json;
use std::time::Duration;
use wiremock::matchers::{body_partial_json, method, path, path_regex, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn request(phone: &str) -> TopupRequest {
    TopupRequest {
        transaction_id: TransactionId::generate(),
        phone: Phone::parse(phone).unwrap(),
        amount: MxnAmount::parse(50).unwrap(),
    }
}

/// One request per behaviour the contract covers.
struct Scenario {
    delivered: TopupRequest,
    refused: TopupRequest,
    unknown: TopupRequest,
}

impl Scenario {
    fn sandbox_numbers() -> Self {
        Self {
            delivered: request("5500000000"),
            refused: request("5500000001"),
            unknown: request("5500000002"),
        }
    }
}

async fn conforms(provider: &dyn TopupProvider, s: &Scenario) {
    let name = provider.name().to_owned();
    assert!(!name.is_empty());

    // Delivered: Success with an operator id; the status lookup agrees.
    let op_id = match provider.send_topup(&s.delivered).await {
        TopupOutcome::Success {
            operator_transaction_id,
        } => operator_transaction_id,
        other => panic!("{name}: delivered top-up answered {other:?}"),
    };
    assert!(!op_id.is_empty(), "{name}: empty operator transaction id");
    assert_eq!(
        provider.status(&s.delivered).await,
        ProviderStatus::Successful {
            operator_transaction_id: op_id
        },
        "{name}: status of a delivered top-up"
    );

    // Definite failure: Failed with a reason; the status lookup says refund.
    match provider.send_topup(&s.refused).await {
        TopupOutcome::Failed { reason } => assert!(!reason.is_empty(), "{name}"),
        other => panic!("{name}: refused top-up answered {other:?}"),
    }
    let status = provider.status(&s.refused).await;
    assert!(
        matches!(
            status,
            ProviderStatus::Failed { .. } | ProviderStatus::NotFound
        ),
        "{name}: status of a refused top-up is {status:?}"
    );

    // Unknown outcome: never reported as a failure; the status lookup settles it.
    match provider.send_topup(&s.unknown).await {
        TopupOutcome::Unknown { reason } => assert!(!reason.is_empty(), "{name}"),
        other => panic!("{name}: unknown outcome answered {other:?}"),
    }
    let status = provider.status(&s.unknown).await;
    assert!(
        matches!(status, ProviderStatus::Successful { .. }),
        "{name}: status after the unknown outcome is {status:?}"
    );
}

#[tokio::test]
async fn the_sandbox_keeps_the_provider_contract() {
    conforms(&SandboxProvider::default(), &Scenario::sandbox_numbers()).await;
}

/// A provider that is down: every send is a definite failure and it knows no top-up.
struct Down;

#[async_trait::async_trait]
impl TopupProvider for Down {
    fn name(&self) -> &str {
        "down"
    }
    async fn send_topup(&self, _request: &TopupRequest) -> TopupOutcome {
        TopupOutcome::Failed {
            reason: "provider down".into(),
        }
    }
    async fn status(&self, _request: &TopupRequest) -> ProviderStatus {
        ProviderStatus::NotFound
    }
}

#[tokio::test]
async fn a_failover_chain_keeps_the_provider_contract() {
    let chain = FailoverProvider::new(vec![Box::new(Down), Box::new(SandboxProvider::default())]);
    conforms(&chain, &Scenario::sandbox_numbers()).await;
}

/// A fake Reloadly: the delivered number is SUCCESSFUL, the refused one is rejected before
/// processing, the unknown one stays PROCESSING and is later SUCCESSFUL.
async fn fake_reloadly(s: &Scenario) -> MockServer {
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
            r"^/operators/auto-detect/phone/52\d{10}/countries/MX$",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": 1234, "operatorId": 1234, "name": "Telcel Mexico",
            "country": {"isoName": "MX", "name": "Mexico"}
        })))
        .mount(&server)
        .await;
    let cases = [
        (&s.delivered, 801, "SUCCESSFUL"),
        (&s.unknown, 803, "PROCESSING"),
    ];
    for (req, reloadly_id, posted) in cases {
        let id = req.transaction_id.as_str();
        Mock::given(method("POST"))
            .and(path("/topups"))
            .and(body_partial_json(json!({"customIdentifier": id})))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "transactionId": reloadly_id, "status": posted,
                "operatorTransactionId": format!("OP-{reloadly_id}"), "customIdentifier": id,
                "requestedAmount": 50, "deliveredAmount": 50, "deliveredAmountCurrencyCode": "MXN"
            })))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/topups/reports/transactions"))
            .and(query_param("customIdentifier", id))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "content": [{"transactionId": reloadly_id, "status": "PROCESSING",
                             "operatorTransactionId": format!("OP-{reloadly_id}"),
                             "customIdentifier": id}],
                "totalElements": 1
            })))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path(format!("/topups/{reloadly_id}/status")))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "status": "SUCCESSFUL",
                "transaction": {"transactionId": reloadly_id, "status": "SUCCESSFUL",
                                "operatorTransactionId": format!("OP-{reloadly_id}"),
                                "customIdentifier": id}
            })))
            .mount(&server)
            .await;
    }
    let refused = s.refused.transaction_id.as_str();
    Mock::given(method("POST"))
        .and(path("/topups"))
        .and(body_partial_json(json!({"customIdentifier": refused})))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "timeStamp": 1700000000000u64, "message": "Invalid amount for operator",
            "path": "/topups", "errorCode": "INVALID_AMOUNT_FOR_OPERATOR", "infoLink": null
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/topups/reports/transactions"))
        .and(query_param("customIdentifier", refused))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"content": [], "totalElements": 0})),
        )
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn reloadly_keeps_the_provider_contract() {
    let scenario = Scenario {
        delivered: request("5512345678"),
        refused: request("5512345679"),
        unknown: request("5512345670"),
    };
    let server = fake_reloadly(&scenario).await;
    let mut config = ReloadlyConfig::new(
        ReloadlyCredentials::new("client-1", "secret"),
        ReloadlyEnv::Sandbox,
    );
    config.auth_url = server.uri();
    config.api_url = server.uri();
    config.timeout = Duration::from_secs(5);
    let provider = ReloadlyProvider::new(config).unwrap();
    conforms(&provider, &scenario).await;
}
