//! Webhook events and their delivery state: what the outbox holds.

use crate::api::json::{money, timestamp};
use crate::domain::Transaction;
use crate::domain::TxStatus;
use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use serde_json::{json, Value};

pub use crate::domain::DEFAULT_LOW_BALANCE_USD;

/// Seconds to wait before attempt 1, 2, …, 8: the Standard Webhooks schedule (immediately,
/// 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h). After the 8th failure the delivery is FAILED.
pub const RETRY_SCHEDULE_SECS: [i64; 8] = [0, 5, 300, 1800, 7200, 18000, 36000, 36000];

/// Each attempt gives up after this long (connect + answer).
pub const ATTEMPT_TIMEOUT_SECS: u64 = 15;

/// Events are kept (for `webhook deliveries` and `replay`) this long, then expire by TTL.
pub const EVENT_RETENTION_DAYS: i64 = 35;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    TopupSucceeded,
    TopupFailed,
    BalanceLow,
    BalanceCredited,
    /// `relier-admin webhook test`: always sent, whatever the subscription.
    Ping,
}

impl EventType {
    pub const ALL: [EventType; 5] = [
        EventType::TopupSucceeded,
        EventType::TopupFailed,
        EventType::BalanceLow,
        EventType::BalanceCredited,
        EventType::Ping,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::TopupSucceeded => "topup.succeeded",
            EventType::TopupFailed => "topup.failed",
            EventType::BalanceLow => "balance.low",
            EventType::BalanceCredited => "balance.credited",
            EventType::Ping => "ping",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == text)
    }
}

/// Where an event's delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    /// Waiting for its next attempt (`next_attempt_at`).
    Pending,
    /// An endpoint answered 2xx.
    Delivered,
    /// Every attempt failed, or the endpoint answered 410 (kept for `replay`).
    Failed,
    /// Nothing to send to: no endpoint, endpoint disabled, or not subscribed to this type.
    Skipped,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "PENDING",
            DeliveryStatus::Delivered => "DELIVERED",
            DeliveryStatus::Failed => "FAILED",
            DeliveryStatus::Skipped => "SKIPPED",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Pending, Self::Delivered, Self::Failed, Self::Skipped]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

/// One event in the outbox: written in the same DynamoDB transaction as the outcome that
/// caused it. `body` is fixed at creation, so every retry sends the same bytes under the same
/// `webhook-id`.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxEvent {
    /// `msg_` + 11 hex digits of the creation time in ms (so ids sort by time) + 16 random.
    pub id: String,
    pub customer_id: String,
    pub event_type: EventType,
    /// `{"type", "timestamp", "data"}` as sent (the Standard Webhooks payload shape).
    pub body: String,
    pub created_at: DateTime<Utc>,
}

const ID_ALPHABET: &[u8; 32] = b"abcdefghjkmnpqrstvwxyz0123456789";

pub fn event_id(now: DateTime<Utc>) -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    let mut id = format!("msg_{:011x}", now.timestamp_millis().max(0));
    for _ in 0..16 {
        id.push(ID_ALPHABET[rng.random_range(0..32)] as char);
    }
    id
}

impl OutboxEvent {
    pub fn new(customer_id: &str, event_type: EventType, data: Value, now: DateTime<Utc>) -> Self {
        let body = json!({
            "type": event_type.as_str(),
            "timestamp": timestamp(now),
            "data": data,
        })
        .to_string();
        Self {
            id: event_id(now),
            customer_id: customer_id.to_owned(),
            event_type,
            body,
            created_at: now,
        }
    }

    /// `topup.succeeded` / `topup.failed` for a record in its final state; `data` is the
    /// transaction exactly as `GET /api/transaction/{id}` shows it. None while still open.
    pub fn topup_outcome(tx: &Transaction, now: DateTime<Utc>) -> Option<Self> {
        let event_type = match tx.status {
            TxStatus::Success => EventType::TopupSucceeded,
            TxStatus::Failed => EventType::TopupFailed,
            _ => return None,
        };
        let view = crate::api::partner::views::transaction_status(tx);
        Some(Self::new(
            tx.customer_id.as_str(),
            event_type,
            view["transaction"].clone(),
            now,
        ))
    }

    /// `balance.low`: this debit left the balance below the account's threshold.
    pub fn balance_low(
        customer_id: &str,
        balance: Decimal,
        threshold: Decimal,
        transaction_id: &str,
        now: DateTime<Utc>,
    ) -> Self {
        Self::new(
            customer_id,
            EventType::BalanceLow,
            json!({
                "customer_id": customer_id,
                "current_balance": money(balance),
                "threshold": money(threshold),
                "currency": "USD",
                "transaction_id": transaction_id,
            }),
            now,
        )
    }

    /// `balance.credited`: ops credited the account.
    pub fn balance_credited(
        customer_id: &str,
        amount: Decimal,
        balance_before: Decimal,
        balance_after: Decimal,
        reference: &str,
        now: DateTime<Utc>,
    ) -> Self {
        Self::new(
            customer_id,
            EventType::BalanceCredited,
            json!({
                "customer_id": customer_id,
                "amount": money(amount),
                "balance_before": money(balance_before),
                "current_balance": money(balance_after),
                "currency": "USD",
                "reference": reference,
            }),
            now,
        )
    }

    pub fn ping(customer_id: &str, now: DateTime<Utc>) -> Self {
        Self::new(
            customer_id,
            EventType::Ping,
            json!({ "customer_id": customer_id, "message": "Webhook test from Relier" }),
            now,
        )
    }
}

/// Does a debit from `before` to `after` fire `balance.low`? Once per crossing: only while
/// armed (`alerted == false`); the alert re-arms when the account is funded back to or above
/// the threshold (a credit), not on every later debit.
pub fn low_balance_fires(after: Decimal, threshold: Decimal, alerted: bool) -> bool {
    !alerted && after < threshold
}

/// An outbox event with its delivery state.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub event: OutboxEvent,
    pub status: DeliveryStatus,
    /// Attempts made so far (claimed, including one in flight).
    pub attempts: u32,
    /// HTTP status or error of the last attempt.
    pub last_result: Option<String>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// When the next attempt is due (PENDING only).
    pub next_attempt_at: Option<DateTime<Utc>>,
}

/// When attempt number `attempt` (1-based) is due after the previous one; None past the last.
pub fn delay_before(attempt: u32) -> Option<Duration> {
    let idx = usize::try_from(attempt.checked_sub(1)?).ok()?;
    RETRY_SCHEDULE_SECS.get(idx).map(|s| Duration::seconds(*s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use rust_decimal_macros::dec;

    #[test]
    fn the_retry_schedule_is_the_specs() {
        let waits: Vec<i64> = (1..=9)
            .map(|n| delay_before(n).map(|d| d.num_seconds()).unwrap_or(-1))
            .collect();
        assert_eq!(waits, [0, 5, 300, 1800, 7200, 18000, 36000, 36000, -1]);
        assert_eq!(delay_before(0), None);
    }

    #[test]
    fn event_ids_sort_by_creation_time_and_are_unique() {
        let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let a = event_id(t0);
        let b = event_id(t0 + Duration::milliseconds(1));
        assert!(a.starts_with("msg_") && a.len() == 4 + 11 + 16);
        assert!(a < b);
        assert_ne!(event_id(t0), event_id(t0));
    }

    #[test]
    fn the_body_is_the_standard_webhooks_envelope() {
        let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let e = OutboxEvent::balance_low("HAZ_001", dec!(999.50), dec!(1000), "RLR1", t0);
        let v: Value = serde_json::from_str(&e.body).unwrap();
        assert_eq!(v["type"], "balance.low");
        assert_eq!(v["timestamp"], "2026-01-01T00:00:00.000Z");
        assert_eq!(v["data"]["current_balance"], json!(999.5));
        assert_eq!(v["data"]["threshold"], json!(1000));
    }

    #[test]
    fn low_balance_fires_once_per_crossing() {
        let t = DEFAULT_LOW_BALANCE_USD;
        assert_eq!(t, dec!(1000));
        // GIVEN an armed account WHEN a debit leaves it below THEN it fires
        assert!(low_balance_fires(dec!(999.99), t, false));
        // not when it stays at or above the threshold
        assert!(!low_balance_fires(dec!(1000), t, false));
        // not again while it is still below (already alerted)
        assert!(!low_balance_fires(dec!(500), t, true));
    }

    #[test]
    fn names_round_trip() {
        for t in EventType::ALL {
            assert_eq!(EventType::parse(t.as_str()), Some(t));
        }
        assert_eq!(EventType::parse("topup.other"), None);
        assert_eq!(
            DeliveryStatus::parse("FAILED"),
            Some(DeliveryStatus::Failed)
        );
    }
}
