//! Reloadly configuration: environment, credentials (directly or from Secrets Manager),
//! hosts, timeouts and cache limits.

use crate::config::ProviderConfigError;
use serde_json::Value;
use std::fmt;
use std::time::Duration;

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
    pub(super) client_id: String,
    pub(super) client_secret: String,
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
/// public fields, or read it from the settings `config.rs` collected with
/// [`ReloadlyConfig::from_lookup`].
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
            let sdk =
                crate::config::lambda_sdk_config().map_err(|e| ProviderConfigError::Secret {
                    secret_id: secret_id.clone(),
                    reason: e.to_string(),
                })?;
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

pub(super) fn trim_base(url: &str) -> String {
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
