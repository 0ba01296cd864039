//! Key rotation: API keys (several active at once, so a partner rotates without downtime),
//! the distributor secret, and reconcile keys (per partner, or one ops key for all).

use super::partners::{get, update};
use super::ports::{AdminStore, KeyRecord, PartnerUpdate, ReconcileKey, ReconcileScope};
use super::secrets::{self, SecretKind};
use super::{refused, Actor, AuditRecord, OpsError};
use crate::domain::credentials::hash_key;
use crate::domain::CustomerId;
use crate::ports::StoreError;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use std::collections::HashMap;

/// Shortest prefix `revoke` accepts (a key's clear prefix is 12 characters).
const MIN_PREFIX: usize = 8;

/// One active API key as `key list` shows it. Keys loaded from fixtures (or created before key
/// metadata existed) have no record: they are named by the start of their hash.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyListing {
    pub prefix: Option<String>,
    pub hash_prefix: String,
    pub created_at: Option<DateTime<Utc>>,
    pub created_by: Option<String>,
    /// Last authenticated request with this key, to within the 15-minute request window
    /// (None: not used since last-use tracking exists, or not at all).
    pub last_used: Option<DateTime<Utc>>,
}

/// When each API key (by SHA-256 hex) was last used (stamped by the request gate).
#[async_trait]
pub trait KeyUses: Send + Sync {
    async fn key_last_used(
        &self,
        customer: &CustomerId,
    ) -> Result<HashMap<String, DateTime<Utc>>, StoreError>;
}

fn key_record(secret: &str, actor: &Actor, now: DateTime<Utc>) -> KeyRecord {
    KeyRecord {
        prefix: secrets::prefix(secret),
        hash: hash_key(secret),
        created_at: now,
        created_by: actor.0.clone(),
    }
}

/// `key add ID`: a new active key (printed once); the old ones keep working until revoked.
pub async fn add_api_key(
    store: &dyn AdminStore,
    actor: &Actor,
    customer: &str,
    now: DateTime<Utc>,
) -> Result<(String, KeyRecord), OpsError> {
    let secret = secrets::generate(SecretKind::ApiKey);
    let record = key_record(&secret, actor, now);
    update(store, actor, customer, "key.add", now, |before| {
        let mut hashes = before.account.api_key_hashes.clone();
        hashes.push(record.hash.clone());
        Ok(PartnerUpdate {
            api_key_hashes: Some(hashes),
            add_key: Some(record.clone()),
            ..PartnerUpdate::default()
        })
    })
    .await?;
    Ok((secret, record))
}

pub async fn list_api_keys(
    store: &dyn AdminStore,
    uses: &dyn KeyUses,
    customer: &str,
) -> Result<Vec<KeyListing>, OpsError> {
    let partner = get(store, customer).await?;
    let records = store.api_keys(&partner.account.customer_id).await?;
    let used = uses.key_last_used(&partner.account.customer_id).await?;
    Ok(partner
        .account
        .api_key_hashes
        .iter()
        .map(|h| {
            let r = records.iter().find(|r| &r.hash == h);
            KeyListing {
                prefix: r.map(|r| r.prefix.clone()),
                hash_prefix: h.chars().take(12).collect(),
                created_at: r.map(|r| r.created_at),
                created_by: r.map(|r| r.created_by.clone()),
                last_used: used.get(h).copied(),
            }
        })
        .collect())
}

/// `key revoke ID PREFIX`: by the key's clear prefix, or (keys without a record) by the
/// start of its hash. Refuses an ambiguous prefix and the partner's last key.
pub async fn revoke_api_key(
    store: &dyn AdminStore,
    actor: &Actor,
    customer: &str,
    prefix: &str,
    now: DateTime<Utc>,
) -> Result<String, OpsError> {
    if prefix.len() < MIN_PREFIX {
        return Err(refused(format!(
            "give at least {MIN_PREFIX} characters of the key (see `key list`)"
        )));
    }
    let records = {
        let p = get(store, customer).await?;
        store.api_keys(&p.account.customer_id).await?
    };
    let (_, upd) = update(store, actor, customer, "key.revoke", now, |before| {
        let hashes = &before.account.api_key_hashes;
        let matching: Vec<&String> = hashes
            .iter()
            .filter(|h| {
                records
                    .iter()
                    .any(|r| &r.hash == *h && r.prefix.starts_with(prefix))
                    || h.starts_with(&prefix.to_ascii_lowercase())
            })
            .collect();
        let hash = match matching.as_slice() {
            [one] => (*one).clone(),
            [] => {
                return Err(refused(format!(
                    "no active key of {customer} starts with {prefix}"
                )))
            }
            _ => {
                return Err(refused(format!(
                    "{prefix} matches several keys; give more characters"
                )))
            }
        };
        if hashes.len() == 1 {
            return Err(refused(format!(
                "{prefix} is the only key of {customer}: add a new key first (or `partner disable`)"
            )));
        }
        let named = records
            .iter()
            .find(|r| r.hash == hash)
            .map(|r| r.prefix.clone());
        Ok(PartnerUpdate {
            api_key_hashes: Some(hashes.iter().filter(|h| **h != hash).cloned().collect()),
            remove_key_prefix: Some(named.unwrap_or_else(|| hash.chars().take(12).collect())),
            ..PartnerUpdate::default()
        })
    })
    .await?;
    Ok(upd.remove_key_prefix.unwrap_or_default())
}

/// `distributor-secret set ID`: a new distributor-API secret (printed once) replaces the old.
pub async fn set_distributor_secret(
    store: &dyn AdminStore,
    actor: &Actor,
    customer: &str,
    now: DateTime<Utc>,
) -> Result<String, OpsError> {
    let secret = secrets::generate(SecretKind::DistributorSecret);
    let hash = hash_key(&secret);
    update(
        store,
        actor,
        customer,
        "distributor_secret.set",
        now,
        |_| {
            Ok(PartnerUpdate {
                secret_key_hash: Some(hash.clone()),
                ..PartnerUpdate::default()
            })
        },
    )
    .await?;
    Ok(secret)
}

/// `reconcile-key add ID` (or `--all-partners`): a new export key, printed once.
pub async fn add_reconcile_key(
    store: &dyn AdminStore,
    actor: &Actor,
    scope: ReconcileScope,
    now: DateTime<Utc>,
) -> Result<(String, ReconcileKey), OpsError> {
    if let ReconcileScope::Partner(id) = &scope {
        get(store, id.as_str()).await?;
    }
    let secret = secrets::generate(SecretKind::ReconcileKey);
    let key = ReconcileKey {
        scope,
        key: key_record(&secret, actor, now),
    };
    let audit = AuditRecord::new(
        key.scope.as_str(),
        actor,
        "reconcile_key.add",
        Value::Null,
        json!({ "reconcile_key": key.key.prefix }),
        now,
    );
    store.add_reconcile_key(&key, &audit).await?;
    Ok((secret, key))
}

pub async fn revoke_reconcile_key(
    store: &dyn AdminStore,
    actor: &Actor,
    scope: ReconcileScope,
    prefix: &str,
    now: DateTime<Utc>,
) -> Result<String, OpsError> {
    if prefix.len() < MIN_PREFIX {
        return Err(refused(format!(
            "give at least {MIN_PREFIX} characters of the key (see `reconcile-key list`)"
        )));
    }
    let keys = store.reconcile_keys(&scope).await?;
    let matching: Vec<&ReconcileKey> = keys
        .iter()
        .filter(|k| k.key.prefix.starts_with(prefix))
        .collect();
    let key = match matching.as_slice() {
        [one] => *one,
        [] => {
            return Err(refused(format!(
                "no reconcile key of {} starts with {prefix}",
                scope.as_str()
            )))
        }
        _ => {
            return Err(refused(format!(
                "{prefix} matches several keys; give more characters"
            )))
        }
    };
    let audit = AuditRecord::new(
        scope.as_str(),
        actor,
        "reconcile_key.revoke",
        json!({ "reconcile_key": key.key.prefix }),
        Value::Null,
        now,
    );
    if !store.remove_reconcile_key(key, &audit).await? {
        return Err(refused(format!("{prefix} was already revoked")));
    }
    Ok(key.key.prefix.clone())
}
