//! Per-account IP allowlists (the HAZ guide's optional "IP Whitelisting"). The caller's address
//! is the one API Gateway saw (`requestContext.identity.sourceIp` for a REST API,
//! `requestContext.http.sourceIp` for the HTTP-API payload `cargo lambda watch` sends), never a
//! header: `X-Forwarded-For` is whatever the client wrote.

use crate::api::partner::ApiError;
use crate::domain::Account;
use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};
use std::net::IpAddr;

/// One allowlist entry: an address block (`203.0.113.0/24`, `2001:db8::/32`) or a single
/// address (`198.51.100.7`, same as `/32` or `/128`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        let (addr, prefix) = match raw.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (raw, None),
        };
        let network: IpAddr = addr
            .parse()
            .map_err(|_| format!("{raw:?} is not an IP address or CIDR block"))?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("{raw:?}: prefix must be 0..={max}"))?,
        };
        let cidr = Self { network, prefix };
        if cidr.masked(network) != bits(network) {
            return Err(format!(
                "{raw:?} has host bits set (did you mean {}/{prefix}?)",
                cidr.network_text()
            ));
        }
        Ok(cidr)
    }

    fn masked(&self, ip: IpAddr) -> u128 {
        let (width, value) = (width(ip), bits(ip));
        if self.prefix == 0 {
            return 0;
        }
        let host_bits = u32::from(width - self.prefix);
        value >> host_bits << host_bits
    }

    fn network_text(&self) -> String {
        let masked = self.masked(self.network);
        match self.network {
            IpAddr::V4(_) => std::net::Ipv4Addr::from(masked as u32).to_string(),
            IpAddr::V6(_) => std::net::Ipv6Addr::from(masked).to_string(),
        }
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        ip.is_ipv4() == self.network.is_ipv4() && self.masked(ip) == self.masked(self.network)
    }
}

fn width(ip: IpAddr) -> u8 {
    if ip.is_ipv4() {
        32
    } else {
        128
    }
}

fn bits(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u128::from(u32::from(v4)),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

/// `::ffff:203.0.113.9` is the IPv4 address it carries.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

/// The caller's address as API Gateway (or the local emulator) recorded it.
pub fn source_ip(req: &Request) -> Option<IpAddr> {
    let ctx = req.request_context_ref()?;
    let raw = if let RequestContext::ApiGatewayV1(c) = ctx {
        c.identity.source_ip.as_deref()
    } else if let RequestContext::ApiGatewayV2(c) = ctx {
        c.http.source_ip.as_deref()
    } else {
        None
    }?;
    raw.trim().parse().ok()
}

/// Is `ip` allowed for this account? An empty list allows everyone. An unknown source address
/// never passes a non-empty list, and an entry that does not parse matches nothing (fail closed;
/// `relier-admin` refuses to store one).
pub fn allowed(account: &Account, ip: Option<IpAddr>) -> bool {
    if account.allowed_ips.is_empty() {
        return true;
    }
    let Some(ip) = ip else {
        return false;
    };
    account.allowed_ips.iter().any(|raw| match Cidr::parse(raw) {
        Ok(cidr) => cidr.contains(ip),
        Err(e) => {
            tracing::error!(customer_id = %account.customer_id, error = %e, "unparseable allowlist entry ignored");
            false
        }
    })
}

/// The reusable check (partner routes, distributor routes, dashboard sign-in):
/// 403 `{"success": false, "error": "IP not authorized"}` when the account has an allowlist
/// and the request's source address is not on it.
pub fn check(account: &Account, req: &Request) -> Result<(), ApiError> {
    let ip = source_ip(req);
    if allowed(account, ip) {
        Ok(())
    } else {
        tracing::info!(customer_id = %account.customer_id, source_ip = ?ip, "source address not on the allowlist");
        Err(ApiError::IpNotAuthorized)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn blocks_and_single_addresses_match_as_written() {
        // GIVEN a /24, a single address and an IPv6 block
        let block = Cidr::parse("203.0.113.0/24").unwrap();
        let single = Cidr::parse("198.51.100.7").unwrap();
        let v6 = Cidr::parse("2001:db8::/32").unwrap();
        // THEN membership is exact at the edges
        assert!(block.contains(ip("203.0.113.0")));
        assert!(block.contains(ip("203.0.113.255")));
        assert!(!block.contains(ip("203.0.114.0")));
        assert!(single.contains(ip("198.51.100.7")));
        assert!(!single.contains(ip("198.51.100.8")));
        assert!(v6.contains(ip("2001:db8:ffff::1")));
        assert!(!v6.contains(ip("2001:db9::1")));
        assert!(!v6.contains(ip("203.0.113.1")));
        // an IPv4-mapped IPv6 source is its IPv4 address
        assert!(block.contains(ip("::ffff:203.0.113.9")));
        assert!(Cidr::parse("0.0.0.0/0").unwrap().contains(ip("8.8.8.8")));
    }

    #[test]
    fn malformed_entries_are_refused() {
        for bad in [
            "",
            "10.0.0.0/33",
            "10.0.0.1/8",
            "not-an-ip",
            "10.0.0/8",
            "::1/129",
            "1.2.3.4/x",
        ] {
            assert!(Cidr::parse(bad).is_err(), "{bad:?}");
        }
    }
}
