//! Things that must not drift: every sample in `events/` runs through its handler, both event
//! formats route correctly, template.yaml declares the same tables/queues/routes as the code,
//! and the sandbox fixtures authenticate with the seeds' example keys.

mod common;

use common::*;
use relier::adapters::dynamo::DynamoStore;
use relier::adapters::sqs::SqsQueue;
use relier::api::health::HealthProbes;
use relier::api::partner as handlers;
use serde_json::{json, Value};
use serde_yaml::Value as Yaml;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn dashboard_of(store: &Arc<DynamoStore>) -> relier::api::dashboard::Dashboard {
    relier::api::dashboard::Dashboard {
        accounts: store.clone(),
        transactions: store.clone(),
        reports: store.clone(),
        reads: store.clone(),
        webhooks: store.clone(),
        sessions: store.clone(),
        clock: Arc::new(relier::adapters::clock::SystemClock),
        secure: true,
    }
}

struct Probes {
    store: Arc<DynamoStore>,
    queue: Option<SqsQueue>,
}

#[async_trait::async_trait]
impl HealthProbes for Probes {
    async fn database(&self) -> bool {
        relier::api::health::probe(self.store.ping()).await
    }
    async fn queue(&self) -> bool {
        match &self.queue {
            Some(q) => relier::api::health::probe(q.ping()).await,
            None => false,
        }
    }
}

async fn live_queue() -> SqsQueue {
    let sqs = aws_sdk_sqs::Client::new(&sdk().await);
    let name = unique("t-health");
    let url = relier::adapters::sqs::create_queues(&sqs, &name, &format!("{name}-dlq"))
        .await
        .unwrap();
    SqsQueue::new(sqs, url)
}

#[tokio::test]
async fn health_reports_real_dependencies() {
    let store = store().await;
    let probes = Probes {
        store: store.clone(),
        queue: Some(live_queue().await),
    };
    let req = request("GET", "/health", &[], None);
    let (status, body) = read(
        relier::api::health::health(req, relier::config::Mode::Sandbox, Instant::now(), &probes)
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], json!("OK"));
    assert_eq!(body["mode"], json!("SANDBOX"));
    assert!(body["timestamp"].as_str().unwrap().ends_with('Z'));
    assert!(body["uptime"].is_u64());
    assert_eq!(
        body["services"]["database"],
        json!({"connected": true, "status": "healthy"})
    );
    assert_eq!(
        body["services"]["queue"],
        json!({"connected": true, "status": "healthy"})
    );

    // a database that does not answer -> 503 DEGRADED, within the probe timeout
    let dead = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(&sdk().await)
            .endpoint_url("http://127.0.0.1:9")
            .build(),
    );
    let probes = Probes {
        store: Arc::new(DynamoStore::new(dead, "x", "y")),
        queue: Some(live_queue().await),
    };
    let started = Instant::now();
    let req = request("GET", "/health", &[], None);
    let (status, body) = read(
        relier::api::health::health(
            req,
            relier::config::Mode::Production,
            Instant::now(),
            &probes,
        )
        .await
        .unwrap(),
    )
    .await;
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    assert_eq!(status, 503);
    assert_eq!(body["status"], json!("DEGRADED"));
    assert_eq!(body["services"]["database"]["connected"], json!(false));
    assert_eq!(body["services"]["queue"]["connected"], json!(true));
}

#[tokio::test]
async fn every_sample_event_runs_through_its_handler() {
    let store = store().await;
    seed_partners(&store).await;
    // the fixtures' reconcile keys (the export sample uses SmartBiz's)
    let fixtures: relier::adapters::dynamo::fixtures::Fixtures = serde_json::from_str(
        &std::fs::read_to_string(repo().join("infra/local/fixtures.json")).unwrap(),
    )
    .unwrap();
    relier::adapters::dynamo::fixtures::load(&store, &fixtures)
        .await
        .unwrap();
    let svc = service(&store, "18.52");
    let queue = live_queue().await;
    let mut seen = 0;
    for entry in std::fs::read_dir(repo().join("events")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let name = path.file_stem().unwrap().to_str().unwrap().to_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        seen += 1;
        let status = match name.as_str() {
            "health" | "balance" | "topup" | "topup-async" | "transaction-status" => {
                let req = lambda_http::request::from_str(&text)
                    .unwrap_or_else(|e| panic!("{name}.json is not an API Gateway event: {e}"));
                let resp = match name.as_str() {
                    "health" => {
                        let probes = Probes {
                            store: store.clone(),
                            queue: Some(queue.clone()),
                        };
                        relier::api::health::health(
                            req,
                            relier::config::Mode::Sandbox,
                            Instant::now(),
                            &probes,
                        )
                        .await
                    }
                    "balance" => handlers::balance(req, store.as_ref()).await,
                    "topup" => handlers::topup(req, store.as_ref(), &svc).await,
                    "topup-async" => handlers::topup_async(req, store.as_ref(), &svc, &queue).await,
                    _ => handlers::transaction_status(req, store.as_ref(), store.as_ref()).await,
                };
                read(resp.unwrap()).await.0
            }
            "distributor-login"
            | "distributor-refresh"
            | "distributor-balance"
            | "distributor-purchase" => {
                let req = lambda_http::request::from_str(&text)
                    .unwrap_or_else(|e| panic!("{name}.json is not an API Gateway event: {e}"));
                let tokens = relier::api::distributor::TokenIssuer::new(
                    b"contract-test-secret-0123456789abcdef",
                )
                .unwrap();
                let resp = match name.as_str() {
                    "distributor-login" => {
                        relier::api::distributor::login(req, store.as_ref(), &tokens).await
                    }
                    "distributor-refresh" => {
                        relier::api::distributor::refresh(req, store.as_ref(), &tokens).await
                    }
                    "distributor-balance" => {
                        relier::api::distributor::get_balance(req, store.as_ref(), &tokens).await
                    }
                    _ => {
                        relier::api::distributor::product_purchase(
                            req,
                            store.as_ref(),
                            &tokens,
                            &svc,
                        )
                        .await
                    }
                };
                read(resp.unwrap()).await.0
            }
            "limits" | "openapi" | "docs" => {
                let req = lambda_http::request::from_str(&text)
                    .unwrap_or_else(|e| panic!("{name}.json is not an API Gateway event: {e}"));
                let resp = match name.as_str() {
                    "limits" => {
                        let gate = relier::api::edge::gate::Gate {
                            accounts: store.as_ref(),
                            windows: store.as_ref(),
                            clock: &relier::adapters::clock::SystemClock,
                        };
                        relier::api::edge::routes::limits(req, gate, store.as_ref()).await
                    }
                    "openapi" => relier::api::edge::docs::openapi(req).await,
                    _ => relier::api::edge::docs::docs(req).await,
                };
                let resp = resp.unwrap();
                let status = resp.status().as_u16();
                if name == "limits" {
                    assert!(resp.headers().contains_key("x-ratelimit-remaining"));
                }
                status
            }
            "dashboard" => {
                let req = lambda_http::request::from_str(&text)
                    .unwrap_or_else(|e| panic!("{name}.json is not an API Gateway event: {e}"));
                let resp = dashboard_of(&store).handle(req).await.unwrap();
                assert!(
                    resp.headers().get("set-cookie").is_none(),
                    "no session without sign-in"
                );
                assert!(resp.headers()["content-security-policy"]
                    .to_str()
                    .unwrap()
                    .contains("frame-ancestors 'none'"));
                resp.status().as_u16()
            }
            "transactions" | "statement" | "reconcile-export" => {
                let req = lambda_http::request::from_str(&text)
                    .unwrap_or_else(|e| panic!("{name}.json is not an API Gateway event: {e}"));
                let s = store.as_ref();
                let resp = match name.as_str() {
                    "transactions" => relier::api::reports::transactions(req, s, s).await,
                    "statement" => relier::api::reports::statement(req, s, s).await,
                    _ => relier::api::reports::reconcile_export(req, s, s).await,
                };
                read(resp.unwrap()).await.0
            }
            "topup-worker" => {
                let event: aws_lambda_events::event::sqs::SqsEvent =
                    serde_json::from_str(&text).expect("SQS event");
                let resp = relier::jobs::worker::handle_batch(event, store.as_ref(), &svc).await;
                assert!(resp.batch_item_failures.is_empty());
                200
            }
            "webhook-dispatcher" => {
                let event: aws_lambda_events::event::sqs::SqsEvent =
                    serde_json::from_str(&text).expect("SQS event");
                let resp = webhook_dispatcher(&store).await.handle_batch(event).await;
                assert!(resp.batch_item_failures.is_empty());
                200
            }
            "reconciler" | "fx-refresh" | "webhook-sweep" => {
                let event: aws_lambda_events::event::eventbridge::EventBridgeEvent<Value> =
                    serde_json::from_str(&text).expect("scheduled EventBridge event");
                assert_eq!(event.detail_type, "Scheduled Event");
                200
            }
            other => panic!("events/{other}.json has no handler mapping in this test"),
        };
        let expected: &[u16] = match name.as_str() {
            "transaction-status" => &[404], // a sample id: well-formed, unknown
            // sample tokens are placeholders: the handler must answer 401 "05", not fail
            "distributor-refresh" | "distributor-balance" | "distributor-purchase" => &[401],
            _ => &[200],
        };
        assert!(expected.contains(&status), "events/{name}.json -> {status}");
    }
    assert!(seen >= 21, "one sample event per function");
}

#[tokio::test]
async fn rest_and_watch_event_formats_both_route() {
    let store = store().await;
    seed_partners(&store).await;
    let svc = service(&store, "18.52");
    let (_, b) = topup(
        &store,
        &svc,
        "HAZ_001",
        HAZ_KEY,
        r#"{"phone":"5566374683","amount":10}"#,
    )
    .await;
    let id = b["transaction"]["id"].as_str().unwrap().to_owned();
    // API Gateway REST: stage in requestContext.path, id in pathParameters
    let rest = json!({
        "resource": "/api/transaction/{id}", "path": format!("/api/transaction/{id}"), "httpMethod": "GET",
        "headers": {}, "multiValueHeaders": {}, "queryStringParameters": null, "multiValueQueryStringParameters": null,
        "pathParameters": {"id": id}, "stageVariables": null,
        "requestContext": {"resourcePath": "/api/transaction/{id}", "httpMethod": "GET", "path": format!("/v1/api/transaction/{id}"),
            "accountId": "123456789012", "stage": "v1", "requestId": "r-1", "identity": {"sourceIp": "203.0.113.1"}, "apiId": "a1"},
        "body": null, "isBase64Encoded": false
    });
    // cargo lambda watch (function-URL / HTTP API v2 payload): raw path, no path parameters
    let watch = json!({
        "version": "2.0", "routeKey": "$default", "rawPath": format!("/api/transaction/{id}"), "rawQueryString": "",
        "headers": {"host": "127.0.0.1:9000"},
        "requestContext": {"accountId": "123456789012", "apiId": "local", "domainName": "127.0.0.1", "domainPrefix": "127",
            "http": {"method": "GET", "path": format!("/api/transaction/{id}"), "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "curl"},
            "requestId": "r-2", "routeKey": "$default", "stage": "$default", "time": "25/Nov/2026:10:00:00 +0000", "timeEpoch": 0},
        "isBase64Encoded": false
    });
    for event in [rest, watch] {
        let req = lambda_http::request::from_str(&event.to_string()).unwrap();
        let (status, body) = read(
            handlers::transaction_status(req, store.as_ref(), store.as_ref())
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 200, "{event}");
        assert_eq!(body["transaction"]["transaction_id"], json!(id));
    }
}

#[tokio::test]
async fn sandbox_fixtures_authenticate_with_the_seed_keys() {
    let text = std::fs::read_to_string(repo().join("infra/local/fixtures.json")).unwrap();
    for secret in [
        HAZ_KEY,
        SMARTBIZ_KEY,
        "SBT_545970e108537acd351c88ef1d8f572e52c6422058204102",
    ] {
        assert!(
            !text.contains(secret),
            "fixtures must hold hashes, never keys"
        );
    }
    let fixtures: relier::adapters::dynamo::fixtures::Fixtures =
        serde_json::from_str(&text).unwrap();
    let store = store().await;
    assert_eq!(
        relier::adapters::dynamo::fixtures::load(&store, &fixtures)
            .await
            .unwrap(),
        5
    );
    assert_eq!(
        relier::adapters::dynamo::fixtures::load(&store, &fixtures)
            .await
            .unwrap(),
        0,
        "idempotent"
    );
    let haz =
        relier::api::partner::auth::authenticate(store.as_ref(), Some(HAZ_KEY), Some("HAZ_001"))
            .await
            .unwrap();
    assert_eq!(haz.company_name, "HAZ Group");
    assert_eq!(haz.balance, dec("10000"));
    assert_eq!(haz.daily_limit_mxn, Some(dec("5000")));
    assert_eq!(haz.max_topups_per_minute, Some(200));
    // the HTTP suites share the sandbox partners: a window they never exhaust (README)
    assert_eq!(haz.max_requests_per_15min, Some(100_000));
    let rate = relier::api::partner::auth::authenticate(
        store.as_ref(),
        Some("ratelimit_local_0123456789abcdef"),
        Some("RATELIMIT_001"),
    )
    .await
    .unwrap();
    assert_eq!(relier::api::edge::window::limit_for(&rate), 300);
    let lock = relier::api::partner::auth::authenticate(
        store.as_ref(),
        Some("iplock_local_0123456789abcdef"),
        Some("IPLOCK_001"),
    )
    .await
    .unwrap();
    assert_eq!(lock.allowed_ips, vec!["203.0.113.0/24".to_owned()]);
    let sb = relier::api::partner::auth::authenticate(
        store.as_ref(),
        Some(SMARTBIZ_KEY),
        Some("SMARTBIZ_001"),
    )
    .await
    .unwrap();
    assert_eq!(sb.company_name, "SmartBiz Telecom");
    assert_eq!((sb.balance, sb.credit_limit), (dec("200"), dec("200")));
    assert_eq!(sb.daily_limit_per_phone_mxn, Some(dec("200000")));
    assert_eq!(sb.commission.value(), dec("0"));
    use relier::ports::RateReader;
    assert_eq!(store.get_rate().await.unwrap().unwrap().rate, dec("18.52"));
}

// ------------------------------------------------------------------------- template.yaml

fn template() -> Yaml {
    let text = std::fs::read_to_string(repo().join("template.yaml")).unwrap();
    serde_yaml::from_str(&text).unwrap()
}

fn untag(v: &Yaml) -> &Yaml {
    match v {
        Yaml::Tagged(t) => &t.value,
        other => other,
    }
}

fn resource<'a>(t: &'a Yaml, id: &str) -> &'a Yaml {
    &t["Resources"][id]["Properties"]
}

fn keys(schema: &Yaml) -> Vec<(String, String)> {
    schema
        .as_sequence()
        .unwrap()
        .iter()
        .map(|k| {
            (
                k["AttributeName"].as_str().unwrap().to_owned(),
                k["KeyType"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn num(v: &Yaml) -> u64 {
    match untag(v) {
        Yaml::Number(n) => n.as_u64().unwrap(),
        Yaml::String(s) => s.parse().unwrap(),
        other => panic!("not a number: {other:?}"),
    }
}

#[test]
fn template_declares_the_same_tables_and_queues_as_the_code() {
    use relier::adapters::dynamo::schema::*;
    let t = template();
    let accounts = resource(&t, "AccountsTable");
    assert_eq!(
        keys(&accounts["KeySchema"]),
        [
            (ACCOUNTS_KEYS.0.into(), "HASH".into()),
            (ACCOUNTS_KEYS.1.into(), "RANGE".into())
        ]
    );
    assert_eq!(accounts["BillingMode"].as_str(), Some("PAY_PER_REQUEST"));
    assert_eq!(
        accounts["TimeToLiveSpecification"]["AttributeName"].as_str(),
        Some(ACCOUNTS_TTL_ATTRIBUTE)
    );
    assert_eq!(
        accounts["TimeToLiveSpecification"]["Enabled"].as_bool(),
        Some(true)
    );
    let tx = resource(&t, "TransactionsTable");
    assert_eq!(
        keys(&tx["KeySchema"]),
        [(TRANSACTIONS_KEY.into(), "HASH".into())]
    );
    // every index the code creates (and queries) is declared, with the same keys
    for (table, name, (hash, range)) in [
        (accounts, LEDGER_INDEX, LEDGER_INDEX_KEYS),
        (accounts, PARTNERS_INDEX, PARTNERS_INDEX_KEYS),
        (tx, CUSTOMER_INDEX, CUSTOMER_INDEX_KEYS),
        (tx, OPEN_INDEX, OPEN_INDEX_KEYS),
    ] {
        let gsi = table["GlobalSecondaryIndexes"]
            .as_sequence()
            .unwrap()
            .iter()
            .find(|g| g["IndexName"].as_str() == Some(name))
            .unwrap_or_else(|| panic!("index {name} missing from template.yaml"));
        assert_eq!(
            keys(&gsi["KeySchema"]),
            [(hash.into(), "HASH".into()), (range.into(), "RANGE".into())]
        );
        assert_eq!(gsi["Projection"]["ProjectionType"].as_str(), Some("ALL"));
    }
    let gsi = &tx["GlobalSecondaryIndexes"][0];
    assert_eq!(gsi["IndexName"].as_str(), Some(OPEN_INDEX));
    assert_eq!(
        keys(&gsi["KeySchema"]),
        [
            (OPEN_INDEX_KEYS.0.into(), "HASH".into()),
            (OPEN_INDEX_KEYS.1.into(), "RANGE".into())
        ]
    );
    assert_eq!(gsi["Projection"]["ProjectionType"].as_str(), Some("ALL"));
    for table in [accounts, tx] {
        assert_eq!(
            table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"].as_bool(),
            Some(true)
        );
    }
    let q = resource(&t, "TopupQueue");
    assert_eq!(
        num(&q["VisibilityTimeout"]),
        relier::adapters::sqs::VISIBILITY_TIMEOUT_SECS as u64
    );
    assert_eq!(
        num(&q["RedrivePolicy"]["maxReceiveCount"]),
        relier::adapters::sqs::MAX_RECEIVE_COUNT as u64
    );
    let dlq = resource(&t, "TopupDeadLetterQueue");
    assert_eq!(
        num(&dlq["MessageRetentionPeriod"]),
        relier::adapters::sqs::DLQ_RETENTION_SECS as u64
    );
    let worker_timeout = num(&resource(&t, "TopupWorkerFunction")["Timeout"]);
    assert!(worker_timeout * 6 <= relier::adapters::sqs::VISIBILITY_TIMEOUT_SECS as u64);
}

#[test]
fn template_has_every_function_and_route_of_the_workspace() {
    let t = template();
    let resources = t["Resources"].as_mapping().unwrap();
    // every crate in functions/ is a rust-cargolambda function of the template
    let mut built = Vec::new();
    for (_, r) in resources {
        if r["Type"].as_str() == Some("AWS::Serverless::Function") {
            assert_eq!(
                r["Metadata"]["BuildMethod"].as_str(),
                Some("rust-cargolambda")
            );
            let binary = r["Metadata"]["BuildProperties"]["Binary"]
                .as_str()
                .map(str::to_owned);
            let code = r["Properties"]["CodeUri"].as_str().map(str::to_owned);
            built.push(binary.or(code).unwrap_or_default());
        }
    }
    for entry in std::fs::read_dir(repo().join("functions")).unwrap() {
        let name = entry.unwrap().file_name().to_str().unwrap().to_owned();
        assert!(
            built.iter().any(|b| b.ends_with(&name)),
            "functions/{name} missing from template.yaml ({built:?})"
        );
    }
    // every local route (cargo lambda watch) is an API route of the template
    let cargo: toml_like::Routes =
        toml_like::routes(&std::fs::read_to_string(repo().join("Cargo.toml")).unwrap());
    let yaml = serde_yaml::to_string(&t).unwrap();
    for (path, method) in cargo {
        // matchit's catch-all (watch) is API Gateway's greedy path parameter.
        let path = path.replace("{*rest}", "{proxy+}");
        assert!(
            yaml.contains(&format!("Path: {path}")),
            "route {path} missing from template.yaml"
        );
        assert!(yaml
            .to_lowercase()
            .contains(&format!("method: {}", method.to_lowercase())));
    }
}

/// Just enough parsing of the `[workspace.metadata.lambda.watch.router]` table.
mod toml_like {
    pub type Routes = Vec<(String, String)>;
    pub fn routes(cargo_toml: &str) -> Routes {
        let mut in_router = false;
        let mut out = Vec::new();
        for line in cargo_toml.lines() {
            let line = line.trim();
            if line.starts_with('[') {
                in_router = line == "[workspace.metadata.lambda.watch.router]";
                continue;
            }
            if in_router && line.starts_with('"') {
                let path = line.split('"').nth(1).unwrap().to_owned();
                let method = line
                    .split("method = \"")
                    .nth(1)
                    .unwrap()
                    .split('"')
                    .next()
                    .unwrap()
                    .to_owned();
                out.push((path, method));
            }
        }
        assert!(!out.is_empty());
        out
    }
}

/// A dispatcher on `store` with a real (moto) webhook queue.
async fn webhook_dispatcher(store: &Arc<DynamoStore>) -> relier::webhooks::dispatch::Dispatcher {
    let sqs = aws_sdk_sqs::Client::new(&sdk().await);
    relier::webhooks::dispatch::Dispatcher {
        store: store.clone(),
        queue: Arc::new(relier::webhooks::queue::SqsDispatchQueue::new(
            sqs,
            "http://127.0.0.1:9/unused",
        )),
        sender: Arc::new(relier::webhooks::sender::HttpSender::new(
            relier::config::Mode::Sandbox,
        )),
        clock: Arc::new(relier::adapters::clock::SystemClock),
    }
}

#[test]
fn template_declares_the_webhook_index_and_queues_as_the_code() {
    use relier::adapters::dynamo::schema::*;
    let t = template();
    let accounts = resource(&t, "AccountsTable");
    let gsi = accounts["GlobalSecondaryIndexes"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|g| g["IndexName"].as_str() == Some(WEBHOOK_DUE_INDEX))
        .expect("webhooks-due index on the accounts table");
    assert_eq!(
        keys(&gsi["KeySchema"]),
        [
            (WEBHOOK_DUE_KEYS.0.into(), "HASH".into()),
            (WEBHOOK_DUE_KEYS.1.into(), "RANGE".into())
        ]
    );
    assert_eq!(
        gsi["Projection"]["ProjectionType"].as_str(),
        Some("INCLUDE")
    );
    let projected: Vec<&str> = gsi["Projection"]["NonKeyAttributes"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(projected, WEBHOOK_DUE_PROJECTION);
    let q = resource(&t, "WebhookQueue");
    assert_eq!(
        num(&q["VisibilityTimeout"]),
        relier::webhooks::queue::VISIBILITY_TIMEOUT_SECS as u64
    );
    assert_eq!(
        num(&q["RedrivePolicy"]["maxReceiveCount"]),
        relier::webhooks::queue::MAX_RECEIVE_COUNT as u64
    );
    let timeout = num(&resource(&t, "WebhookDispatcherFunction")["Timeout"]);
    assert!(timeout * 6 <= relier::webhooks::queue::VISIBILITY_TIMEOUT_SECS as u64);
    // every attempt (15 s) fits in the dispatcher's timeout, with room for the store calls
    assert!(timeout >= 2 * relier::webhooks::event::ATTEMPT_TIMEOUT_SECS);
}
