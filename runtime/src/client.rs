//! The wire client: one keep-alive connection, requests written with one `sendmsg`,
//! responses read into caller-supplied buffers.

use crate::http::{self, Chunked, Framing, MAX_HEAD, nth};
use crate::json;
use crate::sys::{self, Addr, Errno, Socket};

macro_rules! user_agent {
    () => {
        concat!("\r\nUser-Agent: lambda-libc/", env!("CARGO_PKG_VERSION"), "\r\n")
    };
}

const GET_NEXT: &[u8] = b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: ";
const GET_NEXT_END: &[u8] = concat!(user_agent!(), "\r\n").as_bytes();
const POST: &[u8] = b"POST /2018-06-01/runtime/";
const POST_HEAD_END: &[u8] = concat!(user_agent!(), "Content-Length: ").as_bytes();

/// Where the Runtime API is: its address and the `Host` header value.
pub struct Endpoint {
    pub(crate) addr: Addr,
    pub(crate) host: &'static [u8],
}

/// What went wrong with one exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fail {
    /// `connect` failed.
    Connect(Errno),
    /// Sending the request failed.
    Send(Errno),
    /// The connection ended, or failed, before any byte of the response.
    NoResponse,
    /// Reading failed after part of the response had arrived.
    Recv(Errno),
    /// The connection ended in the middle of the response.
    Truncated,
    /// Bytes arrived after the end of the response.
    ExtraData,
    /// The response is not valid HTTP/1.1.
    Malformed(http::Error),
}

impl Fail {
    fn describe(self) -> (&'static [u8], Errno) {
        let (n, errno) = match self {
            Fail::Connect(e) => (0, e),
            Fail::Send(e) => (1, e),
            Fail::NoResponse => (2, 0),
            Fail::Recv(e) => (3, e),
            Fail::Truncated => (4, 0),
            Fail::ExtraData => (5, 0),
            Fail::Malformed(e) => return (e.message(), 0),
        };
        let messages = b"cannot connect\0send failed\0connection closed before a response\0receive failed\0\
            connection closed in the middle of the response\0unexpected bytes after the response";
        (nth(messages, n), errno)
    }
}

/// A response, as positions in the buffer it was read into.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Reply {
    pub status: u16,
    keep_alive: bool,
    /// The header block is `buf[..head_len]`.
    pub head_len: usize,
    /// The decoded body is `buf[head_len..head_len + body_len]`, unless `too_large`.
    pub body_len: usize,
    /// The body's length once decoded, including what was drained.
    pub total: u64,
    /// The body exceeded the limit and was read and discarded.
    pub too_large: bool,
}

impl Reply {
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
    reply: &'b mut [u8],
    /// Where error documents are composed.
    scratch: &'b mut [u8],
}

impl<'b> Conn<'b> {
    pub fn new(ep: &'b Endpoint, reply: &'b mut [u8], scratch: &'b mut [u8]) -> Self {
        Conn { ep, sock: None, reply, scratch }
    }

    /// Sends a request and reads its response into `buf`, keeping at most `limit` bytes of
    /// body. Reconnects when the connection is gone; retries once on a fresh connection
    /// when a reused one fails before any byte of the response arrives.
    pub fn exchange(&mut self, parts: &[&[u8]], buf: &mut [u8], limit: usize) -> Result<Reply, Fail> {
        let mut retried = false;
        loop {
            let (sock, reused) = match self.sock.take() {
                Some(s) => (s, true),
                None => (Socket::connect(&self.ep.addr).map_err(Fail::Connect)?, false),
            };
            match sock.send(parts).map_err(Fail::Send).and_then(|()| read_reply(&sock, buf, limit)) {
                Ok(reply) => {
                    if reply.keep_alive {
                        self.sock = Some(sock);
                    }
                    return Ok(reply);
                }
                Err(Fail::Send(_) | Fail::NoResponse) if reused && !retried => retried = true,
                Err(e) => return Err(e),
            }
        }
    }

    /// `GET /next` into `buf`.
    pub fn next(&mut self, buf: &mut [u8], limit: usize) -> Reply {
        let parts: [&[u8]; 3] = [GET_NEXT, self.ep.host, GET_NEXT_END];
        self.exchange(&parts, buf, limit).unwrap_or_else(|e| fail([b"GET /next", b"", b"", b""], e))
    }

    /// Posts to `/runtime/{path}{id}{kind}` (kind `/response` or `/error`). A 2xx is
    /// success; another 4xx is logged and the runtime carries on; a 5xx (or no valid
    /// response) ends the process, as the Runtime API asks.
    pub fn post(&mut self, path: &[u8], id: &[u8], kind: &[u8], invocation_id: &[u8], error_type: &[u8], body: &[u8]) {
        let mut digits = [0u8; 20];
        let has_inv = !invocation_id.is_empty();
        let has_type = !error_type.is_empty();
        let parts: [&[u8]; 16] = [
            POST,
            path,
            id,
            kind,
            b" HTTP/1.1\r\nHost: ",
            self.ep.host,
            POST_HEAD_END,
            decimal(body.len() as u64, &mut digits),
            if has_inv { b"\r\nLambda-Runtime-Invocation-Id: " } else { b"" },
            invocation_id,
            if has_type { b"\r\nLambda-Runtime-Function-Error-Type: " } else { b"" },
            error_type,
            if has_type { b"\r\nContent-Type: application/vnd.aws.lambda.error+json" } else { b"" },
            b"\r\n\r\n",
            body,
            b"",
        ];
        let buf = core::mem::take(&mut self.reply);
        let reply = self.exchange(&parts, buf, REPLY_BODY).unwrap_or_else(|e| fail([b"POST ", path, id, kind], e));
        let mut status = [0u8; 20];
        let line: [&[u8]; 8] = [b"POST ", path, id, kind, b": HTTP ", decimal(reply.status as u64, &mut status), b" ", reply.body(buf)];
        match reply.status {
            200..=299 => {}
            500.. => sys::fatal(&line),
            _ => sys::log(&line),
        }
        self.reply = buf;
    }

    /// Posts an error document for `error_type` (`Function.Unknown` unless it matches
    /// `(Runtime|Function).Name`) and `message`.
    pub fn post_error(&mut self, path: &[u8], id: &[u8], invocation_id: &[u8], error_type: &[u8], message: &[&[u8]]) {
        let error_type = if json::valid_error_type(error_type) { error_type } else { b"Function.Unknown" };
        let scratch = core::mem::take(&mut self.scratch);
        let n = json::error_body(scratch, error_type, message);
        self.post(path, id, b"/error", invocation_id, error_type, scratch.get(..n).unwrap_or_default());
        self.scratch = scratch;
    }
}

/// Logs a failed exchange (`what` names the request) and exits.
pub(crate) fn fail(what: [&[u8]; 4], e: Fail) -> ! {
    let (msg, errno) = e.describe();
    let mut digits = [0u8; 20];
    let (open, code, close): (&[u8], &[u8], &[u8]) = match errno {
        0 => (b"", b"", b""),
        e => (b" (errno ", decimal(e as u64, &mut digits), b")"),
    };
    sys::fatal(&[what[0], what[1], what[2], what[3], b": ", msg, open, code, close])
}

/// Formats `n` in decimal into `buf`.
pub(crate) fn decimal(mut n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut start = buf.len();
    for d in buf.iter_mut().rev() {
        *d = b'0' + (n % 10) as u8;
        start -= 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    buf.get(start..).unwrap_or_default()
}

/// Reads one response from `sock` into `buf`: the header block, then the body, decoded in
/// place after it. Bodies longer than `limit` are drained and flagged `too_large`.
fn read_reply(sock: &Socket, buf: &mut [u8], limit: usize) -> Result<Reply, Fail> {
    let head_max = MAX_HEAD.min(buf.len());
    let mut filled = 0;
    let head_len = loop {
        if let Some(n) = http::head_len(buf.get(..filled.min(head_max)).unwrap_or_default()) {
            break n;
        }
        let room = buf.get_mut(filled..).filter(|_| filled < head_max);
        let Some(room) = room else {
            return Err(Fail::Malformed(http::Error::HeadTooLarge));
        };
        filled += match sock.recv(room) {
            Ok(0) | Err(_) if filled == 0 => return Err(Fail::NoResponse),
            Ok(0) => return Err(Fail::Truncated),
            Ok(n) => n,
            Err(e) => return Err(Fail::Recv(e)),
        };
    };
    let (head, body) = buf.split_at_mut_checked(head_len).ok_or(Fail::ExtraData)?;
    let head = http::parse_head(head).map_err(Fail::Malformed)?;
    let (status, keep_alive, framing) = (head.status, head.keep_alive, head.framing);
    let limit = limit.min(body.len().saturating_sub(1));
    let mut chunked = Chunked::new();
    // Decoded data is body[..out]; raw bytes not yet decoded are body[out..end].
    let (mut out, mut end, mut total, mut too_large) = (0, filled - head_len, 0u64, false);
    loop {
        let before = out;
        let done = match framing {
            Framing::Empty => {
                if end > 0 {
                    return Err(Fail::ExtraData);
                }
                true
            }
            Framing::Length(n) => {
                let want = n - total;
                if (end - out) as u64 > want {
                    return Err(Fail::ExtraData);
                }
                out = end;
                (end - before) as u64 == want
            }
            Framing::UntilClose => {
                out = end;
                false
            }
            Framing::Chunked => {
                let p = chunked.decode(body, out, out, end).map_err(Fail::Malformed)?;
                if p.end.is_some_and(|e| e != end) {
                    return Err(Fail::ExtraData);
                }
                out = p.out;
                p.end.is_some()
            }
        };
        total += (out - before) as u64;
        if out > limit {
            too_large = true;
            out = 0;
        }
        if done {
            break;
        }
        match sock.recv(body.get_mut(out..).unwrap_or_default()) {
            Ok(0) if framing == Framing::UntilClose => break,
            Ok(0) => return Err(Fail::Truncated),
            Ok(n) => end = out + n,
            Err(e) => return Err(Fail::Recv(e)),
        }
    }
    Ok(Reply { status, keep_alive, head_len, body_len: out, total, too_large })
}
