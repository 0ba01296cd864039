//! Where webhooks may be sent (SSRF guard). PRODUCTION: `https` only, and every address the
//! host resolves to must be public — never loopback, private, link-local, metadata, CGNAT,
//! multicast or unspecified. The check runs at send time on the resolved address, and the
//! connection is pinned to the checked address (no DNS rebinding between check and connect).
//! SANDBOX also allows `http` and loopback/private addresses (a receiver on 127.0.0.1), but
//! never link-local/metadata.

use crate::config::Mode;
use reqwest::Url;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// Parse and check a webhook URL's shape for `mode` (scheme, host, no credentials).
pub fn check_url(raw: &str, mode: Mode) -> Result<Url, String> {
    let url = Url::parse(raw.trim()).map_err(|e| format!("invalid URL: {e}"))?;
    match (url.scheme(), mode) {
        ("https", _) | ("http", Mode::Sandbox) => {}
        ("http", Mode::Production) => return Err("webhook URLs must use https".into()),
        (other, _) => return Err(format!("unsupported URL scheme {other}")),
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("webhook URL has no host".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("webhook URL must not carry credentials".into());
    }
    if let Some(ip) = literal_ip(&url) {
        if !address_allowed(ip, mode) {
            return Err(format!("webhook address {ip} is not allowed"));
        }
    }
    Ok(url)
}

fn literal_ip(url: &Url) -> Option<IpAddr> {
    let host = url.host_str()?;
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .ok()
}

/// May a webhook connect to `ip` in `mode`?
pub fn address_allowed(ip: IpAddr, mode: Mode) -> bool {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    };
    if never_allowed(ip) {
        return false;
    }
    match mode {
        Mode::Sandbox => true,
        Mode::Production => !internal(ip),
    }
}

/// Link-local (incl. the 169.254.169.254 / fd00:ec2::254 metadata services), unspecified,
/// multicast, broadcast: refused in every mode.
fn never_allowed(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            v4.is_link_local() || v4.is_unspecified() || v4.is_multicast() || v4.is_broadcast()
        }
        IpAddr::V6(v6) => {
            (v6.segments()[0] & 0xffc0) == 0xfe80
                || v6.is_unspecified()
                || v6.is_multicast()
                || v6 == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254)
        }
    }
}

/// Loopback, private, shared (CGNAT), documentation, reserved, unique-local: PRODUCTION refuses.
fn internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 192 && b == 0)
                || (a == 198 && (18..20).contains(&b))
                || a >= 240
        }
        IpAddr::V6(v6) => {
            v6.is_loopback()
                || (v6.segments()[0] & 0xfe00) == 0xfc00
                || (v6.segments()[0] == 0x2001 && v6.segments()[1] == 0x0db8)
                || v6.segments()[..6] == [0, 0, 0, 0, 0, 0] // IPv4-compatible (deprecated)
        }
    }
}

/// Resolve the URL's host and check EVERY address; returns the one to connect to.
pub async fn resolve_checked(url: &Url, mode: Mode) -> Result<SocketAddr, String> {
    let port = url
        .port_or_known_default()
        .ok_or_else(|| "webhook URL has no port".to_owned())?;
    if let Some(ip) = literal_ip(url) {
        return if address_allowed(ip, mode) {
            Ok(SocketAddr::new(ip, port))
        } else {
            Err(format!("webhook address {ip} is not allowed"))
        };
    }
    let host = url.host_str().unwrap_or_default();
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| format!("cannot resolve {host}: {e}"))?
        .collect();
    if addrs.is_empty() {
        return Err(format!("{host} resolves to no address"));
    }
    if let Some(bad) = addrs.iter().find(|a| !address_allowed(a.ip(), mode)) {
        return Err(format!(
            "{host} resolves to {} which is not allowed",
            bad.ip()
        ));
    }
    Ok(addrs[0])
}

/// For tests and docs: the AWS instance metadata address.
pub const METADATA_V4: Ipv4Addr = Ipv4Addr::new(169, 254, 169, 254);

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn production_refuses_internal_addresses_and_plain_http() {
        for bad in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fe80::1",
            "fd00:ec2::254",
            "fc00::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
        ] {
            assert!(!address_allowed(ip(bad), Mode::Production), "{bad}");
        }
        for good in ["93.184.216.34", "8.8.8.8", "2606:4700::1111"] {
            assert!(address_allowed(ip(good), Mode::Production), "{good}");
        }
        assert!(check_url("http://example.com/hook", Mode::Production).is_err());
        assert!(check_url("https://10.0.0.5/hook", Mode::Production).is_err());
        assert!(check_url("https://[::1]/hook", Mode::Production).is_err());
        assert!(check_url("https://user:pw@example.com/hook", Mode::Production).is_err());
        assert!(check_url("ftp://example.com/hook", Mode::Production).is_err());
        assert!(check_url("https://example.com/hook", Mode::Production).is_ok());
    }

    #[test]
    fn sandbox_allows_a_local_receiver_but_never_metadata() {
        assert!(check_url("http://127.0.0.1:8123/hook", Mode::Sandbox).is_ok());
        assert!(check_url("http://169.254.169.254/latest/meta-data", Mode::Sandbox).is_err());
        assert!(!address_allowed(IpAddr::V4(METADATA_V4), Mode::Sandbox));
    }

    #[tokio::test]
    async fn the_resolved_address_is_checked_at_send_time() {
        // GIVEN a name that resolves to loopback WHEN checked for PRODUCTION THEN refused
        let url = Url::parse("https://localhost:8443/hook").unwrap();
        let err = resolve_checked(&url, Mode::Production).await.unwrap_err();
        assert!(err.contains("not allowed"), "{err}");
        // and in SANDBOX the same name is fine
        let addr = resolve_checked(&url, Mode::Sandbox).await.unwrap();
        assert!(addr.ip().is_loopback());
        assert_eq!(addr.port(), 8443);
    }
}
