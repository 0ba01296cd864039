//! Cold-start wiring shared by the functions' `main.rs`: config, SDK clients built once,
//! the DynamoDB connection warmed, adapters assembled.

use crate::adapters::clock::SystemClock;
use crate::adapters::dynamo::DynamoStore;
use crate::adapters::select::{provider_from_lookup, reloadly_from_lookup};
use crate::adapters::sqs::SqsQueue;
use crate::api::distributor::TokenIssuer;
use crate::api::health::{probe, HealthProbes};
use crate::config::{lambda_sdk_config, AppConfig, ConfigError, JwtSecret, Mode};
use crate::domain::FxRate;
use crate::jobs::fx_refresh::FixedFeed;
use crate::jobs::reconciler::Reconciler;
use crate::ports::{Clock, FxFeed, RateSource};
use crate::topup::rates::{FixedRate, StoredRate};
use crate::topup::TopupService;
use crate::webhooks::dispatch::Dispatcher;
use crate::webhooks::queue::SqsDispatchQueue;
use crate::webhooks::sender::HttpSender;
use rust_decimal::Decimal;
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
        let sdk = lambda_sdk_config()?;
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
            provider: provider_from_lookup(self.config.mode, |k| self.config.provider_setting(k))
                .await?,
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
    /// The distributor JWT signer: `DISTRIBUTOR_JWT_SECRET_ID` (Secrets Manager, read with the
    /// SDK once per cold start, [`crate::adapters::secrets`]) in AWS, or `DISTRIBUTOR_JWT_SECRET` locally.
    pub async fn token_issuer(&self) -> Result<TokenIssuer, BoxError> {
        let secret = match &self.config.jwt_secret {
            Some(JwtSecret::SecretId(id)) => {
                crate::adapters::secrets::SecretsManager::from_env()?
                    .secret_string(id)
                    .await?
            }
            Some(JwtSecret::Value(v)) => v.clone(),
            None => {
                return Err(
                    "DISTRIBUTOR_JWT_SECRET or DISTRIBUTOR_JWT_SECRET_ID is required".into(),
                )
            }
        };
        Ok(TokenIssuer::new(secret.trim().as_bytes())?)
    }
}

impl App {
    /// The reconciler, with the grace, lease and stuck age from the configuration.
    pub fn reconciler<'a>(
        &'a self,
        service: &'a TopupService,
        queue: &'a SqsQueue,
    ) -> Result<Reconciler<'a>, ConfigError> {
        let d = |s: std::time::Duration| {
            chrono::Duration::from_std(s).map_err(|_| ConfigError("duration".into()))
        };
        Ok(Reconciler {
            work: self.store.as_ref(),
            queue,
            service,
            pending_grace: d(self.config.pending_grace)?,
            processing_lease: d(self.config.processing_lease)?,
            stuck_after: d(self.config.stuck_after)?,
            batch: 100,
        })
    }

    /// `TOPUP_PROVIDER` includes reloadly: Reloadly's fx-rate; sandbox: `SANDBOX_FX_RATE`
    /// (default 18.52).
    pub async fn fx_feed(&self) -> Result<Box<dyn FxFeed>, BoxError> {
        if self.config.uses_reloadly() {
            let reloadly = reloadly_from_lookup(|k| self.config.provider_setting(k)).await?;
            return Ok(Box::new(reloadly));
        }
        if self.config.mode != Mode::Sandbox {
            return Err("fx-refresh needs TOPUP_PROVIDER=reloadly outside sandbox mode".into());
        }
        Ok(Box::new(FixedFeed(
            self.config
                .sandbox_fx_rate
                .unwrap_or_else(|| Decimal::new(1852, 2)),
        )))
    }
}
