//! The Runtime API client: one keep-alive connection, each request written with one
//! `sendmsg`, each response read into a buffer the caller owns.
//!
//! Every operation returns `Result<_, Failure>`. What a failure means for the process (exit,
//! log and go on, report) is decided above, in `policy`.

use core::net::SocketAddr;

use crate::ascii;
use crate::context::{HEADER_NAMES, Spans};
use crate::endpoint::Endpoint;
use crate::http::{self, BodyDecoder, MAX_HEAD, Span};
use crate::json;
use crate::sys::{self, Errno};

macro_rules! user_agent {
    () => {
        concat!("\r\nUser-Agent: lambda-libc/", env!("CARGO_PKG_VERSION"), "\r\n")
    };
}

/// The request line of `GET /next`, up to the protocol version.
pub const GET_NEXT: &[u8] = b"GET /2018-06-01/runtime/invocation/next";
const POST_INIT: &[u8] = b"POST /2018-06-01/runtime/init";
/// A post for an invocation, up to its request id (streams post the same).
pub const POST_INVOCATION: &[u8] = b"POST /2018-06-01/runtime/invocation/";
/// The header that echoes the invocation id on an answer (streams send it too).
pub const INVOCATION_ID: &[u8] = b"\r\nLambda-Runtime-Invocation-Id: ";
/// Ends the request line and starts the `Host` header.
pub const HTTP_HOST: &[u8] = b" HTTP/1.1\r\nHost: ";
const GET_END: &[u8] = concat!(user_agent!(), "\r\n").as_bytes();
const POST_HEAD_END: &[u8] = concat!(user_agent!(), "Content-Length: ").as_bytes();
const ERROR_HEADERS: &[u8] =
    b"\r\nContent-Type: application/vnd.aws.lambda.error+json\r\nLambda-Runtime-Function-Error-Type: ";

/// The largest event the Runtime API sends: 6 MiB + 100 bytes.
pub const MAX_EVENT: usize = 6_291_556;
/// Replies to posts keep at most this many bytes of body, for the diagnostics.
pub const REPLY_BODY: usize = 1024;

/// A byte stream to the Runtime API: [`sys::Socket`], or a fake one in tests.
pub trait Transport: Sized {
    /// Opens a connection to `addr`.
    fn connect(addr: &SocketAddr) -> Result<Self, Errno>;
    /// Sends every slice, in order.
    fn send(&self, parts: &[&[u8]]) -> Result<(), Errno>;
    /// Reads what is available into `buf` (non-empty); `Ok(0)` is end of stream.
    fn recv(&self, buf: &mut [u8]) -> Result<usize, Errno>;
}

impl Transport for sys::Socket {
    fn connect(addr: &SocketAddr) -> Result<Self, Errno> {
        sys::Socket::connect(addr)
    }
    fn send(&self, parts: &[&[u8]]) -> Result<(), Errno> {
        sys::Socket::send(self, parts)
    }
    fn recv(&self, buf: &mut [u8]) -> Result<usize, Errno> {
        sys::Socket::recv(self, buf)
    }
}

/// The start of a response body, for a diagnostic: up to its first control character (the
/// Runtime API ends its JSON with a newline), at most [`Snippet::MAX`] bytes. It borrows the
/// buffer the response was read into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Snippet<'a>(&'a [u8]);

impl<'a> Snippet<'a> {
    /// The most bytes kept: enough for the Runtime API's error documents.
    pub(crate) const MAX: usize = 256;

    /// The start of `body`.
    pub fn of(body: &'a [u8]) -> Self {
        let end = body.iter().position(|&b| b < b' ' || b == 0x7f).unwrap_or(body.len()).min(Self::MAX);
        Snippet(body.get(..end).unwrap_or_default())
    }

    /// The bytes kept.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.0
    }
}

/// Why an exchange with the Runtime API failed. A [`Status`](Failure::Status) borrows the
/// buffer its response was read into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure<'a> {
    /// `connect` failed.
    Connect(Errno),
    /// Sending the request failed.
    Send(Errno),
    /// The connection ended, or failed, before any byte of the response.
    NoResponse,
    /// Reading failed after part of the response had arrived.
    Receive(Errno),
    /// The connection ended in the middle of the response.
    Truncated,
    /// Bytes arrived after the end of the response.
    ExtraData,
    /// The response is not valid HTTP/1.1.
    Http(http::Error),
    /// A status the request does not accept (`GET /next`: anything but 200; posts: anything
    /// but 2xx), with the start of the body.
    Status(u16, Snippet<'a>),
}

impl Failure<'_> {
    /// What went wrong, for a one-line diagnostic (without the errno or status).
    pub fn message(&self) -> &'static str {
        match self {
            Failure::Connect(_) => "cannot connect",
            Failure::Send(_) => "send failed",
            Failure::NoResponse => "connection closed before a response",
            Failure::Receive(_) => "receive failed",
            Failure::Truncated => "connection closed in the middle of the response",
            Failure::ExtraData => "unexpected bytes after the response",
            Failure::Http(e) => e.message(),
            Failure::Status(..) => "HTTP",
        }
    }

    /// Logs `<request>: <message>`, then ` (errno N)` or the status and the start of the
    /// body, as one line on stderr. `request` names it in three parts (method and path,
    /// request id, suffix).
    pub fn log(&self, request: [&[u8]; 3]) {
        let mut digits = [0u8; ascii::MAX_DIGITS];
        let detail: [&[u8]; 4] = match self {
            Failure::Connect(e) | Failure::Send(e) | Failure::Receive(e) => {
                [b" (errno ", ascii::format_decimal(*e as u64, &mut digits), b")", b""]
            }
            Failure::Status(code, body) => {
                [b" ", ascii::format_decimal(u64::from(*code), &mut digits), b" ", body.as_bytes()]
            }
            _ => [b""; 4],
        };
        let [method_path, id, suffix] = request;
        let message = self.message().as_bytes();
        let line: [&[u8]; 9] = [method_path, id, suffix, b": ", message, detail[0], detail[1], detail[2], detail[3]];
        #[cfg(not(feature = "log"))]
        sys::log(&line);
        #[cfg(feature = "log")]
        crate::log::runtime_line(self.level(method_path), b"", &line);
    }

    /// The level of the line [`log`](Failure::log) writes for `request` (its method and
    /// path): as `policy` decides, a status below 500 to an answer is logged and the runtime
    /// goes on (`WARN`); every other failure, and any to `GET /next`, ends the process
    /// (`FATAL`, which no level filters out).
    #[cfg(feature = "log")]
    fn level(&self, request: &[u8]) -> crate::log::Level {
        match self {
            Failure::Status(..=499, _) if request != GET_NEXT => crate::log::Level::Warn,
            _ => crate::log::Level::Fatal,
        }
    }
}

/// A response, as positions in the buffer it was read into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reply {
    /// The status code.
    pub status: u16,
    keep_alive: bool,
    /// The body was larger than the buffer's limit: it was read and discarded.
    pub too_large: bool,
    /// The header block is `buf[..head_len]`.
    head_len: usize,
    /// The decoded body is `buf[head_len..head_len + body_len]`, unless `too_large`.
    body_len: usize,
}

impl Reply {
    /// The header block in `buf`, the buffer the response was read into.
    #[cfg(feature = "shutdown")]
    pub fn head<'b>(&self, buf: &'b [u8]) -> &'b [u8] {
        buf.get(..self.head_len).unwrap_or_default()
    }

    /// The body in `buf`, the buffer the response was read into.
    pub fn body<'b>(&self, buf: &'b [u8]) -> &'b [u8] {
        buf.get(self.head_len..self.head_len + self.body_len).unwrap_or_default()
    }
}

/// An answer to an invocation, or to initialisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Post<'a> {
    /// `/response` of the invocation with this request id and invocation id.
    Response { request_id: &'a [u8], invocation_id: &'a [u8] },
    /// `/error` of an invocation, with the error type.
    Error { request_id: &'a [u8], invocation_id: &'a [u8], error_type: &'a [u8] },
    /// `/runtime/init/error`, with the error type.
    InitError { error_type: &'a [u8] },
}

impl<'a> Post<'a> {
    /// An error of the invocation with `request_id` and `invocation_id`, or of
    /// initialisation when `request_id` is empty.
    pub fn error(request_id: &'a [u8], invocation_id: &'a [u8], error_type: &'a [u8]) -> Self {
        match request_id {
            [] => Post::InitError { error_type },
            _ => Post::Error { request_id, invocation_id, error_type },
        }
    }

    /// The request line's method and path, in three parts (for diagnostics too).
    pub fn target(&self) -> [&'a [u8]; 3] {
        match *self {
            Post::Response { request_id, .. } => [POST_INVOCATION, request_id, b"/response"],
            Post::Error { request_id, .. } => [POST_INVOCATION, request_id, b"/error"],
            Post::InitError { .. } => [POST_INIT, b"", b"/error"],
        }
    }

    fn invocation_id(&self) -> &'a [u8] {
        match *self {
            Post::Response { invocation_id, .. } | Post::Error { invocation_id, .. } => invocation_id,
            Post::InitError { .. } => b"",
        }
    }

    fn error_type(&self) -> Option<&'a [u8]> {
        match *self {
            Post::Response { .. } => None,
            Post::Error { error_type, .. } | Post::InitError { error_type } => Some(error_type),
        }
    }
}

/// A connection to the Runtime API with its reply and scratch buffers.
pub struct Conn<'b, T: Transport = sys::Socket> {
    /// Where the Runtime API is.
    pub endpoint: Endpoint,
    transport: Option<T>,
    /// Where replies to posts are read.
    pub reply: &'b mut [u8],
    /// Where error documents and stream preludes are composed.
    pub scratch: &'b mut [u8],
    /// Where the context headers of the last `GET /next` are, in its buffer.
    pub spans: Spans,
}

impl<'b, T: Transport> Conn<'b, T> {
    /// A client of `endpoint`; the connection is opened by the first exchange.
    pub fn new(endpoint: Endpoint, reply: &'b mut [u8], scratch: &'b mut [u8]) -> Self {
        Conn { endpoint, transport: None, reply, scratch, spans: Default::default() }
    }

    /// Closes the connection, if one is open; the next exchange opens a new one. Workers are
    /// forked with none, so that each opens its own.
    #[cfg(feature = "concurrency")]
    pub fn disconnect(&mut self) {
        self.transport = None;
    }

    /// `GET /next`: reads the response into `event`, with at most [`MAX_EVENT`] bytes of
    /// body, and records where the context headers are in [`spans`](Self::spans). A status
    /// other than 200 is a [`Failure::Status`].
    pub fn next<'e>(&mut self, event: &'e mut [u8]) -> Result<Reply, Failure<'e>> {
        let parts: [&[u8]; 4] = [GET_NEXT, HTTP_HOST, self.endpoint.host, GET_END];
        let mut spans = Spans::default();
        let reply = self.exchange(&parts, event, MAX_EVENT, &mut spans)?;
        self.spans = spans;
        match reply.status {
            200 => Ok(reply),
            code => Err(Failure::Status(code, Snippet::of(reply.body(event)))),
        }
    }

    /// Posts `body` as `post` says. A status other than 2xx is a [`Failure::Status`].
    pub fn post(&mut self, post: &Post<'_>, body: &[u8]) -> Result<(), Failure<'_>> {
        let reply = self.send_post(post, body)?;
        self.accepted(reply)
    }

    /// Sends the request `post` and `body` make, and reads the response into
    /// [`reply`](Self::reply).
    fn send_post(&mut self, post: &Post<'_>, body: &[u8]) -> Result<Reply, Failure<'static>> {
        let mut digits = [0u8; ascii::MAX_DIGITS];
        let [method_path, id, kind] = post.target();
        let invocation_id = post.invocation_id();
        let error_type = post.error_type();
        let parts: [&[u8]; 13] = [
            method_path,
            id,
            kind,
            HTTP_HOST,
            self.endpoint.host,
            POST_HEAD_END,
            ascii::format_decimal(body.len() as u64, &mut digits),
            if invocation_id.is_empty() { b"" } else { INVOCATION_ID },
            invocation_id,
            if error_type.is_some() { ERROR_HEADERS } else { b"" },
            error_type.unwrap_or_default(),
            b"\r\n\r\n",
            body,
        ];
        let reply = core::mem::take(&mut self.reply);
        let result = self.exchange(&parts, reply, REPLY_BODY, &mut []);
        self.reply = reply;
        result
    }

    /// `Ok` for a 2xx `reply` to a post (or a stream), read into [`reply`](Self::reply); a
    /// [`Failure::Status`] otherwise.
    pub fn accepted(&self, reply: Reply) -> Result<(), Failure<'_>> {
        match reply.status {
            200..=299 => Ok(()),
            code => Err(Failure::Status(code, Snippet::of(reply.body(self.reply)))),
        }
    }

    /// Posts the error document of `error_type` (`Function.Unknown` unless it reads
    /// `Runtime.Name` or `Function.Name`) and `message`, written in pieces, to the invocation
    /// with `request_id` and `invocation_id`, or to `/runtime/init/error` when `request_id`
    /// is empty.
    pub fn post_error(
        &mut self,
        request_id: &[u8],
        invocation_id: &[u8],
        error_type: &[u8],
        message: &[&[u8]],
    ) -> Result<(), Failure<'_>> {
        let error_type = json::reported_error_type(error_type);
        let scratch = core::mem::take(&mut self.scratch);
        let n = json::error_body(scratch, error_type, message);
        let result =
            self.send_post(&Post::error(request_id, invocation_id, error_type), scratch.get(..n).unwrap_or_default());
        self.scratch = scratch;
        self.accepted(result?)
    }

    /// Sends a request and reads its response into `buf`; reconnects when the connection
    /// is gone, and retries once on a fresh connection when a reused one fails before any
    /// byte of the response arrives (the server may have closed it while idle).
    fn exchange(
        &mut self,
        parts: &[&[u8]],
        buf: &mut [u8],
        limit: usize,
        spans: &mut [Span],
    ) -> Result<Reply, Failure<'static>> {
        loop {
            let reused = self.transport.is_some();
            let transport = match &mut self.transport {
                Some(t) => &*t,
                slot @ None => slot.insert(T::connect(&self.endpoint.addr).map_err(Failure::Connect)?),
            };
            let result = match transport.send(parts) {
                Ok(()) => read_response(transport, buf, limit, spans),
                Err(e) => Err(Failure::Send(e)),
            };
            if !matches!(result, Ok(Reply { keep_alive: true, .. })) {
                self.transport = None;
            }
            match result {
                Err(Failure::Send(_) | Failure::NoResponse) if reused => continue,
                result => return result,
            }
        }
    }
}

/// Reads one response from `transport` into `buf`: the head (its context headers'
/// positions into `spans`, by [`HEADER_NAMES`]), then the body, decoded in place after it.
/// A body longer than `limit` (or than the buffer) is read to its end and discarded: the
/// reply is flagged `too_large`.
// Out of line: inlined into `exchange` it compiles larger (docs/size.md).
#[inline(never)]
pub fn read_response(
    transport: &impl Transport,
    buf: &mut [u8],
    limit: usize,
    spans: &mut [Span],
) -> Result<Reply, Failure<'static>> {
    let mut filled = 0;
    let head = loop {
        let room = buf.get_mut(filled..MAX_HEAD.min(buf.len())).filter(|r| !r.is_empty());
        let Some(room) = room else { return Err(Failure::Http(http::Error::HeadTooLarge)) };
        filled += match transport.recv(room) {
            Ok(0) | Err(_) if filled == 0 => return Err(Failure::NoResponse),
            Ok(0) => return Err(Failure::Truncated),
            Ok(n) => n,
            Err(e) => return Err(Failure::Receive(e)),
        };
        // The whole head is parsed again after each read: it nearly always arrives in one.
        let received = buf.get(..filled).unwrap_or_default();
        if let Some(head) = http::parse_head(received, &HEADER_NAMES, spans).map_err(Failure::Http)? {
            break head;
        }
    };
    // A head that fills the buffer leaves no room to read a body into.
    let Some(body) = buf.get_mut(head.len..).filter(|b| !b.is_empty()) else {
        return Err(Failure::Http(http::Error::HeadTooLarge));
    };
    // Room to read past the data kept: the framing around it, the rest of a last read.
    let limit = limit.min(body.len().saturating_sub(1));
    let mut decoder = BodyDecoder::new(head.framing);
    // Decoded data is body[..out]; raw bytes not yet decoded are body[out..end].
    let (mut out, mut end, mut too_large) = (0, filled - head.len, false);
    loop {
        let progress = decoder.decode(body, out, out, end).map_err(Failure::Http)?;
        out = progress.out;
        if out > limit {
            // Too large to keep: what was decoded is dropped, the rest is read over it.
            too_large = true;
            out = 0;
        }
        if let Some(e) = progress.end {
            if e != end {
                return Err(Failure::ExtraData);
            }
            break;
        }
        match transport.recv(body.get_mut(out..).unwrap_or_default()) {
            Ok(0) if decoder.until_close() => break,
            Ok(0) => return Err(Failure::Truncated),
            Ok(n) => end = out + n,
            Err(e) => return Err(Failure::Receive(e)),
        }
    }
    let body_len = if too_large { 0 } else { out };
    Ok(Reply { status: head.status, keep_alive: head.keep_alive, too_large, head_len: head.len, body_len })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::collections::VecDeque;
    use std::vec::Vec;

    /// One connection of the fake Runtime API: refused with an errno, or the reads the
    /// client will see, in order (after the last one, end of stream).
    type Connection = Result<VecDeque<Vec<u8>>, Errno>;

    /// The fake server's script and what the client sent, per test thread.
    #[derive(Default)]
    struct Fake {
        connections: VecDeque<Connection>,
        /// The reads of the connection open now.
        reads: VecDeque<Vec<u8>>,
        /// Every request sent, as one byte string each.
        sent: Vec<Vec<u8>>,
        /// Sends still to fail, with this errno, from the next on.
        failing_sends: Vec<Errno>,
        connects: usize,
    }

    std::thread_local! {
        static FAKE: RefCell<Fake> = RefCell::new(Fake::default());
    }

    /// A transport that plays [`FAKE`]'s script.
    struct FakeTransport;

    impl Transport for FakeTransport {
        fn connect(_: &SocketAddr) -> Result<Self, Errno> {
            FAKE.with_borrow_mut(|f| {
                f.connects += 1;
                f.reads = f.connections.pop_front().expect("the script has a connection for every connect")?;
                Ok(FakeTransport)
            })
        }

        fn send(&self, parts: &[&[u8]]) -> Result<(), Errno> {
            FAKE.with_borrow_mut(|f| match f.failing_sends.pop() {
                Some(errno) => Err(errno),
                None => {
                    f.sent.push(parts.concat());
                    Ok(())
                }
            })
        }

        fn recv(&self, buf: &mut [u8]) -> Result<usize, Errno> {
            FAKE.with_borrow_mut(|f| {
                let Some(mut read) = f.reads.pop_front() else { return Ok(0) };
                let n = read.len().min(buf.len());
                buf[..n].copy_from_slice(&read[..n]);
                if n < read.len() {
                    f.reads.push_front(read.split_off(n));
                }
                Ok(n)
            })
        }
    }

    fn script(connections: impl IntoIterator<Item = Connection>) {
        FAKE.with_borrow_mut(|f| *f = Fake { connections: connections.into_iter().collect(), ..Fake::default() });
    }

    fn reads(reads: &[&[u8]]) -> Connection {
        Ok(reads.iter().map(|r| r.to_vec()).collect())
    }

    fn sent() -> Vec<Vec<u8>> {
        FAKE.with_borrow(|f| f.sent.clone())
    }

    fn connects() -> usize {
        FAKE.with_borrow(|f| f.connects)
    }

    const ENDPOINT: Endpoint = Endpoint {
        addr: SocketAddr::V4(core::net::SocketAddrV4::new(core::net::Ipv4Addr::LOCALHOST, 9001)),
        host: b"127.0.0.1:9001",
    };

    const NEXT_RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: abc\r\n\
        Lambda-Runtime-Invocation-Id: inv-1\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\r\n{\"a\":1}";
    const ACCEPTED: &[u8] = b"HTTP/1.1 202 Accepted\r\nContent-Length: 16\r\n\r\n{\"status\":\"OK\"}\n";

    fn with_conn<R>(f: impl FnOnce(&mut Conn<'_, FakeTransport>, &mut [u8]) -> R) -> R {
        let (mut reply, mut scratch, mut event) = (vec![0u8; 4096], vec![0u8; 4096], vec![0u8; 8192]);
        let mut conn = Conn::new(ENDPOINT, &mut reply, &mut scratch);
        f(&mut conn, &mut event)
    }

    #[test]
    fn next_sends_the_golden_request_and_reads_the_event() {
        script([reads(&[NEXT_RESPONSE])]);
        with_conn(|conn, event| {
            let reply = conn.next(event).unwrap();
            assert_eq!(reply.body(event), b"{\"a\":1}");
            assert_eq!(conn.spans[0].of(event), b"abc");
            assert_eq!(conn.spans[7].of(event), b"inv-1");
        });
        let want = concat!(
            "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: 127.0.0.1:9001\r\nUser-Agent: lambda-libc/",
            env!("CARGO_PKG_VERSION"),
            "\r\n\r\n"
        );
        assert_eq!(sent(), [want.as_bytes()]);
    }

    #[test]
    fn posts_send_the_golden_requests() {
        script([reads(&[ACCEPTED, ACCEPTED, ACCEPTED])]);
        with_conn(|conn, _| {
            let response = Post::Response { request_id: b"abc", invocation_id: b"inv-1" };
            assert_eq!(conn.post(&response, b"{}"), Ok(()));
            assert_eq!(conn.post_error(b"abc", b"", b"Function.Bad", &[b"boom"]), Ok(()));
            assert_eq!(conn.post_error(b"", b"", b"not a type", &[b"init"]), Ok(()));
        });
        let agent = concat!("User-Agent: lambda-libc/", env!("CARGO_PKG_VERSION"));
        let doc = |t: &str, m: &str| format!(r#"{{"errorMessage":"{m}","errorType":"{t}","stackTrace":[]}}"#);
        let error = |path: &str, t: &str, m: &str| {
            let body = doc(t, m);
            format!(
                "POST {path} HTTP/1.1\r\nHost: 127.0.0.1:9001\r\n{agent}\r\nContent-Length: {}\r\n\
                 Content-Type: application/vnd.aws.lambda.error+json\r\nLambda-Runtime-Function-Error-Type: {t}\r\n\r\n{body}",
                body.len()
            )
        };
        let want = [
            format!(
                "POST /2018-06-01/runtime/invocation/abc/response HTTP/1.1\r\nHost: 127.0.0.1:9001\r\n{agent}\r\n\
                 Content-Length: 2\r\nLambda-Runtime-Invocation-Id: inv-1\r\n\r\n{{}}"
            ),
            error("/2018-06-01/runtime/invocation/abc/error", "Function.Bad", "boom"),
            error("/2018-06-01/runtime/init/error", "Function.Unknown", "init"),
        ];
        let sent: Vec<String> = sent().into_iter().map(|s| String::from_utf8(s).unwrap()).collect();
        assert_eq!(sent, want);
        assert_eq!(connects(), 1, "one keep-alive connection");
    }

    #[test]
    fn statuses_the_request_does_not_accept_are_failures_with_the_body() {
        let error = b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 15\r\n\r\n{\"error\":\"x\"}\r\n";
        let gone = b"HTTP/1.1 410 Gone\r\nContent-Length: 7\r\n\r\nexpired";
        script([reads(&[error, gone])]);
        with_conn(|conn, event| {
            let Err(Failure::Status(500, body)) = conn.next(event) else { panic!("a 500 is a failure") };
            assert_eq!(body.as_bytes(), b"{\"error\":\"x\"}", "up to the first control character");
            let response = Post::Response { request_id: b"a", invocation_id: b"" };
            let Err(Failure::Status(410, body)) = conn.post(&response, b"") else { panic!("a 410 is a failure") };
            assert_eq!(body.as_bytes(), b"expired");
        });
    }

    #[test]
    fn a_reused_connection_that_fails_before_any_byte_is_retried_once_on_a_new_one() {
        script([reads(&[NEXT_RESPONSE]), reads(&[NEXT_RESPONSE])]);
        with_conn(|conn, event| {
            conn.next(event).unwrap();
            // The first connection ends after its one response: the second /next goes out on
            // it, finds it closed, and is sent again on a new one.
            let reply = conn.next(event).unwrap();
            assert_eq!(reply.body(event).len(), 7);
        });
        assert_eq!(connects(), 2);
        assert_eq!(sent().len(), 3);
    }

    #[test]
    fn a_failed_send_is_retried_once_when_the_connection_was_reused() {
        script([reads(&[NEXT_RESPONSE]), reads(&[NEXT_RESPONSE]), reads(&[NEXT_RESPONSE])]);
        with_conn(|conn, event| {
            conn.next(event).unwrap();
            FAKE.with_borrow_mut(|f| f.failing_sends = vec![32]);
            assert_eq!(conn.next(event).map(|r| r.status), Ok(200), "EPIPE on the reused one, sent again");
            FAKE.with_borrow_mut(|f| f.failing_sends = vec![32]);
            assert_eq!(conn.next(event).map(|r| r.status), Ok(200), "a kept connection is reused again");
        });
        assert_eq!(connects(), 3);
        script([reads(&[NEXT_RESPONSE])]);
        FAKE.with_borrow_mut(|f| f.failing_sends = vec![32]);
        with_conn(|conn, event| {
            assert_eq!(conn.next(event).err(), Some(Failure::Send(32)), "a fresh one is not retried")
        });
    }

    #[test]
    fn a_failed_read_after_part_of_the_response_is_a_receive_failure() {
        // The fake ends the stream when its reads run out; an error needs a transport that
        // fails: the first read succeeds in part, the second fails.
        struct Failing;
        impl Transport for Failing {
            fn connect(_: &SocketAddr) -> Result<Self, Errno> {
                Ok(Failing)
            }
            fn send(&self, _: &[&[u8]]) -> Result<(), Errno> {
                Ok(())
            }
            fn recv(&self, buf: &mut [u8]) -> Result<usize, Errno> {
                FAKE.with_borrow_mut(|f| match f.reads.pop_front() {
                    Some(read) => {
                        buf[..read.len()].copy_from_slice(&read);
                        Ok(read.len())
                    }
                    None => Err(104),
                })
            }
        }
        FAKE.with_borrow_mut(|f| f.reads = [NEXT_RESPONSE[..30].to_vec()].into());
        let mut buf = vec![0u8; 1024];
        assert_eq!(read_response(&Failing, &mut buf, 512, &mut []).err(), Some(Failure::Receive(104)));
        FAKE.with_borrow_mut(|f| f.reads.clear());
        assert_eq!(read_response(&Failing, &mut buf, 512, &mut []).err(), Some(Failure::NoResponse));
    }

    #[test]
    fn a_fresh_connection_that_fails_is_not_retried() {
        script([reads(&[]), reads(&[NEXT_RESPONSE])]);
        with_conn(|conn, event| assert_eq!(conn.next(event), Err(Failure::NoResponse)));
        assert_eq!(connects(), 1);
    }

    #[test]
    fn transport_and_wire_failures() {
        let cases: [(Connection, Failure); 5] = [
            (Err(111), Failure::Connect(111)),
            (reads(&[&NEXT_RESPONSE[..40]]), Failure::Truncated),
            (reads(&[&NEXT_RESPONSE[..NEXT_RESPONSE.len() - 1]]), Failure::Truncated),
            (reads(&[&[NEXT_RESPONSE, b"HTTP"].concat()]), Failure::ExtraData),
            (reads(&[b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n"]), Failure::Http(http::Error::ContentLength)),
        ];
        for (connection, want) in cases {
            script([connection]);
            with_conn(|conn, event| assert_eq!(conn.next(event), Err(want)));
        }
    }

    #[test]
    fn a_body_over_the_limit_is_drained_and_flagged() {
        let mut response = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
        for _ in 0..8 {
            response.extend_from_slice(b"100\r\n");
            response.extend_from_slice(&[b'x'; 256]);
            response.extend_from_slice(b"\r\n");
        }
        response.extend_from_slice(b"0\r\n\r\n");
        script([Ok(response.chunks(100).map(<[u8]>::to_vec).collect())]);
        let mut buf = vec![0u8; 1024];
        let reply = read_response(&FakeTransport::connect(&ENDPOINT.addr).unwrap(), &mut buf, 300, &mut []).unwrap();
        assert!(reply.too_large);
        assert_eq!((reply.status, reply.body(&buf)), (200, &b""[..]));
    }
}
