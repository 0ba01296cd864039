//! What the dashboard needs besides the partner and report ports (`reports::ports::ReportStore`
//! serves its listings and statement): sessions and the daily counter. Implemented on DynamoDB in `adapters::dynamo::dashboard`.

use crate::domain::CustomerId;
use crate::ports::StoreError;
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;

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
    /// MXN counted against the customer's daily limit on `day` (None: no counter that day).
    async fn used_mxn(
        &self,
        customer: &CustomerId,
        day: NaiveDate,
    ) -> Result<Option<Decimal>, StoreError>;
}
