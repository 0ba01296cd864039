//! The upstream airtime provider port. Implementations: [`sandbox::SandboxProvider`] (local and
//! sandbox mode) and `reloadly::ReloadlyProvider` (production), optionally chained with
//! [`FailoverProvider`].

use crate::domain::{MxnAmount, Phone, TransactionId};
use async_trait::async_trait;

pub mod reloadly;
pub mod sandbox;
pub mod select;

/// What we ask a provider to deliver. `transaction_id` is our id and doubles as the provider's
/// idempotency key (Reloadly's `customIdentifier`).
#[derive(Debug, Clone)]
pub struct TopupRequest {
    pub transaction_id: TransactionId,
    pub phone: Phone,
    pub amount: MxnAmount,
}

/// The result of sending a top-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TopupOutcome {
    /// Delivered.
    Success { operator_transaction_id: String },
    /// Definitely not delivered (and nothing charged upstream): safe to refund the partner.
    Failed { reason: String },
    /// We cannot tell (timeout, connection reset after send, 5xx, PROCESSING upstream).
    /// Never refund and never resend blindly: the reconciler asks [`TopupProvider::status`].
    Unknown { reason: String },
}

/// The provider's view of a top-up we may have sent earlier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderStatus {
    Successful {
        operator_transaction_id: String,
    },
    Processing,
    /// FAILED or REFUNDED upstream: nothing was delivered, safe to refund.
    Failed {
        reason: String,
    },
    /// The provider has no record of this id: it never received it.
    NotFound,
    /// The provider could not be asked (timeout, 5xx): try again later.
    Unavailable {
        reason: String,
    },
}

#[async_trait]
pub trait TopupProvider: Send + Sync {
    /// Recorded on the transaction (`provider` field of the partner API).
    fn name(&self) -> &str;
    /// Send one top-up. Must not retry on its own once the request may have reached upstream.
    async fn send_topup(&self, request: &TopupRequest) -> TopupOutcome;
    /// Ask for the status of a top-up we may have sent, by our transaction id.
    async fn status(&self, request: &TopupRequest) -> ProviderStatus;
}

/// Tries providers in order, moving on ONLY after a definite failure. An Unknown outcome stops
/// the chain: trying the next provider could deliver the same top-up twice.
pub struct FailoverProvider {
    providers: Vec<Box<dyn TopupProvider>>,
    name: String,
}

impl FailoverProvider {
    pub fn new(providers: Vec<Box<dyn TopupProvider>>) -> Self {
        assert!(!providers.is_empty(), "a failover chain needs a provider");
        let name = providers
            .iter()
            .map(|p| p.name().to_owned())
            .collect::<Vec<_>>()
            .join("+");
        Self { providers, name }
    }
}

#[async_trait]
impl TopupProvider for FailoverProvider {
    fn name(&self) -> &str {
        &self.name
    }

    async fn send_topup(&self, request: &TopupRequest) -> TopupOutcome {
        let mut last = TopupOutcome::Failed {
            reason: "no provider".into(),
        };
        for provider in &self.providers {
            last = provider.send_topup(request).await;
            match &last {
                TopupOutcome::Failed { reason } => {
                    tracing::warn!(provider = provider.name(), %reason, "definite failure, trying next provider");
                }
                _ => return last,
            }
        }
        last
    }

    async fn status(&self, request: &TopupRequest) -> ProviderStatus {
        // Whichever provider knows the id answers; NotFound from all means never received.
        let mut answer = ProviderStatus::NotFound;
        for provider in &self.providers {
            match provider.status(request).await {
                ProviderStatus::NotFound => continue,
                ProviderStatus::Failed { reason } => {
                    answer = ProviderStatus::Failed { reason };
                    continue;
                }
                other => return other,
            }
        }
        answer
    }
}
