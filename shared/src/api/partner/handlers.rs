//! The partner API's handlers, one per Lambda function. Each takes only the ports it needs;
//! expected failures are `Ok(Response)` in the seed error shape, `Err` is reserved for bugs.

use super::auth::authenticate;
use super::error::ApiError;
use super::request::parse_topup;
use super::{error_response, views};
use crate::api::http::{header, json_body, json_response, path_param, request_id};
use crate::domain::{Account, TransactionId, TxKind};
use crate::ports::{AccountReader, TopupQueue, TransactionReader};
use crate::topup::{Accepted, TopupInput, TopupService};
use lambda_http::{Body, Error, Request, Response};

type HttpResult = Result<Response<Body>, Error>;

/// `GET /api/balance`.
pub async fn balance(req: Request, accounts: &dyn AccountReader) -> HttpResult {
    let rid = request_id(&req);
    let account = match authenticate(
        accounts,
        header(&req, "x-api-key"),
        header(&req, "x-customer-id"),
    )
    .await
    {
        Ok(a) => a,
        Err(e) => return Ok(error_response(&e, &rid)),
    };
    Ok(json_response(200, &views::balance(&account), &rid))
}

/// `POST /api/enviadespensa/topup`: debit, send upstream, answer with the outcome.
pub async fn topup(
    req: Request,
    accounts: &dyn AccountReader,
    service: &TopupService,
) -> HttpResult {
    let rid = request_id(&req);
    let (account, input) = match authorize_topup(&req, accounts).await {
        Ok(v) => v,
        Err(e) => return Ok(error_response(&e, &rid)),
    };
    let done = match service.topup_sync(&account, &input).await {
        Ok(done) => done,
        Err(e) => return Ok(error_response(&e.into(), &rid)),
    };
    let (tx, refund_balance) = (done.transaction, done.balance_after_refund);
    let (status, body) = views::sync_topup(&tx, refund_balance);
    Ok(json_response(status, &body, &rid))
}

/// `POST /api/enviadespensa/topup-async`: debit + PENDING record, enqueue, answer at once.
pub async fn topup_async(
    req: Request,
    accounts: &dyn AccountReader,
    service: &TopupService,
    queue: &dyn TopupQueue,
) -> HttpResult {
    let rid = request_id(&req);
    let (account, input) = match authorize_topup(&req, accounts).await {
        Ok(v) => v,
        Err(e) => return Ok(error_response(&e, &rid)),
    };
    let tx = match service.accept(&account, &input, TxKind::Async).await {
        Ok(Accepted::New(tx)) => {
            // The record is durable; if this send fails the reconciler re-enqueues it.
            if let Err(e) = queue.enqueue(&tx.id).await {
                tracing::error!(transaction_id = %tx.id, error = %e, "enqueue failed; the reconciler will re-enqueue");
            }
            tx
        }
        Ok(Accepted::Replay(tx)) => tx,
        Err(e) => return Ok(error_response(&e.into(), &rid)),
    };
    Ok(json_response(200, &views::async_topup(&tx), &rid))
}

async fn authorize_topup(
    req: &Request,
    accounts: &dyn AccountReader,
) -> Result<(Account, TopupInput), ApiError> {
    let account = authenticate(
        accounts,
        header(req, "x-api-key"),
        header(req, "x-customer-id"),
    )
    .await?;
    let body = json_body(req)?;
    let input = parse_topup(&body, header(req, "idempotency-key"))?;
    Ok((account, input))
}

/// `GET /api/transaction/{id}`: unauthenticated per the seeds (the unguessable id is the
/// token); if credentials are sent they must be valid and belong to the owner.
pub async fn transaction_status(
    req: Request,
    transactions: &dyn TransactionReader,
    accounts: &dyn AccountReader,
) -> HttpResult {
    let rid = request_id(&req);
    let result = async {
        let raw = path_param(&req, "id", "/transaction/").ok_or(ApiError::TransactionNotFound)?;
        let id = TransactionId::parse(&raw).map_err(|_| ApiError::TransactionNotFound)?;
        let key = header(&req, "x-api-key");
        let customer = header(&req, "x-customer-id");
        let caller = if key.is_some() || customer.is_some() {
            Some(authenticate(accounts, key, customer).await?)
        } else {
            None
        };
        let tx = transactions
            .get_transaction(&id)
            .await
            .map_err(|e| ApiError::ServiceUnavailable(e.to_string()))?
            .ok_or(ApiError::TransactionNotFound)?;
        if let Some(account) = caller {
            if account.customer_id != tx.customer_id {
                return Err(ApiError::TransactionForbidden);
            }
        }
        Ok(tx)
    }
    .await;
    match result {
        Ok(tx) => Ok(json_response(200, &views::transaction_status(&tx), &rid)),
        Err(e) => Ok(error_response(&e, &rid)),
    }
}
