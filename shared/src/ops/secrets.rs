//! New secrets: API keys, reconcile keys and distributor secrets. Printed once by the admin
//! tool, stored only as SHA-256 hex (`auth::hash_key`), shown afterwards only by prefix.

use rand::Rng;

const BASE62: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
/// 40 base62 characters = 238 random bits.
const RANDOM_CHARS: usize = 40;
/// How much of a key is kept in clear to name it (`key list`, `key revoke ID PREFIX`).
pub const PREFIX_LEN: usize = 12;

/// Which kind of secret: decides the visible tag at its start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretKind {
    /// `x-api-key` of the partner API (also an API Gateway usage-plan key: ≥ 20 chars).
    ApiKey,
    /// `x-reconcile-key` of the reconciliation export.
    ReconcileKey,
    /// The distributor API's `secret_key` (login).
    DistributorSecret,
}

impl SecretKind {
    fn tag(self) -> &'static str {
        match self {
            SecretKind::ApiKey => "rlr_",
            SecretKind::ReconcileKey => "rrk_",
            SecretKind::DistributorSecret => "RDS_",
        }
    }
}

/// A fresh random secret: a 4-character tag and 40 base62 characters (44 in all).
pub fn generate(kind: SecretKind) -> String {
    let mut rng = rand::rng();
    let mut out = String::with_capacity(4 + RANDOM_CHARS);
    out.push_str(kind.tag());
    for _ in 0..RANDOM_CHARS {
        out.push(BASE62[rng.random_range(0..BASE62.len())] as char);
    }
    out
}

/// The part of a secret that may be shown and stored in clear.
pub fn prefix(secret: &str) -> String {
    secret.chars().take(PREFIX_LEN).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_long_random_and_tagged() {
        let a = generate(SecretKind::ApiKey);
        let b = generate(SecretKind::ApiKey);
        assert_ne!(a, b);
        assert_eq!(a.len(), 44);
        assert!(a.starts_with("rlr_"));
        assert!(generate(SecretKind::ReconcileKey).starts_with("rrk_"));
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_'));
        assert_eq!(prefix(&a).len(), PREFIX_LEN);
        assert!(a.starts_with(&prefix(&a)));
    }
}
