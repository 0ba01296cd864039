//! Audit records: one append-only item per change, written in the change's own transaction.

use super::super::codec::{corrupt, get_s, opt_time, s, ts};
use super::super::keys::pk_sk;
use super::super::{DynamoStore, Item};
use crate::ops::AuditRecord;
use crate::ports::StoreError;
use aws_sdk_dynamodb::types::TransactWriteItem;
use rand::Rng;

/// The audit record's Put for the change's own TransactWriteItems (a fresh item, never an
/// overwrite: the trail is append-only).
pub(in crate::adapters::dynamo) fn audit_put(
    table: &str,
    a: &AuditRecord,
) -> Result<TransactWriteItem, StoreError> {
    super::put(table, audit_item(a), Some("attribute_not_exists(pk)"))
}

fn audit_item(a: &AuditRecord) -> Item {
    let suffix: String = {
        let mut rng = rand::rng();
        (0..8)
            .map(|_| char::from(b"ABCDEFGHJKMNPQRSTVWXYZ0123456789"[rng.random_range(0..32)]))
            .collect()
    };
    let mut item = pk_sk(
        &format!("AUDIT#{}", a.customer_id),
        &format!("{}#{suffix}", crate::api::json::timestamp(a.at)),
    );
    item.insert("subject".into(), s(&a.customer_id));
    item.insert("at".into(), ts(a.at));
    item.insert("actor".into(), s(&a.actor));
    item.insert("action".into(), s(&a.action));
    item.insert("before".into(), s(a.before.to_string()));
    item.insert("after".into(), s(a.after.to_string()));
    item
}

fn parse_audit(item: &Item) -> Result<AuditRecord, StoreError> {
    let json = |k: &str| -> Result<serde_json::Value, StoreError> {
        serde_json::from_str(&get_s(item, k)?).map_err(|_| corrupt(format!("audit {k}")))
    };
    Ok(AuditRecord {
        customer_id: get_s(item, "subject")?,
        at: opt_time(item, "at")?.ok_or_else(|| corrupt("audit at"))?,
        actor: get_s(item, "actor")?,
        action: get_s(item, "action")?,
        before: json("before")?,
        after: json("after")?,
    })
}

pub(super) async fn audit_records(
    store: &DynamoStore,
    subject: &str,
) -> Result<Vec<AuditRecord>, StoreError> {
    store
        .query_all(&format!("AUDIT#{subject}"))
        .await?
        .iter()
        .map(parse_audit)
        .collect()
}
