//! The Runtime API client: one keep-alive connection, each request written with one
//! `sendmsg`, each response read into a buffer the caller owns.
//!
//! Every operation returns `Result<_, Failure>`. What a failure means for the process (exit,
//! log and go on, report) is decided above, in `policy`.

use core::net::SocketAddr;

use crate::context::{HEADER_NAMES, Spans};
use crate::ascii;
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

/// The start of a response body, kept for a diagnostic: up to its first control character
/// (the Runtime API ends its JSON with a newline), at most [`Snippet::MAX`] bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Snippet {
    bytes: [u8; Snippet::MAX],
    len: u16,
}

impl Snippet {
    /// The most bytes kept: enough for the Runtime API's error documents.
    pub const MAX: usize = 256;

    /// The start of `body`.
    pub fn of(body: &[u8]) -> Self {
        let end = body.iter().position(|&b| b < b' ' || b == 0x7f).unwrap_or(body.len()).min(Self::MAX);
        let mut snippet = Snippet { bytes: [0; Self::MAX], len: end as u16 };
        for (d, s) in snippet.bytes.iter_mut().zip(body) {
            *d = *s;
        }
        snippet
    }

    /// The bytes kept.
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or_default()
    }
}

/// Why an exchange with the Runtime API failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
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
    Status(u16, Snippet),
}

impl Failure {
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
            Failure::Status(code, body) => [b" ", ascii::format_decimal(u64::from(*code), &mut digits), b" ", body.as_bytes()],
            _ => [b""; 4],
        };
        let [method_path, id, suffix] = request;
        let message = self.message().as_bytes();
        sys::log(&[method_path, id, suffix, b": ", message, detail[0], detail[1], detail[2], detail[3]]);
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

    /// `GET /next`: reads the response into `event`, with at most [`MAX_EVENT`] bytes of
    /// body, and records where the context headers are in [`spans`](Self::spans). A status
    /// other than 200 is a [`Failure::Status`].
    pub fn next(&mut self, event: &mut [u8]) -> Result<Reply, Failure> {
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
    pub fn post(&mut self, post: &Post<'_>, body: &[u8]) -> Result<(), Failure> {
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
        let result = match result {
            Ok(r) if r.status / 100 == 2 => Ok(()),
            Ok(r) => Err(Failure::Status(r.status, Snippet::of(r.body(reply)))),
            Err(f) => Err(f),
        };
        self.reply = reply;
        result
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
    ) -> Result<(), Failure> {
        let error_type = if json::valid_error_type(error_type) { error_type } else { b"Function.Unknown" };
        let scratch = core::mem::take(&mut self.scratch);
        let n = json::error_body(scratch, error_type, message);
        let result = self.post(&Post::error(request_id, invocation_id, error_type), scratch.get(..n).unwrap_or_default());
        self.scratch = scratch;
        result
    }

    /// Sends a request and reads its response into `buf`; reconnects when the connection
    /// is gone, and retries once on a fresh connection when a reused one fails before any
    /// byte of the response arrives (the server may have closed it while idle).
    fn exchange(&mut self, parts: &[&[u8]], buf: &mut [u8], limit: usize, spans: &mut [Span]) -> Result<Reply, Failure> {
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
#[inline(never)]
pub fn read_response(
    transport: &impl Transport,
    buf: &mut [u8],
    limit: usize,
    spans: &mut [Span],
) -> Result<Reply, Failure> {
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
    let body = buf.get_mut(head.len..).unwrap_or_default();
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
