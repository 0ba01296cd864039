//! Test support: real DynamoDB Local (and moto SQS) with uniquely named tables/queues per
//! test, partner accounts, requests in the Lambda event formats.
#![allow(dead_code)]

use async_trait::async_trait;
use lambda_http::{Body, Request, RequestExt};
use relier::adapters::clock::SystemClock;
use relier::adapters::dynamo::DynamoStore;
use relier::adapters::sandbox::SandboxProvider;
use relier::domain::credentials::hash_key;
use relier::domain::Account;
use relier::domain::{Commission, CustomerId, FxRate};
use relier::ports::Clock;
use relier::ports::{ProviderStatus, TopupOutcome, TopupProvider, TopupRequest};
use relier::topup::rates::FixedRate;
use relier::topup::TopupService;
use rust_decimal::Decimal;
use serde_json::Value;
use std::collections::HashMap;
use std::str::FromStr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

pub const HAZ_KEY: &str = "haz_prod_2025";
pub const SMARTBIZ_KEY: &str = "smartbiz_prod_7d086ce74101615476169835689efbcd";
pub const SMARTBIZ_SECRET: &str = "SBT_545970e108537acd351c88ef1d8f572e52c6422058204102";

pub fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn local_env() {
    // `make test` exports these (infra/local/env.sh); defaults make a bare `cargo test` work
    // against a running `infra/local/stack.sh up`.
    for (k, v) in [
        ("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:8000"),
        ("AWS_ENDPOINT_URL_SQS", "http://127.0.0.1:5000"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "local"),
        ("AWS_SECRET_ACCESS_KEY", "local"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
    ] {
        if std::env::var(k).is_err() {
            // SAFETY: set once, before any client is built; tests only read these.
            unsafe { std::env::set_var(k, v) };
        }
    }
}

pub fn unique(prefix: &str) -> String {
    format!(
        "{prefix}-{}",
        &relier::domain::TransactionId::generate().as_str()[3..15]
    )
    .to_lowercase()
}

pub async fn sdk() -> aws_config::SdkConfig {
    local_env();
    relier::config::aws_sdk_config().await
}

/// A store on fresh, uniquely named tables in DynamoDB Local.
pub async fn store() -> Arc<DynamoStore> {
    let sdk = sdk().await;
    let client = aws_sdk_dynamodb::Client::new(&sdk);
    let accounts = unique("t-accounts");
    let transactions = unique("t-transactions");
    relier::adapters::dynamo::schema::create_tables(&client, &accounts, &transactions)
        .await
        .expect("DynamoDB Local must be running (infra/local/stack.sh up, or make test)");
    Arc::new(DynamoStore::new(client, accounts, transactions))
}

pub struct AccountSpec {
    pub id: &'static str,
    pub key: &'static str,
    pub balance: &'static str,
    pub daily_limit_mxn: Option<&'static str>,
    pub daily_limit_per_phone_mxn: Option<&'static str>,
    pub commission: &'static str,
    pub active: bool,
    pub max_per_minute: Option<u32>,
    pub max_per_15min: Option<u32>,
    pub allowed_ips: Vec<String>,
}

impl AccountSpec {
    pub fn new(id: &'static str, key: &'static str, balance: &'static str) -> Self {
        Self {
            id,
            key,
            balance,
            daily_limit_mxn: None,
            daily_limit_per_phone_mxn: None,
            commission: "0",
            active: true,
            max_per_minute: None,
            max_per_15min: None,
            allowed_ips: Vec::new(),
        }
    }
}

pub fn account(spec: &AccountSpec, company: &str) -> Account {
    Account {
        customer_id: CustomerId::parse(spec.id).unwrap(),
        company_name: company.to_owned(),
        balance: dec(spec.balance),
        credit_limit: dec(spec.balance),
        overdraft_usd: Decimal::ZERO,
        opening_balance: dec(spec.balance),
        commission: Commission::parse(dec(spec.commission)).unwrap(),
        daily_limit_mxn: spec.daily_limit_mxn.map(dec),
        daily_limit_per_phone_mxn: spec.daily_limit_per_phone_mxn.map(dec),
        max_topups_per_minute: spec.max_per_minute,
        max_requests_per_15min: spec.max_per_15min,
        allowed_ips: spec.allowed_ips.clone(),
        api_key_hashes: vec![hash_key(spec.key)],
        secret_key_hash: None,
        active: spec.active,
        version: 0,
        updated_at: None,
        low_balance_usd: None,
        low_balance_alerted: false,
    }
}

/// The two partners of the seeds, as `infra/local/fixtures.json` defines them.
pub async fn seed_partners(store: &DynamoStore) {
    let mut haz = AccountSpec::new("HAZ_001", HAZ_KEY, "10000");
    haz.daily_limit_mxn = Some("5000");
    store
        .put_account(&account(&haz, "HAZ Group"), false)
        .await
        .unwrap();
    let mut sb = AccountSpec::new("SMARTBIZ_001", SMARTBIZ_KEY, "200");
    sb.daily_limit_per_phone_mxn = Some("200000");
    let mut sb = account(&sb, "SmartBiz Telecom");
    sb.secret_key_hash = Some(hash_key(SMARTBIZ_SECRET));
    store.put_account(&sb, false).await.unwrap();
}

pub async fn put(store: &DynamoStore, spec: AccountSpec) {
    store
        .put_account(&account(&spec, "Test Co"), false)
        .await
        .unwrap();
}

/// A provider double that delegates to the real sandbox provider and records every call.
#[derive(Default)]
pub struct RecordingProvider {
    pub inner: SandboxProvider,
    pub sends: AtomicU32,
    pub statuses: AtomicU32,
    pub sent_ids: Mutex<Vec<String>>,
}

impl RecordingProvider {
    pub fn sends(&self) -> u32 {
        self.sends.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl TopupProvider for RecordingProvider {
    fn name(&self) -> &str {
        "relier"
    }
    async fn send_topup(&self, request: &TopupRequest) -> TopupOutcome {
        self.sends.fetch_add(1, Ordering::SeqCst);
        self.sent_ids
            .lock()
            .unwrap()
            .push(request.transaction_id.as_str().to_owned());
        self.inner.send_topup(request).await
    }
    async fn status(&self, request: &TopupRequest) -> ProviderStatus {
        self.statuses.fetch_add(1, Ordering::SeqCst);
        if !self
            .sent_ids
            .lock()
            .unwrap()
            .contains(&request.transaction_id.as_str().to_owned())
        {
            return ProviderStatus::NotFound;
        }
        self.inner.status(request).await
    }
}

pub fn service_with(
    store: &Arc<DynamoStore>,
    provider: Arc<dyn TopupProvider>,
    rate: &str,
    clock: Arc<dyn Clock>,
) -> TopupService {
    TopupService {
        ledger: store.clone(),
        transactions: store.clone(),
        rates: Arc::new(FixedRate(FxRate::parse(dec(rate)).unwrap())),
        provider,
        clock,
    }
}

pub fn service(store: &Arc<DynamoStore>, rate: &str) -> TopupService {
    service_with(
        store,
        Arc::new(RecordingProvider::default()),
        rate,
        Arc::new(SystemClock),
    )
}

/// A request as `cargo lambda watch` / any HTTP client would send it.
pub fn request(method: &str, path: &str, headers: &[(&str, &str)], body: Option<&str>) -> Request {
    let mut b = lambda_http::http::Request::builder()
        .method(method)
        .uri(path);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    b.body(
        body.map(|s| Body::Text(s.to_owned()))
            .unwrap_or(Body::Empty),
    )
    .unwrap()
}

pub fn with_path_id(req: Request, id: &str) -> Request {
    req.with_path_parameters(HashMap::from([("id".to_owned(), id.to_owned())]))
}

pub fn topup_request(customer: &str, key: &str, body: &str) -> Request {
    request(
        "POST",
        "/api/enviadespensa/topup",
        &[
            ("content-type", "application/json"),
            ("x-api-key", key),
            ("x-customer-id", customer),
        ],
        Some(body),
    )
}

pub async fn read(resp: lambda_http::Response<Body>) -> (u16, Value) {
    let status = resp.status().as_u16();
    let body = match resp.body() {
        Body::Text(t) => t.clone(),
        Body::Binary(b) => String::from_utf8(b.clone()).unwrap(),
        _ => String::new(),
    };
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

pub async fn balance_of(store: &DynamoStore, id: &str) -> Decimal {
    use relier::ports::AccountReader;
    store
        .get_account(&CustomerId::parse(id).unwrap())
        .await
        .unwrap()
        .unwrap()
        .balance
}

pub async fn assert_ledger_ok(store: &DynamoStore) {
    for report in relier::jobs::ledger_check::check_all(store).await.unwrap() {
        assert!(
            report.ok(),
            "ledger of {}: {:?}",
            report.customer_id,
            report.problems
        );
    }
}

/// Read a daily counter (MXN used) the way the store keys it.
pub async fn counter(store: &DynamoStore, pk: &str, sk: &str) -> Decimal {
    let out = store
        .client()
        .get_item()
        .table_name(store.accounts_table())
        .key("pk", aws_sdk_dynamodb::types::AttributeValue::S(pk.into()))
        .key("sk", aws_sdk_dynamodb::types::AttributeValue::S(sk.into()))
        .consistent_read(true)
        .send()
        .await
        .unwrap();
    out.item
        .and_then(|i| {
            i.get("used_mxn")
                .and_then(|v| v.as_n().ok())
                .map(|n| dec(n))
        })
        .unwrap_or_default()
}

pub fn today() -> String {
    chrono::Utc::now().format("%Y-%m-%d").to_string()
}

/// POST /api/enviadespensa/topup through the handler; (status, body).
pub async fn topup(
    store: &DynamoStore,
    svc: &TopupService,
    customer: &str,
    key: &str,
    body: &str,
) -> (u16, Value) {
    let req = topup_request(customer, key, body);
    read(relier::api::partner::topup(req, store, svc).await.unwrap()).await
}

/// Receive what is on a queue as the Lambda SQS event the worker gets.
pub async fn receive_event(
    sqs: &aws_sdk_sqs::Client,
    url: &str,
) -> aws_lambda_events::event::sqs::SqsEvent {
    let out = sqs
        .receive_message()
        .queue_url(url)
        .max_number_of_messages(10)
        .wait_time_seconds(1)
        .send()
        .await
        .unwrap();
    let records: Vec<_> = out
        .messages()
        .iter()
        .map(|m| {
            serde_json::json!({
                "messageId": m.message_id(),
                "receiptHandle": m.receipt_handle(),
                "body": m.body(),
                "md5OfBody": m.md5_of_body(),
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:relier-topups",
                "awsRegion": "us-east-1",
            })
        })
        .collect();
    serde_json::from_value(serde_json::json!({ "Records": records })).unwrap()
}
