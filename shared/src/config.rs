//! Configuration from the environment (names documented in the README and template.yaml).

use rust_decimal::Decimal;
use std::str::FromStr;
use std::time::Duration;

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
        })
    }
}

/// SDK config with short timeouts (API Gateway gives up at 29 s; we answer well before).
pub async fn aws_sdk_config() -> aws_config::SdkConfig {
    let timeouts = aws_config::timeout::TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(2))
        .operation_attempt_timeout(Duration::from_secs(3))
        .operation_timeout(Duration::from_secs(8))
        .build();
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .timeout_config(timeouts)
        .load()
        .await
}
