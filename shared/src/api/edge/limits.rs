//! `GET /api/limits`: where the caller stands against every limit, so partners stop guessing:
//! today's MXN (per customer, and per end-user phone with `?phone=`), the top-ups of the current
//! minute and the requests of the current 15-minute window.

use super::gate::Pass;
use super::window::RequestWindows;
use crate::api::http::{json_response, request_id};
use crate::api::json::{money, timestamp};
use crate::api::partner::error::seconds_until_utc_midnight;
use crate::api::partner::error_response;
use crate::api::partner::ApiError;
use crate::domain::{CustomerId, Phone};
use crate::ports::StoreError;
use async_trait::async_trait;
use chrono::{DateTime, Timelike, Utc};
use lambda_http::{Body, Request, RequestExt, Response};
use rust_decimal::Decimal;
use serde_json::{json, Value};

/// Read-only view of the counters the debit writes (port; DynamoDB in
/// `adapters::dynamo::request_window`).
#[async_trait]
pub trait LimitCounters: RequestWindows {
    /// MXN accepted today (UTC) for the customer, or for one phone of the customer.
    async fn used_today_mxn(
        &self,
        customer: &CustomerId,
        phone: Option<&Phone>,
        now: DateTime<Utc>,
    ) -> Result<Decimal, StoreError>;

    /// Top-ups accepted in the current UTC minute.
    async fn topups_this_minute(
        &self,
        customer: &CustomerId,
        now: DateTime<Utc>,
    ) -> Result<u32, StoreError>;
}

/// `?phone=` from the query string (API Gateway's parsed parameters, else the raw URI).
fn phone_param(req: &Request) -> Option<String> {
    if let Some(v) = req
        .query_string_parameters_ref()
        .and_then(|q| q.first("phone"))
    {
        return Some(v.to_owned());
    }
    req.uri().query().and_then(|q| {
        q.split('&')
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| *k == "phone")
            .map(|(_, v)| v.to_owned())
    })
}

/// One daily block: `null` figures where the account has no limit of that kind (the debit
/// only counts what it limits).
fn daily(limit: Option<Decimal>, used: Option<Decimal>) -> Value {
    match (limit, used) {
        (Some(limit), Some(used)) => json!({
            "limit_mxn": money(limit),
            "used_mxn": money(used),
            "remaining_mxn": money((limit - used).max(Decimal::ZERO)),
        }),
        _ => json!({ "limit_mxn": null, "used_mxn": null, "remaining_mxn": null }),
    }
}

pub async fn handle(
    req: &Request,
    pass: &Pass<'_>,
    counters: &dyn LimitCounters,
    now: DateTime<Utc>,
) -> Response<Body> {
    let rid = request_id(req);
    match body(req, pass, counters, now).await {
        Ok(body) => json_response(200, &body, &rid),
        Err(e) => error_response(&e, &rid),
    }
}

async fn body(
    req: &Request,
    pass: &Pass<'_>,
    counters: &dyn LimitCounters,
    now: DateTime<Utc>,
) -> Result<Value, ApiError> {
    let (Some(account), Some(window)) = (pass.account(), pass.window()) else {
        return Err(ApiError::MissingCredentials);
    };
    let down = |e: StoreError| ApiError::ServiceUnavailable(e.to_string());
    let phone = match phone_param(req) {
        Some(raw) => Some(Phone::parse(raw.trim()).map_err(ApiError::validation)?),
        None => None,
    };
    let customer = &account.customer_id;
    let customer_used = match account.daily_limit_mxn {
        Some(_) => Some(
            counters
                .used_today_mxn(customer, None, now)
                .await
                .map_err(down)?,
        ),
        None => None,
    };
    let phone_block = match &phone {
        None => Value::Null,
        Some(p) => {
            let used = match account.daily_limit_per_phone_mxn {
                Some(_) => Some(
                    counters
                        .used_today_mxn(customer, Some(p), now)
                        .await
                        .map_err(down)?,
                ),
                None => None,
            };
            let mut block = daily(account.daily_limit_per_phone_mxn, used);
            block["phone"] = json!(p.as_str());
            block
        }
    };
    // Like the daily blocks: the debit counts the minute only when the account limits it.
    let minute_limit = account.max_topups_per_minute;
    let minute_used = match minute_limit {
        Some(_) => Some(
            counters
                .topups_this_minute(customer, now)
                .await
                .map_err(down)?,
        ),
        None => None,
    };
    let midnight_in = seconds_until_utc_midnight(now);
    Ok(json!({
        "success": true,
        "customer_id": customer.as_str(),
        "date": now.format("%Y-%m-%d").to_string(),
        "daily": {
            "resets_at": timestamp(now + chrono::Duration::seconds(midnight_in.into()))
                .replace(&format!(".{:03}Z", now.timestamp_subsec_millis()), ".000Z"),
            "resets_in_seconds": midnight_in,
            "customer": daily(account.daily_limit_mxn, customer_used),
            "phone": phone_block,
        },
        "topups_per_minute": {
            "limit": minute_limit,
            "used": minute_used,
            "remaining": minute_limit.zip(minute_used).map(|(l, u)| l.saturating_sub(u)),
            "resets_in_seconds": 60 - now.second(),
        },
        "requests_per_15min": {
            "limit": window.limit,
            "used": window.used,
            "remaining": window.remaining(),
            "resets_at": timestamp(DateTime::from_timestamp(window.reset_at, 0).unwrap_or(now)),
            "resets_in_seconds": window.reset_in,
        },
    }))
}
