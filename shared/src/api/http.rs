//! HTTP plumbing shared by the API handlers. Works for both event formats: API Gateway REST
//! (production; path parameters in `pathParameters`, stage possibly in the path) and the
//! `cargo lambda watch` payload (raw path, maybe no path parameters).

use lambda_http::http::header::{HeaderValue, CONTENT_TYPE};
use lambda_http::{Body, Request, RequestExt, Response};
use serde_json::Value;

/// Largest request body we parse (a top-up body is ~100 bytes).
pub const MAX_BODY_BYTES: usize = 8 * 1024;

pub fn header<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// The request id: Lambda's (same as in the logs), else API Gateway's, else a new one.
pub fn request_id(req: &Request) -> String {
    if let Some(ctx) = req.lambda_context_ref() {
        if !ctx.request_id.is_empty() {
            return ctx.request_id.clone();
        }
    }
    if let Some(id) = header(req, "x-request-id") {
        return id.chars().take(100).collect();
    }
    crate::domain::TransactionId::generate().as_str()[3..].to_owned()
}

/// A JSON response carrying the request id.
pub fn json_response(status: u16, body: &Value, request_id: &str) -> Response<Body> {
    let mut resp = Response::new(Body::Text(body.to_string()));
    *resp.status_mut() = lambda_http::http::StatusCode::from_u16(status)
        .unwrap_or(lambda_http::http::StatusCode::INTERNAL_SERVER_ERROR);
    let headers = resp.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Ok(v) = HeaderValue::from_str(request_id) {
        headers.insert("x-request-id", v);
    }
    resp
}

/// A path parameter: from `pathParameters` when present, else the path segment after
/// `after` (e.g. `/api/transaction/` in `/v1/api/transaction/RLR...`).
pub fn path_param(req: &Request, name: &str, after: &str) -> Option<String> {
    if let Some(v) = req.path_parameters_ref().and_then(|p| p.first(name)) {
        if !v.is_empty() {
            return Some(v.to_owned());
        }
    }
    let path = req.raw_http_path();
    let path = if path.is_empty() {
        req.uri().path().to_owned()
    } else {
        path.to_owned()
    };
    let idx = path.find(after)?;
    let rest = &path[idx + after.len()..];
    let seg = rest.split('/').next().unwrap_or_default();
    (!seg.is_empty()).then(|| seg.to_owned())
}

/// A request body we cannot read: the message says why (each API answers it as a 400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BadBody(pub String);

fn bad(message: impl Into<String>) -> BadBody {
    BadBody(message.into())
}

/// Parse a JSON object body: `Content-Type: application/json`, at most [`MAX_BODY_BYTES`],
/// valid UTF-8 JSON, an object. Anything else is a 400, never a 500.
pub fn json_body(req: &Request) -> Result<serde_json::Map<String, Value>, BadBody> {
    let content_type = header(req, "content-type").unwrap_or_default();
    let media = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if media != "application/json" {
        return Err(bad("Content-Type must be application/json"));
    }
    let bytes: &[u8] = match req.body() {
        Body::Empty => &[],
        Body::Text(t) => t.as_bytes(),
        Body::Binary(b) => b,
        _ => &[],
    };
    if bytes.len() > MAX_BODY_BYTES {
        return Err(bad(format!(
            "Request body too large (max {MAX_BODY_BYTES} bytes)"
        )));
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(bad("Request body is required"));
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(bad("Request body must be a JSON object")),
        Err(_) => Err(bad("Request body is not valid JSON")),
    }
}
