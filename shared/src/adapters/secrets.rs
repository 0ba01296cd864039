//! Secrets Manager reads through the AWS SDK (`GetSecretValue`), once per cold start.
//!
//! Why not the AWS Parameters and Secrets Lambda Extension (used before): Lambda starts the
//! runtime's init as soon as extensions have *registered*, not when they serve, so an init-time
//! call to the extension can get HTTP 400 "not ready to serve traffic" and kill the cold start;
//! it also needs a region-pinned layer ARN. The SDK call needs neither: it is one HTTPS request
//! with the function's own credentials, bounded retries (throttling, 5xx, timeouts) and bounded
//! time, and its errors never carry the secret value.

use aws_sdk_secretsmanager::config::retry::RetryConfig;
use aws_sdk_secretsmanager::config::timeout::TimeoutConfig;
use aws_sdk_secretsmanager::error::{DisplayErrorContext, SdkError};
use std::time::Duration;

/// Attempts per read (the SDK's standard retry mode: throttling, 5xx, timeouts, connection
/// errors; "not found" and "access denied" fail at once).
pub const MAX_ATTEMPTS: u32 = 4;
/// One attempt's budget.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(2);
/// The whole read, retries included: well inside Lambda's 10 s init phase.
pub const TOTAL_TIMEOUT: Duration = Duration::from_secs(7);

/// A secret that could not be read. Names the secret, never contains its value.
#[derive(Debug, thiserror::Error)]
#[error("secret {secret_id}: {reason}")]
pub struct SecretError {
    pub secret_id: String,
    pub reason: String,
}

/// Secrets Manager client with Relier's retry and timeout bounds.
#[derive(Clone, Debug)]
pub struct SecretsManager {
    client: aws_sdk_secretsmanager::Client,
}

impl SecretsManager {
    /// From a loaded SDK config (region, credentials, `AWS_ENDPOINT_URL_SECRETS_MANAGER`);
    /// `endpoint` overrides the service URL explicitly (tests point it at moto).
    pub fn new(sdk: &aws_config::SdkConfig, endpoint: Option<&str>) -> Self {
        let mut builder = aws_sdk_secretsmanager::config::Builder::from(sdk)
            .retry_config(
                RetryConfig::standard()
                    .with_max_attempts(MAX_ATTEMPTS)
                    .with_initial_backoff(Duration::from_millis(100)),
            )
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(1))
                    .operation_attempt_timeout(ATTEMPT_TIMEOUT)
                    .operation_timeout(TOTAL_TIMEOUT)
                    .build(),
            );
        if let Some(url) = endpoint {
            builder = builder.endpoint_url(url);
        }
        Self {
            client: aws_sdk_secretsmanager::Client::from_conf(builder.build()),
        }
    }

    /// From the process environment (the functions' cold start).
    pub async fn from_env() -> Self {
        Self::new(&crate::config::aws_sdk_config().await, None)
    }

    /// The secret's current `SecretString`.
    pub async fn secret_string(&self, secret_id: &str) -> Result<String, SecretError> {
        let err = |reason: String| SecretError {
            secret_id: secret_id.to_owned(),
            reason,
        };
        let out = self
            .client
            .get_secret_value()
            .secret_id(secret_id)
            .send()
            .await
            .map_err(|e| {
                err(match &e {
                    // AWS's code and message ("ResourceNotFoundException: ...") never hold the value.
                    SdkError::ServiceError(s) => {
                        let meta =
                            aws_sdk_secretsmanager::error::ProvideErrorMetadata::meta(s.err());
                        format!(
                            "GetSecretValue failed: {} {}",
                            meta.code().unwrap_or("error"),
                            meta.message().unwrap_or("")
                        )
                    }
                    other => format!("GetSecretValue failed: {}", DisplayErrorContext(other)),
                })
            })?;
        out.secret_string().map(str::to_owned).ok_or_else(|| {
            err("the secret has no SecretString (binary secrets are not used)".into())
        })
    }
}
