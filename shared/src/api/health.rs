//! `GET /health`: real calls to the database and the queue, each with a 2 s timeout.

use crate::api::http::{json_response, request_id};
use crate::api::json::timestamp;
use crate::config::Mode;
use lambda_http::{Body, Error, Request, Response};
use serde_json::json;
use std::future::Future;
use std::time::{Duration, Instant};

/// What `/health` probes: real calls (DescribeTable, GetQueueAttributes).
#[async_trait::async_trait]
pub trait HealthProbes: Send + Sync {
    async fn database(&self) -> bool;
    async fn queue(&self) -> bool;
}

pub const HEALTH_PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// Run a probe with the health timeout; a timeout counts as down.
pub async fn probe<F, T, E>(f: F) -> bool
where
    F: Future<Output = Result<T, E>>,
{
    matches!(
        tokio::time::timeout(HEALTH_PROBE_TIMEOUT, f).await,
        Ok(Ok(_))
    )
}

/// `GET /health`: 200 + `OK` when the database and the queue answer, else 503 + `DEGRADED`.
pub async fn health(
    req: Request,
    mode: Mode,
    started: Instant,
    probes: &dyn HealthProbes,
) -> Result<Response<Body>, Error> {
    let rid = request_id(&req);
    let (db, queue) = tokio::join!(probes.database(), probes.queue());
    let service =
        |up: bool| json!({ "connected": up, "status": if up { "healthy" } else { "unhealthy" } });
    let ok = db && queue;
    let body = json!({
        "status": if ok { "OK" } else { "DEGRADED" },
        "timestamp": timestamp(chrono::Utc::now()),
        "uptime": started.elapsed().as_secs(),
        "mode": mode.as_str(),
        "services": { "database": service(db), "queue": service(queue) },
    });
    Ok(json_response(if ok { 200 } else { 503 }, &body, &rid))
}
