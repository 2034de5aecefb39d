//! `AWS_LAMBDA_RUNTIME_API`: `host:port` split and resolved to a socket address, without DNS.
//!
//! Lambda sets the variable to an IPv4 literal (`127.0.0.1:9001`). A bracketed IPv6 literal
//! works too, and the name `localhost` (any case) is `127.0.0.1`, as RFC 6761 reserves it.
//! Other names are not resolved: that would take a resolver library, which allocates.

use core::net::{Ipv4Addr, Ipv6Addr, SocketAddr};

use crate::ascii;
use crate::sys;

/// Where the Runtime API is: its address and the `Host` header value (the variable's value).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoint {
    /// The address to connect to.
    pub addr: SocketAddr,
    /// `host:port` as the variable gives it.
    pub host: &'static [u8],
}

/// Why the variable does not name an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndpointError {
    /// Not `host:port` or `[v6]:port` with a port from 1 to 65535.
    Malformed,
    /// The host is neither an IP address nor `localhost`.
    Unknown,
}

/// The host part of the endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Host<'a> {
    /// Written in brackets: must be an IPv6 literal.
    Bracketed(&'a [u8]),
    /// An IPv4 literal, or otherwise a name.
    Plain(&'a [u8]),
}

/// Resolves `value` (`host:port`) to an endpoint.
pub fn resolve(value: &'static [u8]) -> Result<Endpoint, EndpointError> {
    let (host, port) = split(value).ok_or(EndpointError::Malformed)?;
    let ip = match host {
        Host::Bracketed(text) => sys::parse_ipv6(text).map(|octets| Ipv6Addr::from(octets).into()),
        Host::Plain(text) if ascii::eq_ignore_case(text, b"localhost") => Some(Ipv4Addr::LOCALHOST.into()),
        Host::Plain(text) => sys::parse_ipv4(text).map(|octets| Ipv4Addr::from(octets).into()),
    };
    let ip = ip.ok_or(EndpointError::Unknown)?;
    Ok(Endpoint { addr: SocketAddr::new(ip, port), host: value })
}

/// Splits `host:port` or `[v6]:port` at the last colon. The port must be 1 to 65535, the
/// host 1 to 255 bytes (an unbracketed one with a colon is no address: [`resolve`] says so).
fn split(value: &[u8]) -> Option<(Host<'_>, u16)> {
    let colon = value.iter().rposition(|&b| b == b':')?;
    let (host, port) = value.split_at_checked(colon)?;
    let port = ascii::parse_decimal(port.get(1..)?)?;
    let port = u16::try_from(port).ok().filter(|&p| p != 0)?;
    let host = match host {
        [b'[', inner @ .., b']'] => Host::Bracketed(inner),
        [b'[', ..] => return None,
        _ => Host::Plain(host),
    };
    let (Host::Bracketed(text) | Host::Plain(text)) = host;
    (1..=255).contains(&text.len()).then_some((host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits() {
        assert_eq!(split(b"127.0.0.1:9001"), Some((Host::Plain(b"127.0.0.1"), 9001)));
        assert_eq!(split(b"[::1]:9001"), Some((Host::Bracketed(b"::1"), 9001)));
        assert_eq!(split(b"localhost:65535"), Some((Host::Plain(b"localhost"), 65535)));
        for bad in [
            &b""[..],
            b"127.0.0.1",
            b"127.0.0.1:",
            b":9001",
            b"127.0.0.1:0",
            b"127.0.0.1:65536",
            b"127.0.0.1:9x",
            b"[]:9001",
            b"[::1]9001",
            b"[::1:9001",
            b"host:+80",
            b"host: 80",
        ] {
            assert_eq!(split(bad), None, "{:?}", core::str::from_utf8(bad));
        }
    }

    #[test]
    fn resolves_literals_and_localhost() {
        let ep = resolve(b"127.0.0.1:9001").unwrap();
        assert_eq!(ep.addr, "127.0.0.1:9001".parse().unwrap());
        assert_eq!(ep.host, b"127.0.0.1:9001");
        assert_eq!(resolve(b"[::1]:80").unwrap().addr, "[::1]:80".parse().unwrap());
        assert_eq!(resolve(b"LocalHost:8080").unwrap().addr, "127.0.0.1:8080".parse().unwrap());
        for unknown in
            [&b"[127.0.0.1]:80"[..], b"1.2.3:80", b"example.com:80", b"localhost.:80", b"[localhost]:80", b"::1:9001"]
        {
            assert_eq!(resolve(unknown), Err(EndpointError::Unknown), "{unknown:?}");
        }
        assert_eq!(resolve(b"1.2.3.4"), Err(EndpointError::Malformed));
    }
}
