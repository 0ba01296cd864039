//! Onboarding and partner settings: create (with a first API key), show, list, set,
//! disable / enable. Settings changes are conditioned on the partner's config version.

use super::ports::{AdminStore, KeyRecord, PartnerRecord, PartnerSettings, PartnerUpdate};
use super::secrets::{self, SecretKind};
use super::{refused, Actor, AuditRecord, OpsError};
use crate::api::json::{money, timestamp};
use crate::domain::credentials::hash_key;
use crate::domain::Account;
use crate::domain::{Commission, CustomerId};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::{json, Value};

/// How many times a settings change is retried when another admin changed the partner.
const CONFLICT_RETRIES: usize = 5;

#[derive(Debug, Clone, Default)]
pub struct NewPartner {
    pub customer_id: String,
    pub company_name: String,
    /// Shown by `/api/balance` (accounts are prepaid unless `overdraft_usd` > 0).
    pub credit_limit: Decimal,
    pub overdraft_usd: Decimal,
    /// Percent (5 = 5 %).
    pub commission_percent: Decimal,
    pub daily_limit_mxn: Option<Decimal>,
    pub daily_limit_per_phone_mxn: Option<Decimal>,
    pub max_topups_per_minute: Option<u32>,
}

/// A created partner and its first API key (the only time the key is shown).
#[derive(Debug, Clone)]
pub struct Created {
    pub account: Account,
    pub api_key: String,
}

pub fn commission_from_percent(percent: Decimal) -> Result<Commission, OpsError> {
    Commission::parse(percent / Decimal::ONE_HUNDRED).map_err(|_| {
        refused(format!(
            "commission must be in [0, 100) percent, got {percent}"
        ))
    })
}

fn non_negative(what: &str, v: Decimal) -> Result<(), OpsError> {
    if v < Decimal::ZERO {
        return Err(refused(format!("{what} must not be negative, got {v}")));
    }
    Ok(())
}

fn positive(what: &str, v: Option<Decimal>) -> Result<(), OpsError> {
    match v {
        Some(v) if v <= Decimal::ZERO => Err(refused(format!("{what} must be positive, got {v}"))),
        _ => Ok(()),
    }
}

pub async fn create(
    store: &dyn AdminStore,
    actor: &Actor,
    new: NewPartner,
    now: DateTime<Utc>,
) -> Result<Created, OpsError> {
    let customer_id = CustomerId::parse(&new.customer_id).map_err(|_| {
        refused(format!(
            "customer id {:?} must be 1-64 characters of A-Z a-z 0-9 _ -",
            new.customer_id
        ))
    })?;
    let company_name = new.company_name.trim().to_owned();
    if company_name.is_empty() || company_name.len() > 200 {
        return Err(refused("company name must be 1-200 characters"));
    }
    non_negative("credit limit", new.credit_limit)?;
    non_negative("overdraft", new.overdraft_usd)?;
    positive("daily limit", new.daily_limit_mxn)?;
    positive("daily limit per phone", new.daily_limit_per_phone_mxn)?;
    let api_key = secrets::generate(SecretKind::ApiKey);
    let key = KeyRecord {
        prefix: secrets::prefix(&api_key),
        hash: hash_key(&api_key),
        created_at: now,
        created_by: actor.0.clone(),
    };
    let account = Account {
        customer_id: customer_id.clone(),
        company_name,
        balance: Decimal::ZERO,
        credit_limit: new.credit_limit,
        overdraft_usd: new.overdraft_usd,
        opening_balance: Decimal::ZERO,
        commission: commission_from_percent(new.commission_percent)?,
        daily_limit_mxn: new.daily_limit_mxn,
        daily_limit_per_phone_mxn: new.daily_limit_per_phone_mxn,
        max_topups_per_minute: new.max_topups_per_minute.filter(|n| *n > 0),
        // the guides' 300 requests / 15 minutes, no allowlist: `partner set` changes them
        max_requests_per_15min: None,
        allowed_ips: Vec::new(),
        api_key_hashes: vec![key.hash.clone()],
        secret_key_hash: None,
        active: true,
        version: 0,
        updated_at: None,
        low_balance_usd: None,
        low_balance_alerted: false,
    };
    let record = PartnerRecord {
        account: account.clone(),
        low_balance_threshold_usd: None,
        config_version: 0,
        created_at: Some(now),
    };
    let mut after = settings_view(&record);
    after["api_keys"] = json!([key.prefix]);
    let audit = AuditRecord::new(
        customer_id.as_str(),
        actor,
        "partner.create",
        Value::Null,
        after,
        now,
    );
    if !store.create_partner(&account, &key, &audit).await? {
        return Err(refused(format!("partner {customer_id} already exists")));
    }
    Ok(Created { account, api_key })
}

pub async fn get(store: &dyn AdminStore, customer: &str) -> Result<PartnerRecord, OpsError> {
    let id =
        CustomerId::parse(customer).map_err(|_| refused(format!("no partner {customer:?}")))?;
    store
        .get_partner(&id)
        .await?
        .ok_or_else(|| refused(format!("no partner {customer}")))
}

/// What ops see of a partner (also the before/after of its audit records).
pub fn settings_view(r: &PartnerRecord) -> Value {
    let a = &r.account;
    json!({
        "customer_id": a.customer_id.as_str(),
        "company_name": a.company_name,
        "status": if a.active { "ACTIVE" } else { "DISABLED" },
        "credit_limit_usd": money(a.credit_limit),
        "overdraft_usd": money(a.overdraft_usd),
        "commission_percent": money(a.commission.value() * Decimal::ONE_HUNDRED),
        "daily_limit_mxn": a.daily_limit_mxn.map(money),
        "daily_limit_per_phone_mxn": a.daily_limit_per_phone_mxn.map(money),
        "max_topups_per_minute": a.max_topups_per_minute,
        "max_requests_per_15min": crate::api::edge::window::limit_for(a),
        "allowed_ips": a.allowed_ips,
        "low_balance_threshold_usd": r.low_balance_threshold_usd.map(money),
    })
}

/// `partner show`: settings, balance and how many keys are active.
pub fn show_view(r: &PartnerRecord) -> Value {
    let mut v = settings_view(r);
    v["balance_usd"] = money(r.account.balance);
    v["ledger_version"] = json!(r.account.version);
    v["active_api_keys"] = json!(r.account.api_key_hashes.len());
    v["distributor_secret"] = json!(r.account.secret_key_hash.is_some());
    v["created_at"] = json!(r.created_at.map(timestamp));
    v["balance_updated_at"] = json!(r.account.updated_at.map(timestamp));
    if let Some(t) = r.low_balance_threshold_usd {
        v["below_low_balance_threshold"] = json!(r.account.balance < t);
    }
    v
}

fn apply(settings: &PartnerSettings, r: &PartnerRecord) -> PartnerRecord {
    let mut out = r.clone();
    let a = &mut out.account;
    if let Some(v) = &settings.company_name {
        a.company_name = v.clone();
    }
    if let Some(v) = settings.credit_limit {
        a.credit_limit = v;
    }
    if let Some(v) = settings.overdraft_usd {
        a.overdraft_usd = v;
    }
    if let Some(v) = settings.commission {
        a.commission = v;
    }
    if let Some(v) = settings.daily_limit_mxn {
        a.daily_limit_mxn = v;
    }
    if let Some(v) = settings.daily_limit_per_phone_mxn {
        a.daily_limit_per_phone_mxn = v;
    }
    if let Some(v) = settings.max_topups_per_minute {
        a.max_topups_per_minute = v;
    }
    if let Some(v) = settings.max_requests_per_15min {
        a.max_requests_per_15min = v;
    }
    if let Some(v) = &settings.allowed_ips {
        a.allowed_ips = v.clone();
    }
    if let Some(v) = settings.active {
        a.active = v;
    }
    if let Some(v) = settings.low_balance_threshold_usd {
        out.low_balance_threshold_usd = v;
    }
    out
}

fn validate(s: &PartnerSettings) -> Result<(), OpsError> {
    if let Some(name) = &s.company_name {
        if name.trim().is_empty() || name.len() > 200 {
            return Err(refused("company name must be 1-200 characters"));
        }
    }
    if let Some(v) = s.credit_limit {
        non_negative("credit limit", v)?;
    }
    if let Some(v) = s.overdraft_usd {
        non_negative("overdraft", v)?;
    }
    positive("daily limit", s.daily_limit_mxn.flatten())?;
    positive(
        "daily limit per phone",
        s.daily_limit_per_phone_mxn.flatten(),
    )?;
    if let Some(Some(v)) = s.low_balance_threshold_usd {
        non_negative("low-balance threshold", v)?;
    }
    if s.max_requests_per_15min == Some(Some(0)) {
        return Err(refused(
            "requests per 15 minutes must be at least 1 (use `none` for the default 300)",
        ));
    }
    for cidr in s.allowed_ips.iter().flatten() {
        crate::api::edge::ip_allow::Cidr::parse(cidr).map_err(refused)?;
    }
    Ok(())
}

/// Change settings (`partner set`, `disable`, `enable`). Returns the partner after.
pub async fn set(
    store: &dyn AdminStore,
    actor: &Actor,
    customer: &str,
    settings: PartnerSettings,
    action: &str,
    now: DateTime<Utc>,
) -> Result<PartnerRecord, OpsError> {
    validate(&settings)?;
    if settings == PartnerSettings::default() {
        return Err(refused(
            "nothing to change (see `relier-admin partner set --help`)",
        ));
    }
    update(store, actor, customer, action, now, |_| {
        Ok(PartnerUpdate {
            settings: settings.clone(),
            ..PartnerUpdate::default()
        })
    })
    .await
    .map(|(r, _)| r)
}

/// Read, build the update from what was read, write conditioned on the config version;
/// retried a few times if another admin changed the partner in between.
pub(crate) async fn update<F>(
    store: &dyn AdminStore,
    actor: &Actor,
    customer: &str,
    action: &str,
    now: DateTime<Utc>,
    build: F,
) -> Result<(PartnerRecord, PartnerUpdate), OpsError>
where
    F: Fn(&PartnerRecord) -> Result<PartnerUpdate, OpsError>,
{
    for _ in 0..CONFLICT_RETRIES {
        let before = get(store, customer).await?;
        let upd = build(&before)?;
        let mut after = apply(&upd.settings, &before);
        if let Some(h) = &upd.api_key_hashes {
            after.account.api_key_hashes = h.clone();
        }
        if let Some(h) = &upd.secret_key_hash {
            after.account.secret_key_hash = Some(h.clone());
        }
        let audit = AuditRecord::new(
            customer,
            actor,
            action,
            audit_view(&before, &upd, false),
            audit_view(&after, &upd, true),
            now,
        );
        if store
            .update_partner(
                &before.account.customer_id,
                before.config_version,
                &upd,
                &audit,
            )
            .await?
        {
            after.config_version = before.config_version + 1;
            return Ok((after, upd));
        }
    }
    Err(refused(format!(
        "partner {customer} kept changing; try again"
    )))
}

/// Settings, plus the key change when the update is one (prefixes only, never hashes).
fn audit_view(r: &PartnerRecord, upd: &PartnerUpdate, after: bool) -> Value {
    let mut v = settings_view(r);
    if upd.api_key_hashes.is_some() {
        v["active_api_keys"] = json!(r.account.api_key_hashes.len());
        if after {
            if let Some(k) = &upd.add_key {
                v["added_key"] = json!(k.prefix);
            }
            if let Some(p) = &upd.remove_key_prefix {
                v["revoked_key"] = json!(p);
            }
        }
    }
    if upd.secret_key_hash.is_some() {
        v["distributor_secret"] = json!(if after {
            "replaced"
        } else if r.account.secret_key_hash.is_some() {
            "set"
        } else {
            "none"
        });
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn commission_is_given_in_percent() {
        assert_eq!(
            commission_from_percent(dec!(5)).unwrap().value(),
            dec!(0.05)
        );
        assert!(commission_from_percent(dec!(100)).is_err());
        assert!(commission_from_percent(dec!(-1)).is_err());
    }

    #[test]
    fn settings_are_validated_before_anything_is_read() {
        let bad = PartnerSettings {
            daily_limit_mxn: Some(Some(dec!(0))),
            ..PartnerSettings::default()
        };
        assert!(validate(&bad).is_err());
        let clear = PartnerSettings {
            daily_limit_mxn: Some(None),
            ..PartnerSettings::default()
        };
        assert!(validate(&clear).is_ok());
    }
}
