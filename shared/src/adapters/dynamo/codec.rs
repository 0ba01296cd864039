//! Item codecs: domain records to DynamoDB attribute maps and back. A stored item that does
//! not parse back is `StoreError::Corrupt`, never a guess.

use super::keys::{account_pk, pk_sk, tx_key};
use super::Item;
use crate::domain::{
    Account, Commission, CounterKey, CustomerId, IdempotencyKey, MxnAmount, Phone, Transaction,
    TransactionId, TxKind, TxStatus,
};
use crate::ports::StoreError;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use std::collections::HashMap;
use std::str::FromStr;

pub(super) fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}
/// Numbers are always written from decimal strings.
pub(super) fn n(v: Decimal) -> AttributeValue {
    AttributeValue::N(v.normalize().to_string())
}
pub(super) fn nu(v: u64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}
pub(super) fn ts(at: DateTime<Utc>) -> AttributeValue {
    s(at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
}

pub(super) fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(what.to_string())
}
pub(super) fn unavailable<E: std::fmt::Debug>(e: E) -> StoreError {
    StoreError::Unavailable(format!("{e:?}").chars().take(500).collect())
}

pub(super) fn get_s(item: &Item, k: &str) -> Result<String, StoreError> {
    opt_s(item, k)?.ok_or_else(|| corrupt(format!("missing {k}")))
}
pub(super) fn opt_s(item: &Item, k: &str) -> Result<Option<String>, StoreError> {
    match item.get(k) {
        None | Some(AttributeValue::Null(_)) => Ok(None),
        Some(AttributeValue::S(v)) => Ok(Some(v.clone())),
        Some(_) => Err(corrupt(format!("{k} is not a string"))),
    }
}
pub(super) fn get_dec(item: &Item, k: &str) -> Result<Decimal, StoreError> {
    opt_dec(item, k)?.ok_or_else(|| corrupt(format!("missing {k}")))
}
pub(super) fn opt_dec(item: &Item, k: &str) -> Result<Option<Decimal>, StoreError> {
    match item.get(k) {
        None | Some(AttributeValue::Null(_)) => Ok(None),
        Some(AttributeValue::N(v)) => Decimal::from_str(v)
            .or_else(|_| Decimal::from_scientific(v))
            .map(Some)
            .map_err(|_| corrupt(format!("{k} is not a decimal: {v}"))),
        Some(_) => Err(corrupt(format!("{k} is not a number"))),
    }
}
pub(super) fn get_time(item: &Item, k: &str) -> Result<DateTime<Utc>, StoreError> {
    opt_time(item, k)?.ok_or_else(|| corrupt(format!("missing {k}")))
}
pub(super) fn opt_time(item: &Item, k: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
    opt_s(item, k)?
        .map(|v| {
            DateTime::parse_from_rfc3339(&v)
                .map(|d| d.with_timezone(&Utc))
                .map_err(|_| corrupt(format!("{k} is not a timestamp")))
        })
        .transpose()
}

pub(super) fn account_item(a: &Account) -> Item {
    let mut item = pk_sk(&account_pk(a.customer_id.as_str()), "ACCOUNT");
    item.insert("customer_id".into(), s(a.customer_id.as_str()));
    // Sparse key of the `partners` index (lists accounts without a scan).
    item.insert(
        super::schema::PARTNERS_INDEX_KEYS.0.into(),
        s(super::PARTNER_ENTITY),
    );
    item.insert("company_name".into(), s(&a.company_name));
    item.insert("balance".into(), n(a.balance));
    item.insert("credit_limit".into(), n(a.credit_limit));
    item.insert("overdraft_usd".into(), n(a.overdraft_usd));
    item.insert("opening_balance".into(), n(a.opening_balance));
    item.insert("commission_rate".into(), n(a.commission.value()));
    if let Some(l) = a.daily_limit_mxn {
        item.insert("daily_limit_mxn".into(), n(l));
    }
    if let Some(l) = a.daily_limit_per_phone_mxn {
        item.insert("daily_limit_per_phone_mxn".into(), n(l));
    }
    if let Some(l) = a.max_topups_per_minute {
        item.insert("max_topups_per_minute".into(), nu(l as u64));
    }
    if let Some(l) = a.max_requests_per_15min {
        item.insert("max_requests_per_15min".into(), nu(l as u64));
    }
    if !a.allowed_ips.is_empty() {
        item.insert(
            "allowed_ips".into(),
            AttributeValue::L(a.allowed_ips.iter().map(s).collect()),
        );
    }
    item.insert(
        "api_key_hashes".into(),
        AttributeValue::L(a.api_key_hashes.iter().map(s).collect()),
    );
    if let Some(h) = &a.secret_key_hash {
        item.insert("secret_key_hash".into(), s(h));
    }
    item.insert(
        "status".into(),
        s(if a.active { "ACTIVE" } else { "DISABLED" }),
    );
    item.insert("version".into(), nu(a.version));
    if let Some(at) = a.updated_at {
        item.insert("updated_at".into(), ts(at));
    }
    if let Some(t) = a.low_balance_usd {
        item.insert("low_balance_threshold_usd".into(), n(t));
    }
    item.insert(
        "low_balance_alerted".into(),
        AttributeValue::Bool(a.low_balance_alerted),
    );
    item
}

pub(super) fn parse_account(item: &Item) -> Result<Account, StoreError> {
    let hashes = match item.get("api_key_hashes") {
        Some(AttributeValue::L(list)) => {
            list.iter().filter_map(|v| v.as_s().ok().cloned()).collect()
        }
        Some(AttributeValue::Ss(list)) => list.clone(),
        _ => Vec::new(),
    };
    Ok(Account {
        customer_id: CustomerId::parse(&get_s(item, "customer_id")?).map_err(corrupt)?,
        company_name: get_s(item, "company_name")?,
        balance: get_dec(item, "balance")?,
        credit_limit: opt_dec(item, "credit_limit")?.unwrap_or_default(),
        overdraft_usd: opt_dec(item, "overdraft_usd")?.unwrap_or_default(),
        opening_balance: opt_dec(item, "opening_balance")?.unwrap_or_default(),
        commission: Commission::parse(opt_dec(item, "commission_rate")?.unwrap_or_default())
            .map_err(corrupt)?,
        daily_limit_mxn: opt_dec(item, "daily_limit_mxn")?,
        daily_limit_per_phone_mxn: opt_dec(item, "daily_limit_per_phone_mxn")?,
        max_topups_per_minute: opt_dec(item, "max_topups_per_minute")?
            .map(|d| d.try_into().map_err(|_| corrupt("max_topups_per_minute")))
            .transpose()?,
        max_requests_per_15min: opt_dec(item, "max_requests_per_15min")?
            .map(|d| d.try_into().map_err(|_| corrupt("max_requests_per_15min")))
            .transpose()?,
        allowed_ips: match item.get("allowed_ips") {
            Some(AttributeValue::L(list)) => {
                list.iter().filter_map(|v| v.as_s().ok().cloned()).collect()
            }
            _ => Vec::new(),
        },
        api_key_hashes: hashes,
        secret_key_hash: opt_s(item, "secret_key_hash")?,
        active: opt_s(item, "status")?.as_deref() == Some("ACTIVE"),
        version: opt_dec(item, "version")?
            .unwrap_or_default()
            .try_into()
            .map_err(|_| corrupt("version"))?,
        updated_at: opt_time(item, "updated_at")?,
        low_balance_usd: opt_dec(item, "low_balance_threshold_usd")?,
        low_balance_alerted: matches!(
            item.get("low_balance_alerted"),
            Some(AttributeValue::Bool(true))
        ),
    })
}

pub(super) fn transaction_item(t: &Transaction) -> Item {
    let mut item = tx_key(&t.id);
    item.insert("customer_id".into(), s(t.customer_id.as_str()));
    item.insert("phone".into(), s(t.phone.as_str()));
    item.insert("amount_mxn".into(), nu(t.amount_mxn.value() as u64));
    item.insert("amount_usd".into(), n(t.amount_usd));
    item.insert("exchange_rate".into(), n(t.exchange_rate));
    item.insert("commission_rate".into(), n(t.commission));
    item.insert("status".into(), s(t.status.as_str()));
    if !t.status.is_terminal() {
        item.insert("open_status".into(), s(t.status.as_str()));
    }
    item.insert("kind".into(), s(t.kind.as_str()));
    let opt = |item: &mut Item, k: &str, v: &Option<String>| {
        if let Some(v) = v {
            item.insert(k.into(), s(v));
        }
    };
    opt(&mut item, "reference", &t.reference);
    opt(
        &mut item,
        "idempotency_key",
        &t.idempotency_key.as_ref().map(IdempotencyKey::render),
    );
    opt(
        &mut item,
        "operator_transaction_id",
        &t.operator_transaction_id,
    );
    opt(&mut item, "failure_reason", &t.failure_reason);
    item.insert("provider".into(), s(&t.provider));
    item.insert("created_at".into(), ts(t.created_at));
    item.insert("updated_at".into(), ts(t.updated_at));
    if let Some(at) = t.queued_at {
        item.insert("queued_at".into(), ts(at));
    }
    if let Some(at) = t.processed_at {
        item.insert("processed_at".into(), ts(at));
    }
    if let Some(ms) = t.response_time_ms {
        item.insert("response_time_ms".into(), AttributeValue::N(ms.to_string()));
    }
    item.insert("attempts".into(), nu(t.attempts as u64));
    item.insert("balance_before".into(), n(t.balance_before));
    item.insert("balance_after".into(), n(t.balance_after));
    item.insert(
        "counters".into(),
        AttributeValue::L(
            t.counters
                .iter()
                .map(|c| {
                    AttributeValue::M(HashMap::from([
                        ("pk".to_owned(), s(&c.pk)),
                        ("sk".to_owned(), s(&c.sk)),
                    ]))
                })
                .collect(),
        ),
    );
    item
}

pub(super) fn parse_transaction(item: &Item) -> Result<Transaction, StoreError> {
    let amount: u32 = get_dec(item, "amount_mxn")?
        .try_into()
        .map_err(|_| corrupt("amount_mxn"))?;
    let counters = match item.get("counters") {
        Some(AttributeValue::L(list)) => list
            .iter()
            .filter_map(|v| v.as_m().ok())
            .map(|m| {
                Ok(CounterKey {
                    pk: get_s(m, "pk")?,
                    sk: get_s(m, "sk")?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?,
        _ => Vec::new(),
    };
    Ok(Transaction {
        id: TransactionId::parse(&get_s(item, "id")?).map_err(corrupt)?,
        customer_id: CustomerId::parse(&get_s(item, "customer_id")?).map_err(corrupt)?,
        phone: Phone::parse(&get_s(item, "phone")?).map_err(corrupt)?,
        amount_mxn: MxnAmount::any(amount).map_err(corrupt)?,
        amount_usd: get_dec(item, "amount_usd")?,
        exchange_rate: get_dec(item, "exchange_rate")?,
        commission: opt_dec(item, "commission_rate")?.unwrap_or_default(),
        status: TxStatus::parse(&get_s(item, "status")?).ok_or_else(|| corrupt("status"))?,
        kind: TxKind::parse(&get_s(item, "kind")?).ok_or_else(|| corrupt("kind"))?,
        reference: opt_s(item, "reference")?,
        idempotency_key: opt_s(item, "idempotency_key")?
            .map(|k| IdempotencyKey::parse(&k).map_err(corrupt))
            .transpose()?,
        provider: opt_s(item, "provider")?.unwrap_or_default(),
        operator_transaction_id: opt_s(item, "operator_transaction_id")?,
        failure_reason: opt_s(item, "failure_reason")?,
        created_at: get_time(item, "created_at")?,
        updated_at: get_time(item, "updated_at")?,
        queued_at: opt_time(item, "queued_at")?,
        processed_at: opt_time(item, "processed_at")?,
        response_time_ms: opt_dec(item, "response_time_ms")?
            .map(|d| d.try_into().map_err(|_| corrupt("response_time_ms")))
            .transpose()?,
        attempts: opt_dec(item, "attempts")?
            .unwrap_or_default()
            .try_into()
            .map_err(|_| corrupt("attempts"))?,
        balance_before: opt_dec(item, "balance_before")?.unwrap_or_default(),
        balance_after: opt_dec(item, "balance_after")?.unwrap_or_default(),
        counters,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn transaction() -> Transaction {
        let at = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap();
        Transaction {
            id: TransactionId::generate(),
            customer_id: CustomerId::parse("HAZ_001").unwrap(),
            phone: Phone::parse("5566374683").unwrap(),
            amount_mxn: MxnAmount::parse(20).unwrap(),
            amount_usd: Decimal::new(108, 2),
            exchange_rate: Decimal::new(1852, 2),
            commission: Decimal::ZERO,
            status: TxStatus::Pending,
            kind: TxKind::Async,
            reference: Some("R1".into()),
            idempotency_key: Some(IdempotencyKey::Reference(
                crate::domain::Reference::parse("R1").unwrap(),
            )),
            provider: "sandbox".into(),
            operator_transaction_id: None,
            failure_reason: None,
            created_at: at,
            updated_at: at,
            queued_at: Some(at),
            processed_at: None,
            response_time_ms: None,
            attempts: 0,
            balance_before: Decimal::from(10),
            balance_after: Decimal::new(892, 2),
            counters: Vec::new(),
        }
    }

    #[test]
    fn a_transaction_round_trips() {
        let tx = transaction();
        assert_eq!(parse_transaction(&transaction_item(&tx)).unwrap(), tx);
    }

    #[test]
    fn an_unknown_transaction_kind_is_corrupt_not_sync() {
        // GIVEN a stored record whose kind is neither SYNC nor ASYNC
        let mut item = transaction_item(&transaction());
        item.insert("kind".into(), s("BATCH"));
        // WHEN it is read back
        let parsed = parse_transaction(&item);
        // THEN it is an error, as an unknown status is
        assert!(matches!(parsed, Err(StoreError::Corrupt(_))), "{parsed:?}");
    }
}
