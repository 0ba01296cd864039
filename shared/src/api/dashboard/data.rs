//! The JSON behind every dashboard page (`/api/dashboard/…`). Money fields come from the
//! partner views (`views::balance`, `views::transaction_status`): one source of truth.

use super::charts::{self, DayStats};
use super::ports::{DashboardReads, Page, TxFilter, Window};
use crate::api::json::{money, timestamp};
use crate::api::partner::views;
use crate::api::partner::ApiError;
use crate::domain::{Account, Transaction};
use crate::domain::{CustomerId, Phone, Reference, TransactionId};
use crate::ports::{StoreError, TransactionReader};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde_json::{json, Value};

pub const DEFAULT_PAGE: usize = 20;
pub const MAX_PAGE: usize = 100;
/// Longest transaction/statement window one request may ask for.
pub const MAX_RANGE_DAYS: i64 = 92;
/// Days the charts cover (today included).
pub const CHART_DAYS: i64 = 30;
/// Most transactions one aggregate or export reads.
pub const AGGREGATE_CAP: usize = 20_000;

fn unavailable(e: StoreError) -> ApiError {
    ApiError::ServiceUnavailable(e.to_string())
}

/// The listing's query: filters, window, page size, cursor (all from the query string).
#[derive(Debug, Clone, PartialEq)]
pub struct Listing {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub filter: TxFilter,
    pub status: Option<String>,
    pub limit: usize,
    pub cursor: Option<String>,
}

fn day_start(d: NaiveDate) -> DateTime<Utc> {
    d.and_hms_opt(0, 0, 0).expect("midnight").and_utc()
}
fn day_end(d: NaiveDate) -> DateTime<Utc> {
    d.and_hms_milli_opt(23, 59, 59, 999)
        .expect("end of day")
        .and_utc()
}

/// A date range from `YYYY-MM-DD` parameters; defaults: the last `default_days` up to today.
pub fn date_range(
    from: Option<&str>,
    to: Option<&str>,
    today: NaiveDate,
    default_days: i64,
) -> Result<(NaiveDate, NaiveDate), ApiError> {
    let parse = |v: &str, name: &str| {
        NaiveDate::parse_from_str(v, "%Y-%m-%d")
            .map_err(|_| ApiError::validation(format!("{name} must be a date (YYYY-MM-DD)")))
    };
    let to = match to.filter(|v| !v.is_empty()) {
        Some(v) => parse(v, "date_to")?,
        None => today,
    };
    let from = match from.filter(|v| !v.is_empty()) {
        Some(v) => parse(v, "date_from")?,
        None => to - Duration::days(default_days - 1),
    };
    if from > to {
        return Err(ApiError::validation("date_from must not be after date_to"));
    }
    if (to - from).num_days() >= MAX_RANGE_DAYS {
        return Err(ApiError::validation(format!(
            "the range may cover at most {MAX_RANGE_DAYS} days"
        )));
    }
    Ok((from, to))
}

impl Listing {
    /// Parse the listing parameters; bad input is a 400 in the seeds' shape.
    pub fn parse(get: impl Fn(&str) -> Option<String>, today: NaiveDate) -> Result<Self, ApiError> {
        let (from, to) = date_range(
            get("date_from").as_deref(),
            get("date_to").as_deref(),
            today,
            30,
        )?;
        let status = get("status")
            .map(|s| s.trim().to_ascii_uppercase())
            .filter(|s| !s.is_empty());
        let statuses = match status.as_deref() {
            None => vec![],
            Some("PENDING") => vec!["PENDING".into(), "PROCESSING".into()],
            Some("SUCCESS") => vec!["SUCCESS".into()],
            Some("FAILED") => vec!["FAILED".into()],
            Some(_) => {
                return Err(ApiError::validation(
                    "status must be PENDING, SUCCESS or FAILED",
                ))
            }
        };
        let phone = get("phone")
            .map(|p| p.trim().to_owned())
            .filter(|p| !p.is_empty())
            .map(|p| Phone::parse(&p).map(|p| p.as_str().to_owned()))
            .transpose()
            .map_err(|_| ApiError::validation("phone must be 10 digits"))?;
        let reference = get("reference")
            .filter(|r| !r.is_empty())
            .map(|r| Reference::parse(&r).map(|r| r.as_str().to_owned()))
            .transpose()
            .map_err(ApiError::validation)?;
        let limit = match get("limit").filter(|v| !v.is_empty()) {
            None => DEFAULT_PAGE,
            Some(v) => v
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=MAX_PAGE).contains(n))
                .ok_or_else(|| ApiError::validation(format!("limit must be 1 to {MAX_PAGE}")))?,
        };
        Ok(Self {
            from,
            to,
            filter: TxFilter {
                statuses,
                phone,
                reference,
            },
            status,
            limit,
            cursor: get("cursor").filter(|c| !c.is_empty()),
        })
    }

    pub fn window(&self) -> Window {
        Window {
            from: day_start(self.from),
            to: day_end(self.to),
        }
    }
}

/// One transaction as the status endpoint shows it, plus the balance before and after.
pub fn transaction_detail(tx: &Transaction) -> Value {
    let mut t = views::transaction_status(tx)["transaction"].clone();
    t["balance_before_usd"] = money(tx.balance_before);
    t["balance_after_usd"] = money(tx.balance_after);
    t
}

pub async fn transactions(
    reads: &dyn DashboardReads,
    customer: &CustomerId,
    q: &Listing,
) -> Result<Value, ApiError> {
    let page: Page<Transaction> = reads
        .transactions_page(
            customer,
            q.window(),
            &q.filter,
            q.limit,
            q.cursor.as_deref(),
        )
        .await
        .map_err(unavailable)?
        .ok_or_else(|| ApiError::validation("cursor is not valid"))?;
    let rows: Vec<Value> = page.items.iter().map(transaction_detail).collect();
    Ok(json!({
        "success": true,
        "count": rows.len(),
        "transactions": rows,
        "next_cursor": page.next,
    }))
}

/// A transaction of this customer; another customer's id is the same "not found".
pub async fn transaction(
    reader: &dyn TransactionReader,
    customer: &CustomerId,
    raw_id: &str,
) -> Result<Value, ApiError> {
    let id = TransactionId::parse(raw_id).map_err(|_| ApiError::TransactionNotFound)?;
    let tx = reader
        .get_transaction(&id)
        .await
        .map_err(unavailable)?
        .filter(|tx| &tx.customer_id == customer)
        .ok_or(ApiError::TransactionNotFound)?;
    Ok(json!({ "success": true, "transaction": transaction_detail(&tx) }))
}

/// Overview: the balance view, today's MXN against the daily limit, the last 24 h.
pub async fn overview(
    reads: &dyn DashboardReads,
    account: &Account,
    now: DateTime<Utc>,
) -> Result<Value, ApiError> {
    let customer = &account.customer_id;
    let day = now.date_naive();
    let (recent, truncated) = reads
        .transactions_in(
            customer,
            Window {
                from: now - Duration::hours(24),
                to: now,
            },
            AGGREGATE_CAP,
        )
        .await
        .map_err(unavailable)?;
    let used = match reads.used_mxn(customer, day).await.map_err(unavailable)? {
        Some(v) => v,
        // No counter today (no customer-wide limit): sum today's top-ups that were not refunded.
        None => recent
            .iter()
            .filter(|t| {
                t.created_at.date_naive() == day && t.status != crate::domain::TxStatus::Failed
            })
            .map(|t| t.amount_mxn.as_decimal())
            .sum(),
    };
    let stats = charts::summarize(&recent);
    Ok(json!({
        "success": true,
        "balance": views::balance(account),
        "today": {
            "date": day.format("%Y-%m-%d").to_string(),
            "used_mxn": money(used),
            "daily_limit_mxn": account.daily_limit_mxn.map(money),
            "daily_limit_per_phone_mxn": account.daily_limit_per_phone_mxn.map(money),
        },
        "low_balance_threshold_usd": Value::Null,
        "last_24h": {
            "total": stats.total,
            "success": stats.success,
            "failed": stats.failed,
            "pending": stats.pending,
            "success_rate_percent": stats.success_rate().map(money),
            "truncated": truncated,
        },
        "generated_at": timestamp(now),
    }))
}

/// The last 30 days, one entry per day (oldest first).
pub async fn charts(
    reads: &dyn DashboardReads,
    customer: &CustomerId,
    now: DateTime<Utc>,
) -> Result<(Vec<DayStats>, bool), ApiError> {
    let first = now.date_naive() - Duration::days(CHART_DAYS - 1);
    let (txs, truncated) = reads
        .transactions_in(
            customer,
            Window {
                from: day_start(first),
                to: now,
            },
            AGGREGATE_CAP,
        )
        .await
        .map_err(unavailable)?;
    Ok((charts::daily(&txs, first, CHART_DAYS as usize), truncated))
}

pub fn charts_json(days: &[DayStats], truncated: bool) -> Value {
    json!({ "success": true, "days": days.iter().map(DayStats::to_json).collect::<Vec<_>>(), "truncated": truncated })
}

/// Statement for `[from, to]`: opening balance, ledger lines, closing balance.
pub async fn statement(
    reads: &dyn DashboardReads,
    account: &Account,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Value, ApiError> {
    let (start, end) = (day_start(from), day_end(to));
    let entries = reads
        .ledger(&account.customer_id)
        .await
        .map_err(unavailable)?;
    let at = |e: &crate::domain::LedgerEntry| {
        DateTime::parse_from_rfc3339(&e.at)
            .map(|d| d.with_timezone(&Utc))
            .ok()
    };
    let before: Option<Decimal> = entries
        .iter()
        .rev()
        .find(|e| at(e).is_some_and(|t| t < start))
        .map(|e| e.balance_after);
    let lines: Vec<_> = entries
        .iter()
        .filter(|e| at(e).is_some_and(|t| t >= start && t <= end))
        .collect();
    let opening = before
        .or_else(|| lines.first().map(|e| e.balance_before))
        .unwrap_or(if entries.is_empty() {
            account.balance
        } else {
            account.opening_balance
        });
    let closing = lines.last().map(|e| e.balance_after).unwrap_or(opening);
    let debits: Decimal = lines
        .iter()
        .filter(|e| e.delta < Decimal::ZERO)
        .map(|e| e.delta)
        .sum();
    let credits: Decimal = lines
        .iter()
        .filter(|e| e.delta > Decimal::ZERO)
        .map(|e| e.delta)
        .sum();
    Ok(json!({
        "success": true,
        "customer_id": account.customer_id.as_str(),
        "date_from": from.format("%Y-%m-%d").to_string(),
        "date_to": to.format("%Y-%m-%d").to_string(),
        "opening_balance_usd": money(opening),
        "closing_balance_usd": money(closing),
        "total_debits_usd": money(debits),
        "total_credits_usd": money(credits),
        "currency": "USD",
        "lines": lines.iter().map(|e| json!({
            "seq": e.seq,
            "at": e.at,
            "kind": e.kind,
            "transaction_id": e.transaction_id,
            "amount_usd": money(e.delta),
            "balance_before_usd": money(e.balance_before),
            "balance_after_usd": money(e.balance_after),
        })).collect::<Vec<_>>(),
    }))
}

/// CSV of the current filter (every page, up to the aggregate cap), newest first.
pub async fn export_csv(
    reads: &dyn DashboardReads,
    customer: &CustomerId,
    q: &Listing,
) -> Result<String, ApiError> {
    let mut out = String::from(
        "transaction_id,created_at,processed_at,status,phone,reference,amount_mxn,amount_usd,exchange_rate,balance_before_usd,balance_after_usd,operator_transaction_id,provider\r\n",
    );
    let mut cursor: Option<String> = None;
    let mut rows = 0usize;
    loop {
        let page = reads
            .transactions_page(customer, q.window(), &q.filter, MAX_PAGE, cursor.as_deref())
            .await
            .map_err(unavailable)?
            .ok_or_else(|| ApiError::validation("cursor is not valid"))?;
        for tx in &page.items {
            let d = transaction_detail(tx);
            let text = |k: &str| match &d[k] {
                Value::Null => String::new(),
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let fields = [
                "id",
                "created_at",
                "processed_at",
                "status",
                "phone",
                "reference",
                "amount_mxn",
                "amount_usd",
                "exchange_rate",
                "balance_before_usd",
                "balance_after_usd",
                "operator_transaction_id",
                "provider",
            ]
            .map(|k| csv_field(&text(k)));
            out.push_str(&fields.join(","));
            out.push_str("\r\n");
        }
        rows += page.items.len();
        match page.next {
            Some(next) if rows < AGGREGATE_CAP => cursor = Some(next),
            _ => return Ok(out),
        }
    }
}

/// RFC 4180 quoting; a leading `= + - @` is prefixed with `'` so spreadsheets do not run it.
pub fn csv_field(v: &str) -> String {
    let v = if v.starts_with(['=', '+', '-', '@']) && v.parse::<f64>().is_err() {
        format!("'{v}")
    } else {
        v.to_owned()
    };
    if v.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v
    }
}
