//! Operations use cases (run by `relier-admin`): onboard a partner, change its settings,
//! credit a wire / adjust a balance through the ledger, rotate API keys, distributor secrets
//! and reconcile keys. Every action writes an append-only audit record in the same DynamoDB
//! transaction as the change it describes.

pub mod balance;
pub mod gateway;
pub mod keys;
pub mod partners;
pub mod ports;
pub mod secrets;
pub mod stack;

use crate::ports::StoreError;
use chrono::{DateTime, Utc};
use serde_json::Value;

/// Who ran an admin command: the AWS caller identity (ARN), or `local:<user>` on a local stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor(pub String);

/// One append-only audit record: who did what to which partner, when, before and after.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRecord {
    /// The partner, or `*` for actions on all-partners keys.
    pub customer_id: String,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub before: Value,
    pub after: Value,
}

impl AuditRecord {
    pub fn new(
        customer_id: &str,
        actor: &Actor,
        action: &str,
        before: Value,
        after: Value,
        at: DateTime<Utc>,
    ) -> Self {
        Self {
            customer_id: customer_id.to_owned(),
            at,
            actor: actor.0.clone(),
            action: action.to_owned(),
            before,
            after,
        }
    }
}

/// Why an admin command did nothing. `Refused` carries a one-line message for the operator.
#[derive(Debug, thiserror::Error)]
pub enum OpsError {
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub fn refused(message: impl Into<String>) -> OpsError {
    OpsError::Refused(message.into())
}
