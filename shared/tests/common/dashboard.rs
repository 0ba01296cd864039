//! Test support for the dashboard suites: a `Dashboard` on DynamoDB Local, sign-in, GETs
//! with the session cookie.
#![allow(dead_code)]

use crate::common::{read, request};
use lambda_http::{Body, Response};
use relier::adapters::clock::ManualClock;
use relier::adapters::dynamo::DynamoStore;
use relier::api::dashboard::Dashboard;
use serde_json::Value;
use std::sync::Arc;

pub const ORIGIN: &str = "http://127.0.0.1:9000";

pub fn dashboard(store: &Arc<DynamoStore>, clock: Arc<ManualClock>) -> Dashboard {
    Dashboard {
        accounts: store.clone(),
        transactions: store.clone(),
        reports: store.clone(),
        reads: store.clone(),
        webhooks: store.clone(),
        sessions: store.clone(),
        clock,
        secure: false,
    }
}

pub fn text(resp: &Response<Body>) -> String {
    match resp.body() {
        Body::Text(t) => t.clone(),
        Body::Binary(b) => String::from_utf8_lossy(b).into_owned(),
        _ => String::new(),
    }
}

pub fn set_cookies(resp: &Response<Body>) -> Vec<String> {
    resp.headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

pub async fn login(
    d: &Dashboard,
    customer: &str,
    key: &str,
    origin: Option<&str>,
) -> Response<Body> {
    let body = format!("customer_id={customer}&api_key={key}");
    let mut headers = vec![
        ("content-type", "application/x-www-form-urlencoded"),
        ("host", "127.0.0.1:9000"),
    ];
    if let Some(o) = origin {
        headers.push(("origin", o));
    }
    d.handle(request("POST", "/dashboard/login", &headers, Some(&body)))
        .await
        .unwrap()
}

/// Sign in and return the `Cookie` header value for later requests.
pub async fn signed_in(d: &Dashboard, customer: &str, key: &str) -> String {
    let resp = login(d, customer, key, Some(ORIGIN)).await;
    assert_eq!(resp.status(), 303, "{}", text(&resp));
    let c = set_cookies(&resp)
        .into_iter()
        .find(|c| c.starts_with("relier_session="))
        .expect("session cookie");
    c.split(';').next().unwrap().to_owned()
}

pub async fn get(d: &Dashboard, path: &str, cookie: &str) -> Response<Body> {
    d.handle(request(
        "GET",
        path,
        &[("cookie", cookie), ("host", "127.0.0.1:9000")],
        None,
    ))
    .await
    .unwrap()
}

pub async fn get_json(d: &Dashboard, path: &str, cookie: &str) -> (u16, Value) {
    read(get(d, path, cookie).await).await
}
