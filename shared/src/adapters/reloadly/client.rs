//! The HTTP client: construction, deadlines, the one authorized call, balance and fx rate.

use super::config::{
    trim_base, ReloadlyConfig, ReloadlyCredentials, MX_DIALING_CODE, TOPUPS_MEDIA_TYPE,
};
use super::dto::{ApiResponse, BalanceResponse, FxRateRequest, FxRateResponse};
use super::error::ReloadlyError;
use super::operators::OperatorCache;
use super::token::CachedToken;
use crate::config::ProviderConfigError;
use crate::domain::Phone;
use reqwest::header::{HeaderValue, ACCEPT};
use reqwest::{Method, StatusCode};
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::HashMap;
use std::fmt;
use std::time::{Duration, Instant};

/// The Reloadly Airtime client; implements [`TopupProvider`] (name `reloadly`).
pub struct ReloadlyProvider {
    pub(super) http: reqwest::Client,
    pub(super) credentials: ReloadlyCredentials,
    pub(super) audience: String,
    pub(super) auth_url: String,
    pub(super) api_url: String,
    pub(super) timeout: Duration,
    pub(super) token: tokio::sync::Mutex<Option<CachedToken>>,
    pub(super) operators: OperatorCache,
}

impl fmt::Debug for ReloadlyProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReloadlyProvider")
            .field("client_id", &self.credentials.client_id)
            .field("audience", &self.audience)
            .field("auth_url", &self.auth_url)
            .field("api_url", &self.api_url)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl ReloadlyProvider {
    pub fn new(config: ReloadlyConfig) -> Result<Self, ProviderConfigError> {
        crate::crypto::install();
        let http = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .timeout(config.timeout)
            .build()
            .map_err(|e| ProviderConfigError::Client(e.without_url().to_string()))?;
        Ok(Self {
            http,
            credentials: config.credentials,
            audience: config.audience,
            auth_url: trim_base(&config.auth_url),
            api_url: trim_base(&config.api_url),
            timeout: config.timeout,
            token: tokio::sync::Mutex::new(None),
            operators: OperatorCache {
                ttl: config.operator_cache_ttl,
                capacity: config.operator_cache_capacity,
                entries: std::sync::Mutex::new(HashMap::new()),
            },
        })
    }

    pub(super) fn deadline(&self) -> Instant {
        Instant::now() + self.timeout
    }

    // ---- generic authorized call ------------------------------------------------------------

    /// One Topups API call with the bearer token. Retries once with a fresh token on 401 (the
    /// request was not processed) and once on a connect error (it was never sent). Never
    /// retries anything else.
    pub(super) async fn call<B: Serialize + Sync>(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&B>,
        deadline: Instant,
    ) -> Result<ApiResponse, ReloadlyError> {
        let url = format!("{}{}", self.api_url, path);
        let mut refreshed = false;
        let mut connect_retried = false;
        loop {
            let token = self.access_token(deadline).await?;
            let remaining = remaining(deadline).ok_or(ReloadlyError::Deadline)?;
            let mut request = self
                .http
                .request(method.clone(), &url)
                .header(ACCEPT, HeaderValue::from_static(TOPUPS_MEDIA_TYPE))
                .bearer_auth(&token)
                .timeout(remaining);
            if !query.is_empty() {
                request = request.query(query);
            }
            if let Some(body) = body {
                request = request.json(body);
            }
            let response = match request.send().await {
                Err(e) if e.is_connect() && !connect_retried => {
                    connect_retried = true;
                    tracing::warn!(%method, path = redact_path(path), "connect error, retrying once (request was not sent)");
                    continue;
                }
                Err(e) => return Err(ReloadlyError::from_reqwest(e)),
                Ok(r) => r,
            };
            let status = response.status();
            if status == StatusCode::UNAUTHORIZED && !refreshed {
                refreshed = true;
                tracing::info!(%method, path = redact_path(path), "Reloadly answered 401, refreshing the token once");
                self.invalidate_token(&token).await;
                continue;
            }
            let body = response
                .bytes()
                .await
                .map_err(ReloadlyError::from_reqwest)?
                .to_vec();
            return Ok(ApiResponse { status, body });
        }
    }

    // ---- balance / fx -----------------------------------------------------------------------

    /// `GET /accounts/balance` -> (balance, account currency code, e.g. `USD`).
    pub async fn account_balance(&self) -> Result<(Decimal, String), ReloadlyError> {
        let deadline = self.deadline();
        let answer: BalanceResponse = self
            .call(Method::GET, "/accounts/balance", &[], NO_BODY, deadline)
            .await?
            .success()?;
        let balance = answer
            .balance
            .ok_or_else(|| ReloadlyError::Decode("balance answer has no numeric balance".into()))?;
        let currency = answer
            .currency_code
            .filter(|c| !c.is_empty())
            .ok_or_else(|| ReloadlyError::Decode("balance answer has no currencyCode".into()))?;
        Ok((balance, currency))
    }

    /// MXN per 1 unit of our (USD) account currency: `POST /operators/fx-rate` with
    /// `{operatorId, amount: 1}` -> `fxRate`. Without `operator_id`, Telcel (or the first MX
    /// operator) from `GET /operators/countries/MX` is used.
    pub async fn fx_rate_mxn_per_usd(
        &self,
        operator_id: Option<i64>,
    ) -> Result<Decimal, ReloadlyError> {
        let deadline = self.deadline();
        let operator_id = match operator_id {
            Some(id) => id,
            None => self.mx_operator_id(deadline).await?,
        };
        let request = FxRateRequest {
            operator_id,
            amount: 1,
        };
        let answer: FxRateResponse = self
            .call(
                Method::POST,
                "/operators/fx-rate",
                &[],
                Some(&request),
                deadline,
            )
            .await?
            .success()?;
        if let Some(currency) = &answer.currency_code {
            if !currency.eq_ignore_ascii_case("MXN") {
                return Err(ReloadlyError::Decode(format!(
                    "fx-rate for operator {operator_id} is in {currency}, not MXN"
                )));
            }
        }
        let rate = answer
            .fx_rate
            .ok_or_else(|| ReloadlyError::Decode("fx-rate answer has no numeric fxRate".into()))?;
        if rate <= Decimal::ZERO {
            return Err(ReloadlyError::Decode(format!(
                "fx-rate is not positive: {rate}"
            )));
        }
        Ok(rate)
    }
}

/// `call` without a request body.
pub(super) const NO_BODY: Option<&()> = None;

pub(super) fn remaining(deadline: Instant) -> Option<Duration> {
    deadline
        .checked_duration_since(Instant::now())
        .filter(|d| !d.is_zero())
}

pub(super) fn international(phone: &Phone) -> String {
    format!("{MX_DIALING_CODE}{}", phone.as_str())
}

/// Paths may contain a phone number: log only the resource kind.
pub(super) fn redact_path(path: &str) -> &str {
    if path.starts_with("/operators/auto-detect/") {
        "/operators/auto-detect/…"
    } else {
        path
    }
}
