//! The Runtime API as the harness speaks it: the events, the `/next` responses (framed with
//! `Content-Length` or chunked, with RAPID's context headers) and a parser for the requests
//! a runtime sends, which never copies a body.

use std::ops::Range;

/// The Runtime API's version prefix.
pub const PREFIX: &str = "/2018-06-01/runtime/";
/// The `/next` request target.
pub const NEXT: &str = "/2018-06-01/runtime/invocation/next";
/// The ARN every event carries.
pub const FUNCTION_ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:bench";
/// A trace header in the shape the real API sends.
pub const TRACE_ID: &str = "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1";
/// What RAPID answers to an accepted `/response`.
pub const ACCEPTED: &[u8] =
    b"HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: 16\r\n\r\n{\"status\":\"OK\"}\n";
/// The answer to anything the harness does not expect (the run then fails).
pub const NOT_FOUND: &[u8] = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
/// The largest request head the parser accepts.
pub const MAX_HEAD: usize = 64 * 1024;
/// The largest request body the parser accepts (the Runtime API's limit).
pub const MAX_BODY: usize = 6_291_556;

/// A JSON event of exactly `len` bytes (at least 12): `{"data":"…"}` with deterministic
/// alphanumeric filler, so every runtime (including ones that validate JSON) echoes it byte
/// for byte.
pub fn json_event(len: usize) -> Vec<u8> {
    const OPEN: &[u8] = b"{\"data\":\"";
    const CLOSE: &[u8] = b"\"}";
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    assert!(len > OPEN.len() + CLOSE.len(), "an event has at least 12 bytes");
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut event = OPEN.to_vec();
    event.extend((0..len - OPEN.len() - CLOSE.len()).map(|_| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        ALPHABET[(x % ALPHABET.len() as u64) as usize]
    }));
    event.extend_from_slice(CLOSE);
    event
}

/// How an event's body goes on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    ContentLength,
    /// `Transfer-Encoding: chunked` with chunks of this many bytes (the last may be shorter).
    Chunked(usize),
}

/// The body bytes of a `/next` response: the event itself, or its chunked encoding.
pub fn frame(event: &[u8], framing: Framing) -> Vec<u8> {
    match framing {
        Framing::ContentLength => event.to_vec(),
        Framing::Chunked(size) => {
            let mut out = Vec::with_capacity(event.len() + event.len() / size.max(1) * 10 + 16);
            for chunk in event.chunks(size.max(1)) {
                out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
                out.extend_from_slice(chunk);
                out.extend_from_slice(b"\r\n");
            }
            out.extend_from_slice(b"0\r\n\r\n");
            out
        }
    }
}

/// The request id of invocation `i` of run `run`: UUID-shaped, as Lambda's, and decimal
/// digits only, so that every id takes the same path through a runtime's checks (the
/// instruction counts of `callgrind` do not depend on which run of a process it is).
pub fn request_id(run: u32, i: usize) -> String {
    format!("{run:08}-0000-4000-8000-{i:012}")
}

/// The head of the `/next` response for an event: status, RAPID's context headers, framing.
pub fn next_head(request_id: &str, deadline_ms: u64, event_len: usize, framing: Framing) -> Vec<u8> {
    let framing = match framing {
        Framing::ContentLength => format!("Content-Length: {event_len}"),
        Framing::Chunked(_) => "Transfer-Encoding: chunked".to_owned(),
    };
    format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nLambda-Runtime-Aws-Request-Id: {request_id}\r\n\
         Lambda-Runtime-Deadline-Ms: {deadline_ms}\r\nLambda-Runtime-Invoked-Function-Arn: {FUNCTION_ARN}\r\n\
         Lambda-Runtime-Trace-Id: {TRACE_ID}\r\nDate: Thu, 01 Jan 2026 00:00:00 GMT\r\n{framing}\r\n\r\n"
    )
    .into_bytes()
}

/// The `/response` target for a request id.
pub fn response_target(request_id: &str) -> String {
    format!("{PREFIX}invocation/{request_id}/response")
}

/// One complete request, as positions in the buffer it was parsed from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: Range<usize>,
    pub target: Range<usize>,
    /// The decoded body: one range (`Content-Length`) or one per chunk.
    pub body: Vec<Range<usize>>,
    /// `Transfer-Encoding: chunked`.
    pub chunked: bool,
    /// `Connection: close`.
    pub close: bool,
    /// The bytes the request occupies, head and framed body.
    pub len: usize,
}

impl Request {
    pub fn method<'b>(&self, buf: &'b [u8]) -> &'b [u8] {
        &buf[self.method.clone()]
    }

    pub fn target<'b>(&self, buf: &'b [u8]) -> &'b [u8] {
        &buf[self.target.clone()]
    }

    pub fn body_len(&self) -> usize {
        self.body.iter().map(|r| r.len()).sum()
    }

    /// Whether the decoded body is exactly `expected`, compared in place.
    pub fn body_is(&self, buf: &[u8], expected: &[u8]) -> bool {
        if self.body_len() != expected.len() {
            return false;
        }
        let mut at = 0;
        self.body.iter().all(|r| {
            let same = buf[r.clone()] == expected[at..at + r.len()];
            at += r.len();
            same
        })
    }

    /// The decoded body, copied (for error messages).
    pub fn body_bytes(&self, buf: &[u8]) -> Vec<u8> {
        self.body.iter().flat_map(|r| buf[r.clone()].iter().copied()).collect()
    }
}

/// Why a request cannot be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError(pub &'static str);

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

/// How many headers the parser reads into an array on the stack; a request with more (none
/// a runtime sends) is parsed again into one on the heap, so only the head's size is limited.
const HEADERS: usize = 32;
/// The longest chunk size line: the size, and extensions (which are ignored).
const MAX_SIZE_LINE: usize = 32 + 4096;

/// Parses the request at the start of `buf`: `Ok(None)` while it is incomplete. HTTP/1.1
/// (the head by `httparse`, which also takes bare LF line ends in it), `Content-Length` or
/// chunked bodies (extensions and trailers allowed), header names case-insensitive.
pub fn parse_request(buf: &[u8]) -> Result<Option<Request>, ParseError> {
    // A head ends within MAX_HEAD + 4 bytes (its last CRLF CRLF starts within MAX_HEAD), so
    // httparse never reads further than that, whatever follows.
    let head = &buf[..buf.len().min(MAX_HEAD + 4)];
    let mut few = [httparse::EMPTY_HEADER; HEADERS];
    let mut many;
    let mut req = httparse::Request::new(&mut few);
    let status = match req.parse(head) {
        Err(httparse::Error::TooManyHeaders) => {
            // At most one header a line.
            many = vec![httparse::EMPTY_HEADER; head.iter().filter(|&&b| b == b'\n').count()];
            req = httparse::Request::new(&mut many);
            req.parse(head)
        }
        status => status,
    };
    let head_len = match status {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => {
            return if buf.len() >= MAX_HEAD { Err(ParseError("request head over 64 KiB")) } else { Ok(None) };
        }
        Err(e) => return Err(head_error(e, head)),
    };
    if req.version != Some(1) {
        return Err(ParseError("not HTTP/1.1"));
    }
    let (Some(method), Some(target)) = (req.method, req.path) else {
        unreachable!("a complete head has a request line")
    };
    let (mut length, mut chunked, mut close) = (None, false, false);
    for h in &*req.headers {
        // httparse has trimmed the value's whitespace.
        let (name, value) = (h.name.as_bytes(), h.value);
        if name.eq_ignore_ascii_case(b"content-length") {
            let n = std::str::from_utf8(value).ok().and_then(|v| v.parse::<usize>().ok());
            length = Some(n.ok_or(ParseError("bad Content-Length"))?);
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            if !value.eq_ignore_ascii_case(b"chunked") {
                return Err(ParseError("unsupported Transfer-Encoding"));
            }
            chunked = true;
        } else if name.eq_ignore_ascii_case(b"connection") {
            close = value.eq_ignore_ascii_case(b"close");
        }
    }
    let mut request = Request {
        method: range_in(buf, method.as_bytes()),
        target: range_in(buf, target.as_bytes()),
        body: Vec::new(),
        chunked,
        close,
        len: head_len,
    };
    match (length, chunked) {
        (Some(_), true) => return Err(ParseError("both Content-Length and chunked")),
        (Some(n), false) => {
            if n > MAX_BODY {
                return Err(ParseError("body over 6,291,556 bytes"));
            }
            if buf.len() < head_len + n {
                return Ok(None);
            }
            request.body.push(head_len..head_len + n);
            request.len = head_len + n;
        }
        (None, false) => {}
        (None, true) => {
            let mut at = head_len;
            let mut total = 0;
            loop {
                let line = &buf[at..buf.len().min(at + MAX_SIZE_LINE + 2)];
                // A size is one hex digit or more; httparse reads an empty one as 0, which
                // would end the body.
                if !line.first().is_none_or(u8::is_ascii_hexdigit) {
                    return Err(ParseError("bad chunk size"));
                }
                let (size_line_len, size) = match httparse::parse_chunk_size(line) {
                    Ok(httparse::Status::Complete(parsed)) => parsed,
                    Ok(httparse::Status::Partial) if line.len() == MAX_SIZE_LINE + 2 => {
                        return Err(ParseError("chunk size line too long"));
                    }
                    Ok(httparse::Status::Partial) => return Ok(None),
                    Err(httparse::InvalidChunkSize) => return Err(ParseError("bad chunk size")),
                };
                at += size_line_len;
                if size == 0 {
                    // Trailers, then the empty line.
                    loop {
                        let Some(nl) = find(&buf[at..], b"\r\n", MAX_HEAD) else { return Ok(None) };
                        at += nl + 2;
                        if nl == 0 {
                            request.len = at;
                            return Ok(Some(request));
                        }
                    }
                }
                // Checked before it is added: a size can be up to 16 hex digits.
                let size = usize::try_from(size)
                    .ok()
                    .filter(|&size| size <= MAX_BODY - total)
                    .ok_or(ParseError("body over 6,291,556 bytes"))?;
                total += size;
                if buf.len() < at + size + 2 {
                    return Ok(None);
                }
                if &buf[at + size..at + size + 2] != b"\r\n" {
                    return Err(ParseError("chunk data not followed by CRLF"));
                }
                request.body.push(at..at + size);
                at += size + 2;
            }
        }
    }
    Ok(Some(request))
}

/// Where `part` (a subslice of `buf`, as httparse returns them) lies in `buf`.
fn range_in(buf: &[u8], part: &[u8]) -> Range<usize> {
    let start = part.as_ptr().addr() - buf.as_ptr().addr();
    start..start + part.len()
}

/// What an httparse error means, in words (a cold path: the run fails).
fn head_error(e: httparse::Error, head: &[u8]) -> ParseError {
    ParseError(match e {
        httparse::Error::Token | httparse::Error::Status => "malformed request line",
        httparse::Error::Version => "not HTTP/1.1",
        httparse::Error::NewLine => "bad line end in the request head",
        httparse::Error::HeaderName => return header_name_error(head),
        httparse::Error::HeaderValue => "invalid byte in a header value",
        // Not after a retry with a header for every line.
        httparse::Error::TooManyHeaders => "too many headers",
    })
}

/// Which of httparse's header name errors it is: the first header line with a name that is
/// not a token, or with no colon at all.
fn header_name_error(head: &[u8]) -> ParseError {
    // httparse skips empty lines before the request line.
    let start = head.iter().position(|&b| b != b'\r' && b != b'\n').unwrap_or(head.len());
    let mut lines = head[start..].split(|&b| b == b'\n').skip(1).peekable();
    while let Some(line) = lines.next() {
        let ended = lines.peek().is_some() || line.ends_with(b"\r");
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            break;
        }
        let colon = line.iter().position(|&b| b == b':');
        let name = &line[..colon.unwrap_or(line.len())];
        if name.is_empty() || !name.iter().all(|&b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)) {
            break;
        }
        if colon.is_none() && ended {
            return ParseError("header without a colon");
        }
    }
    ParseError("invalid header name")
}

/// The position of `needle` in the first `limit` (+ needle length) bytes of `hay`.
fn find(hay: &[u8], needle: &[u8], limit: usize) -> Option<usize> {
    let hay = &hay[..hay.len().min(limit + needle.len())];
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &[u8]) -> Request {
        parse_request(raw).expect("valid").expect("complete")
    }

    #[test]
    fn events_are_json_of_the_exact_length() {
        for len in [12, 100, 5 << 20] {
            let e = json_event(len);
            assert_eq!(e.len(), len);
            assert!(e.starts_with(b"{\"data\":\"") && e.ends_with(b"\"}"));
            assert!(e[9..len - 2].iter().all(u8::is_ascii_alphanumeric));
        }
        assert_eq!(json_event(100), json_event(100), "deterministic");
    }

    #[test]
    fn chunked_framing_round_trips_through_the_parser() {
        let event = json_event(100_000);
        let framed = frame(&event, Framing::Chunked(32 * 1024));
        assert!(framed.starts_with(b"8000\r\n") && framed.ends_with(b"\r\n0\r\n\r\n"));
        let mut raw = b"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
        raw.extend_from_slice(&framed);
        let r = parse(&raw);
        assert_eq!(r.body.len(), 4);
        assert!(r.chunked && r.body_is(&raw, &event));
        assert_eq!(r.len, raw.len());
        assert_eq!(frame(b"abc", Framing::ContentLength), b"abc");
    }

    #[test]
    fn next_heads_carry_the_context_headers() {
        let id = request_id(7, 42);
        assert_eq!(id, "00000007-0000-4000-8000-000000000042");
        assert_eq!(request_id(12, 0), "00000012-0000-4000-8000-000000000000");
        let head = String::from_utf8(next_head(&id, 1_700_000_000_000, 100, Framing::ContentLength)).unwrap();
        for h in [
            "HTTP/1.1 200 OK\r\n",
            "\r\nLambda-Runtime-Aws-Request-Id: 00000007-0000-4000-8000-000000000042\r\n",
            "\r\nLambda-Runtime-Deadline-Ms: 1700000000000\r\n",
            "\r\nLambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:123456789012:function:bench\r\n",
            "\r\nLambda-Runtime-Trace-Id: Root=1-",
            "\r\nContent-Length: 100\r\n\r\n",
        ] {
            assert!(head.contains(h), "{h:?} in {head:?}");
        }
        assert!(head.ends_with("\r\n\r\n") && !head.contains("chunked"));
        let chunked = String::from_utf8(next_head(&id, 1, 100, Framing::Chunked(10))).unwrap();
        assert!(chunked.ends_with("\r\nTransfer-Encoding: chunked\r\n\r\n") && !chunked.contains("Content-Length"));
        assert_eq!(
            response_target(&id),
            "/2018-06-01/runtime/invocation/00000007-0000-4000-8000-000000000042/response"
        );
    }

    #[test]
    fn content_length_requests() {
        let raw = b"POST /2018-06-01/runtime/invocation/a/response HTTP/1.1\r\nHost: h\r\ncontent-length:  5 \r\n\r\nhelloGET";
        let r = parse(raw);
        assert_eq!(r.method(raw), b"POST");
        assert_eq!(r.target(raw), b"/2018-06-01/runtime/invocation/a/response");
        assert!(r.body_is(raw, b"hello") && !r.body_is(raw, b"hellO") && !r.body_is(raw, b"hell"));
        assert_eq!((r.len, r.chunked, r.close), (raw.len() - 3, false, false));
        assert_eq!(r.body_bytes(raw), b"hello");

        let get = b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
        let r = parse(get);
        assert_eq!((r.method(get), r.target(get), r.body_len(), r.close), (&b"GET"[..], NEXT.as_bytes(), 0, true));
    }

    #[test]
    fn incomplete_requests_wait_for_more() {
        let raw = b"POST /r HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello";
        for end in 0..raw.len() {
            assert_eq!(parse_request(&raw[..end]), Ok(None), "{end}");
        }
        let chunked =
            b"POST /r HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nX-T: 1\r\n\r\n";
        for end in 0..chunked.len() {
            assert_eq!(parse_request(&chunked[..end]), Ok(None), "{end}");
        }
        let r = parse(chunked);
        assert!(r.body_is(chunked, b"abcde"));
        assert_eq!(r.len, chunked.len());
    }

    #[test]
    fn malformed_requests() {
        for (raw, why) in [
            (&b"GET / HTTP/1.0\r\n\r\n"[..], "not HTTP/1.1"),
            (b"GET\r\n\r\n", "malformed request line"),
            (b"GET / HTTP/1.1\r\nNoColon\r\n\r\n", "header without a colon"),
            (b"POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n", "bad Content-Length"),
            (
                b"POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
                "both Content-Length and chunked",
            ),
            (b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", "unsupported Transfer-Encoding"),
            (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "bad chunk size"),
            (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n", "chunk data not followed by CRLF"),
            (b"POST / HTTP/1.1\r\nContent-Length: 6291557\r\n\r\n", "body over 6,291,556 bytes"),
        ] {
            assert_eq!(parse_request(raw), Err(ParseError(why)), "{}", String::from_utf8_lossy(raw));
        }
        assert_eq!(parse_request(&vec![b'a'; MAX_HEAD + 10]), Err(ParseError("request head over 64 KiB")));
    }

    #[test]
    fn httparse_errors_in_words() {
        for (raw, why) in [
            (&b"GET / HTTP/2.0\r\n\r\n"[..], "not HTTP/1.1"),
            (b"GET / HTTP/1.1 x\r\n\r\n", "bad line end in the request head"),
            (b"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n", "invalid header name"),
            (b"GET / HTTP/1.1\r\nA: 1\r\nNoColon\r", "header without a colon"),
            (b"GET / HTTP/1.1\r\nA: \x01\r\n\r\n", "invalid byte in a header value"),
            (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n\r\n", "bad chunk size"),
            (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n;x\r\n", "bad chunk size"),
            (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\n", "body over 6,291,556 bytes"),
        ] {
            assert_eq!(parse_request(raw), Err(ParseError(why)), "{}", String::from_utf8_lossy(raw));
        }
        let mut long = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1;".to_vec();
        long.resize(long.len() + MAX_SIZE_LINE, b'x');
        assert_eq!(parse_request(&long), Err(ParseError("chunk size line too long")));
    }

    #[test]
    fn more_headers_than_the_stack_array() {
        let mut raw = b"POST /r HTTP/1.1\r\n".to_vec();
        for i in 0..3 * HEADERS {
            raw.extend_from_slice(format!("X-{i}: {i}\r\n").as_bytes());
        }
        raw.extend_from_slice(b"Connection: close\r\nContent-Length: 2\r\n\r\nok");
        let r = parse(&raw);
        assert!(r.close && r.body_is(&raw, b"ok") && r.len == raw.len());
        assert_eq!(parse_request(&raw[..raw.len() - 1]), Ok(None));
    }
}
