//! Settling a record: SUCCESS (a conditional update), or refund + FAILED (one transaction:
//! record, balance back, counters back, REFUND ledger line — exactly once).

use super::codec::{corrupt, get_s, s, ts};
use super::keys::{counter_expiry, tx_key};
use super::parts::{
    backoff, balance_update, classify, counter_update, failed, ledger_put, ledger_time, Cancel,
    MAX_ATTEMPTS, RETRY_BUDGET,
};
use super::webhooks::outbox_put;
use super::DynamoStore;
use crate::domain::{Transaction, TxStatus};
use crate::ports::{AccountReader, RefundOutcome, StoreError, TransactionReader};
use crate::webhooks::OutboxEvent;
use aws_sdk_dynamodb::types::{
    AttributeValue, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update,
};
use chrono::{DateTime, Utc};

impl DynamoStore {
    /// PENDING/PROCESSING -> SUCCESS (see [`crate::ports::Ledger::mark_success`]).
    pub(super) async fn commit_success(
        &self,
        transaction: &Transaction,
        provider: &str,
        operator_transaction_id: &str,
        processed_at: DateTime<Utc>,
        response_time_ms: i64,
    ) -> Result<bool, StoreError> {
        // The `topup.succeeded` outbox event joins the status change in one transaction.
        let mut done = transaction.clone();
        done.status = TxStatus::Success;
        done.provider = provider.to_owned();
        done.operator_transaction_id = Some(operator_transaction_id.to_owned());
        done.processed_at = Some(processed_at);
        done.updated_at = processed_at;
        done.response_time_ms = Some(response_time_ms);
        let event = OutboxEvent::topup_outcome(&done, processed_at)
            .ok_or_else(|| corrupt("a SUCCESS record has an outcome event"))?;
        let update = Update::builder()
            .table_name(&self.transactions_table)
            .set_key(Some(tx_key(&transaction.id)))
            .update_expression(
                "SET #st = :success, operator_transaction_id = :op, processed_at = :at, \
                 updated_at = :at, response_time_ms = :ms, provider = :provider \
                 REMOVE open_status, lease_until",
            )
            .condition_expression("#st IN (:pending, :processing)")
            .expression_attribute_names("#st", "status")
            .expression_attribute_values(":success", s("SUCCESS"))
            .expression_attribute_values(":pending", s("PENDING"))
            .expression_attribute_values(":processing", s("PROCESSING"))
            .expression_attribute_values(":op", s(operator_transaction_id))
            .expression_attribute_values(":provider", s(provider))
            .expression_attribute_values(":at", ts(processed_at))
            .expression_attribute_values(":ms", AttributeValue::N(response_time_ms.to_string()))
            .build()
            .map_err(corrupt)?;
        let items = vec![
            TransactWriteItem::builder().update(update).build(),
            outbox_put(&self.accounts_table, &event)?,
        ];
        for attempt in 0..5 {
            self.write();
            let result = self
                .client
                .transact_write_items()
                .set_transact_items(Some(items.clone()))
                .send()
                .await;
            match result {
                Ok(_) => {
                    self.poke_dispatcher(&[&event]).await;
                    return Ok(true);
                }
                Err(e) => match classify(e)? {
                    Cancel::Retry => backoff(attempt).await,
                    // Already final (someone else settled it), or an ambiguous earlier
                    // attempt of ours committed: either way not ours to report.
                    Cancel::Reasons(r) if failed(&r, 0) => return Ok(false),
                    Cancel::Reasons(_) => return Err(corrupt("outbox event id reused")),
                },
            }
        }
        Err(StoreError::Unavailable(
            "success did not commit after repeated conflicts".into(),
        ))
    }

    /// PENDING/PROCESSING -> FAILED + refund (see [`crate::ports::Ledger::refund_and_fail`]).
    pub(super) async fn commit_refund(
        &self,
        tx: &Transaction,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<RefundOutcome, StoreError> {
        let customer = tx.customer_id.as_str();
        let amount = tx.amount_mxn.as_decimal();
        let response_ms = (now - tx.created_at).num_milliseconds().max(0);
        // The `topup.failed` outbox event joins the refund in one transaction.
        let mut done = tx.clone();
        done.status = TxStatus::Failed;
        done.failure_reason = Some(reason.to_owned());
        done.processed_at = Some(now);
        done.updated_at = now;
        done.response_time_ms = Some(response_ms);
        let event = OutboxEvent::topup_outcome(&done, now)
            .ok_or_else(|| corrupt("a FAILED record has an outcome event"))?;
        let lock = self.account_lock(customer);
        let _serialized = lock.lock().await;
        let started = std::time::Instant::now();
        for attempt in 0..MAX_ATTEMPTS {
            if started.elapsed() > RETRY_BUDGET {
                break;
            }
            let account = self
                .get_account(&tx.customer_id)
                .await?
                .ok_or_else(|| corrupt(format!("account {customer} missing for refund")))?;
            let before = account.balance;
            let after = before + tx.amount_usd;
            let seq = account.version + 1;
            let at = ledger_time(now, account.updated_at);
            let mut items = Vec::with_capacity(5);
            items.push(
                TransactWriteItem::builder()
                    .update(
                        Update::builder()
                            .table_name(&self.transactions_table)
                            .set_key(Some(tx_key(&tx.id)))
                            .update_expression(
                                "SET #st = :failed, failure_reason = :reason, processed_at = :now, \
                                 updated_at = :now, refunded_at = :now, response_time_ms = :ms \
                                 REMOVE open_status, lease_until",
                            )
                            .condition_expression("#st IN (:pending, :processing)")
                            .expression_attribute_names("#st", "status")
                            .expression_attribute_values(":failed", s("FAILED"))
                            .expression_attribute_values(":pending", s("PENDING"))
                            .expression_attribute_values(":processing", s("PROCESSING"))
                            .expression_attribute_values(":reason", s(reason))
                            .expression_attribute_values(":now", ts(now))
                            .expression_attribute_values(
                                ":ms",
                                AttributeValue::N(response_ms.to_string()),
                            )
                            .return_values_on_condition_check_failure(
                                ReturnValuesOnConditionCheckFailure::AllOld,
                            )
                            .build()
                            .map_err(corrupt)?,
                    )
                    .build(),
            );
            items.push(balance_update(
                &self.accounts_table,
                customer,
                account.version,
                before,
                after,
                at,
                false,
                false,
            )?);
            for key in &tx.counters {
                items.push(counter_update(
                    &self.accounts_table,
                    key,
                    -amount,
                    counter_expiry(tx.created_at),
                    None,
                )?);
            }
            items.push(ledger_put(
                &self.accounts_table,
                customer,
                seq,
                &tx.id,
                "REFUND",
                tx.amount_usd,
                before,
                after,
                at,
            )?);
            items.push(outbox_put(&self.accounts_table, &event)?);
            self.write();
            let result = self
                .client
                .transact_write_items()
                .set_transact_items(Some(items))
                .send()
                .await;
            let reasons = match result {
                Ok(_) => {
                    self.poke_dispatcher(&[&event]).await;
                    return Ok(RefundOutcome::Refunded {
                        balance_after: after,
                    });
                }
                Err(e) => match classify(e)? {
                    Cancel::Retry => {
                        backoff(attempt).await;
                        continue;
                    }
                    Cancel::Reasons(r) => r,
                },
            };
            if failed(&reasons, 0) {
                let status = match reasons[0].item() {
                    Some(old) => TxStatus::parse(&get_s(old, "status")?),
                    None => self.get_transaction(&tx.id).await?.map(|t| t.status),
                };
                return Ok(RefundOutcome::AlreadyFinal(status.ok_or_else(|| {
                    corrupt(format!("transaction {} missing", tx.id))
                })?));
            }
            backoff(attempt).await;
        }
        Err(StoreError::Unavailable(
            "refund did not commit after repeated conflicts".into(),
        ))
    }
}
