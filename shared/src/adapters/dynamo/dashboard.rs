//! The dashboard's reads and sessions on DynamoDB. Every read is bounded by a key: the
//! `customer-by-created` index (customer + time window), the customer's ledger partition, one
//! counter item, one session item. Never a scan.
//!
//! Key layout added to the accounts table:
//!   SESSION#{sha256(session id)}   SESSION   customer_id, expires_at (TTL, epoch seconds)

use super::schema::CUSTOMER_INDEX;
use super::{parse_transaction, DynamoStore};
use crate::api::dashboard::ports::{
    DashboardReads, Page, SessionRecord, SessionStore, TxFilter, Window,
};
use crate::domain::{CustomerId, TransactionId};
use crate::domain::{LedgerEntry, Transaction};
use crate::ports::StoreError;
use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use std::collections::HashMap;
use std::str::FromStr;

type Item = HashMap<String, AttributeValue>;

/// Index pages read per listing request at most (filters may skip many items).
const MAX_PAGES_PER_REQUEST: usize = 10;

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}
fn unavailable<E: std::fmt::Debug>(e: E) -> StoreError {
    StoreError::Unavailable(format!("{e:?}").chars().take(500).collect())
}
fn ts(at: DateTime<Utc>) -> AttributeValue {
    s(crate::api::json::timestamp(at))
}
fn session_key(id_hash: &str) -> Item {
    HashMap::from([
        ("pk".to_owned(), s(format!("SESSION#{id_hash}"))),
        ("sk".to_owned(), s("SESSION")),
    ])
}

/// `created_at~id` of the last item of a page.
fn cursor_of(tx: &Transaction) -> String {
    format!("{}~{}", crate::api::json::timestamp(tx.created_at), tx.id)
}

/// The index key a cursor points at; None if it is not one we issued.
fn start_key(customer: &CustomerId, cursor: &str) -> Option<Item> {
    let (at, id) = cursor.split_once('~')?;
    DateTime::parse_from_rfc3339(at).ok()?;
    let id = TransactionId::parse(id).ok()?;
    Some(HashMap::from([
        ("id".to_owned(), s(id.as_str())),
        ("customer_id".to_owned(), s(customer.as_str())),
        ("created_at".to_owned(), s(at)),
    ]))
}

impl DynamoStore {
    async fn query_customer(
        &self,
        customer: &CustomerId,
        window: Window,
        filter: &TxFilter,
        start: Option<Item>,
        limit: i32,
    ) -> Result<(Vec<Transaction>, Option<Item>), StoreError> {
        let mut q = self
            .client()
            .query()
            .table_name(self.transactions_table())
            .index_name(CUSTOMER_INDEX)
            .key_condition_expression("customer_id = :c AND created_at BETWEEN :from AND :to")
            .expression_attribute_values(":c", s(customer.as_str()))
            .expression_attribute_values(":from", ts(window.from))
            .expression_attribute_values(":to", ts(window.to))
            .scan_index_forward(false)
            .limit(limit)
            .set_exclusive_start_key(start);
        let mut conditions = Vec::new();
        if !filter.statuses.is_empty() {
            let names: Vec<String> = (0..filter.statuses.len())
                .map(|i| format!(":st{i}"))
                .collect();
            for (name, st) in names.iter().zip(&filter.statuses) {
                q = q.expression_attribute_values(name, s(st));
            }
            q = q.expression_attribute_names("#st", "status");
            conditions.push(format!("#st IN ({})", names.join(", ")));
        }
        if let Some(phone) = &filter.phone {
            q = q
                .expression_attribute_names("#ph", "phone")
                .expression_attribute_values(":ph", s(phone));
            conditions.push("#ph = :ph".into());
        }
        if let Some(reference) = &filter.reference {
            q = q
                .expression_attribute_names("#rf", "reference")
                .expression_attribute_values(":rf", s(reference));
            conditions.push("#rf = :rf".into());
        }
        if !conditions.is_empty() {
            q = q.filter_expression(conditions.join(" AND "));
        }
        let out = q.send().await.map_err(unavailable)?;
        let items = out
            .items()
            .iter()
            .map(parse_transaction)
            .collect::<Result<Vec<_>, _>>()?;
        let next = out.last_evaluated_key().filter(|k| !k.is_empty()).cloned();
        Ok((items, next))
    }
}

#[async_trait]
impl DashboardReads for DynamoStore {
    async fn transactions_page(
        &self,
        customer: &CustomerId,
        window: Window,
        filter: &TxFilter,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Option<Page<Transaction>>, StoreError> {
        let mut start = match cursor {
            Some(c) => match start_key(customer, c) {
                Some(k) => Some(k),
                None => return Ok(None),
            },
            None => None,
        };
        let mut items: Vec<Transaction> = Vec::new();
        for _ in 0..MAX_PAGES_PER_REQUEST {
            let want = limit - items.len();
            // Ask for one more than needed: it tells whether a next page exists.
            let (page, next) = self
                .query_customer(customer, window, filter, start.take(), (want + 1) as i32)
                .await?;
            let more_in_page = page.len() > want;
            items.extend(page.into_iter().take(want));
            if items.len() == limit {
                let more = more_in_page || next.is_some();
                let next = more.then(|| cursor_of(items.last().expect("limit >= 1")));
                return Ok(Some(Page { items, next }));
            }
            match next {
                Some(k) => start = Some(k),
                None => return Ok(Some(Page { items, next: None })),
            }
        }
        // Sparse filter: hand back what was found and where to go on.
        let next = items.last().map(cursor_of);
        Ok(Some(Page { items, next }))
    }

    async fn transactions_in(
        &self,
        customer: &CustomerId,
        window: Window,
        cap: usize,
    ) -> Result<(Vec<Transaction>, bool), StoreError> {
        let mut out = Vec::new();
        let mut start = None;
        loop {
            let (page, next) = self
                .query_customer(customer, window, &TxFilter::default(), start.take(), 1000)
                .await?;
            out.extend(page);
            if out.len() >= cap {
                out.truncate(cap);
                return Ok((out, true));
            }
            match next {
                Some(k) => start = Some(k),
                None => return Ok((out, false)),
            }
        }
    }

    async fn ledger(&self, customer: &CustomerId) -> Result<Vec<LedgerEntry>, StoreError> {
        self.ledger_entries(customer.as_str()).await
    }

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
