//! Request/response helpers of the dashboard: query and form decoding, URL encoding, the
//! security headers every answer carries, and the same-origin check for state changes.

use lambda_http::http::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE, LOCATION, SET_COOKIE};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};

/// No inline script or style, nothing from another origin, no framing.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Form and query decoding, shared with the partner report routes.
pub use crate::reports::range::percent_decode;

pub fn encode(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for b in raw.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `k=v&…` pairs, decoded.
pub fn pairs(raw: &str) -> Vec<(String, String)> {
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

/// The request's query parameters (API Gateway's map when given, else the raw query).
pub fn query(req: &Request) -> Vec<(String, String)> {
    use lambda_http::RequestExt;
    if let Some(q) = req.query_string_parameters_ref() {
        let v: Vec<(String, String)> = q
            .iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        if !v.is_empty() {
            return v;
        }
    }
    req.uri().query().map(pairs).unwrap_or_default()
}

pub fn get<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Query string of the given pairs (empty values dropped), with a leading `?` unless empty.
pub fn query_string(pairs: &[(&str, &str)]) -> String {
    let q: Vec<String> = pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect();
    if q.is_empty() {
        String::new()
    } else {
        format!("?{}", q.join("&"))
    }
}

/// The request path without a stage prefix (`/v1/dashboard` -> `/dashboard`).
pub fn path(req: &Request) -> String {
    use lambda_http::RequestExt;
    let raw = req.raw_http_path();
    let p = if raw.is_empty() {
        req.uri().path().to_owned()
    } else {
        raw.to_owned()
    };
    for root in ["/api/dashboard", "/dashboard"] {
        if let Some(i) = p.find(root) {
            return p[i..].trim_end_matches('/').to_owned();
        }
    }
    p
}

pub fn body_bytes(req: &Request) -> &[u8] {
    match req.body() {
        Body::Text(t) => t.as_bytes(),
        Body::Binary(b) => b,
        _ => &[],
    }
}

/// Is this state change from our own pages? The browser's `Origin` must name the host the
/// request was sent to (SameSite=Strict already keeps the cookie off cross-site requests).
pub fn same_origin(req: &Request) -> bool {
    let header = |n: &str| req.headers().get(n).and_then(|v| v.to_str().ok());
    let (Some(origin), Some(host)) = (header("origin"), header("host")) else {
        return false;
    };
    let origin_host = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))
        .unwrap_or("");
    !origin_host.is_empty() && origin_host.eq_ignore_ascii_case(host)
}

/// A response with the security headers; HTML and JSON are never cached.
pub fn respond(status: u16, content_type: &str, body: Body) -> Response<Body> {
    let mut resp = Response::new(body);
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(content_type) {
        h.insert(CONTENT_TYPE, v);
    }
    h.insert("content-security-policy", HeaderValue::from_static(CSP));
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert("referrer-policy", HeaderValue::from_static("same-origin"));
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

pub fn html(status: u16, page: String) -> Response<Body> {
    respond(status, "text/html; charset=utf-8", Body::Text(page))
}

pub fn json(status: u16, value: &serde_json::Value) -> Response<Body> {
    respond(status, "application/json", Body::Text(value.to_string()))
}

/// 303 See Other to `to`.
pub fn redirect(to: &str) -> Response<Body> {
    let mut resp = respond(303, "text/plain; charset=utf-8", Body::Empty);
    if let Ok(v) = HeaderValue::from_str(to) {
        resp.headers_mut().insert(LOCATION, v);
    }
    resp
}

pub fn add_cookie(resp: &mut Response<Body>, cookie: &str) {
    if let Ok(v) = HeaderValue::from_str(cookie) {
        resp.headers_mut().append(SET_COOKIE, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_and_query_round_trip() {
        // GIVEN an encoded form WHEN decoded THEN values come back exactly
        let p = pairs("api_key=a%2Bb+c&customer_id=HAZ_001&x");
        assert_eq!(get(&p, "api_key"), Some("a+b c"));
        assert_eq!(get(&p, "customer_id"), Some("HAZ_001"));
        assert_eq!(get(&p, "x"), Some(""));
        assert_eq!(
            query_string(&[("a", "1 2"), ("b", ""), ("c", "é")]),
            "?a=1%202&c=%C3%A9"
        );
    }

    #[test]
    fn same_origin_needs_a_matching_origin_header() {
        let req = |origin: Option<&str>| {
            let mut b = lambda_http::http::Request::builder()
                .method("POST")
                .uri("/dashboard/login")
                .header("host", "127.0.0.1:9000");
            if let Some(o) = origin {
                b = b.header("origin", o);
            }
            b.body(Body::Empty).unwrap()
        };
        assert!(same_origin(&req(Some("http://127.0.0.1:9000"))));
        assert!(!same_origin(&req(Some("https://evil.example"))));
        assert!(!same_origin(&req(Some("null"))));
        assert!(!same_origin(&req(None)));
    }
}
