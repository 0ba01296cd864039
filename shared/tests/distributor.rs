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

#[tokio::test]
async fn login_balance_and_purchase_follow_the_guide() {
    let store = store().await;
    seed_partners(&store).await;
    let tokens = issuer();
    let svc = service(&store, "18.52");

    // login with the guide's credentials
    let (status, body) = login(&store, &tokens, "SMARTBIZ_001", SMARTBIZ_SECRET).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["success"], json!(true));
    assert_eq!(body["token_type"], json!("Bearer"));
    assert_eq!(body["expires_in"], json!(3600));
    let access = body["access_token"].as_str().unwrap().to_owned();
    let refresh = body["refresh_token"].as_str().unwrap().to_owned();

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

    // balance
    let req = request(
        "GET",
        "/api/distributor/get_balance",
        &[("authorization", &format!("Bearer {access}"))],
        None,
    );
    let (status, body) = read(
        distributor::get_balance(req, store.as_ref(), &tokens)
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["balance"], json!(200));
    assert_eq!(body["currency"], json!("USD"));
    assert!(body["last_updated"].as_str().unwrap().ends_with('Z'));
    for auth in [
        None,
        Some("Bearer nope"),
        Some(format!("Bearer {refresh}").as_str()),
    ] {
        let headers: Vec<(&str, &str)> =
            auth.map(|a| vec![("authorization", a)]).unwrap_or_default();
        let req = request("GET", "/api/distributor/get_balance", &headers, None);
        let (status, body) = read(
            distributor::get_balance(req, store.as_ref(), &tokens)
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 401);
        assert_eq!(body["response_code"], json!("05"));
    }

    // the guide's purchase
    let purchase = json!({
        "distributor_transaction_id": "MY-TXN-001", "phone_number": "5537686660",
        "product_id": "MOVISTAR_TAE", "amount": 10, "operator": "MOVISTAR"
    });
    let req = post(
        "/api/distributor/product_purchase",
        Some(&access),
        &purchase,
    );
    let (status, body) = read(
        distributor::product_purchase(req, store.as_ref(), &tokens, &svc)
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["response_code"], json!("00"));
    assert_eq!(body["response_message"], json!("Aprobado"));
    assert_eq!(body["distributor_transaction_id"], json!("MY-TXN-001"));
    assert_eq!(body["balance_after"], json!(199.46));
    for field in ["transaction_id", "reference", "auth_code"] {
        assert!(body[field].is_string(), "{field}: {body}");
    }
    let tx_id = body["transaction_id"].clone();

    // the same distributor_transaction_id again: the same answer, charged once
    let req = post(
        "/api/distributor/product_purchase",
        Some(&access),
        &purchase,
    );
    let (status, again) = read(
        distributor::product_purchase(req, store.as_ref(), &tokens, &svc)
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(again["transaction_id"], tx_id);
    assert_eq!(balance_of(&store, "SMARTBIZ_001").await, dec("199.46"));
    // ... with another amount: "12"
    let mut other = purchase.clone();
    other["amount"] = json!(20);
    let req = post("/api/distributor/product_purchase", Some(&access), &other);
    let (status, body) = read(
        distributor::product_purchase(req, store.as_ref(), &tokens, &svc)
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, body["response_code"].clone()), (400, json!("12")));

    // a data package priced outside the partner denominations
    let package = json!({"distributor_transaction_id": "PKG-1", "phone_number": "5537686660", "product_id": "MOVISTAR_PAQUETE_20", "amount": 110});
    let req = post("/api/distributor/product_purchase", Some(&access), &package);
    let (status, body) = read(
        distributor::product_purchase(req, store.as_ref(), &tokens, &svc)
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["balance_after"], json!(193.52)); // 110 / 18.52 = 5.94

    // invalid phone / product / amount
    for (patch, code) in [
        (json!({"phone_number": "123"}), "83"),
        (json!({"product_id": "MOVISTAR_PAQUETE_99"}), "14"),
        (json!({"amount": 5}), "13"),
    ] {
        let mut b = json!({"distributor_transaction_id": "BAD-1", "phone_number": "5537686660", "product_id": "MOVISTAR_TAE", "amount": 10});
        for (k, v) in patch.as_object().unwrap() {
            b[k] = v.clone();
        }
        let req = post("/api/distributor/product_purchase", Some(&access), &b);
        let (status, body) = read(
            distributor::product_purchase(req, store.as_ref(), &tokens, &svc)
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(
            (status, body["response_code"].clone()),
            (400, json!(code)),
            "{b}"
        );
        assert_eq!(body["distributor_transaction_id"], json!("BAD-1"));
    }

    // a carrier failure: refunded, "91"
    let fail = json!({"distributor_transaction_id": "F-1", "phone_number": "5500000001", "product_id": "MOVISTAR_TAE", "amount": 50});
    let req = post("/api/distributor/product_purchase", Some(&access), &fail);
    let (status, body) = read(
        distributor::product_purchase(req, store.as_ref(), &tokens, &svc)
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body["response_code"].clone()),
        (500, json!("91")),
        "{body}"
    );
    assert_eq!(balance_of(&store, "SMARTBIZ_001").await, dec("193.52"));

    // insufficient funds: HTTP 402, "51"
    let big = json!({"distributor_transaction_id": "BIG-1", "phone_number": "5537686660", "product_id": "MOVISTAR_TAE", "amount": 5000});
    let req = post("/api/distributor/product_purchase", Some(&access), &big);
    let (status, body) = read(
        distributor::product_purchase(req, store.as_ref(), &tokens, &svc)
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 402, "{body}");
    assert_eq!(body["response_code"], json!("51"));
    assert_eq!(body["error"], json!("Insufficient balance"));
    assert_eq!(body["distributor_transaction_id"], json!("BIG-1"));

    // refresh gives a working pair; an access token is not a refresh token
    let req = post(
        "/api/distributor/refresh",
        None,
        &json!({"refresh_token": refresh}),
    );
    let (status, body) = read(
        distributor::refresh(req, store.as_ref(), &tokens)
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body["access_token"].is_string());
    let req = post(
        "/api/distributor/refresh",
        None,
        &json!({"refresh_token": access}),
    );
    let (status, _) = read(
        distributor::refresh(req, store.as_ref(), &tokens)
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 401);
    assert_ledger_ok(&store).await;
}
