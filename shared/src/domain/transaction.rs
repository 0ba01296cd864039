//! A top-up transaction record and its lifecycle.

use super::{CustomerId, IdempotencyKey, MxnAmount, Phone, TransactionId};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Lifecycle of a top-up: PENDING (debited, not yet sent) -> PROCESSING (claimed, sent or being
/// sent upstream) -> SUCCESS | FAILED (refunded). Partners see PROCESSING as PENDING.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum TxStatus {
    Pending,
    Processing,
    Success,
    Failed,
}

impl TxStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TxStatus::Pending => "PENDING",
            TxStatus::Processing => "PROCESSING",
            TxStatus::Success => "SUCCESS",
            TxStatus::Failed => "FAILED",
        }
    }
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "PENDING" => Some(Self::Pending),
            "PROCESSING" => Some(Self::Processing),
            "SUCCESS" => Some(Self::Success),
            "FAILED" => Some(Self::Failed),
            _ => None,
        }
    }
    /// What partners see: the seeds know PENDING, SUCCESS and FAILED only.
    pub fn public(self) -> &'static str {
        match self {
            TxStatus::Pending | TxStatus::Processing => "PENDING",
            other => other.as_str(),
        }
    }
    pub fn is_terminal(self) -> bool {
        matches!(self, TxStatus::Success | TxStatus::Failed)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxKind {
    Sync,
    Async,
}

impl TxKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TxKind::Sync => "SYNC",
            TxKind::Async => "ASYNC",
        }
    }
    /// Strict, like [`TxStatus::parse`]: anything else is not a kind we wrote.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "SYNC" => Some(Self::Sync),
            "ASYNC" => Some(Self::Async),
            _ => None,
        }
    }
}

/// A daily-limit counter the debit added to (and a refund takes back from).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CounterKey {
    pub pk: String,
    pub sk: String,
}

/// A top-up transaction record.
#[derive(Debug, Clone, PartialEq)]
pub struct Transaction {
    pub id: TransactionId,
    pub customer_id: CustomerId,
    pub phone: Phone,
    pub amount_mxn: MxnAmount,
    pub amount_usd: Decimal,
    pub exchange_rate: Decimal,
    pub commission: Decimal,
    pub status: TxStatus,
    pub kind: TxKind,
    pub reference: Option<String>,
    /// The key the debit claimed (`reference`, the `Idempotency-Key` header, or the
    /// distributor's transaction id).
    pub idempotency_key: Option<IdempotencyKey>,
    pub provider: String,
    pub operator_transaction_id: Option<String>,
    pub failure_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub queued_at: Option<DateTime<Utc>>,
    pub processed_at: Option<DateTime<Utc>>,
    pub response_time_ms: Option<i64>,
    pub attempts: u32,
    pub balance_before: Decimal,
    pub balance_after: Decimal,
    pub counters: Vec<CounterKey>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partner_sees_processing_as_pending() {
        assert_eq!(TxStatus::Processing.public(), "PENDING");
        assert_eq!(TxStatus::Success.public(), "SUCCESS");
    }
}
