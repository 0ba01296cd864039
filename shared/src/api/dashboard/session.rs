//! Dashboard sessions: a random 256-bit id in an `HttpOnly; SameSite=Strict` cookie (`Secure`
//! and the `__Host-` prefix outside SANDBOX). Only the id's SHA-256 is stored, with the
//! customer and an expiry 30 minutes ahead that slides with use (DynamoDB TTL removes stale
//! items; an expired item is refused even before TTL runs).

use super::ports::{SessionRecord, SessionStore};
use crate::domain::CustomerId;
use crate::ports::StoreError;
use chrono::{DateTime, Duration, Utc};
use sha2::{Digest, Sha256};

/// Idle lifetime of a session.
pub const SESSION_TTL_SECS: i64 = 30 * 60;
/// A session is re-extended at most this often (one write per minute of activity).
pub const EXTEND_AFTER_SECS: i64 = 60;

pub fn cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-relier_session"
    } else {
        "relier_session"
    }
}

pub fn new_id() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

pub fn hash_id(id: &str) -> String {
    hex::encode(Sha256::digest(id.as_bytes()))
}

/// `Set-Cookie` for a live session.
pub fn set_cookie(secure: bool, id: &str) -> String {
    format!(
        "{}={id}; Path=/; Max-Age={SESSION_TTL_SECS}; HttpOnly; SameSite=Strict{}",
        cookie_name(secure),
        if secure { "; Secure" } else { "" }
    )
}

/// `Set-Cookie` that removes the session cookie.
pub fn clear_cookie(secure: bool) -> String {
    format!(
        "{}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict{}",
        cookie_name(secure),
        if secure { "; Secure" } else { "" }
    )
}

/// The value of cookie `name` in a `Cookie` header.
pub fn read_cookie<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(';').find_map(|pair| {
        let (k, v) = pair.trim().split_once('=')?;
        (k == name).then_some(v)
    })
}

/// Only ids we could have issued are looked up (64 lowercase hex).
fn well_formed(id: &str) -> bool {
    id.len() == 64
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Create a session for `customer`; returns the id to put in the cookie.
pub async fn start(
    store: &dyn SessionStore,
    customer: &CustomerId,
    now: DateTime<Utc>,
) -> Result<String, StoreError> {
    let id = new_id();
    let record = SessionRecord {
        customer_id: customer.clone(),
        expires_at: now + Duration::seconds(SESSION_TTL_SECS),
    };
    store.create_session(&hash_id(&id), &record).await?;
    Ok(id)
}

/// The customer of a live session; extends it (sliding) when it was last extended over a
/// minute ago. An unknown, malformed or expired id is None.
pub async fn resume(
    store: &dyn SessionStore,
    id: &str,
    now: DateTime<Utc>,
) -> Result<Option<CustomerId>, StoreError> {
    if !well_formed(id) {
        return Ok(None);
    }
    let key = hash_id(id);
    let Some(record) = store.get_session(&key).await? else {
        return Ok(None);
    };
    if record.expires_at <= now {
        store.delete_session(&key).await?;
        return Ok(None);
    }
    let full = now + Duration::seconds(SESSION_TTL_SECS);
    if full - record.expires_at >= Duration::seconds(EXTEND_AFTER_SECS) {
        store.extend_session(&key, full).await?;
    }
    Ok(Some(record.customer_id))
}

/// End a session (sign-out). Unknown ids are fine.
pub async fn end(store: &dyn SessionStore, id: &str) -> Result<(), StoreError> {
    if well_formed(id) {
        store.delete_session(&hash_id(id)).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_httponly_strict_and_secure_outside_sandbox() {
        // GIVEN a session id WHEN the cookie is built THEN it has the required attributes
        let id = new_id();
        assert_eq!(id.len(), 64);
        let prod = set_cookie(true, &id);
        assert!(prod.starts_with("__Host-relier_session="));
        for attr in [
            "HttpOnly",
            "SameSite=Strict",
            "Secure",
            "Path=/",
            "Max-Age=1800",
        ] {
            assert!(prod.contains(attr), "{attr}");
        }
        let sandbox = set_cookie(false, &id);
        assert!(!sandbox.contains("Secure") && sandbox.contains("HttpOnly"));
        assert!(clear_cookie(false).contains("Max-Age=0"));
    }

    #[test]
    fn cookie_header_parsing() {
        let h = "a=1; relier_session=abc; relier_lang=en";
        assert_eq!(read_cookie(h, "relier_session"), Some("abc"));
        assert_eq!(read_cookie(h, "missing"), None);
        assert!(!well_formed("abc") && well_formed(&new_id()));
        assert_ne!(hash_id("x"), "x");
    }
}
