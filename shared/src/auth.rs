//! Partner authentication: `x-api-key` + `x-customer-id`. Keys are stored only as SHA-256
//! hashes (they are high-entropy) and compared in constant time.

use crate::domain::CustomerId;
use crate::error::ApiError;
use crate::store::{Account, AccountReader};
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

/// The account the credentials belong to. Unknown customer, wrong key, another customer's
/// key and disabled accounts are all the same 401: nothing tells which part was wrong.
pub async fn authenticate(
    accounts: &dyn AccountReader,
    api_key: Option<&str>,
    customer_id: Option<&str>,
) -> Result<Account, ApiError> {
    let (Some(key), Some(customer)) = (
        api_key.map(str::trim).filter(|k| !k.is_empty()),
        customer_id.map(str::trim).filter(|c| !c.is_empty()),
    ) else {
        return Err(ApiError::MissingCredentials);
    };
    let customer = CustomerId::parse(customer).map_err(|_| ApiError::InvalidCredentials)?;
    let account = accounts
        .get_account(&customer)
        .await
        .map_err(|e| ApiError::ServiceUnavailable(e.to_string()))?
        .ok_or(ApiError::InvalidCredentials)?;
    if !key_matches(key, &account.api_key_hashes) || !account.active {
        return Err(ApiError::InvalidCredentials);
    }
    Ok(account)
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
