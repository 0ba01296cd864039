//! Choosing the upstream provider from configuration.
//!
//! `TOPUP_PROVIDER` = `sandbox` | `reloadly`, or a comma-separated failover chain such as
//! `reloadly,sandbox` (tried in order, moving on only after a definite failure; see
//! [`FailoverProvider`]). When unset it defaults to `sandbox` only if `MODE=SANDBOX`; any other
//! mode must name the provider explicitly, so a production deployment can never fall back to the
//! sandbox by omission.

use super::failover::FailoverProvider;
use super::reloadly::{ReloadlyConfig, ReloadlyProvider};
use super::sandbox::SandboxProvider;
use crate::config::ProviderConfigError;
use crate::ports::TopupProvider;
use std::sync::Arc;
use std::time::Duration;

/// The provider configured in the process environment (`TOPUP_PROVIDER`, `MODE`, `RELOADLY_*`,
/// `SANDBOX_LATENCY_MS`). Call once at cold start and share the `Arc`.
pub async fn provider_from_env() -> Result<Arc<dyn TopupProvider>, ProviderConfigError> {
    provider_from_lookup(|name| std::env::var(name).ok()).await
}

/// [`provider_from_env`] reading settings through `lookup` (tests pass a map).
pub async fn provider_from_lookup<F>(
    lookup: F,
) -> Result<Arc<dyn TopupProvider>, ProviderConfigError>
where
    F: Fn(&str) -> Option<String>,
{
    let get = |name: &str| {
        lookup(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let sandbox_mode = get("MODE").is_some_and(|m| m.eq_ignore_ascii_case("SANDBOX"));
    let raw = match get("TOPUP_PROVIDER") {
        Some(v) => v,
        None if sandbox_mode => "sandbox".to_owned(),
        None => return Err(ProviderConfigError::Missing("TOPUP_PROVIDER")),
    };

    let names: Vec<String> = raw
        .split(',')
        .map(|n| n.trim().to_ascii_lowercase())
        .filter(|n| !n.is_empty())
        .collect();
    if names.is_empty() {
        return Err(ProviderConfigError::Invalid {
            name: "TOPUP_PROVIDER",
            reason: "no provider named".into(),
        });
    }
    let mut providers: Vec<Box<dyn TopupProvider>> = Vec::with_capacity(names.len());
    for (i, name) in names.iter().enumerate() {
        if names[..i].contains(name) {
            return Err(ProviderConfigError::Invalid {
                name: "TOPUP_PROVIDER",
                reason: format!("`{name}` is listed twice"),
            });
        }
        match name.as_str() {
            "sandbox" => {
                if !sandbox_mode {
                    tracing::warn!("TOPUP_PROVIDER includes the sandbox outside MODE=SANDBOX: it delivers nothing");
                }
                let latency = match get("SANDBOX_LATENCY_MS") {
                    None => Duration::ZERO,
                    Some(v) => Duration::from_millis(v.parse().map_err(|_| {
                        ProviderConfigError::Invalid {
                            name: "SANDBOX_LATENCY_MS",
                            reason: format!("expected milliseconds, got `{v}`"),
                        }
                    })?),
                };
                providers.push(Box::new(SandboxProvider::new(latency)));
            }
            "reloadly" => {
                let config = ReloadlyConfig::from_lookup(&lookup).await?;
                providers.push(Box::new(ReloadlyProvider::new(config)?));
            }
            other => {
                return Err(ProviderConfigError::Invalid {
                    name: "TOPUP_PROVIDER",
                    reason: format!(
                        "unknown provider `{other}` (expected sandbox, reloadly or a comma list)"
                    ),
                })
            }
        }
    }
    let provider: Arc<dyn TopupProvider> = if providers.len() == 1 {
        Arc::from(providers.remove(0))
    } else {
        Arc::new(FailoverProvider::new(providers))
    };
    tracing::info!(provider = provider.name(), "upstream provider selected");
    Ok(provider)
}

/// The Reloadly client alone (the fx-refresh function needs its extra methods), configured from
/// the process environment; see [`ReloadlyConfig::from_lookup`] for the variables.
pub async fn reloadly_from_env() -> Result<ReloadlyProvider, ProviderConfigError> {
    ReloadlyProvider::new(ReloadlyConfig::from_env().await?)
}
