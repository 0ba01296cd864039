//! The top-up use case, shared by the partner and distributor APIs, the worker and the
//! reconciler: price -> atomic debit (`accept`) -> provider (`execute`) -> final outcome
//! (`settle`, the ONE place a SUCCESS or a refund + FAILED is applied). Independent of HTTP:
//! refusals are [`TopupError`]s, which each API maps to its own vocabulary.

pub mod error;
pub mod rates;

pub use error::TopupError;

use crate::domain::{
    Account, IdempotencyKey, LimitCheck, LimitScope, MxnAmount, Phone, Reference, Transaction,
    TransactionId, TxKind, TxStatus,
};
use crate::ports::{
    Clock, DebitOutcome, DebitRequest, Ledger, RateSource, RefundOutcome, StoreError, TopupOutcome,
    TopupProvider, TopupRequest, TransactionReader,
};
use rust_decimal::Decimal;
use std::sync::Arc;
use std::time::Instant;

/// A validated top-up request.
#[derive(Debug, Clone, PartialEq)]
pub struct TopupInput {
    pub phone: Phone,
    pub amount: MxnAmount,
    pub reference: Option<Reference>,
    /// The de-duplication key the debit claims (see [`IdempotencyKey`]).
    pub idempotency_key: Option<IdempotencyKey>,
}

/// The debit committed (new) or the key was already used for the same top-up (replay).
#[derive(Debug, Clone)]
pub enum Accepted {
    New(Transaction),
    Replay(Transaction),
}

/// A final outcome, known from the provider's answer to a send or to a status lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FinalOutcome {
    /// `provider` delivered the top-up (for a failover chain: the member that did).
    Delivered {
        provider: String,
        operator_transaction_id: String,
    },
    /// Definitely not delivered (failed, refunded upstream, or never received): refund.
    NotDelivered { reason: String },
}

/// What a finished attempt looks like to the caller.
#[derive(Debug, Clone)]
pub struct Finished {
    pub transaction: Transaction,
    /// Balance right after the refund, when this call refunded.
    pub balance_after_refund: Option<Decimal>,
}

#[derive(Clone)]
pub struct TopupService {
    pub ledger: Arc<dyn Ledger>,
    pub transactions: Arc<dyn TransactionReader>,
    pub rates: Arc<dyn RateSource>,
    pub provider: Arc<dyn TopupProvider>,
    pub clock: Arc<dyn Clock>,
}

fn unavailable(e: StoreError) -> TopupError {
    TopupError::Unavailable(e.to_string())
}

impl TopupService {
    /// Price and atomically debit. Sync records start PROCESSING (they go upstream at once);
    /// async records start PENDING (the worker claims them).
    pub async fn accept(
        &self,
        account: &Account,
        input: &TopupInput,
        kind: TxKind,
    ) -> Result<Accepted, TopupError> {
        let now = self.clock.now();
        let rate = self.rates.current(now).await?;
        let cost = crate::domain::price_usd(input.amount, rate, account.commission);
        let mut limits = Vec::new();
        if let Some(limit) = account.daily_limit_mxn {
            limits.push(LimitCheck {
                scope: LimitScope::Customer,
                limit_mxn: limit,
            });
        }
        if let Some(limit) = account.daily_limit_per_phone_mxn {
            limits.push(LimitCheck {
                scope: LimitScope::Phone,
                limit_mxn: limit,
            });
        }
        let (status, attempts, queued_at) = match kind {
            TxKind::Sync => (TxStatus::Processing, 1, None),
            TxKind::Async => (TxStatus::Pending, 0, Some(now)),
        };
        let transaction = Transaction {
            id: TransactionId::generate(),
            customer_id: account.customer_id.clone(),
            phone: input.phone.clone(),
            amount_mxn: input.amount,
            amount_usd: cost.value(),
            exchange_rate: rate.value(),
            commission: account.commission.value(),
            status,
            kind,
            reference: input.reference.as_ref().map(|r| r.as_str().to_owned()),
            idempotency_key: input.idempotency_key.clone(),
            provider: self.provider.name().to_owned(),
            operator_transaction_id: None,
            failure_reason: None,
            created_at: now,
            updated_at: now,
            queued_at,
            processed_at: None,
            response_time_ms: None,
            attempts,
            balance_before: Decimal::ZERO,
            balance_after: Decimal::ZERO,
            counters: Vec::new(),
        };
        let outcome = self
            .ledger
            .debit(
                account,
                DebitRequest {
                    transaction,
                    limits,
                    max_per_minute: account.max_topups_per_minute,
                    now,
                },
            )
            .await
            .map_err(unavailable)?;
        match outcome {
            DebitOutcome::Debited(tx) => Ok(Accepted::New(*tx)),
            DebitOutcome::AlreadyClaimed(existing) => {
                if existing.phone == input.phone && existing.amount_mxn == input.amount {
                    Ok(Accepted::Replay(*existing))
                } else {
                    Err(TopupError::IdempotencyConflict {
                        reference: input
                            .reference
                            .as_ref()
                            .map(|r| r.as_str().to_owned())
                            .or_else(|| {
                                input
                                    .idempotency_key
                                    .as_ref()
                                    .map(|k| k.value().as_str().to_owned())
                            })
                            .unwrap_or_default(),
                        transaction_id: existing.id.as_str().to_owned(),
                    })
                }
            }
            DebitOutcome::InsufficientBalance { current_balance } => {
                Err(TopupError::InsufficientBalance {
                    current_balance_usd: current_balance,
                    requested_mxn: input.amount.value(),
                    required_usd: cost.value(),
                    exchange_rate: rate.value(),
                })
            }
            DebitOutcome::LimitExceeded {
                scope,
                limit_mxn,
                used_mxn,
            } => Err(TopupError::DailyLimitExceeded {
                scope,
                daily_limit_mxn: limit_mxn,
                used_today_mxn: used_mxn,
                requested_mxn: input.amount.value(),
            }),
            DebitOutcome::RateLimited { limit_per_minute } => {
                use chrono::Timelike;
                Err(TopupError::RateLimited {
                    limit_per_minute,
                    retry_after_seconds: 60 - now.second(),
                })
            }
            DebitOutcome::AccountUnavailable => Err(TopupError::AccountUnavailable),
        }
    }

    /// Send a claimed (PROCESSING) record upstream and finalize it:
    /// Success -> SUCCESS; Failed -> refund + FAILED (exactly once); Unknown -> left
    /// PROCESSING for the reconciler (never refunded or resent blindly).
    pub async fn execute(&self, tx: Transaction) -> Result<Finished, StoreError> {
        let started = Instant::now();
        let request = TopupRequest {
            transaction_id: tx.id.clone(),
            phone: tx.phone.clone(),
            amount: tx.amount_mxn,
        };
        let (provider, outcome) = self.provider.send_via(&request).await;
        let elapsed_ms = started.elapsed().as_millis() as i64;
        let settlement = match outcome {
            TopupOutcome::Success {
                operator_transaction_id,
            } => FinalOutcome::Delivered {
                provider,
                operator_transaction_id,
            },
            TopupOutcome::Failed { reason } => {
                tracing::warn!(transaction_id = %tx.id, %reason, "provider failed the top-up; refunding");
                FinalOutcome::NotDelivered { reason }
            }
            TopupOutcome::Unknown { reason } => {
                tracing::warn!(transaction_id = %tx.id, %reason, "provider outcome unknown; left PROCESSING for the reconciler");
                return Ok(Finished {
                    transaction: tx,
                    balance_after_refund: None,
                });
            }
        };
        self.settle(tx, settlement, elapsed_ms).await
    }

    /// THE one place a final outcome is applied, for every path: the sync API and the worker
    /// (through [`Self::execute`]) and the reconciler. Delivered -> SUCCESS (conditional on the
    /// record still being open); NotDelivered -> refund + FAILED in one transaction, exactly
    /// once. If someone else settled it first, the record is returned as it is now.
    ///
    /// Webhooks hook in here: the outbox event for this transition is written by the same
    /// DynamoDB transaction as the status change (`Ledger::mark_success` /
    /// `Ledger::refund_and_fail` take it as one more item), so an event exists if and only if
    /// the outcome was applied, and a lost race writes none.
    pub async fn settle(
        &self,
        mut tx: Transaction,
        outcome: FinalOutcome,
        elapsed_ms: i64,
    ) -> Result<Finished, StoreError> {
        let now = self.clock.now();
        let total_ms = (now - tx.created_at).num_milliseconds().max(elapsed_ms);
        match outcome {
            FinalOutcome::Delivered {
                provider,
                operator_transaction_id,
            } => {
                if self
                    .ledger
                    .mark_success(&tx, &provider, &operator_transaction_id, now, total_ms)
                    .await?
                {
                    tx.provider = provider;
                    tx.status = TxStatus::Success;
                    tx.operator_transaction_id = Some(operator_transaction_id);
                    tx.processed_at = Some(now);
                    tx.updated_at = now;
                    tx.response_time_ms = Some(total_ms);
                    Ok(Finished {
                        transaction: tx,
                        balance_after_refund: None,
                    })
                } else {
                    self.reload(tx).await
                }
            }
            FinalOutcome::NotDelivered { reason } => {
                match self.ledger.refund_and_fail(&tx, &reason, now).await? {
                    RefundOutcome::Refunded { balance_after } => {
                        tx.status = TxStatus::Failed;
                        tx.failure_reason = Some(reason);
                        tx.processed_at = Some(now);
                        tx.updated_at = now;
                        tx.response_time_ms = Some((now - tx.created_at).num_milliseconds());
                        Ok(Finished {
                            transaction: tx,
                            balance_after_refund: Some(balance_after),
                        })
                    }
                    RefundOutcome::AlreadyFinal(_) => self.reload(tx).await,
                }
            }
        }
    }

    /// The whole synchronous top-up: debit, send, finalize. A replay returns the record as it
    /// is now. If finalizing fails after the debit committed, the record stays PROCESSING for
    /// the reconciler and the caller reports it as pending, never as failed.
    pub async fn topup_sync(
        &self,
        account: &Account,
        input: &TopupInput,
    ) -> Result<Finished, TopupError> {
        let tx = match self.accept(account, input, TxKind::Sync).await? {
            Accepted::Replay(tx) => {
                tracing::info!(transaction_id = %tx.id, "idempotent replay");
                return Ok(Finished {
                    transaction: tx,
                    balance_after_refund: None,
                });
            }
            Accepted::New(tx) => tx,
        };
        tracing::info!(transaction_id = %tx.id, customer_id = %tx.customer_id, amount_mxn = tx.amount_mxn.value(), "debited; sending upstream");
        match self.execute(tx.clone()).await {
            Ok(done) => Ok(done),
            Err(e) => {
                tracing::error!(transaction_id = %tx.id, error = %e, "finalize failed; left for the reconciler");
                Ok(Finished {
                    transaction: tx,
                    balance_after_refund: None,
                })
            }
        }
    }

    async fn reload(&self, tx: Transaction) -> Result<Finished, StoreError> {
        let current = self
            .transactions
            .get_transaction(&tx.id)
            .await?
            .unwrap_or(tx);
        Ok(Finished {
            transaction: current,
            balance_after_refund: None,
        })
    }
}
