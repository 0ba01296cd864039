//! The partner API (seeds 000/001): `x-api-key` + `x-customer-id`, the seeds' bodies.

pub mod auth;
pub mod error;
pub mod handlers;
pub mod request;
pub mod views;

pub use error::ApiError;
pub use handlers::{balance, topup, topup_async, transaction_status};

use crate::api::http::json_response;
use lambda_http::{Body, Response};

/// An expected refusal as the seeds' error body (logged; 5xx at error level).
pub fn error_response(err: &ApiError, request_id: &str) -> Response<Body> {
    if err.status() >= 500 {
        tracing::error!(error = %err, request_id, "request failed");
    } else {
        tracing::info!(error = %err, status = err.status(), request_id, "request refused");
    }
    json_response(err.status(), &err.body(), request_id)
}
