//! Sandbox fixture data (`infra/local/fixtures.json`): partners with hashed keys, and the rate.
//! Local/sandbox only; never loaded in production.

use super::DynamoStore;
use crate::domain::{Account, Commission, CustomerId, RateRecord};
use crate::ports::{RateWriter, StoreError};
use rust_decimal::Decimal;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct Fixtures {
    pub fx_rate: Option<Decimal>,
    pub accounts: Vec<AccountFixture>,
}

#[derive(Debug, Deserialize)]
pub struct AccountFixture {
    pub customer_id: String,
    pub company_name: String,
    /// SHA-256 hex of the API key: the key itself is never stored.
    pub api_key_sha256: String,
    #[serde(default)]
    pub secret_key_sha256: Option<String>,
    pub balance: Decimal,
    pub credit_limit: Decimal,
    #[serde(default)]
    pub overdraft_usd: Decimal,
    #[serde(default)]
    pub commission_rate: Decimal,
    #[serde(default)]
    pub daily_limit_mxn: Option<Decimal>,
    #[serde(default)]
    pub daily_limit_per_phone_mxn: Option<Decimal>,
    /// Accepted top-ups per minute (default 200, as the guides say; 0 = unlimited).
    #[serde(default = "per_minute")]
    pub max_topups_per_minute: u32,
    /// Requests per 15 minutes (absent = the guides' 300).
    #[serde(default)]
    pub max_requests_per_15min: Option<u32>,
    /// CIDR allowlist (absent or empty = any address).
    #[serde(default)]
    pub allowed_ips: Vec<String>,
    #[serde(default = "active")]
    pub active: bool,
    /// The partner's reconcile key (export), as SHA-256 hex and its clear prefix.
    #[serde(default)]
    pub reconcile_key_sha256: Option<String>,
    #[serde(default)]
    pub reconcile_key_prefix: Option<String>,
}

fn active() -> bool {
    true
}

fn per_minute() -> u32 {
    200
}

impl AccountFixture {
    pub fn to_account(&self) -> Result<Account, String> {
        if self.api_key_sha256.len() != 64
            || !self.api_key_sha256.bytes().all(|b| b.is_ascii_hexdigit())
        {
            return Err(format!(
                "{}: api_key_sha256 must be 64 hex chars",
                self.customer_id
            ));
        }
        for cidr in &self.allowed_ips {
            crate::api::edge::ip_allow::Cidr::parse(cidr)
                .map_err(|e| format!("{}: {e}", self.customer_id))?;
        }
        Ok(Account {
            customer_id: CustomerId::parse(&self.customer_id)?,
            company_name: self.company_name.clone(),
            balance: self.balance,
            credit_limit: self.credit_limit,
            overdraft_usd: self.overdraft_usd,
            opening_balance: self.balance,
            commission: Commission::parse(self.commission_rate)?,
            daily_limit_mxn: self.daily_limit_mxn,
            daily_limit_per_phone_mxn: self.daily_limit_per_phone_mxn,
            max_topups_per_minute: (self.max_topups_per_minute > 0)
                .then_some(self.max_topups_per_minute),
            max_requests_per_15min: self.max_requests_per_15min,
            allowed_ips: self.allowed_ips.clone(),
            api_key_hashes: vec![self.api_key_sha256.to_ascii_lowercase()],
            secret_key_hash: self.secret_key_sha256.clone(),
            active: self.active,
            version: 0,
            updated_at: None,
            low_balance_usd: None,
            low_balance_alerted: false,
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FixtureError {
    #[error("fixtures: {0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Load fixtures. Existing accounts are left as they are (their balances are real history);
/// the rate item is (re)written with the current time. Returns the accounts created.
pub async fn load(store: &DynamoStore, fixtures: &Fixtures) -> Result<usize, FixtureError> {
    let mut created = 0;
    for f in &fixtures.accounts {
        let account = f.to_account().map_err(FixtureError::Invalid)?;
        if store.put_account(&account, true).await? {
            created += 1;
        }
        if let Some(hash) = &f.reconcile_key_sha256 {
            load_reconcile_key(store, &account, hash, f.reconcile_key_prefix.as_deref()).await?;
        }
    }
    if let Some(rate) = fixtures.fx_rate {
        store
            .put_rate(&RateRecord {
                rate,
                updated_at: chrono::Utc::now(),
                source: "fixtures".into(),
            })
            .await?;
    }
    Ok(created)
}

/// Register a fixture reconcile key unless it already is (loading twice changes nothing).
async fn load_reconcile_key(
    store: &DynamoStore,
    account: &Account,
    hash: &str,
    prefix: Option<&str>,
) -> Result<(), FixtureError> {
    use crate::ops::ports::{AdminStore, KeyRecord, ReconcileKey, ReconcileScope};
    use crate::reports::ports::ReportStore;
    let hash = hash.to_ascii_lowercase();
    if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(FixtureError::Invalid(format!(
            "{}: reconcile_key_sha256 must be 64 hex chars",
            account.customer_id
        )));
    }
    if store.reconcile_key(&hash).await?.is_some() {
        return Ok(());
    }
    let now = chrono::Utc::now();
    let key = ReconcileKey {
        scope: ReconcileScope::Partner(account.customer_id.clone()),
        key: KeyRecord {
            prefix: prefix.unwrap_or(&hash[..12]).to_owned(),
            hash,
            created_at: now,
            created_by: "fixtures".into(),
        },
    };
    let audit = crate::ops::AuditRecord::new(
        account.customer_id.as_str(),
        &crate::ops::Actor("fixtures".into()),
        "reconcile_key.add",
        serde_json::Value::Null,
        serde_json::json!({ "reconcile_key": key.key.prefix }),
        now,
    );
    store.add_reconcile_key(&key, &audit).await?;
    Ok(())
}
