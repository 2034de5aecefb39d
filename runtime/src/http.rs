//! HTTP/1.1 response parsing: pure functions over bytes, no I/O, no `unsafe`.
//!
//! [`head_len`] finds the end of a header block, [`parse_head`] validates it and extracts
//! the framing and the invocation [`Context`], and [`Chunked`] reads the body (a chunked
//! one decoded in place), from any split of the bytes across reads.

use crate::context::{Context, FIELDS, Spans};

/// The largest header block accepted (status line, headers and the blank line).
pub const MAX_HEAD: usize = 64 * 1024;

/// How the body of a response is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// `Content-Length: n`, or no body (`n` = 0) for a 1xx, 204 or 304 status without one.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// Neither: the body ends when the server closes the connection.
    UntilClose,
}

/// Why a response cannot be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// No blank line within [`MAX_HEAD`] bytes.
    HeadTooLarge,
    /// The status line is not `HTTP/1.x NNN [reason]`.
    StatusLine,
    /// A header line is not `name: value` with a token name and a printable value.
    HeaderLine,
    /// `Content-Length` is not a decimal number, overflows, or two differ.
    ContentLength,
    /// A `Transfer-Encoding` other than `chunked`.
    TransferEncoding,
    /// Both `Content-Length` and `Transfer-Encoding`.
    AmbiguousFraming,
    /// A chunk size that is not hexadecimal or overflows 64 bits.
    ChunkSize,
    /// A chunk not followed by CRLF, or a malformed trailer section.
    ChunkFraming,
}

/// What went wrong with an exchange, NUL-separated: the client's failures, then one
/// message per [`Error`], from [`HTTP_ERRORS`] on.
pub(crate) const FAILURES: &[u8] = b"cannot connect\0send failed\0connection closed before a response\0\
    receive failed\0connection closed in the middle of the response\0unexpected bytes after the response\0\
    header block over 65536 bytes\0malformed status line\0malformed header line\0malformed Content-Length\0\
    unsupported Transfer-Encoding\0both Content-Length and Transfer-Encoding\0malformed chunk size\0\
    malformed chunk framing";
/// The index of the first [`Error`] message in [`FAILURES`].
pub(crate) const HTTP_ERRORS: usize = 6;

impl Error {
    /// A short ASCII description, for the one-line diagnostics.
    pub fn message(self) -> &'static [u8] {
        nth(FAILURES, HTTP_ERRORS + self as usize)
    }
}

/// The `n`th entry of a NUL-separated list (a table without pointers, so without
/// relocations in a position-independent executable).
pub(crate) fn nth(list: &'static [u8], n: usize) -> &'static [u8] {
    let mut rest = list;
    for _ in 0..n {
        rest = cut(rest, 0).1;
    }
    cut(rest, 0).0
}

/// Splits `s` at the first `c`: what precedes it and what follows it (empty if absent).
fn cut(s: &[u8], c: u8) -> (&[u8], &[u8]) {
    let i = s.iter().position(|&b| b == c).unwrap_or(s.len());
    (s.get(..i).unwrap_or_default(), s.get(i + 1..).unwrap_or_default())
}

/// The index of `s` in [`NAMES`] (lower-case entries made by [`prefixed`]), compared ASCII
/// case-insensitively; the number of entries if it is not there. An entry of another length
/// is skipped in one step: this runs for every header of every response.
///
/// Each byte of `s` is compared with its `0x20` bit set: for the entries' letters that is
/// the ASCII lower case, and their `-` could only match a CR, which is neither a token nor
/// field content, so never in `s`.
fn lookup(s: &[u8]) -> usize {
    let (mut i, mut rest) = (0, NAMES);
    while let [len, tail @ ..] = rest {
        let (name, next) = tail.split_at_checked(*len as usize).unwrap_or_default();
        if name.len() == s.len() && s.iter().zip(name).all(|(a, b)| a | 0x20 == *b) {
            return i;
        }
        i += 1;
        rest = next;
    }
    i
}

/// `a\0bc\0` as `\x01a\x02bc`: each entry led by its length instead of ended by a NUL (the
/// same number of bytes), for [`lookup`].
const fn prefixed<const N: usize>(list: &[u8; N]) -> [u8; N] {
    let mut out = [0u8; N];
    let (mut start, mut i) = (0, 0);
    while i < N {
        if list[i] == 0 {
            out[start] = (i - start) as u8;
            let mut j = start;
            while j < i {
                out[j + 1] = list[j];
                j += 1;
            }
            start = i + 1;
        }
        i += 1;
    }
    out
}

/// A parsed response head. Header values are borrowed from the input.
#[derive(Debug, Clone, Copy)]
pub struct Head<'a> {
    /// The status code, 100 to 999.
    pub status: u16,
    /// Whether the connection may be reused after this response.
    pub keep_alive: bool,
    /// How the body is delimited.
    pub framing: Framing,
    /// The Lambda context headers (all empty for a response that carries none).
    pub context: Context<'a>,
}

/// Returns the length of the header block at the start of `buf` (through the blank line),
/// or `None` if `buf` does not contain a whole one yet.
pub fn head_len(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4)
}

// Header names the parser looks for, then the values it knows, lower case and
// NUL-terminated (one list, so one `lookup` for both). The first `FIELDS` fill the context,
// in the order of `context::Field`.
const NAMES: &[u8] = &prefixed(
    b"lambda-runtime-aws-request-id\0lambda-runtime-deadline-ms\0\
    lambda-runtime-invoked-function-arn\0lambda-runtime-trace-id\0lambda-runtime-client-context\0\
    lambda-runtime-cognito-identity\0lambda-runtime-aws-tenant-id\0lambda-runtime-invocation-id\0\
    content-type\0content-length\0transfer-encoding\0connection\0chunked\0close\0keep-alive\0",
);
const CONTENT_LENGTH: usize = FIELDS;
const TRANSFER_ENCODING: usize = FIELDS + 1;
const CONNECTION: usize = FIELDS + 2;
const CHUNKED: usize = FIELDS + 3;
const CLOSE: usize = FIELDS + 4;
const KEEP_ALIVE: usize = FIELDS + 5;
/// Not a header: the status line, whose reason is read like a field value.
const STATUS_LINE: usize = usize::MAX;

/// Parses a header block: `head` must be exactly what [`head_len`] measured.
pub fn parse_head(head: &[u8]) -> Result<Head<'_>, Error> {
    let mut context = Context { head, spans: Default::default() };
    let m = parse_into(head, &mut context.spans)?;
    let framing = match m.body.state {
        SIZE_START => Framing::Chunked,
        UNTIL_CLOSE => Framing::UntilClose,
        _ => Framing::Length(m.body.remaining),
    };
    Ok(Head { status: m.status, keep_alive: m.keep_alive, framing, context })
}

/// What [`parse_head`] finds besides the context.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Meta {
    pub status: u16,
    pub keep_alive: bool,
    /// The decoder of the body, set up for its framing.
    pub body: Chunked,
}

/// [`parse_head`], recording where the context headers are in `spans`.
///
/// One pass over the bytes: the status line is `HTTP/1.x NNN[ reason]` and every header
/// line `token ':' field-content`, each ended by CRLF (at the very end of `head`, by CR).
#[inline(never)]
pub(crate) fn parse_into(head: &[u8], spans: &mut Spans) -> Result<Meta, Error> {
    spans.fill([0; 2]);
    // The minor version and the status code, as one decimal number.
    let mut n: u32 = 0;
    let Some((line, mut rest)) = head.split_first_chunk::<12>() else { return Err(Error::StatusLine) };
    for (&t, &b) in b"HTTP/1.0 000".iter().zip(line) {
        let d = b.wrapping_sub(b'0') as u32;
        if t != b && (t != b'0' || d > 9) {
            return Err(Error::StatusLine);
        }
        if t == b'0' {
            n = n * 10 + d;
        }
    }
    let status = n % 1000;
    // A reason, if any, after a space.
    if status < 100 || !matches!(rest, [b' ' | b'\r', ..]) {
        return Err(Error::StatusLine);
    }
    let mut keep_alive = n >= 1000;
    let mut length: Option<u64> = None;
    let mut chunked = false;
    // Each turn reads a field value (first the status line's reason) and its CRLF, acts on
    // it by the header it belongs to, then reads the next header's name and colon.
    let mut header = STATUS_LINE;
    loop {
        let (value, tail) = span(rest, is_value);
        let value = trim(value);
        rest = match crlf(tail) {
            Some(tail) => tail,
            None if header == STATUS_LINE => return Err(Error::StatusLine),
            None => return Err(Error::HeaderLine),
        };
        match header {
            CONTENT_LENGTH => {
                let n = parse_decimal(value).ok_or(Error::ContentLength)?;
                if length.is_some_and(|l| l != n) {
                    return Err(Error::ContentLength);
                }
                length = Some(n);
            }
            TRANSFER_ENCODING => {
                if lookup(value) != CHUNKED {
                    return Err(Error::TransferEncoding);
                }
                chunked = true;
            }
            CONNECTION => {
                let mut tokens = value;
                while !tokens.is_empty() {
                    let (token, tail) = cut(tokens, b',');
                    tokens = tail;
                    match lookup(trim(token)) {
                        CLOSE => keep_alive = false,
                        KEEP_ALIVE => keep_alive = true,
                        _ => {}
                    }
                }
            }
            f => {
                if let Some(span) = spans.get_mut(f) {
                    let start = value.as_ptr() as usize - head.as_ptr() as usize;
                    *span = [start, start + value.len()];
                }
            }
        }
        if crlf(rest).is_some() {
            break;
        }
        let (name, tail) = span(rest, is_token);
        let ([_, ..], [b':', tail @ ..]) = (name, tail) else { return Err(Error::HeaderLine) };
        header = lookup(name);
        rest = tail;
    }
    let body = if chunked {
        if length.is_some() {
            return Err(Error::AmbiguousFraming);
        }
        Chunked::new()
    } else if let Some(n) = length {
        Chunked::length(n)
    } else if status < 200 || status == 204 || status == 304 {
        Chunked::length(0)
    } else {
        keep_alive = false;
        Chunked { state: UNTIL_CLOSE, remaining: u64::MAX }
    };
    Ok(Meta { status: status as u16, keep_alive, body })
}

/// Splits `s` before its first byte that is not `ok`.
fn span(s: &[u8], ok: fn(u8) -> bool) -> (&[u8], &[u8]) {
    let i = s.iter().position(|&b| !ok(b)).unwrap_or(s.len());
    (s.get(..i).unwrap_or_default(), s.get(i..).unwrap_or_default())
}

/// What follows the CRLF at the start of `s` (a CR alone at the end of the block counts).
fn crlf(s: &[u8]) -> Option<&[u8]> {
    match s {
        [b'\r', b'\n', tail @ ..] => Some(tail),
        [b'\r'] => Some(&[]),
        _ => None,
    }
}

fn trim(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] | [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

/// RFC 9110 `tchar`.
fn is_token(b: u8) -> bool {
    // One bit per ASCII byte: `!#$%&'*+-.^_`|~`, digits and letters.
    let bits = if b < 64 { 0x03ff_6cfa_0000_0000_u64 } else { 0x57ff_ffff_c7ff_fffe };
    b < 128 && bits >> (b & 63) & 1 != 0
}

/// Field content: visible ASCII, space, tab and obs-text; no control characters.
fn is_value(b: u8) -> bool {
    b == b'\t' || (b >= b' ' && b != 0x7f)
}

/// A non-empty run of decimal digits that fits in a `u64`.
pub(crate) fn parse_decimal(s: &[u8]) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    let mut n: u64 = 0;
    for &b in s {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        n = n.checked_mul(10)?.checked_add(d as u64)?;
    }
    Some(n)
}

// Decoder states (`u32`, which makes shorter code than `u8`). Before `DATA_CR`, and in
// `LF | DATA`, a malformed byte is a chunk-size error, from it on a framing error.
const SIZE_START: u32 = 0;
const SIZE: u32 = 1;
const SIZE_SPACE: u32 = 2;
const EXTENSION: u32 = 3;
const DATA_CR: u32 = 4;
const TRAILER_START: u32 = 5;
const TRAILER: u32 = 6;
/// The states that copy bytes rather than classify them, from `DATA` to `UNTIL_CLOSE`.
const DATA: u32 = 7;
/// A whole body of `remaining` bytes (`Content-Length`), not chunked.
const BODY: u32 = 8;
/// A body that ends when the connection does: `BODY` that never completes.
const UNTIL_CLOSE: u32 = 9;
const DONE: u32 = 10;
/// Added to a state: a CR was read, an LF must follow, then that state (`DATA` with
/// nothing to copy, after a zero size, becomes `TRAILER_START`).
const LF: u32 = 16;
const ERROR: u32 = 255;
/// The state after a CR, a space or tab, a `;` or another field-content byte (columns),
/// by state (rows, up to `DATA`); hex digits in a size are read before.
#[rustfmt::skip]
const AFTER: [u8; 28] = {
    const E: u8 = ERROR as u8;
    const X: u8 = EXTENSION as u8;
    const T: u8 = TRAILER as u8;
    const SP: u8 = SIZE_SPACE as u8;
    const TO_DATA: u8 = (LF | DATA) as u8;
    const TO_SIZE: u8 = (LF | SIZE_START) as u8;
    const TO_DONE: u8 = (LF | DONE) as u8;
    const TO_TRAILER: u8 = (LF | TRAILER_START) as u8;
    [
        E, E, E, E, // SIZE_START
        TO_DATA, SP, X, E, // SIZE
        TO_DATA, SP, X, E, // SIZE_SPACE
        TO_DATA, X, X, X, // EXTENSION
        TO_SIZE, E, E, E, // DATA_CR
        TO_DONE, T, T, T, // TRAILER_START
        TO_TRAILER, T, T, T, // TRAILER
    ]
};

/// An incremental, in-place decoder for a chunked body, or for one delimited otherwise
/// (one code path for every body, [`Chunked::length`]).
///
/// Feed it the raw bytes as they arrive; it moves the data bytes down over the framing so
/// that the decoded body ends up contiguous at the start of the buffer.
#[derive(Debug, Clone, Copy)]
pub struct Chunked {
    state: u32,
    remaining: u64,
}

impl Default for Chunked {
    fn default() -> Self {
        Self::new()
    }
}

/// What one call to [`Chunked::decode`] achieved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// The end of the decoded data so far.
    pub out: usize,
    /// When the body is complete: the index just past its last byte (its final CRLF).
    pub end: Option<usize>,
}

impl Chunked {
    /// A decoder at the start of a body.
    pub const fn new() -> Self {
        Chunked { state: SIZE_START, remaining: 0 }
    }

    /// A decoder for a body that is not chunked but `n` bytes long (`Content-Length`):
    /// it only finds where the body ends, leaving its bytes in place.
    pub const fn length(n: u64) -> Self {
        Chunked { state: BODY, remaining: n }
    }

    /// Whether the body ends only when the connection does (no framing headers).
    pub(crate) fn until_close(&self) -> bool {
        self.state == UNTIL_CLOSE
    }

    /// Decodes the raw bytes `buf[raw..end]`, appending their data at `buf[out..]`.
    ///
    /// Requires `out <= raw <= end <= buf.len()` (data is not moved otherwise); since
    /// framing is never shorter than the data it wraps, the output never overtakes the
    /// input. All input up to the end of the body is consumed; on completion
    /// [`Progress::end`] tells where the body ended.
    #[inline(never)]
    pub fn decode(&mut self, buf: &mut [u8], mut out: usize, mut raw: usize, end: usize) -> Result<Progress, Error> {
        let len = buf.len();
        let buf = buf.get_mut(..end.min(len)).unwrap_or_default();
        let end = buf.len();
        let (mut st, mut remaining) = (self.state, self.remaining);
        let result = loop {
            if (DATA..DONE).contains(&st) {
                // Large events arrive in bulk: data moves down over the framing in one call
                // per read (for a whole body `raw == out`: `move_down` leaves it in place).
                let n = (end - raw).min(remaining.min(usize::MAX as u64) as usize);
                crate::sys::move_down(buf, raw, out, n);
                out += n;
                raw += n;
                remaining -= n as u64;
                if remaining != 0 {
                    break Ok(None);
                }
                if st == BODY {
                    break Ok(Some(raw));
                }
                // Nothing to copy in `DATA`: the size was zero, the trailer follows.
                st = if n == 0 { TRAILER_START } else { DATA_CR };
                continue;
            }
            let Some(&b) = buf.get(raw) else { break Ok(None) };
            raw += 1;
            let mut next = ERROR;
            if st & LF != 0 {
                if b == b'\n' {
                    next = st ^ LF;
                    if next == DONE {
                        st = SIZE_START;
                        break Ok(Some(raw));
                    }
                }
            } else if let (SIZE_START | SIZE, Some(digit)) = (st, (b as char).to_digit(16)) {
                if remaining >> 60 != 0 {
                    break Err(Error::ChunkSize);
                }
                remaining = remaining << 4 | digit as u64;
                next = SIZE;
            } else {
                // A control character is past the end of the table.
                let class = match b {
                    b'\r' => 0,
                    b' ' | b'\t' => 1,
                    b';' => 2,
                    _ if is_value(b) => 3,
                    _ => AFTER.len(),
                };
                next = AFTER.get(st as usize * 4 + class).map_or(ERROR, |&n| n as u32);
            }
            if next == ERROR {
                break Err(if st < DATA_CR || st == LF | DATA { Error::ChunkSize } else { Error::ChunkFraming });
            }
            st = next;
        };
        (self.state, self.remaining) = (st, remaining);
        result.map(|end| Progress { out, end })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::Field;

    fn head(bytes: &[u8]) -> Result<Head<'_>, Error> {
        assert_eq!(head_len(bytes), Some(bytes.len()), "test input must be one whole head");
        parse_head(bytes)
    }

    #[test]
    fn next_response_with_every_context_header() {
        let raw = b"HTTP/1.1 200 OK\r\n\
            Content-Type: application/json\r\n\
            lambda-runtime-aws-request-id: 8476a536-e9f4-11e8-9739-2dfe598c3fcd\r\n\
            Lambda-Runtime-Deadline-Ms:1542409706888\r\n\
            LAMBDA-RUNTIME-INVOKED-FUNCTION-ARN: \t arn:aws:lambda:us-east-2:123456789012:function:custom-runtime \t\r\n\
            Lambda-Runtime-Trace-Id: Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1\r\n\
            Lambda-Runtime-Client-Context: {\"client\":{}}\r\n\
            Lambda-Runtime-Cognito-Identity: {\"cognitoIdentityId\":\"x\"}\r\n\
            Lambda-Runtime-Aws-Tenant-Id: tenant-7\r\n\
            Lambda-Runtime-Invocation-Id: 5e3c1f0a\r\n\
            Date: Mon, 23 Nov 2026 12:00:00 GMT\r\n\
            Content-Length: 2\r\n\r\n";
        let h = head(raw).unwrap();
        assert_eq!((h.status, h.keep_alive, h.framing), (200, true, Framing::Length(2)));
        let c = h.context;
        assert_eq!(c.request_id(), b"8476a536-e9f4-11e8-9739-2dfe598c3fcd");
        assert_eq!(c.deadline_ms(), 1542409706888);
        assert_eq!(c.invoked_function_arn(), b"arn:aws:lambda:us-east-2:123456789012:function:custom-runtime");
        assert_eq!(c.trace_id(), b"Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1");
        assert_eq!(c.client_context(), b"{\"client\":{}}");
        assert_eq!(c.cognito_identity(), b"{\"cognitoIdentityId\":\"x\"}");
        assert_eq!(c.tenant_id(), b"tenant-7");
        assert_eq!(c.invocation_id(), b"5e3c1f0a");
        assert_eq!(c.content_type(), b"application/json");
    }

    #[test]
    fn empty_values_are_absent_and_later_headers_win() {
        let h = head(b"HTTP/1.1 200 OK\r\nLambda-Runtime-Client-Context:\r\nLambda-Runtime-Trace-Id: a\r\nLambda-Runtime-Trace-Id: b\r\nContent-Length: 0\r\n\r\n").unwrap();
        assert_eq!(h.context.client_context(), b"");
        assert_eq!(h.context.field(Field::TraceId), b"b");
        assert_eq!(h.context.deadline_ms(), 0);
    }

    #[test]
    fn status_lines() {
        for (raw, want) in [
            (&b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n"[..], Ok((202, true))),
            (b"HTTP/1.1 413\r\nContent-Length: 0\r\n\r\n", Ok((413, true))),
            (b"HTTP/1.1 500 \r\nContent-Length: 0\r\n\r\n", Ok((500, true))),
            (b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", Ok((200, false))),
            (b"HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n", Ok((200, true))),
            (b"HTTP/1.1 200 OK\r\nConnection: TE, close\r\nContent-Length: 0\r\n\r\n", Ok((200, false))),
            (b"HTTP/2.0 200 OK\r\n\r\n", Err(Error::StatusLine)),
            (b"HTTP/1.1 20 OK\r\n\r\n", Err(Error::StatusLine)),
            (b"HTTP/1.1 2000 OK\r\n\r\n", Err(Error::StatusLine)),
            (b"HTTP/1.1 099 OK\r\n\r\n", Err(Error::StatusLine)),
            (b"HTTP/1.1  200 OK\r\n\r\n", Err(Error::StatusLine)),
            (b"http/1.1 200 OK\r\n\r\n", Err(Error::StatusLine)),
            (b"HTTP/1.1 2x0 OK\r\n\r\n", Err(Error::StatusLine)),
            (b"HTTP/1.1 200 O\x01K\r\n\r\n", Err(Error::StatusLine)),
            (b"HTTP/1.1 200 OK\n\r\n\r\n", Err(Error::StatusLine)),
            (b"\r\n\r\n", Err(Error::StatusLine)),
        ] {
            let got = head(raw).map(|h| (h.status, h.keep_alive));
            assert_eq!(got, want, "{:?}", core::str::from_utf8(raw));
        }
    }

    #[test]
    fn header_lines() {
        for raw in [
            &b"HTTP/1.1 200 OK\r\nNo-Colon\r\n\r\n"[..],
            b"HTTP/1.1 200 OK\r\n: empty-name\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nSpace Before : x\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nName : x\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nA: b\r\n folded\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nA: b\rc\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nA: b\nC: d\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nA: b\x00\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nA: \x7f\r\n\r\n",
        ] {
            assert_eq!(head(raw).err(), Some(Error::HeaderLine), "{:?}", core::str::from_utf8(raw));
        }
        // obs-text and tabs are legal in values.
        let h = head(b"HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Tenant-Id: t\xc3\xa9\tx\r\nContent-Length: 0\r\n\r\n")
            .unwrap();
        assert_eq!(h.context.tenant_id(), "t\u{e9}\tx".as_bytes());
    }

    #[test]
    fn framing() {
        for (raw, want) in [
            (&b"HTTP/1.1 200 OK\r\nContent-Length: 0042\r\n\r\n"[..], Ok(Framing::Length(42))),
            (b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\nContent-Length: 5\r\n\r\n", Ok(Framing::Length(5))),
            (b"HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551615\r\n\r\n", Ok(Framing::Length(u64::MAX))),
            (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n", Ok(Framing::Chunked)),
            (b"HTTP/1.1 204 No Content\r\n\r\n", Ok(Framing::Length(0))),
            (b"HTTP/1.1 200 OK\r\n\r\n", Ok(Framing::UntilClose)),
            (b"HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551616\r\n\r\n", Err(Error::ContentLength)),
            (b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", Err(Error::ContentLength)),
            (b"HTTP/1.1 200 OK\r\nContent-Length: +1\r\n\r\n", Err(Error::ContentLength)),
            (b"HTTP/1.1 200 OK\r\nContent-Length: 1 2\r\n\r\n", Err(Error::ContentLength)),
            (b"HTTP/1.1 200 OK\r\nContent-Length: 0x10\r\n\r\n", Err(Error::ContentLength)),
            (b"HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n", Err(Error::ContentLength)),
            (b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", Err(Error::ContentLength)),
            (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", Err(Error::TransferEncoding)),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
                Err(Error::AmbiguousFraming),
            ),
        ] {
            assert_eq!(head(raw).map(|h| h.framing), want, "{:?}", core::str::from_utf8(raw));
        }
        assert!(!head(b"HTTP/1.1 200 OK\r\n\r\n").unwrap().keep_alive, "a close-delimited body ends the connection");
    }

    #[test]
    fn token_bitmap_is_rfc_9110_tchar() {
        for b in 0..=u8::MAX {
            let tchar = b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
            assert_eq!(is_token(b), tchar, "{b:#04x}");
        }
    }

    #[test]
    fn names_are_lower_case_letters_and_hyphens() {
        // What makes `lookup`'s `| 0x20` comparison exact (with no CR in what it looks up).
        let mut rest = NAMES;
        while let [len, tail @ ..] = rest {
            let (name, next) = tail.split_at(*len as usize);
            assert!(!name.is_empty() && name.iter().all(|&b| b.is_ascii_lowercase() || b == b'-'), "{name:?}");
            rest = next;
        }
        for (i, name) in
            [&b"Content-Length"[..], b"TRANSFER-ENCODING", b"Connection", b"Chunked", b"CLOSE", b"Keep-Alive"]
                .into_iter()
                .enumerate()
        {
            assert_eq!(lookup(name), CONTENT_LENGTH + i, "{name:?}");
        }
        assert_eq!(lookup(b"content-lengt"), KEEP_ALIVE + 1);
        assert_eq!(lookup(b"keep_alive"), KEEP_ALIVE + 1);
    }

    #[test]
    fn head_len_needs_the_blank_line() {
        assert_eq!(head_len(b"HTTP/1.1 200 OK\r\nA: b\r\n"), None);
        assert_eq!(head_len(b"HTTP/1.1 200 OK\r\n\r\nbody"), Some(19));
    }

    /// Decodes `raw` delivered in pieces of `step` bytes, the way the client does: each
    /// piece is appended after the decoded output, then decoded in place.
    fn dechunk(raw: &[u8], step: usize) -> Result<(std::vec::Vec<u8>, usize), Error> {
        let mut buf = std::vec![0u8; raw.len()];
        let (mut dec, mut out, mut fed) = (Chunked::new(), 0, 0);
        while fed < raw.len() {
            let n = step.min(raw.len() - fed);
            buf[out..out + n].copy_from_slice(&raw[fed..fed + n]);
            fed += n;
            let p = dec.decode(&mut buf, out, out, out + n)?;
            if let Some(end) = p.end {
                let extra = out + n - end;
                return Ok((buf[..p.out].to_vec(), fed - extra));
            }
            out = p.out;
        }
        Err(Error::ChunkFraming)
    }

    #[test]
    fn chunked_golden_bytes_in_every_split() {
        let cases: [(&[u8], &[u8]); 6] = [
            (b"5\r\nhello\r\n0\r\n\r\n", b"hello"),
            (b"0\r\n\r\n", b""),
            (b"3\r\nabc\r\n2\r\nde\r\n1\r\nf\r\n0\r\n\r\n", b"abcdef"),
            (b"00A;ext=1;q=\"x\"\r\n0123456789\r\n000\r\n\r\n", b"0123456789"),
            (b"a \t; name=value\r\nABCDEFGHIJ\r\n0\r\nTrailer-One: x\r\nTrailer-Two: y\r\n\r\n", b"ABCDEFGHIJ"),
            (b"1\r\n\r\r\n0;last\r\nT: v\r\n\r\n", b"\r"),
        ];
        for (raw, data) in cases {
            for step in 1..=raw.len() {
                assert_eq!(dechunk(raw, step), Ok((data.to_vec(), raw.len())), "step {step}: {raw:?}");
            }
        }
    }

    #[test]
    fn chunked_stops_at_the_end_of_the_body() {
        let raw = b"2\r\nok\r\n0\r\n\r\nHTTP/1.1";
        let mut buf = raw.to_vec();
        let p = Chunked::new().decode(&mut buf, 0, 0, raw.len()).unwrap();
        assert_eq!(p, Progress { out: 2, end: Some(raw.len() - 8) });
    }

    #[test]
    fn chunked_rejects_malformed_framing() {
        for (raw, want) in [
            (&b"\r\n"[..], Error::ChunkSize),
            (b"g\r\n", Error::ChunkSize),
            (b"-1\r\n", Error::ChunkSize),
            (b"1 2\r\n", Error::ChunkSize),
            (b"5\n", Error::ChunkSize),
            (b"5\r\r", Error::ChunkSize),
            (b"10000000000000000\r\n", Error::ChunkSize),
            (b"ffffffffffffffff0\r\n", Error::ChunkSize),
            (b"1;\x01\r\n", Error::ChunkSize),
            (b"2\r\nabc\r\n", Error::ChunkFraming),
            (b"2\r\nab\n", Error::ChunkFraming),
            (b"0\r\nT: v\n", Error::ChunkFraming),
            (b"0\r\n\r\r", Error::ChunkFraming),
            (b"0\r\nT\x00\r\n\r\n", Error::ChunkFraming),
        ] {
            let mut buf = raw.to_vec();
            let got = Chunked::new().decode(&mut buf, 0, 0, raw.len());
            assert_eq!(got, Err(want), "{raw:?}");
        }
    }

    #[test]
    fn chunk_size_accepts_sixteen_hex_digits_and_leading_zeros() {
        let mut buf = b"0000000000000000000000ffffffffffffffff\r\n".to_vec();
        let mut dec = Chunked::new();
        let n = buf.len();
        assert_eq!(dec.decode(&mut buf, 0, 0, n), Ok(Progress { out: 0, end: None }));
        assert_eq!(dec.remaining, u64::MAX);
    }
}
