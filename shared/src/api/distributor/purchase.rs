//! Parsing `POST /api/distributor/product_purchase` bodies.

use super::catalog::Product;
use super::codes::ResponseCode;
use super::error::DistributorError;
use super::string_field;
use crate::domain::{IdempotencyKey, MxnAmount, Phone, Reference, MAX_TOPUP_MXN};
use crate::topup::TopupInput;
use serde_json::{Map, Value};

/// A validated purchase.
pub(super) fn parse_purchase(
    body: &Map<String, Value>,
) -> Result<(String, TopupInput), DistributorError> {
    let dist_id = string_field(body, "distributor_transaction_id").ok_or_else(|| {
        DistributorError::new(
            400,
            ResponseCode::InvalidTransaction,
            "distributor_transaction_id is required",
        )
    })?;
    let reference = Reference::parse(dist_id).map_err(|e| {
        DistributorError::new(
            400,
            ResponseCode::InvalidTransaction,
            format!("distributor_transaction_id: {e}"),
        )
    })?;
    let phone = match body.get("phone_number") {
        Some(Value::String(s)) => Phone::parse(s.trim())
            .map_err(|e| DistributorError::new(400, ResponseCode::InvalidPhone, e))?,
        _ => {
            return Err(DistributorError::new(
                400,
                ResponseCode::InvalidPhone,
                "phone_number must be a string of 10 digits",
            ))
        }
    };
    let product = string_field(body, "product_id").ok_or_else(|| {
        DistributorError::new(400, ResponseCode::InvalidPackage, "product_id is required")
    })?;
    let price = Product::parse(product)
        .map(Product::fixed_price)
        .ok_or_else(|| {
            DistributorError::new(
                400,
                ResponseCode::InvalidPackage,
                format!("Unknown product_id {product}"),
            )
        })?;
    let amount = body
        .get("amount")
        .and_then(|v| {
            v.as_u64().or_else(|| {
                v.as_f64()
                    .filter(|f| f.fract() == 0.0 && *f >= 0.0)
                    .map(|f| f as u64)
            })
        })
        .and_then(|v| u32::try_from(v).ok())
        .ok_or_else(|| {
            DistributorError::new(
                400,
                ResponseCode::InvalidAmount,
                "amount must be a whole number of MXN",
            )
        })?;
    match price {
        None if !(10..=MAX_TOPUP_MXN).contains(&amount) => {
            return Err(DistributorError::new(
                400,
                ResponseCode::InvalidAmount,
                format!("MOVISTAR_TAE amount must be 10 to {MAX_TOPUP_MXN} MXN"),
            ))
        }
        Some(fixed) if fixed != amount => {
            return Err(DistributorError::new(
                400,
                ResponseCode::InvalidPackage,
                format!("{product} costs {fixed} MXN, not {amount}"),
            ))
        }
        _ => {}
    }
    if let Some(op) = body.get("operator") {
        if !op.is_null() && !op.is_string() {
            return Err(DistributorError::new(
                400,
                ResponseCode::InvalidTransaction,
                "operator must be a string",
            ));
        }
    }
    let amount = MxnAmount::any(amount)
        .map_err(|_| DistributorError::new(400, ResponseCode::InvalidAmount, "Invalid amount"))?;
    Ok((
        dist_id.to_owned(),
        TopupInput {
            phone,
            amount,
            idempotency_key: Some(IdempotencyKey::Distributor(reference.clone())),
            reference: Some(reference),
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn purchase_validation_codes() {
        let ok = json!({"distributor_transaction_id": "D1", "phone_number": "5537686660", "product_id": "MOVISTAR_TAE", "amount": 10, "operator": "MOVISTAR"});
        assert!(parse_purchase(ok.as_object().unwrap()).is_ok());
        let cases = [
            (
                json!({"phone_number": "5537686660", "product_id": "MOVISTAR_TAE", "amount": 10}),
                "12",
            ),
            (
                json!({"distributor_transaction_id": "D1", "phone_number": "553768666", "product_id": "MOVISTAR_TAE", "amount": 10}),
                "83",
            ),
            (
                json!({"distributor_transaction_id": "D1", "phone_number": "5537686660", "product_id": "NOPE", "amount": 10}),
                "14",
            ),
            (
                json!({"distributor_transaction_id": "D1", "phone_number": "5537686660", "product_id": "MOVISTAR_TAE", "amount": 5}),
                "13",
            ),
            (
                json!({"distributor_transaction_id": "D1", "phone_number": "5537686660", "product_id": "MOVISTAR_TAE", "amount": 5001}),
                "13",
            ),
            (
                json!({"distributor_transaction_id": "D1", "phone_number": "5537686660", "product_id": "MOVISTAR_TAE", "amount": "10"}),
                "13",
            ),
            (
                json!({"distributor_transaction_id": "D1", "phone_number": "5537686660", "product_id": "MOVISTAR_PAQUETE_20", "amount": 100}),
                "14",
            ),
        ];
        for (body, code) in cases {
            let err = parse_purchase(body.as_object().unwrap()).unwrap_err();
            assert_eq!(err.code.as_str(), code, "{body}");
            assert_eq!(err.http, 400);
        }
    }
}
