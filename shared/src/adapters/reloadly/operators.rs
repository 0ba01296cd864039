//! Operator auto-detection with a bounded, time-limited phone -> operator cache (numbers port).

use super::client::{international, NO_BODY};
use super::dto::{Listing, Operator};
use super::error::ReloadlyError;
use super::ReloadlyProvider;
use crate::domain::Phone;
use reqwest::Method;
use std::collections::HashMap;
use std::time::{Duration, Instant};

pub(super) struct OperatorCache {
    pub(super) ttl: Duration,
    pub(super) capacity: usize,
    pub(super) entries: std::sync::Mutex<HashMap<String, (i64, Instant)>>,
}

impl OperatorCache {
    pub(super) fn get(&self, phone: &str) -> Option<i64> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries
            .get(phone)
            .filter(|(_, at)| at.elapsed() < self.ttl)
            .map(|(id, _)| *id)
    }

    pub(super) fn insert(&self, phone: &str, operator_id: i64) {
        if self.capacity == 0 || self.ttl.is_zero() {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= self.capacity && !entries.contains_key(phone) {
            let ttl = self.ttl;
            entries.retain(|_, (_, at)| at.elapsed() < ttl);
            if entries.len() >= self.capacity {
                if let Some(oldest) = entries
                    .iter()
                    .min_by_key(|(_, (_, at))| *at)
                    .map(|(k, _)| k.clone())
                {
                    entries.remove(&oldest);
                }
            }
        }
        entries.insert(phone.to_owned(), (operator_id, Instant::now()));
    }

    pub(super) fn remove(&self, phone: &str) {
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(phone);
    }
}

impl ReloadlyProvider {
    // ---- operators --------------------------------------------------------------------------

    /// The operator id of `phone`, from the cache or `GET /operators/auto-detect/...`.
    pub async fn detect_operator(&self, phone: &Phone) -> Result<i64, ReloadlyError> {
        self.detect_operator_until(phone, self.deadline()).await
    }

    pub(super) async fn detect_operator_until(
        &self,
        phone: &Phone,
        deadline: Instant,
    ) -> Result<i64, ReloadlyError> {
        if let Some(id) = self.operators.get(phone.as_str()) {
            return Ok(id);
        }
        let path = format!(
            "/operators/auto-detect/phone/{}/countries/MX",
            international(phone)
        );
        let query = [
            ("suggestedAmounts", "false".to_owned()),
            ("suggestedAmountsMap", "false".to_owned()),
        ];
        let operator: Operator = self
            .call(Method::GET, &path, &query, NO_BODY, deadline)
            .await?
            .success()?;
        let id = operator
            .id()
            .ok_or_else(|| ReloadlyError::Decode("auto-detect answer has no operatorId".into()))?;
        self.operators.insert(phone.as_str(), id);
        Ok(id)
    }

    /// A Mexican operator id for FX purposes: Telcel if listed, else the first MX operator.
    pub(super) async fn mx_operator_id(&self, deadline: Instant) -> Result<i64, ReloadlyError> {
        let query = [
            ("includeBundles", "false".to_owned()),
            ("includeData", "false".to_owned()),
            ("includePin", "false".to_owned()),
            ("suggestedAmounts", "false".to_owned()),
            ("suggestedAmountsMap", "false".to_owned()),
        ];
        let response = self
            .call(
                Method::GET,
                "/operators/countries/MX",
                &query,
                NO_BODY,
                deadline,
            )
            .await?;
        if !response.status.is_success() {
            return Err(response.into_error());
        }
        let Listing(list) = Listing::<Operator>::decode(&response.body)
            .ok_or_else(|| ReloadlyError::Decode("operator list is not an array".into()))?;
        let is_telcel = |op: &Operator| {
            op.name
                .as_deref()
                .is_some_and(|n| n.to_ascii_lowercase().contains("telcel"))
        };
        list.iter()
            .filter(|op| is_telcel(op))
            .find_map(Operator::id)
            .or_else(|| list.iter().find_map(Operator::id))
            .ok_or_else(|| ReloadlyError::Decode("no Mexican operator listed".into()))
    }
}
