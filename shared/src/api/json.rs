//! JSON rendering helpers shared by every response.

use chrono::{DateTime, SecondsFormat, Utc};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde_json::{Number, Value};

/// A decimal as a JSON number, as the seeds show them (`20`, `1.08`, `18.52`, `10000`).
/// Integral values render as integers; others as the shortest float that round-trips the
/// (already rounded) decimal. Money is never computed from this value.
pub fn money(value: Decimal) -> Value {
    let value = value.normalize();
    if value.scale() == 0 {
        if let Some(i) = value.to_i64() {
            return Value::Number(Number::from(i));
        }
    }
    value
        .to_f64()
        .and_then(Number::from_f64)
        .map(Value::Number)
        .unwrap_or_else(|| Value::String(value.to_string()))
}

/// RFC 3339 UTC with milliseconds and `Z` (`2025-10-13T10:00:00.000Z`).
pub fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;
    use serde_json::json;

    #[test]
    fn money_renders_like_the_seeds() {
        assert_eq!(money(dec!(20)), json!(20));
        assert_eq!(money(dec!(1.08)), json!(1.08));
        assert_eq!(money(dec!(10000.00)), json!(10000));
        assert_eq!(money(dec!(9998.92)), json!(9998.92));
        assert_eq!(money(dec!(17.0068)), json!(17.0068));
        assert_eq!(money(dec!(-3.5)), json!(-3.5));
        assert_eq!(
            serde_json::to_string(&money(dec!(197.06))).unwrap(),
            "197.06"
        );
    }
}
