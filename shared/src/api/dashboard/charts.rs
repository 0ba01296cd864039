//! Per-day aggregates of a customer's transactions and their SVG charts (served inline from our
//! own origin: no script, no third party).

use super::html::esc;
use crate::api::json::money;
use crate::domain::Transaction;
use crate::domain::TxStatus;
use chrono::{Duration, NaiveDate};
use rust_decimal::Decimal;
use serde_json::{json, Value};

/// One day of a customer's top-ups (UTC day of creation).
#[derive(Debug, Clone, PartialEq)]
pub struct DayStats {
    pub date: NaiveDate,
    /// Volume delivered: successful top-ups only.
    pub mxn: Decimal,
    pub usd: Decimal,
    pub success: u32,
    pub failed: u32,
    pub pending: u32,
    pub p50_ms: Option<i64>,
    pub p95_ms: Option<i64>,
}

impl DayStats {
    pub fn to_json(&self) -> Value {
        json!({
            "date": self.date.format("%Y-%m-%d").to_string(),
            "volume_mxn": money(self.mxn),
            "volume_usd": money(self.usd),
            "success": self.success,
            "failed": self.failed,
            "pending": self.pending,
            "p50_response_ms": self.p50_ms,
            "p95_response_ms": self.p95_ms,
        })
    }
}

/// Counts over a set of transactions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    pub total: u32,
    pub success: u32,
    pub failed: u32,
    pub pending: u32,
}

impl Summary {
    /// Successful share of the finished top-ups, in percent with one decimal (None: none finished).
    pub fn success_rate(&self) -> Option<Decimal> {
        let done = self.success + self.failed;
        (done > 0).then(|| {
            (Decimal::from(self.success) * Decimal::from(100) / Decimal::from(done))
                .round_dp_with_strategy(1, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
        })
    }
}

pub fn summarize(txs: &[Transaction]) -> Summary {
    let mut s = Summary::default();
    for t in txs {
        s.total += 1;
        match t.status {
            TxStatus::Success => s.success += 1,
            TxStatus::Failed => s.failed += 1,
            TxStatus::Pending | TxStatus::Processing => s.pending += 1,
        }
    }
    s
}

/// Nearest-rank percentile of sorted values.
pub fn percentile(sorted: &[i64], p: u32) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p as usize * sorted.len()).div_ceil(100).max(1);
    Some(sorted[rank - 1])
}

/// `days` consecutive days from `first`, each with its aggregates (days without top-ups are zero).
pub fn daily(txs: &[Transaction], first: NaiveDate, days: usize) -> Vec<DayStats> {
    (0..days)
        .map(|i| {
            let date = first + Duration::days(i as i64);
            let today: Vec<&Transaction> = txs
                .iter()
                .filter(|t| t.created_at.date_naive() == date)
                .collect();
            let ok: Vec<&&Transaction> = today
                .iter()
                .filter(|t| t.status == TxStatus::Success)
                .collect();
            let mut times: Vec<i64> = today.iter().filter_map(|t| t.response_time_ms).collect();
            times.sort_unstable();
            DayStats {
                date,
                mxn: ok.iter().map(|t| t.amount_mxn.as_decimal()).sum(),
                usd: ok.iter().map(|t| t.amount_usd).sum(),
                success: ok.len() as u32,
                failed: today
                    .iter()
                    .filter(|t| t.status == TxStatus::Failed)
                    .count() as u32,
                pending: today.iter().filter(|t| !t.status.is_terminal()).count() as u32,
                p50_ms: percentile(&times, 50),
                p95_ms: percentile(&times, 95),
            }
        })
        .collect()
}

const W: f64 = 600.0;
const H: f64 = 200.0;
const PAD_L: f64 = 48.0;
const PAD_B: f64 = 24.0;

fn f(d: Decimal) -> f64 {
    d.to_string().parse().unwrap_or(0.0)
}

fn frame(id: &str, title: &str, max_label: &str, body: &str, days: &[DayStats]) -> String {
    let first = days
        .first()
        .map(|d| d.date.format("%m-%d").to_string())
        .unwrap_or_default();
    let last = days
        .last()
        .map(|d| d.date.format("%m-%d").to_string())
        .unwrap_or_default();
    format!(
        r#"<svg id="{id}" class="chart" viewBox="0 0 {W} {H}" role="img" aria-labelledby="{id}-t"><title id="{id}-t">{title}</title><line class="axis" x1="{PAD_L}" y1="{y0}" x2="{W}" y2="{y0}"/><line class="axis" x1="{PAD_L}" y1="0" x2="{PAD_L}" y2="{y0}"/><text class="lbl" x="{lx}" y="12" text-anchor="end">{max}</text><text class="lbl" x="{lx}" y="{y0}" text-anchor="end">0</text><text class="lbl" x="{PAD_L}" y="{H}">{first}</text><text class="lbl" x="{W}" y="{H}" text-anchor="end">{last}</text>{body}</svg>"#,
        y0 = H - PAD_B,
        lx = PAD_L - 4.0,
        title = esc(title),
        max = esc(max_label),
    )
}

fn slot(days: usize) -> f64 {
    (W - PAD_L) / days.max(1) as f64
}

/// One bar per day.
pub fn bars(
    id: &str,
    title: &str,
    days: &[DayStats],
    value: impl Fn(&DayStats) -> Decimal,
) -> String {
    let max = days.iter().map(&value).max().unwrap_or_default();
    let (w, plot) = (slot(days.len()), H - PAD_B - 16.0);
    let mut body = String::new();
    for (i, d) in days.iter().enumerate() {
        let v = value(d);
        let h = if max > Decimal::ZERO {
            f(v) / f(max) * plot
        } else {
            0.0
        };
        body.push_str(&format!(
            r#"<rect class="bar" data-date="{date}" data-value="{v}" x="{x:.1}" y="{y:.1}" width="{bw:.1}" height="{h:.1}"><title>{date}: {v}</title></rect>"#,
            date = d.date.format("%Y-%m-%d"),
            x = PAD_L + i as f64 * w + w * 0.15,
            y = H - PAD_B - h,
            bw = w * 0.7,
        ));
    }
    frame(id, title, &max.round_dp(2).to_string(), &body, days)
}

/// Success (bottom) and failure (top) per day, stacked.
pub fn outcomes(id: &str, title: &str, days: &[DayStats]) -> String {
    let max = days.iter().map(|d| d.success + d.failed).max().unwrap_or(0);
    let (w, plot) = (slot(days.len()), H - PAD_B - 16.0);
    let mut body = String::new();
    for (i, d) in days.iter().enumerate() {
        let scale = |n: u32| {
            if max > 0 {
                n as f64 / max as f64 * plot
            } else {
                0.0
            }
        };
        let (hs, hf) = (scale(d.success), scale(d.failed));
        let x = PAD_L + i as f64 * w + w * 0.15;
        body.push_str(&format!(
            r#"<g class="day" data-date="{date}"><title>{date}: {s} ok, {fl} failed</title><rect class="ok" x="{x:.1}" y="{ys:.1}" width="{bw:.1}" height="{hs:.1}"/><rect class="ko" x="{x:.1}" y="{yf:.1}" width="{bw:.1}" height="{hf:.1}"/></g>"#,
            date = d.date.format("%Y-%m-%d"),
            s = d.success,
            fl = d.failed,
            ys = H - PAD_B - hs,
            yf = H - PAD_B - hs - hf,
            bw = w * 0.7,
        ));
    }
    frame(id, title, &max.to_string(), &body, days)
}

/// p50 and p95 response time per day as two lines (days without data are skipped).
pub fn latency(id: &str, title: &str, days: &[DayStats]) -> String {
    let max = days
        .iter()
        .filter_map(|d| d.p95_ms.or(d.p50_ms))
        .max()
        .unwrap_or(0);
    let (w, plot) = (slot(days.len()), H - PAD_B - 16.0);
    let line = |class: &str, get: &dyn Fn(&DayStats) -> Option<i64>| {
        let pts: Vec<String> = days
            .iter()
            .enumerate()
            .filter_map(|(i, d)| {
                get(d).map(|v| {
                    let y = H
                        - PAD_B
                        - if max > 0 {
                            v as f64 / max as f64 * plot
                        } else {
                            0.0
                        };
                    format!("{:.1},{:.1}", PAD_L + i as f64 * w + w / 2.0, y)
                })
            })
            .collect();
        format!(r#"<polyline class="{class}" points="{}"/>"#, pts.join(" "))
    };
    let body = line("p50", &|d| d.p50_ms) + &line("p95", &|d| d.p95_ms);
    frame(id, title, &format!("{max} ms"), &body, days)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        // GIVEN sorted response times WHEN asking p50/p95 THEN nearest-rank values come back
        let v: Vec<i64> = (1..=100).collect();
        assert_eq!(percentile(&v, 50), Some(50));
        assert_eq!(percentile(&v, 95), Some(95));
        assert_eq!(percentile(&[7], 95), Some(7));
        assert_eq!(percentile(&[], 50), None);
    }

    #[test]
    fn success_rate_counts_finished_only() {
        // GIVEN 3 successes, 1 failure, 2 pending THEN the rate is 75.0 %
        let s = Summary {
            total: 6,
            success: 3,
            failed: 1,
            pending: 2,
        };
        assert_eq!(s.success_rate(), Some(Decimal::new(750, 1)));
        assert_eq!(Summary::default().success_rate(), None);
    }

    #[test]
    fn one_bar_per_day_even_without_data() {
        // GIVEN 30 empty days WHEN drawn THEN 30 bars, all zero height
        let first = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let days = daily(&[], first, 30);
        assert_eq!(days.len(), 30);
        let svg = bars("v", "Volume", &days, |d| d.mxn);
        assert_eq!(svg.matches("<rect class=\"bar\"").count(), 30);
        assert!(svg.contains("data-date=\"2026-01-30\""));
    }
}
