//! The HTTP edge: request parsing, authentication, answers in each API's shape. Handlers call
//! the use cases (`topup/`) through the ports; they never build adapters (that is `app.rs`).

pub mod distributor;
pub mod health;
pub mod http;
pub mod json;
pub mod partner;
pub mod reports;
