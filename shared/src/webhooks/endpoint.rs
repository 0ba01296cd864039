//! A partner's webhook endpoint: URL, subscribed event types, signing secrets.

use super::event::EventType;
use super::signing::WebhookSecret;
use chrono::{DateTime, Duration, Utc};

/// After `rotate-secret`, the previous secret keeps signing this long (the spec allows
/// several signatures so receivers can switch without downtime).
pub const ROTATION_OVERLAP_HOURS: i64 = 24;

#[derive(Debug, Clone, PartialEq)]
pub struct SigningKey {
    pub secret: WebhookSecret,
    /// None: current. Some: a rotated-out secret that still signs until then.
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Endpoint {
    pub customer_id: String,
    pub url: String,
    /// None: every event type.
    pub events: Option<Vec<EventType>>,
    pub keys: Vec<SigningKey>,
    /// Set when the endpoint answered 410 Gone (or ops disabled it).
    pub disabled_reason: Option<String>,
    pub updated_at: DateTime<Utc>,
}

impl Endpoint {
    /// A new endpoint with a fresh secret (returned: show it once).
    pub fn new(
        customer_id: &str,
        url: &str,
        events: Option<Vec<EventType>>,
        now: DateTime<Utc>,
    ) -> (Self, WebhookSecret) {
        let secret = WebhookSecret::generate();
        (
            Self {
                customer_id: customer_id.to_owned(),
                url: url.to_owned(),
                events,
                keys: vec![SigningKey {
                    secret: secret.clone(),
                    expires_at: None,
                }],
                disabled_reason: None,
                updated_at: now,
            },
            secret,
        )
    }

    /// What the audit trail records of an endpoint: never a secret, only how many sign and
    /// until when the rotated-out ones do.
    pub fn audit_view(&self) -> serde_json::Value {
        serde_json::json!({
            "url": self.url,
            "events": self.events.as_ref().map(|e| e.iter().map(|t| t.as_str()).collect::<Vec<_>>()),
            "enabled": self.disabled_reason.is_none(),
            "disabled_reason": self.disabled_reason,
            "signing_secrets": self.keys.len(),
            "rotated_out_until": self.keys.iter().filter_map(|k| k.expires_at)
                .map(crate::api::json::timestamp).collect::<Vec<_>>(),
        })
    }

    /// Does the partner want this event type? Pings always go out.
    pub fn wants(&self, event_type: EventType) -> bool {
        event_type == EventType::Ping
            || self
                .events
                .as_ref()
                .is_none_or(|list| list.contains(&event_type))
    }

    /// The secrets that sign at `now`: the current one first, then unexpired old ones.
    pub fn signing_secrets(&self, now: DateTime<Utc>) -> Vec<WebhookSecret> {
        self.keys
            .iter()
            .filter(|k| k.expires_at.is_none_or(|t| t > now))
            .map(|k| k.secret.clone())
            .collect()
    }

    /// New current secret; the old current one signs for 24 h more; expired ones are dropped.
    pub fn rotate(&mut self, now: DateTime<Utc>) -> WebhookSecret {
        let secret = WebhookSecret::generate();
        let overlap = now + Duration::hours(ROTATION_OVERLAP_HOURS);
        let mut keys = vec![SigningKey {
            secret: secret.clone(),
            expires_at: None,
        }];
        keys.extend(
            self.keys
                .iter()
                .filter(|k| k.expires_at.is_none_or(|t| t > now))
                .map(|k| SigningKey {
                    secret: k.secret.clone(),
                    expires_at: Some(k.expires_at.unwrap_or(overlap).min(overlap)),
                }),
        );
        self.keys = keys;
        self.updated_at = now;
        secret
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn rotation_keeps_the_old_secret_signing_for_24_hours() {
        let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let (mut ep, first) = Endpoint::new("HAZ_001", "https://example.com/h", None, t0);
        assert_eq!(ep.signing_secrets(t0), vec![first.clone()]);
        // WHEN rotated THEN both sign, the new one first
        let second = ep.rotate(t0);
        assert_eq!(ep.signing_secrets(t0), vec![second.clone(), first.clone()]);
        // AND 24 h later only the new one does
        let later = t0 + Duration::hours(24) + Duration::seconds(1);
        assert_eq!(ep.signing_secrets(later), vec![second.clone()]);
        // a second rotation drops what already expired
        let third = ep.rotate(later);
        assert_eq!(ep.keys.len(), 2);
        assert_eq!(ep.signing_secrets(later), vec![third, second]);
    }

    #[test]
    fn subscriptions_filter_events_but_pings_always_go() {
        let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let (mut ep, _) = Endpoint::new("HAZ_001", "https://example.com/h", None, t0);
        assert!(ep.wants(EventType::BalanceLow));
        ep.events = Some(vec![EventType::TopupFailed]);
        assert!(ep.wants(EventType::TopupFailed));
        assert!(!ep.wants(EventType::TopupSucceeded));
        assert!(ep.wants(EventType::Ping));
    }
}
