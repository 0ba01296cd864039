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

use crate::config::ProviderConfigError;
use crate::domain::Phone;
use crate::ports::{FxFeed, ProviderStatus, TopupOutcome, TopupProvider, TopupRequest};
use async_trait::async_trait;
use reqwest::header::{HeaderValue, ACCEPT};
use reqwest::{Method, StatusCode};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::time::{Duration, Instant};

/// `Accept` header of every Topups API call.
pub const TOPUPS_MEDIA_TYPE: &str = "application/com.reloadly.topups-v1+json";
pub const DEFAULT_AUTH_URL: &str = "https://auth.reloadly.com";
pub const SANDBOX_API_URL: &str = "https://topups-sandbox.reloadly.com";
pub const LIVE_API_URL: &str = "https://topups.reloadly.com";
/// Mexico's international dialing code, prefixed to our 10-digit [`Phone`].
pub const MX_DIALING_CODE: &str = "52";
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// Budget for one whole `send_topup`/`status` call (token + detect + top-up), well under API
/// Gateway's 29 s.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20);
pub const DEFAULT_OPERATOR_CACHE_TTL: Duration = Duration::from_secs(3600);
pub const DEFAULT_OPERATOR_CACHE_CAPACITY: usize = 10_000;

/// Reloadly error codes that mean "rejected, nothing delivered, nothing charged" (seed 003
/// "Error Codes"), with the reason we record. Matched after [`normalize_code`].
const DEFINITE_FAILURES: &[(&str, &str)] = &[
    (
        "INSUFFICIENT_BALANCE",
        "the provider account has insufficient balance",
    ),
    (
        "INVALID_AMOUNT_FOR_OPERATOR",
        "the amount is not valid for this phone's operator",
    ),
    ("INVALID_AMOUNT", "the amount was rejected as invalid"),
    (
        "INVALID_RECIPIENT_PHONE",
        "the phone number is not valid for Mexico",
    ),
    ("INVALID_PHONE_NUMBER", "the phone number is not valid"),
    ("INVALID_SENDER_PHONE", "the sender phone was rejected"),
    (
        "OPERATOR_UNAVAILABLE_OR_CURRENTLY_INACTIVE",
        "the phone's operator is currently unavailable",
    ),
    (
        "OPERATOR_NOT_IN_SERVICE",
        "the phone's operator is not in service",
    ),
    (
        "PHONE_RECENTLY_RECHARGED",
        "the phone was topped up moments ago; retry in a few minutes",
    ),
    (
        "MAX_DAILY_TRANSACTION_COUNT_REACHED",
        "the provider's daily transaction count limit was reached",
    ),
    (
        "MAX_DAILY_TRANSACTION_AMOUNT_REACHED",
        "the provider's daily transaction amount limit was reached",
    ),
    (
        "COUNTRY_NOT_SUPPORTED",
        "top-ups to Mexico are not enabled at the provider",
    ),
    ("INACTIVE_ACCOUNT", "the provider account is inactive"),
    ("ACCOUNT_NOT_FOUND", "the provider account was not found"),
    (
        "TOPUP_TRANSACTION_FAILED",
        "the operator rejected the top-up",
    ),
    (
        "TRANSACTION_CANNOT_BE_PROCESSED_AT_THE_MOMENT",
        "the provider cannot process top-ups at the moment",
    ),
    (
        "COULD_NOT_AUTO_DETECT_OPERATOR",
        "could not determine the mobile operator of this phone number",
    ),
    (
        "INVALID_REQUEST",
        "the provider rejected the request as invalid",
    ),
    ("RATE_LIMIT_REACHED", "the provider rate limit was reached"),
    (
        "NOT_AUTHORIZED",
        "the provider refused the request (not authorized)",
    ),
    (
        "AUTHENTICATION_FAILURE",
        "authentication with the provider failed",
    ),
];

/// HTTP statuses that Reloadly only returns before processing anything (seed 003 "HTTP status
/// codes"): a 4xx with one of these is a definite failure even with an unknown `errorCode`.
const REJECTED_BEFORE_PROCESSING: &[u16] = &[400, 401, 403, 404, 405, 406, 415, 429];

// ---------------------------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------------------------

/// Which Reloadly environment: picks the token `audience` and the default API host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReloadlyEnv {
    Sandbox,
    Live,
}

impl ReloadlyEnv {
    pub fn parse(raw: &str) -> Result<Self, String> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "sandbox" => Ok(Self::Sandbox),
            "live" => Ok(Self::Live),
            other => Err(format!("expected `sandbox` or `live`, got `{other}`")),
        }
    }
    /// The OAuth `audience` (always the real host, even when the API URL is overridden).
    pub fn audience(self) -> &'static str {
        match self {
            Self::Sandbox => SANDBOX_API_URL,
            Self::Live => LIVE_API_URL,
        }
    }
    pub fn default_api_url(self) -> &'static str {
        self.audience()
    }
}

/// OAuth client credentials. `Debug` never prints the secret.
#[derive(Clone)]
pub struct ReloadlyCredentials {
    client_id: String,
    client_secret: String,
}

impl ReloadlyCredentials {
    pub fn new(client_id: impl Into<String>, client_secret: impl Into<String>) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
        }
    }
    pub fn client_id(&self) -> &str {
        &self.client_id
    }
}

impl fmt::Debug for ReloadlyCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReloadlyCredentials")
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .finish()
    }
}

/// Everything [`ReloadlyProvider::new`] needs. Build with [`ReloadlyConfig::new`] and adjust the
/// public fields, or read it from the environment with [`ReloadlyConfig::from_env`].
#[derive(Debug, Clone)]
pub struct ReloadlyConfig {
    pub credentials: ReloadlyCredentials,
    pub env: ReloadlyEnv,
    /// OAuth audience; defaults to [`ReloadlyEnv::audience`].
    pub audience: String,
    /// Base of `POST /oauth/token`, no trailing slash.
    pub auth_url: String,
    /// Base of the Topups API, no trailing slash.
    pub api_url: String,
    pub connect_timeout: Duration,
    /// Whole-call budget of `send_topup` / `status` / `account_balance` / `fx_rate_mxn_per_usd`.
    pub timeout: Duration,
    pub operator_cache_ttl: Duration,
    pub operator_cache_capacity: usize,
}

impl ReloadlyConfig {
    pub fn new(credentials: ReloadlyCredentials, env: ReloadlyEnv) -> Self {
        Self {
            credentials,
            env,
            audience: env.audience().to_owned(),
            auth_url: DEFAULT_AUTH_URL.to_owned(),
            api_url: env.default_api_url().to_owned(),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            timeout: DEFAULT_TIMEOUT,
            operator_cache_ttl: DEFAULT_OPERATOR_CACHE_TTL,
            operator_cache_capacity: DEFAULT_OPERATOR_CACHE_CAPACITY,
        }
    }

    /// Reads the process environment; see [`ReloadlyConfig::from_lookup`].
    pub async fn from_env() -> Result<Self, ProviderConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok()).await
    }

    /// Reads configuration through `lookup` (tests pass a map instead of mutating the env):
    /// - `RELOADLY_ENV` = `sandbox` | `live` (required: a live deployment silently talking to the
    ///   sandbox would "deliver" nothing);
    /// - credentials: `RELOADLY_SECRET_ID` (Secrets Manager id/ARN of a JSON secret
    ///   `{"client_id", "client_secret"}`, read with `GetSecretValue` through the AWS SDK,
    ///   [`crate::adapters::secrets`]; `AWS_ENDPOINT_URL_SECRETS_MANAGER` overrides the endpoint), else
    ///   `RELOADLY_CLIENT_ID` + `RELOADLY_CLIENT_SECRET`;
    /// - optional `RELOADLY_AUTH_URL`, `RELOADLY_API_URL` (host overrides),
    ///   `RELOADLY_TIMEOUT_MS` (default 20000), `RELOADLY_CONNECT_TIMEOUT_MS` (default 3000),
    ///   `RELOADLY_OPERATOR_CACHE_TTL_SECS` (default 3600).
    pub async fn from_lookup<F>(lookup: F) -> Result<Self, ProviderConfigError>
    where
        F: Fn(&str) -> Option<String>,
    {
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };

        let env_raw = get("RELOADLY_ENV").ok_or(ProviderConfigError::Missing("RELOADLY_ENV"))?;
        let env = ReloadlyEnv::parse(&env_raw).map_err(|reason| ProviderConfigError::Invalid {
            name: "RELOADLY_ENV",
            reason,
        })?;
        let ms = |name: &'static str, default: Duration| -> Result<Duration, ProviderConfigError> {
            match get(name) {
                None => Ok(default),
                Some(v) => v
                    .parse::<u64>()
                    .ok()
                    .filter(|n| *n > 0)
                    .map(Duration::from_millis)
                    .ok_or(ProviderConfigError::Invalid {
                        name,
                        reason: format!("expected a positive number of milliseconds, got `{v}`"),
                    }),
            }
        };
        let connect_timeout = ms("RELOADLY_CONNECT_TIMEOUT_MS", DEFAULT_CONNECT_TIMEOUT)?;
        let timeout = ms("RELOADLY_TIMEOUT_MS", DEFAULT_TIMEOUT)?;
        let ttl = match get("RELOADLY_OPERATOR_CACHE_TTL_SECS") {
            None => DEFAULT_OPERATOR_CACHE_TTL,
            Some(v) => {
                Duration::from_secs(v.parse::<u64>().map_err(|_| ProviderConfigError::Invalid {
                    name: "RELOADLY_OPERATOR_CACHE_TTL_SECS",
                    reason: format!("expected a number of seconds, got `{v}`"),
                })?)
            }
        };

        let credentials = if let Some(secret_id) = get("RELOADLY_SECRET_ID") {
            let endpoint = get("AWS_ENDPOINT_URL_SECRETS_MANAGER");
            let sdk = crate::config::aws_sdk_config().await;
            let text = crate::adapters::secrets::SecretsManager::new(&sdk, endpoint.as_deref())
                .secret_string(&secret_id)
                .await
                .map_err(|e| ProviderConfigError::Secret {
                    secret_id: e.secret_id,
                    reason: e.reason,
                })?;
            credentials_from_secret_json(&secret_id, &text)?
        } else {
            let id = get("RELOADLY_CLIENT_ID")
                .ok_or(ProviderConfigError::Missing("RELOADLY_CLIENT_ID"))?;
            let secret = get("RELOADLY_CLIENT_SECRET")
                .ok_or(ProviderConfigError::Missing("RELOADLY_CLIENT_SECRET"))?;
            ReloadlyCredentials::new(id, secret)
        };

        let mut config = Self::new(credentials, env);
        if let Some(url) = get("RELOADLY_AUTH_URL") {
            config.auth_url = trim_base(&url);
        }
        if let Some(url) = get("RELOADLY_API_URL") {
            config.api_url = trim_base(&url);
        }
        config.connect_timeout = connect_timeout;
        config.timeout = timeout;
        config.operator_cache_ttl = ttl;
        Ok(config)
    }
}

fn trim_base(url: &str) -> String {
    url.trim().trim_end_matches('/').to_owned()
}

/// Reloadly credentials from a secret's JSON `{"client_id": .., "client_secret": ..}`.
/// Errors never contain the secret value.
pub fn credentials_from_secret_json(
    secret_id: &str,
    secret_string: &str,
) -> Result<ReloadlyCredentials, ProviderConfigError> {
    let secret_err = |reason: String| ProviderConfigError::Secret {
        secret_id: secret_id.to_owned(),
        reason,
    };
    let secret: Value = serde_json::from_str(secret_string)
        .map_err(|_| secret_err("SecretString is not a JSON object".into()))?;
    let field = |names: &[&str]| {
        names
            .iter()
            .find_map(|n| secret.get(*n).and_then(Value::as_str))
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let id = field(&["client_id", "clientId", "RELOADLY_CLIENT_ID"])
        .ok_or_else(|| secret_err("secret has no client_id".into()))?;
    let secret_value = field(&["client_secret", "clientSecret", "RELOADLY_CLIENT_SECRET"])
        .ok_or_else(|| secret_err("secret has no client_secret".into()))?;
    Ok(ReloadlyCredentials::new(id, secret_value))
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// A failed Reloadly call. Messages never contain secrets, tokens or full URLs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReloadlyError {
    /// The connection could not be established: the request provably never left.
    #[error("could not connect to Reloadly: {0}")]
    Connect(String),
    /// No (complete) answer in time: the request may have been processed.
    #[error("Reloadly did not answer in time: {0}")]
    Timeout(String),
    /// Any other transport problem after connecting: the request may have been processed.
    #[error("transport error talking to Reloadly: {0}")]
    Transport(String),
    /// Reloadly answered with a non-success status.
    #[error("Reloadly answered HTTP {status} ({})", describe_api_error(.error_code, .message))]
    Api {
        status: u16,
        error_code: Option<String>,
        message: Option<String>,
    },
    /// No access token could be obtained (the API request itself was not sent).
    #[error("could not obtain a Reloadly access token: {0}")]
    Auth(String),
    /// A success answer we could not understand.
    #[error("unexpected Reloadly response: {0}")]
    Decode(String),
    /// The call's time budget ran out before the request was sent.
    #[error("time budget exhausted before the request was sent")]
    Deadline,
}

fn describe_api_error(code: &Option<String>, message: &Option<String>) -> String {
    match (code, message) {
        (Some(c), Some(m)) => format!("{c}: {}", truncate(m, 200)),
        (Some(c), None) => c.clone(),
        (None, Some(m)) => truncate(m, 200),
        (None, None) => "no error body".into(),
    }
}

impl ReloadlyError {
    /// True when the request provably did not reach Reloadly (safe to fail definitively).
    pub fn not_sent(&self) -> bool {
        matches!(self, Self::Connect(_) | Self::Auth(_) | Self::Deadline)
    }
    /// Reloadly's `errorCode`, normalized (upper case, `_` separators), if it answered one.
    pub fn error_code(&self) -> Option<&str> {
        match self {
            Self::Api { error_code, .. } => error_code.as_deref(),
            _ => None,
        }
    }

    fn from_reqwest(e: reqwest::Error) -> Self {
        let connect = e.is_connect();
        let timeout = e.is_timeout();
        let text = error_chain(&e.without_url());
        if connect {
            Self::Connect(text)
        } else if timeout {
            Self::Timeout(text)
        } else {
            Self::Transport(text)
        }
    }
}

fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    truncate(&text, 300)
}

fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

/// `OPERATOR_UNAVAILABLE_OR_ CURRENTLY INACTIVE` (as printed in seed 004) -> the canonical code.
fn normalize_code(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for ch in raw.trim().chars() {
        let c = if ch.is_ascii_alphanumeric() {
            ch.to_ascii_uppercase()
        } else {
            '_'
        };
        if c == '_' && (out.is_empty() || out.ends_with('_')) {
            continue;
        }
        out.push(c);
    }
    out.trim_end_matches('_').to_owned()
}

// ---------------------------------------------------------------------------------------------
// The provider
// ---------------------------------------------------------------------------------------------

struct CachedToken {
    value: String,
    refresh_at: Instant,
}

struct OperatorCache {
    ttl: Duration,
    capacity: usize,
    entries: std::sync::Mutex<HashMap<String, (i64, Instant)>>,
}

impl OperatorCache {
    fn get(&self, phone: &str) -> Option<i64> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries
            .get(phone)
            .filter(|(_, at)| at.elapsed() < self.ttl)
            .map(|(id, _)| *id)
    }

    fn insert(&self, phone: &str, operator_id: i64) {
        if self.capacity == 0 || self.ttl.is_zero() {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= self.capacity && !entries.contains_key(phone) {
            let ttl = self.ttl;
            entries.retain(|_, (_, at)| at.elapsed() < ttl);
            if entries.len() >= self.capacity {
                if let Some(oldest) = entries
                    .iter()
                    .min_by_key(|(_, (_, at))| *at)
                    .map(|(k, _)| k.clone())
                {
                    entries.remove(&oldest);
                }
            }
        }
        entries.insert(phone.to_owned(), (operator_id, Instant::now()));
    }

    fn remove(&self, phone: &str) {
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(phone);
    }
}

/// A response that arrived completely: status plus the body parsed as JSON (`Null` when the
/// body was empty or not JSON).
struct ApiResponse {
    status: StatusCode,
    body: Value,
}

impl ApiResponse {
    fn error_code(&self) -> Option<String> {
        self.body
            .get("errorCode")
            .and_then(Value::as_str)
            .map(normalize_code)
            .filter(|c| !c.is_empty())
    }
    fn message(&self) -> Option<String> {
        self.body
            .get("message")
            .and_then(Value::as_str)
            .map(str::to_owned)
    }
    fn into_error(self) -> ReloadlyError {
        ReloadlyError::Api {
            status: self.status.as_u16(),
            error_code: self.error_code(),
            message: self.message(),
        }
    }
    fn success(self) -> Result<Value, ReloadlyError> {
        if self.status.is_success() {
            Ok(self.body)
        } else {
            Err(self.into_error())
        }
    }
}

/// The Reloadly Airtime client; implements [`TopupProvider`] (name `reloadly`).
pub struct ReloadlyProvider {
    http: reqwest::Client,
    credentials: ReloadlyCredentials,
    audience: String,
    auth_url: String,
    api_url: String,
    timeout: Duration,
    token: tokio::sync::Mutex<Option<CachedToken>>,
    operators: OperatorCache,
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

    /// [`ReloadlyConfig::from_env`] + [`ReloadlyProvider::new`].
    pub async fn from_env() -> Result<Self, ProviderConfigError> {
        Self::new(ReloadlyConfig::from_env().await?)
    }

    fn deadline(&self) -> Instant {
        Instant::now() + self.timeout
    }

    // ---- token ----------------------------------------------------------------------------

    /// The cached token, or a fresh one. The lock is held during the fetch, so concurrent
    /// callers wait for (and share) a single token request.
    async fn access_token(&self, deadline: Instant) -> Result<String, ReloadlyError> {
        let remaining = remaining(deadline).ok_or(ReloadlyError::Deadline)?;
        let mut guard = tokio::time::timeout(remaining, self.token.lock())
            .await
            .map_err(|_| ReloadlyError::Deadline)?;
        if let Some(token) = guard.as_ref() {
            if Instant::now() < token.refresh_at {
                return Ok(token.value.clone());
            }
        }
        let fresh = self.fetch_token(deadline).await?;
        let value = fresh.value.clone();
        *guard = Some(fresh);
        Ok(value)
    }

    /// Drops the cached token if it is still the one that was rejected (another caller may
    /// already have replaced it).
    async fn invalidate_token(&self, rejected: &str) {
        let mut guard = self.token.lock().await;
        if guard.as_ref().is_some_and(|t| t.value == rejected) {
            *guard = None;
        }
    }

    async fn fetch_token(&self, deadline: Instant) -> Result<CachedToken, ReloadlyError> {
        let started = Instant::now();
        let body = json!({
            "client_id": self.credentials.client_id,
            "client_secret": self.credentials.client_secret,
            "grant_type": "client_credentials",
            "audience": self.audience,
        });
        let url = format!("{}/oauth/token", self.auth_url);
        let mut connect_retried = false;
        let response = loop {
            let remaining = remaining(deadline).ok_or(ReloadlyError::Deadline)?;
            let sent = self
                .http
                .post(&url)
                .header(ACCEPT, HeaderValue::from_static("application/json"))
                .json(&body)
                .timeout(remaining)
                .send()
                .await;
            match sent {
                Err(e) if e.is_connect() && !connect_retried => connect_retried = true,
                Err(e) => {
                    return Err(ReloadlyError::Auth(
                        ReloadlyError::from_reqwest(e).to_string(),
                    ))
                }
                Ok(r) => break r,
            }
        };
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| ReloadlyError::Auth(ReloadlyError::from_reqwest(e).to_string()))?;
        let parsed: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if !status.is_success() {
            // Only the documented error fields; never echo the raw body.
            let api = ApiResponse {
                status,
                body: parsed,
            }
            .into_error();
            return Err(ReloadlyError::Auth(api.to_string()));
        }
        let value = parsed
            .get("access_token")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| ReloadlyError::Auth("token response has no access_token".into()))?
            .to_owned();
        // `expires_in` is a number in one doc sample and a string in the other.
        let expires_in = parsed
            .get("expires_in")
            .and_then(value_as_u64)
            .unwrap_or(300);
        let margin = (expires_in / 10).min(60);
        let refresh_at = started + Duration::from_secs(expires_in.saturating_sub(margin));
        tracing::info!(expires_in, "obtained a Reloadly access token");
        Ok(CachedToken { value, refresh_at })
    }

    // ---- generic authorized call ------------------------------------------------------------

    /// One Topups API call with the bearer token. Retries once with a fresh token on 401 (the
    /// request was not processed) and once on a connect error (it was never sent). Never
    /// retries anything else.
    async fn call(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
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
            let bytes = response
                .bytes()
                .await
                .map_err(ReloadlyError::from_reqwest)?;
            let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            return Ok(ApiResponse { status, body });
        }
    }

    // ---- operators --------------------------------------------------------------------------

    /// The operator id of `phone`, from the cache or `GET /operators/auto-detect/...`.
    pub async fn detect_operator(&self, phone: &Phone) -> Result<i64, ReloadlyError> {
        self.detect_operator_until(phone, self.deadline()).await
    }

    async fn detect_operator_until(
        &self,
        phone: &Phone,
        deadline: Instant,
    ) -> Result<i64, ReloadlyError> {
        if let Some(id) = self.operators.get(phone.as_str()) {
            return Ok(id);
        }
        let path = format!(
            "/operators/auto-detect/phone/{}/countries/MX",
            international(phone)
        );
        let query = [
            ("suggestedAmounts", "false".to_owned()),
            ("suggestedAmountsMap", "false".to_owned()),
        ];
        let body = self
            .call(Method::GET, &path, &query, None, deadline)
            .await?
            .success()?;
        let id = body
            .get("operatorId")
            .or_else(|| body.get("id"))
            .and_then(value_as_i64)
            .ok_or_else(|| ReloadlyError::Decode("auto-detect answer has no operatorId".into()))?;
        self.operators.insert(phone.as_str(), id);
        Ok(id)
    }

    /// A Mexican operator id for FX purposes: Telcel if listed, else the first MX operator.
    async fn mx_operator_id(&self, deadline: Instant) -> Result<i64, ReloadlyError> {
        let query = [
            ("includeBundles", "false".to_owned()),
            ("includeData", "false".to_owned()),
            ("includePin", "false".to_owned()),
            ("suggestedAmounts", "false".to_owned()),
            ("suggestedAmountsMap", "false".to_owned()),
        ];
        let body = self
            .call(
                Method::GET,
                "/operators/countries/MX",
                &query,
                None,
                deadline,
            )
            .await?
            .success()?;
        let list = page_items(&body)
            .ok_or_else(|| ReloadlyError::Decode("operator list is not an array".into()))?;
        let id_of = |op: &Value| {
            op.get("operatorId")
                .or_else(|| op.get("id"))
                .and_then(value_as_i64)
        };
        let is_telcel = |op: &Value| {
            op.get("name")
                .and_then(Value::as_str)
                .is_some_and(|n| n.to_ascii_lowercase().contains("telcel"))
        };
        list.iter()
            .filter(|op| is_telcel(op))
            .find_map(id_of)
            .or_else(|| list.iter().find_map(id_of))
            .ok_or_else(|| ReloadlyError::Decode("no Mexican operator listed".into()))
    }

    // ---- balance / fx -----------------------------------------------------------------------

    /// `GET /accounts/balance` -> (balance, account currency code, e.g. `USD`).
    pub async fn account_balance(&self) -> Result<(Decimal, String), ReloadlyError> {
        let deadline = self.deadline();
        let body = self
            .call(Method::GET, "/accounts/balance", &[], None, deadline)
            .await?
            .success()?;
        let balance = body
            .get("balance")
            .and_then(value_as_decimal)
            .ok_or_else(|| ReloadlyError::Decode("balance answer has no numeric balance".into()))?;
        let currency = body
            .get("currencyCode")
            .and_then(Value::as_str)
            .filter(|c| !c.is_empty())
            .ok_or_else(|| ReloadlyError::Decode("balance answer has no currencyCode".into()))?
            .to_owned();
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
        let request = json!({ "operatorId": operator_id, "amount": 1 });
        let body = self
            .call(
                Method::POST,
                "/operators/fx-rate",
                &[],
                Some(&request),
                deadline,
            )
            .await?
            .success()?;
        if let Some(currency) = body.get("currencyCode").and_then(Value::as_str) {
            if !currency.eq_ignore_ascii_case("MXN") {
                return Err(ReloadlyError::Decode(format!(
                    "fx-rate for operator {operator_id} is in {currency}, not MXN"
                )));
            }
        }
        let rate = body
            .get("fxRate")
            .and_then(value_as_decimal)
            .ok_or_else(|| ReloadlyError::Decode("fx-rate answer has no numeric fxRate".into()))?;
        if rate <= Decimal::ZERO {
            return Err(ReloadlyError::Decode(format!(
                "fx-rate is not positive: {rate}"
            )));
        }
        Ok(rate)
    }

    // ---- status -----------------------------------------------------------------------------

    async fn status_until(&self, request: &TopupRequest, deadline: Instant) -> ProviderStatus {
        let our_id = request.transaction_id.as_str();
        let query = [("customIdentifier", our_id.to_owned())];
        let report = match self
            .call(
                Method::GET,
                "/topups/reports/transactions",
                &query,
                None,
                deadline,
            )
            .await
        {
            Ok(r) => r,
            Err(e) => return unavailable(format!("transactions report: {e}")),
        };
        if !report.status.is_success() {
            let code = report.error_code().unwrap_or_default();
            if report.status == StatusCode::NOT_FOUND && code.contains("TRANSACTION") {
                return ProviderStatus::NotFound;
            }
            return unavailable(format!("transactions report: {}", report.into_error()));
        }
        let Some(items) = page_items(&report.body) else {
            return unavailable("transactions report has an unexpected format".into());
        };
        if items.is_empty() {
            return ProviderStatus::NotFound;
        }
        let Some(entry) = items
            .iter()
            .find(|t| t.get("customIdentifier").and_then(Value::as_str) == Some(our_id))
        else {
            // Entries, but none of them ours: the filter was not applied, so absence proves
            // nothing. Never answer NotFound here (it would refund a possibly delivered top-up).
            return unavailable(
                "transactions report did not honour the customIdentifier filter".into(),
            );
        };
        let report_status = entry
            .get("status")
            .and_then(Value::as_str)
            .map(normalize_code);

        if let Some(transaction_id) = entry.get("transactionId").and_then(value_as_i64) {
            let path = format!("/topups/{transaction_id}/status");
            match self.call(Method::GET, &path, &[], None, deadline).await {
                Ok(r) if r.status.is_success() => {
                    let live = r
                        .body
                        .get("status")
                        .and_then(Value::as_str)
                        .or_else(|| {
                            r.body
                                .pointer("/transaction/status")
                                .and_then(Value::as_str)
                        })
                        .map(normalize_code);
                    if let Some(live) = live {
                        let op_id =
                            operator_transaction_id(r.body.get("transaction").unwrap_or(&r.body))
                                .or_else(|| operator_transaction_id(&r.body))
                                .or_else(|| operator_transaction_id(entry))
                                .unwrap_or_else(|| transaction_id.to_string());
                        return map_status(&live, op_id, transaction_id);
                    }
                }
                Ok(r) => {
                    tracing::warn!(
                        transaction_id,
                        status = r.status.as_u16(),
                        "status endpoint failed, using the report"
                    );
                }
                Err(e) => {
                    tracing::warn!(transaction_id, error = %e, "status endpoint failed, using the report");
                }
            }
            if let Some(s) = report_status {
                let op_id =
                    operator_transaction_id(entry).unwrap_or_else(|| transaction_id.to_string());
                return map_status(&s, op_id, transaction_id);
            }
            return unavailable(format!(
                "no status for Reloadly transaction {transaction_id}"
            ));
        }
        match report_status {
            Some(s) => {
                let op_id = operator_transaction_id(entry).unwrap_or_default();
                map_status(&s, op_id, 0)
            }
            None => unavailable("report entry has neither transactionId nor status".into()),
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

    fn map_topup_response(&self, response: ApiResponse) -> TopupMapping {
        let status = response.status;
        if status.is_success() {
            let body = &response.body;
            let transaction_id = body.get("transactionId").and_then(value_as_i64);
            let upstream = body
                .get("status")
                .and_then(Value::as_str)
                .map(normalize_code);
            return match upstream.as_deref() {
                Some("SUCCESSFUL") => TopupMapping::Done(TopupOutcome::Success {
                    operator_transaction_id: operator_transaction_id(body)
                        .or_else(|| transaction_id.map(|t| t.to_string()))
                        .unwrap_or_default(),
                }),
                Some("REFUNDED") | Some("FAILED") => TopupMapping::Done(TopupOutcome::Failed {
                    reason: format!(
                        "Reloadly reported the top-up as {} (not delivered)",
                        upstream.as_deref().unwrap_or_default()
                    ),
                }),
                Some(other) => TopupMapping::Done(TopupOutcome::Unknown {
                    reason: format!(
                        "Reloadly answered {other} for transaction {}; awaiting final status",
                        transaction_id
                            .map(|t| t.to_string())
                            .unwrap_or_else(|| "?".into())
                    ),
                }),
                None => TopupMapping::Done(TopupOutcome::Unknown {
                    reason: format!(
                        "Reloadly answered HTTP {} without a status",
                        status.as_u16()
                    ),
                }),
            };
        }
        if status.is_server_error() {
            return TopupMapping::Done(TopupOutcome::Unknown {
                reason: format!(
                    "Reloadly answered HTTP {} (the top-up may have been processed)",
                    status.as_u16()
                ),
            });
        }
        let code = response.error_code();
        let message = response.message();
        if status.is_client_error() {
            if is_duplicate_custom_identifier(code.as_deref(), message.as_deref()) {
                return TopupMapping::Duplicate;
            }
            if let Some(reason) = code.as_deref().and_then(definite_reason) {
                return TopupMapping::Done(TopupOutcome::Failed { reason });
            }
            if REJECTED_BEFORE_PROCESSING.contains(&status.as_u16()) {
                return TopupMapping::Done(TopupOutcome::Failed {
                    reason: format!(
                        "Reloadly rejected the top-up (HTTP {}: {})",
                        status.as_u16(),
                        describe_api_error(&code, &message)
                    ),
                });
            }
        }
        TopupMapping::Done(TopupOutcome::Unknown {
            reason: format!(
                "unrecognized Reloadly answer HTTP {} ({})",
                status.as_u16(),
                describe_api_error(&code, &message)
            ),
        })
    }
}

enum TopupMapping {
    Done(TopupOutcome),
    Duplicate,
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

        let body = json!({
            "operatorId": operator_id,
            "amount": request.amount.value(),
            "useLocalAmount": true,
            "customIdentifier": tx,
            "recipientPhone": { "countryCode": "MX", "number": international(&request.phone) },
        });
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
            Ok(response) => match self.map_topup_response(response) {
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

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

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
}

fn remaining(deadline: Instant) -> Option<Duration> {
    deadline
        .checked_duration_since(Instant::now())
        .filter(|d| !d.is_zero())
}

fn international(phone: &Phone) -> String {
    format!("{MX_DIALING_CODE}{}", phone.as_str())
}

/// Paths may contain a phone number: log only the resource kind.
fn redact_path(path: &str) -> &str {
    if path.starts_with("/operators/auto-detect/") {
        "/operators/auto-detect/…"
    } else {
        path
    }
}

fn definite_reason(code: &str) -> Option<String> {
    DEFINITE_FAILURES
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(c, text)| format!("{text} (Reloadly {c})"))
}

/// Reloadly's answer to a reused `customIdentifier` is not documented precisely; match any
/// error code or message that says the identifier is a duplicate / already used.
fn is_duplicate_custom_identifier(code: Option<&str>, message: Option<&str>) -> bool {
    let code = code.unwrap_or_default();
    let msg = message.unwrap_or_default().to_ascii_lowercase();
    if code.contains("DUPLICATE") {
        return true;
    }
    let mentions_identifier = code.contains("CUSTOM_IDENTIFIER")
        || msg.contains("customidentifier")
        || msg.contains("custom identifier")
        || msg.contains("custom_identifier");
    let says_reused = ["ALREADY", "EXIST", "USED", "UNIQUE"]
        .iter()
        .any(|w| code.contains(w))
        || [
            "already",
            "duplicat",
            "exist",
            "been used",
            "in use",
            "unique",
        ]
        .iter()
        .any(|w| msg.contains(w));
    mentions_identifier && says_reused
}

fn map_status(
    status: &str,
    operator_transaction_id: String,
    transaction_id: i64,
) -> ProviderStatus {
    match status {
        "SUCCESSFUL" => ProviderStatus::Successful {
            operator_transaction_id,
        },
        "PROCESSING" | "PENDING" => ProviderStatus::Processing,
        "REFUNDED" | "FAILED" => ProviderStatus::Failed {
            reason: format!(
                "Reloadly reported transaction {transaction_id} as {status} (not delivered)"
            ),
        },
        other => unavailable(format!("unrecognized Reloadly status `{other}`")),
    }
}

fn unavailable(reason: String) -> ProviderStatus {
    ProviderStatus::Unavailable { reason }
}

fn operator_transaction_id(value: &Value) -> Option<String> {
    match value.get("operatorTransactionId")? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A bare array, or a Spring-style page `{"content": [...]}` (what Reloadly's list endpoints
/// return).
fn page_items(body: &Value) -> Option<&Vec<Value>> {
    body.as_array()
        .or_else(|| body.get("content").and_then(Value::as_array))
}

fn value_as_u64(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n
            .as_u64()
            .or_else(|| n.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn value_as_i64(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn value_as_decimal(v: &Value) -> Option<Decimal> {
    let text = match v {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.trim().to_owned(),
        _ => return None,
    };
    Decimal::from_str(&text)
        .or_else(|_| Decimal::from_scientific(&text))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

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
