//! The distributor API's JWTs: HS256 access (1 h, the guide's `expires_in: 3600`) and
//! refresh (30 days) tokens.

use crate::domain::CustomerId;
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// Access tokens live one hour (the guide's `expires_in: 3600`); refresh tokens 30 days.
pub const ACCESS_TTL_SECS: i64 = 3600;
pub const REFRESH_TTL_SECS: i64 = 30 * 24 * 3600;

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    typ: String,
    iat: i64,
    exp: i64,
}

/// Signs and checks the distributor JWTs (HS256 with a secret from Secrets Manager).
pub struct TokenIssuer {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl TokenIssuer {
    pub fn new(secret: &[u8]) -> Result<Self, String> {
        if secret.len() < 32 {
            return Err("the distributor JWT secret must be at least 32 bytes".into());
        }
        crate::crypto::install();
        Ok(Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
        })
    }

    fn token(&self, customer: &CustomerId, typ: &str, ttl: i64) -> String {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: customer.as_str().to_owned(),
            typ: typ.to_owned(),
            iat: now,
            exp: now + ttl,
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .expect("HS256 signing cannot fail")
    }

    pub(super) fn pair(&self, customer: &CustomerId) -> Value {
        json!({
            "success": true,
            "access_token": self.token(customer, "access", ACCESS_TTL_SECS),
            "refresh_token": self.token(customer, "refresh", REFRESH_TTL_SECS),
            "token_type": "Bearer",
            "expires_in": ACCESS_TTL_SECS,
        })
    }

    /// The customer a valid, unexpired token of type `typ` was issued to.
    pub(super) fn verify(&self, token: &str, typ: &str) -> Option<CustomerId> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        let data = decode::<Claims>(token, &self.decoding, &validation).ok()?;
        (data.claims.typ == typ)
            .then(|| CustomerId::parse(&data.claims.sub).ok())
            .flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_types_do_not_mix() {
        let issuer = TokenIssuer::new(b"0123456789abcdef0123456789abcdef").unwrap();
        let c = CustomerId::parse("SMARTBIZ_001").unwrap();
        let pair = issuer.pair(&c);
        let access = pair["access_token"].as_str().unwrap();
        let refresh = pair["refresh_token"].as_str().unwrap();
        assert_eq!(issuer.verify(access, "access"), Some(c.clone()));
        assert_eq!(issuer.verify(refresh, "refresh"), Some(c));
        assert_eq!(issuer.verify(access, "refresh"), None);
        assert_eq!(issuer.verify(refresh, "access"), None);
        assert_eq!(issuer.verify("not.a.token", "access"), None);
        let other = TokenIssuer::new(b"another-secret-another-secret-xx").unwrap();
        assert_eq!(other.verify(access, "access"), None);
        assert!(TokenIssuer::new(b"short").is_err());
        assert_eq!(pair["expires_in"], json!(3600));
        assert_eq!(pair["token_type"], json!("Bearer"));
    }
}
