//! Parsing the partner API's top-up body (`{phone, amount, reference?}` + `Idempotency-Key`).

use super::error::ApiError;
use crate::domain::{IdempotencyKey, MxnAmount, Phone, Reference};
use crate::topup::TopupInput;
use serde_json::{Map, Value};

/// Parse `{phone, amount, reference?}` (+ optional `Idempotency-Key` header).
pub fn parse_topup(
    body: &Map<String, Value>,
    idempotency_header: Option<&str>,
) -> Result<TopupInput, ApiError> {
    let phone = match body.get("phone") {
        None | Some(Value::Null) => return Err(ApiError::validation("phone is required")),
        Some(Value::String(s)) => Phone::parse(s.trim()).map_err(ApiError::validation)?,
        Some(_) => {
            return Err(ApiError::validation(
                "phone must be a string of 10 digits (e.g. \"5566374683\")",
            ))
        }
    };
    let amount = match body.get("amount") {
        None | Some(Value::Null) => return Err(ApiError::validation("amount is required")),
        Some(Value::Number(num)) => {
            let requested = Value::Number(num.clone());
            let whole = num
                .as_u64()
                .or_else(|| {
                    num.as_f64()
                        .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f <= u32::MAX as f64)
                        .map(|f| f as u64)
                })
                .and_then(|v| u32::try_from(v).ok());
            match whole.map(MxnAmount::parse) {
                Some(Ok(a)) => a,
                _ => return Err(ApiError::InvalidAmount { requested }),
            }
        }
        Some(_) => {
            return Err(ApiError::validation(
                "amount must be a number (MXN, one of the allowed amounts)",
            ))
        }
    };
    let reference = match body.get("reference") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.is_empty() => None,
        Some(Value::String(s)) => Some(Reference::parse(s).map_err(ApiError::validation)?),
        Some(_) => return Err(ApiError::validation("reference must be a string")),
    };
    let header_key = match idempotency_header.map(str::trim) {
        None | Some("") => None,
        Some(k) => Some(
            Reference::parse(k)
                .map_err(|e| ApiError::validation(format!("Idempotency-Key header: {e}")))?,
        ),
    };
    let idempotency_key = IdempotencyKey::for_partner(reference.as_ref(), header_key);
    Ok(TopupInput {
        phone,
        amount,
        reference,
        idempotency_key,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn parses_the_seed_request() {
        let input = parse_topup(
            &body(json!({"phone": "5566374683", "amount": 20, "reference": "ORDER_12345"})),
            None,
        )
        .unwrap();
        assert_eq!(input.phone.as_str(), "5566374683");
        assert_eq!(input.amount.value(), 20);
        assert_eq!(
            input
                .idempotency_key
                .as_ref()
                .map(IdempotencyKey::render)
                .as_deref(),
            Some("REF#ORDER_12345")
        );
    }

    #[test]
    fn reference_wins_over_header_and_header_works_alone() {
        let with_both = parse_topup(
            &body(json!({"phone": "5566374683", "amount": 20, "reference": "R1"})),
            Some("K1"),
        )
        .unwrap();
        assert_eq!(
            with_both
                .idempotency_key
                .as_ref()
                .map(IdempotencyKey::render)
                .as_deref(),
            Some("REF#R1")
        );
        let header_only = parse_topup(
            &body(json!({"phone": "5566374683", "amount": 20})),
            Some("K1"),
        )
        .unwrap();
        assert_eq!(
            header_only
                .idempotency_key
                .as_ref()
                .map(IdempotencyKey::render)
                .as_deref(),
            Some("KEY#K1")
        );
        let none = parse_topup(&body(json!({"phone": "5566374683", "amount": 20})), None).unwrap();
        assert_eq!(none.idempotency_key, None);
    }

    #[test]
    fn bad_inputs_are_400s_with_the_seed_bodies() {
        let cases = [
            (json!({"amount": 20}), "Validation failed"),
            (json!({"phone": "5566374683"}), "Validation failed"),
            (
                json!({"phone": 5566374683u64, "amount": 20}),
                "Validation failed",
            ),
            (
                json!({"phone": "556637468", "amount": 20}),
                "Validation failed",
            ),
            (
                json!({"phone": "0566374683", "amount": 20}),
                "Validation failed",
            ),
            (
                json!({"phone": "5566374683", "amount": "20"}),
                "Validation failed",
            ),
            (
                json!({"phone": "5566374683", "amount": 25}),
                "Invalid product amount",
            ),
            (
                json!({"phone": "5566374683", "amount": 20.5}),
                "Invalid product amount",
            ),
            (
                json!({"phone": "5566374683", "amount": -20}),
                "Invalid product amount",
            ),
            (
                json!({"phone": "5566374683", "amount": 1e30}),
                "Invalid product amount",
            ),
            (
                json!({"phone": "5566374683", "amount": 20, "reference": 7}),
                "Validation failed",
            ),
            (
                json!({"phone": "5566374683", "amount": 20, "reference": "x".repeat(129)}),
                "Validation failed",
            ),
        ];
        for (input, error) in cases {
            let err = parse_topup(&body(input.clone()), None).unwrap_err();
            assert_eq!(err.status(), 400, "{input}");
            assert_eq!(err.body()["error"], json!(error), "{input}");
        }
        let err =
            parse_topup(&body(json!({"phone": "5566374683", "amount": 25})), None).unwrap_err();
        assert_eq!(err.body()["requested_amount"], json!(25));
    }

    #[test]
    fn integral_float_amounts_are_accepted() {
        let input =
            parse_topup(&body(json!({"phone": "5566374683", "amount": 20.0})), None).unwrap();
        assert_eq!(input.amount.value(), 20);
    }
}
