//! API key metadata and reconcile keys (by hash for lookups, by scope for listings).

use super::super::codec::{corrupt, get_s, opt_s, opt_time, s, ts};
use super::super::keys::pk_sk;
use super::super::{DynamoStore, Item};
use super::audit::audit_put;
use super::{delete, put};
use crate::domain::CustomerId;
use crate::ops::ports::{KeyRecord, ReconcileKey, ReconcileScope};
use crate::ops::AuditRecord;
use crate::ports::StoreError;

pub(super) fn key_item(pk: &str, k: &KeyRecord) -> Item {
    let mut item = pk_sk(pk, &format!("KEY#{}", k.prefix));
    item.insert("hash".into(), s(&k.hash));
    item.insert("prefix".into(), s(&k.prefix));
    item.insert("created_at".into(), ts(k.created_at));
    item.insert("created_by".into(), s(&k.created_by));
    item
}

pub(super) fn parse_key(item: &Item) -> Result<KeyRecord, StoreError> {
    Ok(KeyRecord {
        prefix: get_s(item, "prefix")?,
        hash: get_s(item, "hash")?,
        created_at: opt_time(item, "created_at")?.ok_or_else(|| corrupt("key created_at"))?,
        created_by: opt_s(item, "created_by")?.unwrap_or_default(),
    })
}

pub(super) fn api_keys_pk(customer: &str) -> String {
    format!("APIKEY#{customer}")
}
pub(in crate::adapters::dynamo) fn reconcile_key_pk(hash: &str) -> String {
    format!("RECONKEY#{hash}")
}
fn reconcile_list_pk(scope: &ReconcileScope) -> String {
    format!("RECONKEYS#{}", scope.as_str())
}

pub(in crate::adapters::dynamo) fn parse_reconcile_key(
    item: &Item,
) -> Result<ReconcileKey, StoreError> {
    Ok(ReconcileKey {
        scope: ReconcileScope::parse(&get_s(item, "scope")?).map_err(corrupt)?,
        key: parse_key(item)?,
    })
}

pub(super) async fn api_keys(
    store: &DynamoStore,
    customer: &CustomerId,
) -> Result<Vec<KeyRecord>, StoreError> {
    store
        .query_all(&api_keys_pk(customer.as_str()))
        .await?
        .iter()
        .map(parse_key)
        .collect()
}

pub(super) async fn add_reconcile_key(
    store: &DynamoStore,
    key: &ReconcileKey,
    audit: &AuditRecord,
) -> Result<(), StoreError> {
    let mut by_hash = key_item(&reconcile_key_pk(&key.key.hash), &key.key);
    by_hash.insert("sk".into(), s("RECONKEY"));
    by_hash.insert("scope".into(), s(key.scope.as_str()));
    let mut listed = key_item(&reconcile_list_pk(&key.scope), &key.key);
    listed.insert("scope".into(), s(key.scope.as_str()));
    let items = vec![
        put(
            &store.accounts_table,
            by_hash,
            Some("attribute_not_exists(pk)"),
        )?,
        put(&store.accounts_table, listed, None)?,
        audit_put(&store.accounts_table, audit)?,
    ];
    match store.transact(items).await? {
        None => Ok(()),
        Some(_) => Err(StoreError::Unavailable(
            "reconcile key not stored; retry".into(),
        )),
    }
}

pub(super) async fn reconcile_keys(
    store: &DynamoStore,
    scope: &ReconcileScope,
) -> Result<Vec<ReconcileKey>, StoreError> {
    store
        .query_all(&reconcile_list_pk(scope))
        .await?
        .iter()
        .map(parse_reconcile_key)
        .collect()
}

pub(super) async fn remove_reconcile_key(
    store: &DynamoStore,
    key: &ReconcileKey,
    audit: &AuditRecord,
) -> Result<bool, StoreError> {
    let items = vec![
        delete(
            &store.accounts_table,
            pk_sk(&reconcile_key_pk(&key.key.hash), "RECONKEY"),
            Some("attribute_exists(pk)"),
        )?,
        delete(
            &store.accounts_table,
            pk_sk(
                &reconcile_list_pk(&key.scope),
                &format!("KEY#{}", key.key.prefix),
            ),
            None,
        )?,
        audit_put(&store.accounts_table, audit)?,
    ];
    match store.transact(items).await? {
        None => Ok(true),
        Some(f) if f[0] => Ok(false),
        Some(_) => Err(StoreError::Unavailable(
            "reconcile key not revoked; retry".into(),
        )),
    }
}
