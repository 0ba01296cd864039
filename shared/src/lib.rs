//! Relier: the library behind every Lambda function. Functions' `main.rs` only wire config,
//! clients and a handler from here.
//!
//! Layers (a module only imports the ones above it in this list):
//! - [`crypto`]: the process's one crypto backend (ring) for TLS and JWTs — imports nothing here;
//! - [`domain`]: values, money, records — no I/O, no HTTP;
//! - [`ports`]: the small traits the use cases need (store, queue, provider, rates, clock);
//! - [`topup`]: the top-up use case (accept, execute, settle) and [`topup::TopupError`];
//! - [`jobs`]: worker, reconciler, rate refresh, ledger check;
//! - [`api`]: HTTP — the partner API and the distributor API;
//! - [`adapters`]: the ports on DynamoDB, SQS, Secrets Manager, Reloadly, the sandbox;
//! - [`config`] + [`app`]: configuration parsed once, and the composition root.

pub mod adapters;
pub mod api;
pub mod app;
pub mod config;
pub mod crypto;
pub mod domain;
pub mod jobs;
pub mod ops;
pub mod ports;
pub mod reports;
pub mod telemetry;
pub mod topup;
pub mod webhooks;
