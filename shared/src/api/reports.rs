//! Handlers of `GET /api/transactions`, `GET /api/statement` (partner credentials) and
//! `GET /api/admin/reconcile/export` (`x-reconcile-key`). Expected failures are
//! `Ok(Response)` in the seeds' error shape.

use crate::api::http::{header, json_response, request_id};
use crate::api::partner::auth::authenticate;
use crate::api::partner::error_response;
use crate::api::partner::ApiError;
use crate::domain::credentials::hash_key;
use crate::domain::Account;
use crate::domain::CustomerId;
use crate::ops::ports::ReconcileScope;
use crate::ports::AccountReader;
use crate::reports::export::{self, ROWS_PER_RESPONSE};
use crate::reports::listing;
use crate::reports::ports::{ReadError, ReportStore, Window};
use crate::reports::range::{query_param, DateRange, MAX_RANGE_DAYS};
use crate::reports::statement::{self, LINES_PER_PAGE};
use chrono::{NaiveDate, NaiveTime, TimeDelta};
use lambda_http::http::header::{HeaderValue, CONTENT_DISPOSITION, CONTENT_TYPE};
use lambda_http::{Body, Error, Request, Response};
use serde_json::json;

type HttpResult = Result<Response<Body>, Error>;

fn read_error(e: ReadError) -> ApiError {
    match e {
        ReadError::Cursor(_) => ApiError::validation("cursor is not valid for this request"),
        ReadError::Store(e) => ApiError::ServiceUnavailable(e.to_string()),
    }
}

fn unavailable(e: impl std::fmt::Display) -> ApiError {
    ApiError::ServiceUnavailable(e.to_string())
}

async fn partner(req: &Request, accounts: &dyn AccountReader) -> Result<Account, ApiError> {
    authenticate(
        accounts,
        header(req, "x-api-key"),
        header(req, "x-customer-id"),
    )
    .await
}

/// Optional `date_from` / `date_to` of the listing (either may be left open).
fn open_window(req: &Request) -> Result<Option<Window>, ApiError> {
    let (from, to) = (query_param(req, "date_from"), query_param(req, "date_to"));
    if from.is_none() && to.is_none() {
        return Ok(None);
    }
    let from = from.unwrap_or_else(|| "2000-01-01".into());
    let to = to.unwrap_or_else(|| "9999-12-30".into());
    Ok(Some(
        DateRange::parse(Some(&from), Some(&to), i64::MAX)?.window(),
    ))
}

/// `GET /api/transactions?date_from&date_to&status&phone&reference&limit&cursor`.
pub async fn transactions(
    req: Request,
    accounts: &dyn AccountReader,
    reports: &dyn ReportStore,
) -> HttpResult {
    let rid = request_id(&req);
    let result = async {
        let account = partner(&req, accounts).await?;
        let window = open_window(&req)?;
        let filter = listing::filter(
            query_param(&req, "status").as_deref(),
            query_param(&req, "phone").as_deref(),
            query_param(&req, "reference").as_deref(),
        )?;
        let limit = listing::limit(query_param(&req, "limit").as_deref())?;
        let cursor = query_param(&req, "cursor").filter(|c| !c.is_empty());
        let page = reports
            .transactions_page(
                &account.customer_id,
                window,
                &filter,
                limit,
                cursor.as_deref(),
            )
            .await
            .map_err(read_error)?;
        Ok(listing::view(&page))
    }
    .await;
    match result {
        Ok(body) => Ok(json_response(200, &body, &rid)),
        Err(e) => Ok(error_response(&e, &rid)),
    }
}

/// `GET /api/statement?date_from&date_to[&cursor]`.
pub async fn statement(
    req: Request,
    accounts: &dyn AccountReader,
    reports: &dyn ReportStore,
) -> HttpResult {
    let rid = request_id(&req);
    let result = async {
        let account = partner(&req, accounts).await?;
        let range = DateRange::parse(
            query_param(&req, "date_from").as_deref(),
            query_param(&req, "date_to").as_deref(),
            MAX_RANGE_DAYS,
        )?;
        let window = range.window();
        let cursor = query_param(&req, "cursor").filter(|c| !c.is_empty());
        let page = reports
            .ledger_page(
                &account.customer_id,
                window,
                LINES_PER_PAGE,
                cursor.as_deref(),
            )
            .await
            .map_err(read_error)?;
        let opening = if page.items.is_empty() {
            reports
                .balance_before(&account.customer_id, window.from)
                .await
                .map_err(unavailable)?
                .unwrap_or(account.opening_balance)
        } else {
            page.items[0].entry.balance_before
        };
        let txs = reports
            .transactions_by_id(&export::transaction_ids(&page.items))
            .await
            .map_err(unavailable)?;
        statement::view(
            &account,
            &range,
            opening,
            &page.items,
            &txs,
            page.next.as_deref(),
        )
        .map_err(|e| {
            tracing::error!(error = %e, customer = %account.customer_id, "ledger chain broken");
            ApiError::ServiceUnavailable(e.to_string())
        })
    }
    .await;
    match result {
        Ok(body) => Ok(json_response(200, &body, &rid)),
        Err(e) => Ok(error_response(&e, &rid)),
    }
}

fn reconcile_unauthorized(rid: &str, message: &str) -> Response<Body> {
    tracing::info!(request_id = rid, "reconcile export refused: {message}");
    json_response(
        401,
        &json!({
            "success": false,
            "error": "Invalid reconcile key",
            "message": message,
        }),
        rid,
    )
}

/// The partners a reconcile key may export, in id order.
async fn scope_accounts(
    scope: &ReconcileScope,
    accounts: &dyn AccountReader,
    reports: &dyn ReportStore,
) -> Result<Option<Vec<Account>>, ApiError> {
    match scope {
        ReconcileScope::Partner(id) => Ok(accounts
            .get_account(id)
            .await
            .map_err(unavailable)?
            .filter(|a| a.active)
            .map(|a| vec![a])),
        ReconcileScope::AllPartners => {
            let mut all = reports.accounts().await.map_err(unavailable)?;
            all.sort_by(|a, b| a.customer_id.as_str().cmp(b.customer_id.as_str()));
            Ok(Some(all))
        }
    }
}

/// Export cursor: `{customer}~{ledger cursor}` (empty ledger cursor = that partner's start).
fn split_cursor(raw: &str) -> Result<(CustomerId, Option<String>), ApiError> {
    let bad = || ApiError::validation("cursor is not valid for this request");
    let (c, inner) = raw.split_once('~').ok_or_else(bad)?;
    let customer = CustomerId::parse(c).map_err(|_| bad())?;
    Ok((customer, (!inner.is_empty()).then(|| inner.to_owned())))
}

/// `GET /api/admin/reconcile/export?date_from&date_to[&cursor]` with `x-reconcile-key`.
pub async fn reconcile_export(
    req: Request,
    accounts: &dyn AccountReader,
    reports: &dyn ReportStore,
) -> HttpResult {
    let rid = request_id(&req);
    let Some(key) = header(&req, "x-reconcile-key")
        .map(str::trim)
        .filter(|k| !k.is_empty())
    else {
        return Ok(reconcile_unauthorized(
            &rid,
            "Missing x-reconcile-key header",
        ));
    };
    let found = match reports.reconcile_key(&hash_key(key)).await {
        Ok(found) => found,
        Err(e) => return Ok(error_response(&unavailable(e), &rid)),
    };
    let Some(found) = found else {
        return Ok(reconcile_unauthorized(
            &rid,
            "The x-reconcile-key is not an active reconcile key",
        ));
    };
    let partners = match scope_accounts(&found.scope, accounts, reports).await {
        Ok(Some(p)) => p,
        Ok(None) => {
            return Ok(reconcile_unauthorized(
                &rid,
                "The x-reconcile-key is not an active reconcile key",
            ))
        }
        Err(e) => return Ok(error_response(&e, &rid)),
    };
    match export_csv(&req, &found.scope, &partners, reports).await {
        Ok((csv, next, filename)) => {
            let mut resp = Response::new(Body::Text(csv));
            let headers = resp.headers_mut();
            headers.insert(
                CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            );
            if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
                headers.insert(CONTENT_DISPOSITION, v);
            }
            if let Some(next) = next.and_then(|n| HeaderValue::from_str(&n).ok()) {
                headers.insert("x-next-cursor", next);
            }
            if let Ok(v) = HeaderValue::from_str(&rid) {
                headers.insert("x-request-id", v);
            }
            Ok(resp)
        }
        Err(e) => Ok(error_response(&e, &rid)),
    }
}

async fn export_csv(
    req: &Request,
    scope: &ReconcileScope,
    partners: &[Account],
    reports: &dyn ReportStore,
) -> Result<(String, Option<String>, String), ApiError> {
    let from = query_param(req, "date_from");
    let to = query_param(req, "date_to");
    let range = DateRange::parse(from.as_deref(), to.as_deref(), MAX_RANGE_DAYS)?;
    let window = range.window();
    let (mut start, mut inner) = match query_param(req, "cursor").filter(|c| !c.is_empty()) {
        Some(c) => {
            let (customer, inner) = split_cursor(&c)?;
            let idx = partners
                .iter()
                .position(|a| a.customer_id == customer)
                .ok_or_else(|| ApiError::validation("cursor is not valid for this request"))?;
            (idx, inner)
        }
        None => (0, None),
    };
    let mut csv = export::header();
    let mut rows = 0;
    let mut next = None;
    while start < partners.len() {
        let account = &partners[start];
        let page = reports
            .ledger_page(
                &account.customer_id,
                window,
                ROWS_PER_RESPONSE - rows,
                inner.as_deref(),
            )
            .await
            .map_err(read_error)?;
        let txs = reports
            .transactions_by_id(&export::transaction_ids(&page.items))
            .await
            .map_err(unavailable)?;
        csv.push_str(&export::rows(account, &page.items, &txs));
        rows += page.items.len();
        if let Some(n) = page.next {
            next = Some(format!("{}~{n}", account.customer_id));
            break;
        }
        start += 1;
        inner = None;
        if rows >= ROWS_PER_RESPONSE {
            next = partners.get(start).map(|a| format!("{}~", a.customer_id));
            break;
        }
    }
    let name = export::filename(
        scope.as_str(),
        &range.from.to_string(),
        &range.to.to_string(),
    );
    Ok((csv, next, name))
}

/// The start of a UTC day (tests and views).
pub fn day_start(date: NaiveDate) -> chrono::DateTime<chrono::Utc> {
    date.and_time(NaiveTime::MIN).and_utc()
}

/// The last millisecond of a UTC day.
pub fn day_end(date: NaiveDate) -> chrono::DateTime<chrono::Utc> {
    day_start(date) + TimeDelta::days(1) - TimeDelta::milliseconds(1)
}
