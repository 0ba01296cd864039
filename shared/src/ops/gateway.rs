//! Partner keys at API Gateway (`relier-admin ... --usage-plan-id ID` or `--stack NAME`): every
//! partner key is also an API Gateway API key in the stack's usage plan, named
//! `relier-<customer>-<key prefix>` (so two keys of a partner coexist during a rotation).
//!
//! Order, so that a failure never leaves a key usable at the gateway but unknown to us, nor
//! stored here but printed nowhere:
//! - add: store the hash (audited) → print the key → create the gateway key → attach it to the
//!   plan. A gateway failure deletes what was created there and revokes the new key here again
//!   (both reported); until the gateway step succeeded the key is refused (401) at the gateway.
//! - revoke: revoke here first (401 from then on) → delete the gateway key. A gateway failure
//!   leaves an API Gateway key that no request can use (we refuse it); `key revoke` again
//!   deletes it.

use super::keys::{self, list_api_keys, KeyUses};
use super::ports::{AdminStore, KeyRecord};
use super::{refused, Actor, OpsError};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// An API Gateway API key (id and name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayKey {
    pub id: String,
    pub name: String,
}

/// API Gateway's API keys and usage plans (port; the SDK adapter is relier-admin's). Errors
/// are one-line reasons.
#[async_trait]
pub trait GatewayKeys: Send + Sync {
    /// Does the usage plan exist? (Asked before anything is stored.)
    async fn check_plan(&self, usage_plan_id: &str) -> Result<(), String>;
    /// Create an enabled API key with this value, tagged with the customer.
    async fn create_key(&self, name: &str, value: &str, customer: &str) -> Result<String, String>;
    /// Put the key in the usage plan.
    async fn attach(&self, usage_plan_id: &str, key_id: &str) -> Result<(), String>;
    /// Keys whose name starts with `name_prefix`.
    async fn find_keys(&self, name_prefix: &str) -> Result<Vec<GatewayKey>, String>;
    /// Delete the key (which also takes it out of every usage plan).
    async fn delete_key(&self, key_id: &str) -> Result<(), String>;
}

/// The gateway key's name of a partner key.
pub fn key_name(customer: &str, key_prefix: &str) -> String {
    format!("relier-{customer}-{key_prefix}")
}

/// Create the gateway key and attach it; if attaching fails, delete it again.
pub async fn register(
    gw: &dyn GatewayKeys,
    usage_plan_id: &str,
    customer: &str,
    secret: &str,
    key_prefix: &str,
) -> Result<GatewayKey, String> {
    let name = key_name(customer, key_prefix);
    let id = gw
        .create_key(&name, secret, customer)
        .await
        .map_err(|e| format!("creating API Gateway key {name}: {e}"))?;
    if let Err(e) = gw.attach(usage_plan_id, &id).await {
        let cleanup = match gw.delete_key(&id).await {
            Ok(()) => "deleted it again".to_owned(),
            Err(d) => format!("deleting it again failed too ({d}): delete API key {id} by hand"),
        };
        return Err(format!(
            "attaching API Gateway key {name} to usage plan {usage_plan_id}: {e}; {cleanup}"
        ));
    }
    Ok(GatewayKey { id, name })
}

/// Delete the gateway keys of this partner key: `relier-<customer>-<prefix>…`, and the names
/// the former `infra/register-partner-key.sh` used (`relier-<stack>-<customer>-<prefix>`).
pub async fn deregister(
    gw: &dyn GatewayKeys,
    customer: &str,
    key_prefix: &str,
) -> Result<Vec<GatewayKey>, String> {
    let suffix = format!("-{customer}-{key_prefix}");
    let found = gw
        .find_keys("relier-")
        .await
        .map_err(|e| format!("listing API Gateway keys: {e}"))?;
    let mut deleted = Vec::new();
    for key in found.into_iter().filter(|k| {
        k.name.starts_with(&key_name(customer, key_prefix)) || k.name.ends_with(&suffix)
    }) {
        gw.delete_key(&key.id)
            .await
            .map_err(|e| format!("deleting API Gateway key {} ({}): {e}", key.name, key.id))?;
        deleted.push(key);
    }
    Ok(deleted)
}

/// `partner create` with a usage plan: the partner and its first key are stored and printed
/// already; register the key. On failure the partner stays (its key refused at the gateway).
pub async fn register_first_key(
    gw: &dyn GatewayKeys,
    usage_plan_id: &str,
    customer: &str,
    secret: &str,
    key_prefix: &str,
) -> Result<GatewayKey, OpsError> {
    register(gw, usage_plan_id, customer, secret, key_prefix)
        .await
        .map_err(|e| {
            refused(format!(
                "partner {customer} was created and its key printed, but {e}: the key is refused at the gateway; run `key add {customer}` with the usage plan, then `key revoke {customer} {key_prefix}`"
            ))
        })
}

/// The usage plan exists (checked before anything is stored: a wrong `--usage-plan-id` or
/// stack changes nothing).
pub async fn check_plan(gw: &dyn GatewayKeys, usage_plan_id: &str) -> Result<(), OpsError> {
    gw.check_plan(usage_plan_id)
        .await
        .map_err(|e| refused(format!("usage plan {usage_plan_id}: {e}")))
}

/// `key add ID` with a usage plan. `shown` prints the key as soon as it is stored (before the
/// gateway is asked), so a stored key is always printed.
#[allow(clippy::too_many_arguments)]
pub async fn add_api_key(
    store: &dyn AdminStore,
    gw: &dyn GatewayKeys,
    usage_plan_id: &str,
    actor: &Actor,
    customer: &str,
    now: DateTime<Utc>,
    shown: &mut (dyn FnMut(&str, &KeyRecord) + Send),
) -> Result<(KeyRecord, GatewayKey), OpsError> {
    check_plan(gw, usage_plan_id).await?;
    let (secret, record) = keys::add_api_key(store, actor, customer, now).await?;
    shown(&secret, &record);
    match register(gw, usage_plan_id, customer, &secret, &record.prefix).await {
        Ok(key) => Ok((record, key)),
        Err(e) => {
            let undo = match keys::revoke_api_key(store, actor, customer, &record.prefix, now).await
            {
                Ok(_) => format!("key {} was revoked again: discard it", record.prefix),
                Err(r) => format!(
                    "revoking key {} again failed too ({r}): run `key revoke {customer} {}`",
                    record.prefix, record.prefix
                ),
            };
            Err(refused(format!("{e}; {undo}")))
        }
    }
}

/// What `key revoke` did at the gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revoked {
    /// The revoked key's prefix (None: it was already revoked here, only the gateway was cleaned).
    pub prefix: Option<String>,
    pub gateway_keys: Vec<GatewayKey>,
}

/// `key revoke ID PREFIX` with the gateway: revoke here, then delete the gateway key. A key that
/// was already revoked here (an earlier gateway failure) only has its gateway key deleted.
pub async fn revoke_api_key(
    store: &dyn AdminStore,
    uses: &dyn KeyUses,
    gw: &dyn GatewayKeys,
    actor: &Actor,
    customer: &str,
    prefix: &str,
    now: DateTime<Utc>,
) -> Result<Revoked, OpsError> {
    match keys::revoke_api_key(store, actor, customer, prefix, now).await {
        Ok(revoked) => {
            let gateway_keys = deregister(gw, customer, &revoked)
                .await
                .map_err(|e| {
                    refused(format!(
                        "key {revoked} of {customer} is revoked (401 from now on), but {e}: run `key revoke {customer} {revoked}` again to delete its API Gateway key"
                    ))
                })?;
            Ok(Revoked {
                prefix: Some(revoked),
                gateway_keys,
            })
        }
        Err(OpsError::Refused(why)) => {
            // Still active here (ambiguous, the last key ...): never touch its gateway key.
            let active = list_api_keys(store, uses, customer).await?;
            let still_active = active.iter().any(|k| {
                k.prefix.as_deref().is_some_and(|p| p.starts_with(prefix))
                    || k.hash_prefix.starts_with(&prefix.to_ascii_lowercase())
            });
            if still_active || prefix.len() < 8 {
                return Err(OpsError::Refused(why));
            }
            let gateway_keys = deregister(gw, customer, prefix).await.map_err(refused)?;
            if gateway_keys.is_empty() {
                return Err(OpsError::Refused(why));
            }
            Ok(Revoked {
                prefix: None,
                gateway_keys,
            })
        }
        Err(e) => Err(e),
    }
}
