//! Configuration: the ONLY module that reads environment variables. Every variable is read
//! and parsed once, here, at cold start (names documented in the README and template.yaml);
//! the provider settings are handed to the provider builder as a snapshot.

use rust_decimal::Decimal;
use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;

/// The variables the upstream provider is built from (see `adapters::select`).
const PROVIDER_SETTINGS: &[&str] = &[
    "TOPUP_PROVIDER",
    "SANDBOX_LATENCY_MS",
    "RELOADLY_ENV",
    "RELOADLY_SECRET_ID",
    "RELOADLY_CLIENT_ID",
    "RELOADLY_CLIENT_SECRET",
    "RELOADLY_AUTH_URL",
    "RELOADLY_API_URL",
    "RELOADLY_TIMEOUT_MS",
    "RELOADLY_CONNECT_TIMEOUT_MS",
    "RELOADLY_OPERATOR_CACHE_TTL_SECS",
    "AWS_ENDPOINT_URL_SECRETS_MANAGER",
];

/// Where the distributor API's JWT key comes from.
#[derive(Clone, PartialEq, Eq)]
pub enum JwtSecret {
    /// `DISTRIBUTOR_JWT_SECRET_ID`: a Secrets Manager id, read with the SDK at cold start.
    SecretId(String),
    /// `DISTRIBUTOR_JWT_SECRET`: the key itself (local only).
    Value(String),
}

impl std::fmt::Debug for JwtSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JwtSecret::SecretId(id) => f.debug_tuple("SecretId").field(id).finish(),
            JwtSecret::Value(_) => f.write_str("Value(<redacted>)"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Sandbox,
    Production,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Sandbox => "SANDBOX",
            Mode::Production => "PRODUCTION",
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(pub String);

/// Why a provider could not be built from configuration. Never contains secret values.
#[derive(Debug, thiserror::Error)]
pub enum ProviderConfigError {
    #[error("missing required setting {0}")]
    Missing(&'static str),
    #[error("invalid value for {name}: {reason}")]
    Invalid { name: &'static str, reason: String },
    #[error("could not read secret {secret_id}: {reason}")]
    Secret { secret_id: String, reason: String },
    #[error("could not build the HTTP client: {0}")]
    Client(String),
}

#[derive(Debug, Clone)]
pub struct AppConfig {
    pub mode: Mode,
    pub accounts_table: String,
    pub transactions_table: String,
    pub queue_url: Option<String>,
    /// The webhook dispatch queue (`WEBHOOK_QUEUE_URL`): poked after an outbox write; unset,
    /// only the scheduled sweep sends webhooks.
    pub webhook_queue_url: Option<String>,
    /// Sandbox only: price at this fixed MXN/USD rate instead of the stored rate item.
    pub sandbox_fx_rate: Option<Decimal>,
    /// A stored rate older than this is refused (503), never used.
    pub fx_max_age: Duration,
    /// How long a warm function reuses a rate it read.
    pub fx_cache_ttl: Duration,
    /// A PENDING record older than this was probably never enqueued: re-enqueue it.
    pub pending_grace: Duration,
    /// A PROCESSING record older than this is checked with the provider.
    pub processing_lease: Duration,
    /// Open for longer than this: alert metric, left for a human.
    pub stuck_after: Duration,
    /// `TOPUP_DLQ_URL` (for `relier-admin setup`; default: the queue URL + `-dlq`).
    pub dlq_url: Option<String>,
    /// `FX_SPREAD_PERCENT`: the margin fx-refresh takes off the provider's rate, in [0, 20).
    pub fx_spread_percent: Decimal,
    /// The distributor JWT key's source, if configured.
    pub jwt_secret: Option<JwtSecret>,
    /// The provider settings, read once (see [`PROVIDER_SETTINGS`]).
    pub provider_settings: HashMap<String, String>,
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn secs(name: &str, default: u64) -> Result<Duration, ConfigError> {
    match var(name) {
        None => Ok(Duration::from_secs(default)),
        Some(v) => v
            .parse::<u64>()
            .map(Duration::from_secs)
            .map_err(|_| ConfigError(format!("{name} must be a number of seconds"))),
    }
}

impl AppConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        let mode = match var("MODE")
            .as_deref()
            .map(str::to_ascii_uppercase)
            .as_deref()
        {
            Some("SANDBOX") => Mode::Sandbox,
            Some("PRODUCTION") | None => Mode::Production,
            Some(other) => {
                return Err(ConfigError(format!(
                    "MODE must be SANDBOX or PRODUCTION, got {other}"
                )))
            }
        };
        let sandbox_fx_rate = match var("SANDBOX_FX_RATE") {
            Some(v) if mode == Mode::Sandbox => Some(
                Decimal::from_str(&v)
                    .ok()
                    .filter(|d| *d > Decimal::ZERO)
                    .ok_or_else(|| {
                        ConfigError("SANDBOX_FX_RATE must be a positive decimal".into())
                    })?,
            ),
            _ => None,
        };
        Ok(Self {
            mode,
            accounts_table: var("ACCOUNTS_TABLE").unwrap_or_else(|| "relier-accounts".into()),
            transactions_table: var("TRANSACTIONS_TABLE")
                .unwrap_or_else(|| "relier-transactions".into()),
            queue_url: var("TOPUP_QUEUE_URL"),
            webhook_queue_url: var("WEBHOOK_QUEUE_URL"),
            sandbox_fx_rate,
            fx_max_age: secs("FX_MAX_AGE_SECS", 6 * 3600)?,
            fx_cache_ttl: secs("FX_CACHE_SECS", 60)?,
            pending_grace: secs("PENDING_GRACE_SECS", 60)?,
            processing_lease: secs("PROCESSING_LEASE_SECS", 300)?,
            stuck_after: secs("STUCK_AFTER_SECS", 3600)?,
            dlq_url: var("TOPUP_DLQ_URL"),
            fx_spread_percent: match var("FX_SPREAD_PERCENT") {
                None => Decimal::ZERO,
                Some(v) => Decimal::from_str(v.trim())
                    .ok()
                    .filter(|d| *d >= Decimal::ZERO && *d < Decimal::from(20))
                    .ok_or_else(|| {
                        ConfigError("FX_SPREAD_PERCENT must be a decimal in [0, 20)".into())
                    })?,
            },
            jwt_secret: match (
                var("DISTRIBUTOR_JWT_SECRET_ID"),
                std::env::var("DISTRIBUTOR_JWT_SECRET").ok(),
            ) {
                (Some(id), _) => Some(JwtSecret::SecretId(id)),
                (None, Some(value)) => Some(JwtSecret::Value(value)),
                (None, None) => None,
            },
            provider_settings: PROVIDER_SETTINGS
                .iter()
                .filter_map(|name| std::env::var(name).ok().map(|v| (name.to_string(), v)))
                .collect(),
        })
    }

    /// A provider setting as read at cold start.
    pub fn provider_setting(&self, name: &str) -> Option<String> {
        self.provider_settings.get(name).cloned()
    }

    /// Does `TOPUP_PROVIDER` name Reloadly (alone or in a chain)?
    pub fn uses_reloadly(&self) -> bool {
        self.provider_setting("TOPUP_PROVIDER")
            .unwrap_or_default()
            .split(',')
            .any(|p| p.trim().eq_ignore_ascii_case("reloadly"))
    }
}

/// Short timeouts: API Gateway gives up at 29 s; we answer well before.
fn sdk_timeouts() -> aws_config::timeout::TimeoutConfig {
    aws_config::timeout::TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(2))
        .operation_attempt_timeout(Duration::from_secs(3))
        .operation_timeout(Duration::from_secs(8))
        .build()
}

/// SDK config through aws-config's full default chains (profiles, SSO-less web identity, ECS,
/// IMDS): for the ops tool, tests and benches, which may run anywhere.
pub async fn aws_sdk_config() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(crate::crypto::sdk_http_client())
        .timeout_config(sdk_timeouts())
        .load()
        .await
}

/// SDK config of a Lambda function, from the environment Lambda sets: region (`AWS_REGION`),
/// the execution role's credentials (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
/// `AWS_SESSION_TOKEN`) and endpoint overrides (`AWS_ENDPOINT_URL`,
/// `AWS_ENDPOINT_URL_<SERVICE>`, as the local stack uses). Built directly instead of through
/// aws-config's loader: the loader links its profile parser and the STS/ECS/IMDS credential
/// providers into every binary (about 1 MB, issue 14) and spends cold-start time probing
/// them, while on Lambda only the environment is ever the source.
pub fn lambda_sdk_config() -> Result<aws_config::SdkConfig, ConfigError> {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
    let region = env("AWS_REGION")
        .or_else(|| env("AWS_DEFAULT_REGION"))
        .ok_or_else(|| ConfigError("AWS_REGION is required".into()))?;
    let credentials = aws_config::environment::EnvironmentVariableCredentialsProvider::new();
    let mut builder = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(region))
        .credentials_provider(aws_sdk_dynamodb::config::SharedCredentialsProvider::new(
            credentials,
        ))
        .http_client(crate::crypto::sdk_http_client())
        .retry_config(aws_config::retry::RetryConfig::standard())
        .timeout_config(sdk_timeouts())
        .service_config(EnvEndpoints);
    if let Some(url) = env("AWS_ENDPOINT_URL") {
        builder = builder.endpoint_url(url);
    }
    Ok(builder.build())
}

/// `AWS_ENDPOINT_URL_<SERVICE>` (e.g. `AWS_ENDPOINT_URL_DYNAMODB`) for the SDK clients.
#[derive(Debug)]
struct EnvEndpoints;

impl aws_types::service_config::LoadServiceConfig for EnvEndpoints {
    /// The service-specific variable (`<env>_<SERVICE ID>`, e.g. `AWS_ENDPOINT_URL_DYNAMODB`)
    /// wins over the generic one (`AWS_ENDPOINT_URL`), as in aws-config.
    fn load_config(&self, key: aws_types::service_config::ServiceConfigKey<'_>) -> Option<String> {
        let service: String = key
            .service_id()
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_uppercase()
                } else {
                    '_'
                }
            })
            .collect();
        [format!("{}_{service}", key.env()), key.env().to_owned()]
            .into_iter()
            .find_map(|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()))
    }
}
