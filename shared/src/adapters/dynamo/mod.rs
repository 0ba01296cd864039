//! DynamoDB implementation of the store ports.
//!
//! Money invariant: an account's `balance` only changes in a `TransactWriteItems` that also
//! bumps its `version` (condition: the version we read) and writes the ledger entry with that
//! version as its sequence number. So every balance change has exactly one ledger line with an
//! exact `balance_before`/`balance_after`, and no interleaving can lose an update.

mod admin;
mod codec;
mod debit;
pub mod fixtures;
mod key_use;
mod keys;
mod ledger_audit;
mod listing;
mod pages;
mod parts;
mod reads;
mod refund;
pub mod request_window;
pub mod schema;
pub mod webhooks;
mod work;

use crate::domain::{Account, Transaction};
use crate::ports::{DebitOutcome, DebitRequest, Ledger, RefundOutcome, StoreError};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use chrono::{DateTime, Utc};
use codec::unavailable;
use keys::pk_sk;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

mod dashboard;
type Item = HashMap<String, AttributeValue>;

/// `entity` of account items: the hash key of the sparse `partners` index.
const PARTNER_ENTITY: &str = "PARTNER";

/// Counts the DynamoDB calls this store makes (tests assert the warm-path budget).
#[derive(Debug, Default)]
pub struct CallCounter {
    pub reads: AtomicU64,
    pub writes: AtomicU64,
}

#[derive(Clone)]
pub struct DynamoStore {
    client: Client,
    accounts_table: String,
    transactions_table: String,
    calls: Arc<CallCounter>,
    /// Per-account in-process serialization of balance changes. Across processes (Lambda
    /// instances) the version condition is what guarantees correctness; this lock only stops
    /// one process's concurrent requests from racing each other into retry storms.
    account_locks: Arc<std::sync::Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>,
    /// Poked after a transaction wrote webhook outbox events (None: only the sweep sends).
    webhook_queue: Option<Arc<dyn crate::webhooks::queue::DispatchQueue>>,
}

impl DynamoStore {
    /// This account's in-process lock. Locks nobody holds or waits for are pruned here, so
    /// a warm instance keeps only the locks in use (not one per customer it ever served).
    fn account_lock(&self, customer: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.account_locks.lock().expect("account lock map");
        // Only the map holds an unused lock; a holder or a waiter holds a clone.
        locks.retain(|_, lock| Arc::strong_count(lock) > 1);
        locks.entry(customer.to_owned()).or_default().clone()
    }

    pub fn new(
        client: Client,
        accounts_table: impl Into<String>,
        transactions_table: impl Into<String>,
    ) -> Self {
        Self {
            client,
            accounts_table: accounts_table.into(),
            transactions_table: transactions_table.into(),
            calls: Arc::new(CallCounter::default()),
            account_locks: Arc::default(),
            webhook_queue: None,
        }
    }

    /// Poke this queue after writing webhook outbox events (the dispatcher sends them at once).
    pub fn with_webhook_queue(
        mut self,
        queue: Arc<dyn crate::webhooks::queue::DispatchQueue>,
    ) -> Self {
        self.webhook_queue = Some(queue);
        self
    }

    pub fn client(&self) -> &Client {
        &self.client
    }
    pub fn accounts_table(&self) -> &str {
        &self.accounts_table
    }
    pub fn transactions_table(&self) -> &str {
        &self.transactions_table
    }
    pub fn calls(&self) -> &CallCounter {
        &self.calls
    }

    fn read(&self) {
        self.calls.reads.fetch_add(1, Ordering::Relaxed);
    }
    fn write(&self) {
        self.calls.writes.fetch_add(1, Ordering::Relaxed);
    }

    /// Open the connection during cold start (a GetItem every function may do).
    pub async fn warm(&self) -> Result<(), StoreError> {
        self.get_item(&self.accounts_table, pk_sk("WARMUP", "WARMUP"))
            .await
            .map(|_| ())
    }

    /// Cheap liveness probe for /health.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.client
            .describe_table()
            .table_name(&self.accounts_table)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn get_item(&self, table: &str, key: Item) -> Result<Option<Item>, StoreError> {
        self.read();
        let out = self
            .client
            .get_item()
            .table_name(table)
            .set_key(Some(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(out.item)
    }
}

/// The money-moving writes; each lives in its own file (`debit.rs`, `refund.rs`).
#[async_trait]
impl Ledger for DynamoStore {
    async fn debit(
        &self,
        account: &Account,
        request: DebitRequest,
    ) -> Result<DebitOutcome, StoreError> {
        self.commit_debit(account, request).await
    }

    async fn mark_success(
        &self,
        transaction: &Transaction,
        provider: &str,
        operator_transaction_id: &str,
        processed_at: DateTime<Utc>,
        response_time_ms: i64,
    ) -> Result<bool, StoreError> {
        self.commit_success(
            transaction,
            provider,
            operator_transaction_id,
            processed_at,
            response_time_ms,
        )
        .await
    }

    async fn refund_and_fail(
        &self,
        transaction: &Transaction,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<RefundOutcome, StoreError> {
        self.commit_refund(transaction, reason, now).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn offline_store() -> DynamoStore {
        let config = aws_sdk_dynamodb::Config::builder()
            .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
            .region(aws_sdk_dynamodb::config::Region::new("us-east-1"))
            .build();
        DynamoStore::new(Client::from_conf(config), "accounts", "transactions")
    }

    #[test]
    fn the_per_account_lock_map_does_not_grow_with_every_customer() {
        // GIVEN a warm store
        let store = offline_store();
        // WHEN 10,000 different customers each take and release their account lock
        for i in 0..10_000 {
            let lock = store.account_lock(&format!("CUSTOMER_{i}"));
            drop(lock);
        }
        // THEN released locks are pruned: the map holds only locks in use
        let held = store.account_lock("HELD");
        assert!(store.account_locks.lock().unwrap().len() <= 2);
        drop(held);
    }

    #[test]
    fn a_lock_in_use_is_never_pruned() {
        // GIVEN a lock someone holds
        let store = offline_store();
        let first = store.account_lock("HAZ_001");
        // WHEN other customers come and go
        for i in 0..100 {
            drop(store.account_lock(&format!("OTHER_{i}")));
        }
        // THEN the same account still gets the same lock (so it still serializes)
        let second = store.account_lock("HAZ_001");
        assert!(Arc::ptr_eq(&first, &second));
    }
}
