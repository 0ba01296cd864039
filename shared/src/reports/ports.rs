//! What the partner views and the reconciliation export read (implemented on DynamoDB in
//! `store::dynamo::listing`): index queries by customer and time, never scans.

use crate::domain::{Account, LedgerEntry, Transaction};
use crate::domain::{CustomerId, TransactionId};
use crate::ops::ports::ReconcileKey;
use crate::ports::StoreError;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use std::collections::HashMap;

/// A ledger line with what credits and adjustments carry.
#[derive(Debug, Clone, PartialEq)]
pub struct LedgerLine {
    pub entry: LedgerEntry,
    pub reference: Option<String>,
    pub note: Option<String>,
}

/// One page of results and the opaque cursor of the next (None: no more).
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

/// An inclusive time window (UTC, millisecond timestamps).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

/// Filters of the partner's transaction listing (applied on the index query).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TxFilter {
    /// Stored status(es): PENDING also matches PROCESSING (partners see both as PENDING).
    pub statuses: Vec<String>,
    pub phone: Option<String>,
    pub reference: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid cursor")]
pub struct BadCursor;

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error(transparent)]
    Cursor(#[from] BadCursor),
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[async_trait]
pub trait ReportStore: Send + Sync {
    /// A customer's transactions in `window`, newest first, at most `limit`.
    async fn transactions_page(
        &self,
        customer: &CustomerId,
        window: Option<Window>,
        filter: &TxFilter,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Page<Transaction>, ReadError>;

    /// A customer's ledger lines in `window`, in sequence order, at most `limit`.
    async fn ledger_page(
        &self,
        customer: &CustomerId,
        window: Window,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Page<LedgerLine>, ReadError>;

    /// The balance after the last ledger line strictly before `at` (None: no line before).
    async fn balance_before(
        &self,
        customer: &CustomerId,
        at: DateTime<Utc>,
    ) -> Result<Option<Decimal>, StoreError>;

    /// Transactions by id (batched reads); missing ids are absent from the map.
    async fn transactions_by_id(
        &self,
        ids: &[TransactionId],
    ) -> Result<HashMap<String, Transaction>, StoreError>;

    /// The reconcile key with this SHA-256, if active.
    async fn reconcile_key(&self, hash: &str) -> Result<Option<ReconcileKey>, StoreError>;

    /// Every partner account, by id (the sparse `partners` index).
    async fn accounts(&self) -> Result<Vec<Account>, StoreError>;
}
