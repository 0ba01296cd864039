//! A failed Reloadly call. Messages never contain secrets, tokens or full URLs.

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

pub(super) fn describe_api_error(code: &Option<String>, message: &Option<String>) -> String {
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

    pub(super) fn from_reqwest(e: reqwest::Error) -> Self {
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

pub(super) fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    truncate(&text, 300)
}

pub(super) fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}
