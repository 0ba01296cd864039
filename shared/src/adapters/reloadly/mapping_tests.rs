//! The pure mapping from Reloadly's typed answers to our outcomes, on the JSON shapes of
//! Reloadly's docs (docs.reloadly.com "Airtime", seeds 003/004) — no HTTP.

use super::dto::{
    decode, ApiResponse, Listing, Operator, RecipientPhone, StatusResponse, TokenResponse,
    TopupRequestBody, TopupTransaction,
};
use super::outcome::{
    find_in_report, status_outcome, topup_outcome, ReportFinding, TopupAnswer, TopupMapping,
};
use crate::ports::{ProviderStatus, TopupOutcome};
use reqwest::StatusCode;
use serde_json::{json, Value};

fn answer(http: u16, body: &[u8]) -> TopupMapping {
    let response = ApiResponse {
        status: StatusCode::from_u16(http).unwrap(),
        body: body.to_vec(),
    };
    topup_outcome(response.status, &TopupAnswer::of(&response))
}

fn answer_json(http: u16, body: Value) -> TopupMapping {
    answer(http, body.to_string().as_bytes())
}

fn done(mapping: TopupMapping) -> TopupOutcome {
    match mapping {
        TopupMapping::Done(outcome) => outcome,
        TopupMapping::Duplicate => panic!("expected an outcome, got Duplicate"),
    }
}

/// The docs' `POST /topups` answer, with every field Reloadly sends.
fn documented_topup(status: Value, operator_transaction_id: Value) -> Value {
    json!({
        "transactionId": 12345, "status": status, "operatorTransactionId": operator_transaction_id,
        "customIdentifier": "RLR0001", "recipientPhone": "525566374683", "recipientEmail": null,
        "senderPhone": "11231231231", "countryCode": "MX", "operatorId": 173,
        "operatorName": "Telcel Mexico", "discount": 0.5, "discountCurrencyCode": "USD",
        "requestedAmount": 20.00, "requestedAmountCurrencyCode": "MXN", "deliveredAmount": 20,
        "deliveredAmountCurrencyCode": "MXN", "transactionDate": "2022-01-26 03:19:16",
        "pinDetail": null,
        "balanceInfo": {"oldBalance": 60.41, "newBalance": 59.33, "cost": 1.08,
                        "currencyCode": "USD", "currencyName": "US Dollar",
                        "updatedAt": "2022-01-26 08:19:16"}
    })
}

/// The docs' error body.
fn documented_error(code: &str, message: &str) -> Value {
    json!({"timeStamp": "2021-05-12 08:46:05", "message": message, "path": "/topups",
           "errorCode": code, "infoLink": null, "details": []})
}

#[test]
fn a_successful_topup_is_delivered_with_the_operators_reference() {
    // GIVEN Reloadly's documented answer, with fields we do not read
    let body = documented_topup(json!("SUCCESSFUL"), json!("OP-987654"));
    // WHEN it is mapped THEN the top-up is delivered, with the operator's reference
    assert_eq!(
        done(answer_json(200, body)),
        TopupOutcome::Success {
            operator_transaction_id: "OP-987654".into()
        }
    );
    // and without an operator reference (null in the docs) Reloadly's id stands in
    let body = documented_topup(json!("SUCCESSFUL"), Value::Null);
    assert_eq!(
        done(answer_json(200, body)),
        TopupOutcome::Success {
            operator_transaction_id: "12345".into()
        }
    );
}

#[test]
fn refunded_and_failed_are_definite_failures() {
    for status in ["REFUNDED", "FAILED", "failed"] {
        let out = done(answer_json(
            200,
            documented_topup(json!(status), Value::Null),
        ));
        assert!(
            matches!(out, TopupOutcome::Failed { .. }),
            "{status}: {out:?}"
        );
    }
}

#[test]
fn a_2xx_without_a_readable_status_is_unknown_never_success_or_failure() {
    // GIVEN 2xx answers whose status is missing, of another type, not final or unreadable
    let mut without_status = documented_topup(json!("SUCCESSFUL"), json!("OP"));
    without_status.as_object_mut().unwrap().remove("status");
    let bodies: Vec<Vec<u8>> = vec![
        without_status.to_string().into_bytes(),
        documented_topup(json!(1), json!("OP"))
            .to_string()
            .into_bytes(),
        documented_topup(Value::Null, json!("OP"))
            .to_string()
            .into_bytes(),
        documented_topup(json!("PROCESSING"), json!("OP"))
            .to_string()
            .into_bytes(),
        documented_topup(json!("PENDING"), json!("OP"))
            .to_string()
            .into_bytes(),
        b"<html>gateway</html>".to_vec(),
        b"".to_vec(),
        b"[\"SUCCESSFUL\"]".to_vec(),
        b"\"SUCCESSFUL\"".to_vec(),
    ];
    for body in bodies {
        // WHEN each is mapped THEN the outcome is unknown (the reconciler asks later)
        let out = done(answer(200, &body));
        assert!(
            matches!(out, TopupOutcome::Unknown { .. }),
            "{}: {out:?}",
            String::from_utf8_lossy(&body)
        );
    }
}

#[test]
fn documented_rejections_fail_and_anything_uncertain_is_unknown() {
    // A documented error code on a 4xx: nothing was processed.
    let out = done(answer_json(
        400,
        documented_error("INSUFFICIENT_BALANCE", "Insufficient balance"),
    ));
    assert!(
        matches!(&out, TopupOutcome::Failed { reason } if reason.contains("INSUFFICIENT_BALANCE")),
        "{out:?}"
    );
    // A status Reloadly only answers before processing, even with no body.
    assert!(matches!(
        done(answer(400, b"")),
        TopupOutcome::Failed { .. }
    ));
    // A 5xx, even with a documented code, may have been processed.
    let out = done(answer_json(
        502,
        documented_error("INSUFFICIENT_BALANCE", "x"),
    ));
    assert!(matches!(out, TopupOutcome::Unknown { .. }), "{out:?}");
    // An unknown code on a status that is not "rejected before processing".
    let out = done(answer_json(422, documented_error("SOMETHING_NEW", "x")));
    assert!(matches!(out, TopupOutcome::Unknown { .. }), "{out:?}");
}

#[test]
fn a_reused_custom_identifier_is_a_duplicate_to_look_up() {
    let mapping = answer_json(
        400,
        documented_error("INVALID_REQUEST", "customIdentifier already used"),
    );
    assert!(matches!(mapping, TopupMapping::Duplicate));
}

fn report_entry(status: Value, transaction_id: Value) -> TopupTransaction {
    decode(
        json!({"transactionId": transaction_id, "status": status, "operatorTransactionId": "OP-55",
               "customIdentifier": "RLR0001", "countryCode": "MX", "operatorName": "Telcel Mexico"})
        .to_string()
        .as_bytes(),
    )
}

#[test]
fn the_status_endpoint_is_read_nested_or_flat_and_wins_over_the_report() {
    let entry = report_entry(json!("PROCESSING"), json!(55));
    // GIVEN the status endpoint's nested answer (what the API sends)
    let nested: StatusResponse = decode(
        json!({"code": null, "message": null, "status": "SUCCESSFUL",
               "transaction": {"transactionId": 55, "status": "SUCCESSFUL",
                               "operatorTransactionId": "OP-LIVE", "customIdentifier": "RLR0001"}})
        .to_string()
        .as_bytes(),
    );
    // THEN its status and operator reference win
    assert_eq!(
        status_outcome(&entry, Some(&nested)),
        ProviderStatus::Successful {
            operator_transaction_id: "OP-LIVE".into()
        }
    );
    // GIVEN the docs' flat answer, refunded
    let flat: StatusResponse = decode(
        documented_topup(json!("REFUNDED"), Value::Null)
            .to_string()
            .as_bytes(),
    );
    let out = status_outcome(&entry, Some(&flat));
    assert!(matches!(out, ProviderStatus::Failed { .. }), "{out:?}");
    // GIVEN a live answer without any status: the report's status stands
    let silent: StatusResponse = decode(br#"{"code": null, "message": "busy"}"#);
    assert_eq!(
        status_outcome(&entry, Some(&silent)),
        ProviderStatus::Processing
    );
}

#[test]
fn without_any_status_the_lookup_is_unavailable_not_final() {
    // An entry with an id but no status, and no live answer.
    let out = status_outcome(&report_entry(Value::Null, json!(55)), None);
    assert!(matches!(out, ProviderStatus::Unavailable { .. }), "{out:?}");
    // An entry with neither an id nor a status.
    let out = status_outcome(&report_entry(Value::Null, Value::Null), None);
    assert!(matches!(out, ProviderStatus::Unavailable { .. }), "{out:?}");
    // An unrecognized status.
    let out = status_outcome(&report_entry(json!("REVERSED"), json!("55")), None);
    assert!(matches!(out, ProviderStatus::Unavailable { .. }), "{out:?}");
}

#[test]
fn the_report_is_read_as_a_page_or_an_array_and_never_proves_absence_by_accident() {
    let ours = json!({"transactionId": 55, "status": "SUCCESSFUL", "customIdentifier": "RLR0001"});
    let theirs = json!({"transactionId": 9, "status": "SUCCESSFUL", "customIdentifier": "OTHER"});
    let find =
        |body: Value| find_in_report(Listing::decode(body.to_string().as_bytes()), "RLR0001");
    // A Spring page (with its paging fields) and a bare array, tolerating odd entries.
    for body in [
        json!({"content": [theirs, ours], "pageable": {"pageNumber": 0}, "totalElements": 2}),
        json!([7, null, ours]),
    ] {
        assert!(
            matches!(find(body.clone()), ReportFinding::Entry(e) if e.transaction_id == Some(55)),
            "{body}"
        );
    }
    // Empty: not found.
    assert!(matches!(
        find(json!({"content": [], "totalElements": 0})),
        ReportFinding::NotFound
    ));
    // Only others' entries (the filter was ignored) or no list at all: unavailable.
    for body in [json!({"content": [theirs]}), json!({"message": "x"})] {
        assert!(
            matches!(find(body.clone()), ReportFinding::Unavailable(_)),
            "{body}"
        );
    }
}

#[test]
fn token_and_operator_answers_decode_from_the_documented_shapes() {
    // expires_in is a string in one doc sample and a number in the other
    let token: TokenResponse = decode(
        br#"{"access_token": "eyJ0", "scope": "send-topups", "expires_in": "5184000", "token_type": "Bearer"}"#,
    );
    assert_eq!(token.access_token.as_deref(), Some("eyJ0"));
    assert_eq!(token.expires_in, Some(5_184_000));
    let token: TokenResponse = decode(br#"{"access_token": "t", "expires_in": 86400}"#);
    assert_eq!(token.expires_in, Some(86_400));
    // auto-detect: operatorId (or id alone), with nested objects we do not read
    let detected: Operator = decode(
        br#"{"id": 173, "operatorId": 173, "name": "Telcel Mexico", "bundle": false,
             "country": {"isoName": "MX", "name": "Mexico"}, "fx": {"rate": 18.5, "currencyCode": "MXN"}}"#,
    );
    assert_eq!(detected.id(), Some(173));
    let by_id: Operator = decode(br#"{"id": "20", "name": "AT&T Mexico"}"#);
    assert_eq!(by_id.id(), Some(20));
}

#[test]
fn the_topup_request_is_the_documented_body() {
    let body = TopupRequestBody {
        operator_id: 173,
        amount: 20,
        use_local_amount: true,
        custom_identifier: "RLR0001",
        recipient_phone: RecipientPhone {
            country_code: "MX",
            number: "525566374683".into(),
        },
    };
    assert_eq!(
        serde_json::to_value(&body).unwrap(),
        json!({"operatorId": 173, "amount": 20, "useLocalAmount": true, "customIdentifier": "RLR0001",
               "recipientPhone": {"countryCode": "MX", "number": "525566374683"}})
    );
}
