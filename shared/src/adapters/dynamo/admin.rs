//! The operations store (`ops::ports::AdminStore`) on DynamoDB. Item layout (accounts table):
//!   ACCOUNT#{customer}          ACCOUNT          + cfg_version, created_at, low_balance_threshold_usd
//!   APIKEY#{customer}           KEY#{prefix}     API key metadata (hash, created, by whom)
//!   RECONKEY#{sha256}           RECONKEY         reconcile key -> scope (customer or `*`)
//!   RECONKEYS#{scope}           KEY#{prefix}     reconcile keys of a scope (listing)
//!   BALREF#{customer}#{ref}     BALREF           credit/adjustment reference claim
//!   AUDIT#{customer or *}       {at}#{random}    append-only audit record

use super::codec::{
    account_item, corrupt, get_dec, get_s, n, nu, opt_dec, opt_s, opt_time, parse_account, s, ts,
    unavailable,
};
use super::keys::{account_pk, pk_sk};
use super::parts::{
    backoff, classify, failed, ledger_item, ledger_put_item, ledger_time, Cancel, MAX_ATTEMPTS,
    RETRY_BUDGET,
};
use super::{DynamoStore, Item};
use crate::adapters::dynamo::schema::{PARTNERS_INDEX, PARTNERS_INDEX_KEYS};
use crate::domain::Account;
use crate::domain::{CustomerId, TransactionId};
use crate::ops::ports::{
    AdminStore, BalanceChange, BalanceOutcome, KeyRecord, PartnerRecord, PartnerUpdate,
    ReconcileKey, ReconcileScope,
};
use crate::ops::AuditRecord;
use crate::ports::{AccountReader, StoreError};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem, Update};
use rand::Rng;
use rust_decimal::Decimal;
use std::collections::HashMap;

fn put(table: &str, item: Item, condition: Option<&str>) -> Result<TransactWriteItem, StoreError> {
    Ok(TransactWriteItem::builder()
        .put(
            Put::builder()
                .table_name(table)
                .set_item(Some(item))
                .set_condition_expression(condition.map(str::to_owned))
                .build()
                .map_err(corrupt)?,
        )
        .build())
}

fn delete(
    table: &str,
    key: Item,
    condition: Option<&str>,
) -> Result<TransactWriteItem, StoreError> {
    Ok(TransactWriteItem::builder()
        .delete(
            Delete::builder()
                .table_name(table)
                .set_key(Some(key))
                .set_condition_expression(condition.map(str::to_owned))
                .build()
                .map_err(corrupt)?,
        )
        .build())
}

pub(super) fn audit_item(a: &AuditRecord) -> Item {
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

fn key_item(pk: &str, k: &KeyRecord) -> Item {
    let mut item = pk_sk(pk, &format!("KEY#{}", k.prefix));
    item.insert("hash".into(), s(&k.hash));
    item.insert("prefix".into(), s(&k.prefix));
    item.insert("created_at".into(), ts(k.created_at));
    item.insert("created_by".into(), s(&k.created_by));
    item
}

fn parse_key(item: &Item) -> Result<KeyRecord, StoreError> {
    Ok(KeyRecord {
        prefix: get_s(item, "prefix")?,
        hash: get_s(item, "hash")?,
        created_at: opt_time(item, "created_at")?.ok_or_else(|| corrupt("key created_at"))?,
        created_by: opt_s(item, "created_by")?.unwrap_or_default(),
    })
}

fn api_keys_pk(customer: &str) -> String {
    format!("APIKEY#{customer}")
}
pub(super) fn reconcile_key_pk(hash: &str) -> String {
    format!("RECONKEY#{hash}")
}
fn reconcile_list_pk(scope: &ReconcileScope) -> String {
    format!("RECONKEYS#{}", scope.as_str())
}
fn balance_ref_pk(customer: &str, reference: &str) -> String {
    format!("BALREF#{customer}#{reference}")
}

pub(super) fn parse_reconcile_key(item: &Item) -> Result<ReconcileKey, StoreError> {
    Ok(ReconcileKey {
        scope: ReconcileScope::parse(&get_s(item, "scope")?).map_err(corrupt)?,
        key: parse_key(item)?,
    })
}

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
    e.set(PARTNERS_INDEX_KEYS.0, s(super::PARTNER_ENTITY));
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

impl DynamoStore {
    async fn transact(
        &self,
        items: Vec<TransactWriteItem>,
    ) -> Result<Option<Vec<bool>>, StoreError> {
        self.write();
        let n_items = items.len();
        match self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
        {
            Ok(_) => Ok(None),
            Err(e) => match classify(e)? {
                Cancel::Retry => Ok(Some(vec![false; n_items])),
                Cancel::Reasons(r) => Ok(Some((0..n_items).map(|i| failed(&r, i)).collect())),
            },
        }
    }

    async fn query_all(&self, pk: &str) -> Result<Vec<Item>, StoreError> {
        let mut out = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            self.read();
            let page = self
                .client
                .query()
                .table_name(&self.accounts_table)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", s(pk))
                .consistent_read(true)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(unavailable)?;
            out.extend(page.items().iter().cloned());
            match page.last_evaluated_key() {
                Some(k) if !k.is_empty() => start = Some(k.clone()),
                _ => break,
            }
        }
        Ok(out)
    }

    async fn claimed_change(
        &self,
        change: &BalanceChange,
    ) -> Result<Option<BalanceOutcome>, StoreError> {
        let pk = balance_ref_pk(change.customer_id.as_str(), &change.reference);
        let Some(item) = self
            .get_item(&self.accounts_table, pk_sk(&pk, "BALREF"))
            .await?
        else {
            return Ok(None);
        };
        let kind = get_s(&item, "kind")?;
        let amount = get_dec(&item, "amount_usd")?;
        if kind == change.kind.as_str() && amount == change.amount_usd {
            Ok(Some(BalanceOutcome::AlreadyApplied {
                id: get_s(&item, "transaction_id")?,
                seq: get_dec(&item, "seq")?
                    .try_into()
                    .map_err(|_| corrupt("seq"))?,
            }))
        } else {
            Ok(Some(BalanceOutcome::ReferenceConflict {
                kind,
                amount_usd: amount,
            }))
        }
    }
}

#[async_trait]
impl AdminStore for DynamoStore {
    async fn create_partner(
        &self,
        account: &Account,
        key: &KeyRecord,
        audit: &AuditRecord,
    ) -> Result<bool, StoreError> {
        let mut item = account_item(account);
        item.insert("cfg_version".into(), nu(0));
        item.insert("created_at".into(), ts(audit.at));
        let customer = account.customer_id.as_str();
        let items = vec![
            put(&self.accounts_table, item, Some("attribute_not_exists(pk)"))?,
            put(
                &self.accounts_table,
                key_item(&api_keys_pk(customer), key),
                None,
            )?,
            put(
                &self.accounts_table,
                audit_item(audit),
                Some("attribute_not_exists(pk)"),
            )?,
        ];
        match self.transact(items).await? {
            None => Ok(true),
            Some(f) if f[0] => Ok(false),
            Some(_) => Err(StoreError::Unavailable(
                "partner create did not commit; retry".into(),
            )),
        }
    }

    async fn get_partner(
        &self,
        customer: &CustomerId,
    ) -> Result<Option<PartnerRecord>, StoreError> {
        self.get_item(
            &self.accounts_table,
            pk_sk(&account_pk(customer.as_str()), "ACCOUNT"),
        )
        .await?
        .map(|item| parse_partner(&item))
        .transpose()
    }

    async fn list_partners(&self) -> Result<Vec<PartnerRecord>, StoreError> {
        let mut out = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            self.read();
            let page = self
                .client
                .query()
                .table_name(&self.accounts_table)
                .index_name(PARTNERS_INDEX)
                .key_condition_expression("#e = :e")
                .expression_attribute_names("#e", PARTNERS_INDEX_KEYS.0)
                .expression_attribute_values(":e", s(super::PARTNER_ENTITY))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(unavailable)?;
            for item in page.items() {
                out.push(parse_partner(item)?);
            }
            match page.last_evaluated_key() {
                Some(k) if !k.is_empty() => start = Some(k.clone()),
                _ => break,
            }
        }
        Ok(out)
    }

    async fn update_partner(
        &self,
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
                    .table_name(&self.accounts_table)
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
            items.push(put(&self.accounts_table, key_item(&keys_pk, k), None)?);
        }
        if let Some(p) = &upd.remove_key_prefix {
            items.push(delete(
                &self.accounts_table,
                pk_sk(&keys_pk, &format!("KEY#{p}")),
                None,
            )?);
        }
        items.push(put(
            &self.accounts_table,
            audit_item(audit),
            Some("attribute_not_exists(pk)"),
        )?);
        Ok(self.transact(items).await?.is_none())
    }

    async fn api_keys(&self, customer: &CustomerId) -> Result<Vec<KeyRecord>, StoreError> {
        self.query_all(&api_keys_pk(customer.as_str()))
            .await?
            .iter()
            .map(parse_key)
            .collect()
    }

    async fn add_reconcile_key(
        &self,
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
                &self.accounts_table,
                by_hash,
                Some("attribute_not_exists(pk)"),
            )?,
            put(&self.accounts_table, listed, None)?,
            put(
                &self.accounts_table,
                audit_item(audit),
                Some("attribute_not_exists(pk)"),
            )?,
        ];
        match self.transact(items).await? {
            None => Ok(()),
            Some(_) => Err(StoreError::Unavailable(
                "reconcile key not stored; retry".into(),
            )),
        }
    }

    async fn reconcile_keys(
        &self,
        scope: &ReconcileScope,
    ) -> Result<Vec<ReconcileKey>, StoreError> {
        self.query_all(&reconcile_list_pk(scope))
            .await?
            .iter()
            .map(parse_reconcile_key)
            .collect()
    }

    async fn remove_reconcile_key(
        &self,
        key: &ReconcileKey,
        audit: &AuditRecord,
    ) -> Result<bool, StoreError> {
        let items = vec![
            delete(
                &self.accounts_table,
                pk_sk(&reconcile_key_pk(&key.key.hash), "RECONKEY"),
                Some("attribute_exists(pk)"),
            )?,
            delete(
                &self.accounts_table,
                pk_sk(
                    &reconcile_list_pk(&key.scope),
                    &format!("KEY#{}", key.key.prefix),
                ),
                None,
            )?,
            put(
                &self.accounts_table,
                audit_item(audit),
                Some("attribute_not_exists(pk)"),
            )?,
        ];
        match self.transact(items).await? {
            None => Ok(true),
            Some(f) if f[0] => Ok(false),
            Some(_) => Err(StoreError::Unavailable(
                "reconcile key not revoked; retry".into(),
            )),
        }
    }

    async fn apply_balance_change(
        &self,
        change: &BalanceChange,
    ) -> Result<BalanceOutcome, StoreError> {
        let customer = change.customer_id.as_str();
        let claim_pk = balance_ref_pk(customer, &change.reference);
        let id = TransactionId::generate();
        let lock = self.account_lock(customer);
        let _serialized = lock.lock().await;
        let started = std::time::Instant::now();
        for attempt in 0..MAX_ATTEMPTS {
            if started.elapsed() > RETRY_BUDGET {
                break;
            }
            let Some(account) = self.get_account(&change.customer_id).await? else {
                return Ok(BalanceOutcome::UnknownPartner);
            };
            let before = account.balance;
            let after = before + change.amount_usd;
            let floor = Decimal::ZERO - account.overdraft_usd;
            if change.amount_usd < Decimal::ZERO && after < floor {
                // A replay of an applied reference wins over the floor.
                if let Some(done) = self.claimed_change(change).await? {
                    return Ok(done);
                }
                return Ok(BalanceOutcome::BelowFloor {
                    balance: before,
                    floor,
                });
            }
            let seq = account.version + 1;
            let at = ledger_time(change.at, account.updated_at);
            let kind = change.kind.as_str();
            let mut line = ledger_item(
                customer,
                seq,
                &id,
                kind,
                change.amount_usd,
                before,
                after,
                at,
            );
            line.insert("reference".into(), s(&change.reference));
            if let Some(note) = &change.note {
                line.insert("note".into(), s(note));
            }
            line.insert("actor".into(), s(&change.actor.0));
            let mut claim = pk_sk(&claim_pk, "BALREF");
            claim.insert("transaction_id".into(), s(id.as_str()));
            claim.insert("kind".into(), s(kind));
            claim.insert("amount_usd".into(), n(change.amount_usd));
            claim.insert("seq".into(), nu(seq));
            claim.insert("created_at".into(), ts(at));
            let audit = AuditRecord {
                customer_id: customer.to_owned(),
                at,
                actor: change.actor.0.clone(),
                action: if kind == "CREDIT" { "credit" } else { "adjust" }.to_owned(),
                before: serde_json::json!({ "balance_usd": before.to_string(), "version": account.version }),
                after: serde_json::json!({
                    "balance_usd": after.to_string(), "version": seq, "ledger_seq": seq,
                    "kind": kind, "amount_usd": change.amount_usd.to_string(),
                    "reference": change.reference, "note": change.note, "transaction_id": id.as_str(),
                }),
            };
            // Webhooks: a credit back to or above the balance.low threshold re-arms the alert;
            // a CREDIT emits balance.credited (outbox, same transaction).
            let rearm = account.low_balance_alerted && after >= account.low_balance_threshold();
            let credited = (kind == "CREDIT").then(|| {
                crate::webhooks::OutboxEvent::balance_credited(
                    customer,
                    change.amount_usd,
                    before,
                    after,
                    &change.reference,
                    at,
                )
            });
            let mut items = vec![
                // 0: the balance, version-checked, exactly as a top-up's debit.
                TransactWriteItem::builder()
                    .update(
                        Update::builder()
                            .table_name(&self.accounts_table)
                            .set_key(Some(pk_sk(&account_pk(customer), "ACCOUNT")))
                            .update_expression(if rearm {
                                "SET balance = :after, version = :seq, updated_at = :now, \
                                 low_balance_alerted = :armed"
                            } else {
                                "SET balance = :after, version = :seq, updated_at = :now"
                            })
                            .set_expression_attribute_values(Some(if rearm {
                                HashMap::from([(":armed".to_owned(), AttributeValue::Bool(false))])
                            } else {
                                HashMap::new()
                            }))
                            .condition_expression("version = :v AND balance = :before")
                            .expression_attribute_values(":after", n(after))
                            .expression_attribute_values(":before", n(before))
                            .expression_attribute_values(":seq", nu(seq))
                            .expression_attribute_values(":v", nu(account.version))
                            .expression_attribute_values(":now", ts(at))
                            .build()
                            .map_err(corrupt)?,
                    )
                    .build(),
                // 1: the reference claim (idempotency).
                put(
                    &self.accounts_table,
                    claim,
                    Some("attribute_not_exists(pk)"),
                )?,
                // 2: the ledger line, sequence = new version.
                ledger_put_item(&self.accounts_table, line)?,
                // 3: the audit record.
                put(
                    &self.accounts_table,
                    audit_item(&audit),
                    Some("attribute_not_exists(pk)"),
                )?,
            ];
            if let Some(event) = &credited {
                items.push(super::webhooks::outbox_put(&self.accounts_table, event)?);
            }
            match self.transact(items).await? {
                None => {
                    if let Some(event) = &credited {
                        self.poke_dispatcher(&[event]).await;
                    }
                    return Ok(BalanceOutcome::Applied {
                        id,
                        seq,
                        balance_before: before,
                        balance_after: after,
                    });
                }
                Some(f) if f[1] => {
                    if let Some(done) = self.claimed_change(change).await? {
                        return Ok(done);
                    }
                }
                Some(_) => {}
            }
            backoff(attempt).await;
        }
        Err(StoreError::Unavailable(
            "balance change did not commit after repeated conflicts".into(),
        ))
    }

    async fn audit_records(&self, subject: &str) -> Result<Vec<AuditRecord>, StoreError> {
        self.query_all(&format!("AUDIT#{subject}"))
            .await?
            .iter()
            .map(parse_audit)
            .collect()
    }
}
