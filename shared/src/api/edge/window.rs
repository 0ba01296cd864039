//! The guides' "General API: 300 requests / 15 minutes" as a fixed UTC window per customer,
//! counted with one atomic conditional write per request, and the headers that tell partners
//! where they stand.

use crate::domain::Account;
use crate::domain::CustomerId;
use crate::ports::StoreError;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use lambda_http::http::header::{HeaderMap, HeaderValue};

/// The guides' value, used when an account has no setting of its own.
pub const DEFAULT_REQUESTS_PER_15MIN: u32 = 300;
/// Window length in seconds.
pub const WINDOW_SECS: i64 = 15 * 60;
/// The policy's name in `RateLimit-Policy` / `RateLimit`.
pub const POLICY: &str = "15min";

pub fn limit_for(account: &Account) -> u32 {
    account
        .max_requests_per_15min
        .unwrap_or(DEFAULT_REQUESTS_PER_15MIN)
}

/// Start (Unix seconds) of the fixed window `now` falls in: :00, :15, :30, :45 of each hour.
pub fn window_start(now: DateTime<Utc>) -> i64 {
    now.timestamp().div_euclid(WINDOW_SECS) * WINDOW_SECS
}

/// Where a customer stands in the current window after this request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowState {
    pub limit: u32,
    /// Requests counted in this window, this one included (when admitted).
    pub used: u32,
    /// Unix seconds when the window ends and the count starts again.
    pub reset_at: i64,
    /// Seconds from now until `reset_at` (at least 1).
    pub reset_in: u32,
    /// False: this request was refused (429) and not counted.
    pub admitted: bool,
    /// The first admitted request of this API key in this window (its "last used" is due).
    pub first_use_of_key: bool,
}

impl WindowState {
    pub fn new(limit: u32, used: u32, now: DateTime<Utc>, admitted: bool) -> Self {
        let reset_at = window_start(now) + WINDOW_SECS;
        let reset_in = (reset_at - now.timestamp()).clamp(1, WINDOW_SECS) as u32;
        Self {
            limit,
            used,
            reset_at,
            reset_in,
            admitted,
            first_use_of_key: false,
        }
    }

    pub fn remaining(&self) -> u32 {
        self.limit.saturating_sub(self.used)
    }

    /// `X-RateLimit-*` (the de-facto names partners' code reads; Reset is Unix seconds, as
    /// GitHub and most gateways send it) and the IETF draft's structured fields
    /// (`RateLimit-Policy: "15min";q=300;w=900`, `RateLimit: "15min";r=299;t=840`; `t` is
    /// seconds from now).
    pub fn write_headers(&self, headers: &mut HeaderMap) {
        let mut set = |name: &'static str, value: String| {
            if let Ok(v) = HeaderValue::from_str(&value) {
                headers.insert(name, v);
            }
        };
        set("x-ratelimit-limit", self.limit.to_string());
        set("x-ratelimit-remaining", self.remaining().to_string());
        set("x-ratelimit-reset", self.reset_at.to_string());
        set(
            "ratelimit-policy",
            format!("\"{POLICY}\";q={};w={WINDOW_SECS}", self.limit),
        );
        set(
            "ratelimit",
            format!("\"{POLICY}\";r={};t={}", self.remaining(), self.reset_in),
        );
    }
}

/// The window counter (port; DynamoDB in `adapters::dynamo::request_window`).
#[async_trait]
pub trait RequestWindows: Send + Sync {
    /// Count one request in the customer's current window unless that would exceed `limit`
    /// (one atomic conditional write). A refused request is not counted. The same write notes
    /// the API key (`key_hash`, SHA-256 hex) as seen in the window, and says whether it is the
    /// key's first request there (`first_use_of_key`).
    async fn count_request(
        &self,
        customer: &CustomerId,
        key_hash: &str,
        limit: u32,
        now: DateTime<Utc>,
    ) -> Result<WindowState, StoreError>;

    /// Record the key's last use, best effort and in the background: returns at once, never
    /// fails (errors are logged), never delays the request. The gate calls it on a key's first
    /// request of a window, so a key costs at most one extra write per 15 minutes.
    fn note_key_use(&self, customer: &CustomerId, key_hash: &str, at: DateTime<Utc>);

    /// The count so far in the current window (for `GET /api/limits`; no write).
    async fn requests_in_window(
        &self,
        customer: &CustomerId,
        now: DateTime<Utc>,
    ) -> Result<u32, StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn windows_are_fixed_quarter_hours() {
        // GIVEN 10:07:30 UTC
        let now = Utc.with_ymd_and_hms(2026, 11, 27, 10, 7, 30).unwrap();
        // THEN the window is 10:00-10:15 and resets in 7.5 minutes
        assert_eq!(
            window_start(now),
            Utc.with_ymd_and_hms(2026, 11, 27, 10, 0, 0)
                .unwrap()
                .timestamp()
        );
        let state = WindowState::new(300, 1, now, true);
        assert_eq!(state.reset_in, 450);
        assert_eq!(state.remaining(), 299);
        // AND at the last second of a window the reset is 1 s away
        let late = Utc.with_ymd_and_hms(2026, 11, 27, 10, 14, 59).unwrap();
        assert_eq!(WindowState::new(300, 300, late, false).reset_in, 1);
    }

    #[test]
    fn headers_carry_both_conventions() {
        let now = Utc.with_ymd_and_hms(2026, 11, 27, 10, 14, 0).unwrap();
        let mut headers = HeaderMap::new();
        WindowState::new(300, 300, now, true).write_headers(&mut headers);
        let get = |n: &str| headers.get(n).unwrap().to_str().unwrap().to_owned();
        assert_eq!(get("x-ratelimit-limit"), "300");
        assert_eq!(get("x-ratelimit-remaining"), "0");
        assert_eq!(
            get("x-ratelimit-reset"),
            Utc.with_ymd_and_hms(2026, 11, 27, 10, 15, 0)
                .unwrap()
                .timestamp()
                .to_string()
        );
        assert_eq!(get("ratelimit-policy"), "\"15min\";q=300;w=900");
        assert_eq!(get("ratelimit"), "\"15min\";r=0;t=60");
    }
}
