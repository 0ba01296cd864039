//! The sandbox provider (local and sandbox mode). Test numbers, documented in the README:
//! - `5500000000` always succeeds,
//! - `5500000001` always fails (definite failure, refunded),
//! - `5500000002` times out (Unknown); its later status is SUCCESSFUL,
//! - `5500000003` times out (Unknown); its later status is FAILED,
//! - any other valid number succeeds with a generated operator transaction id.
//!
//! `SANDBOX_LATENCY_MS` adds a delay to every send (default 0).

use crate::ports::{ProviderStatus, TopupOutcome, TopupProvider, TopupRequest};
use async_trait::async_trait;
use std::time::Duration;

pub const ALWAYS_SUCCEEDS: &str = "5500000000";
pub const ALWAYS_FAILS: &str = "5500000001";
pub const UNKNOWN_THEN_SUCCESS: &str = "5500000002";
pub const UNKNOWN_THEN_FAILED: &str = "5500000003";

#[derive(Debug, Clone, Default)]
pub struct SandboxProvider {
    latency: Duration,
}

impl SandboxProvider {
    pub fn new(latency: Duration) -> Self {
        Self { latency }
    }

    fn operator_id(request: &TopupRequest) -> String {
        // Deterministic per transaction, so status() and send_topup() agree.
        let id = request.transaction_id.as_str();
        format!("SBX{}", &id[id.len().saturating_sub(10)..])
    }
}

#[async_trait]
impl TopupProvider for SandboxProvider {
    fn name(&self) -> &str {
        "relier"
    }

    async fn send_topup(&self, request: &TopupRequest) -> TopupOutcome {
        if !self.latency.is_zero() {
            tokio::time::sleep(self.latency).await;
        }
        match request.phone.as_str() {
            ALWAYS_FAILS => TopupOutcome::Failed {
                reason: "Sandbox test number 5500000001 always fails".into(),
            },
            UNKNOWN_THEN_SUCCESS | UNKNOWN_THEN_FAILED => TopupOutcome::Unknown {
                reason: "Sandbox test number: simulated upstream timeout".into(),
            },
            _ => TopupOutcome::Success {
                operator_transaction_id: Self::operator_id(request),
            },
        }
    }

    async fn status(&self, request: &TopupRequest) -> ProviderStatus {
        match request.phone.as_str() {
            ALWAYS_FAILS | UNKNOWN_THEN_FAILED => ProviderStatus::Failed {
                reason: "Sandbox: upstream reported the top-up as FAILED".into(),
            },
            _ => ProviderStatus::Successful {
                operator_transaction_id: Self::operator_id(request),
            },
        }
    }
}
