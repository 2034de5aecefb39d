//! A strict, small HTTP/1.1 reader for what a runtime sends, and the response renderer.
//!
//! The syntax is httparse's: the request line ([`httparse::Request`]), every header and
//! trailer field ([`httparse::parse_headers`]) and every chunk-size line
//! ([`httparse::parse_chunk_size`]). The mock reads a connection one line at a time, charging
//! each to a budget ([`MAX_HEAD_BYTES`]) and consuming no byte past the request, and hands
//! httparse each line as soon as it has it, closed as a head of its own ([`as_head`]): a bad
//! line is answered at once, and what came before it is kept for the record.
//!
//! Strict on purpose: a runtime under test should send clean HTTP. Where httparse takes more
//! than the mock does, or leaves a rule to its caller (it does not interpret fields), the mock
//! adds the rule on top, each in a function named after it that says why:
//!
//! * lines: [`crlf_line_end`], [`no_bare_cr`]; a head over [`MAX_HEAD_BYTES`] gets `431`;
//! * the request line: [`no_empty_line_before_request_line`], [`target_form`];
//! * the fields: [`one_host`], and the framing ones, [`content_length`],
//!   [`not_both_framings`], [`only_chunked`], [`no_chunked_on_http10`];
//! * the body: [`chunk_size_has_digits`], [`no_controls_in_chunk_line`]; a body over
//!   [`MAX_BODY_BYTES`] gets `413`.
//!
//! What httparse itself rejects (a method that is not a token, two spaces in the request line,
//! a version other than 1.0 and 1.1, obsolete line folding, a space before the colon, a
//! control byte in a value, ...) the mock answers in the words it has always used:
//! [`request_line_error`], [`field_error`].

use std::io::{BufRead, Read};
use std::time::{SystemTime, UNIX_EPOCH};

use jiff::Timestamp;
use jiff::fmt::rfc2822::DateTimePrinter;

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
            || header_values(&self.headers, "connection")
                .into_iter()
                .flat_map(|v| v.split(','))
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

/// First value of a header (case-insensitive name).
pub(crate) fn find_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

/// Every value of a header (case-insensitive name), in the order received.
fn header_values<'a>(headers: &'a [(String, String)], name: &str) -> Vec<&'a str> {
    headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str()).collect()
}

// The line reader: what httparse is given.

/// Reads one line and returns it without its CRLF, charging it to `budget` (its CRLF
/// included); over the budget the request gets `limit_status`. `Ok(None)` means clean EOF
/// before any byte. With `first`, a read error before any byte is [`ReadError::Closed`] too
/// (the peer went away between requests).
///
/// Bounded: it reads at most `budget + 1` bytes, and none past the line's LF. A line it
/// returns has no CR and no LF in it ([`crlf_line_end`], [`no_bare_cr`]).
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
    crlf_line_end(&mut line)?;
    no_bare_cr(&line)?;
    Ok(Some(line))
}

/// Rule: a line ends in CRLF (RFC 9112 §2.2). httparse also ends a line at a bare LF, as
/// the RFC lets a recipient do, but a runtime has to send CRLF, and a mock that took a bare
/// LF would hide it when it does not. Strips the CRLF off `line`, which ends in LF.
fn crlf_line_end(line: &mut Vec<u8>) -> Result<(), ReadError> {
    if !line.ends_with(b"\r\n") {
        return Err(bad(400, "line ends with a bare LF (CRLF required)"));
    }
    line.truncate(line.len() - 2);
    Ok(())
}

/// Rule: no CR in a line but the one of its CRLF. httparse rejects a bare CR too, as a bad
/// byte of whichever part of the line holds it; the reader, which splits lines at LF, finds
/// it first and says so. It also keeps [`as_head`]'s promise: one line is one line.
fn no_bare_cr(line: &[u8]) -> Result<(), ReadError> {
    if line.contains(&b'\r') {
        return Err(bad(400, "bare CR inside a line"));
    }
    Ok(())
}

/// `line` (as [`read_line`] returns it: no CR, no LF), its CRLF, and the empty line that
/// ends a head. httparse parses that to its end or rejects it, never `Partial`: it holds one
/// request line, or one field, and nothing else. (`parse_chunk_size` stops at the first
/// CRLF: the line and its CRLF, as they were read.)
fn as_head(line: &[u8]) -> Vec<u8> {
    let mut head = Vec::with_capacity(line.len() + 4);
    head.extend_from_slice(line);
    head.extend_from_slice(b"\r\n\r\n");
    head
}

// The head.

/// Reads a request line and header section into `head` (which holds whatever was parsed
/// when an error is returned).
pub(crate) fn read_head(r: &mut impl BufRead, head: &mut Head) -> Result<(), ReadError> {
    let mut budget = MAX_HEAD_BYTES;
    let line = read_line(r, &mut budget, 431, true)?.ok_or(ReadError::Closed)?;
    parse_request_line(&line, head)?;
    loop {
        let line = read_line(r, &mut budget, 431, false)?
            .ok_or_else(|| ReadError::Truncated("connection closed inside the header section".into()))?;
        if line.is_empty() {
            break;
        }
        head.headers.push(parse_field(&line)?);
    }
    one_host(head)?;
    head.body = body_kind(head)?;
    Ok(())
}

/// Parses the request line (without its CRLF) into `head`. The syntax is httparse's: a
/// token, one space, a target of visible bytes (UTF-8), one space, `HTTP/1.0` or
/// `HTTP/1.1`. On error `head` holds the parts the mock made out.
fn parse_request_line(line: &[u8], head: &mut Head) -> Result<(), ReadError> {
    no_empty_line_before_request_line(line)?;
    let framed = as_head(line);
    let mut req = httparse::Request::new(&mut []);
    let Ok(httparse::Status::Complete(_)) = req.parse(&framed) else {
        return Err(request_line_error(line, head));
    };
    // A complete parse has all three.
    let (Some(method), Some(target), Some(minor)) = (req.method, req.path, req.version) else {
        return Err(request_line_error(line, head));
    };
    head.method = method.to_owned();
    head.target = target.to_owned();
    head.version = format!("HTTP/1.{minor}");
    target_form(&head.target)
}

/// Rule: the first line is the request line, even when empty. httparse skips empty lines
/// before it (RFC 9112 §2.2 lets a server); a runtime has no reason to send one.
fn no_empty_line_before_request_line(line: &[u8]) -> Result<(), ReadError> {
    if line.is_empty() {
        return Err(bad(400, "malformed request line \"\""));
    }
    Ok(())
}

/// Rule: the target is origin-form (`/path`), absolute-form (`http://…`, `https://…`) or
/// `*` (RFC 9112 §3.2). httparse takes any run of visible bytes; a runtime asks for paths.
fn target_form(target: &str) -> Result<(), ReadError> {
    if target.starts_with('/') || target.starts_with("http://") || target.starts_with("https://") || target == "*" {
        Ok(())
    } else {
        Err(bad(400, "invalid request target"))
    }
}

/// Why httparse rejected the request line `line`, in the mock's words: the first of its
/// parts that is wrong, in the order the mock has always checked them (so a target that
/// breaks [`target_form`] too is named before a bad version). Fills in `head` with the
/// parts, or with the whole line as the target when it has not three.
fn request_line_error(line: &[u8], head: &mut Head) -> ReadError {
    let Ok(line) = std::str::from_utf8(line) else {
        return bad(400, "request line is not UTF-8");
    };
    let parts: Vec<&str> = line.split(' ').collect();
    let [method, target, version] = parts[..] else {
        head.target = line.to_owned();
        return bad(400, format!("malformed request line {line:?}"));
    };
    head.method = method.to_owned();
    head.target = target.to_owned();
    head.version = version.to_owned();
    if !is_token(method.as_bytes()) {
        bad(400, "invalid method")
    } else if target_form(target).is_err() || target.bytes().any(|b| b.is_ascii_control()) {
        bad(400, "invalid request target")
    } else if version.starts_with("HTTP/") {
        bad(505, "unsupported HTTP version")
    } else {
        bad(400, "malformed HTTP version")
    }
}

/// A token (RFC 9110 §5.6.2): one `tchar` or more.
fn is_token(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(|&b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Parses a header or trailer field (`line`, without its CRLF). The syntax is httparse's: a
/// token, a colon right after it, and a value of visible bytes, spaces and tabs (obs-text
/// too), trimmed of spaces and tabs. In a request httparse rejects obsolete line folding
/// and space before the colon, as the mock always has.
fn parse_field(line: &[u8]) -> Result<(String, String), ReadError> {
    let framed = as_head(line);
    let mut one = [httparse::EMPTY_HEADER; 1];
    match httparse::parse_headers(&framed, &mut one) {
        Ok(httparse::Status::Complete((_, [field]))) => {
            Ok((field.name.to_owned(), String::from_utf8_lossy(field.value).into_owned()))
        }
        // An error, or (not with a non-empty line alone) no field.
        _ => Err(field_error(line)),
    }
}

/// Why httparse rejected the field `line`, in the mock's words, in the order it has always
/// checked: folding, the colon, the name; else it is a byte of the value.
fn field_error(line: &[u8]) -> ReadError {
    if matches!(line.first(), Some(b' ' | b'\t')) {
        return bad(400, "obsolete line folding is not allowed");
    }
    let Some(colon) = line.iter().position(|&b| b == b':') else {
        return bad(400, "header line without a colon");
    };
    let name = &line[..colon];
    if !is_token(name) {
        return bad(400, format!("invalid header name {:?}", String::from_utf8_lossy(name).into_owned()));
    }
    bad(400, "control character in a header value")
}

// The fields httparse leaves to its caller.

/// Rule: an HTTP/1.1 request has exactly one `Host`, an HTTP/1.0 one at most one (RFC 9112
/// §3.2: a server answers anything else with 400, as Go's `net/http` does).
fn one_host(head: &Head) -> Result<(), ReadError> {
    match header_values(&head.headers, "host").len() {
        0 if head.version == "HTTP/1.1" => Err(bad(400, "missing required Host header")),
        0 | 1 => Ok(()),
        _ => Err(bad(400, "too many Host headers")),
    }
}

/// How the body is delimited, by the framing fields: `Transfer-Encoding: chunked`, else
/// `Content-Length`, else none.
fn body_kind(head: &Head) -> Result<BodyKind, ReadError> {
    let te = header_values(&head.headers, "transfer-encoding");
    let cl = header_values(&head.headers, "content-length");
    if !te.is_empty() {
        not_both_framings(&cl)?;
        only_chunked(&te)?;
        no_chunked_on_http10(head)?;
        Ok(BodyKind::Chunked)
    } else if !cl.is_empty() {
        content_length(&cl).map(BodyKind::Length)
    } else {
        Ok(BodyKind::None)
    }
}

/// Rule: `Content-Length` is plain digits (RFC 9110 §8.6: `1*DIGIT`; no sign, no spaces, no
/// list), at most 19 of them, and when sent more than once, the same each time (RFC 9112
/// §6.3: a differing or invalid length is an unrecoverable framing error). `values` is not
/// empty.
fn content_length(values: &[&str]) -> Result<usize, ReadError> {
    let first = values.first().copied().unwrap_or_default();
    if values.iter().any(|v| *v != first) {
        return Err(bad(400, "conflicting Content-Length headers"));
    }
    if first.is_empty() || first.len() > 19 || !first.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad(400, format!("bad Content-Length {first:?}")));
    }
    // At most 19 digits: a u64.
    let n: u64 = first.parse().map_err(|_| bad(400, "bad Content-Length"))?;
    Ok(usize::try_from(n).unwrap_or(usize::MAX))
}

/// Rule: not `Content-Length` and `Transfer-Encoding` both. RFC 9112 §6.1 lets a server
/// reject that (the two disagreeing is how requests are smuggled); a runtime never needs
/// both. Called when `Transfer-Encoding` is present.
fn not_both_framings(content_lengths: &[&str]) -> Result<(), ReadError> {
    if !content_lengths.is_empty() {
        return Err(bad(400, "both Transfer-Encoding and Content-Length"));
    }
    Ok(())
}

/// Rule: the one transfer coding is `chunked`, in one `Transfer-Encoding` field. The mock
/// decodes no other (gzip, ...): 501, as RFC 9112 §6.1 says for a coding a server does not
/// understand.
fn only_chunked(transfer_encodings: &[&str]) -> Result<(), ReadError> {
    match transfer_encodings {
        [te] if te.eq_ignore_ascii_case("chunked") => Ok(()),
        te => Err(bad(501, format!("unsupported transfer encoding {te:?}"))),
    }
}

/// Rule: no chunked body in HTTP/1.0, which has no transfer codings (RFC 9112 §6.1 calls
/// its framing faulty).
fn no_chunked_on_http10(head: &Head) -> Result<(), ReadError> {
    if head.version == "HTTP/1.0" {
        return Err(bad(400, "chunked transfer encoding on HTTP/1.0"));
    }
    Ok(())
}

// The body.

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
///
/// Bounded: a body over `max` bytes gets `413` before it is read (a length) or before the
/// chunk that would cross it; the chunk-size lines share one [`MAX_HEAD_BYTES`] budget (over
/// it: `400`), and the trailers another (over it: `431`).
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

/// Parses a chunk-size line (without its CRLF). The syntax is httparse's: 1 to 16 hex
/// digits, then spaces or tabs, then `;` and extensions, which are ignored.
fn parse_chunk_size(line: &[u8]) -> Result<usize, ReadError> {
    chunk_size_has_digits(line)?;
    no_controls_in_chunk_line(line)?;
    match httparse::parse_chunk_size(&as_head(line)) {
        Ok(httparse::Status::Complete((_, size))) => usize::try_from(size).map_err(|_| bad_chunk_size(line)),
        _ => Err(bad_chunk_size(line)),
    }
}

fn bad_chunk_size(line: &[u8]) -> ReadError {
    bad(400, format!("bad chunk size line {:?}", String::from_utf8_lossy(line).into_owned()))
}

/// Rule: a chunk-size line starts with a hex digit. httparse reads no digits at all
/// (`\r\n`, `;ext\r\n`) as size 0, the last chunk, which would end the body early.
fn chunk_size_has_digits(line: &[u8]) -> Result<(), ReadError> {
    if !line.first().is_some_and(u8::is_ascii_hexdigit) {
        return Err(bad_chunk_size(line));
    }
    Ok(())
}

/// Rule: no control byte (but HT) on a chunk-size line. httparse takes any byte after the
/// `;`, since it ignores extensions; the mock holds them to what a field value may hold.
fn no_controls_in_chunk_line(line: &[u8]) -> Result<(), ReadError> {
    if line.iter().any(|&b| (b < 0x20 && b != b'\t') || b == 0x7f) {
        return Err(bad_chunk_size(line));
    }
    Ok(())
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

/// An IMF-fixdate (RFC 9110 §5.6.7), e.g. `Sun, 06 Nov 1994 08:49:37 GMT`; the epoch for a
/// time before it (or past jiff's year 9999).
pub(crate) fn http_date(t: SystemTime) -> String {
    let t = Timestamp::try_from(t).ok().filter(|t| *t >= Timestamp::UNIX_EPOCH).unwrap_or(Timestamp::UNIX_EPOCH);
    // Only a negative year fails to print.
    DateTimePrinter::new().timestamp_to_rfc9110_string(&t).unwrap_or_default()
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

    /// The status and message the mock answers `raw` with (one request, bodies up to `max`).
    fn rejection(raw: &[u8], max: usize) -> (u16, String) {
        let mut r = Cursor::new(raw.to_vec());
        let mut head = Head::default();
        let read = read_head(&mut r, &mut head).and_then(|()| read_body(&mut r, &head, &mut Body::default(), max));
        match read {
            Err(ReadError::Bad { status, reason }) => (status, reason),
            other => panic!("{:?}: expected a rejection, got {other:?}", String::from_utf8_lossy(raw)),
        }
    }

    /// Whether httparse, with its defaults, parses `raw` as a complete request head.
    fn httparse_takes_head(raw: &[u8]) -> bool {
        let mut fields = [httparse::EMPTY_HEADER; 16];
        matches!(httparse::Request::new(&mut fields).parse(raw), Ok(httparse::Status::Complete(_)))
    }

    /// Whether httparse parses `line` (with its CRLF) as a whole chunk-size line.
    fn httparse_takes_chunk_size(line: &[u8]) -> bool {
        matches!(httparse::parse_chunk_size(line), Ok(httparse::Status::Complete((n, _))) if n == line.len())
    }

    /// A chunked POST whose first chunk-size line is `line` (with its CRLF).
    fn chunked_with(line: &[u8]) -> Vec<u8> {
        let mut raw = b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
        raw.extend_from_slice(line);
        raw.extend_from_slice(b"abc\r\n0\r\n\r\n");
        raw
    }

    /// Heads httparse takes whole that the mock rejects: one or more for every rule it adds
    /// on top (the rule's function, the bytes, the status and message the mock answers).
    const STRICTER_HEADS: &[(&str, &[u8], u16, &str)] = &[
        ("crlf_line_end", b"GET / HTTP/1.1\nHost: h\n\n", 400, "line ends with a bare LF (CRLF required)"),
        ("crlf_line_end", b"GET / HTTP/1.1\r\nHost: h\n\r\n", 400, "line ends with a bare LF (CRLF required)"),
        (
            "no_empty_line_before_request_line",
            b"\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n",
            400,
            "malformed request line \"\"",
        ),
        ("target_form", b"GET x HTTP/1.1\r\nHost: h\r\n\r\n", 400, "invalid request target"),
        ("target_form", b"CONNECT h:443 HTTP/1.1\r\nHost: h\r\n\r\n", 400, "invalid request target"),
        ("one_host", b"GET / HTTP/1.1\r\n\r\n", 400, "missing required Host header"),
        ("one_host", b"GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n", 400, "too many Host headers"),
        ("one_host", b"GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", 400, "too many Host headers"),
        (
            "content_length",
            b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +1\r\n\r\n",
            400,
            "bad Content-Length \"+1\"",
        ),
        (
            "content_length",
            b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1, 1\r\n\r\n",
            400,
            "bad Content-Length \"1, 1\"",
        ),
        (
            "content_length",
            b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0x1\r\n\r\n",
            400,
            "bad Content-Length \"0x1\"",
        ),
        ("content_length", b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length:\r\n\r\n", 400, "bad Content-Length \"\""),
        (
            "content_length",
            b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10000000000000000000\r\n\r\n",
            400,
            "bad Content-Length \"10000000000000000000\"",
        ),
        (
            "content_length",
            b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
            400,
            "conflicting Content-Length headers",
        ),
        (
            "not_both_framings",
            b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 1\r\n\r\n",
            400,
            "both Transfer-Encoding and Content-Length",
        ),
        (
            "only_chunked",
            b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n",
            501,
            "unsupported transfer encoding [\"gzip\"]",
        ),
        (
            "only_chunked",
            b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
            501,
            "unsupported transfer encoding [\"gzip, chunked\"]",
        ),
        (
            "only_chunked",
            b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
            501,
            "unsupported transfer encoding [\"chunked\", \"chunked\"]",
        ),
        (
            "no_chunked_on_http10",
            b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
            400,
            "chunked transfer encoding on HTTP/1.0",
        ),
    ];

    #[test]
    fn httparse_takes_these_heads_the_mock_rejects() {
        for &(rule, raw, status, reason) in STRICTER_HEADS {
            assert!(httparse_takes_head(raw), "{rule}: httparse rejects {:?}", String::from_utf8_lossy(raw));
            assert_eq!(rejection(raw, MAX_BODY_BYTES), (status, reason.to_owned()), "{rule}");
        }
    }

    /// Chunk-size lines httparse takes that the mock rejects (the rule, the line with its
    /// CRLF, the message; the status is 400).
    const STRICTER_CHUNK_SIZES: &[(&str, &[u8], &str)] = &[
        ("chunk_size_has_digits", b"\r\n", "bad chunk size line \"\""),
        ("chunk_size_has_digits", b";a=b\r\n", "bad chunk size line \";a=b\""),
        ("chunk_size_has_digits", b" \r\n", "bad chunk size line \" \""),
        ("no_controls_in_chunk_line", b"3;a\x01b\r\n", "bad chunk size line \"3;a\\u{1}b\""),
        ("no_controls_in_chunk_line", b"3;\x7f\r\n", "bad chunk size line \"3;\\u{7f}\""),
        ("no_controls_in_chunk_line", b"3;a\0\r\n", "bad chunk size line \"3;a\\0\""),
    ];

    #[test]
    fn httparse_takes_these_chunk_sizes_the_mock_rejects() {
        for &(rule, line, reason) in STRICTER_CHUNK_SIZES {
            assert!(httparse_takes_chunk_size(line), "{rule}: httparse rejects {:?}", String::from_utf8_lossy(line));
            assert_eq!(rejection(&chunked_with(line), MAX_BODY_BYTES), (400, reason.to_owned()), "{rule}");
        }
    }

    /// Heads httparse rejects as well, and the words the mock answers them with (the bytes,
    /// the status, the message).
    const REJECTED_BY_BOTH: &[(&[u8], u16, &str)] = &[
        (b"GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n", 400, "obsolete line folding is not allowed"),
        (b"GET / HTTP/1.1\r\n\tHost: h\r\n\r\n", 400, "obsolete line folding is not allowed"),
        (b"GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400, "invalid header name \"Host \""),
        (b"GET / HTTP/1.1\r\nHost: h\r\nX y: v\r\n\r\n", 400, "invalid header name \"X y\""),
        (b"GET / HTTP/1.1\r\nHost: h\r\n: v\r\n\r\n", 400, "invalid header name \"\""),
        (b"GET / HTTP/1.1\r\nHost: h\r\nX\r\n\r\n", 400, "header line without a colon"),
        (b"GET / HTTP/1.1\r\nHost: h\r\nX: a\x01\r\n\r\n", 400, "control character in a header value"),
        (b"GET / HTTP/1.1\r\nHost: h\r\nX: a\x7f\r\n\r\n", 400, "control character in a header value"),
        (b"GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n", 400, "bare CR inside a line"),
        (b"GET / HTTP/1.1\rX\r\nHost: h\r\n\r\n", 400, "bare CR inside a line"),
        (b"GET /  HTTP/1.1\r\nHost: h\r\n\r\n", 400, "malformed request line \"GET /  HTTP/1.1\""),
        (b"GET / HTTP/1.1 x\r\nHost: h\r\n\r\n", 400, "malformed request line \"GET / HTTP/1.1 x\""),
        (b"GET\r\nHost: h\r\n\r\n", 400, "malformed request line \"GET\""),
        (b"G@T / HTTP/1.1\r\nHost: h\r\n\r\n", 400, "invalid method"),
        (b" / HTTP/1.1\r\nHost: h\r\n\r\n", 400, "invalid method"),
        (b"GET /a\x7f HTTP/1.1\r\nHost: h\r\n\r\n", 400, "invalid request target"),
        (b"GET /\xff HTTP/1.1\r\nHost: h\r\n\r\n", 400, "request line is not UTF-8"),
        (b"GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505, "unsupported HTTP version"),
        (b"GET / HTTP/1.10\r\nHost: h\r\n\r\n", 505, "unsupported HTTP version"),
        (b"GET / FOO/1.1\r\nHost: h\r\n\r\n", 400, "malformed HTTP version"),
        (b"GET / http/1.1\r\nHost: h\r\n\r\n", 400, "malformed HTTP version"),
    ];

    #[test]
    fn the_mock_words_what_httparse_rejects() {
        for &(raw, status, reason) in REJECTED_BY_BOTH {
            assert!(!httparse_takes_head(raw), "httparse takes {:?}", String::from_utf8_lossy(raw));
            assert_eq!(rejection(raw, MAX_BODY_BYTES), (status, reason.to_owned()));
        }
        for line in [&b"zz\r\n"[..], b" 3\r\n", b"3x\r\n", b"1 2\r\n", b"00000000000000003\r\n"] {
            assert!(!httparse_takes_chunk_size(line), "httparse takes {:?}", String::from_utf8_lossy(line));
            let reason = format!("bad chunk size line {:?}", String::from_utf8_lossy(&line[..line.len() - 2]));
            assert_eq!(rejection(&chunked_with(line), MAX_BODY_BYTES), (400, reason));
        }
    }

    #[test]
    fn what_httparse_does_not_read_limits_and_body_framing() {
        // Heads: 431 over MAX_HEAD_BYTES, request line and fields together.
        let mut raw = b"GET / HTTP/1.1\r\nHost: h\r\nX-Pad: ".to_vec();
        raw.resize(MAX_HEAD_BYTES, b'a');
        raw.extend_from_slice(b"\r\n\r\n");
        assert!(httparse_takes_head(&raw), "httparse has no limit of its own");
        assert_eq!(rejection(&raw, MAX_BODY_BYTES), (431, "header section too large".to_owned()));
        // Exactly the limit (the empty line included) is fine.
        raw.truncate(MAX_HEAD_BYTES - 4);
        raw.extend_from_slice(b"\r\n\r\n");
        assert!(parse(&raw).is_ok());
        // Trailers have a budget of their own (431), and so do chunk-size lines (400).
        let mut raw = chunked_with(b"3\r\n");
        raw.truncate(raw.len() - 2);
        raw.extend_from_slice(b"X-Pad: ");
        raw.resize(raw.len() + MAX_HEAD_BYTES, b'a');
        raw.extend_from_slice(b"\r\n\r\n");
        assert_eq!(rejection(&raw, MAX_BODY_BYTES), (431, "header section too large".to_owned()));
        let mut raw = b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1;".to_vec();
        raw.resize(raw.len() + MAX_HEAD_BYTES, b'a');
        raw.extend_from_slice(b"\r\nx\r\n0\r\n\r\n");
        assert_eq!(rejection(&raw, MAX_BODY_BYTES), (400, "header section too large".to_owned()));
        // Bodies: 413 over the limit, before the bytes are read.
        let raw = b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 6\r\n\r\nabcdef";
        assert_eq!(rejection(raw, 5), (413, "Content-Length 6 exceeds the mock's limit".to_owned()));
        let raw = b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n";
        assert_eq!(rejection(raw, 5), (413, "chunked body exceeds the mock's limit".to_owned()));
        // Chunk data is followed by CRLF.
        assert_eq!(
            rejection(&chunked_with(b"2\r\n"), MAX_BODY_BYTES),
            (400, "chunk data not followed by CRLF".to_owned())
        );
    }

    #[test]
    fn ordinary_requests() {
        let (head, body) =
            parse(b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: 127.0.0.1:9001\r\n\r\n").unwrap();
        assert_eq!(
            (head.method.as_str(), head.target.as_str(), head.version.as_str()),
            ("GET", "/2018-06-01/runtime/invocation/next", "HTTP/1.1")
        );
        assert_eq!(head.headers, vec![("Host".to_owned(), "127.0.0.1:9001".to_owned())]);
        assert_eq!((head.body, body.bytes.len(), head.wants_close()), (BodyKind::None, 0, false));

        // Values trimmed of spaces and tabs (not inside), names as sent, obs-text kept (lossy).
        let (head, _) =
            parse(b"GET / HTTP/1.1\r\nhOsT:h\r\nX-A: \t a \t b \t\r\nX-E:\r\nX-U: caf\xc3\xa9 \xff\r\n\r\n").unwrap();
        let fields: Vec<(&str, &str)> = head.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        assert_eq!(fields, [("hOsT", "h"), ("X-A", "a \t b"), ("X-E", ""), ("X-U", "café \u{fffd}")]);

        // HTTP/1.0 needs no Host and closes; absolute-form and `*` targets.
        let (head, _) = parse(b"GET http://h:1/a/b?q=1 HTTP/1.0\r\n\r\n").unwrap();
        assert_eq!((head.version.as_str(), head.path(), head.wants_close()), ("HTTP/1.0", "/a/b", true));
        assert!(parse(b"OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n").is_ok());
        let (head, _) = parse(b"GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, Close\r\n\r\n").unwrap();
        assert!(head.wants_close());

        // A body announced with Expect; duplicate lengths that agree.
        let raw =
            b"POST /r HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 3\r\ncontent-length: 3\r\n\r\nabc";
        let (head, body) = parse(raw).unwrap();
        assert_eq!(
            (head.body, head.expects_continue(), body.bytes.as_slice()),
            (BodyKind::Length(3), true, &b"abc"[..])
        );

        // Many fields: no fixed array to outgrow.
        let mut raw = b"GET / HTTP/1.1\r\nHost: h\r\n".to_vec();
        for i in 0..500 {
            raw.extend_from_slice(format!("X-{i}: {i}\r\n").as_bytes());
        }
        raw.extend_from_slice(b"\r\n");
        assert_eq!(parse(&raw).unwrap().0.headers.len(), 501);
    }

    #[test]
    fn chunk_sizes_by_httparse() {
        for (line, size) in [
            (&b"0"[..], 0),
            (b"a", 10),
            (b"A;x=1;y", 10),
            (b"3 ", 3),
            (b"3\t ;x", 3),
            (b"3;\t\xff", 3),
            (b"000000000000000f", 15),
            (b"ffffffffffffffff", u64::MAX as usize),
        ] {
            assert_eq!(parse_chunk_size(line).ok(), Some(size), "{:?}", String::from_utf8_lossy(line));
        }
    }

    #[test]
    fn requests_are_read_one_at_a_time() {
        // Pipelined: each read takes its request's bytes and no more.
        let first = b"POST /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\nT: 1\r\n\r\n";
        let second = b"POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nyz";
        let mut r = Cursor::new([&first[..], second, b"GET /c HTTP/1.1\r\nHost: h\r\n\r\n"].concat());
        for (target, bytes, end) in [("/a", &b"x"[..], first.len()), ("/b", b"yz", first.len() + second.len())] {
            let mut head = Head::default();
            read_head(&mut r, &mut head).unwrap();
            let mut body = Body::default();
            read_body(&mut r, &head, &mut body, MAX_BODY_BYTES).unwrap();
            assert_eq!((head.target.as_str(), body.bytes.as_slice()), (target, bytes));
            assert_eq!(r.position(), end as u64);
        }
        // A bad line is answered as soon as it is read, with what came before it recorded.
        let mut r = Cursor::new(b"GET /x HTTP/1.1\r\nHost: h\r\nBad\r\n".to_vec());
        let mut head = Head::default();
        assert!(matches!(read_head(&mut r, &mut head), Err(ReadError::Bad { status: 400, .. })));
        assert_eq!((head.method.as_str(), head.target.as_str(), head.headers.len()), ("GET", "/x", 1));
        let mut head = Head::default();
        let err = read_head(&mut Cursor::new(b"GET / HTTP/9.9\r\n".to_vec()), &mut head);
        assert!(matches!(err, Err(ReadError::Bad { status: 505, .. })));
        assert_eq!(head.version, "HTTP/9.9");
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
