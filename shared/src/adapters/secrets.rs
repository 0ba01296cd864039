//! Secrets Manager, read through the AWS Parameters and Secrets Lambda Extension (cold start).

use crate::config::ProviderConfigError;
use serde_json::Value;
use std::time::Duration;

/// A secret's `SecretString`, read through the AWS Parameters and Secrets Lambda Extension.
pub async fn fetch_secret_string(
    extension_base: &str,
    secret_id: &str,
    session_token: &str,
    timeout: Duration,
) -> Result<String, ProviderConfigError> {
    let secret_err = |reason: String| ProviderConfigError::Secret {
        secret_id: secret_id.to_owned(),
        reason,
    };
    let http = reqwest::Client::builder()
        .timeout(timeout)
        .build()
        .map_err(|e| ProviderConfigError::Client(e.without_url().to_string()))?;
    let url = format!(
        "{}/secretsmanager/get",
        extension_base.trim().trim_end_matches('/')
    );
    let mut attempt = 0;
    let response = loop {
        attempt += 1;
        let sent = http
            .get(&url)
            .query(&[("secretId", secret_id)])
            .header("X-Aws-Parameters-Secrets-Token", session_token)
            .send()
            .await;
        match sent {
            // The extension may still be starting at the very beginning of a cold start.
            Err(e) if e.is_connect() && attempt < 2 => {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => {
                return Err(secret_err(format!(
                    "extension request failed: {}",
                    e.without_url()
                )))
            }
            Ok(r) => break r,
        }
    };
    let status = response.status();
    if !status.is_success() {
        return Err(secret_err(format!(
            "extension answered HTTP {}",
            status.as_u16()
        )));
    }
    let body: Value = response
        .json()
        .await
        .map_err(|_| secret_err("extension answer is not JSON".into()))?;
    let secret_string = body
        .get("SecretString")
        .and_then(Value::as_str)
        .ok_or_else(|| secret_err("extension answer has no SecretString".into()))?;
    Ok(secret_string.to_owned())
}
