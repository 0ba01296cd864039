//! Identifiers parsed once at the boundary: phones, customer ids, references, transaction ids.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A 10-digit Mexican phone number, no country code (e.g. `5566374683`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Phone(String);

impl Phone {
    /// Exactly 10 ASCII digits; Mexican numbers never start with 0 or 1.
    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.len() != 10 || !raw.bytes().all(|b| b.is_ascii_digit()) {
            return Err("phone must be exactly 10 digits with no spaces or country code".into());
        }
        if raw.starts_with('0') || raw.starts_with('1') {
            return Err("phone is not a valid Mexican number (cannot start with 0 or 1)".into());
        }
        Ok(Self(raw.to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
/// Partner account identifier (`HAZ_001`): 1-64 chars of `[A-Za-z0-9_-]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CustomerId(String);

impl CustomerId {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let ok = !raw.is_empty()
            && raw.len() <= 64
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err("invalid customer id".into())
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CustomerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A partner's own order reference / idempotency key: 1-128 printable ASCII chars.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Reference(String);

impl Reference {
    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.is_empty() || raw.len() > 128 {
            return Err("reference must be 1 to 128 characters".into());
        }
        if !raw.bytes().all(|b| (0x20..0x7f).contains(&b)) {
            return Err("reference must be printable ASCII".into());
        }
        Ok(Self(raw.to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Our public transaction id: `RLR` + 26 base32 chars = 130 random bits. Unguessable, because
/// `GET /api/transaction/{id}` is unauthenticated per the seeds and the id is the only secret.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TransactionId(String);

const ID_ALPHABET: &[u8; 32] = b"ABCDEFGHJKMNPQRSTVWXYZ0123456789";
const ID_RANDOM_CHARS: usize = 26;

impl TransactionId {
    pub fn generate() -> Self {
        use rand::Rng;
        let mut rng = rand::rng();
        let mut s = String::with_capacity(3 + ID_RANDOM_CHARS);
        s.push_str("RLR");
        for _ in 0..ID_RANDOM_CHARS {
            s.push(ID_ALPHABET[rng.random_range(0..32)] as char);
        }
        Self(s)
    }
    /// Accepts any id we could have issued (also older/other formats up to 64 safe chars),
    /// so lookups never 500 on odd input.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let ok = raw.len() >= 4
            && raw.len() <= 64
            && raw.starts_with("RLR")
            && raw.bytes().all(|b| b.is_ascii_alphanumeric());
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err("invalid transaction id".into())
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TransactionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn phone_validation() {
        assert!(Phone::parse("5566374683").is_ok());
        assert!(Phone::parse("556637468").is_err());
        assert!(Phone::parse("55663746833").is_err());
        assert!(Phone::parse("+525566374").is_err());
        assert!(Phone::parse("0566374683").is_err());
        assert!(Phone::parse("1566374683").is_err());
        assert!(Phone::parse("55 6637468").is_err());
        assert!(Phone::parse("５５６６３７４６８３").is_err());
    }
    #[test]
    fn transaction_ids_are_long_random_and_parse_back() {
        let a = TransactionId::generate();
        let b = TransactionId::generate();
        assert_ne!(a, b);
        assert_eq!(a.as_str().len(), 29);
        assert!(a.as_str().starts_with("RLR"));
        assert_eq!(TransactionId::parse(a.as_str()).unwrap(), a);
        assert!(TransactionId::parse("RLR../../etc").is_err());
        assert!(TransactionId::parse("XYZ123").is_err());
    }
    proptest! {
        #[test]
        fn phone_parse_accepts_only_ten_digit_mx_numbers(s in "\\PC{0,14}") {
            if let Ok(p) = Phone::parse(&s) {
                prop_assert_eq!(p.as_str().len(), 10);
                prop_assert!(p.as_str().bytes().all(|b| b.is_ascii_digit()));
                prop_assert!(!p.as_str().starts_with('0') && !p.as_str().starts_with('1'));
            }
        }
    }
}
