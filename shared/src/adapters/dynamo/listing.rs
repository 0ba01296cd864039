//! Reads for the partner views and the reconciliation export (`reports::ports::ReportStore`):
//! queries on the `customer-by-created` and `ledger-by-time` indexes, never scans. Cursors
//! are the hex-encoded index key of the last item returned, checked against the caller.

use super::admin::{parse_reconcile_key, reconcile_key_pk};
use super::codec::{corrupt, get_dec, get_s, opt_s, parse_transaction, s, ts, unavailable};
use super::keys::pk_sk;
use super::pages::next_start;
use super::{DynamoStore, Item};
use crate::adapters::dynamo::schema::{CUSTOMER_INDEX, LEDGER_INDEX, LEDGER_INDEX_KEYS};
use crate::domain::{Account, LedgerEntry, Transaction};
use crate::domain::{CustomerId, TransactionId};
use crate::ops::ports::{AdminStore, ReconcileKey};
use crate::ports::StoreError;
use crate::reports::ports::{
    BadCursor, LedgerLine, Page, ReadError, ReportStore, TxFilter, Window,
};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::KeysAndAttributes;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use std::collections::{BTreeMap, HashMap};

/// Largest page one index query asks for.
const QUERY_PAGE: i32 = 500;

fn encode_cursor(item: &Item, keys: &[&str]) -> Option<String> {
    let mut map = BTreeMap::new();
    for k in keys {
        map.insert((*k).to_owned(), item.get(*k)?.as_s().ok()?.clone());
    }
    Some(hex::encode(serde_json::to_vec(&map).ok()?))
}

/// Decode a cursor: exactly `keys`, all strings, and `owner_key` == `owner`.
fn decode_cursor(
    raw: &str,
    keys: &[&str],
    owner_key: &str,
    owner: &str,
) -> Result<Item, BadCursor> {
    let bytes = hex::decode(raw.trim()).map_err(|_| BadCursor)?;
    let map: BTreeMap<String, String> = serde_json::from_slice(&bytes).map_err(|_| BadCursor)?;
    if map.len() != keys.len() || keys.iter().any(|k| !map.contains_key(*k)) {
        return Err(BadCursor);
    }
    if map.get(owner_key).map(String::as_str) != Some(owner) {
        return Err(BadCursor);
    }
    Ok(map.into_iter().map(|(k, v)| (k, s(v))).collect())
}

const TX_CURSOR_KEYS: [&str; 3] = ["id", "customer_id", "created_at"];
const LEDGER_CURSOR_KEYS: [&str; 4] = ["pk", "sk", "ledger_customer", "at"];

pub(super) fn parse_ledger_line(item: &Item) -> Result<LedgerLine, StoreError> {
    Ok(LedgerLine {
        entry: LedgerEntry {
            customer_id: get_s(item, LEDGER_INDEX_KEYS.0)?,
            seq: get_dec(item, "seq")?
                .try_into()
                .map_err(|_| corrupt("seq"))?,
            transaction_id: get_s(item, "transaction_id")?,
            kind: get_s(item, "kind")?,
            delta: get_dec(item, "delta")?,
            balance_before: get_dec(item, "balance_before")?,
            balance_after: get_dec(item, "balance_after")?,
            at: get_s(item, "at")?,
        },
        reference: opt_s(item, "reference")?,
        note: opt_s(item, "note")?,
    })
}

#[async_trait]
impl ReportStore for DynamoStore {
    async fn transactions_page(
        &self,
        customer: &CustomerId,
        window: Option<Window>,
        filter: &TxFilter,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Page<Transaction>, ReadError> {
        let mut start = cursor
            .map(|c| decode_cursor(c, &TX_CURSOR_KEYS, "customer_id", customer.as_str()))
            .transpose()?;
        let mut names = HashMap::new();
        let mut values = HashMap::from([(":c".to_owned(), s(customer.as_str()))]);
        let mut key_condition = "customer_id = :c".to_owned();
        if let Some(w) = window {
            key_condition.push_str(" AND created_at BETWEEN :from AND :to");
            values.insert(":from".into(), ts(w.from));
            values.insert(":to".into(), ts(w.to));
        }
        let mut filters = Vec::new();
        if !filter.statuses.is_empty() {
            names.insert("#st".to_owned(), "status".to_owned());
            let mut placeholders = Vec::new();
            for (i, st) in filter.statuses.iter().enumerate() {
                values.insert(format!(":s{i}"), s(st));
                placeholders.push(format!(":s{i}"));
            }
            filters.push(format!("#st IN ({})", placeholders.join(", ")));
        }
        if let Some(p) = &filter.phone {
            names.insert("#ph".to_owned(), "phone".to_owned());
            values.insert(":ph".into(), s(p));
            filters.push("#ph = :ph".to_owned());
        }
        if let Some(r) = &filter.reference {
            names.insert("#ref".to_owned(), "reference".to_owned());
            values.insert(":ref".into(), s(r));
            filters.push("#ref = :ref".to_owned());
        }
        let mut items = Vec::new();
        loop {
            self.read();
            let page = self
                .client
                .query()
                .table_name(&self.transactions_table)
                .index_name(CUSTOMER_INDEX)
                .key_condition_expression(&key_condition)
                .set_filter_expression((!filters.is_empty()).then(|| filters.join(" AND ")))
                .set_expression_attribute_names((!names.is_empty()).then(|| names.clone()))
                .set_expression_attribute_values(Some(values.clone()))
                .scan_index_forward(false)
                .limit(QUERY_PAGE.min(limit as i32 + 1))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| ReadError::Store(unavailable(e)))?;
            let following = next_start(page.last_evaluated_key());
            let got = page.items();
            for (i, item) in got.iter().enumerate() {
                items.push(parse_transaction(item)?);
                if items.len() == limit {
                    let last_of_all = i + 1 == got.len() && following.is_none();
                    let next = if last_of_all {
                        None
                    } else {
                        encode_cursor(item, &TX_CURSOR_KEYS)
                    };
                    return Ok(Page { items, next });
                }
            }
            match following {
                Some(k) => start = Some(k),
                None => return Ok(Page { items, next: None }),
            }
        }
    }

    async fn ledger_page(
        &self,
        customer: &CustomerId,
        window: Window,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Page<LedgerLine>, ReadError> {
        let mut start = cursor
            .map(|c| {
                decode_cursor(
                    c,
                    &LEDGER_CURSOR_KEYS,
                    LEDGER_INDEX_KEYS.0,
                    customer.as_str(),
                )
            })
            .transpose()?;
        let mut lines = Vec::new();
        let mut next = None;
        while lines.len() < limit {
            self.read();
            let page = self
                .client
                .query()
                .table_name(&self.accounts_table)
                .index_name(LEDGER_INDEX)
                .key_condition_expression("#c = :c AND #at BETWEEN :from AND :to")
                .expression_attribute_names("#c", LEDGER_INDEX_KEYS.0)
                .expression_attribute_names("#at", LEDGER_INDEX_KEYS.1)
                .expression_attribute_values(":c", s(customer.as_str()))
                .expression_attribute_values(":from", ts(window.from))
                .expression_attribute_values(":to", ts(window.to))
                .limit(QUERY_PAGE.min((limit - lines.len()) as i32))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| ReadError::Store(unavailable(e)))?;
            for item in page.items() {
                lines.push(parse_ledger_line(item)?);
            }
            match next_start(page.last_evaluated_key()) {
                Some(k) if lines.len() >= limit => next = encode_cursor(&k, &LEDGER_CURSOR_KEYS),
                Some(k) => start = Some(k),
                None => break,
            }
        }
        lines.sort_by_key(|l| l.entry.seq);
        Ok(Page { items: lines, next })
    }

    async fn balance_before(
        &self,
        customer: &CustomerId,
        at: DateTime<Utc>,
    ) -> Result<Option<Decimal>, StoreError> {
        self.read();
        let page = self
            .client
            .query()
            .table_name(&self.accounts_table)
            .index_name(LEDGER_INDEX)
            .key_condition_expression("#c = :c AND #at < :at")
            .expression_attribute_names("#c", LEDGER_INDEX_KEYS.0)
            .expression_attribute_names("#at", LEDGER_INDEX_KEYS.1)
            .expression_attribute_values(":c", s(customer.as_str()))
            .expression_attribute_values(":at", ts(at))
            .scan_index_forward(false)
            .limit(1)
            .send()
            .await
            .map_err(unavailable)?;
        page.items()
            .first()
            .map(|item| get_dec(item, "balance_after"))
            .transpose()
    }

    async fn transactions_by_id(
        &self,
        ids: &[TransactionId],
    ) -> Result<HashMap<String, Transaction>, StoreError> {
        let mut out = HashMap::new();
        let mut unique: Vec<&str> = ids.iter().map(TransactionId::as_str).collect();
        unique.sort_unstable();
        unique.dedup();
        for chunk in unique.chunks(100) {
            let keys: Vec<Item> = chunk
                .iter()
                .map(|id| HashMap::from([("id".to_owned(), s(*id))]))
                .collect();
            let mut request = Some(HashMap::from([(
                self.transactions_table.clone(),
                KeysAndAttributes::builder()
                    .set_keys(Some(keys))
                    .consistent_read(true)
                    .build()
                    .map_err(corrupt)?,
            )]));
            let mut rounds = 0;
            while let Some(req) = request.take() {
                rounds += 1;
                if rounds > 20 {
                    return Err(StoreError::Unavailable(
                        "batch read kept being throttled".into(),
                    ));
                }
                self.read();
                let got = self
                    .client
                    .batch_get_item()
                    .set_request_items(Some(req))
                    .send()
                    .await
                    .map_err(unavailable)?;
                if let Some(items) = got
                    .responses()
                    .and_then(|r| r.get(&self.transactions_table))
                {
                    for item in items {
                        let tx = parse_transaction(item)?;
                        out.insert(tx.id.as_str().to_owned(), tx);
                    }
                }
                request = got.unprocessed_keys().filter(|u| !u.is_empty()).cloned();
                if request.is_some() {
                    super::parts::backoff(rounds).await;
                }
            }
        }
        Ok(out)
    }

    async fn reconcile_key(&self, hash: &str) -> Result<Option<ReconcileKey>, StoreError> {
        if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(None);
        }
        self.get_item(
            &self.accounts_table,
            pk_sk(&reconcile_key_pk(hash), "RECONKEY"),
        )
        .await?
        .map(|item| parse_reconcile_key(&item))
        .transpose()
    }

    async fn accounts(&self) -> Result<Vec<Account>, StoreError> {
        Ok(self
            .list_partners()
            .await?
            .into_iter()
            .map(|p| p.account)
            .collect())
    }
}
