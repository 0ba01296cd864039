//! The API's edge: the guides' request rate limit (300 / 15 minutes) with its headers,
//! per-account IP allowlists, `GET /api/limits`, and the OpenAPI document with its page.

pub mod docs;
pub mod gate;
pub mod ip_allow;
pub mod limits;
pub mod routes;
pub mod window;
