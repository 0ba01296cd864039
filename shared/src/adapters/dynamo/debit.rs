//! The atomic debit: business refusals (balance, overdraft, daily limits, minute window,
//! replays) are read from the cancellation reasons of one `TransactWriteItems`.

use super::codec::{corrupt, get_s, nu, opt_dec, s, transaction_item, ts};
use super::keys::{counter_expiry, counter_key, idem_pk, minute_expiry, minute_key, pk_sk};
use super::parts::{
    backoff, balance_update, classify, counter_update, failed, ledger_put, ledger_time, Cancel,
    MAX_ATTEMPTS, RETRY_BUDGET,
};
use super::webhooks::outbox_put;
use super::DynamoStore;
use crate::domain::{Account, CounterKey, LimitCheck, Transaction, TransactionId};
use crate::ports::{AccountReader, DebitOutcome, DebitRequest, StoreError, TransactionReader};
use crate::webhooks::event::low_balance_fires;
use crate::webhooks::OutboxEvent;
use aws_sdk_dynamodb::types::{
    Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update,
};
use rust_decimal::Decimal;

impl DynamoStore {
    /// The atomic debit (see [`crate::ports::Ledger::debit`]): one `TransactWriteItems` of balance,
    /// record, idempotency claim, daily counters, minute window and ledger line; conflicts
    /// are retried, cancellation reasons tell the refusals apart.
    pub(super) async fn commit_debit(
        &self,
        account: &Account,
        request: DebitRequest,
    ) -> Result<DebitOutcome, StoreError> {
        let DebitRequest {
            transaction: mut tx,
            limits,
            max_per_minute,
            now,
        } = request;
        let customer = tx.customer_id.as_str().to_owned();
        let amount = tx.amount_mxn.as_decimal();
        let cost = tx.amount_usd;
        let claim_pk = tx.idempotency_key.as_ref().map(|k| idem_pk(&customer, k));
        let counters: Vec<(LimitCheck, CounterKey)> = limits
            .into_iter()
            .map(|l| {
                let key = counter_key(&customer, l.scope, &tx.phone, now);
                (l, key)
            })
            .collect();
        tx.counters = counters.iter().map(|(_, k)| k.clone()).collect();

        // A single top-up above a whole daily limit can never pass: answer without writing.
        for (limit, key) in &counters {
            if amount > limit.limit_mxn {
                if let Some(pk) = &claim_pk {
                    if let Some(existing) = self.transaction_by_claim(pk).await? {
                        return Ok(DebitOutcome::AlreadyClaimed(Box::new(existing)));
                    }
                }
                return Ok(DebitOutcome::LimitExceeded {
                    scope: limit.scope,
                    limit_mxn: limit.limit_mxn,
                    used_mxn: self.counter_used(key).await?,
                });
            }
        }

        let lock = self.account_lock(&customer);
        let _serialized = lock.lock().await;
        let mut current = account.clone();
        let started = std::time::Instant::now();
        for attempt in 0..MAX_ATTEMPTS {
            if started.elapsed() > RETRY_BUDGET {
                break;
            }
            if attempt > 0 {
                match self.get_account(&tx.customer_id).await? {
                    Some(a) => current = a,
                    None => return Ok(DebitOutcome::AccountUnavailable),
                }
            }
            if !current.active {
                return Ok(DebitOutcome::AccountUnavailable);
            }
            let before = current.balance;
            let after = before - cost;
            if after < -current.overdraft_usd {
                // A replay of an already-charged reference wins over a low balance.
                if let Some(pk) = &claim_pk {
                    if let Some(existing) = self.transaction_by_claim(pk).await? {
                        return Ok(DebitOutcome::AlreadyClaimed(Box::new(existing)));
                    }
                }
                return Ok(DebitOutcome::InsufficientBalance {
                    current_balance: before,
                });
            }
            let seq = current.version + 1;
            let at = ledger_time(now, current.updated_at);
            tx.balance_before = before;
            tx.balance_after = after;
            // balance.low: once per dip below the threshold (the flag is set by the same
            // version-checked update, so two racing debits cannot both fire it).
            let threshold = current.low_balance_threshold();
            let low_event =
                low_balance_fires(after, threshold, current.low_balance_alerted).then(|| {
                    OutboxEvent::balance_low(&customer, after, threshold, tx.id.as_str(), now)
                });

            let mut items = Vec::with_capacity(6);
            // 0: the balance, version-checked (exact before/after, no lost update).
            items.push(balance_update(
                &self.accounts_table,
                &customer,
                current.version,
                before,
                after,
                at,
                true,
                low_event.is_some(),
            )?);
            // 1: the transaction record.
            items.push(
                TransactWriteItem::builder()
                    .put(
                        Put::builder()
                            .table_name(&self.transactions_table)
                            .set_item(Some(transaction_item(&tx)))
                            .condition_expression("attribute_not_exists(id)")
                            .build()
                            .map_err(corrupt)?,
                    )
                    .build(),
            );
            // 2: the idempotency claim.
            let claim_idx = claim_pk.as_ref().map(|pk| {
                let mut item = pk_sk(pk, "IDEM");
                item.insert("transaction_id".into(), s(tx.id.as_str()));
                item.insert("created_at".into(), ts(now));
                items.push(
                    TransactWriteItem::builder()
                        .put(
                            Put::builder()
                                .table_name(&self.accounts_table)
                                .set_item(Some(item))
                                .condition_expression("attribute_not_exists(pk)")
                                .return_values_on_condition_check_failure(
                                    ReturnValuesOnConditionCheckFailure::AllOld,
                                )
                                .build()
                                .expect("static put"),
                        )
                        .build(),
                );
                items.len() - 1
            });
            // 3..: the daily counters, each conditioned to stay within its limit.
            let first_counter = items.len();
            for (limit, key) in &counters {
                items.push(counter_update(
                    &self.accounts_table,
                    key,
                    amount,
                    counter_expiry(now),
                    Some(limit.limit_mxn - amount),
                )?);
            }
            // the per-minute rate window (fixed UTC minute), if the account has a rate limit.
            let rate_idx = max_per_minute.map(|max| {
                items.push(
                    TransactWriteItem::builder()
                        .update(
                            Update::builder()
                                .table_name(&self.accounts_table)
                                .set_key(Some(minute_key(&customer, now)))
                                .update_expression("SET expires_at = :exp ADD accepted :one")
                                .condition_expression(
                                    "attribute_not_exists(accepted) OR accepted < :max",
                                )
                                .expression_attribute_values(":exp", nu(minute_expiry(now) as u64))
                                .expression_attribute_values(":one", nu(1))
                                .expression_attribute_values(":max", nu(max as u64))
                                .build()
                                .expect("static update"),
                        )
                        .build(),
                );
                (items.len() - 1, max)
            });
            // last: the ledger line, sequence = new version.
            items.push(ledger_put(
                &self.accounts_table,
                &customer,
                seq,
                &tx.id,
                "DEBIT",
                -cost,
                before,
                after,
                at,
            )?);
            // and the balance.low outbox event, if this debit fires it.
            if let Some(event) = &low_event {
                items.push(outbox_put(&self.accounts_table, event)?);
            }

            self.write();
            let result = self
                .client
                .transact_write_items()
                .set_transact_items(Some(items))
                .send()
                .await;
            let reasons = match result {
                Ok(_) => {
                    if let Some(event) = &low_event {
                        self.poke_dispatcher(&[event]).await;
                    }
                    return Ok(DebitOutcome::Debited(Box::new(tx)));
                }
                Err(e) => match classify(e)? {
                    Cancel::Retry => {
                        backoff(attempt).await;
                        continue;
                    }
                    Cancel::Reasons(r) => r,
                },
            };
            if let (Some(idx), Some(pk)) = (claim_idx, &claim_pk) {
                if failed(&reasons, idx) {
                    return match self.transaction_by_claim(pk).await? {
                        Some(existing) => Ok(DebitOutcome::AlreadyClaimed(Box::new(existing))),
                        None => Err(corrupt(format!("claim {pk} without its transaction"))),
                    };
                }
            }
            for (i, (limit, key)) in counters.iter().enumerate() {
                if failed(&reasons, first_counter + i) {
                    let used = match reasons[first_counter + i].item() {
                        Some(old) => opt_dec(old, "used_mxn")?.unwrap_or_default(),
                        None => self.counter_used(key).await?,
                    };
                    return Ok(DebitOutcome::LimitExceeded {
                        scope: limit.scope,
                        limit_mxn: limit.limit_mxn,
                        used_mxn: used,
                    });
                }
            }
            if let Some((idx, max)) = rate_idx {
                if failed(&reasons, idx) {
                    return Ok(DebitOutcome::RateLimited {
                        limit_per_minute: max,
                    });
                }
            }
            if failed(&reasons, 1) {
                // The record exists: an earlier attempt of THIS debit committed although its
                // answer was lost (timeout). 130 random bits never collide by chance.
                if let Some(existing) = self.get_transaction(&tx.id).await? {
                    if existing.customer_id == tx.customer_id {
                        return Ok(DebitOutcome::Debited(Box::new(existing)));
                    }
                }
                return Err(corrupt(format!("transaction id {} reused", tx.id)));
            }
            // The account moved under us (another debit won the version): re-read, retry.
            backoff(attempt).await;
        }
        Err(StoreError::Unavailable(
            "debit did not commit after repeated conflicts".into(),
        ))
    }

    async fn counter_used(&self, key: &CounterKey) -> Result<Decimal, StoreError> {
        let item = self
            .get_item(&self.accounts_table, pk_sk(&key.pk, &key.sk))
            .await?;
        match item {
            Some(item) => Ok(opt_dec(&item, "used_mxn")?.unwrap_or_default()),
            None => Ok(Decimal::ZERO),
        }
    }

    async fn transaction_by_claim(&self, idem_pk: &str) -> Result<Option<Transaction>, StoreError> {
        let Some(item) = self
            .get_item(&self.accounts_table, pk_sk(idem_pk, "IDEM"))
            .await?
        else {
            return Ok(None);
        };
        let id = TransactionId::parse(&get_s(&item, "transaction_id")?).map_err(corrupt)?;
        self.get_transaction(&id).await
    }
}
