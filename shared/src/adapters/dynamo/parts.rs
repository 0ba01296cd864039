//! The transaction parts a debit and a refund share, built once: the version-checked balance
//! change, a daily counter change, the ledger line; and the retry rules for a cancelled
//! `TransactWriteItems`.

use super::codec::{corrupt, n, nu, s, ts, unavailable};
use super::keys::{account_pk, ledger_key, pk_sk};
use super::schema::LEDGER_INDEX_KEYS;
use super::Item;
use crate::domain::{CounterKey, TransactionId};
use crate::ports::StoreError;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, CancellationReason, Put, ReturnValuesOnConditionCheckFailure,
    TransactWriteItem, Update,
};
use chrono::{DateTime, Utc};
use rand::Rng;
use rust_decimal::Decimal;

/// Upper bound on optimistic-concurrency / conflict retries of one debit or refund...
pub(super) const MAX_ATTEMPTS: u32 = 400;
/// ... and on the time they may take (the top-up function's timeout is 28 s).
pub(super) const RETRY_BUDGET: std::time::Duration = std::time::Duration::from_secs(10);

/// The account's balance `before` -> `after`, version `version` -> `version + 1`, conditioned
/// on the version AND the balance we read (so `before`/`after` in the ledger are exact). A debit
/// also requires the account to be active (and returns the old item when the check fails).
/// With `alert_low`, the same update marks `balance.low` as fired (once per dip: two racing
/// debits cannot both fire it, the version condition lets one commit).
#[allow(clippy::too_many_arguments)]
pub(super) fn balance_update(
    table: &str,
    customer: &str,
    version: u64,
    before: Decimal,
    after: Decimal,
    now: DateTime<Utc>,
    require_active: bool,
    alert_low: bool,
) -> Result<TransactWriteItem, StoreError> {
    let mut update = Update::builder()
        .table_name(table)
        .set_key(Some(pk_sk(&account_pk(customer), "ACCOUNT")))
        .update_expression(if alert_low {
            "SET balance = :after, version = :seq, updated_at = :now, low_balance_alerted = :alerted"
        } else {
            "SET balance = :after, version = :seq, updated_at = :now"
        })
        .expression_attribute_values(":after", n(after))
        .expression_attribute_values(":before", n(before))
        .expression_attribute_values(":seq", nu(version + 1))
        .expression_attribute_values(":v", nu(version))
        .expression_attribute_values(":now", ts(now));
    if alert_low {
        update = update.expression_attribute_values(":alerted", AttributeValue::Bool(true));
    }
    update = if require_active {
        update
            .condition_expression("version = :v AND balance = :before AND #st = :active")
            .expression_attribute_names("#st", "status")
            .expression_attribute_values(":active", s("ACTIVE"))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
    } else {
        update.condition_expression("version = :v AND balance = :before")
    };
    Ok(TransactWriteItem::builder()
        .update(update.build().map_err(corrupt)?)
        .build())
}

/// A daily MXN counter moved by `delta`. With `max_before` (a debit) the counter must not
/// exceed it before the add (so it stays within the limit) and keeps its expiry fresh; without
/// (a refund) it is only given back.
pub(super) fn counter_update(
    table: &str,
    key: &CounterKey,
    delta: Decimal,
    expires_at: i64,
    max_before: Option<Decimal>,
) -> Result<TransactWriteItem, StoreError> {
    let update = Update::builder()
        .table_name(table)
        .set_key(Some(pk_sk(&key.pk, &key.sk)))
        .expression_attribute_values(":exp", nu(expires_at as u64))
        .expression_attribute_values(":amt", n(delta));
    let update = match max_before {
        Some(max) => update
            .update_expression("SET expires_at = :exp ADD used_mxn :amt")
            .condition_expression("attribute_not_exists(used_mxn) OR used_mxn <= :max")
            .expression_attribute_values(":max", n(max))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld),
        None => update.update_expression(
            "SET expires_at = if_not_exists(expires_at, :exp) ADD used_mxn :amt",
        ),
    };
    Ok(TransactWriteItem::builder()
        .update(update.build().map_err(corrupt)?)
        .build())
}

/// When a balance change is recorded: never before the account's previous change, so a
/// ledger's `at` never decreases with its sequence (a statement by time is a contiguous run
/// of sequence numbers, even if clocks of two Lambda instances disagree by a few ms).
pub(super) fn ledger_time(now: DateTime<Utc>, last_change: Option<DateTime<Utc>>) -> DateTime<Utc> {
    last_change.map_or(now, |last| now.max(last))
}

/// A ledger line's item (sequence = the account's new version).
#[allow(clippy::too_many_arguments)]
pub(super) fn ledger_item(
    customer: &str,
    seq: u64,
    tx: &TransactionId,
    kind: &str,
    delta: Decimal,
    before: Decimal,
    after: Decimal,
    at: DateTime<Utc>,
) -> Item {
    let mut item = ledger_key(customer, seq);
    item.insert("seq".into(), nu(seq));
    // Key of the `ledger-by-time` index (statements and the reconciliation export).
    item.insert(LEDGER_INDEX_KEYS.0.into(), s(customer));
    item.insert("transaction_id".into(), s(tx.as_str()));
    item.insert("kind".into(), s(kind));
    item.insert("delta".into(), n(delta));
    item.insert("balance_before".into(), n(before));
    item.insert("balance_after".into(), n(after));
    item.insert("at".into(), ts(at));
    item
}

/// Put a ledger line that must not exist yet.
pub(super) fn ledger_put_item(table: &str, item: Item) -> Result<TransactWriteItem, StoreError> {
    Ok(TransactWriteItem::builder()
        .put(
            Put::builder()
                .table_name(table)
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(pk)")
                .build()
                .map_err(corrupt)?,
        )
        .build())
}

#[allow(clippy::too_many_arguments)]
pub(super) fn ledger_put(
    table: &str,
    customer: &str,
    seq: u64,
    tx: &TransactionId,
    kind: &str,
    delta: Decimal,
    before: Decimal,
    after: Decimal,
    at: DateTime<Utc>,
) -> Result<TransactWriteItem, StoreError> {
    ledger_put_item(
        table,
        ledger_item(customer, seq, tx, kind, delta, before, after, at),
    )
}

pub(super) fn is_conditional_failure<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> bool {
    e.as_service_error().and_then(ProvideErrorMetadata::code)
        == Some("ConditionalCheckFailedException")
}

/// What went wrong in a cancelled transaction.
pub(super) enum Cancel {
    /// Reason per item (in request order), with the item's old image when DynamoDB returns it.
    Reasons(Vec<CancellationReason>),
    /// Conflicting concurrent transaction / throttling: retry after a backoff.
    Retry,
}

pub(super) fn classify(
    e: SdkError<TransactWriteItemsError, aws_sdk_dynamodb::config::http::HttpResponse>,
) -> Result<Cancel, StoreError> {
    if let SdkError::ServiceError(se) = &e {
        match se.err() {
            TransactWriteItemsError::TransactionCanceledException(tc) => {
                let reasons = tc.cancellation_reasons().to_vec();
                let conflict = reasons.iter().any(|r| {
                    matches!(
                        r.code(),
                        Some("TransactionConflict")
                            | Some("ThrottlingError")
                            | Some("ProvisionedThroughputExceeded")
                    )
                });
                let failed = reasons
                    .iter()
                    .any(|r| r.code() == Some("ConditionalCheckFailed"));
                if failed {
                    return Ok(Cancel::Reasons(reasons));
                }
                if conflict || reasons.is_empty() {
                    return Ok(Cancel::Retry);
                }
                return Err(StoreError::Unavailable(format!(
                    "transaction cancelled: {:?}",
                    reasons.iter().map(|r| r.code()).collect::<Vec<_>>()
                )));
            }
            TransactWriteItemsError::TransactionInProgressException(_)
            | TransactWriteItemsError::ProvisionedThroughputExceededException(_)
            | TransactWriteItemsError::ThrottlingException(_)
            | TransactWriteItemsError::RequestLimitExceeded(_) => return Ok(Cancel::Retry),
            _ => {}
        }
    }
    // Timeouts, dispatch failures and 5xx are ambiguous: the write may have committed. Retrying
    // the same items is safe (the record's `attribute_not_exists(id)` detects our own commit).
    match &e {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            Ok(Cancel::Retry)
        }
        SdkError::ServiceError(se) if se.raw().status().is_server_error() => Ok(Cancel::Retry),
        _ => Err(unavailable(e)),
    }
}

pub(super) fn failed(reasons: &[CancellationReason], idx: usize) -> bool {
    reasons
        .get(idx)
        .is_some_and(|r| r.code() == Some("ConditionalCheckFailed"))
}

pub(super) async fn backoff(attempt: u32) {
    let cap_ms = (2u64 << attempt.min(5)).min(50);
    let ms = rand::rng().random_range(0..=cap_ms);
    tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
}
