//! The OAuth2 client-credentials token: one fetch shared by concurrent callers, refreshed
//! shortly before `expires_in` and once on a 401.

use super::client::remaining;
use super::dto::{decode, ApiResponse, TokenRequest, TokenResponse};
use super::error::ReloadlyError;
use super::ReloadlyProvider;
use reqwest::header::{HeaderValue, ACCEPT};
use std::time::{Duration, Instant};

pub(super) struct CachedToken {
    value: String,
    refresh_at: Instant,
}

impl ReloadlyProvider {
    // ---- token ----------------------------------------------------------------------------

    /// The cached token, or a fresh one. The lock is held during the fetch, so concurrent
    /// callers wait for (and share) a single token request.
    pub(super) async fn access_token(&self, deadline: Instant) -> Result<String, ReloadlyError> {
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
    pub(super) async fn invalidate_token(&self, rejected: &str) {
        let mut guard = self.token.lock().await;
        if guard.as_ref().is_some_and(|t| t.value == rejected) {
            *guard = None;
        }
    }

    pub(super) async fn fetch_token(
        &self,
        deadline: Instant,
    ) -> Result<CachedToken, ReloadlyError> {
        let started = Instant::now();
        let body = TokenRequest {
            client_id: &self.credentials.client_id,
            client_secret: &self.credentials.client_secret,
            grant_type: "client_credentials",
            audience: &self.audience,
        };
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
        let body = response
            .bytes()
            .await
            .map_err(|e| ReloadlyError::Auth(ReloadlyError::from_reqwest(e).to_string()))?
            .to_vec();
        if !status.is_success() {
            // Only the documented error fields; never echo the raw body.
            let api = ApiResponse { status, body }.into_error();
            return Err(ReloadlyError::Auth(api.to_string()));
        }
        let answer: TokenResponse = decode(&body);
        let value = answer
            .access_token
            .filter(|t| !t.is_empty())
            .ok_or_else(|| ReloadlyError::Auth("token response has no access_token".into()))?;
        // `expires_in` is a number in one doc sample and a string in the other.
        let expires_in = answer.expires_in.unwrap_or(300);
        let margin = (expires_in / 10).min(60);
        let refresh_at = started + Duration::from_secs(expires_in.saturating_sub(margin));
        tracing::info!(expires_in, "obtained a Reloadly access token");
        Ok(CachedToken { value, refresh_at })
    }
}
