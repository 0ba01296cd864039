//! `fx-refresh`: write the MXN/USD rate item the partner API prices with.

use crate::domain::RateRecord;
use crate::ports::{Clock, FxFeed, RateWriter, StoreError};
use async_trait::async_trait;
use rust_decimal::{Decimal, RoundingStrategy};

/// Sandbox: the configured fixed rate.
pub struct FixedFeed(pub Decimal);

#[async_trait]
impl FxFeed for FixedFeed {
    fn source(&self) -> &str {
        "sandbox-fixed"
    }
    async fn mxn_per_usd(&self) -> Result<Decimal, String> {
        Ok(self.0)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FxError {
    #[error("rate feed failed: {0}")]
    Feed(String),
    #[error("rate feed returned an implausible rate {0}")]
    Implausible(Decimal),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Apply our spread (fewer MXN per USD = partners pay slightly more USD), round to 4 places
/// (down, in our favour by < 0.0001), sanity-check, and store it with its time.
pub async fn refresh(
    feed: &dyn FxFeed,
    writer: &dyn RateWriter,
    clock: &dyn Clock,
    spread_percent: Decimal,
) -> Result<RateRecord, FxError> {
    let raw = feed.mxn_per_usd().await.map_err(FxError::Feed)?;
    let rate = (raw * (Decimal::ONE - spread_percent / Decimal::ONE_HUNDRED))
        .round_dp_with_strategy(4, RoundingStrategy::ToZero);
    // MXN/USD has lived between ~9 and ~26 for decades: anything far outside is a bad feed.
    if rate < Decimal::from(5) || rate > Decimal::from(60) {
        return Err(FxError::Implausible(rate));
    }
    let record = RateRecord {
        rate,
        updated_at: clock.now(),
        source: feed.source().to_owned(),
    };
    writer.put_rate(&record).await?;
    tracing::info!(rate = %record.rate, source = %record.source, "exchange rate refreshed");
    if let Some((balance, currency)) = feed.provider_balance().await {
        use rust_decimal::prelude::ToPrimitive;
        tracing::info!(%balance, %currency, "provider balance");
        crate::telemetry::emit_metric("ProviderBalance", balance.to_f64().unwrap_or(0.0), "None");
    }
    Ok(record)
}

/// Age reported when no rate is stored at all (a fresh deploy before the first `fx-refresh`).
pub const NO_RATE_AGE_SECS: i64 = i32::MAX as i64;

/// Emit `FxRateAgeSeconds`, the age of the stored rate (or [`NO_RATE_AGE_SECS`]). The reconciler
/// calls it every run, so the `fx-rate-age` alarm watches the rate partners are priced with, not
/// whether `fx-refresh` says it ran. A read error emits nothing (the alarm treats missing data as
/// breaching).
pub async fn report_rate_age(
    reader: &dyn crate::ports::RateReader,
    now: chrono::DateTime<chrono::Utc>,
) -> Option<i64> {
    let age = match reader.get_rate().await {
        Ok(Some(rate)) => (now - rate.updated_at).num_seconds().max(0),
        Ok(None) => NO_RATE_AGE_SECS,
        Err(e) => {
            tracing::error!(error = %e, "could not read the stored rate for FxRateAgeSeconds");
            return None;
        }
    };
    crate::telemetry::emit_metric("FxRateAgeSeconds", age as f64, "Seconds");
    Some(age)
}
