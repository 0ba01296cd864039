//! Paging through a Query or Scan: the one loop for the reads that need every item, and the
//! one rule for where the next page starts.

use super::{DynamoStore, Item};
use crate::ports::StoreError;
use aws_sdk_dynamodb::operation::query::QueryOutput;
use aws_sdk_dynamodb::operation::scan::ScanOutput;
use std::future::Future;

/// One page: its items and DynamoDB's `LastEvaluatedKey`.
pub(super) struct Page {
    items: Vec<Item>,
    last: Option<Item>,
}

impl From<QueryOutput> for Page {
    fn from(out: QueryOutput) -> Self {
        Self {
            items: out.items.unwrap_or_default(),
            last: out.last_evaluated_key,
        }
    }
}

impl From<ScanOutput> for Page {
    fn from(out: ScanOutput) -> Self {
        Self {
            items: out.items.unwrap_or_default(),
            last: out.last_evaluated_key,
        }
    }
}

/// Where the next page starts: the `LastEvaluatedKey`, which is absent (or empty) on the last.
pub(super) fn next_start(last: Option<&Item>) -> Option<Item> {
    last.filter(|k| !k.is_empty()).cloned()
}

impl DynamoStore {
    /// Every item of a Query or Scan, in DynamoDB's order. `page(start)` sends one request
    /// beginning at `start` (`None` for the first); each request counts as one read.
    pub(super) async fn all_pages<F, Fut>(&self, mut page: F) -> Result<Vec<Item>, StoreError>
    where
        F: FnMut(Option<Item>) -> Fut,
        Fut: Future<Output = Result<Page, StoreError>>,
    {
        let mut out = Vec::new();
        let mut start = None;
        loop {
            self.read();
            let Page { items, last } = page(start.take()).await?;
            out.extend(items);
            match next_start(last.as_ref()) {
                Some(next) => start = Some(next),
                None => return Ok(out),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_dynamodb::types::AttributeValue;

    #[test]
    fn an_absent_or_empty_last_key_ends_the_paging() {
        assert_eq!(next_start(None), None);
        assert_eq!(next_start(Some(&Item::new())), None);
        let key = Item::from([("pk".to_owned(), AttributeValue::S("A#1".into()))]);
        assert_eq!(next_start(Some(&key)), Some(key.clone()));
    }

    fn key(pk: &str) -> Item {
        Item::from([("pk".to_owned(), AttributeValue::S(pk.into()))])
    }

    #[tokio::test]
    async fn every_page_is_read_in_order_each_from_where_the_last_stopped() {
        // GIVEN a store and a query answering three pages (the last with an empty key)
        let store = super::super::tests::offline_store();
        let pages = std::sync::Mutex::new(vec![
            (None, vec![key("A"), key("B")], Some(key("B"))),
            (Some(key("B")), vec![key("C")], Some(key("C"))),
            (Some(key("C")), vec![key("D")], Some(Item::new())),
        ]);
        // WHEN every item is read
        let items = store
            .all_pages(|start| {
                let (expected_start, items, last) = pages.lock().unwrap().remove(0);
                assert_eq!(
                    start, expected_start,
                    "each page starts where the last stopped"
                );
                async move { Ok(Page { items, last }) }
            })
            .await
            .unwrap();
        // THEN all items come back in order, after exactly three requests (three reads)
        assert_eq!(items, vec![key("A"), key("B"), key("C"), key("D")]);
        assert!(pages.lock().unwrap().is_empty());
        assert_eq!(
            store.calls.reads.load(std::sync::atomic::Ordering::Relaxed),
            3
        );
    }
}
