//! Standard Webhooks signatures (standardwebhooks.com): `webhook-signature` is
//! `v1,<base64 HMAC-SHA256 of "{webhook-id}.{webhook-timestamp}.{body}">`, keyed with the
//! base64-decoded part of the `whsec_…` secret; several space-separated signatures during a
//! secret rotation.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use sha2::{Digest, Sha256};

const PREFIX: &str = "whsec_";
/// 24 random bytes, as the spec suggests (between 24 and 64 bytes).
const SECRET_BYTES: usize = 24;

/// A symmetric signing secret. Shown to the partner once as `whsec_<base64>`; stored so the
/// dispatcher can sign (a signing secret must be recoverable, unlike an API key).
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret(Vec<u8>);

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret(…)")
    }
}

impl WebhookSecret {
    pub fn generate() -> Self {
        use rand::RngCore;
        let mut key = vec![0u8; SECRET_BYTES];
        rand::rng().fill_bytes(&mut key);
        Self(key)
    }

    /// `whsec_<base64>` (the `whsec_` prefix is optional, as in the reference libraries).
    pub fn parse(text: &str) -> Result<Self, String> {
        let b64 = text.trim().strip_prefix(PREFIX).unwrap_or(text.trim());
        let key = B64
            .decode(b64)
            .map_err(|_| "webhook secret is not base64".to_owned())?;
        if key.is_empty() {
            return Err("webhook secret is empty".into());
        }
        Ok(Self(key))
    }

    /// The `whsec_…` text (what the partner configures in its verifier).
    pub fn expose(&self) -> String {
        format!("{PREFIX}{}", B64.encode(&self.0))
    }

    /// `v1,<base64 signature>` of one message.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let mut content = Vec::with_capacity(id.len() + body.len() + 24);
        content.extend_from_slice(id.as_bytes());
        content.push(b'.');
        content.extend_from_slice(timestamp.to_string().as_bytes());
        content.push(b'.');
        content.extend_from_slice(body);
        format!("v1,{}", B64.encode(hmac_sha256(&self.0, &content)))
    }
}

/// The `webhook-signature` header value: one `v1,…` per active secret, space-separated.
pub fn signature_header(
    secrets: &[WebhookSecret],
    id: &str,
    timestamp: i64,
    body: &[u8],
) -> String {
    secrets
        .iter()
        .map(|s| s.sign(id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ")
}

/// True when any `v1,` signature in `header` matches `secret` (constant-time compare).
pub fn verify(secret: &WebhookSecret, id: &str, timestamp: i64, body: &[u8], header: &str) -> bool {
    use subtle::ConstantTimeEq;
    let expected = secret.sign(id, timestamp, body);
    header
        .split(' ')
        .any(|sig| sig.as_bytes().ct_eq(expected.as_bytes()).into())
}

/// HMAC-SHA256 (RFC 2104) over the workspace's `sha2`.
fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut block_key = [0u8; BLOCK];
    if key.len() > BLOCK {
        block_key[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block_key[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(block_key.map(|b| b ^ 0x36));
    inner.update(message);
    let mut outer = Sha256::new();
    outer.update(block_key.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_the_specs_published_test_vector() {
        // GIVEN the Standard Webhooks reference vector
        let secret = WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let (id, ts, body) = (
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        );
        // WHEN we sign it THEN we get the published signature, and it verifies
        let sig = secret.sign(id, ts, body);
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        assert!(verify(&secret, id, ts, body, &sig));
        // a changed body, id or timestamp does not verify
        assert!(!verify(&secret, id, ts, br#"{"test": 2432232315}"#, &sig));
        assert!(!verify(&secret, "msg_other", ts, body, &sig));
        assert!(!verify(&secret, id, ts + 1, body, &sig));
    }

    #[test]
    fn hmac_matches_rfc_4231_test_case_2() {
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // keys longer than the block are hashed first (RFC 4231 test case 6)
        let mac = hmac_sha256(
            &[0xaa; 131],
            b"Test Using Larger Than Block-Size Key - Hash Key First",
        );
        assert_eq!(
            hex::encode(mac),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn rotation_sends_one_signature_per_secret_and_either_verifies() {
        let (old, new) = (WebhookSecret::generate(), WebhookSecret::generate());
        let header = signature_header(&[new.clone(), old.clone()], "msg_1", 1700000000, b"{}");
        assert_eq!(header.split(' ').count(), 2);
        assert!(verify(&old, "msg_1", 1700000000, b"{}", &header));
        assert!(verify(&new, "msg_1", 1700000000, b"{}", &header));
        assert!(!verify(
            &WebhookSecret::generate(),
            "msg_1",
            1700000000,
            b"{}",
            &header
        ));
    }

    #[test]
    fn secrets_round_trip_through_their_whsec_text_and_never_debug_print() {
        let s = WebhookSecret::generate();
        let text = s.expose();
        assert!(text.starts_with("whsec_"));
        assert_eq!(WebhookSecret::parse(&text).unwrap(), s);
        assert!(!format!("{s:?}").contains(&text[6..]));
        assert!(WebhookSecret::parse("whsec_!!!").is_err());
        assert!(WebhookSecret::parse("whsec_").is_err());
    }
}
