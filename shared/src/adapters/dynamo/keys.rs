//! The key layout: every item's partition / sort key is built here and nowhere else.

use super::codec::s;
use super::Item;
use crate::domain::{CounterKey, IdempotencyKey, LimitScope, Phone, TransactionId};
use chrono::{DateTime, Duration, Utc};
use std::collections::HashMap;

// ---------------------------------------------------------------------------------------------
// Key layout (accounts table, pk / sk):
//   ACCOUNT#{customer}            ACCOUNT             the account
//   LEDGER#{customer}             SEQ#{version:012}   one line per balance change
//   DAILY#{customer}#{yyyy-mm-dd} CUSTOMER | PHONE#{phone}   daily MXN counters (TTL)
//   IDEM#{customer}#{key}         IDEM                idempotency claim -> transaction id
//   RATE#{customer}#{yyyy-mm-ddThh:mm} MINUTE         accepted top-ups this UTC minute (TTL)
//   FX#USD_MXN                    CURRENT             the exchange rate
// Transactions table: id = the transaction id (GSI `open-by-updated` on open_status).
// ---------------------------------------------------------------------------------------------

pub(super) fn account_pk(customer: &str) -> String {
    format!("ACCOUNT#{customer}")
}
pub(super) fn ledger_key(customer: &str, seq: u64) -> Item {
    pk_sk(&format!("LEDGER#{customer}"), &format!("SEQ#{seq:012}"))
}
pub(super) fn idem_pk(customer: &str, key: &IdempotencyKey) -> String {
    format!("IDEM#{customer}#{}", key.render())
}
pub(super) fn counter_key(
    customer: &str,
    scope: LimitScope,
    phone: &Phone,
    now: DateTime<Utc>,
) -> CounterKey {
    let pk = format!("DAILY#{customer}#{}", now.format("%Y-%m-%d"));
    let sk = match scope {
        LimitScope::Customer => "CUSTOMER".to_owned(),
        LimitScope::Phone => format!("PHONE#{phone}"),
    };
    CounterKey { pk, sk }
}
/// Counters live through the next UTC day, then DynamoDB's TTL removes them.
pub(super) fn counter_expiry(now: DateTime<Utc>) -> i64 {
    let midnight = now
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .expect("midnight exists")
        .and_utc();
    (midnight + Duration::days(2)).timestamp()
}

pub(super) fn pk_sk(pk: &str, sk: &str) -> Item {
    HashMap::from([("pk".to_owned(), s(pk)), ("sk".to_owned(), s(sk))])
}
pub(super) fn tx_key(id: &TransactionId) -> Item {
    HashMap::from([("id".to_owned(), s(id.as_str()))])
}

/// The exchange-rate item.
pub(super) const RATE_PK: &str = "FX#USD_MXN";

/// The per-customer counter of accepted top-ups in one UTC minute (the rate window).
pub(super) fn minute_key(customer: &str, now: DateTime<Utc>) -> Item {
    pk_sk(
        &format!("RATE#{customer}#{}", now.format("%Y-%m-%dT%H:%M")),
        "MINUTE",
    )
}

/// The minute counter outlives its minute by a little, then DynamoDB's TTL removes it.
pub(super) fn minute_expiry(now: DateTime<Utc>) -> i64 {
    (now + Duration::minutes(5)).timestamp()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The layout comment at the top of this file.
    fn layout_comment() -> String {
        include_str!("keys.rs")
            .lines()
            .skip_while(|l| !l.starts_with("// Key layout"))
            .take_while(|l| l.starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn the_claim_item_key_is_pinned() {
        // Existing claims must keep matching: these bytes never change.
        let reference = |t: &str| crate::domain::Reference::parse(t).unwrap();
        assert_eq!(
            idem_pk("HAZ_001", &IdempotencyKey::Reference(reference("ORDER_1"))),
            "IDEM#HAZ_001#REF#ORDER_1"
        );
        assert_eq!(
            idem_pk("HAZ_001", &IdempotencyKey::Header(reference("K-1"))),
            "IDEM#HAZ_001#KEY#K-1"
        );
        assert_eq!(
            idem_pk(
                "SMARTBIZ_001",
                &IdempotencyKey::Distributor(reference("MY-TXN-001"))
            ),
            "IDEM#SMARTBIZ_001#DIST#MY-TXN-001"
        );
    }

    #[test]
    fn the_layout_comment_names_every_item_the_store_writes() {
        let now = Utc::now();
        let phone = Phone::parse("5566374683").unwrap();
        let first = |item: Item| match &item["pk"] {
            aws_sdk_dynamodb::types::AttributeValue::S(pk) => {
                pk.split('#').next().unwrap().to_owned()
            }
            _ => unreachable!(),
        };
        let prefixes = [
            account_pk("C").split('#').next().unwrap().to_owned(),
            first(ledger_key("C", 1)),
            counter_key("C", LimitScope::Phone, &phone, now)
                .pk
                .split('#')
                .next()
                .unwrap()
                .to_owned(),
            idem_pk("C", &IdempotencyKey::parse("KEY#K").unwrap())
                .split('#')
                .next()
                .unwrap()
                .to_owned(),
            RATE_PK.split('#').next().unwrap().to_owned(),
            first(minute_key("C", now)),
        ];
        let comment = layout_comment();
        for prefix in prefixes {
            assert!(
                comment.contains(&format!("//   {prefix}#")),
                "the key-layout comment does not describe {prefix}#…:\n{comment}"
            );
        }
    }
}
