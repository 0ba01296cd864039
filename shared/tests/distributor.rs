//! The distributor API (seed 002) against DynamoDB Local: JWT login, balance, purchases with
//! the guide's response codes, idempotency on distributor_transaction_id, refunds.

mod common;

use common::*;
use relier::api::distributor::{self, TokenIssuer};
use serde_json::{json, Value};

fn issuer() -> TokenIssuer {
    TokenIssuer::new(b"test-only-distributor-secret-0123456789").unwrap()
}

fn post(path: &str, auth: Option<&str>, body: &Value) -> lambda_http::Request {
    let bearer = auth.map(|t| format!("Bearer {t}"));
    let mut headers = vec![("content-type", "application/json")];
    if let Some(b) = &bearer {
        headers.push(("authorization", b.as_str()));
    }
    request("POST", path, &headers, Some(&body.to_string()))
}

async fn login(
    store: &relier::adapters::dynamo::DynamoStore,
    tokens: &TokenIssuer,
    customer: &str,
    secret: &str,
) -> (u16, Value) {
    let req = post(
        "/api/distributor/login",
        None,
        &json!({"customer_id": customer, "secret_key": secret}),
    );
    read(distributor::login(req, store, tokens).await.unwrap()).await
}

/// A fresh store with the sandbox partners, and SmartBiz logged in.
struct Dist {
    store: std::sync::Arc<relier::adapters::dynamo::DynamoStore>,
    tokens: TokenIssuer,
    svc: relier::topup::TopupService,
    access: String,
    refresh: String,
}

impl Dist {
    async fn logged_in() -> Self {
        let store = store().await;
        seed_partners(&store).await;
        let tokens = issuer();
        let svc = service(&store, "18.52");
        let (status, body) = login(&store, &tokens, "SMARTBIZ_001", SMARTBIZ_SECRET).await;
        assert_eq!(status, 200, "{body}");
        let access = body["access_token"].as_str().unwrap().to_owned();
        let refresh = body["refresh_token"].as_str().unwrap().to_owned();
        Self {
            store,
            tokens,
            svc,
            access,
            refresh,
        }
    }

    async fn purchase(&self, body: &Value) -> (u16, Value) {
        let req = post(
            "/api/distributor/product_purchase",
            Some(&self.access),
            body,
        );
        read(
            distributor::product_purchase(req, self.store.as_ref(), &self.tokens, &self.svc)
                .await
                .unwrap(),
        )
        .await
    }

    async fn balance(&self, authorization: Option<&str>) -> (u16, Value) {
        let headers: Vec<(&str, &str)> = authorization
            .map(|a| vec![("authorization", a)])
            .unwrap_or_default();
        let req = request("GET", "/api/distributor/get_balance", &headers, None);
        read(
            distributor::get_balance(req, self.store.as_ref(), &self.tokens)
                .await
                .unwrap(),
        )
        .await
    }

    async fn refresh_with(&self, token: &str) -> (u16, Value) {
        let req = post(
            "/api/distributor/refresh",
            None,
            &json!({"refresh_token": token}),
        );
        read(
            distributor::refresh(req, self.store.as_ref(), &self.tokens)
                .await
                .unwrap(),
        )
        .await
    }
}

/// The guide's example purchase.
fn guide_purchase() -> Value {
    json!({
        "distributor_transaction_id": "MY-TXN-001", "phone_number": "5537686660",
        "product_id": "MOVISTAR_TAE", "amount": 10, "operator": "MOVISTAR"
    })
}

#[tokio::test]
async fn login_with_the_guides_credentials_returns_a_token_pair() {
    // GIVEN SmartBiz's sandbox account
    let store = store().await;
    seed_partners(&store).await;
    let tokens = issuer();
    // WHEN it logs in with the guide's credentials
    let (status, body) = login(&store, &tokens, "SMARTBIZ_001", SMARTBIZ_SECRET).await;
    // THEN it gets a bearer pair valid one hour
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["success"], json!(true));
    assert_eq!(body["token_type"], json!("Bearer"));
    assert_eq!(body["expires_in"], json!(3600));
    assert!(body["access_token"].is_string());
    assert!(body["refresh_token"].is_string());
}

#[tokio::test]
async fn bad_credentials_are_401_05() {
    let store = store().await;
    seed_partners(&store).await;
    let tokens = issuer();
    // wrong secret, a partner without a secret, unknown customer: 401 "05"
    for (c, s) in [
        ("SMARTBIZ_001", "wrong"),
        ("HAZ_001", HAZ_KEY),
        ("NOBODY", SMARTBIZ_SECRET),
    ] {
        let (status, body) = login(&store, &tokens, c, s).await;
        assert_eq!(status, 401, "{c}");
        assert_eq!(body["response_code"], json!("05"));
        assert_eq!(body["success"], json!(false));
    }
}

#[tokio::test]
async fn balance_needs_a_valid_access_token() {
    // GIVEN SmartBiz logged in
    let d = Dist::logged_in().await;
    // WHEN it asks for its balance with the access token
    let (status, body) = d.balance(Some(&format!("Bearer {}", d.access))).await;
    // THEN it is the account's USD balance
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["balance"], json!(200));
    assert_eq!(body["currency"], json!("USD"));
    assert!(body["last_updated"].as_str().unwrap().ends_with('Z'));
    // AND no token, a bad token or a refresh token are 401 "05"
    let refresh = format!("Bearer {}", d.refresh);
    for auth in [None, Some("Bearer nope"), Some(refresh.as_str())] {
        let (status, body) = d.balance(auth).await;
        assert_eq!(status, 401);
        assert_eq!(body["response_code"], json!("05"));
    }
}

#[tokio::test]
async fn the_guides_purchase_is_approved_and_charged_once() {
    // GIVEN SmartBiz logged in
    let d = Dist::logged_in().await;
    // WHEN it makes the guide's purchase
    let (status, body) = d.purchase(&guide_purchase()).await;
    // THEN it is approved with the guide's fields
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["response_code"], json!("00"));
    assert_eq!(body["response_message"], json!("Aprobado"));
    assert_eq!(body["distributor_transaction_id"], json!("MY-TXN-001"));
    assert_eq!(body["balance_after"], json!(199.46));
    for field in ["transaction_id", "reference", "auth_code"] {
        assert!(body[field].is_string(), "{field}: {body}");
    }
    let tx_id = body["transaction_id"].clone();
    // AND the same distributor_transaction_id again: the same answer, charged once
    let (status, again) = d.purchase(&guide_purchase()).await;
    assert_eq!(status, 200);
    assert_eq!(again["transaction_id"], tx_id);
    assert_eq!(balance_of(&d.store, "SMARTBIZ_001").await, dec("199.46"));
    // AND with another amount: "12"
    let mut other = guide_purchase();
    other["amount"] = json!(20);
    let (status, body) = d.purchase(&other).await;
    assert_eq!((status, body["response_code"].clone()), (400, json!("12")));
    assert_ledger_ok(&d.store).await;
}

#[tokio::test]
async fn a_data_package_is_sold_at_its_price() {
    // GIVEN SmartBiz logged in, after the guide's purchase
    let d = Dist::logged_in().await;
    assert_eq!(d.purchase(&guide_purchase()).await.0, 200);
    // WHEN it buys a data package priced outside the partner denominations
    let package = json!({"distributor_transaction_id": "PKG-1", "phone_number": "5537686660", "product_id": "MOVISTAR_PAQUETE_20", "amount": 110});
    let (status, body) = d.purchase(&package).await;
    // THEN it is charged 110 / 18.52 = 5.94
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["balance_after"], json!(193.52));
    assert_ledger_ok(&d.store).await;
}

#[tokio::test]
async fn invalid_phone_product_or_amount_is_refused_with_its_code() {
    let d = Dist::logged_in().await;
    for (patch, code) in [
        (json!({"phone_number": "123"}), "83"),
        (json!({"product_id": "MOVISTAR_PAQUETE_99"}), "14"),
        (json!({"amount": 5}), "13"),
    ] {
        let mut b = json!({"distributor_transaction_id": "BAD-1", "phone_number": "5537686660", "product_id": "MOVISTAR_TAE", "amount": 10});
        for (k, v) in patch.as_object().unwrap() {
            b[k] = v.clone();
        }
        let (status, body) = d.purchase(&b).await;
        assert_eq!(
            (status, body["response_code"].clone()),
            (400, json!(code)),
            "{b}"
        );
        assert_eq!(body["distributor_transaction_id"], json!("BAD-1"));
    }
    assert_eq!(balance_of(&d.store, "SMARTBIZ_001").await, dec("200"));
}

#[tokio::test]
async fn a_carrier_failure_is_refunded_with_91() {
    // GIVEN SmartBiz logged in, after the guide's purchase and a package
    let d = Dist::logged_in().await;
    assert_eq!(d.purchase(&guide_purchase()).await.0, 200);
    let package = json!({"distributor_transaction_id": "PKG-1", "phone_number": "5537686660", "product_id": "MOVISTAR_PAQUETE_20", "amount": 110});
    assert_eq!(d.purchase(&package).await.0, 200);
    // WHEN the carrier fails a top-up
    let fail = json!({"distributor_transaction_id": "F-1", "phone_number": "5500000001", "product_id": "MOVISTAR_TAE", "amount": 50});
    let (status, body) = d.purchase(&fail).await;
    // THEN it is 500 "91" and the balance is as before it
    assert_eq!(
        (status, body["response_code"].clone()),
        (500, json!("91")),
        "{body}"
    );
    assert_eq!(balance_of(&d.store, "SMARTBIZ_001").await, dec("193.52"));
    assert_ledger_ok(&d.store).await;
}

#[tokio::test]
async fn insufficient_funds_is_402_51() {
    let d = Dist::logged_in().await;
    let big = json!({"distributor_transaction_id": "BIG-1", "phone_number": "5537686660", "product_id": "MOVISTAR_TAE", "amount": 5000});
    let (status, body) = d.purchase(&big).await;
    assert_eq!(status, 402, "{body}");
    assert_eq!(body["response_code"], json!("51"));
    assert_eq!(body["error"], json!("Insufficient balance"));
    assert_eq!(body["distributor_transaction_id"], json!("BIG-1"));
    assert_eq!(balance_of(&d.store, "SMARTBIZ_001").await, dec("200"));
}

#[tokio::test]
async fn refresh_gives_a_working_pair_and_an_access_token_does_not_refresh() {
    let d = Dist::logged_in().await;
    let (status, body) = d.refresh_with(&d.refresh).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["access_token"].is_string());
    let (status, _) = d.refresh_with(&d.access).await;
    assert_eq!(status, 401);
    assert_ledger_ok(&d.store).await;
}
