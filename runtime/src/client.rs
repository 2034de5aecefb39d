//! The wire client: one keep-alive connection, requests written with one `sendmsg`,
//! responses read into caller-supplied buffers.

use crate::context::{Context, Spans};
use crate::http::{self, FAILURES, HTTP_ERRORS, MAX_HEAD, nth};
use crate::json;
use crate::sys::{self, Addr, Errno, Socket};

macro_rules! user_agent {
    () => {
        concat!("\r\nUser-Agent: lambda-libc/", env!("CARGO_PKG_VERSION"), "\r\n")
    };
}

/// The request line of `GET /next`, up to the protocol version.
pub(crate) const GET_NEXT: &[u8] = b"GET /2018-06-01/runtime/invocation/next";
const POST_INIT: &[u8] = b"POST /2018-06-01/runtime/init";
/// A post for an invocation, up to its request id (streams post the same).
pub(crate) const POST_INVOCATION: &[u8] = b"POST /2018-06-01/runtime/invocation/";
/// The header that echoes the invocation id on an answer (streams send it too).
pub(crate) const INVOCATION_ID: &[u8] = b"\r\nLambda-Runtime-Invocation-Id: ";
/// Ends the request line and starts the `Host` header.
pub(crate) const HTTP_HOST: &[u8] = b" HTTP/1.1\r\nHost: ";
/// The rest of the `GET /next` request after the host.
pub(crate) const GET_END: &[u8] = concat!(user_agent!(), "\r\n").as_bytes();
const POST_HEAD_END: &[u8] = concat!(user_agent!(), "Content-Length: ").as_bytes();
const ERROR_HEADERS: &[u8] =
    b"\r\nContent-Type: application/vnd.aws.lambda.error+json\r\nLambda-Runtime-Function-Error-Type: ";

/// Where the Runtime API is: its address and the `Host` header value.
pub struct Endpoint {
    pub(crate) addr: Addr,
    pub(crate) host: &'static [u8],
}

/// What went wrong with one exchange: an index into [`FAILURES`] and the OS error (0 if
/// none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fail(pub usize, pub Errno);

/// `connect` failed.
const CONNECT: usize = 0;
/// Sending the request failed.
const SEND: usize = 1;
/// The connection ended, or failed, before any byte of the response.
const NO_RESPONSE: usize = 2;
/// Reading failed after part of the response had arrived.
const RECV: usize = 3;
/// The connection ended in the middle of the response.
const TRUNCATED: usize = 4;
/// Bytes arrived after the end of the response.
const EXTRA_DATA: usize = 5;

/// The response is not valid HTTP/1.1.
fn malformed(e: http::Error) -> Fail {
    Fail(HTTP_ERRORS + e as usize, 0)
}

/// A response, as positions in the buffer it was read into.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Reply {
    pub status: u16,
    keep_alive: bool,
    /// The body exceeded the limit and was read and discarded.
    pub too_large: bool,
    /// The header block is `buf[..head_len]`.
    head_len: usize,
    /// The decoded body is `buf[head_len..head_len + body_len]`, unless `too_large`.
    body_len: usize,
}

impl Reply {
    #[inline(never)]
    pub fn body<'b>(&self, buf: &'b [u8]) -> &'b [u8] {
        buf.get(self.head_len..self.head_len + self.body_len).unwrap_or_default()
    }
}

/// Replies to `/response` and `/error` keep at most this much body, for the diagnostics.
pub(crate) const REPLY_BODY: usize = 1024;

/// A connection to the Runtime API with its reply and scratch buffers.
pub(crate) struct Conn<'b> {
    pub ep: &'b Endpoint,
    sock: Option<Socket>,
    /// Where replies to `/response` and `/error` are read.
    pub reply: &'b mut [u8],
    /// Where error documents are composed.
    pub scratch: &'b mut [u8],
    /// Where the context headers of the last response are.
    pub spans: Spans,
}

impl<'b> Conn<'b> {
    pub fn new(ep: &'b Endpoint, reply: &'b mut [u8], scratch: &'b mut [u8]) -> Self {
        Conn { ep, sock: None, reply, scratch, spans: Default::default() }
    }

    /// Sends a request (`parts[..3]` name it in diagnostics) and reads the response into
    /// `event` with at most [`MAX_EVENT`](crate::MAX_EVENT) bytes of body (`GET /next`), or
    /// into the reply buffer (posts). Reconnects when the connection is gone; retries once
    /// on a fresh connection when a reused one fails before any byte of the response
    /// arrives.
    ///
    /// Exits with a one-line message when the exchange fails, or the status is not 200
    /// (`GET /next`) or is a 5xx (posts); logs any other status but 2xx.
    pub fn exchange(&mut self, parts: &[&[u8]], event: Option<&mut [u8]>) -> Reply {
        let next = event.is_some();
        let (buf, limit) = match event {
            Some(e) => (e, crate::MAX_EVENT),
            None => (&mut *self.reply, REPLY_BODY),
        };
        let result = loop {
            // The connection stays in `self.sock` while it may be kept.
            let reused = self.sock.is_some();
            let sock = match &mut self.sock {
                Some(s) => &*s,
                slot @ None => match Socket::connect(&self.ep.addr) {
                    Ok(s) => slot.insert(s),
                    Err(e) => break Err(Fail(CONNECT, e)),
                },
            };
            let result = match sock.send(parts) {
                Ok(()) => read_reply(sock, buf, limit, &mut self.spans),
                Err(e) => Err(Fail(SEND, e)),
            };
            if !matches!(result, Ok(Reply { keep_alive: true, .. })) {
                self.sock = None;
            }
            match result {
                // The retry is on a fresh connection, so it is not retried again.
                Err(Fail(SEND | NO_RESPONSE, _)) if reused => {}
                _ => break result,
            }
        };
        match result {
            Ok(reply) if reply.status == 200 || (!next && reply.status / 100 == 2) => reply,
            _ => complain(parts, result, buf, next),
        }
    }

    /// Answers the invocation of `context`: posts `body` to its `/response`, or, with an
    /// `error_type`, the error document `body` to its `/error`; to `/runtime/init/error`
    /// for a context without a request id. See [`post_for`](Conn::post_for).
    pub fn post(&mut self, context: &Context<'_>, error_type: &[u8], body: &[u8]) {
        self.post_for(context.request_id(), context.invocation_id(), error_type, body);
    }

    /// [`post`](Conn::post) for request id `id` and invocation id `invocation_id`. A 2xx is
    /// success; another 4xx is logged and the runtime carries on; a 5xx (or no valid
    /// response) ends the process, as the Runtime API asks.
    pub fn post_for(&mut self, id: &[u8], invocation_id: &[u8], error_type: &[u8], body: &[u8]) {
        let mut digits = [0u8; 20];
        let length = decimal(body.len() as u64, &mut digits);
        let path = if id.is_empty() { POST_INIT } else { POST_INVOCATION };
        let kind: &[u8] = if error_type.is_empty() { b"/response" } else { b"/error" };
        let parts: [&[u8]; 13] = [
            path,
            id,
            kind,
            HTTP_HOST,
            self.ep.host,
            POST_HEAD_END,
            length,
            if invocation_id.is_empty() { b"" } else { INVOCATION_ID },
            invocation_id,
            if error_type.is_empty() { b"" } else { ERROR_HEADERS },
            error_type,
            b"\r\n\r\n",
            body,
        ];
        self.exchange(&parts, None);
    }

    /// Posts an error document for `error_type` (`Function.Unknown` unless it matches
    /// `(Runtime|Function).Name`) and `message` (see [`post_for`](Conn::post_for)).
    pub fn post_error(&mut self, id: &[u8], invocation_id: &[u8], error_type: &[u8], message: &[&[u8]]) {
        let error_type = if json::valid_error_type(error_type) { error_type } else { b"Function.Unknown" };
        let scratch = core::mem::take(&mut self.scratch);
        let n = json::error_body(scratch, error_type, message);
        self.post_for(id, invocation_id, error_type, scratch.get(..n).unwrap_or_default());
        self.scratch = scratch;
    }
}

/// Logs a failed exchange, or a reply with an unwelcome status (see [`Conn::exchange`]),
/// and exits unless it was a 4xx to a post.
// Not `#[cold]`: it is reached only past the status check either way, and the inliner
// lays it out smaller without (docs/size.md).
pub(crate) fn complain(parts: &[&[u8]], result: Result<Reply, Fail>, buf: &[u8], next: bool) -> Reply {
    // The number in the diagnostic: the OS error or the status.
    let n = match result {
        Err(Fail(_, errno)) => errno as u64,
        Ok(reply) => reply.status as u64,
    };
    let mut digits = [0u8; 20];
    let code = decimal(n, &mut digits);
    // The diagnostic after the request's name, and how many of its parts to log.
    let (line, len): ([&[u8]; 5], usize) = match result {
        Err(Fail(what, errno)) => {
            ([b": ", nth(FAILURES, what), b" (errno ", code, b")"], if errno == 0 { 2 } else { 5 })
        }
        Ok(reply) => {
            let body = reply.body(buf);
            // The body is quoted up to its first control character (the Runtime API ends its
            // JSON with a newline), at most 256 bytes: the diagnostic stays one line.
            let end = body.iter().position(|&b| b < b' ' || b == 0x7f).unwrap_or(body.len()).min(256);
            ([b": HTTP ", code, b" ", body.get(..end).unwrap_or_default(), b""], 4)
        }
    };
    if let [a, b, c, ..] = *parts {
        let [d, e, f, g, h] = line;
        sys::log([a, b, c, d, e, f, g, h].get(..3 + len).unwrap_or_default());
    }
    match result {
        Ok(reply) if !next && reply.status < 500 => reply,
        _ => sys::exit(1),
    }
}

/// Formats `n` in decimal into `buf`.
pub(crate) fn decimal(mut n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    while let Some(d) = i.checked_sub(1).and_then(|j| buf.get_mut(j)) {
        *d = b'0' + (n % 10) as u8;
        i -= 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    buf.get(i..).unwrap_or_default()
}

/// Reads one response from `sock` into `buf`: the header block, then the body, decoded in
/// place after it. Bodies longer than `limit` are drained and flagged `too_large`.
#[inline(never)]
pub(crate) fn read_reply(sock: &Socket, buf: &mut [u8], limit: usize, spans: &mut Spans) -> Result<Reply, Fail> {
    let head_max = MAX_HEAD.min(buf.len());
    let mut filled = 0;
    let head_len = loop {
        if let Some(n) = http::head_len(buf.get(..filled.min(head_max)).unwrap_or_default()) {
            break n;
        }
        let room = buf.get_mut(filled..).filter(|_| filled < head_max);
        let Some(room) = room else {
            return Err(malformed(http::Error::HeadTooLarge));
        };
        filled += match sock.recv(room) {
            Ok(0) | Err(_) if filled == 0 => return Err(Fail(NO_RESPONSE, 0)),
            Ok(0) => return Err(Fail(TRUNCATED, 0)),
            Ok(n) => n,
            Err(e) => return Err(Fail(RECV, e)),
        };
    };
    let (head, body) = buf.split_at_mut_checked(head_len).ok_or(Fail(EXTRA_DATA, 0))?;
    let head = http::parse_into(head, spans).map_err(malformed)?;
    let limit = limit.min(body.len().saturating_sub(1));
    let mut dec = head.body;
    let until_close = dec.until_close();
    // Decoded data is body[..out]; raw bytes not yet decoded are body[out..end].
    let (mut out, mut end, mut too_large) = (0, filled - head_len, false);
    loop {
        let p = dec.decode(body, out, out, end).map_err(malformed)?;
        out = p.out;
        let over = out > limit;
        too_large |= over;
        if over {
            out = 0;
        }
        if let Some(e) = p.end {
            if e != end {
                return Err(Fail(EXTRA_DATA, 0));
            }
            break;
        }
        match sock.recv(body.get_mut(out..).unwrap_or_default()) {
            Ok(0) if until_close => break,
            Ok(0) => return Err(Fail(TRUNCATED, 0)),
            Ok(n) => end = out + n,
            Err(e) => return Err(Fail(RECV, e)),
        }
    }
    Ok(Reply { status: head.status, keep_alive: head.keep_alive, too_large, head_len, body_len: out })
}

#[cfg(test)]
mod decimal_tests {
    #[test]
    fn decimal() {
        for (n, s) in [(0, "0"), (7, "7"), (10, "10"), (413, "413"), (u64::MAX, "18446744073709551615")] {
            assert_eq!(super::decimal(n, &mut [0; 20]), s.as_bytes());
        }
    }
}
