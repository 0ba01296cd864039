//! DynamoDB adapter of the webhook outbox and endpoints (accounts table):
//!   WEBHOOK#{customer}  ENDPOINT          url, subscribed events, signing secrets
//!   WEBHOOK#{customer}  EVENT#{event_id}  one outbox event and its delivery state (TTL)
//! PENDING events carry `wh_due = "DUE"` and `due_at`: the sparse GSI `webhooks-due` that the
//! sweep queries (never a scan). Outcome events are Put in the same TransactWriteItems as the
//! outcome ([`outbox_put`]); after the commit the store pokes the dispatch queue (best effort:
//! the sweep covers a poke that never happened).

use super::codec::{corrupt, get_s, get_time, nu, opt_s, opt_time, s, ts, unavailable};
use super::keys::pk_sk;
use super::parts::is_conditional_failure;
use super::schema::{WEBHOOK_DUE_INDEX, WEBHOOK_DUE_KEYS};
use super::{DynamoStore, Item};
use crate::api::json::timestamp;
use crate::ports::StoreError;
use crate::webhooks::endpoint::SigningKey;
use crate::webhooks::event::EVENT_RETENTION_DAYS;
use crate::webhooks::queue::DispatchMessage;
use crate::webhooks::signing::WebhookSecret;
use crate::webhooks::{
    AttemptRecord, Delivery, DeliveryStatus, DueRef, Endpoint, EventType, OutboxEvent,
    WebhookReader, WebhookStore,
};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use chrono::{DateTime, Duration, Utc};

const DUE: &str = "DUE";

fn webhook_pk(customer: &str) -> String {
    format!("WEBHOOK#{customer}")
}

fn event_key(customer: &str, event_id: &str) -> Item {
    pk_sk(&webhook_pk(customer), &format!("EVENT#{event_id}"))
}

fn event_item(event: &OutboxEvent) -> Item {
    let mut item = event_key(&event.customer_id, &event.id);
    item.insert("customer_id".into(), s(&event.customer_id));
    item.insert("event_id".into(), s(&event.id));
    item.insert("event_type".into(), s(event.event_type.as_str()));
    item.insert("body".into(), s(&event.body));
    item.insert("created_at".into(), ts(event.created_at));
    item.insert("status".into(), s(DeliveryStatus::Pending.as_str()));
    item.insert("attempts".into(), nu(0));
    item.insert(WEBHOOK_DUE_KEYS.0.into(), s(DUE));
    item.insert(WEBHOOK_DUE_KEYS.1.into(), ts(event.created_at));
    let expires = event.created_at + Duration::days(EVENT_RETENTION_DAYS);
    item.insert("expires_at".into(), nu(expires.timestamp().max(0) as u64));
    item
}

/// The outbox Put to add to the TransactWriteItems of the outcome that causes `event`.
pub(crate) fn outbox_put(
    table: &str,
    event: &OutboxEvent,
) -> Result<TransactWriteItem, StoreError> {
    Ok(TransactWriteItem::builder()
        .put(
            Put::builder()
                .table_name(table)
                .set_item(Some(event_item(event)))
                .condition_expression("attribute_not_exists(pk)")
                .build()
                .map_err(corrupt)?,
        )
        .build())
}

fn parse_delivery(item: &Item) -> Result<Delivery, StoreError> {
    let event_type = get_s(item, "event_type")?;
    let status = get_s(item, "status")?;
    let attempts = get_s_num(item, "attempts")?;
    Ok(Delivery {
        event: OutboxEvent {
            id: get_s(item, "event_id")?,
            customer_id: get_s(item, "customer_id")?,
            event_type: EventType::parse(&event_type).ok_or_else(|| corrupt(&event_type))?,
            body: get_s(item, "body")?,
            created_at: get_time(item, "created_at")?,
        },
        status: DeliveryStatus::parse(&status).ok_or_else(|| corrupt(&status))?,
        attempts,
        last_result: opt_s(item, "last_result")?,
        last_attempt_at: opt_time(item, "last_attempt_at")?,
        next_attempt_at: opt_time(item, "next_attempt_at")?,
    })
}

fn get_s_num(item: &Item, k: &str) -> Result<u32, StoreError> {
    match item.get(k) {
        Some(AttributeValue::N(v)) => v.parse().map_err(|_| corrupt(k)),
        _ => Err(corrupt(format!("missing {k}"))),
    }
}

fn endpoint_item(ep: &Endpoint) -> Item {
    let mut item = pk_sk(&webhook_pk(&ep.customer_id), "ENDPOINT");
    item.insert("customer_id".into(), s(&ep.customer_id));
    item.insert("url".into(), s(&ep.url));
    if let Some(events) = &ep.events {
        item.insert(
            "events".into(),
            AttributeValue::L(events.iter().map(|e| s(e.as_str())).collect()),
        );
    }
    let keys = ep
        .keys
        .iter()
        .map(|k| {
            let mut m = Item::new();
            m.insert("secret".into(), s(k.secret.expose()));
            if let Some(at) = k.expires_at {
                m.insert("expires_at".into(), ts(at));
            }
            AttributeValue::M(m)
        })
        .collect();
    item.insert("keys".into(), AttributeValue::L(keys));
    if let Some(reason) = &ep.disabled_reason {
        item.insert("disabled_reason".into(), s(reason));
    }
    item.insert("updated_at".into(), ts(ep.updated_at));
    item
}

fn parse_endpoint(item: &Item) -> Result<Endpoint, StoreError> {
    let events = match item.get("events") {
        Some(AttributeValue::L(list)) => Some(
            list.iter()
                .map(|v| match v {
                    AttributeValue::S(name) => EventType::parse(name).ok_or_else(|| corrupt(name)),
                    _ => Err(corrupt("events")),
                })
                .collect::<Result<Vec<_>, _>>()?,
        ),
        _ => None,
    };
    let keys = match item.get("keys") {
        Some(AttributeValue::L(list)) => list
            .iter()
            .map(|v| match v {
                AttributeValue::M(m) => Ok(SigningKey {
                    secret: WebhookSecret::parse(&get_s(m, "secret")?).map_err(corrupt)?,
                    expires_at: opt_time(m, "expires_at")?,
                }),
                _ => Err(corrupt("keys")),
            })
            .collect::<Result<Vec<_>, _>>()?,
        _ => return Err(corrupt("endpoint without keys")),
    };
    Ok(Endpoint {
        customer_id: get_s(item, "customer_id")?,
        url: get_s(item, "url")?,
        events,
        keys,
        disabled_reason: opt_s(item, "disabled_reason")?,
        updated_at: get_time(item, "updated_at")?,
    })
}

impl DynamoStore {
    /// After a transaction that wrote outbox events committed: ask the dispatcher to send
    /// them now. Best effort (logged): the sweep delivers anything not poked.
    pub(crate) async fn poke_dispatcher(&self, events: &[&OutboxEvent]) {
        let Some(queue) = &self.webhook_queue else {
            return;
        };
        for event in events {
            let msg = DispatchMessage {
                customer_id: event.customer_id.clone(),
                event_id: event.id.clone(),
                attempts: 0,
            };
            if let Err(e) = queue.send(&msg, 0).await {
                tracing::warn!(event_id = %event.id, error = %e, "webhook poke failed; the sweep will deliver it");
            }
        }
    }
}

#[async_trait]
impl WebhookReader for DynamoStore {
    async fn get_endpoint(&self, customer_id: &str) -> Result<Option<Endpoint>, StoreError> {
        let key = pk_sk(&webhook_pk(customer_id), "ENDPOINT");
        match self.get_item(&self.accounts_table, key).await? {
            Some(item) => Ok(Some(parse_endpoint(&item)?)),
            None => Ok(None),
        }
    }

    async fn list_deliveries(
        &self,
        customer_id: &str,
        limit: i32,
    ) -> Result<Vec<Delivery>, StoreError> {
        self.read();
        let out = self
            .client
            .query()
            .table_name(&self.accounts_table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :ev)")
            .expression_attribute_values(":pk", s(webhook_pk(customer_id)))
            .expression_attribute_values(":ev", s("EVENT#"))
            .scan_index_forward(false)
            .limit(limit)
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        out.items().iter().map(parse_delivery).collect()
    }
}

#[async_trait]
impl WebhookStore for DynamoStore {
    async fn put_endpoint(&self, endpoint: &Endpoint) -> Result<(), StoreError> {
        self.write();
        self.client
            .put_item()
            .table_name(&self.accounts_table)
            .set_item(Some(endpoint_item(endpoint)))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn put_endpoint_audited(
        &self,
        endpoint: &Endpoint,
        audit: &crate::ops::AuditRecord,
    ) -> Result<(), StoreError> {
        let items = vec![
            TransactWriteItem::builder()
                .put(
                    Put::builder()
                        .table_name(&self.accounts_table)
                        .set_item(Some(endpoint_item(endpoint)))
                        .build()
                        .map_err(corrupt)?,
                )
                .build(),
            super::admin::audit_put(&self.accounts_table, audit)?,
        ];
        self.write();
        self.client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn disable_endpoint(
        &self,
        customer_id: &str,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.write();
        let result = self
            .client
            .update_item()
            .table_name(&self.accounts_table)
            .set_key(Some(pk_sk(&webhook_pk(customer_id), "ENDPOINT")))
            .update_expression("SET disabled_reason = :r, updated_at = :now")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":r", s(reason))
            .expression_attribute_values(":now", ts(now))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if is_conditional_failure(&e) => Ok(()),
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn insert_event(&self, event: &OutboxEvent) -> Result<(), StoreError> {
        self.write();
        self.client
            .put_item()
            .table_name(&self.accounts_table)
            .set_item(Some(event_item(event)))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn get_delivery(
        &self,
        customer_id: &str,
        event_id: &str,
    ) -> Result<Option<Delivery>, StoreError> {
        match self
            .get_item(&self.accounts_table, event_key(customer_id, event_id))
            .await?
        {
            Some(item) => Ok(Some(parse_delivery(&item)?)),
            None => Ok(None),
        }
    }

    async fn claim_attempt(
        &self,
        customer_id: &str,
        event_id: &str,
        attempts: u32,
        lease_until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.write();
        let result = self
            .client
            .update_item()
            .table_name(&self.accounts_table)
            .set_key(Some(event_key(customer_id, event_id)))
            .update_expression("SET attempts = :next, #due = :lease")
            .condition_expression("#st = :pending AND attempts = :n")
            .expression_attribute_names("#st", "status")
            .expression_attribute_names("#due", WEBHOOK_DUE_KEYS.1)
            .expression_attribute_values(":pending", s(DeliveryStatus::Pending.as_str()))
            .expression_attribute_values(":n", nu(attempts as u64))
            .expression_attribute_values(":next", nu(attempts as u64 + 1))
            .expression_attribute_values(":lease", ts(lease_until))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if is_conditional_failure(&e) => Ok(false),
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn record_attempt(
        &self,
        customer_id: &str,
        event_id: &str,
        attempts: u32,
        record: &AttemptRecord,
    ) -> Result<(), StoreError> {
        let mut req = self
            .client
            .update_item()
            .table_name(&self.accounts_table)
            .set_key(Some(event_key(customer_id, event_id)))
            .condition_expression("#st = :pending AND attempts = :n")
            .expression_attribute_names("#st", "status")
            .expression_attribute_names("#due", WEBHOOK_DUE_KEYS.1)
            .expression_attribute_names("#shard", WEBHOOK_DUE_KEYS.0)
            .expression_attribute_values(":pending", s(DeliveryStatus::Pending.as_str()))
            .expression_attribute_values(":n", nu(attempts as u64))
            .expression_attribute_values(":status", s(record.status.as_str()))
            .expression_attribute_values(":result", s(&record.result))
            .expression_attribute_values(":at", ts(record.at));
        req = match (record.status, record.next_attempt_at) {
            (DeliveryStatus::Pending, Some(next)) => req
                .update_expression(
                    "SET #st = :status, last_result = :result, last_attempt_at = :at, \
                     next_attempt_at = :next, #due = :next, #shard = :shardv",
                )
                .expression_attribute_values(":next", ts(next))
                .expression_attribute_values(":shardv", s(DUE)),
            _ => req.update_expression(
                "SET #st = :status, last_result = :result, last_attempt_at = :at \
                 REMOVE next_attempt_at, #due, #shard",
            ),
        };
        self.write();
        match req.send().await {
            Ok(_) => Ok(()),
            // Someone else recorded this attempt (a lease that expired mid-attempt): theirs wins.
            Err(e) if is_conditional_failure(&e) => Ok(()),
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn reset_delivery(
        &self,
        customer_id: &str,
        event_id: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.write();
        let result = self
            .client
            .update_item()
            .table_name(&self.accounts_table)
            .set_key(Some(event_key(customer_id, event_id)))
            .update_expression(
                "SET #st = :pending, attempts = :zero, #shard = :shardv, #due = :now \
                 REMOVE next_attempt_at",
            )
            .condition_expression("attribute_exists(pk) AND #st <> :pending")
            .expression_attribute_names("#st", "status")
            .expression_attribute_names("#due", WEBHOOK_DUE_KEYS.1)
            .expression_attribute_names("#shard", WEBHOOK_DUE_KEYS.0)
            .expression_attribute_values(":pending", s(DeliveryStatus::Pending.as_str()))
            .expression_attribute_values(":zero", nu(0))
            .expression_attribute_values(":shardv", s(DUE))
            .expression_attribute_values(":now", ts(now))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if is_conditional_failure(&e) => Ok(false),
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn due(&self, now: DateTime<Utc>, limit: i32) -> Result<Vec<DueRef>, StoreError> {
        self.read();
        let out = self
            .client
            .query()
            .table_name(&self.accounts_table)
            .index_name(WEBHOOK_DUE_INDEX)
            .key_condition_expression("#shard = :due AND #at <= :now")
            .expression_attribute_names("#shard", WEBHOOK_DUE_KEYS.0)
            .expression_attribute_names("#at", WEBHOOK_DUE_KEYS.1)
            .expression_attribute_values(":due", s(DUE))
            .expression_attribute_values(":now", s(timestamp(now)))
            .limit(limit)
            .send()
            .await
            .map_err(unavailable)?;
        out.items()
            .iter()
            .map(|item| {
                Ok(DueRef {
                    customer_id: get_s(item, "customer_id")?,
                    event_id: get_s(item, "event_id")?,
                    attempts: get_s_num(item, "attempts")?,
                })
            })
            .collect()
    }
}
