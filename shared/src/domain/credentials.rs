//! Credentials are stored only as SHA-256 hashes (API keys and distributor secrets are
//! high-entropy) and compared in constant time.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

pub fn hash_key(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// Does `key` hash to one of `hashes`? Every candidate is compared, in constant time.
pub fn key_matches(key: &str, hashes: &[String]) -> bool {
    let candidate = hash_key(key);
    let mut found = subtle::Choice::from(0u8);
    for h in hashes {
        if h.len() == candidate.len() {
            found |= h.as_bytes().ct_eq(candidate.as_bytes());
        }
    }
    found.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_sha256_hex() {
        assert_eq!(
            hash_key("haz_prod_2025"),
            hex::encode(Sha256::digest(b"haz_prod_2025"))
        );
        assert_eq!(hash_key("x").len(), 64);
    }

    #[test]
    fn key_matching() {
        let hashes = vec![hash_key("old"), hash_key("new")];
        assert!(key_matches("new", &hashes));
        assert!(key_matches("old", &hashes));
        assert!(!key_matches("other", &hashes));
        assert!(!key_matches("new", &[]));
        assert!(!key_matches("new", &["short".to_owned()]));
    }
}
