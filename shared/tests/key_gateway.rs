//! The order of `key add` / `key revoke` with API Gateway (relier::ops::gateway) when the
//! gateway fails part-way: the store is DynamoDB Local; API Gateway is an in-memory fake of the
//! external service that can be told to fail a step (the happy path against moto's API Gateway
//! is infra/admin/tests/admin_cli.rs).

mod common;

use async_trait::async_trait;
use chrono::Utc;
use common::*;
use relier::adapters::dynamo::DynamoStore;
use relier::ops::gateway::{self, GatewayKey, GatewayKeys};
use relier::ops::keys;
use relier::ops::partners::{self, NewPartner};
use relier::ops::Actor;
use std::sync::Mutex;

fn ops() -> Actor {
    Actor("local:test".into())
}

/// API Gateway's keys and one usage plan, in memory; `fail` names a step that fails.
#[derive(Default)]
struct FakeGateway {
    keys: Mutex<Vec<(GatewayKey, String)>>,
    attached: Mutex<Vec<String>>,
    fail: Mutex<Option<&'static str>>,
}

impl FakeGateway {
    fn failing(step: &'static str) -> Self {
        let gw = Self::default();
        *gw.fail.lock().unwrap() = Some(step);
        gw
    }
    fn check(&self, step: &str) -> Result<(), String> {
        match *self.fail.lock().unwrap() {
            Some(s) if s == step => Err(format!("{step} failed (test)")),
            _ => Ok(()),
        }
    }
    fn names(&self) -> Vec<String> {
        self.keys
            .lock()
            .unwrap()
            .iter()
            .map(|(k, _)| k.name.clone())
            .collect()
    }
}

#[async_trait]
impl GatewayKeys for FakeGateway {
    async fn check_plan(&self, plan: &str) -> Result<(), String> {
        self.check("check_plan")?;
        (plan == "plan-1")
            .then_some(())
            .ok_or_else(|| "no such usage plan".to_owned())
    }
    async fn create_key(&self, name: &str, value: &str, _: &str) -> Result<String, String> {
        self.check("create_key")?;
        let mut keys = self.keys.lock().unwrap();
        let id = format!("k{}", keys.len() + 1);
        keys.push((
            GatewayKey {
                id: id.clone(),
                name: name.to_owned(),
            },
            value.to_owned(),
        ));
        Ok(id)
    }
    async fn attach(&self, _: &str, key_id: &str) -> Result<(), String> {
        self.check("attach")?;
        self.attached.lock().unwrap().push(key_id.to_owned());
        Ok(())
    }
    async fn find_keys(&self, prefix: &str) -> Result<Vec<GatewayKey>, String> {
        self.check("find_keys")?;
        Ok(self
            .keys
            .lock()
            .unwrap()
            .iter()
            .filter(|(k, _)| k.name.starts_with(prefix))
            .map(|(k, _)| k.clone())
            .collect())
    }
    async fn delete_key(&self, key_id: &str) -> Result<(), String> {
        self.check("delete_key")?;
        self.keys.lock().unwrap().retain(|(k, _)| k.id != key_id);
        self.attached.lock().unwrap().retain(|k| k != key_id);
        Ok(())
    }
}

async fn partner(store: &DynamoStore, id: &str) -> String {
    partners::create(
        store,
        &ops(),
        NewPartner {
            customer_id: id.into(),
            company_name: "Gateway Co".into(),
            ..NewPartner::default()
        },
        Utc::now(),
    )
    .await
    .unwrap()
    .api_key
}

async fn active_prefixes(store: &DynamoStore, id: &str) -> Vec<String> {
    keys::list_api_keys(store, store, id)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|k| k.prefix)
        .collect()
}

#[tokio::test]
async fn given_a_working_gateway_when_a_key_is_added_then_it_is_stored_printed_then_registered() {
    // GIVEN a partner and API Gateway with usage plan plan-1
    let store = store().await;
    let first = partner(&store, "GW_001").await;
    let gw = FakeGateway::default();
    // WHEN a key is added with the plan
    let mut printed = Vec::new();
    let (record, key) = gateway::add_api_key(
        store.as_ref(),
        &gw,
        "plan-1",
        &ops(),
        "GW_001",
        Utc::now(),
        &mut |secret, _| printed.push(secret.to_owned()),
    )
    .await
    .unwrap();
    // THEN the key was printed once, is stored, and API Gateway has it (same value) in the plan
    assert_eq!(printed.len(), 1);
    let prefix = relier::ops::secrets::prefix(&first);
    assert_eq!(
        active_prefixes(&store, "GW_001").await,
        vec![prefix.clone(), record.prefix.clone()]
    );
    assert_eq!(key.name, format!("relier-GW_001-{}", record.prefix));
    assert_eq!(gw.keys.lock().unwrap()[0].1, printed[0]);
    assert_eq!(*gw.attached.lock().unwrap(), vec![key.id.clone()]);
    // WHEN it is revoked THEN it is gone here and at the gateway
    let done = gateway::revoke_api_key(
        store.as_ref(),
        store.as_ref(),
        &gw,
        &ops(),
        "GW_001",
        &record.prefix,
        Utc::now(),
    )
    .await
    .unwrap();
    assert_eq!(done.prefix.as_deref(), Some(record.prefix.as_str()));
    assert_eq!(done.gateway_keys, vec![key]);
    assert!(gw.names().is_empty());
    assert_eq!(active_prefixes(&store, "GW_001").await, vec![prefix]);
}

#[tokio::test]
async fn given_an_unknown_usage_plan_when_a_key_is_added_then_nothing_is_stored_or_printed() {
    let store = store().await;
    partner(&store, "GW_002").await;
    let gw = FakeGateway::default();
    let mut printed = 0;
    // WHEN the plan does not exist
    let err = gateway::add_api_key(
        store.as_ref(),
        &gw,
        "plan-x",
        &ops(),
        "GW_002",
        Utc::now(),
        &mut |_, _| printed += 1,
    )
    .await
    .unwrap_err();
    // THEN it is refused before anything happened
    assert_eq!(err.to_string(), "usage plan plan-x: no such usage plan");
    assert_eq!(printed, 0);
    assert_eq!(active_prefixes(&store, "GW_002").await.len(), 1);
    assert!(gw.names().is_empty());
}

#[tokio::test]
async fn given_attaching_fails_when_a_key_is_added_then_it_is_revoked_again_and_deleted_there() {
    // GIVEN API Gateway that creates keys but cannot attach them to the plan
    let store = store().await;
    let first = partner(&store, "GW_003").await;
    let gw = FakeGateway::failing("attach");
    // WHEN a key is added
    let mut printed = Vec::new();
    let err = gateway::add_api_key(
        store.as_ref(),
        &gw,
        "plan-1",
        &ops(),
        "GW_003",
        Utc::now(),
        &mut |secret, _| printed.push(secret.to_owned()),
    )
    .await
    .unwrap_err()
    .to_string();
    // THEN it had been printed (it was stored), the gateway key was deleted again, and the key
    // revoked here again: nothing usable is left, and the error says all of it on one line
    assert_eq!(printed.len(), 1);
    let prefix = relier::ops::secrets::prefix(&printed[0]);
    assert!(gw.names().is_empty());
    assert_eq!(
        active_prefixes(&store, "GW_003").await,
        vec![relier::ops::secrets::prefix(&first)]
    );
    assert!(
        err.contains("attach failed (test); deleted it again"),
        "{err}"
    );
    assert!(
        err.contains(&format!("key {prefix} was revoked again: discard it")),
        "{err}"
    );
    assert!(!err.contains('\n'));
}

#[tokio::test]
async fn given_the_gateway_delete_fails_when_a_key_is_revoked_then_it_is_401_and_a_rerun_cleans_up()
{
    // GIVEN a partner with two keys, both at API Gateway
    let store = store().await;
    partner(&store, "GW_004").await;
    let gw = FakeGateway::default();
    let (record, _) = gateway::add_api_key(
        store.as_ref(),
        &gw,
        "plan-1",
        &ops(),
        "GW_004",
        Utc::now(),
        &mut |_, _| {},
    )
    .await
    .unwrap();
    // WHEN the second is revoked while API Gateway cannot delete keys
    *gw.fail.lock().unwrap() = Some("delete_key");
    let err = gateway::revoke_api_key(
        store.as_ref(),
        store.as_ref(),
        &gw,
        &ops(),
        "GW_004",
        &record.prefix,
        Utc::now(),
    )
    .await
    .unwrap_err()
    .to_string();
    // THEN it is revoked here all the same (refused from now on) and the error says to rerun
    assert!(!active_prefixes(&store, "GW_004")
        .await
        .contains(&record.prefix));
    assert!(err.contains("is revoked (401 from now on)"), "{err}");
    assert_eq!(gw.names().len(), 1);
    // WHEN the revoke is run again once API Gateway works
    *gw.fail.lock().unwrap() = None;
    let done = gateway::revoke_api_key(
        store.as_ref(),
        store.as_ref(),
        &gw,
        &ops(),
        "GW_004",
        &record.prefix,
        Utc::now(),
    )
    .await
    .unwrap();
    // THEN only the leftover gateway key is deleted
    assert_eq!(done.prefix, None);
    assert_eq!(done.gateway_keys.len(), 1);
    assert!(gw.names().is_empty());
}

#[tokio::test]
async fn given_the_last_key_when_revoked_with_the_gateway_then_refused_and_its_gateway_key_stays() {
    // GIVEN a partner whose only key is at API Gateway
    let store = store().await;
    let key = partner(&store, "GW_005").await;
    let prefix = relier::ops::secrets::prefix(&key);
    let gw = FakeGateway::default();
    gateway::register_first_key(&gw, "plan-1", "GW_005", &key, &prefix)
        .await
        .unwrap();
    // WHEN its revoke is asked for
    let err = gateway::revoke_api_key(
        store.as_ref(),
        store.as_ref(),
        &gw,
        &ops(),
        "GW_005",
        &prefix,
        Utc::now(),
    )
    .await
    .unwrap_err();
    // THEN it is refused and the gateway key is untouched
    assert!(err.to_string().contains("only key"), "{err}");
    assert_eq!(gw.names(), vec![format!("relier-GW_005-{prefix}")]);
}
