//! One module per command group (other groups, e.g. `webhook`, go next to these).

pub mod audit;
pub mod credit;
pub mod distributor;
pub mod key;
pub mod local;
pub mod partner;
pub mod reconcile_key;
pub mod webhook;

use relier::ops::OpsError;

/// An ops refusal or store error as the CLI's one-line error.
pub fn fail(e: OpsError) -> anyhow::Error {
    anyhow::anyhow!(e.to_string())
}

pub fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
}
