//! Operations against DynamoDB Local: onboarding, funding, adjusting, key rotation,
//! disabling, audit trail (the use cases `relier-admin` runs).

mod common;

use chrono::{TimeZone, Utc};
use common::*;
use relier::adapters::dynamo::DynamoStore;
use relier::ops::balance::{self, ChangeDone, ChangeRequest};
use relier::ops::partners::{self, NewPartner};
use relier::ops::ports::{AdminStore, BalanceChangeKind, PartnerSettings};
use relier::ops::{keys, Actor};
use serde_json::json;

fn ops() -> Actor {
    Actor("arn:aws:iam::123456789012:user/ops-alice".into())
}

async fn balance_status(store: &DynamoStore, customer: &str, key: &str) -> u16 {
    let req = request(
        "GET",
        "/api/balance",
        &[("x-api-key", key), ("x-customer-id", customer)],
        None,
    );
    read(relier::api::partner::balance(req, store).await.unwrap())
        .await
        .0
}

async fn create(store: &DynamoStore, id: &str) -> String {
    partners::create(
        store,
        &ops(),
        NewPartner {
            customer_id: id.into(),
            company_name: "Acme Telecom".into(),
            credit_limit: dec("500"),
            daily_limit_mxn: Some(dec("5000")),
            max_topups_per_minute: Some(200),
            ..NewPartner::default()
        },
        Utc::now(),
    )
    .await
    .unwrap()
    .api_key
}

async fn change(
    store: &DynamoStore,
    id: &str,
    kind: BalanceChangeKind,
    usd: &str,
    reference: &str,
) -> Result<ChangeDone, relier::ops::OpsError> {
    balance::apply(
        store,
        &ops(),
        ChangeRequest {
            customer: id,
            kind,
            amount_usd: usd,
            reference,
            note: Some("wire received"),
        },
        Utc::now(),
    )
    .await
}

#[tokio::test]
async fn a_created_partner_authenticates_with_its_new_key_and_nothing_else() {
    // GIVEN a new partner
    let store = store().await;
    let key = create(&store, "ACME_001").await;
    // THEN its key is long and works; a wrong key does not; the id cannot be created twice
    assert!(key.len() >= 32);
    assert_eq!(balance_status(&store, "ACME_001", &key).await, 200);
    assert_eq!(
        balance_status(&store, "ACME_001", "rlr_wrong_key_0000000000000000").await,
        401
    );
    let again = partners::create(
        store.as_ref(),
        &ops(),
        NewPartner {
            customer_id: "ACME_001".into(),
            company_name: "Other".into(),
            ..NewPartner::default()
        },
        Utc::now(),
    )
    .await
    .unwrap_err();
    assert!(again.to_string().contains("already exists"), "{again}");
    // AND only the hash is stored
    let p = partners::get(store.as_ref(), "ACME_001").await.unwrap();
    assert_eq!(
        p.account.api_key_hashes,
        vec![relier::domain::credentials::hash_key(&key)]
    );
    assert_eq!(p.account.balance, dec("0"));
    assert_eq!(store.list_partners().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_credit_moves_the_balance_through_the_ledger_exactly_once() {
    // GIVEN a partner with 0 USD
    let store = store().await;
    create(&store, "ACME_001").await;
    // WHEN a wire of 1500.00 is credited, twice with the same reference
    let first = change(
        &store,
        "ACME_001",
        BalanceChangeKind::Credit,
        "1500.00",
        "WIRE-2025-10-01-7731",
    )
    .await
    .unwrap();
    let second = change(
        &store,
        "ACME_001",
        BalanceChangeKind::Credit,
        "1500.00",
        "WIRE-2025-10-01-7731",
    )
    .await
    .unwrap();
    // THEN the balance rose once, with one CREDIT ledger line carrying the reference
    assert!(
        matches!(first, ChangeDone::Applied { seq: 1, .. }),
        "{first:?}"
    );
    assert!(
        matches!(second, ChangeDone::AlreadyApplied { seq: 1, .. }),
        "{second:?}"
    );
    assert_eq!(balance_of(&store, "ACME_001").await, dec("1500"));
    let lines = store.ledger_entries("ACME_001").await.unwrap();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0].kind, "CREDIT");
    assert_eq!(
        (lines[0].balance_before, lines[0].balance_after),
        (dec("0"), dec("1500"))
    );
    assert_ledger_ok(&store).await;
    // AND the same reference with another amount is refused, changing nothing
    let err = change(
        &store,
        "ACME_001",
        BalanceChangeKind::Credit,
        "15.00",
        "WIRE-2025-10-01-7731",
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("already used"), "{err}");
    // AND bad amounts are refused before anything is written
    for bad in ["-5", "0", "1.001", "ten"] {
        assert!(
            change(&store, "ACME_001", BalanceChangeKind::Credit, bad, "W-X")
                .await
                .is_err()
        );
    }
    assert_eq!(balance_of(&store, "ACME_001").await, dec("1500"));
}

#[tokio::test]
async fn concurrent_credits_with_one_reference_credit_once() {
    // GIVEN a partner WHEN the same wire is credited from 8 tasks at once
    let store = store().await;
    create(&store, "ACME_001").await;
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let s = store.clone();
        tasks.push(tokio::spawn(async move {
            change(
                &s,
                "ACME_001",
                BalanceChangeKind::Credit,
                "100",
                "WIRE-RACE",
            )
            .await
            .unwrap()
        }));
    }
    let mut applied = 0;
    for t in tasks {
        if matches!(t.await.unwrap(), ChangeDone::Applied { .. }) {
            applied += 1;
        }
    }
    // THEN exactly one applied
    assert_eq!(applied, 1);
    assert_eq!(balance_of(&store, "ACME_001").await, dec("100"));
    assert_ledger_ok(&store).await;
}

#[tokio::test]
async fn an_adjustment_never_takes_a_balance_below_its_floor() {
    // GIVEN 100 USD and a strictly prepaid account
    let store = store().await;
    create(&store, "ACME_001").await;
    change(
        &store,
        "ACME_001",
        BalanceChangeKind::Credit,
        "100",
        "WIRE-1",
    )
    .await
    .unwrap();
    // WHEN an adjustment of -100.01 is asked THEN it is refused and nothing changes
    let err = change(
        &store,
        "ACME_001",
        BalanceChangeKind::Adjustment,
        "-100.01",
        "ADJ-1",
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("below its floor"), "{err}");
    assert_eq!(balance_of(&store, "ACME_001").await, dec("100"));
    // WHEN -100.00 THEN the balance is exactly 0, an ADJUSTMENT line
    change(
        &store,
        "ACME_001",
        BalanceChangeKind::Adjustment,
        "-100.00",
        "ADJ-2",
    )
    .await
    .unwrap();
    assert_eq!(balance_of(&store, "ACME_001").await, dec("0"));
    // AND with an overdraft of 50 the floor is -50
    partners::set(
        store.as_ref(),
        &ops(),
        "ACME_001",
        PartnerSettings {
            overdraft_usd: Some(dec("50")),
            ..PartnerSettings::default()
        },
        "partner.set",
        Utc::now(),
    )
    .await
    .unwrap();
    assert!(change(
        &store,
        "ACME_001",
        BalanceChangeKind::Adjustment,
        "-50.01",
        "ADJ-3"
    )
    .await
    .is_err());
    change(
        &store,
        "ACME_001",
        BalanceChangeKind::Adjustment,
        "-50",
        "ADJ-4",
    )
    .await
    .unwrap();
    assert_eq!(balance_of(&store, "ACME_001").await, dec("-50"));
    let kinds: Vec<String> = store
        .ledger_entries("ACME_001")
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(kinds, ["CREDIT", "ADJUSTMENT", "ADJUSTMENT"]);
    assert_ledger_ok(&store).await;
}

#[tokio::test]
async fn key_rotation_keeps_both_keys_until_the_old_one_is_revoked() {
    // GIVEN a partner with its first key
    let store = store().await;
    let old = create(&store, "ACME_001").await;
    // WHEN a second key is added THEN both work
    let (new, record) = keys::add_api_key(store.as_ref(), &ops(), "ACME_001", Utc::now())
        .await
        .unwrap();
    assert_ne!(old, new);
    assert_eq!(balance_status(&store, "ACME_001", &old).await, 200);
    assert_eq!(balance_status(&store, "ACME_001", &new).await, 200);
    let listed = keys::list_api_keys(store.as_ref(), store.as_ref(), "ACME_001")
        .await
        .unwrap();
    assert_eq!(listed.len(), 2);
    assert!(listed
        .iter()
        .all(|k| k.prefix.is_some() && k.created_at.is_some()));
    // WHEN the old one is revoked by its prefix THEN it is 401 and the new one still works
    let old_prefix = relier::ops::secrets::prefix(&old);
    keys::revoke_api_key(store.as_ref(), &ops(), "ACME_001", &old_prefix, Utc::now())
        .await
        .unwrap();
    assert_eq!(balance_status(&store, "ACME_001", &old).await, 401);
    assert_eq!(balance_status(&store, "ACME_001", &new).await, 200);
    // AND the last key cannot be revoked (that would be `partner disable`)
    let err = keys::revoke_api_key(
        store.as_ref(),
        &ops(),
        "ACME_001",
        &record.prefix,
        Utc::now(),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("only key"), "{err}");
}

#[tokio::test]
async fn a_disabled_partner_is_401_until_enabled() {
    let store = store().await;
    let key = create(&store, "ACME_001").await;
    let off = PartnerSettings {
        active: Some(false),
        ..PartnerSettings::default()
    };
    partners::set(
        store.as_ref(),
        &ops(),
        "ACME_001",
        off,
        "partner.disable",
        Utc::now(),
    )
    .await
    .unwrap();
    assert_eq!(balance_status(&store, "ACME_001", &key).await, 401);
    let on = PartnerSettings {
        active: Some(true),
        ..PartnerSettings::default()
    };
    partners::set(
        store.as_ref(),
        &ops(),
        "ACME_001",
        on,
        "partner.enable",
        Utc::now(),
    )
    .await
    .unwrap();
    assert_eq!(balance_status(&store, "ACME_001", &key).await, 200);
}

#[tokio::test]
async fn every_admin_action_is_in_the_audit_trail_with_before_and_after() {
    // GIVEN a partner created, limited, credited, given a new key and a distributor secret
    let store = store().await;
    create(&store, "ACME_001").await;
    let at = Utc.with_ymd_and_hms(2030, 1, 2, 3, 4, 5).unwrap();
    partners::set(
        store.as_ref(),
        &ops(),
        "ACME_001",
        PartnerSettings {
            daily_limit_mxn: Some(Some(dec("9000"))),
            commission: Some(partners::commission_from_percent(dec("2.5")).unwrap()),
            ..PartnerSettings::default()
        },
        "partner.set",
        at,
    )
    .await
    .unwrap();
    change(
        &store,
        "ACME_001",
        BalanceChangeKind::Credit,
        "250",
        "WIRE-9",
    )
    .await
    .unwrap();
    keys::add_api_key(store.as_ref(), &ops(), "ACME_001", Utc::now())
        .await
        .unwrap();
    let secret = keys::set_distributor_secret(store.as_ref(), &ops(), "ACME_001", Utc::now())
        .await
        .unwrap();
    let p = partners::get(store.as_ref(), "ACME_001").await.unwrap();
    assert_eq!(
        p.account.secret_key_hash,
        Some(relier::domain::credentials::hash_key(&secret))
    );
    // THEN the trail has each action: who, what, when, before, after
    let trail = store.audit_records("ACME_001").await.unwrap();
    let actions: Vec<&str> = trail.iter().map(|r| r.action.as_str()).collect();
    for a in [
        "partner.create",
        "partner.set",
        "credit",
        "key.add",
        "distributor_secret.set",
    ] {
        assert!(actions.contains(&a), "{a} missing from {actions:?}");
    }
    assert!(trail.iter().all(|r| r.actor == ops().0));
    let set = trail.iter().find(|r| r.action == "partner.set").unwrap();
    assert_eq!(set.at, at);
    assert_eq!(set.before["daily_limit_mxn"], json!(5000));
    assert_eq!(set.after["daily_limit_mxn"], json!(9000));
    assert_eq!(set.after["commission_percent"], json!(2.5));
    let credit = trail.iter().find(|r| r.action == "credit").unwrap();
    assert_eq!(credit.before["balance_usd"], json!("0"));
    assert_eq!(credit.after["balance_usd"], json!("250"));
    assert_eq!(credit.after["reference"], json!("WIRE-9"));
    // AND no secret ever appears in it
    let text = format!("{trail:?}");
    assert!(!text.contains(&secret));
}
