//! Secrets read with the AWS SDK's GetSecretValue (issue 13, point 1), against moto's Secrets
//! Manager (the local stack; `make test` starts it).

use relier::adapters::reloadly::ReloadlyConfig;
use relier::adapters::secrets::{SecretsManager, TOTAL_TIMEOUT};
use relier::config::ProviderConfigError;
use std::collections::HashMap;
use std::time::Instant;

fn moto() -> String {
    std::env::var("AWS_ENDPOINT_URL_SECRETS_MANAGER").unwrap_or_else(|_| {
        let port = std::env::var("RELIER_MOTO_PORT").unwrap_or_else(|_| "5000".into());
        format!("http://127.0.0.1:{port}")
    })
}

fn unique(prefix: &str) -> String {
    format!(
        "{prefix}/{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}

async fn sdk() -> aws_config::SdkConfig {
    relier::config::aws_sdk_config().await
}

/// GIVEN a secret stored in Secrets Manager (moto) under a fresh name.
async fn put_secret(value: &str) -> String {
    let name = unique("relier-test");
    let conf = aws_sdk_secretsmanager::config::Builder::from(&sdk().await)
        .endpoint_url(moto())
        .build();
    aws_sdk_secretsmanager::Client::from_conf(conf)
        .create_secret()
        .name(&name)
        .secret_string(value)
        .send()
        .await
        .expect("moto create_secret");
    name
}

fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[tokio::test]
async fn a_secret_is_read_with_get_secret_value() {
    let name = put_secret("the-jwt-signing-key").await;
    // WHEN it is read through the adapter
    let value = SecretsManager::new(&sdk().await, Some(&moto()))
        .secret_string(&name)
        .await
        .unwrap();
    // THEN its SecretString comes back
    assert_eq!(value, "the-jwt-signing-key");
}

#[tokio::test]
async fn a_missing_secret_fails_at_once_naming_it() {
    // GIVEN no such secret
    let started = Instant::now();
    // WHEN it is read
    let err = SecretsManager::new(&sdk().await, Some(&moto()))
        .secret_string("relier-test/does-not-exist")
        .await
        .unwrap_err();
    // THEN the error names the secret and AWS's code, and "not found" is not retried
    assert_eq!(err.secret_id, "relier-test/does-not-exist");
    assert!(err.reason.contains("ResourceNotFound"), "{err}");
    assert!(started.elapsed() < TOTAL_TIMEOUT, "{:?}", started.elapsed());
}

#[tokio::test]
async fn an_unreachable_secrets_manager_fails_within_the_bounded_time() {
    // GIVEN an endpoint where nothing listens
    let started = Instant::now();
    // WHEN a secret is read
    let err = SecretsManager::new(&sdk().await, Some("http://127.0.0.1:9"))
        .secret_string("relier/reloadly")
        .await
        .unwrap_err();
    // THEN the bounded retries give up with a clear error, within the total budget
    assert!(err.to_string().contains("relier/reloadly"), "{err}");
    assert!(
        started.elapsed() <= TOTAL_TIMEOUT + std::time::Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn reloadly_credentials_come_from_secrets_manager_when_a_secret_id_is_set() {
    let name = put_secret(r#"{"client_id":"from-sm","client_secret":"sm-secret"}"#).await;
    let endpoint = moto();
    let map = vars(&[
        ("RELOADLY_ENV", "sandbox"),
        ("RELOADLY_SECRET_ID", &name),
        ("AWS_ENDPOINT_URL_SECRETS_MANAGER", &endpoint),
    ]);
    // WHEN the provider config is read
    let config = ReloadlyConfig::from_lookup(|k| map.get(k).cloned())
        .await
        .unwrap();
    // THEN the credentials are the secret's, and Debug never shows the secret
    assert_eq!(config.credentials.client_id(), "from-sm");
    assert!(!format!("{config:?}").contains("sm-secret"));
}

#[tokio::test]
async fn a_broken_secret_is_a_config_error_without_the_secret() {
    let name = put_secret(r#"{"client_secret":"leak-me"}"#).await;
    let endpoint = moto();
    let map = vars(&[
        ("RELOADLY_ENV", "sandbox"),
        ("RELOADLY_SECRET_ID", &name),
        ("AWS_ENDPOINT_URL_SECRETS_MANAGER", &endpoint),
    ]);
    let err = ReloadlyConfig::from_lookup(|k| map.get(k).cloned())
        .await
        .unwrap_err();
    assert!(matches!(err, ProviderConfigError::Secret { .. }), "{err:?}");
    assert!(!err.to_string().contains("leak-me"));
}
