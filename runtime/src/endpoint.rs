//! `AWS_LAMBDA_RUNTIME_API`: `host:port`, split without DNS.

/// The host part of the endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Host<'a> {
    /// Written in brackets: must be an IPv6 literal.
    Bracketed(&'a [u8]),
    /// An IPv4 literal, or otherwise a name to resolve.
    Plain(&'a [u8]),
}

/// Splits `host:port` or `[v6]:port`. The port must be 1 to 65535, the host non-empty and,
/// unbracketed, free of colons.
#[allow(clippy::manual_contains)] // `contains` links core's memchr, for one short scan
pub fn split(value: &[u8]) -> Option<(Host<'_>, u16)> {
    let colon = value.iter().rposition(|&b| b == b':')?;
    let (host, port) = value.split_at_checked(colon)?;
    let port = port.get(1..)?;
    let port = crate::http::parse_decimal(port).filter(|p| (1..=65535).contains(p))? as u16;
    let host = match host {
        [b'[', inner @ .., b']'] => Host::Bracketed(inner),
        _ if host.iter().any(|&b| b == b':') => return None,
        _ => Host::Plain(host),
    };
    let (Host::Bracketed(h) | Host::Plain(h)) = host;
    (1..=255).contains(&h.len()).then_some((host, port))
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
            b"::1:9001",
            b"[]:9001",
            b"[::1]9001",
            b"[::1:9001",
            b"host:+80",
            b"host: 80",
        ] {
            assert_eq!(split(bad), None, "{:?}", core::str::from_utf8(bad));
        }
    }
}
