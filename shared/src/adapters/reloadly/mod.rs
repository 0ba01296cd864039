//! The production upstream: Reloadly's Airtime (top-ups) API, seeds 003/004.
//!
//! One [`ReloadlyProvider`] per warm Lambda instance. It keeps an OAuth2 client-credentials
//! token (one fetch shared by concurrent callers, refreshed shortly before `expires_in` and once
//! on a 401) and a bounded, time-limited cache of phone -> operator id (numbers port).
//!
//! Money safety rules (see [`TopupOutcome`]):
//! - everything that happens before `POST /topups` is sent (token, operator auto-detect, a
//!   connect error) is a definite failure: nothing reached Reloadly;
//! - once `POST /topups` may have reached Reloadly (timeout, reset, 5xx, unreadable 2xx), the
//!   outcome is `Unknown` and the request is NEVER sent again: the reconciler asks
//!   [`TopupProvider::status`];
//! - a 401 means "not processed", so it is retried once with a fresh token; a connect error
//!   means "not sent", so it is retried once.
//!
//! Phone format: Reloadly takes international numbers without `+`; we send `52` + the 10-digit
//! national number both to auto-detect and as `recipientPhone.number` (countryCode `MX`).
//!
//! Secrets: client secret and access token never appear in logs, errors or `Debug` output.

mod client;
mod config;
mod dto;
mod error;
#[cfg(test)]
mod mapping_tests;
mod operators;
mod outcome;
mod token;

pub use client::ReloadlyProvider;
pub use config::{
    credentials_from_secret_json, ReloadlyConfig, ReloadlyCredentials, ReloadlyEnv,
    DEFAULT_AUTH_URL, DEFAULT_CONNECT_TIMEOUT, DEFAULT_OPERATOR_CACHE_CAPACITY,
    DEFAULT_OPERATOR_CACHE_TTL, DEFAULT_TIMEOUT, LIVE_API_URL, MX_DIALING_CODE, SANDBOX_API_URL,
    TOPUPS_MEDIA_TYPE,
};
pub use error::ReloadlyError;

use crate::ports::{FxFeed, ProviderStatus, TopupOutcome, TopupProvider, TopupRequest};
use async_trait::async_trait;
use client::{international, remaining, NO_BODY};
use dto::{Listing, RecipientPhone, StatusResponse, TopupRequestBody};
use outcome::{
    definite_reason, find_in_report, status_outcome, topup_outcome, unavailable, ReportFinding,
    TopupAnswer, TopupMapping,
};
use reqwest::{Method, StatusCode};
use rust_decimal::Decimal;
use std::time::Instant;

impl ReloadlyProvider {
    // ---- status -----------------------------------------------------------------------------

    async fn status_until(&self, request: &TopupRequest, deadline: Instant) -> ProviderStatus {
        let our_id = request.transaction_id.as_str();
        let query = [("customIdentifier", our_id.to_owned())];
        let report = match self
            .call(
                Method::GET,
                "/topups/reports/transactions",
                &query,
                NO_BODY,
                deadline,
            )
            .await
        {
            Ok(r) => r,
            Err(e) => return unavailable(format!("transactions report: {e}")),
        };
        if !report.status.is_success() {
            let code = report.error_body().error_code().unwrap_or_default();
            if report.status == StatusCode::NOT_FOUND && code.contains("TRANSACTION") {
                return ProviderStatus::NotFound;
            }
            return unavailable(format!("transactions report: {}", report.into_error()));
        }
        let entry = match find_in_report(Listing::decode(&report.body), our_id) {
            ReportFinding::Entry(entry) => entry,
            ReportFinding::NotFound => return ProviderStatus::NotFound,
            ReportFinding::Unavailable(status) => return status,
        };
        let live = match entry.transaction_id {
            Some(transaction_id) => self.live_status(transaction_id, deadline).await,
            None => None,
        };
        status_outcome(&entry, live.as_ref())
    }

    /// `GET /topups/{id}/status`, when it answers; a failure only means the report is used.
    async fn live_status(&self, transaction_id: i64, deadline: Instant) -> Option<StatusResponse> {
        let path = format!("/topups/{transaction_id}/status");
        match self.call(Method::GET, &path, &[], NO_BODY, deadline).await {
            Ok(r) if r.status.is_success() => Some(r.decode()),
            Ok(r) => {
                tracing::warn!(
                    transaction_id,
                    status = r.status.as_u16(),
                    "status endpoint failed, using the report"
                );
                None
            }
            Err(e) => {
                tracing::warn!(transaction_id, error = %e, "status endpoint failed, using the report");
                None
            }
        }
    }

    /// After a duplicate-customIdentifier answer: the earlier send is the real one.
    async fn outcome_from_status(&self, request: &TopupRequest, deadline: Instant) -> TopupOutcome {
        match self.status_until(request, deadline).await {
            ProviderStatus::Successful { operator_transaction_id } => TopupOutcome::Success { operator_transaction_id },
            ProviderStatus::Failed { reason } => TopupOutcome::Failed { reason },
            ProviderStatus::Processing => TopupOutcome::Unknown {
                reason: "already sent to Reloadly (duplicate customIdentifier); still PROCESSING".into(),
            },
            ProviderStatus::NotFound => TopupOutcome::Unknown {
                reason: "Reloadly reported a duplicate customIdentifier but the transaction is not in the report yet"
                    .into(),
            },
            ProviderStatus::Unavailable { reason } => TopupOutcome::Unknown {
                reason: format!("already sent to Reloadly (duplicate customIdentifier); status unavailable: {reason}"),
            },
        }
    }
}

#[async_trait]
impl TopupProvider for ReloadlyProvider {
    fn name(&self) -> &str {
        "reloadly"
    }

    async fn send_topup(&self, request: &TopupRequest) -> TopupOutcome {
        let deadline = self.deadline();
        let tx = request.transaction_id.as_str();

        // Before POST /topups nothing can have been delivered: every error is definite.
        let operator_id = match self.detect_operator_until(&request.phone, deadline).await {
            Ok(id) => id,
            Err(e) => {
                let reason = match e.error_code().and_then(definite_reason) {
                    Some(reason) => reason,
                    None => format!("operator lookup failed, top-up not sent: {e}"),
                };
                tracing::warn!(transaction_id = tx, %reason, "Reloadly top-up not sent");
                return TopupOutcome::Failed { reason };
            }
        };
        // Leave the POST a useful share of the budget instead of a doomed sliver (a timeout on
        // the POST costs a reconciliation, failing here costs nothing).
        if remaining(deadline).is_none_or(|r| r < self.timeout / 4) {
            return TopupOutcome::Failed {
                reason: "provider too slow before sending (token/operator lookup); top-up not sent"
                    .into(),
            };
        }

        let body = TopupRequestBody {
            operator_id,
            amount: request.amount.value(),
            use_local_amount: true,
            custom_identifier: tx,
            recipient_phone: RecipientPhone {
                country_code: "MX",
                number: international(&request.phone),
            },
        };
        let outcome = match self
            .call(Method::POST, "/topups", &[], Some(&body), deadline)
            .await
        {
            Err(e) if e.not_sent() => TopupOutcome::Failed {
                reason: format!("top-up not sent: {e}"),
            },
            Err(e) => TopupOutcome::Unknown {
                reason: format!("top-up may have reached Reloadly: {e}"),
            },
            Ok(response) => match topup_outcome(response.status, &TopupAnswer::of(&response)) {
                TopupMapping::Done(outcome) => outcome,
                TopupMapping::Duplicate => {
                    tracing::info!(
                        transaction_id = tx,
                        "duplicate customIdentifier, looking the status up"
                    );
                    // Within the same budget (API Gateway's 29 s); if it is spent the lookup
                    // answers Unavailable -> Unknown and the reconciler asks later.
                    self.outcome_from_status(request, deadline).await
                }
            },
        };
        if matches!(outcome, TopupOutcome::Failed { .. }) {
            // The number may have ported: detect again next time.
            self.operators.remove(request.phone.as_str());
        }
        match &outcome {
            TopupOutcome::Success { .. } => tracing::info!(
                transaction_id = tx,
                operator_id,
                "Reloadly top-up delivered"
            ),
            TopupOutcome::Failed { reason } => {
                tracing::warn!(transaction_id = tx, operator_id, %reason, "Reloadly top-up failed")
            }
            TopupOutcome::Unknown { reason } => {
                tracing::warn!(transaction_id = tx, operator_id, %reason, "Reloadly top-up outcome unknown")
            }
        }
        outcome
    }

    async fn status(&self, request: &TopupRequest) -> ProviderStatus {
        self.status_until(request, self.deadline()).await
    }
}

#[async_trait]
impl FxFeed for ReloadlyProvider {
    fn source(&self) -> &str {
        "reloadly"
    }
    async fn mxn_per_usd(&self) -> Result<Decimal, String> {
        self.fx_rate_mxn_per_usd(None)
            .await
            .map_err(|e| e.to_string())
    }
    /// Our prepaid balance with Reloadly: fx-refresh reports it as the `ProviderBalance`
    /// metric (README decision 17). A failed lookup only skips the metric.
    async fn provider_balance(&self) -> Option<(Decimal, String)> {
        match self.account_balance().await {
            Ok(balance) => Some(balance),
            Err(e) => {
                tracing::warn!(error = %e, "provider balance unavailable; metric skipped");
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::dto::{value_as_decimal, value_as_i64, value_as_u64};
    use super::operators::OperatorCache;
    use super::outcome::is_duplicate_custom_identifier;
    use super::outcome::normalize_code;
    use super::*;
    use serde_json::json;
    use std::collections::HashMap;
    use std::time::Duration;

    #[test]
    fn codes_are_normalized() {
        assert_eq!(
            normalize_code("OPERATOR_UNAVAILABLE_OR_ CURRENTLY INACTIVE"),
            "OPERATOR_UNAVAILABLE_OR_CURRENTLY_INACTIVE"
        );
        assert_eq!(normalize_code(" token_expired "), "TOKEN_EXPIRED");
    }

    #[test]
    fn duplicate_detection_is_defensive_but_not_trigger_happy() {
        assert!(is_duplicate_custom_identifier(
            Some("DUPLICATED_TRANSACTION"),
            None
        ));
        assert!(is_duplicate_custom_identifier(
            Some("INVALID_REQUEST"),
            Some("customIdentifier already used")
        ));
        assert!(is_duplicate_custom_identifier(
            None,
            Some("Custom identifier must be unique")
        ));
        assert!(!is_duplicate_custom_identifier(
            Some("INVALID_REQUEST"),
            Some("customIdentifier is too long")
        ));
        assert!(!is_duplicate_custom_identifier(
            Some("INSUFFICIENT_BALANCE"),
            None
        ));
    }

    #[test]
    fn numbers_parse_from_numbers_and_strings() {
        assert_eq!(value_as_u64(&json!("5184000")), Some(5_184_000));
        assert_eq!(value_as_u64(&json!(86400)), Some(86_400));
        assert_eq!(value_as_decimal(&json!(17.25)), Some(Decimal::new(1725, 2)));
        assert_eq!(
            value_as_decimal(&json!("18.52")),
            Some(Decimal::new(1852, 2))
        );
        assert_eq!(value_as_i64(&json!("173")), Some(173));
    }

    #[test]
    fn operator_cache_is_bounded() {
        let cache = OperatorCache {
            ttl: Duration::from_secs(60),
            capacity: 2,
            entries: std::sync::Mutex::new(HashMap::new()),
        };
        cache.insert("5500000001", 1);
        cache.insert("5500000002", 2);
        cache.insert("5500000003", 3);
        assert_eq!(cache.entries.lock().unwrap().len(), 2);
        assert_eq!(cache.get("5500000003"), Some(3));
        assert_eq!(cache.get("5500000001"), None, "the oldest entry is evicted");
        cache.remove("5500000003");
        assert_eq!(cache.get("5500000003"), None);
    }

    #[test]
    fn credentials_debug_is_redacted() {
        let c = ReloadlyCredentials::new("id-1", "very-secret");
        assert!(!format!("{c:?}").contains("very-secret"));
    }
}
