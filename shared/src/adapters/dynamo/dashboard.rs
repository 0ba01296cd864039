//! The dashboard's sessions and small reads on DynamoDB (one item each, by key). Listings and
//! statements come from the report store (`customer-by-created` / `ledger-by-time` indexes).
//!
//! Key layout added to the accounts table:
//!   SESSION#{sha256(session id)}   SESSION   customer_id, expires_at (TTL, epoch seconds)

use super::DynamoStore;
use crate::api::dashboard::ports::{DashboardReads, SessionRecord, SessionStore};
use crate::domain::CustomerId;
use crate::ports::StoreError;
use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use std::collections::HashMap;
use std::str::FromStr;

type Item = HashMap<String, AttributeValue>;

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}
fn unavailable<E: std::fmt::Debug>(e: E) -> StoreError {
    StoreError::Unavailable(format!("{e:?}").chars().take(500).collect())
}
fn session_key(id_hash: &str) -> Item {
    HashMap::from([
        ("pk".to_owned(), s(format!("SESSION#{id_hash}"))),
        ("sk".to_owned(), s("SESSION")),
    ])
}

#[async_trait]
impl DashboardReads for DynamoStore {
    async fn used_mxn(
        &self,
        customer: &CustomerId,
        day: NaiveDate,
    ) -> Result<Option<Decimal>, StoreError> {
        let key = HashMap::from([
            (
                "pk".to_owned(),
                s(format!(
                    "DAILY#{}#{}",
                    customer.as_str(),
                    day.format("%Y-%m-%d")
                )),
            ),
            ("sk".to_owned(), s("CUSTOMER")),
        ]);
        let out = self
            .client()
            .get_item()
            .table_name(self.accounts_table())
            .set_key(Some(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(out
            .item()
            .and_then(|i| i.get("used_mxn"))
            .and_then(|v| v.as_n().ok())
            .and_then(|n| Decimal::from_str(n).ok()))
    }
}

#[async_trait]
impl SessionStore for DynamoStore {
    async fn create_session(
        &self,
        id_hash: &str,
        record: &SessionRecord,
    ) -> Result<(), StoreError> {
        let mut item = session_key(id_hash);
        item.insert("customer_id".into(), s(record.customer_id.as_str()));
        item.insert(
            "expires_at".into(),
            AttributeValue::N(record.expires_at.timestamp().to_string()),
        );
        self.client()
            .put_item()
            .table_name(self.accounts_table())
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn get_session(&self, id_hash: &str) -> Result<Option<SessionRecord>, StoreError> {
        let out = self
            .client()
            .get_item()
            .table_name(self.accounts_table())
            .set_key(Some(session_key(id_hash)))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        let Some(item) = out.item() else {
            return Ok(None);
        };
        let customer = item.get("customer_id").and_then(|v| v.as_s().ok());
        let expires = item
            .get("expires_at")
            .and_then(|v| v.as_n().ok())
            .and_then(|n| n.parse::<i64>().ok())
            .and_then(|t| DateTime::from_timestamp(t, 0));
        match (customer.map(|c| CustomerId::parse(c)), expires) {
            (Some(Ok(customer_id)), Some(expires_at)) => Ok(Some(SessionRecord {
                customer_id,
                expires_at,
            })),
            _ => Err(StoreError::Corrupt("session item".into())),
        }
    }

    async fn extend_session(
        &self,
        id_hash: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let result = self
            .client()
            .update_item()
            .table_name(self.accounts_table())
            .set_key(Some(session_key(id_hash)))
            .update_expression("SET expires_at = :e")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(
                ":e",
                AttributeValue::N(expires_at.timestamp().to_string()),
            )
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            // Signed out meanwhile: nothing to extend.
            Err(e)
                if e.as_service_error()
                    .map(|se| se.is_conditional_check_failed_exception())
                    .unwrap_or(false) =>
            {
                Ok(())
            }
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn delete_session(&self, id_hash: &str) -> Result<(), StoreError> {
        self.client()
            .delete_item()
            .table_name(self.accounts_table())
            .set_key(Some(session_key(id_hash)))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }
}
