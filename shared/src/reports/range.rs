//! Date ranges in query strings: `YYYY-MM-DD`, inclusive, UTC.

use super::ports::Window;
use crate::api::partner::ApiError;
use chrono::{Days, NaiveDate, NaiveTime, TimeDelta};
use lambda_http::{Request, RequestExt};

/// The reconciliation export's (and the statement's) longest range, in days.
pub const MAX_RANGE_DAYS: i64 = 93;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateRange {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

fn parse_date(name: &str, raw: &str) -> Result<NaiveDate, ApiError> {
    let shaped = raw.len() == 10
        && raw.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    let date = shaped
        .then(|| NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok())
        .flatten();
    date.ok_or_else(|| {
        ApiError::validation(format!("{name} must be a date YYYY-MM-DD, got {raw:?}"))
    })
}

impl DateRange {
    /// Both dates required; `from <= to`; at most `max_days` days counting both ends.
    pub fn parse(from: Option<&str>, to: Option<&str>, max_days: i64) -> Result<Self, ApiError> {
        let (Some(from), Some(to)) = (from, to) else {
            return Err(ApiError::validation(
                "date_from and date_to are required (YYYY-MM-DD, inclusive, UTC)",
            ));
        };
        let range = Self {
            from: parse_date("date_from", from)?,
            to: parse_date("date_to", to)?,
        };
        if range.from > range.to {
            return Err(ApiError::validation("date_from must not be after date_to"));
        }
        if range.days() > max_days {
            return Err(ApiError::validation(format!(
                "date range must be at most {max_days} days (got {})",
                range.days()
            )));
        }
        Ok(range)
    }

    /// Days in the range, both ends counted.
    pub fn days(&self) -> i64 {
        (self.to - self.from).num_days() + 1
    }

    /// From 00:00:00.000 of `from` to 23:59:59.999 of `to` (timestamps are milliseconds).
    pub fn window(&self) -> Window {
        let from = self.from.and_time(NaiveTime::MIN).and_utc();
        let end = self
            .to
            .checked_add_days(Days::new(1))
            .unwrap_or(self.to)
            .and_time(NaiveTime::MIN)
            .and_utc();
        Window {
            from,
            to: end - TimeDelta::milliseconds(1),
        }
    }
}

/// A query-string parameter (API Gateway's parsed map, else the raw query string).
pub fn query_param(req: &Request, name: &str) -> Option<String> {
    if let Some(v) = req
        .query_string_parameters_ref()
        .and_then(|q| q.first(name))
    {
        return Some(v.to_owned());
    }
    req.uri().query()?.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (percent_decode(k) == name).then(|| percent_decode(v))
    })
}

fn percent_decode(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = |c: u8| (c as char).to_digit(16);
                match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_inclusive_utc_days() {
        let r = DateRange::parse(Some("2025-10-01"), Some("2025-10-31"), 93).unwrap();
        assert_eq!(r.days(), 31);
        let w = r.window();
        assert_eq!(
            crate::api::json::timestamp(w.from),
            "2025-10-01T00:00:00.000Z"
        );
        assert_eq!(
            crate::api::json::timestamp(w.to),
            "2025-10-31T23:59:59.999Z"
        );
    }

    #[test]
    fn bad_ranges_are_400() {
        for (f, t) in [
            (Some("2025-10-1"), Some("2025-10-31")),
            (Some("2025-13-01"), Some("2025-12-31")),
            (Some("2025-02-30"), Some("2025-03-01")),
            (Some("20251001"), Some("2025-10-31")),
            (Some("2025-10-31"), Some("2025-10-01")),
            (Some("2025-01-01"), Some("2025-04-04")),
            (None, Some("2025-10-31")),
        ] {
            let e = DateRange::parse(f, t, 93).unwrap_err();
            assert_eq!(e.status(), 400, "{f:?} {t:?}");
        }
        // 93 days exactly is fine.
        assert!(DateRange::parse(Some("2025-01-01"), Some("2025-04-03"), 93).is_ok());
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%2Cb+c"), "a,b c");
        assert_eq!(percent_decode("100%"), "100%");
    }
}
