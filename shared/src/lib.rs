//! Relier: the library behind every Lambda function. Functions' `main.rs` only wire config,
//! clients and a handler from here.

pub mod app;
pub mod auth;
pub mod clock;
pub mod config;
pub mod distributor;
pub mod domain;
pub mod error;
pub mod fixtures;
pub mod fx;
pub mod handlers;
pub mod http;
pub mod json;
pub mod ledger;
pub mod provider;
pub mod queue;
pub mod rates;
pub mod reconciler;
pub mod store;
pub mod telemetry;
pub mod topup;
pub mod views;
pub mod webhooks;
pub mod worker;
