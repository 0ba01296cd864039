//! Work-state changes of the worker and the reconciler: claim, list open records (sparse GSI,
//! never a scan), touch.

use super::codec::{nu, parse_transaction, s, ts, unavailable};
use super::keys::tx_key;
use super::parts::is_conditional_failure;
use super::schema::OPEN_INDEX;
use super::DynamoStore;
use crate::domain::{Transaction, TransactionId, TxStatus};
use crate::ports::{StoreError, WorkStore};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::ReturnValue;
use chrono::{DateTime, Utc};

#[async_trait]
impl WorkStore for DynamoStore {
    async fn claim(
        &self,
        id: &TransactionId,
        now: DateTime<Utc>,
    ) -> Result<Option<Transaction>, StoreError> {
        self.write();
        let result = self
            .client
            .update_item()
            .table_name(&self.transactions_table)
            .set_key(Some(tx_key(id)))
            .update_expression(
                "SET #st = :processing, open_status = :processing, updated_at = :now, \
                 attempts = if_not_exists(attempts, :zero) + :one",
            )
            .condition_expression("#st = :pending")
            .expression_attribute_names("#st", "status")
            .expression_attribute_values(":processing", s("PROCESSING"))
            .expression_attribute_values(":pending", s("PENDING"))
            .expression_attribute_values(":now", ts(now))
            .expression_attribute_values(":zero", nu(0))
            .expression_attribute_values(":one", nu(1))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match result {
            Ok(out) => out
                .attributes
                .map(|item| parse_transaction(&item))
                .transpose(),
            Err(e) if is_conditional_failure(&e) => Ok(None),
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn list_open(
        &self,
        status: TxStatus,
        before: DateTime<Utc>,
        limit: i32,
    ) -> Result<Vec<Transaction>, StoreError> {
        self.read();
        let out = self
            .client
            .query()
            .table_name(&self.transactions_table)
            .index_name(OPEN_INDEX)
            .key_condition_expression("open_status = :st AND updated_at < :before")
            .expression_attribute_values(":st", s(status.as_str()))
            .expression_attribute_values(":before", ts(before))
            .limit(limit)
            .send()
            .await
            .map_err(unavailable)?;
        out.items().iter().map(parse_transaction).collect()
    }

    async fn touch_pending(
        &self,
        id: &TransactionId,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.touch(id, TxStatus::Pending, now).await
    }

    async fn touch_processing(
        &self,
        id: &TransactionId,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.touch(id, TxStatus::Processing, now).await
    }
}

impl DynamoStore {
    async fn touch(
        &self,
        id: &TransactionId,
        status: TxStatus,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.write();
        let result = self
            .client
            .update_item()
            .table_name(&self.transactions_table)
            .set_key(Some(tx_key(id)))
            .update_expression("SET updated_at = :now")
            .condition_expression("#st = :st")
            .expression_attribute_names("#st", "status")
            .expression_attribute_values(":st", s(status.as_str()))
            .expression_attribute_values(":now", ts(now))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if is_conditional_failure(&e) => Ok(false),
            Err(e) => Err(unavailable(e)),
        }
    }
}
