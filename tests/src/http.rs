//! A strict, small HTTP/1.1 reader for what a runtime sends, and the response renderer.
//!
//! Strict on purpose: a runtime under test should send clean HTTP. Lines must end in CRLF,
//! header names must be tokens with no space before the colon, no obsolete line folding,
//! `Content-Length` must be plain digits (duplicates must agree), the only transfer coding
//! is `chunked`, `Content-Length` together with `Transfer-Encoding` is rejected, and an
//! HTTP/1.1 request needs exactly one `Host` header (as Go's `net/http` demands).

use std::io::{BufRead, Read};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::script::{Chunked, Framing};

/// Upper bound for the request line plus headers (and, separately, for trailers):
/// 1 MiB, Go's `http.DefaultMaxHeaderBytes`. Larger heads get `431`.
pub const MAX_HEAD_BYTES: usize = 1 << 20;

/// Upper bound for a request body the mock will read (256 MiB, above the 200 MB streaming
/// limit). Larger bodies get `413` and the connection is closed.
pub const MAX_BODY_BYTES: usize = 256 << 20;

/// How the request body is delimited.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum BodyKind {
    #[default]
    None,
    Length(usize),
    Chunked,
}

/// A parsed request line and header section (possibly partial when parsing failed).
#[derive(Clone, Debug, Default)]
pub(crate) struct Head {
    pub method: String,
    pub target: String,
    pub version: String,
    pub headers: Vec<(String, String)>,
    pub body: BodyKind,
}

impl Head {
    /// First value of a header (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// True when the client asked for `100 Continue` before sending its body.
    pub fn expects_continue(&self) -> bool {
        self.version == "HTTP/1.1"
            && self.body != BodyKind::None
            && self.body != BodyKind::Length(0)
            && self.header("expect").is_some_and(|v| v.eq_ignore_ascii_case("100-continue"))
    }

    /// True when the connection must be closed after the reply: HTTP/1.0 (the mock does not
    /// do HTTP/1.0 keep-alive) or `Connection: close`.
    pub fn wants_close(&self) -> bool {
        self.version == "HTTP/1.0"
            || self
                .headers
                .iter()
                .filter(|(n, _)| n.eq_ignore_ascii_case("connection"))
                .flat_map(|(_, v)| v.split(','))
                .any(|t| t.trim().eq_ignore_ascii_case("close"))
    }

    /// The path part of the target (no query, no scheme/authority).
    pub fn path(&self) -> &str {
        target_path(&self.target)
    }
}

/// The path part of a request target (no query, no scheme/authority).
pub(crate) fn target_path(target: &str) -> &str {
    let mut t = target;
    for scheme in ["http://", "https://"] {
        if let Some(rest) = t.strip_prefix(scheme) {
            t = rest.find('/').map_or("/", |i| &rest[i..]);
        }
    }
    t.split(['?', '#']).next().unwrap_or("")
}

/// A request body, with its chunk structure and trailers when it was chunked.
#[derive(Clone, Debug, Default)]
pub(crate) struct Body {
    pub bytes: Vec<u8>,
    pub chunks: Vec<usize>,
    pub trailers: Vec<(String, String)>,
    /// The whole request as received, when captured.
    pub raw: Vec<u8>,
}

/// Why a request could not be read.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// The connection ended (EOF or error) before the first byte of a request.
    Closed,
    /// The connection ended or failed partway through a request.
    Truncated(String),
    /// The request is malformed: reply with this status and close.
    Bad { status: u16, reason: String },
}

fn bad(status: u16, reason: impl Into<String>) -> ReadError {
    ReadError::Bad { status, reason: reason.into() }
}

pub(crate) fn find_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Reads one CRLF-terminated line (without the CRLF), charging it to `budget`.
/// `Ok(None)` means clean EOF before any byte. With `first`, a read error before any byte
/// is [`ReadError::Closed`] too (the peer went away between requests).
fn read_line(
    r: &mut impl BufRead,
    budget: &mut usize,
    limit_status: u16,
    first: bool,
) -> Result<Option<Vec<u8>>, ReadError> {
    let mut line = Vec::new();
    let n = match r.by_ref().take(*budget as u64 + 1).read_until(b'\n', &mut line) {
        Ok(n) => n,
        Err(_) if first && line.is_empty() => return Err(ReadError::Closed),
        Err(e) => return Err(ReadError::Truncated(format!("read error: {e}"))),
    };
    if n == 0 {
        return Ok(None);
    }
    if n > *budget {
        return Err(bad(limit_status, "header section too large"));
    }
    *budget -= n;
    if line.last() != Some(&b'\n') {
        return Err(ReadError::Truncated("connection closed in the middle of a line".into()));
    }
    line.pop();
    if line.last() != Some(&b'\r') {
        return Err(bad(400, "line ends with a bare LF (CRLF required)"));
    }
    line.pop();
    if line.contains(&b'\r') {
        return Err(bad(400, "bare CR inside a line"));
    }
    Ok(Some(line))
}

/// Parses `name: value` (a header or trailer field).
fn parse_field(line: &[u8]) -> Result<(String, String), ReadError> {
    if matches!(line.first(), Some(b' ' | b'\t')) {
        return Err(bad(400, "obsolete line folding is not allowed"));
    }
    let colon = line.iter().position(|&b| b == b':').ok_or_else(|| bad(400, "header line without a colon"))?;
    let name = &line[..colon];
    if name.is_empty() || !name.iter().all(|&b| is_tchar(b)) {
        return Err(bad(400, format!("invalid header name {:?}", String::from_utf8_lossy(name).into_owned())));
    }
    let mut value = &line[colon + 1..];
    while let [b' ' | b'\t', rest @ ..] = value {
        value = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = value {
        value = rest;
    }
    if value.iter().any(|&b| (b < 0x20 && b != b'\t') || b == 0x7f) {
        return Err(bad(400, "control character in a header value"));
    }
    Ok((String::from_utf8_lossy(name).into_owned(), String::from_utf8_lossy(value).into_owned()))
}

/// Reads a request line and header section into `head` (which holds whatever was parsed
/// when an error is returned).
pub(crate) fn read_head(r: &mut impl BufRead, head: &mut Head) -> Result<(), ReadError> {
    let mut budget = MAX_HEAD_BYTES;
    let line = read_line(r, &mut budget, 431, true)?.ok_or(ReadError::Closed)?;
    let line = String::from_utf8(line).map_err(|_| bad(400, "request line is not UTF-8"))?;
    let parts: Vec<&str> = line.split(' ').collect();
    if let [method, target, version] = parts[..] {
        head.method = method.to_owned();
        head.target = target.to_owned();
        head.version = version.to_owned();
    } else {
        head.target = line.clone();
        return Err(bad(400, format!("malformed request line {line:?}")));
    }
    if head.method.is_empty() || !head.method.bytes().all(is_tchar) {
        return Err(bad(400, "invalid method"));
    }
    let t = head.target.as_str();
    if !(t.starts_with('/') || t.starts_with("http://") || t.starts_with("https://") || t == "*")
        || t.bytes().any(|b| b <= b' ' || b == 0x7f)
    {
        return Err(bad(400, "invalid request target"));
    }
    match head.version.as_str() {
        "HTTP/1.1" | "HTTP/1.0" => {}
        v if v.starts_with("HTTP/") => return Err(bad(505, "unsupported HTTP version")),
        _ => return Err(bad(400, "malformed HTTP version")),
    }
    loop {
        let line = read_line(r, &mut budget, 431, false)?
            .ok_or_else(|| ReadError::Truncated("connection closed inside the header section".into()))?;
        if line.is_empty() {
            break;
        }
        head.headers.push(parse_field(&line)?);
    }

    let hosts = head.headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case("host")).count();
    if head.version == "HTTP/1.1" && hosts == 0 {
        return Err(bad(400, "missing required Host header"));
    }
    if hosts > 1 {
        return Err(bad(400, "too many Host headers"));
    }

    let te: Vec<&str> = head
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("transfer-encoding"))
        .map(|(_, v)| v.as_str())
        .collect();
    let cl: Vec<&str> = head
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .map(|(_, v)| v.as_str())
        .collect();
    if !te.is_empty() {
        if !cl.is_empty() {
            return Err(bad(400, "both Transfer-Encoding and Content-Length"));
        }
        if te.len() != 1 || !te[0].eq_ignore_ascii_case("chunked") {
            return Err(bad(501, format!("unsupported transfer encoding {te:?}")));
        }
        if head.version == "HTTP/1.0" {
            return Err(bad(400, "chunked transfer encoding on HTTP/1.0"));
        }
        head.body = BodyKind::Chunked;
    } else if let Some(first) = cl.first() {
        if cl.iter().any(|v| v != first) {
            return Err(bad(400, "conflicting Content-Length headers"));
        }
        if first.is_empty() || first.len() > 19 || !first.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad(400, format!("bad Content-Length {first:?}")));
        }
        let n: u64 = first.parse().map_err(|_| bad(400, "bad Content-Length"))?;
        let n = usize::try_from(n).unwrap_or(usize::MAX);
        head.body = BodyKind::Length(n);
    }
    Ok(())
}

fn read_exact_into(r: &mut impl Read, out: &mut Vec<u8>, n: usize) -> Result<(), ReadError> {
    let start = out.len();
    let got = r
        .by_ref()
        .take(n as u64)
        .read_to_end(out)
        .map_err(|e| ReadError::Truncated(format!("read error in body: {e}")))?;
    if got < n {
        return Err(ReadError::Truncated(format!("connection closed after {} of {n} body bytes", out.len() - start)));
    }
    Ok(())
}

/// Reads the body `head` announces. `out` receives what was read, also on error.
pub(crate) fn read_body(r: &mut impl BufRead, head: &Head, out: &mut Body, max: usize) -> Result<(), ReadError> {
    match head.body {
        BodyKind::None => Ok(()),
        BodyKind::Length(n) => {
            if n > max {
                return Err(bad(413, format!("Content-Length {n} exceeds the mock's limit")));
            }
            read_exact_into(r, &mut out.bytes, n)
        }
        BodyKind::Chunked => {
            let mut budget = MAX_HEAD_BYTES;
            loop {
                let line = read_line(r, &mut budget, 400, false)?
                    .ok_or_else(|| ReadError::Truncated("connection closed before a chunk".into()))?;
                let size = parse_chunk_size(&line)?;
                if size == 0 {
                    break;
                }
                if out.bytes.len().saturating_add(size) > max {
                    return Err(bad(413, "chunked body exceeds the mock's limit"));
                }
                read_exact_into(r, &mut out.bytes, size)?;
                out.chunks.push(size);
                let mut crlf = Vec::with_capacity(2);
                read_exact_into(r, &mut crlf, 2)?;
                if crlf != b"\r\n" {
                    return Err(bad(400, "chunk data not followed by CRLF"));
                }
            }
            let mut budget = MAX_HEAD_BYTES;
            loop {
                let line = read_line(r, &mut budget, 431, false)?
                    .ok_or_else(|| ReadError::Truncated("connection closed inside the trailer section".into()))?;
                if line.is_empty() {
                    return Ok(());
                }
                out.trailers.push(parse_field(&line)?);
            }
        }
    }
}

/// `hex[ \t]*[;extension]`
fn parse_chunk_size(line: &[u8]) -> Result<usize, ReadError> {
    let digits = line.iter().take_while(|b| b.is_ascii_hexdigit()).count();
    let bad_line = || bad(400, format!("bad chunk size line {:?}", String::from_utf8_lossy(line).into_owned()));
    if digits == 0 || digits > 16 {
        return Err(bad_line());
    }
    let rest = &line[digits..];
    let rest_trimmed: &[u8] = {
        let mut r = rest;
        while let [b' ' | b'\t', tail @ ..] = r {
            r = tail;
        }
        r
    };
    if !(rest_trimmed.is_empty() || rest_trimmed[0] == b';')
        || rest.iter().any(|&b| (b < 0x20 && b != b'\t') || b == 0x7f)
    {
        return Err(bad_line());
    }
    let hex = std::str::from_utf8(&line[..digits]).map_err(|_| bad_line())?;
    let n = u64::from_str_radix(hex, 16).map_err(|_| bad_line())?;
    usize::try_from(n).map_err(|_| bad_line())
}

/// Standard reason phrase for a status code.
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        202 => "Accepted",
        204 => "No Content",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        410 => "Gone",
        413 => "Request Entity Too Large",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        _ => "Unknown",
    }
}

/// A reply the mock renders the way Go's `net/http` does.
#[derive(Clone, Debug)]
pub(crate) struct Response {
    pub status: u16,
    pub http10: bool,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub framing: Framing,
    pub close: bool,
}

impl Response {
    pub fn new(status: u16, headers: Vec<(String, String)>, body: Vec<u8>) -> Self {
        Self { status, http10: false, headers, body, framing: Framing::ContentLength, close: false }
    }

    /// The bytes on the wire, and the header fields as written (in order).
    pub fn render(&self) -> (Vec<u8>, Vec<(String, String)>) {
        let mut headers = self.headers.clone();
        if let Framing::Chunked(c) = &self.framing
            && !c.trailers.is_empty()
            && find_header(&headers, "trailer").is_none()
        {
            let names: Vec<&str> = c.trailers.iter().map(|(n, _)| n.as_str()).collect();
            headers.push(("Trailer".into(), names.join(", ")));
        }
        // Go writes the handler's headers sorted by key (stable for one key's values).
        headers.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        headers.push(("Date".into(), http_date(SystemTime::now())));
        let bodyless = self.status < 200 || self.status == 204 || self.status == 304;
        if !bodyless && self.framing == Framing::ContentLength {
            headers.push(("Content-Length".into(), self.body.len().to_string()));
        }
        if self.close || self.http10 || self.framing == Framing::CloseDelimited {
            headers.push(("Connection".into(), "close".into()));
        }
        if !bodyless && matches!(self.framing, Framing::Chunked(_)) {
            headers.push(("Transfer-Encoding".into(), "chunked".into()));
        }

        let mut out = Vec::with_capacity(self.body.len() + 512);
        let version = if self.http10 { "HTTP/1.0" } else { "HTTP/1.1" };
        out.extend_from_slice(format!("{version} {} {}\r\n", self.status, reason_phrase(self.status)).as_bytes());
        for (n, v) in &headers {
            out.extend_from_slice(n.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(v.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"\r\n");
        if !bodyless {
            match &self.framing {
                Framing::Chunked(c) => encode_chunked(&self.body, c, &mut out),
                _ => out.extend_from_slice(&self.body),
            }
        }
        (out, headers)
    }
}

fn chunk_size_line(n: usize, c: &Chunked, out: &mut Vec<u8>) {
    let s =
        if c.uppercase { format!("{n:0width$X}", width = c.width) } else { format!("{n:0width$x}", width = c.width) };
    out.extend_from_slice(s.as_bytes());
    if let Some(ext) = &c.extension {
        out.extend_from_slice(ext.as_bytes());
    }
    out.extend_from_slice(b"\r\n");
}

/// Encodes `body` with the chunk layout of `c`: sizes in order, the last one repeating.
pub(crate) fn encode_chunked(body: &[u8], c: &Chunked, out: &mut Vec<u8>) {
    let mut pos = 0;
    let mut k = 0;
    while pos < body.len() {
        let want = c.sizes.get(k).or(c.sizes.last()).copied().unwrap_or(body.len());
        let n = want.min(body.len() - pos);
        chunk_size_line(n, c, out);
        out.extend_from_slice(&body[pos..pos + n]);
        out.extend_from_slice(b"\r\n");
        pos += n;
        k += 1;
    }
    chunk_size_line(0, c, out);
    for (n, v) in &c.trailers {
        out.extend_from_slice(format!("{n}: {v}\r\n").as_bytes());
    }
    out.extend_from_slice(b"\r\n");
}

/// The reply Go's server writes for a request it cannot parse.
pub(crate) fn bad_request_bytes(status: u16, reason: &str) -> Vec<u8> {
    let phrase = reason_phrase(status);
    format!(
        "HTTP/1.1 {status} {phrase}\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n{status} {phrase}: {reason}"
    )
    .into_bytes()
}

/// A JSON string literal as Go's `json.Encoder` (with HTML escaping) writes it.
pub(crate) fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", ch as u32));
            }
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Milliseconds since the Unix epoch.
pub(crate) fn epoch_ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// An IMF-fixdate, e.g. `Sun, 06 Nov 1994 08:49:37 GMT`.
pub(crate) fn http_date(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days as i64);
    const WD: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MON: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    format!(
        "{}, {:02} {} {} {:02}:{:02}:{:02} GMT",
        WD[(days % 7) as usize],
        d,
        MON[(m - 1) as usize],
        y,
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Howard Hinnant's days-to-civil algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;
    use std::time::Duration;

    fn parse(raw: &[u8]) -> Result<(Head, Body), ReadError> {
        let mut r = Cursor::new(raw.to_vec());
        let mut head = Head::default();
        read_head(&mut r, &mut head)?;
        let mut body = Body::default();
        read_body(&mut r, &head, &mut body, MAX_BODY_BYTES)?;
        Ok((head, body))
    }

    fn bad_status(raw: &[u8]) -> u16 {
        match parse(raw) {
            Err(ReadError::Bad { status, .. }) => status,
            other => panic!("expected a Bad error, got {other:?}"),
        }
    }

    #[test]
    fn parses_chunked_with_extensions_and_trailers() {
        let (head, body) = parse(
            b"POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3;a=b\r\nabc\r\n00A\r\n0123456789\r\n0\r\nX-T: v\r\n\r\n",
        )
        .unwrap();
        assert_eq!(head.body, BodyKind::Chunked);
        assert_eq!(body.bytes, b"abc0123456789");
        assert_eq!(body.chunks, vec![3, 10]);
        assert_eq!(body.trailers, vec![("X-T".to_owned(), "v".to_owned())]);
    }

    #[test]
    fn rejects_what_go_or_strictness_rejects() {
        assert_eq!(bad_status(b"GET / HTTP/1.1\r\n\r\n"), 400); // no Host
        assert_eq!(bad_status(b"GET / HTTP/1.1\nHost: h\r\n\r\n"), 400); // bare LF
        assert_eq!(bad_status(b"GET / HTTP/1.1\r\nHost : h\r\n\r\n"), 400);
        assert_eq!(bad_status(b"GET / HTTP/1.1\r\nHost: h\r\n x\r\n\r\n"), 400);
        assert_eq!(bad_status(b"GET /  HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
        assert_eq!(bad_status(b"GET / HTTP/2.0\r\nHost: h\r\n\r\n"), 505);
        assert_eq!(bad_status(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab"), 400);
        assert_eq!(bad_status(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +1\r\n\r\na"), 400);
        assert_eq!(bad_status(b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n"), 501);
        assert_eq!(
            bad_status(b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 1\r\n\r\n"),
            400
        );
        assert_eq!(bad_status(b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"), 400);
        assert_eq!(
            bad_status(b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n"),
            400
        );
    }

    #[test]
    fn truncation_and_clean_eof_are_told_apart() {
        assert!(matches!(parse(b""), Err(ReadError::Closed)));
        assert!(matches!(parse(b"GET / HTTP/1.1\r\nHost: h\r\n"), Err(ReadError::Truncated(_))));
        assert!(matches!(
            parse(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nab"),
            Err(ReadError::Truncated(_))
        ));
    }

    #[test]
    fn chunked_encoding_follows_the_layout() {
        let c = Chunked::sizes([1, 2]).extension(";a=b").uppercase_hex().zero_padded(3).trailer("X-T", "1");
        let mut out = Vec::new();
        encode_chunked(b"abcdefghijklmnopqrstuvwxyz0123", &c, &mut out);
        let want = "001;a=b\r\na\r\n002;a=b\r\nbc\r\n002;a=b\r\nde\r\n";
        assert!(String::from_utf8_lossy(&out).starts_with(want));
        assert!(out.ends_with(b"000;a=b\r\nX-T: 1\r\n\r\n"));
        let mut out = Vec::new();
        encode_chunked(&[b'x'; 300], &Chunked::sizes([]).uppercase_hex(), &mut out);
        assert!(out.starts_with(b"12C\r\n"));
    }

    #[test]
    fn http_date_is_imf_fixdate() {
        let t = UNIX_EPOCH + Duration::from_secs(784_111_777);
        assert_eq!(http_date(t), "Sun, 06 Nov 1994 08:49:37 GMT");
        let t = UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29
        assert_eq!(http_date(t), "Tue, 29 Feb 2000 00:00:00 GMT");
    }

    #[test]
    fn json_string_escapes_like_go() {
        assert_eq!(json_string("a\"b\\<\n\u{1}"), r#""a\"b\\\u003c\n\u0001""#);
    }

    #[test]
    fn path_strips_query_and_authority() {
        let head =
            Head { target: "http://127.0.0.1:9001/2018-06-01/runtime/invocation/next?x=1".into(), ..Head::default() };
        assert_eq!(head.path(), "/2018-06-01/runtime/invocation/next");
    }
}
