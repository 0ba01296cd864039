//! Partner records: create (with its first API key), read, list, and versioned settings
//! updates (with key rotation) — each with its audit record in the same transaction.

use super::super::codec::{
    account_item, corrupt, n, nu, opt_dec, opt_time, parse_account, s, ts, unavailable,
};
use super::super::keys::{account_pk, pk_sk};
use super::super::pages::Page;
use super::super::schema::{PARTNERS_INDEX, PARTNERS_INDEX_KEYS};
use super::super::{DynamoStore, Item};
use super::audit::audit_put;
use super::keys::{api_keys_pk, key_item};
use super::{delete, put};
use crate::domain::{Account, CustomerId};
use crate::ops::ports::{KeyRecord, PartnerRecord, PartnerUpdate};
use crate::ops::AuditRecord;
use crate::ports::StoreError;
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};
use std::collections::HashMap;

fn parse_partner(item: &Item) -> Result<PartnerRecord, StoreError> {
    Ok(PartnerRecord {
        account: parse_account(item)?,
        low_balance_threshold_usd: opt_dec(item, "low_balance_threshold_usd")?,
        config_version: opt_dec(item, "cfg_version")?
            .unwrap_or_default()
            .try_into()
            .map_err(|_| corrupt("cfg_version"))?,
        created_at: opt_time(item, "created_at")?,
    })
}

/// SET / REMOVE clauses of a settings update, with placeholder names and values.
#[derive(Default)]
struct UpdateExpr {
    set: Vec<String>,
    remove: Vec<String>,
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

impl UpdateExpr {
    fn set(&mut self, attr: &str, value: AttributeValue) {
        let i = self.names.len();
        self.names.insert(format!("#a{i}"), attr.to_owned());
        self.values.insert(format!(":v{i}"), value);
        self.set.push(format!("#a{i} = :v{i}"));
    }
    fn set_opt(&mut self, attr: &str, value: Option<AttributeValue>) {
        match value {
            Some(v) => self.set(attr, v),
            None => {
                let i = self.names.len();
                self.names.insert(format!("#a{i}"), attr.to_owned());
                self.remove.push(format!("#a{i}"));
            }
        }
    }
    fn expression(&self) -> String {
        let mut e = format!("SET {}", self.set.join(", "));
        if !self.remove.is_empty() {
            e.push_str(&format!(" REMOVE {}", self.remove.join(", ")));
        }
        e
    }
}

fn settings_expr(upd: &PartnerUpdate, next_version: u64) -> UpdateExpr {
    let st = &upd.settings;
    let mut e = UpdateExpr::default();
    e.set("cfg_version", nu(next_version));
    // (re)attach accounts written before the `partners` index existed
    e.set(PARTNERS_INDEX_KEYS.0, s(super::super::PARTNER_ENTITY));
    if let Some(v) = &st.company_name {
        e.set("company_name", s(v.trim()));
    }
    if let Some(v) = st.credit_limit {
        e.set("credit_limit", n(v));
    }
    if let Some(v) = st.overdraft_usd {
        e.set("overdraft_usd", n(v));
    }
    if let Some(v) = st.commission {
        e.set("commission_rate", n(v.value()));
    }
    if let Some(v) = st.daily_limit_mxn {
        e.set_opt("daily_limit_mxn", v.map(n));
    }
    if let Some(v) = st.daily_limit_per_phone_mxn {
        e.set_opt("daily_limit_per_phone_mxn", v.map(n));
    }
    if let Some(v) = st.max_topups_per_minute {
        e.set_opt(
            "max_topups_per_minute",
            v.filter(|m| *m > 0).map(|m| nu(m as u64)),
        );
    }
    if let Some(v) = st.max_requests_per_15min {
        e.set_opt("max_requests_per_15min", v.map(|m| nu(m as u64)));
    }
    if let Some(v) = &st.allowed_ips {
        e.set_opt(
            "allowed_ips",
            (!v.is_empty()).then(|| AttributeValue::L(v.iter().map(s).collect())),
        );
    }
    if let Some(v) = st.low_balance_threshold_usd {
        e.set_opt("low_balance_threshold_usd", v.map(n));
        // a new threshold re-arms balance.low (the next debit below it alerts once)
        e.set("low_balance_alerted", AttributeValue::Bool(false));
    }
    if let Some(v) = st.active {
        e.set("status", s(if v { "ACTIVE" } else { "DISABLED" }));
    }
    if let Some(h) = &upd.api_key_hashes {
        e.set(
            "api_key_hashes",
            AttributeValue::L(h.iter().map(s).collect()),
        );
    }
    if let Some(h) = &upd.secret_key_hash {
        e.set("secret_key_hash", s(h));
    }
    e
}

pub(super) async fn create_partner(
    store: &DynamoStore,
    account: &Account,
    key: &KeyRecord,
    audit: &AuditRecord,
) -> Result<bool, StoreError> {
    let mut item = account_item(account);
    item.insert("cfg_version".into(), nu(0));
    item.insert("created_at".into(), ts(audit.at));
    let customer = account.customer_id.as_str();
    let items = vec![
        put(
            &store.accounts_table,
            item,
            Some("attribute_not_exists(pk)"),
        )?,
        put(
            &store.accounts_table,
            key_item(&api_keys_pk(customer), key),
            None,
        )?,
        audit_put(&store.accounts_table, audit)?,
    ];
    match store.transact(items).await? {
        None => Ok(true),
        Some(f) if f[0] => Ok(false),
        Some(_) => Err(StoreError::Unavailable(
            "partner create did not commit; retry".into(),
        )),
    }
}

pub(super) async fn get_partner(
    store: &DynamoStore,
    customer: &CustomerId,
) -> Result<Option<PartnerRecord>, StoreError> {
    store
        .get_item(
            &store.accounts_table,
            pk_sk(&account_pk(customer.as_str()), "ACCOUNT"),
        )
        .await?
        .map(|item| parse_partner(&item))
        .transpose()
}

pub(super) async fn list_partners(store: &DynamoStore) -> Result<Vec<PartnerRecord>, StoreError> {
    store
        .all_pages(|start| {
            let query = store
                .client
                .query()
                .table_name(&store.accounts_table)
                .index_name(PARTNERS_INDEX)
                .key_condition_expression("#e = :e")
                .expression_attribute_names("#e", PARTNERS_INDEX_KEYS.0)
                .expression_attribute_values(":e", s(super::super::PARTNER_ENTITY))
                .set_exclusive_start_key(start);
            async move { query.send().await.map(Page::from).map_err(unavailable) }
        })
        .await?
        .iter()
        .map(parse_partner)
        .collect()
}

pub(super) async fn update_partner(
    store: &DynamoStore,
    customer: &CustomerId,
    expected: u64,
    upd: &PartnerUpdate,
    audit: &AuditRecord,
) -> Result<bool, StoreError> {
    let e = settings_expr(upd, expected + 1);
    let condition = if expected == 0 {
        "attribute_exists(pk) AND (attribute_not_exists(cfg_version) OR cfg_version = :cv)"
    } else {
        "attribute_exists(pk) AND cfg_version = :cv"
    };
    let mut values = e.values.clone();
    values.insert(":cv".into(), nu(expected));
    let mut items = vec![TransactWriteItem::builder()
        .update(
            Update::builder()
                .table_name(&store.accounts_table)
                .set_key(Some(pk_sk(&account_pk(customer.as_str()), "ACCOUNT")))
                .update_expression(e.expression())
                .condition_expression(condition)
                .set_expression_attribute_names(Some(e.names.clone()))
                .set_expression_attribute_values(Some(values))
                .build()
                .map_err(corrupt)?,
        )
        .build()];
    let keys_pk = api_keys_pk(customer.as_str());
    if let Some(k) = &upd.add_key {
        items.push(put(&store.accounts_table, key_item(&keys_pk, k), None)?);
    }
    if let Some(p) = &upd.remove_key_prefix {
        items.push(delete(
            &store.accounts_table,
            pk_sk(&keys_pk, &format!("KEY#{p}")),
            None,
        )?);
    }
    items.push(audit_put(&store.accounts_table, audit)?);
    Ok(store.transact(items).await?.is_none())
}
