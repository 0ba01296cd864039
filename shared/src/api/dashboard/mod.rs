//! The partner dashboard (SmartBiz guide: "Access your dashboard … Login with your API
//! credentials"): server-rendered pages under `/dashboard`, their JSON under `/api/dashboard/…`,
//! and the embedded assets. One Lambda function (`functions/dashboard`) serves all of it.
//!
//! Every signed-in request resolves the session cookie to a customer and reads only that
//! customer's data; another customer's transaction id is "not found".

pub mod assets;
pub mod charts;
pub mod data;
pub mod html;
pub mod i18n;
pub mod pages;
pub mod ports;
pub mod session;
pub mod web;
pub mod webhooks;

use crate::api::partner::auth::authenticate;
use crate::api::partner::ApiError;
use crate::domain::Account;
use crate::ports::Clock;
use crate::ports::{AccountReader, TransactionReader};
use crate::reports::ports::ReportStore;
use crate::webhooks::WebhookReader;
use html::Ctx;
use i18n::Lang;
use lambda_http::http::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE};
use lambda_http::{Body, Error, Request, Response};
use ports::{DashboardReads, SessionStore};
use serde_json::json;
use std::sync::Arc;

type HttpResult = Result<Response<Body>, Error>;

pub const LANG_COOKIE: &str = "relier_lang";

/// What the dashboard needs: the partner ports plus its own reads and sessions.
pub struct Dashboard {
    pub accounts: Arc<dyn AccountReader>,
    pub transactions: Arc<dyn TransactionReader>,
    /// Listings and statements: the report store (`GET /api/transactions`, `/api/statement`).
    pub reports: Arc<dyn ReportStore>,
    pub reads: Arc<dyn DashboardReads>,
    /// The customer's webhook endpoint and latest deliveries (read-only).
    pub webhooks: Arc<dyn WebhookReader>,
    pub sessions: Arc<dyn SessionStore>,
    pub clock: Arc<dyn Clock>,
    /// `Secure` cookies (every mode but SANDBOX, which runs on plain http locally).
    pub secure: bool,
}

fn header<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

fn cookie<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.headers()
        .get_all("cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|h| session::read_cookie(h, name))
}

/// `?lang=` (remembered), else the cookie, else the browser's first choice; Spanish by default.
fn language(req: &Request, query: &[(String, String)]) -> (Lang, bool) {
    if let Some(l) = web::get(query, "lang").and_then(Lang::parse) {
        return (l, true);
    }
    if let Some(l) = cookie(req, LANG_COOKIE).and_then(Lang::parse) {
        return (l, false);
    }
    let en = header(req, "accept-language").is_some_and(|a| a.trim_start().starts_with("en"));
    (if en { Lang::En } else { Lang::Es }, false)
}

/// Page or API answer for an expected failure.
fn refusal(api: bool, ctx: &Ctx, err: &ApiError) -> Response<Body> {
    if api {
        return web::json(err.status(), &err.body());
    }
    let (title, msg) = match err {
        ApiError::TransactionNotFound => (ctx.lang.t("detail"), ctx.lang.t("not_found").to_owned()),
        ApiError::Validation { message } => (ctx.lang.t("bad_request"), message.clone()),
        _ => (ctx.lang.t("error"), ctx.lang.t("unavailable").to_owned()),
    };
    web::html(err.status(), html::message(ctx, title, &msg))
}

impl Dashboard {
    pub async fn handle(&self, req: Request) -> HttpResult {
        let path = web::path(&req);
        let query = web::query(&req);
        let (lang, remember) = language(&req, &query);
        let mut resp = self.route(&req, &path, &query, lang).await?;
        if remember {
            let c = format!(
                "{LANG_COOKIE}={}; Path=/; Max-Age=31536000; HttpOnly; SameSite=Strict{}",
                lang.code(),
                if self.secure { "; Secure" } else { "" }
            );
            web::add_cookie(&mut resp, &c);
        }
        Ok(resp)
    }

    async fn route(
        &self,
        req: &Request,
        path: &str,
        query: &[(String, String)],
        lang: Lang,
    ) -> HttpResult {
        let method = req.method().as_str();
        if let Some(name) = path.strip_prefix(assets::ASSET_PREFIX) {
            return Ok(asset(req, name));
        }
        match (method, path) {
            ("POST", "/dashboard/login") => return self.login(req, lang).await,
            ("POST", "/dashboard/logout") => return self.logout(req).await,
            _ => {}
        }
        let api = path.starts_with("/api/dashboard");
        let signed_in = match self.signed_in(req).await {
            Ok(v) => v,
            Err(e) => {
                let ctx = Ctx {
                    lang,
                    page: "error",
                    here: "/dashboard",
                    customer: None,
                };
                return Ok(refusal(api, &ctx, &e));
            }
        };
        let Some((id, account)) = signed_in else {
            return Ok(match (api, path) {
                (true, _) => web::json(401, &json!({"success": false, "error": "Not signed in"})),
                (false, "/dashboard") => web::html(200, html::login(lang, false, "")),
                _ => web::redirect("/dashboard"),
            });
        };
        if method != "GET" {
            return Ok(web::json(
                405,
                &json!({"success": false, "error": "Method not allowed"}),
            ));
        }
        let here = match req.uri().query() {
            Some(q) => format!("{path}?{q}"),
            None => path.to_owned(),
        };
        let mut resp = self
            .signed_in_route(path, query, lang, &here, &account)
            .await;
        // The cookie slides with the session.
        web::add_cookie(&mut resp, &session::set_cookie(self.secure, &id));
        Ok(resp)
    }

    /// The session's id and account, if the cookie names a live session of an active account.
    async fn signed_in(&self, req: &Request) -> Result<Option<(String, Account)>, ApiError> {
        let unavailable = |e: crate::ports::StoreError| ApiError::ServiceUnavailable(e.to_string());
        let Some(id) = cookie(req, session::cookie_name(self.secure)) else {
            return Ok(None);
        };
        let now = self.clock.now();
        let Some(customer) = session::resume(self.sessions.as_ref(), id, now)
            .await
            .map_err(unavailable)?
        else {
            return Ok(None);
        };
        let account = self
            .accounts
            .get_account(&customer)
            .await
            .map_err(unavailable)?;
        Ok(account.filter(|a| a.active).map(|a| (id.to_owned(), a)))
    }

    async fn signed_in_route(
        &self,
        path: &str,
        query: &[(String, String)],
        lang: Lang,
        here: &str,
        account: &Account,
    ) -> Response<Body> {
        let api = path.starts_with("/api/dashboard");
        let sub = path
            .trim_start_matches("/api")
            .trim_start_matches("/dashboard")
            .trim_start_matches('/');
        let page = sub.split('/').next().unwrap_or_default();
        let ctx = Ctx {
            lang,
            page,
            here,
            customer: Some(account.customer_id.as_str()),
        };
        let now = self.clock.now();
        let customer = &account.customer_id;
        let get = |k: &str| web::get(query, k).map(str::to_owned);
        let result: Result<Response<Body>, ApiError> = async {
            Ok(match (api, sub) {
                (false, "") => web::redirect("/dashboard/overview"),
                (_, "overview") => {
                    let d =
                        data::overview(self.reports.as_ref(), self.reads.as_ref(), account, now)
                            .await?;
                    if api {
                        web::json(200, &d)
                    } else {
                        web::html(200, pages::overview(&ctx, &d))
                    }
                }
                (_, "transactions") | (false, "export.csv") => {
                    let q = data::Listing::parse(get, now.date_naive())?;
                    if sub == "export.csv" {
                        return Ok(csv(
                            data::export_csv(self.reports.as_ref(), customer, &q).await?,
                            &q,
                        ));
                    }
                    let d = data::transactions(self.reports.as_ref(), customer, &q).await?;
                    if api {
                        web::json(200, &d)
                    } else {
                        web::html(200, pages::transactions(&ctx, &q, &d))
                    }
                }
                (_, s) if s.starts_with("transactions/") => {
                    let id = &s["transactions/".len()..];
                    let d = data::transaction(self.transactions.as_ref(), customer, id).await?;
                    if api {
                        web::json(200, &d)
                    } else {
                        web::html(200, pages::detail(&ctx, &d["transaction"]))
                    }
                }
                (_, "charts") => {
                    let (days, truncated) =
                        data::charts(self.reports.as_ref(), customer, now).await?;
                    if api {
                        web::json(200, &data::charts_json(&days, truncated))
                    } else {
                        web::html(200, pages::charts_page(&ctx, &days, truncated))
                    }
                }
                (_, "statement") => {
                    let today = now.date_naive();
                    let range = data::date_range(
                        get("date_from").as_deref(),
                        get("date_to").as_deref(),
                        today,
                        data::month_to_date(today),
                    )?;
                    let cursor = get("cursor").filter(|c| !c.is_empty());
                    let d =
                        data::statement(self.reports.as_ref(), account, &range, cursor.as_deref())
                            .await?;
                    if api {
                        web::json(200, &d)
                    } else {
                        web::html(200, pages::statement(&ctx, &d))
                    }
                }
                (_, "webhooks") => {
                    let d = webhooks::data(self.webhooks.as_ref(), account, now).await?;
                    if api {
                        web::json(200, &d)
                    } else {
                        web::html(200, webhooks::page(&ctx, &d))
                    }
                }
                _ if api => web::json(404, &json!({"success": false, "error": "Not found"})),
                _ => web::html(404, html::message(&ctx, lang.t("error"), "404")),
            })
        }
        .await;
        result.unwrap_or_else(|e| {
            if e.status() >= 500 {
                tracing::error!(error = %e, "dashboard request failed");
            }
            refusal(api, &ctx, &e)
        })
    }

    /// `POST /dashboard/login` (form: customer_id, api_key), checked like the partner API.
    async fn login(&self, req: &Request, lang: Lang) -> HttpResult {
        if !web::same_origin(req) {
            return Ok(web::json(
                403,
                &json!({"success": false, "error": "Cross-origin request refused"}),
            ));
        }
        let body = String::from_utf8_lossy(web::body_bytes(req)).into_owned();
        let form = web::pairs(&body);
        let customer = web::get(&form, "customer_id")
            .unwrap_or_default()
            .trim()
            .to_owned();
        let key = web::get(&form, "api_key").unwrap_or_default();
        match authenticate(self.accounts.as_ref(), Some(key), Some(&customer)).await {
            Ok(account) => {
                // The account's IP allowlist applies to sign-in as to the API (issue 12).
                if let Err(refused) = crate::api::edge::ip_allow::check(&account, req) {
                    return Ok(web::json(403, &refused.body()));
                }
                let now = self.clock.now();
                let id =
                    match session::start(self.sessions.as_ref(), &account.customer_id, now).await {
                        Ok(id) => id,
                        Err(e) => {
                            tracing::error!(error = %e, "session store failed");
                            return Ok(web::html(503, html::login(lang, false, &customer)));
                        }
                    };
                tracing::info!(customer = account.customer_id.as_str(), "dashboard sign-in");
                let mut resp = web::redirect("/dashboard/overview");
                web::add_cookie(&mut resp, &session::set_cookie(self.secure, &id));
                Ok(resp)
            }
            Err(ApiError::ServiceUnavailable(e)) => {
                tracing::error!(error = %e, "sign-in could not read the account");
                Ok(web::html(503, html::login(lang, false, &customer)))
            }
            Err(_) => {
                tracing::info!("dashboard sign-in refused");
                Ok(web::html(401, html::login(lang, true, &customer)))
            }
        }
    }

    /// `POST /dashboard/logout`: the session is deleted and the cookie cleared.
    async fn logout(&self, req: &Request) -> HttpResult {
        if !web::same_origin(req) {
            return Ok(web::json(
                403,
                &json!({"success": false, "error": "Cross-origin request refused"}),
            ));
        }
        if let Some(id) = cookie(req, session::cookie_name(self.secure)) {
            if let Err(e) = session::end(self.sessions.as_ref(), id).await {
                tracing::error!(error = %e, "sign-out could not delete the session");
                return Ok(web::json(
                    503,
                    &ApiError::ServiceUnavailable(e.to_string()).body(),
                ));
            }
        }
        let mut resp = web::redirect("/dashboard");
        web::add_cookie(&mut resp, &session::clear_cookie(self.secure));
        Ok(resp)
    }
}

fn csv(body: String, q: &data::Listing) -> Response<Body> {
    let mut resp = web::respond(200, "text/csv; charset=utf-8", Body::Text(body));
    let name = format!(
        "attachment; filename=\"transactions_{}_{}.csv\"",
        q.range.from, q.range.to
    );
    if let Ok(v) = HeaderValue::from_str(&name) {
        resp.headers_mut().insert("content-disposition", v);
    }
    resp
}

/// A hashed asset: gzip when accepted, cacheable for a year, 304 on a matching ETag.
fn asset(req: &Request, name: &str) -> Response<Body> {
    let Some(a) = assets::by_hashed_name(name) else {
        return web::respond(
            404,
            "text/plain; charset=utf-8",
            Body::Text("Not found".into()),
        );
    };
    let not_modified =
        header(req, "if-none-match").is_some_and(|v| v.split(',').any(|t| t.trim() == a.etag));
    let gzip = header(req, "accept-encoding").is_some_and(|v| v.contains("gzip"));
    let body = match (not_modified, gzip) {
        (true, _) => Body::Empty,
        (false, true) => Body::Binary(a.gzip.clone()),
        (false, false) => Body::Binary(a.bytes.to_vec()),
    };
    let mut resp = web::respond(if not_modified { 304 } else { 200 }, a.content_type, body);
    let h = resp.headers_mut();
    h.insert(
        CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    h.insert("vary", HeaderValue::from_static("Accept-Encoding"));
    if let Ok(v) = HeaderValue::from_str(&a.etag) {
        h.insert("etag", v);
    }
    if gzip && !not_modified {
        h.insert("content-encoding", HeaderValue::from_static("gzip"));
    }
    if not_modified {
        h.remove(CONTENT_TYPE);
    }
    resp
}
