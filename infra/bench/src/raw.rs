//! The "limit" next to our figures: the very DynamoDB requests one sync top-up sends, captured
//! from a real top-up and replayed raw (no handler, no use case) with fresh keys.

use aws_sdk_dynamodb::config::interceptors::BeforeSerializationInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept};
use aws_sdk_dynamodb::error::BoxError;
use aws_sdk_dynamodb::operation::get_item::GetItemInput;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsInput;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};
use aws_sdk_dynamodb::Client;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// The requests of one top-up, in order: the account read, the debit transaction, the final
/// status transaction (status update + webhook outbox event).
#[derive(Debug, Clone, Default)]
pub struct Shape {
    pub get: Option<GetItemInput>,
    pub debit: Option<TransactWriteItemsInput>,
    pub finish: Option<TransactWriteItemsInput>,
}

/// Records the inputs of the calls a client makes (install it, run one top-up, `take`).
#[derive(Debug, Clone, Default)]
pub struct Capture(Arc<Mutex<Shape>>);

impl Capture {
    pub fn take(&self) -> Shape {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

impl Intercept for Capture {
    fn name(&self) -> &'static str {
        "Capture"
    }
    fn read_before_execution(
        &self,
        context: &BeforeSerializationInterceptorContextRef<'_>,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let input = context.input();
        let mut shape = self.0.lock().unwrap();
        if let Some(i) = input.downcast_ref::<GetItemInput>() {
            shape.get.get_or_insert_with(|| i.clone());
        } else if let Some(i) = input.downcast_ref::<TransactWriteItemsInput>() {
            if shape.debit.is_none() {
                shape.debit = Some(i.clone());
            } else {
                shape.finish.get_or_insert_with(|| i.clone());
            }
        }
        Ok(())
    }
}

static NEXT: AtomicU64 = AtomicU64::new(0);

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

/// A captured transaction with fresh keys: the transaction record gets id `raw_id` (put or
/// update), the other put items (idempotency claim, ledger line, outbox event) a fresh
/// partition key; the account update keeps its item and expression but not the version
/// condition (a replay cannot know the version; the write is the same size). Counter updates
/// are replayed as they are.
fn fresh_items(captured: &TransactWriteItemsInput, raw_id: &str) -> Vec<TransactWriteItem> {
    captured
        .transact_items()
        .iter()
        .map(|item| {
            if let Some(put) = item.put() {
                let mut fields = put.item().clone();
                if fields.contains_key("id") {
                    fields.insert("id".into(), s(raw_id));
                } else if let Some(AttributeValue::S(pk)) = fields.get("pk").cloned() {
                    fields.insert("pk".into(), s(format!("{pk}#{raw_id}")));
                }
                let put = Put::builder()
                    .table_name(put.table_name())
                    .set_item(Some(fields))
                    .set_condition_expression(put.condition_expression().map(str::to_owned))
                    .set_expression_attribute_names(put.expression_attribute_names().cloned())
                    .set_expression_attribute_values(put.expression_attribute_values().cloned())
                    .build()
                    .expect("put");
                TransactWriteItem::builder().put(put).build()
            } else if let Some(update) = item.update() {
                let versioned = update
                    .condition_expression()
                    .is_some_and(|c| c.contains("version = :v"));
                let mut values = update.expression_attribute_values().cloned();
                let mut names = update.expression_attribute_names().cloned();
                let mut condition = update.condition_expression().map(str::to_owned);
                if versioned {
                    condition = None;
                    names = None;
                    if let Some(v) = values.as_mut() {
                        for unused in [":v", ":before", ":active"] {
                            v.remove(unused);
                        }
                    }
                }
                let mut key = update.key().clone();
                if key.contains_key("id") {
                    key.insert("id".into(), s(raw_id));
                }
                let update = Update::builder()
                    .table_name(update.table_name())
                    .set_key(Some(key))
                    .update_expression(update.update_expression())
                    .set_condition_expression(condition)
                    .set_expression_attribute_names(names)
                    .set_expression_attribute_values(values)
                    .build()
                    .expect("update");
                TransactWriteItem::builder().update(update).build()
            } else {
                item.clone()
            }
        })
        .collect()
}

/// One raw debit transaction of the captured shape (retried on a transaction conflict, as
/// the store does). Returns the id its transaction record got.
pub async fn debit(client: &Client, shape: &Shape, nonce: &str) -> Result<String, String> {
    let raw_id = format!("RAW{nonce}{}", NEXT.fetch_add(1, Ordering::Relaxed));
    let items = fresh_items(shape.debit.as_ref().expect("captured debit"), &raw_id);
    transact(client, items).await?;
    Ok(raw_id)
}

/// One transaction, retried on a conflict as the store does.
async fn transact(client: &Client, items: Vec<TransactWriteItem>) -> Result<(), String> {
    for attempt in 0..100u64 {
        if attempt > 0 {
            // Same-account replays conflict with each other (TransactionConflict): back off
            // as the store does instead of spinning on DynamoDB Local.
            tokio::time::sleep(std::time::Duration::from_millis(attempt.min(20))).await;
        }
        match client
            .transact_write_items()
            .set_transact_items(Some(items.clone()))
            .send()
            .await
        {
            Ok(_) => return Ok(()),
            Err(e) => {
                let text = format!("{}", aws_sdk_dynamodb::error::DisplayErrorContext(&e));
                if !text.contains("TransactionConflict") && !text.contains("ConditionalCheck") {
                    return Err(text);
                }
            }
        }
    }
    Err("too many transaction conflicts".into())
}

/// The whole raw sequence of a top-up: consistent account read, debit, final status transaction.
pub async fn sequence(client: &Client, shape: &Shape, nonce: &str) -> Result<(), String> {
    let get = shape.get.as_ref().expect("captured read");
    client
        .get_item()
        .set_table_name(get.table_name().map(str::to_owned))
        .set_key(get.key().cloned())
        .set_consistent_read(get.consistent_read())
        .set_projection_expression(get.projection_expression().map(str::to_owned))
        .set_expression_attribute_names(get.expression_attribute_names().cloned())
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let raw_id = debit(client, shape, nonce).await?;
    let finish = shape.finish.as_ref().expect("captured finish");
    transact(client, fresh_items(finish, &raw_id)).await
}
