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
        self.send_via(request).await.1
    }

    async fn status(&self, request: &TopupRequest) -> ProviderStatus {
        self.status_via(request).await.1
    }

    async fn send_via(&self, request: &TopupRequest) -> (String, TopupOutcome) {
        let mut last = (
            self.name.clone(),
            TopupOutcome::Failed {
                reason: "no provider".into(),
            },
        );
        for provider in &self.providers {
            last = provider.send_via(request).await;
            match &last.1 {
                TopupOutcome::Failed { reason } => {
                    tracing::warn!(provider = provider.name(), %reason, "definite failure, trying next provider");
                }
                _ => return last,
            }
        }
        last
    }

    async fn status_via(&self, request: &TopupRequest) -> (String, ProviderStatus) {
        // Whichever provider knows the id answers; NotFound from all means never received.
        let mut answer = (self.name.clone(), ProviderStatus::NotFound);
        for provider in &self.providers {
            match provider.status_via(request).await {
                (_, ProviderStatus::NotFound) => continue,
                (name, ProviderStatus::Failed { reason }) => {
                    answer = (name, ProviderStatus::Failed { reason });
                    continue;
                }
                other => return other,
            }
        }
        answer
    }
}
