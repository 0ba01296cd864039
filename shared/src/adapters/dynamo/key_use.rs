//! When each API key was last used (`relier-admin key list`), recorded by the request gate at
//! most once per key per 15-minute window (`request_window`: the window write says whether the
//! key is new in the window), in the background and off the money path.
//!
//! Items (accounts table):
//!   KEYUSE#{customer}  KEY#{sha256 of the key}  `last_used_at` (RFC 3339); TTL 400 days after
//!   the last use, so revoked keys' records go away on their own.

use super::codec::{opt_time, s, ts, unavailable};
use super::keys::pk_sk;
use super::DynamoStore;
use crate::domain::CustomerId;
use crate::ops::keys::KeyUses;
use crate::ports::StoreError;
use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Duration, Utc};
use std::collections::HashMap;
use std::sync::atomic::Ordering;

fn key_use_pk(customer: &str) -> String {
    format!("KEYUSE#{customer}")
}

/// How long a key's last-use record outlives its last use.
const KEEP_DAYS: i64 = 400;

impl DynamoStore {
    /// Stamp the key's last use (one UpdateItem; a later stamp never goes back in time).
    pub async fn record_key_use(
        &self,
        customer: &CustomerId,
        key_hash: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.calls().writes.fetch_add(1, Ordering::Relaxed);
        let result = self
            .client()
            .update_item()
            .table_name(self.accounts_table())
            .set_key(Some(pk_sk(
                &key_use_pk(customer.as_str()),
                &format!("KEY#{key_hash}"),
            )))
            .update_expression("SET last_used_at = :at, expires_at = :exp")
            .condition_expression("attribute_not_exists(last_used_at) OR last_used_at < :at")
            .expression_attribute_values(":at", ts(at))
            .expression_attribute_values(
                ":exp",
                AttributeValue::N((at + Duration::days(KEEP_DAYS)).timestamp().to_string()),
            )
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            // Another instance already stamped a later use.
            Err(e)
                if e.as_service_error()
                    .is_some_and(|se| se.is_conditional_check_failed_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(unavailable(e)),
        }
    }

    /// [`Self::record_key_use`] on a spawned task: returns at once; errors are logged and
    /// otherwise ignored (a missed stamp only makes "last used" older). The handle lets tests
    /// wait for it; the gate drops it.
    pub fn note_key_use_in_background(
        &self,
        customer: &CustomerId,
        key_hash: &str,
        at: DateTime<Utc>,
    ) -> Option<tokio::task::JoinHandle<()>> {
        let runtime = tokio::runtime::Handle::try_current().ok()?;
        let (store, customer, key_hash) = (self.clone(), customer.clone(), key_hash.to_owned());
        Some(runtime.spawn(async move {
            if let Err(e) = store.record_key_use(&customer, &key_hash, at).await {
                tracing::warn!(customer = %customer, error = %e, "could not record the API key's last use");
            }
        }))
    }
}

#[async_trait]
impl KeyUses for DynamoStore {
    async fn key_last_used(
        &self,
        customer: &CustomerId,
    ) -> Result<HashMap<String, DateTime<Utc>>, StoreError> {
        let mut found = HashMap::new();
        let mut start = None;
        loop {
            self.calls().reads.fetch_add(1, Ordering::Relaxed);
            let out = self
                .client()
                .query()
                .table_name(self.accounts_table())
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", s(key_use_pk(customer.as_str())))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(unavailable)?;
            for item in out.items() {
                let hash = match item.get("sk") {
                    Some(AttributeValue::S(sk)) => sk.trim_start_matches("KEY#").to_owned(),
                    _ => continue,
                };
                if let Some(at) = opt_time(item, "last_used_at")? {
                    found.insert(hash, at);
                }
            }
            match out.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => break,
            }
        }
        Ok(found)
    }
}
