//! Response streaming (`RESPONSE_STREAM`): a response sent as it is produced, in chunks, up
//! to Lambda's 200 MB limit, with mid-stream errors reported as real HTTP trailers.
//!
//! On the wire (the Runtime API's streaming format): a `POST …/{id}/response` with
//! `Lambda-Runtime-Function-Response-Mode: streaming`, `Transfer-Encoding: chunked` and a
//! `Trailer` header announcing `Lambda-Runtime-Function-Error-Type` and
//! `Lambda-Runtime-Function-Error-Body`, on a connection of its own that is closed after the
//! stream (the Runtime API asks for it to be closed; the keep-alive connection of `/next` is
//! untouched). Each [`Stream::write`] is one chunk, sent with one `sendmsg` straight from
//! the caller's buffer: nothing is accumulated. The stream ends with the zero-length chunk,
//! alone ([`Stream::finish`]) or followed by the two error trailers ([`Stream::fail`]).

use crate::ascii;
use crate::client::{self, Conn, Failure, HTTP_HOST, INVOCATION_ID, POST_INVOCATION as POST, REPLY_BODY};
use crate::handler::Error;
use crate::http;
use crate::json::{self, Cursor};
use crate::policy;
use crate::runtime::Responder;
use crate::sys::Socket;

/// The content type of an HTTP integration response (Function URLs in `RESPONSE_STREAM`
/// mode, API Gateway response streaming): a JSON prelude, 8 NUL bytes, then the body.
pub const HTTP_INTEGRATION_RESPONSE: &str = "application/vnd.awslambda.http-integration-response";
const OCTET_STREAM: &[u8] = b"application/octet-stream";

const RESPONSE: &[u8] = b"/response";
/// How diagnostics name the request, after its id.
const RESPONSE_STREAMING: &[u8] = b"/response (streaming)";
/// The headers after `Host`, up to the content type's value.
const HEADERS: &[u8] = concat!(
    "\r\nUser-Agent: lambda-libc/",
    env!("CARGO_PKG_VERSION"),
    "\r\nLambda-Runtime-Function-Response-Mode: streaming",
    "\r\nTransfer-Encoding: chunked",
    "\r\nTrailer: Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body",
    "\r\nContent-Type: "
)
.as_bytes();
/// The zero-length chunk and the end of the (empty) trailer section.
const LAST_CHUNK: &[u8] = b"0\r\n\r\n";
/// The zero-length chunk and the first trailer's name.
const ERROR_TYPE: &[u8] = b"0\r\nLambda-Runtime-Function-Error-Type: ";
const ERROR_BODY: &[u8] = b"\r\nLambda-Runtime-Function-Error-Body: ";
/// The longest error document sent in a trailer (its base64 is a third longer): a longer
/// message is cut and marked ` [truncated]`, as on `/error`.
const MAX_DOCUMENT: usize = 16 * 1024;

/// What a [`Stream`] dropped unfinished reports.
const NOT_FINISHED: Error<'static> =
    Error::new("Runtime.StreamNotFinished", "the stream was dropped without finish or fail");

/// Why a stream call failed. The cause was logged (one line on stderr) when it happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamError {
    /// The connection failed: it could not be opened, a send failed (e.g. the server closed
    /// it), or the reply to the finished stream was missing or malformed. The stream is
    /// over: every later call on it returns this at once, without logging again.
    Broken,
    /// The Runtime API answered the ended stream with a 4xx status (e.g. 400, 403, 410, 413).
    /// A 5xx ends the process, as it does for every answer.
    Rejected,
}

/// The metadata of an HTTP integration response ([`Responder::stream_http`]): written as
/// the JSON prelude `{"statusCode":…,"headers":{…},"cookies":[…]}` followed by 8 NUL bytes,
/// before the body.
///
/// Names, values and cookies are JSON-escaped. A header name given twice is sent twice in
/// the `headers` object (`multiValueHeaders` is not supported): join values with commas,
/// and send `Set-Cookie` values as `cookies`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpPrelude<'a> {
    /// The HTTP status code, 100 to 599.
    pub status_code: u16,
    /// Response headers, `(name, value)`.
    pub headers: &'a [(&'a str, &'a str)],
    /// `Set-Cookie` values, e.g. `"id=1; Path=/; HttpOnly"`.
    pub cookies: &'a [&'a str],
}

/// A streamed response in progress, from [`Responder::stream`] or
/// [`Responder::stream_http`]: [`write`](Stream::write) chunks, then
/// [`finish`](Stream::finish) or [`fail`](Stream::fail).
///
/// Dropping a stream that was neither finished nor failed ends it with the error trailers
/// of a `Runtime.StreamNotFinished` error, so that a truncated stream is never reported as a
/// success.
///
/// The invocation was answered when the stream began: a panic while streaming is logged
/// (the stream then ends without its last chunk, which the Runtime API reports as an
/// error), but is not posted to `/error`.
pub struct Stream<'r> {
    /// `None` once the stream has ended or broken.
    sock: Option<Socket>,
    conn: &'r mut Conn<'static>,
    /// The request id, for diagnostics.
    id: &'r [u8],
}

impl<'r> Responder<'r> {
    /// Answers the invocation with a streamed response of `content_type` (an empty or
    /// invalid one, e.g. with control characters, is sent as `application/octet-stream`):
    /// opens a connection of its own and sends the request head.
    ///
    /// Failing to connect or send is logged, and the stream is then [broken](StreamError::Broken):
    /// every call on it returns an error.
    pub fn stream(self, content_type: &[u8]) -> Stream<'r> {
        open(self, content_type, 0)
    }

    /// Answers the invocation with a streamed HTTP integration response: content type
    /// [`HTTP_INTEGRATION_RESPONSE`], first chunk the JSON prelude of `prelude` and 8 NUL
    /// bytes (sent with the request head). Then write the body.
    ///
    /// If the status code is not 100 to 599 or the JSON does not fit in the 64 KiB scratch
    /// buffer, nothing is sent and the responder is handed back, the invocation still
    /// unanswered.
    #[allow(clippy::result_large_err)] // no heap to box it in; it is moved, not copied around
    pub fn stream_http(self, prelude: &HttpPrelude<'_>) -> Result<Stream<'r>, Responder<'r>> {
        let headers = prelude.headers.iter().map(|&(n, v)| (n.as_bytes(), v.as_bytes()));
        let cookies = prelude.cookies.iter().map(|c| c.as_bytes());
        self.stream_prelude(prelude.status_code, headers, cookies)
    }

    /// [`stream_http`](Responder::stream_http) with the prelude given as iterators.
    #[allow(clippy::result_large_err)]
    pub(crate) fn stream_prelude<'a>(
        self,
        status_code: u16,
        headers: impl Iterator<Item = (&'a [u8], &'a [u8])>,
        cookies: impl Iterator<Item = &'a [u8]>,
    ) -> Result<Stream<'r>, Responder<'r>> {
        match prelude(self.conn.scratch, status_code, headers, cookies) {
            Some(n) => Ok(open(self, HTTP_INTEGRATION_RESPONSE.as_bytes(), n)),
            None => Err(self),
        }
    }
}

/// Answers `r`'s invocation with a stream: connects and sends the head, followed by the
/// first `first` bytes of the scratch buffer as a chunk unless that is 0.
fn open<'r>(r: Responder<'r>, content_type: &[u8], first: usize) -> Stream<'r> {
    let (conn, context) = r.hand_over();
    let (id, inv) = (context.request_id(), context.invocation_id());
    let content_type = if is_header_value(content_type) { content_type } else { OCTET_STREAM };
    let mut hex = [0u8; 18];
    let chunk: [&[u8]; 3] = match conn.scratch.get(..first) {
        Some(data) if !data.is_empty() => [chunk_size(first, &mut hex), data, b"\r\n"],
        _ => [b"", b"", b""],
    };
    let parts: [&[u8]; 13] = [
        POST,
        id,
        RESPONSE,
        HTTP_HOST,
        conn.endpoint.host,
        HEADERS,
        content_type,
        if inv.is_empty() { b"" } else { INVOCATION_ID },
        inv,
        b"\r\n\r\n",
        chunk[0],
        chunk[1],
        chunk[2],
    ];
    let sock = match Socket::connect(&conn.endpoint.addr) {
        Ok(sock) => match sock.send(&parts) {
            Ok(()) => Some(sock),
            Err(e) => {
                failed(id, Failure::Send(e));
                None
            }
        },
        Err(e) => {
            failed(id, Failure::Connect(e));
            None
        }
    };
    Stream { sock, conn, id }
}

impl<'r> Stream<'r> {
    /// Sends `data` as one chunk, straight from the buffer (one `sendmsg`). An empty `data`
    /// sends nothing (a zero-length chunk would end the stream).
    ///
    /// A failed send (e.g. the server closed the connection) is logged once and breaks the
    /// stream. Never a `SIGPIPE`.
    pub fn write(&mut self, data: &[u8]) -> Result<(), StreamError> {
        let Some(sock) = &self.sock else {
            return Err(StreamError::Broken);
        };
        if data.is_empty() {
            return Ok(());
        }
        let mut hex = [0u8; 18];
        if let Err(e) = sock.send(&[chunk_size(data.len(), &mut hex), data, b"\r\n"]) {
            self.sock = None;
            return Err(failed(self.id, Failure::Send(e)));
        }
        Ok(())
    }

    /// Ends the stream successfully (the zero-length chunk), reads the Runtime API's reply
    /// and closes the connection. A 4xx reply is logged and returned as
    /// [`StreamError::Rejected`]; a 5xx ends the process.
    pub fn finish(mut self) -> Result<(), StreamError> {
        self.end(None)
    }

    /// Ends the stream with an error: the zero-length chunk followed by the trailers
    /// `Lambda-Runtime-Function-Error-Type` (`Function.Unknown` unless the type reads
    /// `Function.Name` or `Runtime.Name`) and `Lambda-Runtime-Function-Error-Body`, the
    /// base64 of the JSON error document `/error` would get (messages cut past about 16 KiB).
    /// What was written stays as it was sent: the body never carries the error. Then reads
    /// the reply and closes, as [`finish`](Stream::finish).
    pub fn fail(mut self, error: &Error<'_>) -> Result<(), StreamError> {
        self.end(Some(error))
    }

    /// A stream over a connection the C API kept.
    #[cfg(feature = "c-api-stream")]
    pub(crate) fn attach(sock: Option<Socket>, conn: &'r mut Conn<'static>, id: &'r [u8]) -> Self {
        Stream { sock, conn, id }
    }

    /// Gives the connection up to the C API to keep (`None` once broken), leaving the
    /// stream as it is.
    #[cfg(feature = "c-api-stream")]
    pub(crate) fn detach(mut self) -> Option<Socket> {
        self.sock.take()
    }

    /// Ends the stream, with the error trailers if `error` is given: [`finish`](Stream::finish)
    /// and [`fail`](Stream::fail) for the C API, which keeps a stream across calls.
    pub(crate) fn end(&mut self, error: Option<&Error<'_>>) -> Result<(), StreamError> {
        let Some(sock) = self.sock.take() else {
            return Err(StreamError::Broken);
        };
        let conn = &mut *self.conn;
        let mut trailer: [&[u8]; 5] = [LAST_CHUNK, b"", b"", b"", b""];
        if let Some(e) = error {
            let t = e.error_type.as_bytes();
            let t = json::reported_error_type(t);
            let limit = MAX_DOCUMENT.min(conn.scratch.len() / 4 * 3);
            let n = json::error_body(conn.scratch.get_mut(..limit).unwrap_or_default(), t, &[e.message.as_bytes()]);
            let n = base64_in_place(conn.scratch, n);
            trailer = [ERROR_TYPE, t, ERROR_BODY, conn.scratch.get(..n).unwrap_or_default(), b"\r\n\r\n"];
        }
        if let Err(e) = sock.send(&trailer) {
            return Err(failed(self.id, Failure::Send(e)));
        }
        let reply = match client::read_response(&sock, conn.reply, REPLY_BODY, &mut []) {
            Ok(reply) => reply,
            Err(failure) => return Err(failed(self.id, failure)),
        };
        match conn.accepted(reply) {
            Ok(()) => Ok(()),
            Err(failure) => {
                // Logged, or the end of the process for a 5xx, as for every answer.
                policy::handle_answer([POST, self.id, RESPONSE_STREAMING], Err(failure));
                Err(StreamError::Rejected)
            }
        }
    }
}

impl Drop for Stream<'_> {
    /// Ends a stream neither finished nor failed with a `Runtime.StreamNotFinished` error.
    fn drop(&mut self) {
        if self.sock.is_some() {
            let _ = self.end(Some(&NOT_FINISHED));
        }
    }
}

/// Logs `POST …/{id}/response (streaming): <failure>` and returns [`StreamError::Broken`].
fn failed(id: &[u8], failure: Failure<'_>) -> StreamError {
    failure.log([POST, id, RESPONSE_STREAMING]);
    StreamError::Broken
}

/// Whether `v` can be sent as a header value: not empty, field content only.
fn is_header_value(v: &[u8]) -> bool {
    !v.is_empty() && v.iter().all(|&b| http::is_value(b))
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// The chunk-size line for `n` bytes: lower-case hex and CRLF.
fn chunk_size(n: usize, buf: &mut [u8; 18]) -> &[u8] {
    let digits = (usize::BITS - (n | 1).leading_zeros()).div_ceil(4) as usize;
    let mut v = n;
    for d in buf.iter_mut().take(digits).rev() {
        *d = HEX[v & 15];
        v >>= 4;
    }
    if let Some([cr, lf]) = buf.get_mut(digits..digits + 2) {
        *cr = b'\r';
        *lf = b'\n';
    }
    buf.get(..digits + 2).unwrap_or_default()
}

/// Writes the HTTP integration prelude (JSON, then 8 NUL bytes) into `dst`; its length, or
/// `None` if the status is not 100 to 599 or it does not fit.
fn prelude<'a>(
    dst: &mut [u8],
    status_code: u16,
    headers: impl Iterator<Item = (&'a [u8], &'a [u8])>,
    cookies: impl Iterator<Item = &'a [u8]>,
) -> Option<usize> {
    if !(100..=599).contains(&status_code) {
        return None;
    }
    let mut w = Cursor { dst, len: 0 };
    let mut digits = [0u8; ascii::MAX_DIGITS];
    w.put(b"{\"statusCode\":");
    w.put(ascii::format_decimal(u64::from(status_code), &mut digits));
    w.put(b",\"headers\":{");
    for (i, (name, value)) in headers.enumerate() {
        w.put(if i == 0 { b"\"" } else { b",\"" });
        name.iter().for_each(|&b| w.put_escaped(b));
        w.put(b"\":\"");
        value.iter().for_each(|&b| w.put_escaped(b));
        w.put(b"\"");
    }
    w.put(b"},\"cookies\":[");
    for (i, cookie) in cookies.enumerate() {
        w.put(if i == 0 { b"\"" } else { b",\"" });
        cookie.iter().for_each(|&b| w.put_escaped(b));
        w.put(b"\"");
    }
    w.put(b"]}\0\0\0\0\0\0\0\0");
    // The cursor drops what does not fit: one byte to spare shows nothing was dropped.
    (w.len < w.dst.len()).then_some(w.len)
}

const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Replaces `buf[..n]` by its base64 (standard alphabet, padded); returns its length, or 0
/// if `buf` is too short for it. Works backwards, so that no group overwrites input not yet
/// read: the output of group `g` lies at `4g..4g + 4`, over input of groups `g` and later.
fn base64_in_place(buf: &mut [u8], n: usize) -> usize {
    let groups = n.div_ceil(3);
    let len = groups.saturating_mul(4);
    if n > buf.len() || len > buf.len() {
        return 0;
    }
    for g in (0..groups).rev() {
        let i = g * 3;
        let byte = |buf: &[u8], k: usize| if i + k < n { buf.get(i + k).copied().unwrap_or(0) as usize } else { 0 };
        let w = byte(buf, 0) << 16 | byte(buf, 1) << 8 | byte(buf, 2);
        let digit = |k: usize, shift: u32| if i + k < n { BASE64[(w >> shift) & 63] } else { b'=' };
        if let Some([a, b, c, d]) = buf.get_mut(g * 4..g * 4 + 4) {
            *a = BASE64[(w >> 18) & 63];
            *b = BASE64[(w >> 12) & 63];
            *c = digit(1, 6);
            *d = digit(2, 0);
        }
    }
    len
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base64(input: &[u8]) -> std::vec::Vec<u8> {
        let mut buf = input.to_vec();
        buf.resize(input.len().div_ceil(3) * 4, 0xaa);
        let n = base64_in_place(&mut buf, input.len());
        buf.truncate(n);
        buf
    }

    #[test]
    fn base64_rfc4648_vectors() {
        for (input, output) in [
            (&b""[..], &b""[..]),
            (b"f", b"Zg=="),
            (b"fo", b"Zm8="),
            (b"foo", b"Zm9v"),
            (b"foob", b"Zm9vYg=="),
            (b"fooba", b"Zm9vYmE="),
            (b"foobar", b"Zm9vYmFy"),
        ] {
            assert_eq!(base64(input), output, "{input:?}");
        }
    }

    /// An independent encoder: the alphabet built from ranges, groups by `chunks`.
    fn reference(input: &[u8]) -> std::vec::Vec<u8> {
        let alphabet: std::vec::Vec<u8> =
            (b'A'..=b'Z').chain(b'a'..=b'z').chain(b'0'..=b'9').chain([b'+', b'/']).collect();
        let mut out = std::vec::Vec::new();
        for group in input.chunks(3) {
            let mut v = [0u8; 3];
            v[..group.len()].copy_from_slice(group);
            let w = u32::from_be_bytes([0, v[0], v[1], v[2]]);
            for k in 0..4 {
                out.push(if k <= group.len() { alphabet[(w >> (18 - 6 * k) & 63) as usize] } else { b'=' });
            }
        }
        out
    }

    #[test]
    fn base64_of_every_byte_value_at_every_length() {
        let input: std::vec::Vec<u8> = (0..=255u8).chain((0..=255u8).rev()).chain([0xff, 0x00]).collect();
        for len in 0..=input.len() {
            assert_eq!(base64(&input[..len]), reference(&input[..len]), "len {len}");
        }
        assert_eq!(base64(&[0xfb, 0xff, 0xbf]), b"+/+/");
    }

    #[test]
    fn base64_needs_room() {
        let mut buf = *b"foo";
        assert_eq!(base64_in_place(&mut buf, 3), 0);
        assert_eq!(&buf, b"foo", "untouched");
        assert_eq!(base64_in_place(&mut buf, 4), 0);
    }

    #[test]
    fn chunk_size_lines() {
        let mut buf = [0u8; 18];
        for (n, line) in [
            (1, &b"1\r\n"[..]),
            (15, b"f\r\n"),
            (16, b"10\r\n"),
            (4096, b"1000\r\n"),
            (0x1234abcd, b"1234abcd\r\n"),
            (usize::MAX, b"ffffffffffffffff\r\n"),
        ] {
            assert_eq!(chunk_size(n, &mut buf), line, "{n}");
        }
    }

    fn prelude_of(cap: usize, status: u16, headers: &[(&str, &str)], cookies: &[&str]) -> Option<std::vec::Vec<u8>> {
        let mut buf = std::vec![0xaau8; cap];
        let headers = headers.iter().map(|&(n, v)| (n.as_bytes(), v.as_bytes()));
        let n = prelude(&mut buf, status, headers, cookies.iter().map(|c| c.as_bytes()))?;
        Some(buf[..n].to_vec())
    }

    #[test]
    fn prelude_golden() {
        let got = prelude_of(
            256,
            201,
            &[("content-type", "text/plain"), ("x-quote", "say \"hi\"\\\n\u{1}é")],
            &["a=1", "b=2; Path=/"],
        );
        let want = b"{\"statusCode\":201,\"headers\":{\"content-type\":\"text/plain\",\"x-quote\":\"say \\\"hi\\\"\\\\\\n\\u0001\xc3\xa9\"},\"cookies\":[\"a=1\",\"b=2; Path=/\"]}\0\0\0\0\0\0\0\0";
        assert_eq!(got.as_deref(), Some(&want[..]));
        assert_eq!(
            prelude_of(64, 404, &[], &[]).as_deref(),
            Some(&b"{\"statusCode\":404,\"headers\":{},\"cookies\":[]}\0\0\0\0\0\0\0\0"[..])
        );
    }

    #[test]
    fn prelude_is_bounded_and_checks_the_status() {
        let exact = prelude_of(1024, 200, &[("a", "b")], &[]).unwrap();
        assert_eq!(prelude_of(exact.len() + 1, 200, &[("a", "b")], &[]), Some(exact.clone()));
        assert_eq!(prelude_of(exact.len(), 200, &[("a", "b")], &[]), None, "no byte to spare");
        assert_eq!(prelude_of(10, 200, &[("a", "b")], &[]), None);
        for status in [0, 99, 600, u16::MAX] {
            assert_eq!(prelude_of(1024, status, &[], &[]), None, "{status}");
        }
        assert!(prelude_of(1024, 100, &[], &[]).is_some());
        assert!(prelude_of(1024, 599, &[], &[]).is_some());
    }

    #[test]
    fn header_values() {
        assert!(is_header_value(b"text/plain; charset=utf-8"));
        assert!(is_header_value(b"a\tb"));
        for bad in [&b""[..], b"a\r\nX-Injected: 1", b"a\nb", b"\x7f", b"\0"] {
            assert!(!is_header_value(bad), "{bad:?}");
        }
    }

    #[test]
    fn the_headers_name_the_version() {
        let text = core::str::from_utf8(HEADERS).unwrap();
        assert!(text.starts_with(concat!("\r\nUser-Agent: lambda-libc/", env!("CARGO_PKG_VERSION"), "\r\n")));
        assert!(text.ends_with("\r\nContent-Type: "));
    }
}
