//! DynamoDB adapter for the request window (`edge::window::RequestWindows`) and the read-only
//! view of the limit counters (`edge::limits::LimitCounters`). Same technique as the per-minute
//! top-up counter in the debit: one `UpdateItem` that adds 1 only while the count is below the
//! limit, so concurrent Lambdas can never admit request 301.
//!
//! Items (accounts table):
//!   RATE15#{customer}#{window start, Unix s}  WINDOW   `requests`, `keys` (the first 16 hex
//!                                             digits of each key hash seen; TTL: 30 min after start)

use super::DynamoStore;
use crate::api::edge::limits::LimitCounters;
use crate::api::edge::window::{window_start, RequestWindows, WindowState, WINDOW_SECS};
use crate::domain::{CustomerId, Phone};
use crate::ports::StoreError;
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use std::collections::HashMap;
use std::str::FromStr;
use std::sync::atomic::Ordering;

type Item = HashMap<String, AttributeValue>;

fn key(pk: String, sk: &str) -> Item {
    HashMap::from([
        ("pk".to_owned(), AttributeValue::S(pk)),
        ("sk".to_owned(), AttributeValue::S(sk.to_owned())),
    ])
}

fn window_key(customer: &CustomerId, now: DateTime<Utc>) -> Item {
    key(format!("RATE15#{customer}#{}", window_start(now)), "WINDOW")
}

fn unavailable<E: std::fmt::Debug>(e: E) -> StoreError {
    StoreError::Unavailable(format!("{e:?}").chars().take(500).collect())
}

fn number(item: Option<&Item>, attr: &str) -> Result<Decimal, StoreError> {
    match item.and_then(|i| i.get(attr)) {
        None => Ok(Decimal::ZERO),
        Some(AttributeValue::N(v)) => Decimal::from_str(v)
            .map_err(|_| StoreError::Corrupt(format!("{attr} is not a number: {v}"))),
        Some(_) => Err(StoreError::Corrupt(format!("{attr} is not a number"))),
    }
}

fn count(d: Decimal) -> u32 {
    u32::try_from(d).unwrap_or(u32::MAX)
}

impl DynamoStore {
    async fn read_counter(&self, key: Item, attr: &str) -> Result<Decimal, StoreError> {
        self.calls().reads.fetch_add(1, Ordering::Relaxed);
        let out = self
            .client()
            .get_item()
            .table_name(self.accounts_table())
            .set_key(Some(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        number(out.item.as_ref(), attr)
    }
}

#[async_trait]
impl RequestWindows for DynamoStore {
    async fn count_request(
        &self,
        customer: &CustomerId,
        key_hash: &str,
        limit: u32,
        now: DateTime<Utc>,
    ) -> Result<WindowState, StoreError> {
        let seen: String = key_hash.chars().take(16).collect();
        self.calls().writes.fetch_add(1, Ordering::Relaxed);
        let result = self
            .client()
            .update_item()
            .table_name(self.accounts_table())
            .set_key(Some(window_key(customer, now)))
            .update_expression("SET expires_at = :exp ADD requests :one, #keys :key")
            .condition_expression("attribute_not_exists(requests) OR requests < :max")
            .expression_attribute_values(
                ":exp",
                AttributeValue::N((window_start(now) + 2 * WINDOW_SECS).to_string()),
            )
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .expression_attribute_values(":max", AttributeValue::N(limit.to_string()))
            .expression_attribute_values(":key", AttributeValue::Ss(vec![seen.clone()]))
            .expression_attribute_names("#keys", "keys")
            // The values before this request: the count is old + 1 (ADD is atomic), and the
            // key is new in this window if the old set lacks it.
            .return_values(ReturnValue::UpdatedOld)
            .send()
            .await;
        match result {
            Ok(out) => {
                let old = out.attributes.as_ref();
                let used = count(number(old, "requests")? + Decimal::ONE);
                let known = matches!(
                    old.and_then(|i| i.get("keys")),
                    Some(AttributeValue::Ss(keys)) if keys.contains(&seen)
                );
                Ok(WindowState {
                    first_use_of_key: !known,
                    ..WindowState::new(limit, used, now, true)
                })
            }
            Err(e)
                if e.as_service_error()
                    .is_some_and(|se| se.is_conditional_check_failed_exception()) =>
            {
                Ok(WindowState::new(limit, limit, now, false))
            }
            Err(e) => Err(unavailable(e)),
        }
    }

    fn note_key_use(&self, customer: &CustomerId, key_hash: &str, at: DateTime<Utc>) {
        self.note_key_use_in_background(customer, key_hash, at);
    }

    async fn requests_in_window(
        &self,
        customer: &CustomerId,
        now: DateTime<Utc>,
    ) -> Result<u32, StoreError> {
        Ok(count(
            self.read_counter(window_key(customer, now), "requests")
                .await?,
        ))
    }
}

#[async_trait]
impl LimitCounters for DynamoStore {
    async fn used_today_mxn(
        &self,
        customer: &CustomerId,
        phone: Option<&Phone>,
        now: DateTime<Utc>,
    ) -> Result<Decimal, StoreError> {
        // The keys the debit adds to (store::dynamo, `counter_key`); tests/edge.rs checks
        // that a top-up shows up here.
        let pk = format!("DAILY#{customer}#{}", now.format("%Y-%m-%d"));
        let sk = match phone {
            Some(p) => format!("PHONE#{p}"),
            None => "CUSTOMER".to_owned(),
        };
        self.read_counter(key(pk, &sk), "used_mxn").await
    }

    async fn topups_this_minute(
        &self,
        customer: &CustomerId,
        now: DateTime<Utc>,
    ) -> Result<u32, StoreError> {
        let pk = format!("RATE#{customer}#{}", now.format("%Y-%m-%dT%H:%M"));
        Ok(count(
            self.read_counter(key(pk, "MINUTE"), "accepted").await?,
        ))
    }
}
