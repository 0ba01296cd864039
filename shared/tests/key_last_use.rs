//! An API key's "last used" (`relier-admin key list`), against DynamoDB Local: the request gate
//! stamps it on the key's first request of each 15-minute window (the window write already says
//! whether the key is new there), in the background; later requests of the window cost nothing.

mod common;
#[path = "common/ddb_meter.rs"]
mod ddb_meter;

use chrono::{DateTime, Duration, TimeZone, Utc};
use common::*;
use ddb_meter::DdbMeter;
use relier::adapters::clock::ManualClock;
use relier::adapters::dynamo::DynamoStore;
use relier::api::edge::gate::Gate;
use relier::api::edge::routes;
use relier::api::edge::window::window_start;
use relier::domain::credentials::hash_key;
use relier::domain::CustomerId;
use relier::ops::keys::{list_api_keys, KeyUses};
use relier::ports::Clock;

const KEY: &str = "lastuse-key-0123456789abcdef";
const OTHER: &str = "lastuse-other-0123456789abcdef";

/// 5 minutes into a window tomorrow (the window item's TTL must lie in the future).
fn window_clock() -> ManualClock {
    let start = window_start(Utc::now() + Duration::days(1));
    ManualClock::new(Utc.timestamp_opt(start, 0).unwrap() + Duration::minutes(5))
}

async fn metered_store() -> (DynamoStore, DdbMeter) {
    let tables = store().await;
    let meter = DdbMeter::new();
    let store = DynamoStore::new(
        meter.client(&sdk().await),
        tables.accounts_table(),
        tables.transactions_table(),
    );
    let mut account = account(&AccountSpec::new("USE_001", KEY, "100"), "Use Co");
    account.api_key_hashes.push(hash_key(OTHER));
    store.put_account(&account, false).await.unwrap();
    (store, meter)
}

async fn balance(store: &DynamoStore, clock: &ManualClock, key: &str) -> u16 {
    let gate = Gate {
        accounts: store,
        windows: store,
        clock,
    };
    let req = request(
        "GET",
        "/api/balance",
        &[("x-api-key", key), ("x-customer-id", "USE_001")],
        None,
    );
    routes::balance(req, gate).await.unwrap().status().as_u16()
}

/// The stamp is written in the background: wait (up to 5 s) until it shows `at`.
async fn last_used(store: &DynamoStore, key: &str, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let hash = hash_key(key);
    let customer = CustomerId::parse("USE_001").unwrap();
    let mut seen = None;
    for _ in 0..100 {
        seen = store
            .key_last_used(&customer)
            .await
            .unwrap()
            .get(&hash)
            .copied();
        if seen == Some(at) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    seen
}

fn update_items(meter: &DdbMeter) -> u64 {
    meter
        .take()
        .calls
        .get("UpdateItem")
        .copied()
        .unwrap_or_default()
}

#[tokio::test]
async fn given_a_key_when_it_authenticates_then_its_last_use_is_stamped_once_per_window() {
    // GIVEN a partner with two keys, neither used yet
    let (store, meter) = metered_store().await;
    let clock = window_clock();
    let first = clock.now();
    meter.take();
    // WHEN the first key makes a request
    assert_eq!(balance(&store, &clock, KEY).await, 200);
    // THEN its last use is that request's time, and the other key's is still unknown
    assert_eq!(last_used(&store, KEY, first).await, Some(first));
    let hash_other = hash_key(OTHER);
    let customer = CustomerId::parse("USE_001").unwrap();
    assert!(!store
        .key_last_used(&customer)
        .await
        .unwrap()
        .contains_key(&hash_other));
    // AND it cost one background write besides the request's own window write
    assert_eq!(update_items(&meter), 2);

    // WHEN the same key makes three more requests in the same window
    for _ in 0..3 {
        clock.advance(Duration::minutes(1));
        assert_eq!(balance(&store, &clock, KEY).await, 200);
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    // THEN they cost only their window writes and the stamp stays at the window's first use
    assert_eq!(update_items(&meter), 3);
    assert_eq!(last_used(&store, KEY, first).await, Some(first));

    // WHEN the other key is used in this window THEN it gets its own stamp
    let now = clock.now();
    assert_eq!(balance(&store, &clock, OTHER).await, 200);
    assert_eq!(last_used(&store, OTHER, now).await, Some(now));

    // WHEN the first key makes a request in the next window THEN it is stamped again
    clock.advance(Duration::minutes(15));
    let later = clock.now();
    meter.take();
    assert_eq!(balance(&store, &clock, KEY).await, 200);
    assert_eq!(last_used(&store, KEY, later).await, Some(later));
    assert_eq!(update_items(&meter), 2);
}

#[tokio::test]
async fn given_a_later_stamp_when_an_older_one_arrives_then_last_use_never_goes_back() {
    // GIVEN a key stamped at 10:30
    let (store, _) = metered_store().await;
    let customer = CustomerId::parse("USE_001").unwrap();
    let hash = hash_key(KEY);
    let late = Utc
        .timestamp_millis_opt(Utc::now().timestamp_millis())
        .unwrap();
    store.record_key_use(&customer, &hash, late).await.unwrap();
    // WHEN another instance's older stamp lands afterwards
    store
        .record_key_use(&customer, &hash, late - Duration::minutes(20))
        .await
        .unwrap();
    // THEN the later one stays
    assert_eq!(
        store.key_last_used(&customer).await.unwrap().get(&hash),
        Some(&late)
    );
}

#[tokio::test]
async fn given_a_used_and_an_unused_key_when_listed_then_key_list_shows_last_used() {
    // GIVEN a key stamped by a request
    let (store, _) = metered_store().await;
    let clock = window_clock();
    let at = clock.now();
    assert_eq!(balance(&store, &clock, KEY).await, 200);
    last_used(&store, KEY, at).await;
    // WHEN the keys are listed (the use case `relier-admin key list` prints)
    let listed = list_api_keys(&store, &store, "USE_001").await.unwrap();
    // THEN the used key shows its last use and the other none
    let of = |key: &str| {
        let h = hash_key(key);
        listed
            .iter()
            .find(|k| h.starts_with(&k.hash_prefix))
            .unwrap()
            .last_used
    };
    assert_eq!(of(KEY), Some(at));
    assert_eq!(of(OTHER), None);
}

#[tokio::test]
async fn given_a_failing_stamp_when_noted_in_the_background_then_it_is_logged_and_nothing_fails() {
    // GIVEN a store whose table for last-use stamps does not exist (every stamp fails)
    let (store, _) = metered_store().await;
    let broken = DynamoStore::new(store.client().clone(), "no-such-table", "no-such-table");
    let customer = CustomerId::parse("USE_001").unwrap();
    // WHEN a stamp is noted in the background
    let handle = broken
        .note_key_use_in_background(&customer, "abc", Utc::now())
        .expect("inside a runtime");
    // THEN it finishes without a panic (the error is logged) and nothing was recorded
    handle.await.unwrap();
    assert!(store.key_last_used(&customer).await.unwrap().is_empty());
}
