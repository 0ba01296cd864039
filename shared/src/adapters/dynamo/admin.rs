//! The operations store (`ops::ports::AdminStore`) on DynamoDB. Item layout (accounts table):
//!   ACCOUNT#{customer}          ACCOUNT          + cfg_version, created_at, low_balance_threshold_usd
//!   APIKEY#{customer}           KEY#{prefix}     API key metadata (hash, created, by whom)
//!   RECONKEY#{sha256}           RECONKEY         reconcile key -> scope (customer or `*`)
//!   RECONKEYS#{scope}           KEY#{prefix}     reconcile keys of a scope (listing)
//!   BALREF#{customer}#{ref}     BALREF           credit/adjustment reference claim
//!   AUDIT#{customer or *}       {at}#{random}    append-only audit record
//!
//! One file per concern under `admin/`: `partners`, `keys` (API and reconcile keys),
//! `balance` (credits and adjustments), `audit`; the write helpers they share are here.

mod audit;
mod balance;
mod keys;
mod partners;

pub(super) use audit::audit_put;
pub(super) use keys::{parse_reconcile_key, reconcile_key_pk};

use super::codec::{corrupt, s, unavailable};
use super::pages::Page;
use super::parts::{classify, failed, Cancel};
use super::{DynamoStore, Item};
use crate::domain::{Account, CustomerId};
use crate::ops::ports::{
    AdminStore, BalanceChange, BalanceOutcome, KeyRecord, PartnerRecord, PartnerUpdate,
    ReconcileKey, ReconcileScope,
};
use crate::ops::AuditRecord;
use crate::ports::StoreError;
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{Delete, Put, TransactWriteItem};

fn put(table: &str, item: Item, condition: Option<&str>) -> Result<TransactWriteItem, StoreError> {
    Ok(TransactWriteItem::builder()
        .put(
            Put::builder()
                .table_name(table)
                .set_item(Some(item))
                .set_condition_expression(condition.map(str::to_owned))
                .build()
                .map_err(corrupt)?,
        )
        .build())
}

fn delete(
    table: &str,
    key: Item,
    condition: Option<&str>,
) -> Result<TransactWriteItem, StoreError> {
    Ok(TransactWriteItem::builder()
        .delete(
            Delete::builder()
                .table_name(table)
                .set_key(Some(key))
                .set_condition_expression(condition.map(str::to_owned))
                .build()
                .map_err(corrupt)?,
        )
        .build())
}

impl DynamoStore {
    async fn transact(
        &self,
        items: Vec<TransactWriteItem>,
    ) -> Result<Option<Vec<bool>>, StoreError> {
        self.write();
        let n_items = items.len();
        match self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
        {
            Ok(_) => Ok(None),
            Err(e) => match classify(e)? {
                Cancel::Retry => Ok(Some(vec![false; n_items])),
                Cancel::Reasons(r) => Ok(Some((0..n_items).map(|i| failed(&r, i)).collect())),
            },
        }
    }

    async fn query_all(&self, pk: &str) -> Result<Vec<Item>, StoreError> {
        self.all_pages(|start| {
            let query = self
                .client
                .query()
                .table_name(&self.accounts_table)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", s(pk))
                .consistent_read(true)
                .set_exclusive_start_key(start);
            async move { query.send().await.map(Page::from).map_err(unavailable) }
        })
        .await
    }
}

#[async_trait]
impl AdminStore for DynamoStore {
    async fn create_partner(
        &self,
        account: &Account,
        key: &KeyRecord,
        audit: &AuditRecord,
    ) -> Result<bool, StoreError> {
        partners::create_partner(self, account, key, audit).await
    }

    async fn get_partner(
        &self,
        customer: &CustomerId,
    ) -> Result<Option<PartnerRecord>, StoreError> {
        partners::get_partner(self, customer).await
    }

    async fn list_partners(&self) -> Result<Vec<PartnerRecord>, StoreError> {
        partners::list_partners(self).await
    }

    async fn update_partner(
        &self,
        customer: &CustomerId,
        expected: u64,
        upd: &PartnerUpdate,
        audit: &AuditRecord,
    ) -> Result<bool, StoreError> {
        partners::update_partner(self, customer, expected, upd, audit).await
    }

    async fn api_keys(&self, customer: &CustomerId) -> Result<Vec<KeyRecord>, StoreError> {
        keys::api_keys(self, customer).await
    }

    async fn add_reconcile_key(
        &self,
        key: &ReconcileKey,
        audit: &AuditRecord,
    ) -> Result<(), StoreError> {
        keys::add_reconcile_key(self, key, audit).await
    }

    async fn reconcile_keys(
        &self,
        scope: &ReconcileScope,
    ) -> Result<Vec<ReconcileKey>, StoreError> {
        keys::reconcile_keys(self, scope).await
    }

    async fn remove_reconcile_key(
        &self,
        key: &ReconcileKey,
        audit: &AuditRecord,
    ) -> Result<bool, StoreError> {
        keys::remove_reconcile_key(self, key, audit).await
    }

    async fn apply_balance_change(
        &self,
        change: &BalanceChange,
    ) -> Result<BalanceOutcome, StoreError> {
        balance::apply_balance_change(self, change).await
    }

    async fn audit_records(&self, subject: &str) -> Result<Vec<AuditRecord>, StoreError> {
        audit::audit_records(self, subject).await
    }
}
