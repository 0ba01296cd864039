//! What every authenticated partner request passes before its handler: credentials, the
//! account's IP allowlist, and the 15-minute request window. The account read here is handed
//! to the handler (so a request still reads its account once), and the window's headers are
//! added to whatever the handler answers.

use super::ip_allow;
use super::window::{limit_for, RequestWindows, WindowState, WINDOW_SECS};
use crate::api::http::{header, request_id};
use crate::api::partner::auth::authenticate;
use crate::api::partner::error_response;
use crate::api::partner::ApiError;
use crate::domain::credentials::hash_key;
use crate::domain::Account;
use crate::domain::CustomerId;
use crate::ports::Clock;
use crate::ports::{AccountReader, StoreError};
use async_trait::async_trait;
use lambda_http::{Body, Request, Response};

/// The ports the gate needs.
#[derive(Clone, Copy)]
pub struct Gate<'a> {
    pub accounts: &'a dyn AccountReader,
    pub windows: &'a dyn RequestWindows,
    pub clock: &'a dyn Clock,
}

/// An admitted request: the caller's account (if it sent credentials) and its window.
pub struct Pass<'a> {
    account: Option<Account>,
    window: Option<WindowState>,
    accounts: &'a dyn AccountReader,
}

impl<'a> Gate<'a> {
    /// Credentials required (balance, top-ups, limits): 401 / 403 / 429 or a pass.
    pub async fn admit(&self, req: &Request) -> Result<Pass<'a>, Response<Body>> {
        let rid = request_id(req);
        let account = authenticate(
            self.accounts,
            header(req, "x-api-key"),
            header(req, "x-customer-id"),
        )
        .await
        .map_err(|e| error_response(&e, &rid))?;
        // authenticate() checked the key: it is the one that hashes to one of the account's.
        let key_hash = header(req, "x-api-key")
            .map(|k| hash_key(k.trim()))
            .unwrap_or_default();
        self.admit_account(req, account, &key_hash, &rid).await
    }

    /// Credentials optional (transaction status): without them the request is public and
    /// neither counted nor given rate-limit headers; with them it is admitted like any other.
    pub async fn admit_optional(&self, req: &Request) -> Result<Pass<'a>, Response<Body>> {
        if header(req, "x-api-key").is_none() && header(req, "x-customer-id").is_none() {
            return Ok(Pass {
                account: None,
                window: None,
                accounts: self.accounts,
            });
        }
        self.admit(req).await
    }

    async fn admit_account(
        &self,
        req: &Request,
        account: Account,
        key_hash: &str,
        rid: &str,
    ) -> Result<Pass<'a>, Response<Body>> {
        // A request from outside the allowlist is refused before it uses up the window.
        ip_allow::check(&account, req).map_err(|e| error_response(&e, rid))?;
        let state = self
            .windows
            .count_request(
                &account.customer_id,
                key_hash,
                limit_for(&account),
                self.clock.now(),
            )
            .await
            .map_err(|e| error_response(&ApiError::ServiceUnavailable(e.to_string()), rid))?;
        if !state.admitted {
            let refusal = ApiError::RequestQuotaExceeded {
                limit: state.limit,
                window_seconds: WINDOW_SECS as u32,
                retry_after_seconds: state.reset_in,
            };
            let mut resp = error_response(&refusal, rid);
            state.write_headers(resp.headers_mut());
            return Err(resp);
        }
        if state.first_use_of_key {
            // Off the request's path: spawned, errors logged (see `note_key_use`).
            self.windows
                .note_key_use(&account.customer_id, key_hash, self.clock.now());
        }
        Ok(Pass {
            account: Some(account),
            window: Some(state),
            accounts: self.accounts,
        })
    }
}

impl Pass<'_> {
    pub fn account(&self) -> Option<&Account> {
        self.account.as_ref()
    }

    pub fn window(&self) -> Option<&WindowState> {
        self.window.as_ref()
    }

    /// The handler's answer with the window's headers (every authenticated response).
    pub fn finish(&self, mut resp: Response<Body>) -> Response<Body> {
        if let Some(state) = &self.window {
            state.write_headers(resp.headers_mut());
        }
        resp
    }
}

/// The handler re-authenticates against the account the gate already read (no second read).
#[async_trait]
impl AccountReader for Pass<'_> {
    async fn get_account(&self, customer: &CustomerId) -> Result<Option<Account>, StoreError> {
        match &self.account {
            Some(a) if &a.customer_id == customer => Ok(Some(a.clone())),
            _ => self.accounts.get_account(customer).await,
        }
    }
}
