//! The DynamoDB call budget of a sync top-up on a warm instance, counted on the wire by an
//! SDK interceptor (not by the store's own bookkeeping): at most one strongly consistent read
//! (the account: authorization + exact balance) and at most two write calls (the debit
//! transaction and the final status). Not timed: calls are counted, never measured.

mod common;
#[path = "common/ddb_meter.rs"]
mod ddb_meter;

use common::*;
use ddb_meter::DdbMeter;
use relier::adapters::dynamo::DynamoStore;
use std::sync::Arc;

#[tokio::test]
async fn given_a_warm_instance_when_a_sync_topup_succeeds_then_one_consistent_read_and_two_writes()
{
    // GIVEN a store whose DynamoDB client counts the calls it sends, the seeds' partners, and
    // one top-up already served (the warm path: connection and rate cache in place)
    let tables = store().await;
    let meter = DdbMeter::new();
    let store = Arc::new(DynamoStore::new(
        meter.client(&sdk().await),
        tables.accounts_table(),
        tables.transactions_table(),
    ));
    seed_partners(&store).await;
    let svc = service(&store, "18.52");
    let (s, b) = topup(
        &store,
        &svc,
        "HAZ_001",
        HAZ_KEY,
        r#"{"phone":"5566374683","amount":10,"reference":"CB-1"}"#,
    )
    .await;
    assert_eq!(s, 200, "{b}");
    meter.take();

    // WHEN the next sync top-up succeeds
    let (s, b) = topup(
        &store,
        &svc,
        "HAZ_001",
        HAZ_KEY,
        r#"{"phone":"5566374683","amount":20,"reference":"CB-2"}"#,
    )
    .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["transaction"]["status"], "SUCCESS", "{b}");

    // THEN it made at most one (consistent) read and two write calls: the debit transaction
    // and the final status update, which is itself a transaction since issue 10 (SUCCESS and
    // its `topup.succeeded` outbox event commit together)
    let t = meter.take();
    assert!(t.read_calls() <= 1, "reads: {:?}", t.calls);
    assert!(t.consistent_reads <= 1, "{t:?}");
    assert!(t.write_calls() <= 2, "writes: {:?}", t.calls);
    assert_eq!(t.calls.get("TransactWriteItems"), Some(&2), "{:?}", t.calls);
    assert_eq!(t.total_calls(), t.read_calls() + t.write_calls());
}

#[tokio::test]
async fn given_the_meter_with_capacity_when_a_topup_runs_then_dynamodb_reports_units() {
    // GIVEN a meter that asks DynamoDB for the consumed capacity
    let tables = store().await;
    let meter = DdbMeter::with_capacity();
    let store = Arc::new(DynamoStore::new(
        meter.client(&sdk().await),
        tables.accounts_table(),
        tables.transactions_table(),
    ));
    seed_partners(&store).await;
    let svc = service(&store, "18.52");
    meter.take();
    // WHEN a top-up runs
    let (s, b) = topup(
        &store,
        &svc,
        "HAZ_001",
        HAZ_KEY,
        r#"{"phone":"5566374683","amount":20}"#,
    )
    .await;
    assert_eq!(s, 200, "{b}");
    // THEN the added ReturnConsumedCapacity was accepted and units were reported for the
    // read and for the writes
    let t = meter.take();
    assert!(t.read_units > 0.0, "{t:?}");
    assert!(t.write_units > 0.0, "{t:?}");
}
