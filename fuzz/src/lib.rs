//! The invariants of lambda-libc's wire code, checked on any input.
//!
//! One place for them: the cargo-fuzz targets (`fuzz/fuzz_targets/*.rs`) run these checks
//! on every input libFuzzer makes, and the stable tests of the `tests/` package include
//! this file (`#[path]`) to replay every committed corpus and regression file through them
//! (`tests/tests/fuzz_replay.rs`) and to compare generated inputs with httparse
//! (`tests/tests/wire_differential.rs`). A check panics when an invariant fails.
//!
//! The parser is reached through the crate's hidden API for its own fuzzing and tests:
//! `lambda_libc::context::parse_head` (the head parser with the context headers recorded),
//! `lambda_libc::http::{BodyDecoder, Progress, Framing, ResponseHead, Error, MAX_BODY}`,
//! and the public `lambda_libc::context::{Context, Field}`.
//!
//! The oracle for a header block is httparse (syntax) plus a plain restatement of the
//! documented semantics (framing, keep-alive, which header fills which context field).
//! Where lambda-libc deliberately differs from httparse, the rule is stated in
//! [`expected_head`] and the comparison is made on the common domain.

use lambda_libc::context::{self, Context, Field};
use lambda_libc::http::{BodyDecoder, Error, Framing, MAX_BODY, ResponseHead};

/// The fuzz targets and their checks, by name (the file names under `fuzz/fuzz_targets/`,
/// `fuzz/corpus/` and `fuzz/regressions/`).
pub const TARGETS: [(&str, Check); 3] = [("head", check_head), ("chunked", check_chunked), ("context", check_context)];

/// A target's checks: panics when an invariant fails.
pub type Check = fn(&[u8]);

const CRLFCRLF: &[u8] = b"\r\n\r\n";

/// The context fields in `Field` order, with their header names.
pub const FIELDS: [(Field, &str); 9] = [
    (Field::RequestId, "lambda-runtime-aws-request-id"),
    (Field::DeadlineMs, "lambda-runtime-deadline-ms"),
    (Field::InvokedFunctionArn, "lambda-runtime-invoked-function-arn"),
    (Field::TraceId, "lambda-runtime-trace-id"),
    (Field::ClientContext, "lambda-runtime-client-context"),
    (Field::CognitoIdentity, "lambda-runtime-cognito-identity"),
    (Field::TenantId, "lambda-runtime-aws-tenant-id"),
    (Field::InvocationId, "lambda-runtime-invocation-id"),
    (Field::ContentType, "content-type"),
];

/// What a parsed head means, independent of the buffer it was parsed from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meaning {
    pub status: u16,
    pub keep_alive: bool,
    pub framing: Framing,
    /// The value of each context field, in [`FIELDS`] order.
    pub fields: Vec<Vec<u8>>,
}

impl Meaning {
    fn of(head: &ResponseHead, context: &Context<'_>) -> Self {
        Meaning {
            status: head.status,
            keep_alive: head.keep_alive,
            framing: head.framing,
            fields: FIELDS.iter().map(|&(f, _)| context.field(f).to_vec()).collect(),
        }
    }
}

/// What lambda-libc must make of a header block, by the oracle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expected {
    /// Exactly this result.
    Exactly(Result<Meaning, Error>),
    /// Some error: httparse rejects the block, or one of lambda-libc's stricter rules does,
    /// and the error kind depends on which line fails first.
    Rejected(&'static str),
}

/// `parse_head`'s result for a whole head, made comparable.
pub fn parse_meaning(head: &[u8]) -> Result<Meaning, Error> {
    match context::parse_head(head)? {
        Some((h, c)) => Ok(Meaning::of(&h, &c)),
        None => panic!("parse_head finds no end in a block that ends with CRLFCRLF: {head:?}"),
    }
}

/// Where the first CRLFCRLF ends, if there is one.
pub fn first_blank_line(data: &[u8]) -> Option<usize> {
    data.windows(4).position(|w| w == CRLFCRLF).map(|i| i + 4)
}

fn trim(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

/// A non-empty run of ASCII digits that fits in a `u64`.
fn decimal(s: &[u8]) -> Option<u64> {
    if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(s).ok()?.parse().ok()
}

/// The oracle for a whole header block (`head` ends with its first CRLFCRLF).
///
/// lambda-libc parses only what the Runtime API sends, and differs from httparse by these
/// rules (each a deliberate choice, see `runtime/src/http/head.rs`):
/// 1. Every line ends with CRLF: a bare LF is an error (httparse accepts it).
/// 2. No empty lines before the status line (httparse skips them).
/// 3. The status code is 100 to 999 (httparse accepts 000 to 099).
/// 4. `HTTP/1.2` to `HTTP/1.9` are read as HTTP/1.1, since a higher minor version is
///    backward compatible (RFC 9110, 2.5); httparse knows only 1.0 and 1.1, so the block
///    is compared with the minor version replaced by 1.
///
/// On the common domain, httparse's status, version and headers, read by the documented
/// semantics, give the exact result: `Content-Length` is a decimal `u64`, repeated values
/// must agree, and one over `MAX_BODY` is too large; `Transfer-Encoding` must be `chunked` (any case); both at once are
/// ambiguous; the first failing header decides the error; `Connection` tokens `close`
/// and `keep-alive` (any case) override the version's default in order; a body neither
/// chunked nor sized is close-delimited (no keep-alive) unless the status has none (1xx,
/// 204, 304); the last header of a context field wins and its value is trimmed of spaces
/// and tabs.
pub fn expected_head(head: &[u8]) -> Expected {
    // Rule 1 (which also covers rule 2's `\n` and a first line of `\r\n` alone follows).
    if head.iter().enumerate().any(|(i, &b)| b == b'\n' && (i == 0 || head[i - 1] != b'\r')) {
        return Expected::Rejected("a line ends with a bare LF");
    }
    // Rule 2.
    if head.starts_with(b"\r\n") {
        return Expected::Exactly(Err(Error::StatusLine));
    }
    // Rule 4.
    let mut normalized;
    let mut block = head;
    if head.len() > 8 && head.starts_with(b"HTTP/1.") && (b'2'..=b'9').contains(&head[7]) {
        normalized = head.to_vec();
        normalized[7] = b'1';
        block = &normalized;
    }
    let lines = block.iter().filter(|&&b| b == b'\n').count();
    let mut headers = vec![httparse::EMPTY_HEADER; lines];
    let mut response = httparse::Response::new(&mut headers);
    match response.parse(block) {
        Err(_) => return Expected::Rejected("httparse rejects the block"),
        Ok(httparse::Status::Partial) => panic!("httparse finds no end in a block that ends with CRLFCRLF: {head:?}"),
        Ok(httparse::Status::Complete(n)) => {
            assert_eq!(n, head.len(), "httparse ends the block elsewhere than the first CRLFCRLF: {head:?}")
        }
    }
    let (Some(version), Some(status)) = (response.version, response.code) else {
        panic!("httparse completed a response without version or code: {head:?}");
    };
    // Rule 3.
    if status < 100 {
        return Expected::Exactly(Err(Error::StatusLine));
    }
    Expected::Exactly(semantics(version, status, response.headers))
}

/// The documented semantics over httparse's headers (see [`expected_head`]).
fn semantics(version: u8, status: u16, headers: &[httparse::Header<'_>]) -> Result<Meaning, Error> {
    let mut keep_alive = version == 1;
    let mut length: Option<u64> = None;
    let mut chunked = false;
    let mut fields = vec![Vec::new(); FIELDS.len()];
    for h in headers {
        let value = trim(h.value);
        let name = h.name.to_ascii_lowercase();
        match name.as_str() {
            "content-length" => {
                let n = decimal(value).ok_or(Error::ContentLength)?;
                if length.is_some_and(|l| l != n) {
                    return Err(Error::ContentLength);
                }
                if n > MAX_BODY {
                    return Err(Error::BodyTooLarge);
                }
                length = Some(n);
            }
            "transfer-encoding" => {
                if !value.eq_ignore_ascii_case(b"chunked") {
                    return Err(Error::TransferEncoding);
                }
                chunked = true;
            }
            "connection" => {
                for token in value.split(|&b| b == b',') {
                    let token = trim(token);
                    if token.eq_ignore_ascii_case(b"close") {
                        keep_alive = false;
                    } else if token.eq_ignore_ascii_case(b"keep-alive") {
                        keep_alive = true;
                    }
                }
            }
            other => {
                if let Some(i) = FIELDS.iter().position(|&(_, n)| n == other) {
                    fields[i] = value.to_vec();
                }
            }
        }
    }
    let framing = match (chunked, length) {
        (true, Some(_)) => return Err(Error::AmbiguousFraming),
        (true, None) => Framing::Chunked,
        (false, Some(n)) => Framing::Length(n),
        _ if status < 200 || status == 204 || status == 304 => Framing::Length(0),
        _ => {
            keep_alive = false;
            Framing::UntilClose
        }
    };
    Ok(Meaning { status, keep_alive, framing, fields })
}

/// Asserts that `parse_head(head)` is what [`expected_head`] says; returns the result.
pub fn assert_head_matches_oracle(head: &[u8]) -> Result<Meaning, Error> {
    let got = parse_meaning(head);
    match expected_head(head) {
        Expected::Exactly(want) => assert_eq!(got, want, "parse_head disagrees with httparse on {head:?}"),
        Expected::Rejected(why) => assert!(got.is_err(), "parse_head accepts a block that must fail ({why}): {head:?}"),
    }
    got
}

/// The structural invariants of a parsed head, whatever the input.
fn check_parsed(head: &[u8], h: &ResponseHead, c: &Context<'_>) {
    assert!((100..=999).contains(&h.status), "status {} out of range: {head:?}", h.status);
    if h.framing == Framing::UntilClose {
        assert!(!h.keep_alive, "a close-delimited body cannot keep the connection: {head:?}");
    }
    check_context_spans(head, c);
}

/// Every context value lies within the head, is trimmed, and holds no control character
/// but a tab (so no CR or LF: it cannot span lines).
fn check_context_spans(head: &[u8], c: &Context<'_>) {
    let range = head.as_ptr_range();
    for (f, name) in FIELDS {
        let v = c.field(f);
        if v.is_empty() {
            continue;
        }
        let r = v.as_ptr_range();
        assert!(range.start <= r.start && r.end <= range.end, "{name} lies outside the head: {head:?}");
        assert_eq!(trim(v), v, "{name} is not trimmed: {head:?}");
        assert!(v.iter().all(|&b| b == b'\t' || (b >= b' ' && b != 0x7f)), "{name} holds a control byte: {head:?}");
    }
}

/// Fuzz target `head`: any bytes as the start of a response.
///
/// `parse_head` never panics; it finds the end of a head exactly at the first CRLFCRLF and
/// ignores what follows; it reports an incomplete head only when there is no CRLFCRLF; an
/// error it finds stays the error however the input goes on; its result satisfies the
/// structural invariants and agrees with the httparse oracle. The same bytes with a
/// CRLFCRLF appended are checked too, so every input reaches the end of a head.
pub fn check_head(data: &[u8]) {
    check_one_head(data);
    let mut closed = data.to_vec();
    closed.extend_from_slice(CRLFCRLF);
    check_one_head(&closed);
}

fn check_one_head(data: &[u8]) {
    let got = context::parse_head(data);
    let blank = first_blank_line(data);
    match (&got, blank) {
        (Ok(None), None) => {}
        (Ok(None), Some(n)) => panic!("parse_head finds no end in {data:?}, which has a blank line at {n}"),
        (Ok(Some((h, _))), _) => {
            assert_eq!(Some(h.len), blank, "the head ends elsewhere than the first CRLFCRLF: {data:?}")
        }
        (Err(e), _) => {
            let mut longer = data.to_vec();
            longer.extend_from_slice(b"X-More: 1\r\n\r\n");
            let again = context::parse_head(&longer).map(|r| r.map(|(h, _)| h));
            assert_eq!(again, Err(*e), "an error changed when more bytes came: {data:?}");
        }
    }
    let Some(n) = blank else { return };
    let head = &data[..n];
    let whole = context::parse_head(head).map(|r| r.map(|(h, c)| Meaning::of(&h, &c)));
    assert_eq!(whole, got.map(|r| r.map(|(h, c)| Meaning::of(&h, &c))), "bytes after the head matter: {data:?}");
    if let Ok(Some((h, c))) = context::parse_head(head) {
        check_parsed(head, &h, &c);
    }
    let _ = assert_head_matches_oracle(head);
}

/// Fuzz target `context`: any bytes as the header lines of a `200` response, so every
/// input exercises the context fields: the head invariants, and the accessors agree with
/// the fields (`deadline_ms` is the decimal value or 0, `remaining_ms` is `i64::MAX` when
/// the deadline is unknown).
pub fn check_context(data: &[u8]) {
    let mut raw = b"HTTP/1.1 200 OK\r\n".to_vec();
    raw.extend_from_slice(data);
    raw.extend_from_slice(CRLFCRLF);
    check_one_head(&raw);
    let Ok(Some((_, c))) = context::parse_head(&raw) else { return };
    let pairs: [(&[u8], Field); 8] = [
        (c.request_id(), Field::RequestId),
        (c.invoked_function_arn(), Field::InvokedFunctionArn),
        (c.trace_id(), Field::TraceId),
        (c.client_context(), Field::ClientContext),
        (c.cognito_identity(), Field::CognitoIdentity),
        (c.tenant_id(), Field::TenantId),
        (c.invocation_id(), Field::InvocationId),
        (c.content_type(), Field::ContentType),
    ];
    for (value, f) in pairs {
        assert_eq!(value, c.field(f), "accessor of {f:?} disagrees with field()");
    }
    let deadline = decimal(c.field(Field::DeadlineMs)).unwrap_or(0);
    assert_eq!(c.deadline_ms(), deadline, "deadline_ms of {:?}", c.field(Field::DeadlineMs));
    if deadline == 0 {
        assert_eq!(c.remaining_ms(), i64::MAX, "an unknown deadline leaves unlimited time");
    }
    let copy = c;
    assert_eq!(copy, c, "a copied context is equal");
    assert_eq!(Context::default().request_id(), b"", "the default context is empty");
}

/// The outcome of decoding a chunked body, independent of buffers and splits: the decoded
/// data so far, and where the body ended in the raw input (`None`: not yet).
pub type Decoded = Result<(Vec<u8>, Option<usize>), Error>;

/// Decodes `raw` placed at `gap` in a buffer, in one call: `decode(buf, 0, gap, gap + len)`.
pub fn decode_whole(raw: &[u8], gap: usize) -> Decoded {
    let mut buf = vec![0xA5; gap];
    buf.extend_from_slice(raw);
    let end = buf.len();
    let p = BodyDecoder::new(Framing::Chunked).decode(&mut buf, 0, gap, end)?;
    assert!(p.out <= end, "out {} beyond the input end {end}", p.out);
    if let Some(e) = p.end {
        assert!(gap <= e && e <= end, "body end {e} outside the input {gap}..{end}");
        assert!(p.out <= e - gap, "decoded {} bytes out of {} raw", p.out, e - gap);
    }
    Ok((buf[..p.out].to_vec(), p.end.map(|e| e - gap)))
}

/// Decodes `raw` delivered in pieces ending at `cuts` (increasing raw offsets), the way the
/// client does: each piece is appended after the decoded data and decoded in place.
pub fn decode_split(raw: &[u8], cuts: &[usize]) -> Decoded {
    let mut buf = vec![0u8; raw.len()];
    let (mut dec, mut out, mut fed) = (BodyDecoder::new(Framing::Chunked), 0, 0);
    for &cut in cuts.iter().chain([&raw.len()]) {
        let cut = cut.clamp(fed, raw.len());
        let n = cut - fed;
        buf[out..out + n].copy_from_slice(&raw[fed..cut]);
        fed = cut;
        let p = dec.decode(&mut buf, out, out, out + n)?;
        assert!(out <= p.out && p.out <= out + n, "decoded end {} outside {out}..={}", p.out, out + n);
        if let Some(end) = p.end {
            assert!(
                end <= out + n && p.out <= end,
                "body end {end} with out {} after a piece {out}..{}",
                p.out,
                out + n
            );
            // Raw offset of the end: what was fed, less what is left after the end.
            return Ok((buf[..p.out].to_vec(), Some(fed - (out + n - end))));
        }
        out = p.out;
    }
    Ok((buf[..out].to_vec(), None))
}

/// Fuzz target `chunked`: any bytes as a chunked body.
///
/// Decoding never panics and gives the same outcome (data, end, or error kind) whether the
/// bytes arrive whole, one by one, in pieces of a size taken from the input, at cut points
/// taken from the input, or placed after a gap in the buffer; the output never overtakes
/// the input (`out <= raw`); a finished body ends with CRLF after at least 5 bytes of
/// framing; bytes after the end change nothing.
pub fn check_chunked(data: &[u8]) {
    let whole = decode_whole(data, 0);
    let ones: Vec<usize> = (1..data.len()).collect();
    let step = data.first().map_or(1, |&b| usize::from(b % 31) + 1);
    let steps: Vec<usize> = (step..data.len()).step_by(step).collect();
    // Cut points from the input itself: after every LF, CR or ';', and after byte 2.
    let marks: Vec<usize> = data
        .iter()
        .enumerate()
        .filter(|&(i, &b)| i == 2 || matches!(b, b'\n' | b'\r' | b';'))
        .map(|(i, _)| i + 1)
        .collect();
    for (how, got) in [
        ("one byte at a time", decode_split(data, &ones)),
        ("in equal pieces", decode_split(data, &steps)),
        ("cut at the framing", decode_split(data, &marks)),
        ("after a 7-byte gap", decode_whole(data, 7)),
    ] {
        assert_eq!(got, whole, "chunked decoding {how} differs from decoding whole: {data:?}");
    }
    if let Ok((out, Some(end))) = &whole {
        assert!(*end >= out.len() + 5, "{} data bytes in {end} raw bytes: {data:?}", out.len());
        assert_eq!(&data[end - 2..*end], b"\r\n", "a body ends with CRLF: {data:?}");
        assert_eq!(decode_whole(&data[..*end], 0), whole, "bytes after the end matter: {data:?}");
    }
    // Broken preconditions (out > raw, end > buf.len()) are the caller's bug: any framing
    // decodes nothing then, without a panic or a hang.
    let mut buf = data.to_vec();
    let len = buf.len();
    for framing in [Framing::Chunked, Framing::Length(len as u64), Framing::UntilClose] {
        for (out, raw, end) in [(1, 0, len), (0, 0, len + 64)] {
            let got = BodyDecoder::new(framing).decode(&mut buf, out, raw, end);
            assert_eq!(got.map(|p| p.out), Ok(out), "{framing:?} with broken preconditions decodes something");
        }
    }
}
