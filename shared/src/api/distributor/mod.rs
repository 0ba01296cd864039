//! The distributor API (LATCOM-compatible, seed `002_…`), under `/api/distributor`:
//! `POST /login` (customer_id + secret_key -> JWT access + refresh tokens), `POST /refresh`,
//! `GET /get_balance`, `POST /product_purchase`. Same accounts, pricing, limits, atomic debit,
//! provider and refunds as the partner API; ISO-8583-style `response_code`s in the bodies.

mod catalog;
mod codes;
mod error;
mod purchase;
mod tokens;
mod views;

pub use catalog::Product;
pub use codes::ResponseCode;
pub use error::DistributorError;
pub use tokens::{TokenIssuer, ACCESS_TTL_SECS, REFRESH_TTL_SECS};

use crate::api::http::{header, json_body, json_response, request_id};
use crate::api::json::{money, timestamp};
use crate::domain::credentials::key_matches;
use crate::domain::{Account, CustomerId};
use crate::ports::AccountReader;
use crate::topup::TopupService;
use error::{from_body, from_topup, unavailable};
use lambda_http::{Body, Error, Request, Response};
use purchase::parse_purchase;
use serde_json::{json, Map, Value};
use views::purchase_answer;

fn respond(status: u16, body: Value, rid: &str) -> Result<Response<Body>, Error> {
    Ok(json_response(status, &body, rid))
}

fn refuse(
    err: &DistributorError,
    dist_id: Option<&str>,
    rid: &str,
) -> Result<Response<Body>, Error> {
    tracing::info!(status = err.http, code = err.code.as_str(), error = %err.error, request_id = rid, "distributor request refused");
    let mut resp = json_response(err.http, &err.body(dist_id), rid);
    if let Some(secs) = err.retry_after {
        resp.headers_mut()
            .insert("retry-after", lambda_http::http::HeaderValue::from(secs));
    }
    Ok(resp)
}

/// The account's IP allowlist refused the caller (`edge::ip_allow`): 403 / 05.
fn ip_check(account: &Account, req: &Request) -> Result<(), DistributorError> {
    crate::api::edge::ip_allow::check(account, req)
        .map_err(|_| DistributorError::new(403, ResponseCode::Unauthorized, "IP not authorized"))
}

/// 200 with the body, or the refusal in the guide's shape.
fn answer(result: Result<Value, DistributorError>, rid: &str) -> Result<Response<Body>, Error> {
    match result {
        Ok(body) => respond(200, body, rid),
        Err(e) => refuse(&e, None, rid),
    }
}

async fn account_for(
    accounts: &dyn AccountReader,
    customer: &CustomerId,
) -> Result<Account, DistributorError> {
    match accounts.get_account(customer).await {
        Ok(Some(a)) if a.active => Ok(a),
        Ok(_) => Err(DistributorError::unauthorized()),
        Err(e) => {
            tracing::error!(error = %e, "account read failed");
            Err(unavailable())
        }
    }
}

/// The account behind `Authorization: Bearer <access token>`.
async fn bearer(
    req: &Request,
    accounts: &dyn AccountReader,
    tokens: &TokenIssuer,
) -> Result<Account, DistributorError> {
    let token = header(req, "authorization")
        .and_then(|h| {
            h.strip_prefix("Bearer ")
                .or_else(|| h.strip_prefix("bearer "))
        })
        .map(str::trim)
        .ok_or_else(DistributorError::unauthorized)?;
    let customer = tokens
        .verify(token, "access")
        .ok_or_else(DistributorError::unauthorized)?;
    let account = account_for(accounts, &customer).await?;
    ip_check(&account, req)?;
    Ok(account)
}

pub(super) fn string_field<'a>(body: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    body.get(name)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// A SHA-256 no secret hashes to in practice: compared when the customer id is unknown, so
/// that answer takes as long as a wrong secret.
const DUMMY_SECRET_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Every failed login: unknown id, disabled account, wrong secret.
fn invalid_credentials() -> DistributorError {
    DistributorError::new(401, ResponseCode::Unauthorized, "Invalid credentials")
}

/// `POST /api/distributor/login`.
pub async fn login(
    req: Request,
    accounts: &dyn AccountReader,
    tokens: &TokenIssuer,
) -> Result<Response<Body>, Error> {
    let rid = request_id(&req);
    let result = async {
        let body = json_body(&req).map_err(from_body)?;
        // The secret is compared exactly as sent (never trimmed); the id may be padded.
        let secret = body
            .get("secret_key")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty());
        let (Some(customer), Some(secret)) = (string_field(&body, "customer_id"), secret) else {
            return Err(DistributorError::new(
                400,
                ResponseCode::InvalidTransaction,
                "customer_id and secret_key are required",
            ));
        };
        // Unknown id, disabled account and wrong secret are one answer, and all of them pay
        // for one hash comparison (against a dummy hash when there is no account).
        let account = match CustomerId::parse(customer) {
            Ok(id) => match accounts.get_account(&id).await {
                Ok(found) => found.filter(|a| a.active),
                Err(e) => {
                    tracing::error!(error = %e, "account read failed");
                    return Err(unavailable());
                }
            },
            Err(_) => None,
        };
        // Exactly one comparison in every case: an account without a secret compares against
        // the dummy hash too.
        let hashes = vec![account
            .as_ref()
            .and_then(|a| a.secret_key_hash.clone())
            .unwrap_or_else(|| DUMMY_SECRET_HASH.to_owned())];
        let matches = key_matches(secret, &hashes);
        let account = match account {
            Some(a) if matches => a,
            _ => return Err(invalid_credentials()),
        };
        ip_check(&account, &req)?;
        Ok(tokens.pair(&account.customer_id))
    }
    .await;
    answer(result, &rid)
}

/// `POST /api/distributor/refresh` with `{"refresh_token": ...}`: a new token pair.
pub async fn refresh(
    req: Request,
    accounts: &dyn AccountReader,
    tokens: &TokenIssuer,
) -> Result<Response<Body>, Error> {
    let rid = request_id(&req);
    let result = async {
        let body = json_body(&req).map_err(from_body)?;
        let token = string_field(&body, "refresh_token").ok_or_else(|| {
            DistributorError::new(
                400,
                ResponseCode::InvalidTransaction,
                "refresh_token is required",
            )
        })?;
        let customer = tokens
            .verify(token, "refresh")
            .ok_or_else(DistributorError::unauthorized)?;
        let account = account_for(accounts, &customer).await?;
        ip_check(&account, &req)?;
        Ok(tokens.pair(&account.customer_id))
    }
    .await;
    answer(result, &rid)
}

/// `GET /api/distributor/get_balance`.
pub async fn get_balance(
    req: Request,
    accounts: &dyn AccountReader,
    tokens: &TokenIssuer,
) -> Result<Response<Body>, Error> {
    let rid = request_id(&req);
    let result = bearer(&req, accounts, tokens).await.map(|account| {
        json!({
            "success": true,
            "balance": money(account.balance),
            "currency": "USD",
            "last_updated": timestamp(account.updated_at.unwrap_or_else(chrono::Utc::now)),
        })
    });
    answer(result, &rid)
}

/// `POST /api/distributor/product_purchase`.
pub async fn product_purchase(
    req: Request,
    accounts: &dyn AccountReader,
    tokens: &TokenIssuer,
    service: &TopupService,
) -> Result<Response<Body>, Error> {
    let rid = request_id(&req);
    let account = match bearer(&req, accounts, tokens).await {
        Ok(a) => a,
        Err(e) => return refuse(&e, None, &rid),
    };
    let body = match json_body(&req) {
        Ok(b) => b,
        Err(e) => return refuse(&from_body(e), None, &rid),
    };
    let raw_id = string_field(&body, "distributor_transaction_id").map(str::to_owned);
    let (dist_id, input) = match parse_purchase(&body) {
        Ok(v) => v,
        Err(e) => return refuse(&e, raw_id.as_deref(), &rid),
    };
    let tx = match service.topup_sync(&account, &input).await {
        Ok(done) => done.transaction,
        Err(e) => return refuse(&from_topup(e), Some(&dist_id), &rid),
    };
    let (status, body) = purchase_answer(&tx, &dist_id);
    respond(status, body, &rid)
}

#[cfg(test)]
mod login_tests {
    use super::*;
    use crate::adapters::memory::MemoryStore;
    use crate::domain::credentials::hash_key;
    use crate::domain::Commission;
    use rust_decimal::Decimal;

    const SECRET: &str = "SBT_secret_0123456789";

    fn store() -> MemoryStore {
        let store = MemoryStore::new();
        store.put_account(Account {
            customer_id: CustomerId::parse("SMARTBIZ_001").unwrap(),
            company_name: "SmartBiz".into(),
            balance: Decimal::from(200),
            credit_limit: Decimal::ZERO,
            overdraft_usd: Decimal::ZERO,
            opening_balance: Decimal::from(200),
            commission: Commission::ZERO,
            daily_limit_mxn: None,
            daily_limit_per_phone_mxn: None,
            max_topups_per_minute: None,
            max_requests_per_15min: None,
            allowed_ips: vec![],
            low_balance_usd: None,
            low_balance_alerted: false,
            api_key_hashes: vec![],
            secret_key_hash: Some(hash_key(SECRET)),
            active: true,
            version: 0,
            updated_at: None,
        });
        store
    }

    async fn login_with(store: &MemoryStore, customer: &str, secret: &str) -> (u16, Value) {
        let tokens = TokenIssuer::new(b"0123456789abcdef0123456789abcdef").unwrap();
        let body = json!({"customer_id": customer, "secret_key": secret}).to_string();
        let req = lambda_http::http::Request::builder()
            .method("POST")
            .uri("/api/distributor/login")
            .header("content-type", "application/json")
            .body(Body::Text(body))
            .unwrap();
        let resp = login(req, store, &tokens).await.unwrap();
        let status = resp.status().as_u16();
        let body = match resp.body() {
            Body::Text(t) => serde_json::from_str(t).unwrap(),
            _ => Value::Null,
        };
        (status, body)
    }

    #[tokio::test]
    async fn unknown_customer_and_wrong_secret_get_the_same_answer() {
        // GIVEN one distributor account
        let store = store();
        // WHEN logging in with a wrong secret, and with a customer id that does not exist
        let wrong_secret = login_with(&store, "SMARTBIZ_001", "SBT_wrong").await;
        let unknown_id = login_with(&store, "NOBODY_001", SECRET).await;
        // THEN both are the same 401 with the same body: ids cannot be enumerated
        assert_eq!(wrong_secret.0, 401);
        assert_eq!(wrong_secret, unknown_id);
        // and so are a malformed id, a disabled account and an account without a secret
        let malformed = login_with(&store, "NOBODY 001", SECRET).await;
        assert_eq!(wrong_secret, malformed);
        for (id, active, secret) in [
            ("OFF_001", false, Some(hash_key(SECRET))),
            ("API_ONLY_001", true, None),
        ] {
            let mut account = store
                .get_account(&CustomerId::parse("SMARTBIZ_001").unwrap())
                .await
                .unwrap()
                .unwrap();
            account.customer_id = CustomerId::parse(id).unwrap();
            account.active = active;
            account.secret_key_hash = secret;
            store.put_account(account);
            assert_eq!(wrong_secret, login_with(&store, id, SECRET).await, "{id}");
        }
        assert_eq!(wrong_secret.1["response_code"], json!("05"));
    }

    #[tokio::test]
    async fn the_secret_is_compared_exactly() {
        // GIVEN one distributor account
        let store = store();
        // WHEN the secret has a trailing or leading space
        let trailing = login_with(&store, "SMARTBIZ_001", &format!("{SECRET} ")).await;
        let leading = login_with(&store, "SMARTBIZ_001", &format!(" {SECRET}")).await;
        // THEN it is refused; the exact secret logs in
        assert_eq!(trailing.0, 401);
        assert_eq!(leading.0, 401);
        let ok = login_with(&store, "SMARTBIZ_001", SECRET).await;
        assert_eq!(ok.0, 200, "{}", ok.1);
        assert!(ok.1["access_token"].is_string());
    }
}
