//! What the dashboard reads and writes besides the partner ports: sessions, and bounded
//! per-customer queries (the `customer-by-created` index, the customer's ledger partition,
//! the daily counter). Implemented on DynamoDB in `store::dashboard`.

use crate::domain::CustomerId;
use crate::domain::{LedgerEntry, Transaction};
use crate::ports::StoreError;
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;

/// An inclusive time window (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

/// Filters of the transaction listing.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TxFilter {
    /// Stored statuses: PENDING also matches PROCESSING (partners see both as PENDING).
    pub statuses: Vec<String>,
    pub phone: Option<String>,
    pub reference: Option<String>,
}

/// One page and the opaque cursor of the next (None: no more).
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

/// A stored session: who it belongs to and when it ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub customer_id: CustomerId,
    pub expires_at: DateTime<Utc>,
}

#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Store a new session under the SHA-256 of its id.
    async fn create_session(&self, id_hash: &str, record: &SessionRecord)
        -> Result<(), StoreError>;
    async fn get_session(&self, id_hash: &str) -> Result<Option<SessionRecord>, StoreError>;
    /// Move the end of a still-existing session (sliding expiry).
    async fn extend_session(
        &self,
        id_hash: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    async fn delete_session(&self, id_hash: &str) -> Result<(), StoreError>;
}

#[async_trait]
pub trait DashboardReads: Send + Sync {
    /// A customer's transactions in `window`, newest first, at most `limit`.
    /// `cursor` is the `next` of the previous page; a malformed cursor is `Ok(None)`.
    async fn transactions_page(
        &self,
        customer: &CustomerId,
        window: Window,
        filter: &TxFilter,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Option<Page<Transaction>>, StoreError>;

    /// A customer's transactions in `window` (for aggregates), at most `cap`; the flag says
    /// whether the cap cut the list.
    async fn transactions_in(
        &self,
        customer: &CustomerId,
        window: Window,
        cap: usize,
    ) -> Result<(Vec<Transaction>, bool), StoreError>;

    /// The customer's ledger lines, in sequence order.
    async fn ledger(&self, customer: &CustomerId) -> Result<Vec<LedgerEntry>, StoreError>;

    /// MXN counted against the customer's daily limit on `day` (None: no counter that day).
    async fn used_mxn(
        &self,
        customer: &CustomerId,
        day: NaiveDate,
    ) -> Result<Option<Decimal>, StoreError>;
}
