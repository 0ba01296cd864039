//! Cold-start wiring shared by the functions' `main.rs`: config, SDK clients built once,
//! the DynamoDB connection warmed, adapters assembled.

use crate::clock::{Clock, SystemClock};
use crate::config::{aws_sdk_config, AppConfig, ConfigError};
use crate::domain::FxRate;
use crate::handlers::{probe, HealthProbes};
use crate::provider::select::provider_from_env;
use crate::queue::SqsQueue;
use crate::rates::{FixedRate, RateSource, StoredRate};
use crate::store::dynamo::DynamoStore;
use crate::topup::TopupService;
use crate::webhooks::dispatch::Dispatcher;
use crate::webhooks::queue::SqsDispatchQueue;
use crate::webhooks::sender::HttpSender;
use std::sync::Arc;
use std::time::Instant;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

pub struct App {
    pub config: AppConfig,
    pub store: Arc<DynamoStore>,
    pub sqs: aws_sdk_sqs::Client,
    pub clock: Arc<dyn Clock>,
    pub started: Instant,
}

impl App {
    /// Read config, build the SDK clients once, and warm the DynamoDB connection.
    pub async fn from_env() -> Result<Self, BoxError> {
        let started = Instant::now();
        let config = AppConfig::from_env()?;
        let sdk = aws_sdk_config().await;
        let dynamo = aws_sdk_dynamodb::Client::new(&sdk);
        let sqs = aws_sdk_sqs::Client::new(&sdk);
        let mut store = DynamoStore::new(
            dynamo,
            config.accounts_table.clone(),
            config.transactions_table.clone(),
        );
        if let Some(url) = &config.webhook_queue_url {
            store = store.with_webhook_queue(Arc::new(SqsDispatchQueue::new(sqs.clone(), url)));
        }
        let store = Arc::new(store);
        if let Err(e) = store.warm().await {
            tracing::warn!(error = %e, "DynamoDB warm-up failed (will retry per request)");
        }
        Ok(Self {
            config,
            store,
            sqs,
            clock: Arc::new(SystemClock),
            started,
        })
    }

    /// Sandbox with `SANDBOX_FX_RATE`: that fixed rate; otherwise the stored rate item.
    pub fn rate_source(&self) -> Arc<dyn RateSource> {
        match self
            .config
            .sandbox_fx_rate
            .and_then(|r| FxRate::parse(r).ok())
        {
            Some(rate) => Arc::new(FixedRate(rate)),
            None => Arc::new(StoredRate::new(
                self.store.clone(),
                self.config.fx_max_age,
                self.config.fx_cache_ttl,
            )),
        }
    }

    pub async fn topup_service(&self) -> Result<TopupService, BoxError> {
        Ok(TopupService {
            ledger: self.store.clone(),
            transactions: self.store.clone(),
            rates: self.rate_source(),
            provider: provider_from_env().await?,
            clock: self.clock.clone(),
        })
    }

    /// The webhook dispatcher (dispatcher and sweep functions).
    pub fn webhook_dispatcher(&self) -> Result<Dispatcher, ConfigError> {
        let url = self
            .config
            .webhook_queue_url
            .clone()
            .ok_or_else(|| ConfigError("WEBHOOK_QUEUE_URL is required".into()))?;
        Ok(Dispatcher {
            store: self.store.clone(),
            queue: Arc::new(SqsDispatchQueue::new(self.sqs.clone(), url)),
            sender: Arc::new(HttpSender::new(self.config.mode)),
            clock: self.clock.clone(),
        })
    }

    pub fn queue(&self) -> Result<SqsQueue, ConfigError> {
        let url = self
            .config
            .queue_url
            .clone()
            .ok_or_else(|| ConfigError("TOPUP_QUEUE_URL is required".into()))?;
        Ok(SqsQueue::new(self.sqs.clone(), url))
    }
}

#[async_trait::async_trait]
impl HealthProbes for App {
    async fn database(&self) -> bool {
        probe(self.store.ping()).await
    }
    async fn queue(&self) -> bool {
        match self.queue() {
            Ok(q) => probe(q.ping()).await,
            Err(_) => false,
        }
    }
}

impl App {
    /// The distributor JWT signer: `DISTRIBUTOR_JWT_SECRET_ID` (Secrets Manager, read through
    /// the Parameters and Secrets extension) in AWS, or `DISTRIBUTOR_JWT_SECRET` locally.
    pub async fn token_issuer(&self) -> Result<crate::distributor::TokenIssuer, BoxError> {
        let secret = match std::env::var("DISTRIBUTOR_JWT_SECRET_ID")
            .ok()
            .filter(|v| !v.is_empty())
        {
            Some(id) => {
                let port = std::env::var("PARAMETERS_SECRETS_EXTENSION_HTTP_PORT")
                    .unwrap_or_else(|_| "2773".into());
                let token = std::env::var("AWS_SESSION_TOKEN").unwrap_or_default();
                crate::provider::reloadly::fetch_secret_string(
                    &format!("http://localhost:{port}"),
                    &id,
                    &token,
                    std::time::Duration::from_secs(5),
                )
                .await?
            }
            None => std::env::var("DISTRIBUTOR_JWT_SECRET")
                .map_err(|_| "DISTRIBUTOR_JWT_SECRET or DISTRIBUTOR_JWT_SECRET_ID is required")?,
        };
        Ok(crate::distributor::TokenIssuer::new(
            secret.trim().as_bytes(),
        )?)
    }
}
