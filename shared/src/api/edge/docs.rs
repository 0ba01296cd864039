//! The API's machine-readable contract, `GET /openapi.json` (public), and a page that renders
//! it, `GET /docs` (a small vendored renderer: no CDN, no external request).

use crate::api::http::request_id;
use lambda_http::http::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE};
use lambda_http::{Body, Error, Request, Response};

/// The OpenAPI 3.1 document (`openapi/openapi.json` in the repository).
pub const OPENAPI_JSON: &str = include_str!("../../../../openapi/openapi.json");
/// The documentation page (`openapi/docs.html`).
pub const DOCS_HTML: &str = include_str!("../../../../openapi/docs.html");

fn document(body: &'static str, content_type: &'static str, req: &Request) -> Response<Body> {
    let mut resp = Response::new(Body::Text(body.to_owned()));
    let headers = resp.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    if let Ok(v) = HeaderValue::from_str(&request_id(req)) {
        headers.insert("x-request-id", v);
    }
    resp
}

/// `GET /openapi.json`.
pub async fn openapi(req: Request) -> Result<Response<Body>, Error> {
    Ok(document(OPENAPI_JSON, "application/json", &req))
}

/// `GET /docs`.
pub async fn docs(req: Request) -> Result<Response<Body>, Error> {
    let mut resp = document(DOCS_HTML, "text/html; charset=utf-8", &req);
    // The page runs only its own inline script and fetches only /openapi.json.
    resp.headers_mut().insert(
        "content-security-policy",
        HeaderValue::from_static(
            "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'",
        ),
    );
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_is_json_and_openapi_3_1() {
        let doc: serde_json::Value = serde_json::from_str(OPENAPI_JSON).unwrap();
        assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
        for path in [
            "/api/balance",
            "/api/enviadespensa/topup",
            "/api/enviadespensa/topup-async",
            "/api/transaction/{id}",
            "/api/limits",
            "/api/distributor/login",
            "/api/distributor/product_purchase",
        ] {
            assert!(doc["paths"][path].is_object(), "{path} missing");
        }
        assert!(DOCS_HTML.contains("fetch(\"openapi.json\")"));
        assert!(!DOCS_HTML.contains("http://") && !DOCS_HTML.contains("https://"));
    }
}
