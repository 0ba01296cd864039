//! One HTTP attempt: POST the signed body, 15 s timeout, no redirects, connection pinned to
//! the address the SSRF guard checked.

use super::event::ATTEMPT_TIMEOUT_SECS;
use super::ssrf;
use crate::config::Mode;
use async_trait::async_trait;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptResult {
    /// The endpoint answered (any status).
    Status(u16),
    /// No answer: connect error, TLS error, timeout.
    Error(String),
    /// Not sent: the URL or its resolved address is not allowed (SSRF guard).
    Refused(String),
}

impl AttemptResult {
    pub fn describe(&self) -> String {
        match self {
            AttemptResult::Status(code) => format!("HTTP {code}"),
            AttemptResult::Error(e) => format!("error: {e}"),
            AttemptResult::Refused(e) => format!("refused: {e}"),
        }
    }
}

#[async_trait]
pub trait WebhookSender: Send + Sync {
    async fn post(&self, url: &str, headers: &[(String, String)], body: &str) -> AttemptResult;
}

pub struct HttpSender {
    pub mode: Mode,
    pub timeout: Duration,
}

impl HttpSender {
    pub fn new(mode: Mode) -> Self {
        Self {
            mode,
            timeout: Duration::from_secs(ATTEMPT_TIMEOUT_SECS),
        }
    }
}

#[async_trait]
impl WebhookSender for HttpSender {
    async fn post(&self, url: &str, headers: &[(String, String)], body: &str) -> AttemptResult {
        let parsed = match ssrf::check_url(url, self.mode) {
            Ok(u) => u,
            Err(e) => return AttemptResult::Refused(e),
        };
        let addr =
            match tokio::time::timeout(self.timeout, ssrf::resolve_checked(&parsed, self.mode))
                .await
            {
                Ok(Ok(a)) => a,
                Ok(Err(e)) => return AttemptResult::Refused(e),
                Err(_) => return AttemptResult::Error("DNS timeout".into()),
            };
        let host = parsed.host_str().unwrap_or_default().to_owned();
        // reqwest is built without a bundled crypto backend (issue 14): install ring first.
        crate::crypto::install();
        let client = match reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(self.timeout)
            .connect_timeout(self.timeout.min(Duration::from_secs(5)))
            .resolve(&host, addr)
            .user_agent("Relier-Webhooks/1")
            .build()
        {
            Ok(c) => c,
            Err(e) => return AttemptResult::Error(format!("client: {e}")),
        };
        let mut request = client
            .post(parsed)
            .header("content-type", "application/json")
            .body(body.to_owned());
        for (name, value) in headers {
            request = request.header(name.as_str(), value.as_str());
        }
        match request.send().await {
            Ok(resp) => AttemptResult::Status(resp.status().as_u16()),
            Err(e) if e.is_timeout() => AttemptResult::Error("timed out".into()),
            Err(e) => AttemptResult::Error(e.to_string().chars().take(200).collect()),
        }
    }
}
