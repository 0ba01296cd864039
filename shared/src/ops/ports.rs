//! What the operations use cases need from storage (implemented on DynamoDB in
//! `store::dynamo::admin`). Every write that changes something also appends its audit record
//! in the same transaction.

use super::{Actor, AuditRecord};
use crate::domain::Account;
use crate::domain::{Commission, CustomerId, TransactionId};
use crate::ports::{AccountReader, StoreError};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

/// An account plus what only operations read.
#[derive(Debug, Clone, PartialEq)]
pub struct PartnerRecord {
    pub account: Account,
    /// Balance under which ops want to hear about it (shown by `partner show`).
    pub low_balance_threshold_usd: Option<Decimal>,
    /// Bumped by every settings/key change (the balance `version` is the ledger's).
    pub config_version: u64,
    pub created_at: Option<DateTime<Utc>>,
}

/// Settings `partner set` may change. `None` = unchanged; `Some(None)` = remove the limit.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PartnerSettings {
    pub company_name: Option<String>,
    pub credit_limit: Option<Decimal>,
    pub overdraft_usd: Option<Decimal>,
    pub commission: Option<Commission>,
    pub daily_limit_mxn: Option<Option<Decimal>>,
    pub daily_limit_per_phone_mxn: Option<Option<Decimal>>,
    pub max_topups_per_minute: Option<Option<u32>>,
    pub low_balance_threshold_usd: Option<Option<Decimal>>,
    pub active: Option<bool>,
}

/// One change of a partner's configuration, applied atomically with its audit record.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PartnerUpdate {
    pub settings: PartnerSettings,
    /// The new full list of active API key hashes.
    pub api_key_hashes: Option<Vec<String>>,
    /// The new distributor secret hash.
    pub secret_key_hash: Option<String>,
    /// Key metadata to record (a key added) ...
    pub add_key: Option<KeyRecord>,
    /// ... or to delete (a key revoked), by prefix.
    pub remove_key_prefix: Option<String>,
}

/// A stored key: its clear prefix and SHA-256 hash, never the key.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyRecord {
    pub prefix: String,
    pub hash: String,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReconcileScope {
    Partner(CustomerId),
    /// An ops key that exports every partner's rows.
    AllPartners,
}

impl ReconcileScope {
    /// `*` for all partners, else the customer id (audit records and key items use it).
    pub fn as_str(&self) -> &str {
        match self {
            ReconcileScope::Partner(c) => c.as_str(),
            ReconcileScope::AllPartners => "*",
        }
    }
    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw == "*" {
            Ok(ReconcileScope::AllPartners)
        } else {
            CustomerId::parse(raw).map(ReconcileScope::Partner)
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ReconcileKey {
    pub scope: ReconcileScope,
    pub key: KeyRecord,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BalanceChangeKind {
    /// Money received (a wire transfer): positive only.
    Credit,
    /// A correction, either sign.
    Adjustment,
}

impl BalanceChangeKind {
    /// The ledger line's `kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            BalanceChangeKind::Credit => "CREDIT",
            BalanceChangeKind::Adjustment => "ADJUSTMENT",
        }
    }
}

/// A credit or adjustment, idempotent on (customer, reference).
#[derive(Debug, Clone, PartialEq)]
pub struct BalanceChange {
    pub customer_id: CustomerId,
    pub kind: BalanceChangeKind,
    /// Signed USD amount, cents.
    pub amount_usd: Decimal,
    pub reference: String,
    pub note: Option<String>,
    pub actor: Actor,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum BalanceOutcome {
    /// Written: balance, ledger line `seq`, reference claim and audit record, atomically.
    Applied {
        id: TransactionId,
        seq: u64,
        balance_before: Decimal,
        balance_after: Decimal,
    },
    /// This reference was already applied with the same kind and amount: nothing written.
    AlreadyApplied {
        id: String,
        seq: u64,
    },
    /// The reference was used for a different kind or amount: nothing written.
    ReferenceConflict {
        kind: String,
        amount_usd: Decimal,
    },
    /// The change would take the balance below `-overdraft_usd`: nothing written.
    BelowFloor {
        balance: Decimal,
        floor: Decimal,
    },
    UnknownPartner,
}

#[async_trait]
pub trait AdminStore: AccountReader {
    /// Create the account with its first key; false if the id exists.
    async fn create_partner(
        &self,
        account: &Account,
        key: &KeyRecord,
        audit: &AuditRecord,
    ) -> Result<bool, StoreError>;

    async fn get_partner(&self, customer: &CustomerId)
        -> Result<Option<PartnerRecord>, StoreError>;

    /// Every partner, by id (the sparse `partners` index, never a scan).
    async fn list_partners(&self) -> Result<Vec<PartnerRecord>, StoreError>;

    /// Apply `update` if the configuration is still at `expected_config_version`; false if
    /// someone changed it meanwhile (re-read and retry).
    async fn update_partner(
        &self,
        customer: &CustomerId,
        expected_config_version: u64,
        update: &PartnerUpdate,
        audit: &AuditRecord,
    ) -> Result<bool, StoreError>;

    /// API key metadata (prefix, hash, created).
    async fn api_keys(&self, customer: &CustomerId) -> Result<Vec<KeyRecord>, StoreError>;

    async fn add_reconcile_key(
        &self,
        key: &ReconcileKey,
        audit: &AuditRecord,
    ) -> Result<(), StoreError>;

    async fn reconcile_keys(&self, scope: &ReconcileScope)
        -> Result<Vec<ReconcileKey>, StoreError>;

    /// False if it was already gone.
    async fn remove_reconcile_key(
        &self,
        key: &ReconcileKey,
        audit: &AuditRecord,
    ) -> Result<bool, StoreError>;

    /// The versioned balance write of a top-up's debit, with a CREDIT/ADJUSTMENT ledger line.
    async fn apply_balance_change(
        &self,
        change: &BalanceChange,
    ) -> Result<BalanceOutcome, StoreError>;

    /// A partner's audit trail (or `*`), oldest first.
    async fn audit_records(&self, customer_or_star: &str) -> Result<Vec<AuditRecord>, StoreError>;
}
