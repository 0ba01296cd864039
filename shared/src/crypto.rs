//! One crypto backend for the whole binary: ring.
//!
//! The AWS SDK's default HTTPS client, reqwest's `rustls` feature and jsonwebtoken's `aws_lc_rs`
//! feature each pull in aws-lc-rs, about 1.5 MB of every function binary (issue 14, size).
//! Instead: the SDK gets a hyper/rustls client built on ring (`config::aws_sdk_config`),
//! reqwest uses the process-wide rustls provider installed here, and the distributor tokens
//! (HS256 only) are signed and checked with ring's HMAC through a jsonwebtoken provider.

use jsonwebtoken::crypto::{CryptoProvider, JwkUtils, JwtSigner, JwtVerifier};
use jsonwebtoken::errors::{ErrorKind, Result as JwtResult};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use signature::{Signer, Verifier};

/// Install ring as the process's rustls and jsonwebtoken provider. Idempotent; call it before
/// building a reqwest client or signing/verifying a token.
pub fn install() {
    // Err means a provider is already installed (this function ran before): nothing to do.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let _ = HS256_ONLY.install_default();
}

/// The AWS SDK's HTTP client: hyper + rustls with ring (same pool and timeouts as the default).
pub fn sdk_http_client() -> aws_sdk_dynamodb::config::SharedHttpClient {
    use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
    aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https()
}

/// jsonwebtoken provider for HS256 only: any other algorithm is refused as unsupported (the
/// distributor API issues and accepts HS256 tokens only; `Validation` pins it as well).
static HS256_ONLY: CryptoProvider = CryptoProvider {
    signer_factory: hs256_signer,
    verifier_factory: hs256_verifier,
    jwk_utils: JwkUtils::new_unimplemented(),
};

struct Hs256(ring::hmac::Key);

impl Hs256 {
    fn new(alg: &Algorithm, secret: JwtResult<&[u8]>) -> JwtResult<Self> {
        if *alg != Algorithm::HS256 {
            return Err(ErrorKind::InvalidAlgorithm.into());
        }
        Ok(Self(ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret?)))
    }
}

fn hs256_signer(alg: &Algorithm, key: &EncodingKey) -> JwtResult<Box<dyn JwtSigner>> {
    Ok(Box::new(Hs256::new(alg, key.try_get_hmac_secret())?))
}

fn hs256_verifier(alg: &Algorithm, key: &DecodingKey) -> JwtResult<Box<dyn JwtVerifier>> {
    Ok(Box::new(Hs256::new(alg, key.try_get_hmac_secret())?))
}

impl Signer<Vec<u8>> for Hs256 {
    fn try_sign(&self, msg: &[u8]) -> Result<Vec<u8>, signature::Error> {
        Ok(ring::hmac::sign(&self.0, msg).as_ref().to_vec())
    }
}

impl Verifier<Vec<u8>> for Hs256 {
    /// Constant-time comparison (ring).
    fn verify(&self, msg: &[u8], tag: &Vec<u8>) -> Result<(), signature::Error> {
        ring::hmac::verify(&self.0, msg, tag).map_err(|_| signature::Error::new())
    }
}

impl JwtSigner for Hs256 {
    fn algorithm(&self) -> Algorithm {
        Algorithm::HS256
    }
}

impl JwtVerifier for Hs256 {
    fn algorithm(&self) -> Algorithm {
        Algorithm::HS256
    }
}

#[cfg(test)]
mod tests {
    use super::install;
    use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
    use serde_json::{json, Value};

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    #[test]
    fn given_rfc7515_example_when_verified_then_the_hs256_signature_matches() {
        // GIVEN the HS256 example of RFC 7515 appendix A.1 (key and token from the RFC)
        install();
        let key = "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow";
        let key =
            DecodingKey::from_base64_secret(&(key.replace('-', "+").replace('_', "/") + "=="))
                .expect("key");
        let token = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        // WHEN it is verified (the RFC's exp is in 2011: not validated here)
        let mut validation = Validation::new(Algorithm::HS256);
        validation.validate_exp = false;
        validation.required_spec_claims.clear();
        let data = decode::<Value>(token, &key, &validation).expect("valid RFC signature");
        // THEN the claims are the RFC's
        assert_eq!(data.claims["iss"], "joe");
    }

    #[test]
    fn given_a_token_when_tampered_or_signed_with_another_key_then_refused() {
        install();
        let claims = json!({"sub": "SMARTBIZ_001", "exp": 4_000_000_000u64});
        let token = encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(SECRET),
        )
        .expect("signed");
        let validation = Validation::new(Algorithm::HS256);
        let ok = decode::<Value>(&token, &DecodingKey::from_secret(SECRET), &validation);
        assert_eq!(ok.expect("valid").claims, claims);
        // another key
        let other = DecodingKey::from_secret(b"another-secret-another-secret-xx");
        assert!(decode::<Value>(&token, &other, &validation).is_err());
        // a flipped signature character
        let mut bad = token.clone().into_bytes();
        let last = bad.len() - 2;
        bad[last] = if bad[last] == b'A' { b'B' } else { b'A' };
        let bad = String::from_utf8(bad).expect("ascii");
        let refused = decode::<Value>(&bad, &DecodingKey::from_secret(SECRET), &validation);
        assert!(refused.is_err());
    }

    #[test]
    fn given_another_algorithm_when_signing_then_unsupported() {
        install();
        let header = Header::new(Algorithm::HS512);
        let signed = encode(
            &header,
            &json!({"sub": "x"}),
            &EncodingKey::from_secret(SECRET),
        );
        assert!(signed.is_err());
    }
}
