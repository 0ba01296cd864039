//! A failover chain of providers: the next one is tried only after a definite failure.

use crate::ports::{ProviderStatus, TopupOutcome, TopupProvider, TopupRequest};
use async_trait::async_trait;

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
