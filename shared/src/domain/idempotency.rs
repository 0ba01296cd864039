//! The key a top-up's debit claims, so that a retried request is answered and never charged
//! twice. Three sources, kept apart by a prefix in what is stored.

use super::ids::Reference;
use std::fmt;

/// Where a top-up's de-duplication key came from. Each variant carries the text the caller
/// sent, validated as a [`Reference`] (1-128 printable ASCII characters).
///
/// Stored as [`IdempotencyKey::render`] (`REF#…`, `KEY#…`, `DIST#…`) in the transaction's
/// `idempotency_key` attribute and in its claim item's key (`IDEM#{customer}#{rendered}`), so
/// the same text from two sources never collides.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum IdempotencyKey {
    /// The partner API body's `reference` (seed 000/001).
    Reference(Reference),
    /// The partner API's `Idempotency-Key` header, used when there is no `reference`.
    Header(Reference),
    /// The distributor API's `distributor_transaction_id` (seed 002).
    Distributor(Reference),
}

const REFERENCE_PREFIX: &str = "REF#";
const HEADER_PREFIX: &str = "KEY#";
const DISTRIBUTOR_PREFIX: &str = "DIST#";

impl IdempotencyKey {
    /// The partner API's rule: the body's `reference` wins over the `Idempotency-Key` header;
    /// neither means no de-duplication.
    pub fn for_partner(reference: Option<&Reference>, header: Option<Reference>) -> Option<Self> {
        match (reference, header) {
            (Some(r), _) => Some(Self::Reference(r.clone())),
            (None, Some(k)) => Some(Self::Header(k)),
            (None, None) => None,
        }
    }

    /// The text the caller sent (without our prefix).
    pub fn value(&self) -> &Reference {
        match self {
            Self::Reference(r) | Self::Header(r) | Self::Distributor(r) => r,
        }
    }

    fn prefix(&self) -> &'static str {
        match self {
            Self::Reference(_) => REFERENCE_PREFIX,
            Self::Header(_) => HEADER_PREFIX,
            Self::Distributor(_) => DISTRIBUTOR_PREFIX,
        }
    }

    /// The stored form: `REF#{reference}`, `KEY#{header}` or `DIST#{distributor id}`. The
    /// only place these strings are built; existing items depend on them byte for byte.
    pub fn render(&self) -> String {
        format!("{}{}", self.prefix(), self.value().as_str())
    }

    /// The inverse of [`IdempotencyKey::render`]: a stored key read back. Anything without
    /// one of the three prefixes, or whose text is not a valid [`Reference`], is an error.
    pub fn parse(stored: &str) -> Result<Self, String> {
        type Variant = fn(Reference) -> IdempotencyKey;
        let variants: [(&str, Variant); 3] = [
            (REFERENCE_PREFIX, Self::Reference),
            (HEADER_PREFIX, Self::Header),
            (DISTRIBUTOR_PREFIX, Self::Distributor),
        ];
        for (prefix, variant) in variants {
            if let Some(text) = stored.strip_prefix(prefix) {
                return Reference::parse(text)
                    .map(variant)
                    .map_err(|e| format!("idempotency key `{stored}`: {e}"));
            }
        }
        Err(format!(
            "idempotency key `{stored}` has none of the prefixes REF#, KEY#, DIST#"
        ))
    }
}

impl fmt::Display for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(text: &str) -> Reference {
        Reference::parse(text).unwrap()
    }

    #[test]
    fn the_stored_strings_are_pinned() {
        // GIVEN one key of each source
        // WHEN they are rendered for DynamoDB
        // THEN the bytes are exactly what existing items hold
        assert_eq!(
            IdempotencyKey::Reference(r("ORDER_12345")).render(),
            "REF#ORDER_12345"
        );
        assert_eq!(IdempotencyKey::Header(r("K-1")).render(), "KEY#K-1");
        assert_eq!(
            IdempotencyKey::Distributor(r("MY-TXN-001")).render(),
            "DIST#MY-TXN-001"
        );
        assert_eq!(
            IdempotencyKey::Header(r("a b#c")).to_string(),
            "KEY#a b#c",
            "Display is the stored form"
        );
    }

    #[test]
    fn stored_keys_parse_back_to_the_same_key() {
        for key in [
            IdempotencyKey::Reference(r("R1")),
            IdempotencyKey::Header(r("KEY#nested")),
            IdempotencyKey::Distributor(r("D#1")),
        ] {
            assert_eq!(IdempotencyKey::parse(&key.render()).unwrap(), key);
        }
        assert_eq!(
            IdempotencyKey::parse("KEY#KEY#x").unwrap().value().as_str(),
            "KEY#x",
            "only the first prefix is ours"
        );
    }

    #[test]
    fn anything_else_is_refused() {
        for bad in [
            "",
            "R1",
            "REF#",
            "ref#R1",
            "IDEM#R1",
            "DIST#\u{7f}",
            "KEY#é",
        ] {
            assert!(IdempotencyKey::parse(bad).is_err(), "{bad:?}");
        }
        let long = format!("REF#{}", "x".repeat(129));
        assert!(IdempotencyKey::parse(&long).is_err());
    }

    #[test]
    fn the_reference_wins_over_the_header() {
        let reference = r("R1");
        assert_eq!(
            IdempotencyKey::for_partner(Some(&reference), Some(r("K1"))),
            Some(IdempotencyKey::Reference(r("R1")))
        );
        assert_eq!(
            IdempotencyKey::for_partner(None, Some(r("K1"))),
            Some(IdempotencyKey::Header(r("K1")))
        );
        assert_eq!(IdempotencyKey::for_partner(None, None), None);
    }
}
