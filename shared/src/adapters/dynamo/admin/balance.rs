//! Credits and adjustments: a version-checked balance change, its ledger line, the reference
//! claim that makes a retry a replay, the audit record and (for a credit) the webhook outbox
//! item — one transaction.

use super::super::codec::{corrupt, get_dec, get_s, n, nu, s, ts};
use super::super::keys::{account_pk, pk_sk};
use super::super::parts::{
    backoff, ledger_item, ledger_put_item, ledger_time, MAX_ATTEMPTS, RETRY_BUDGET,
};
use super::super::DynamoStore;
use super::audit::audit_put;
use super::put;
use crate::domain::TransactionId;
use crate::ops::ports::{BalanceChange, BalanceOutcome};
use crate::ops::AuditRecord;
use crate::ports::{AccountReader, StoreError};
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};
use rust_decimal::Decimal;
use std::collections::HashMap;

fn balance_ref_pk(customer: &str, reference: &str) -> String {
    format!("BALREF#{customer}#{reference}")
}

/// The claim of an already-applied reference: a replay (same kind and amount) or a conflict.
async fn claimed_change(
    store: &DynamoStore,
    change: &BalanceChange,
) -> Result<Option<BalanceOutcome>, StoreError> {
    let pk = balance_ref_pk(change.customer_id.as_str(), &change.reference);
    let Some(item) = store
        .get_item(&store.accounts_table, pk_sk(&pk, "BALREF"))
        .await?
    else {
        return Ok(None);
    };
    let kind = get_s(&item, "kind")?;
    let amount = get_dec(&item, "amount_usd")?;
    if kind == change.kind.as_str() && amount == change.amount_usd {
        Ok(Some(BalanceOutcome::AlreadyApplied {
            id: get_s(&item, "transaction_id")?,
            seq: get_dec(&item, "seq")?
                .try_into()
                .map_err(|_| corrupt("seq"))?,
        }))
    } else {
        Ok(Some(BalanceOutcome::ReferenceConflict {
            kind,
            amount_usd: amount,
        }))
    }
}

pub(super) async fn apply_balance_change(
    store: &DynamoStore,
    change: &BalanceChange,
) -> Result<BalanceOutcome, StoreError> {
    let customer = change.customer_id.as_str();
    let claim_pk = balance_ref_pk(customer, &change.reference);
    let id = TransactionId::generate();
    let lock = store.account_lock(customer);
    let _serialized = lock.lock().await;
    let started = std::time::Instant::now();
    for attempt in 0..MAX_ATTEMPTS {
        if started.elapsed() > RETRY_BUDGET {
            break;
        }
        let Some(account) = store.get_account(&change.customer_id).await? else {
            return Ok(BalanceOutcome::UnknownPartner);
        };
        let before = account.balance;
        let after = before + change.amount_usd;
        let floor = Decimal::ZERO - account.overdraft_usd;
        if change.amount_usd < Decimal::ZERO && after < floor {
            // A replay of an applied reference wins over the floor.
            if let Some(done) = claimed_change(store, change).await? {
                return Ok(done);
            }
            return Ok(BalanceOutcome::BelowFloor {
                balance: before,
                floor,
            });
        }
        let seq = account.version + 1;
        let at = ledger_time(change.at, account.updated_at);
        let kind = change.kind.as_str();
        let mut line = ledger_item(
            customer,
            seq,
            &id,
            kind,
            change.amount_usd,
            before,
            after,
            at,
        );
        line.insert("reference".into(), s(&change.reference));
        if let Some(note) = &change.note {
            line.insert("note".into(), s(note));
        }
        line.insert("actor".into(), s(&change.actor.0));
        let mut claim = pk_sk(&claim_pk, "BALREF");
        claim.insert("transaction_id".into(), s(id.as_str()));
        claim.insert("kind".into(), s(kind));
        claim.insert("amount_usd".into(), n(change.amount_usd));
        claim.insert("seq".into(), nu(seq));
        claim.insert("created_at".into(), ts(at));
        let audit = AuditRecord {
            customer_id: customer.to_owned(),
            at,
            actor: change.actor.0.clone(),
            action: if kind == "CREDIT" { "credit" } else { "adjust" }.to_owned(),
            before: serde_json::json!({ "balance_usd": before.to_string(), "version": account.version }),
            after: serde_json::json!({
                "balance_usd": after.to_string(), "version": seq, "ledger_seq": seq,
                "kind": kind, "amount_usd": change.amount_usd.to_string(),
                "reference": change.reference, "note": change.note, "transaction_id": id.as_str(),
            }),
        };
        // Webhooks: a credit back to or above the balance.low threshold re-arms the alert;
        // a CREDIT emits balance.credited (outbox, same transaction).
        let rearm = account.low_balance_alerted && after >= account.low_balance_threshold();
        let credited = (kind == "CREDIT").then(|| {
            crate::webhooks::OutboxEvent::balance_credited(
                customer,
                change.amount_usd,
                before,
                after,
                &change.reference,
                at,
            )
        });
        let mut items = vec![
            // 0: the balance, version-checked, exactly as a top-up's debit.
            TransactWriteItem::builder()
                .update(
                    Update::builder()
                        .table_name(&store.accounts_table)
                        .set_key(Some(pk_sk(&account_pk(customer), "ACCOUNT")))
                        .update_expression(if rearm {
                            "SET balance = :after, version = :seq, updated_at = :now, \
                             low_balance_alerted = :armed"
                        } else {
                            "SET balance = :after, version = :seq, updated_at = :now"
                        })
                        .set_expression_attribute_values(Some(if rearm {
                            HashMap::from([(":armed".to_owned(), AttributeValue::Bool(false))])
                        } else {
                            HashMap::new()
                        }))
                        .condition_expression("version = :v AND balance = :before")
                        .expression_attribute_values(":after", n(after))
                        .expression_attribute_values(":before", n(before))
                        .expression_attribute_values(":seq", nu(seq))
                        .expression_attribute_values(":v", nu(account.version))
                        .expression_attribute_values(":now", ts(at))
                        .build()
                        .map_err(corrupt)?,
                )
                .build(),
            // 1: the reference claim (idempotency).
            put(
                &store.accounts_table,
                claim,
                Some("attribute_not_exists(pk)"),
            )?,
            // 2: the ledger line, sequence = new version.
            ledger_put_item(&store.accounts_table, line)?,
            // 3: the audit record.
            audit_put(&store.accounts_table, &audit)?,
        ];
        if let Some(event) = &credited {
            items.push(super::super::webhooks::outbox_put(
                &store.accounts_table,
                event,
            )?);
        }
        match store.transact(items).await? {
            None => {
                if let Some(event) = &credited {
                    store.poke_dispatcher(&[event]).await;
                }
                return Ok(BalanceOutcome::Applied {
                    id,
                    seq,
                    balance_before: before,
                    balance_after: after,
                });
            }
            Some(f) if f[1] => {
                if let Some(done) = claimed_change(store, change).await? {
                    return Ok(done);
                }
            }
            Some(_) => {}
        }
        backoff(attempt).await;
    }
    Err(StoreError::Unavailable(
        "balance change did not commit after repeated conflicts".into(),
    ))
}
