//! Where the MXN/USD rate comes from: the stored rate item (refreshed by `fx-refresh`), or a
//! fixed configured rate in sandbox mode. A stale stored rate is refused, never used.

use crate::domain::{FxRate, RateRecord};
use crate::ports::{RateError, RateReader, RateSource};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// Sandbox: one fixed rate (e.g. 18.52, the seeds' example).
pub struct FixedRate(pub FxRate);

#[async_trait]
impl RateSource for FixedRate {
    async fn current(&self, _now: DateTime<Utc>) -> Result<FxRate, RateError> {
        Ok(self.0)
    }
}

/// The stored rate item, cached in the warm function for `cache_ttl`.
pub struct StoredRate {
    reader: Arc<dyn RateReader>,
    max_age: Duration,
    cache_ttl: Duration,
    cache: Mutex<Option<(Instant, RateRecord)>>,
}

impl StoredRate {
    pub fn new(reader: Arc<dyn RateReader>, max_age: Duration, cache_ttl: Duration) -> Self {
        Self {
            reader,
            max_age,
            cache_ttl,
            cache: Mutex::new(None),
        }
    }
}

#[async_trait]
impl RateSource for StoredRate {
    async fn current(&self, now: DateTime<Utc>) -> Result<FxRate, RateError> {
        let mut cache = self.cache.lock().await;
        let fresh_cache = cache
            .as_ref()
            .filter(|(at, _)| at.elapsed() < self.cache_ttl)
            .map(|(_, r)| r.clone());
        let record = match fresh_cache {
            Some(r) => r,
            None => {
                let record = self
                    .reader
                    .get_rate()
                    .await?
                    .ok_or(RateError::Unavailable)?;
                *cache = Some((Instant::now(), record.clone()));
                record
            }
        };
        let age = (now - record.updated_at).to_std().unwrap_or_default();
        if age > self.max_age {
            tracing::error!(
                age_secs = age.as_secs(),
                "exchange rate is stale; refusing to price"
            );
            return Err(RateError::Unavailable);
        }
        FxRate::parse(record.rate).map_err(|_| RateError::Unavailable)
    }
}
