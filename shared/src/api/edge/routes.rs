//! The authenticated partner routes as the Lambda functions run them: the gate, then the
//! handler (unchanged in `handlers`), then the rate-limit headers on the answer.

use super::gate::Gate;
use super::limits::{self, LimitCounters};
use crate::api::partner::handlers;
use crate::ports::TopupQueue;
use crate::ports::TransactionReader;
use crate::reports::ports::ReportStore;
use crate::topup::TopupService;
use lambda_http::{Body, Error, Request, Response};

type HttpResult = Result<Response<Body>, Error>;

/// `GET /api/balance`.
pub async fn balance(req: Request, gate: Gate<'_>) -> HttpResult {
    let pass = match gate.admit(&req).await {
        Ok(p) => p,
        Err(refusal) => return Ok(refusal),
    };
    Ok(pass.finish(handlers::balance(req, &pass).await?))
}

/// `POST /api/enviadespensa/topup`.
pub async fn topup(req: Request, gate: Gate<'_>, service: &TopupService) -> HttpResult {
    let pass = match gate.admit(&req).await {
        Ok(p) => p,
        Err(refusal) => return Ok(refusal),
    };
    Ok(pass.finish(handlers::topup(req, &pass, service).await?))
}

/// `POST /api/enviadespensa/topup-async`.
pub async fn topup_async(
    req: Request,
    gate: Gate<'_>,
    service: &TopupService,
    queue: &dyn TopupQueue,
) -> HttpResult {
    let pass = match gate.admit(&req).await {
        Ok(p) => p,
        Err(refusal) => return Ok(refusal),
    };
    Ok(pass.finish(handlers::topup_async(req, &pass, service, queue).await?))
}

/// `GET /api/transaction/{id}`: public without credentials; counted with them.
pub async fn transaction_status(
    req: Request,
    gate: Gate<'_>,
    transactions: &dyn TransactionReader,
) -> HttpResult {
    let pass = match gate.admit_optional(&req).await {
        Ok(p) => p,
        Err(refusal) => return Ok(refusal),
    };
    Ok(pass.finish(handlers::transaction_status(req, transactions, &pass).await?))
}

/// `GET /api/limits`.
pub async fn limits(req: Request, gate: Gate<'_>, counters: &dyn LimitCounters) -> HttpResult {
    let pass = match gate.admit(&req).await {
        Ok(p) => p,
        Err(refusal) => return Ok(refusal),
    };
    let resp = limits::handle(&req, &pass, counters, gate.clock.now()).await;
    Ok(pass.finish(resp))
}

/// `GET /api/transactions` (issue 9's listing).
pub async fn transactions(req: Request, gate: Gate<'_>, reports: &dyn ReportStore) -> HttpResult {
    let pass = match gate.admit(&req).await {
        Ok(p) => p,
        Err(refusal) => return Ok(refusal),
    };
    Ok(pass.finish(crate::api::reports::transactions(req, &pass, reports).await?))
}

/// `GET /api/statement` (issue 9).
pub async fn statement(req: Request, gate: Gate<'_>, reports: &dyn ReportStore) -> HttpResult {
    let pass = match gate.admit(&req).await {
        Ok(p) => p,
        Err(refusal) => return Ok(refusal),
    };
    Ok(pass.finish(crate::api::reports::statement(req, &pass, reports).await?))
}
