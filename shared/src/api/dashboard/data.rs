//! The JSON behind every dashboard page (`/api/dashboard/…`). It reuses the partner and report
//! views — `views::balance`, the status endpoint's fields (`reports::listing::view`), the
//! statement (`reports::statement::view`) — and the report store's index queries: one source of
//! truth for money fields and one way to read a customer's history.

use super::charts::{self, DayStats};
use super::ports::DashboardReads;
use crate::api::json::{money, timestamp};
use crate::api::partner::views;
use crate::api::partner::ApiError;
use crate::domain::{Account, CustomerId, Transaction, TransactionId, TxStatus};
use crate::ports::{StoreError, TransactionReader};
use crate::reports::csv;
use crate::reports::export::transaction_ids;
use crate::reports::listing;
use crate::reports::ports::{Page, ReadError, ReportStore, TxFilter, Window};
use crate::reports::range::{DateRange, MAX_RANGE_DAYS};
use crate::reports::statement::{self as statement_view, LINES_PER_PAGE};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde_json::{json, Value};

pub const DEFAULT_PAGE: usize = 20;
/// Days the charts cover (today included).
pub const CHART_DAYS: i64 = 30;
/// Most transactions one aggregate or export reads.
pub const AGGREGATE_CAP: usize = 20_000;
/// Page size of the bounded reads behind aggregates and the CSV.
const BATCH: usize = listing::MAX_LIMIT;

fn unavailable(e: StoreError) -> ApiError {
    ApiError::ServiceUnavailable(e.to_string())
}

fn read_error(e: ReadError) -> ApiError {
    match e {
        ReadError::Cursor(_) => ApiError::validation("cursor is not valid"),
        ReadError::Store(e) => unavailable(e),
    }
}

/// The listing's query: date range, filters, page size, cursor (all from the query string).
#[derive(Debug, Clone, PartialEq)]
pub struct Listing {
    pub range: DateRange,
    pub filter: TxFilter,
    pub status: Option<String>,
    pub limit: usize,
    pub cursor: Option<String>,
}

/// A date range from `YYYY-MM-DD` parameters; an absent end defaults to today, an absent start
/// to `default_days` before the end. Ranges follow the report API's rules.
pub fn date_range(
    from: Option<&str>,
    to: Option<&str>,
    today: NaiveDate,
    default_days: i64,
) -> Result<DateRange, ApiError> {
    let to = to
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
        .unwrap_or_else(|| today.format("%Y-%m-%d").to_string());
    let from = match from.filter(|v| !v.is_empty()) {
        Some(v) => v.to_owned(),
        None => {
            let end = NaiveDate::parse_from_str(&to, "%Y-%m-%d").unwrap_or(today);
            (end - Duration::days(default_days - 1))
                .format("%Y-%m-%d")
                .to_string()
        }
    };
    DateRange::parse(Some(&from), Some(&to), MAX_RANGE_DAYS)
}

impl Listing {
    /// Parse the listing parameters; bad input is a 400 in the seeds' shape.
    pub fn parse(get: impl Fn(&str) -> Option<String>, today: NaiveDate) -> Result<Self, ApiError> {
        let range = date_range(
            get("date_from").as_deref(),
            get("date_to").as_deref(),
            today,
            30,
        )?;
        let status = get("status")
            .map(|s| s.trim().to_ascii_uppercase())
            .filter(|s| !s.is_empty());
        let filter = listing::filter(
            status.as_deref(),
            get("phone").as_deref().map(str::trim),
            get("reference").as_deref(),
        )?;
        let limit = match get("limit").filter(|v| !v.is_empty()) {
            None => DEFAULT_PAGE,
            v => listing::limit(v.as_deref())?,
        };
        Ok(Self {
            range,
            filter,
            status,
            limit,
            cursor: get("cursor").filter(|c| !c.is_empty()),
        })
    }

    pub fn window(&self) -> Window {
        self.range.window()
    }
}

/// One transaction as the status endpoint shows it, plus the balance before and after.
pub fn transaction_detail(tx: &Transaction) -> Value {
    let mut t = views::transaction_status(tx)["transaction"].clone();
    with_balances(&mut t, tx);
    t
}

fn with_balances(view: &mut Value, tx: &Transaction) {
    view["balance_before_usd"] = money(tx.balance_before);
    view["balance_after_usd"] = money(tx.balance_after);
}

/// `GET /api/transactions`' body for this page, each row with balance before/after.
pub async fn transactions(
    reports: &dyn ReportStore,
    customer: &CustomerId,
    q: &Listing,
) -> Result<Value, ApiError> {
    let page: Page<Transaction> = reports
        .transactions_page(
            customer,
            Some(q.window()),
            &q.filter,
            q.limit,
            q.cursor.as_deref(),
        )
        .await
        .map_err(read_error)?;
    let mut body = listing::view(&page);
    if let Some(rows) = body["transactions"].as_array_mut() {
        for (row, tx) in rows.iter_mut().zip(&page.items) {
            with_balances(row, tx);
        }
    }
    Ok(body)
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

/// Every transaction of the window (newest first), page by page, at most `cap`; the flag says
/// whether the cap cut the list.
pub async fn transactions_in(
    reports: &dyn ReportStore,
    customer: &CustomerId,
    window: Window,
    filter: &TxFilter,
    cap: usize,
) -> Result<(Vec<Transaction>, bool), ApiError> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = reports
            .transactions_page(customer, Some(window), filter, BATCH, cursor.as_deref())
            .await
            .map_err(read_error)?;
        out.extend(page.items);
        if out.len() >= cap {
            let cut = out.len() > cap || page.next.is_some();
            out.truncate(cap);
            return Ok((out, cut));
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => return Ok((out, false)),
        }
    }
}

/// Overview: the balance view, today's MXN against the daily limit, the last 24 h.
pub async fn overview(
    reports: &dyn ReportStore,
    reads: &dyn DashboardReads,
    account: &Account,
    now: DateTime<Utc>,
) -> Result<Value, ApiError> {
    let customer = &account.customer_id;
    let day = now.date_naive();
    let window = Window {
        from: now - Duration::hours(24),
        to: now,
    };
    let (recent, truncated) = transactions_in(
        reports,
        customer,
        window,
        &TxFilter::default(),
        AGGREGATE_CAP,
    )
    .await?;
    let used = match reads.used_mxn(customer, day).await.map_err(unavailable)? {
        Some(v) => v,
        // No counter today (no customer-wide limit): today's top-ups that were not refunded.
        None => recent
            .iter()
            .filter(|t| t.created_at.date_naive() == day && t.status != TxStatus::Failed)
            .map(|t| t.amount_mxn.as_decimal())
            .sum(),
    };
    // The threshold `balance.low` uses: the account's own, else the 1,000 USD default.
    let threshold = account.low_balance_threshold();
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
        "low_balance_threshold_usd": money(threshold),
        "low_balance_threshold_is_default": account.low_balance_usd.is_none(),
        "below_low_balance_threshold": account.balance < threshold,
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
    reports: &dyn ReportStore,
    customer: &CustomerId,
    now: DateTime<Utc>,
) -> Result<(Vec<DayStats>, bool), ApiError> {
    let first = now.date_naive() - Duration::days(CHART_DAYS - 1);
    let window = Window {
        from: first.and_hms_opt(0, 0, 0).expect("midnight").and_utc(),
        to: now,
    };
    let (txs, truncated) = transactions_in(
        reports,
        customer,
        window,
        &TxFilter::default(),
        AGGREGATE_CAP,
    )
    .await?;
    Ok((charts::daily(&txs, first, CHART_DAYS as usize), truncated))
}

pub fn charts_json(days: &[DayStats], truncated: bool) -> Value {
    json!({
        "success": true,
        "days": days.iter().map(DayStats::to_json).collect::<Vec<_>>(),
        "truncated": truncated,
    })
}

/// `GET /api/statement`'s body for the range (opening balance, ledger lines, closing balance).
pub async fn statement(
    reports: &dyn ReportStore,
    account: &Account,
    range: &DateRange,
    cursor: Option<&str>,
) -> Result<Value, ApiError> {
    let window = range.window();
    let customer = &account.customer_id;
    let page = reports
        .ledger_page(customer, window, LINES_PER_PAGE, cursor)
        .await
        .map_err(read_error)?;
    let opening = match page.items.first() {
        Some(first) => first.entry.balance_before,
        None => reports
            .balance_before(customer, window.from)
            .await
            .map_err(unavailable)?
            .unwrap_or(account.opening_balance),
    };
    let txs = reports
        .transactions_by_id(&transaction_ids(&page.items))
        .await
        .map_err(unavailable)?;
    statement_view::view(
        account,
        range,
        opening,
        &page.items,
        &txs,
        page.next.as_deref(),
    )
    .map_err(|e| {
        tracing::error!(error = %e, customer = %customer, "ledger chain broken");
        ApiError::ServiceUnavailable(e.to_string())
    })
}

pub const CSV_COLUMNS: [&str; 13] = [
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
];

/// CSV of the current filter (every page, up to the aggregate cap), newest first: the status
/// endpoint's fields plus balance before/after, quoted like the reconciliation export.
pub async fn export_csv(
    reports: &dyn ReportStore,
    customer: &CustomerId,
    q: &Listing,
) -> Result<String, ApiError> {
    let (txs, _) = transactions_in(reports, customer, q.window(), &q.filter, AGGREGATE_CAP).await?;
    let mut out = csv::row(&CSV_COLUMNS.map(|c| if c == "id" { "transaction_id" } else { c }));
    for tx in &txs {
        let d = transaction_detail(tx);
        let fields = CSV_COLUMNS.map(|k| match &d[k] {
            Value::Null => String::new(),
            Value::String(s) => s.clone(),
            other => other.to_string(),
        });
        out.push_str(&csv::row(&fields));
    }
    Ok(out)
}

/// Statement range default: the current month up to today.
pub fn month_to_date(today: NaiveDate) -> i64 {
    use chrono::Datelike;
    i64::from(today.day())
}
