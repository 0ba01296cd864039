//! Partner views and the reconciliation export against DynamoDB Local: listing pagination,
//! statement identity, CSV shape and quoting, partner isolation, exact day boundaries.

mod common;

use chrono::{DateTime, TimeZone, Utc};
use common::*;
use relier::adapters::dynamo::DynamoStore;
use relier::api::reports as handlers;
use relier::ops::balance::{self, ChangeRequest};
use relier::ops::ports::{BalanceChangeKind, ReconcileScope};
use relier::ops::{keys, Actor};
use rust_decimal::Decimal;
use serde_json::Value;
use std::collections::HashSet;

fn ops() -> Actor {
    Actor("local:test".into())
}

async fn credit_at(store: &DynamoStore, id: &str, usd: &str, reference: &str, at: DateTime<Utc>) {
    balance::apply(
        store,
        &ops(),
        ChangeRequest {
            customer: id,
            kind: BalanceChangeKind::Credit,
            amount_usd: usd,
            reference,
            note: Some("line one\nline \"two\", with comma"),
        },
        at,
    )
    .await
    .unwrap();
}

/// A minimal RFC 4180 reader (quoted fields, doubled quotes, CRLF / LF inside quotes).
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let (mut rows, mut row, mut field) = (Vec::new(), Vec::new(), String::new());
    let (mut quoted, mut chars) = (false, text.chars().peekable());
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    assert!(
        !quoted && field.is_empty() && row.is_empty(),
        "CSV must end with CRLF"
    );
    rows
}

async fn export(
    store: &DynamoStore,
    key: &str,
    query: &str,
) -> (u16, String, Vec<(String, String)>) {
    let mut headers = Vec::new();
    if !key.is_empty() {
        headers.push(("x-reconcile-key", key));
    }
    let req = request(
        "GET",
        &format!("/api/admin/reconcile/export?{query}"),
        &headers,
        None,
    );
    let resp = handlers::reconcile_export(req, store, store).await.unwrap();
    let hs = resp
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_owned()))
        .collect();
    let body = match resp.body() {
        lambda_http::Body::Text(t) => t.clone(),
        _ => String::new(),
    };
    (resp.status().as_u16(), body, hs)
}

async fn reconcile_key(store: &DynamoStore, scope: ReconcileScope) -> String {
    keys::add_reconcile_key(store, &ops(), scope, Utc::now())
        .await
        .unwrap()
        .0
}

fn col(header: &[String], name: &str) -> usize {
    header.iter().position(|h| h == name).unwrap()
}

#[tokio::test]
async fn the_export_is_rfc_4180_exact_at_day_boundaries_and_reconciles_to_the_cent() {
    // GIVEN SmartBiz credited just before, at both ends of, and just after October
    let store = store().await;
    seed_partners(&store).await;
    let sb = relier::domain::CustomerId::parse("SMARTBIZ_001").unwrap();
    let t = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
    credit_at(
        &store,
        "SMARTBIZ_001",
        "1.00",
        "W-SEP",
        t("2025-09-30T23:59:59.999Z"),
    )
    .await;
    credit_at(
        &store,
        "SMARTBIZ_001",
        "2.00",
        "W,\"OCT\"\nSTART",
        t("2025-10-01T00:00:00.000Z"),
    )
    .await;
    credit_at(
        &store,
        "SMARTBIZ_001",
        "3.00",
        "W-OCT-END",
        t("2025-10-31T23:59:59.999Z"),
    )
    .await;
    credit_at(
        &store,
        "SMARTBIZ_001",
        "4.00",
        "W-NOV",
        t("2025-11-01T00:00:00.000Z"),
    )
    .await;
    // AND HAZ has a credit in October too
    credit_at(
        &store,
        "HAZ_001",
        "9.00",
        "HAZ-OCT",
        t("2025-10-15T12:00:00.000Z"),
    )
    .await;
    let key = reconcile_key(&store, ReconcileScope::Partner(sb)).await;
    // WHEN SmartBiz exports October
    let (status, body, headers) =
        export(&store, &key, "date_from=2025-10-01&date_to=2025-10-31").await;
    // THEN a CSV download with exactly the two October lines, quoting intact
    assert_eq!(status, 200, "{body}");
    let h = |n: &str| {
        headers
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    assert_eq!(h("content-type"), "text/csv; charset=utf-8");
    assert!(h("content-disposition").starts_with("attachment; filename="));
    let rows = parse_csv(&body);
    let header = &rows[0];
    for c in [
        "transaction_id",
        "created_at",
        "processed_at",
        "customer_id",
        "company",
        "phone",
        "amount_mxn",
        "amount_usd",
        "exchange_rate",
        "commission",
        "status",
        "reference",
        "operator_transaction_id",
        "provider",
        "response_time_ms",
        "balance_before_usd",
        "balance_after_usd",
        "kind",
    ] {
        assert!(header.contains(&c.to_owned()), "column {c}");
    }
    let data = &rows[1..];
    assert_eq!(data.len(), 2, "{body}");
    let refs: Vec<&str> = data
        .iter()
        .map(|r| r[col(header, "reference")].as_str())
        .collect();
    assert_eq!(refs, ["W,\"OCT\"\nSTART", "W-OCT-END"]);
    assert!(data
        .iter()
        .all(|r| r[col(header, "customer_id")] == "SMARTBIZ_001"));
    assert!(data.iter().all(|r| r[col(header, "kind")] == "CREDIT"));
    assert_eq!(
        data[0][col(header, "note")],
        "line one\nline \"two\", with comma"
    );
    // AND first balance_before + Σ delta == last balance_after
    let d = |s: &str| dec(s);
    let sum: Decimal = data.iter().map(|r| d(&r[col(header, "delta_usd")])).sum();
    assert_eq!(
        d(&data[0][col(header, "balance_before_usd")]) + sum,
        d(&data[1][col(header, "balance_after_usd")])
    );
    assert_eq!(
        d(&data[0][col(header, "balance_before_usd")]),
        dec("201.00")
    );
}

#[tokio::test]
async fn the_export_refuses_bad_keys_and_bad_ranges() {
    let store = store().await;
    seed_partners(&store).await;
    let key = reconcile_key(
        &store,
        ReconcileScope::Partner(relier::domain::CustomerId::parse("HAZ_001").unwrap()),
    )
    .await;
    let ok = "date_from=2025-10-01&date_to=2025-10-31";
    assert_eq!(export(&store, "", ok).await.0, 401);
    assert_eq!(
        export(&store, "rrk_not_a_key_000000000000000000000000000000", ok)
            .await
            .0,
        401
    );
    for bad in [
        "date_from=2025-10-01",
        "date_from=2025-10-32&date_to=2025-11-01",
        "date_from=2025-11-01&date_to=2025-10-01",
        "date_from=2025-01-01&date_to=2025-06-30",
        "date_from=10/01/2025&date_to=2025-10-31",
    ] {
        let (status, body, _) = export(&store, &key, bad).await;
        assert_eq!(status, 400, "{bad}");
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["success"], Value::Bool(false));
        assert_eq!(v["error"], "Validation failed");
    }
    // a revoked key is 401 at once
    let prefix = relier::ops::secrets::prefix(&key);
    keys::revoke_reconcile_key(
        store.as_ref(),
        &ops(),
        ReconcileScope::Partner(relier::domain::CustomerId::parse("HAZ_001").unwrap()),
        &prefix,
        Utc::now(),
    )
    .await
    .unwrap();
    assert_eq!(export(&store, &key, ok).await.0, 401);
}

#[tokio::test]
async fn top_ups_and_refunds_are_rows_and_other_partners_never_appear() {
    // GIVEN top-ups (one refunded) for both partners, today
    let store = store().await;
    seed_partners(&store).await;
    let svc = service(&store, "18.52");
    for (c, k, phone) in [
        ("HAZ_001", HAZ_KEY, "5566374683"),
        ("HAZ_001", HAZ_KEY, "5500000001"),
        ("SMARTBIZ_001", SMARTBIZ_KEY, "5537686660"),
    ] {
        topup(
            &store,
            &svc,
            c,
            k,
            &format!(r#"{{"phone":"{phone}","amount":20}}"#),
        )
        .await;
    }
    let key = reconcile_key(
        &store,
        ReconcileScope::Partner(relier::domain::CustomerId::parse("HAZ_001").unwrap()),
    )
    .await;
    let (status, body, _) = export(
        &store,
        &key,
        &format!("date_from={}&date_to={}", today(), today()),
    )
    .await;
    assert_eq!(status, 200);
    let rows = parse_csv(&body);
    let header = &rows[0];
    let kinds: Vec<&str> = rows[1..]
        .iter()
        .map(|r| r[col(header, "kind")].as_str())
        .collect();
    assert_eq!(kinds, ["TOPUP", "TOPUP", "REFUND"]);
    assert!(rows[1..]
        .iter()
        .all(|r| r[col(header, "customer_id")] == "HAZ_001"));
    assert!(!body.contains("SMARTBIZ"));
    assert_eq!(rows[1][col(header, "amount_mxn")], "20");
    assert_eq!(rows[1][col(header, "amount_usd")], "1.08");
    assert_eq!(rows[1][col(header, "status")], "SUCCESS");
    assert_eq!(rows[2][col(header, "status")], "FAILED");
    // AND the ops all-partners key sees both
    let all = reconcile_key(&store, ReconcileScope::AllPartners).await;
    let (_, body, _) = export(
        &store,
        &all,
        &format!("date_from={}&date_to={}", today(), today()),
    )
    .await;
    assert_eq!(parse_csv(&body).len(), 1 + 4);
}

async fn get(store: &DynamoStore, path: &str, customer: &str, key: &str) -> (u16, Value) {
    let req = request(
        "GET",
        path,
        &[("x-api-key", key), ("x-customer-id", customer)],
        None,
    );
    let resp = if path.starts_with("/api/statement") {
        handlers::statement(req, store, store).await
    } else {
        handlers::transactions(req, store, store).await
    };
    read(resp.unwrap()).await
}

#[tokio::test]
async fn the_statement_adds_up_after_top_ups_refunds_and_credits() {
    // GIVEN top-ups (one refunded), a credit and an adjustment today
    let store = store().await;
    seed_partners(&store).await;
    let svc = service(&store, "18.52");
    for phone in ["5566374683", "5500000001", "5537686660"] {
        topup(
            &store,
            &svc,
            "HAZ_001",
            HAZ_KEY,
            &format!(r#"{{"phone":"{phone}","amount":50}}"#),
        )
        .await;
    }
    credit_at(&store, "HAZ_001", "125.50", "WIRE-S", Utc::now()).await;
    // WHEN HAZ asks for today's statement
    let q = format!("/api/statement?date_from={}&date_to={}", today(), today());
    let (status, body) = get(&store, &q, "HAZ_001", HAZ_KEY).await;
    // THEN opening + Σ lines == closing, and closing is the balance
    assert_eq!(status, 200, "{body}");
    let d = |v: &Value| dec(&v.to_string());
    let sum: Decimal = body["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| d(&l["amount_usd"]))
        .sum();
    assert_eq!(d(&body["opening_balance_usd"]), dec("10000"));
    assert_eq!(
        d(&body["opening_balance_usd"]) + sum,
        d(&body["closing_balance_usd"])
    );
    assert_eq!(
        d(&body["closing_balance_usd"]),
        balance_of(&store, "HAZ_001").await
    );
    let kinds: Vec<&str> = body["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["TOPUP", "TOPUP", "REFUND", "TOPUP", "CREDIT"]);
    // AND a day without lines opens and closes at the balance of that day
    let (_, empty) = get(
        &store,
        "/api/statement?date_from=2020-01-01&date_to=2020-01-31",
        "HAZ_001",
        HAZ_KEY,
    )
    .await;
    assert_eq!(
        d(&empty["opening_balance_usd"]),
        d(&empty["closing_balance_usd"])
    );
    assert_eq!(get(&store, &q, "HAZ_001", "wrong").await.0, 401);
    assert_eq!(
        get(
            &store,
            "/api/statement?date_from=2025-13-01&date_to=2025-12-01",
            "HAZ_001",
            HAZ_KEY
        )
        .await
        .0,
        400
    );
}

#[tokio::test]
async fn listing_pages_return_every_transaction_exactly_once_while_new_ones_arrive() {
    // GIVEN 12 top-ups of HAZ and 2 of SmartBiz
    let store = store().await;
    seed_partners(&store).await;
    let svc = std::sync::Arc::new(service(&store, "18.52"));
    let mut expected = HashSet::new();
    for i in 0..12 {
        let (_, b) = topup(
            &store,
            &svc,
            "HAZ_001",
            HAZ_KEY,
            &format!(r#"{{"phone":"5566374683","amount":10,"reference":"L-{i}"}}"#),
        )
        .await;
        expected.insert(b["transaction"]["id"].as_str().unwrap().to_owned());
    }
    for _ in 0..2 {
        topup(
            &store,
            &svc,
            "SMARTBIZ_001",
            SMARTBIZ_KEY,
            r#"{"phone":"5537686660","amount":10}"#,
        )
        .await;
    }
    // WHEN HAZ pages 5 at a time while more top-ups are being written
    let writer = {
        let (store, svc) = (store.clone(), svc.clone());
        tokio::spawn(async move {
            for i in 0..6 {
                topup(
                    &store,
                    &svc,
                    "HAZ_001",
                    HAZ_KEY,
                    &format!(r#"{{"phone":"5566374683","amount":10,"reference":"N-{i}"}}"#),
                )
                .await;
            }
        })
    };
    let (mut seen, mut cursor, mut pages) = (Vec::new(), None::<String>, 0);
    loop {
        let q = match &cursor {
            Some(c) => format!("/api/transactions?limit=5&cursor={c}"),
            None => "/api/transactions?limit=5".to_owned(),
        };
        let (status, body) = get(&store, &q, "HAZ_001", HAZ_KEY).await;
        assert_eq!(status, 200, "{body}");
        pages += 1;
        let txs = body["transactions"].as_array().unwrap();
        assert!(txs.len() <= 5);
        let created: Vec<&str> = txs
            .iter()
            .map(|t| t["created_at"].as_str().unwrap())
            .collect();
        assert!(created.windows(2).all(|w| w[0] >= w[1]), "newest first");
        seen.extend(txs.iter().map(|t| t["id"].as_str().unwrap().to_owned()));
        match body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
        assert!(pages < 20);
    }
    writer.await.unwrap();
    // THEN each id once; every transaction that existed before paging is there; no SmartBiz
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no duplicates");
    assert!(expected.iter().all(|id| unique.contains(id)));
    assert!(pages >= 3);
    // AND filters, limits and cursors are validated
    let (_, ok) = get(
        &store,
        "/api/transactions?reference=L-3",
        "HAZ_001",
        HAZ_KEY,
    )
    .await;
    assert_eq!(ok["count"], 1);
    let (_, ok) = get(
        &store,
        "/api/transactions?status=success&phone=5566374683&limit=200",
        "HAZ_001",
        HAZ_KEY,
    )
    .await;
    assert_eq!(ok["count"], 18);
    for bad in [
        "limit=0",
        "limit=500",
        "status=DONE",
        "phone=12",
        "cursor=zz",
        "date_from=2025-1-1",
    ] {
        let (status, _) = get(
            &store,
            &format!("/api/transactions?{bad}"),
            "HAZ_001",
            HAZ_KEY,
        )
        .await;
        assert_eq!(status, 400, "{bad}");
    }
    // a cursor of another partner is refused
    let (_, sb) = get(
        &store,
        "/api/transactions?limit=1",
        "SMARTBIZ_001",
        SMARTBIZ_KEY,
    )
    .await;
    let foreign = sb["next_cursor"].as_str().unwrap();
    let (status, _) = get(
        &store,
        &format!("/api/transactions?cursor={foreign}"),
        "HAZ_001",
        HAZ_KEY,
    )
    .await;
    assert_eq!(status, 400);
}

#[test]
fn day_helpers_are_the_window_ends() {
    let d = chrono::NaiveDate::from_ymd_opt(2025, 10, 31).unwrap();
    assert_eq!(
        handlers::day_end(d),
        Utc.with_ymd_and_hms(2025, 10, 31, 23, 59, 59).unwrap()
            + chrono::TimeDelta::milliseconds(999)
    );
}
