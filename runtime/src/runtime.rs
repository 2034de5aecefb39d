//! The runtime: the buffers, the invocation loop and its low-level steps.

use crate::client::{Conn, GET_END, GET_NEXT, HTTP_HOST, REPLY_BODY, Reply};
use crate::context::{self, Context, Field};
use crate::endpoint;
use crate::handler::{Error, Handler, Invocation, Writer};
use crate::http::MAX_HEAD;
use crate::sys::{self, Phase};

/// The largest event the Runtime API sends: 6 MiB + 100 bytes. A larger one is drained
/// and reported as `Runtime.EventTooLarge`.
pub const MAX_EVENT: usize = 6_291_556;
/// The capacity of the response [`Writer`]: the most the Runtime API accepts.
pub const MAX_RESPONSE: usize = MAX_EVENT;

/// Room for reading past the decoded data (chunk framing, a full event's last read).
const SLACK: usize = 4096;
const REPLY_LEN: usize = MAX_HEAD + REPLY_BODY + SLACK;
const SCRATCH_LEN: usize = 64 * 1024;
const EVENT_LEN: usize = MAX_HEAD + MAX_EVENT + SLACK;

/// A connection to the Runtime API and the buffers an invocation lives in: one mapping of
/// about 12.7 MB, of which only the pages actually used are ever backed by memory.
pub struct Runtime {
    conn: Conn<'static>,
    event: &'static mut [u8],
    out: &'static mut [u8],
    /// An invocation was handed out and not answered yet.
    pending: bool,
}

/// The next invocation, the writer for its response and the one way to answer it.
pub struct Next<'r> {
    /// The event and its context.
    pub invocation: Invocation<'r>,
    /// A fresh response buffer.
    pub writer: Writer<'r>,
    /// Answers the invocation, once.
    pub responder: Responder<'r>,
}

/// Answers one invocation: consumed by [`respond`](Responder::respond) or
/// [`fail`](Responder::fail). One dropped unanswered is reported as `Runtime.NoResponse`
/// by the next [`Runtime::next`].
pub struct Responder<'r> {
    pub(crate) conn: &'r mut Conn<'static>,
    pub(crate) pending: &'r mut bool,
    pub(crate) context: Context<'r>,
}

impl Responder<'_> {
    /// Posts `body` to `/response`.
    #[cfg_attr(feature = "c-api", inline(always))]
    pub fn respond(self, body: &[u8]) {
        // The connection's spans are the context's: nothing was exchanged since `next`.
        post_last(self.conn, self.context.head, b"", body);
        self.done();
    }

    /// Posts `error` to `/error`.
    pub fn fail(self, error: &Error<'_>) {
        let (id, inv) = (self.context.request_id(), self.context.invocation_id());
        self.conn.post_error(id, inv, error.error_type.as_bytes(), &[error.message.as_bytes()]);
        self.done();
    }

    fn done(self) {
        *self.pending = false;
        sys::set_phase(Phase::Busy);
    }
}

// The runtime's own error documents are constants, so that a bootstrap whose handler never
// fails links no JSON escaping at all.
const NO_RESPONSE: &[u8] =
    br#"{"errorMessage":"the handler returned without responding","errorType":"Runtime.NoResponse","stackTrace":[]}"#;
const TOO_LARGE: &[u8] = br#"{"errorMessage":"the event exceeds the 6291556-byte limit","errorType":"Runtime.EventTooLarge","stackTrace":[]}"#;
/// The error type in a constant error document: its `len` bytes before the closing
/// `","stackTrace":[]}`. Shared with the document rather than a string of its own.
const fn error_type(doc: &'static [u8], len: usize) -> &'static [u8] {
    let (head, _) = doc.split_at(doc.len() - br#"","stackTrace":[]}"#.len());
    head.split_at(head.len() - len).1
}
const NO_RESPONSE_TYPE: &[u8] = error_type(NO_RESPONSE, "Runtime.NoResponse".len());
const TOO_LARGE_TYPE: &[u8] = error_type(TOO_LARGE, "Runtime.EventTooLarge".len());
#[cfg(feature = "c-api")]
const RESPONSE_TOO_LARGE: &[u8] = br#"{"errorMessage":"the response does not fit in the 6291556-byte buffer","errorType":"Function.ResponseSizeTooLarge","stackTrace":[]}"#;
#[cfg(feature = "c-api")]
const RESPONSE_TOO_LARGE_TYPE: &[u8] = error_type(RESPONSE_TOO_LARGE, "Function.ResponseSizeTooLarge".len());

#[cfg(feature = "c-api")]
impl Responder<'_> {
    /// Reports `Function.ResponseSizeTooLarge`, like the Rust API's
    /// [`Overflow`](crate::Overflow) error, but as a constant document.
    pub(crate) fn fail_too_large(self) {
        // Through `post_last`, as `respond` (the connection's spans are the context's), so that
        // the C library calls `Conn::post` from one place and inlines it there.
        post_last(self.conn, self.context.head, RESPONSE_TOO_LARGE_TYPE, RESPONSE_TOO_LARGE);
        self.done();
    }
}

impl Runtime {
    /// Reads `AWS_LAMBDA_RUNTIME_API` and maps the buffers. The connection is opened by
    /// the first [`next`](Runtime::next). Exits with a one-line message if the variable is
    /// missing or malformed, or its host cannot be resolved. The panic handler reports to
    /// the endpoint of the last Runtime created.
    // Inlined into its one caller (smaller Rust echoes, docs/size.md; the C library, which
    // calls it from one place too, is unchanged).
    #[inline(always)]
    pub fn from_env() -> Runtime {
        let Some((entry, value)) = sys::getenv(c"AWS_LAMBDA_RUNTIME_API") else {
            sys::die(b"AWS_LAMBDA_RUNTIME_API is not set");
        };
        let mapped = endpoint::split(value).and_then(|(host, port)| {
            sys::publish(host, port, value, REPLY_LEN + SCRATCH_LEN + EVENT_LEN + MAX_RESPONSE)
        });
        // One message for a malformed value and a host that does not resolve.
        let Some((ep, m)) = mapped else {
            sys::fatal(&[entry, b" is not ipv4:port, [ipv6]:port or resolvable name:port"]);
        };
        let regions = Some(m).and_then(|m| {
            let (reply, m) = m.split_at_mut_checked(REPLY_LEN)?;
            let (scratch, m) = m.split_at_mut_checked(SCRATCH_LEN)?;
            let (event, out) = m.split_at_mut_checked(EVENT_LEN)?;
            Some((reply, scratch, event, out))
        });
        // Never None: the mapping is the regions' size, which the optimiser sees.
        let Some((reply, scratch, event, out)) = regions else {
            sys::die(b"cannot map the buffers");
        };
        Runtime { conn: Conn::new(ep, reply, scratch), event, out, pending: false }
    }

    /// Waits for the next invocation (`GET /next`, no timeout).
    ///
    /// Exits with a one-line message when the Runtime API answers anything but 200, sends
    /// no valid request id, or a response that is not valid HTTP/1.1. An event over
    /// [`MAX_EVENT`] bytes is reported to `/error` and the next one is fetched.
    #[allow(clippy::should_implement_trait)] // the public API's name; not an iterator: it never ends
    pub fn next(&mut self) -> Next<'_> {
        let reply = self.fetch::<true>();
        self.pending = true;
        let event: &[u8] = self.event;
        let context = Context { head: event, spans: self.conn.spans };
        Next {
            invocation: Invocation { event: reply.body(event), context },
            writer: Writer::new(self.out),
            responder: Responder { conn: &mut self.conn, pending: &mut self.pending, context },
        }
    }

    /// [`next`](Runtime::next) up to handing the invocation out: reports the invocation
    /// left unanswered (with `REPORT`; [`run`](Runtime::run) does that before its loop),
    /// fetches until an event fits, and records the phase.
    fn fetch<const REPORT: bool>(&mut self) -> Reply {
        if REPORT && self.pending {
            post_last(&mut self.conn, self.event, NO_RESPONSE_TYPE, NO_RESPONSE);
            self.pending = false;
        }
        loop {
            let parts: [&[u8]; 6] = [GET_NEXT, b"", b"", HTTP_HOST, self.conn.ep.host, GET_END];
            let reply = self.conn.exchange(&parts, Some(self.event));
            let id = context::value(self.event, &self.conn.spans, Field::RequestId);
            if !valid_request_id(id) {
                sys::die(b"GET /next: missing or malformed Lambda-Runtime-Aws-Request-Id");
            }
            if !reply.too_large {
                let inv = context::value(self.event, &self.conn.spans, Field::InvocationId);
                sys::set_phase(Phase::Invoking(id, inv));
                return reply;
            }
            post_last(&mut self.conn, self.event, TOO_LARGE_TYPE, TOO_LARGE);
        }
    }

    /// Reports an initialisation failure to `/runtime/init/error` and exits with status 1.
    pub fn init_error(mut self, error: &Error<'_>) -> ! {
        let (t, m) = (error.error_type.as_bytes(), error.message.as_bytes());
        self.conn.post_error(b"", b"", t, &[m]);
        sys::fatal(&[b"init error: ", t, b": ", m])
    }

    /// Whether an invocation was handed out and not answered yet.
    #[cfg(feature = "c-api")]
    pub(crate) fn is_pending(&self) -> bool {
        self.pending
    }

    /// The header block and the context spans of the last [`next`](Runtime::next), where
    /// they are.
    #[cfg(feature = "c-api")]
    pub(crate) fn last_head(&self) -> (&[u8], &context::Spans) {
        (self.event, &self.conn.spans)
    }

    /// The response buffer, for the C API's writer.
    #[cfg(feature = "c-api")]
    pub(crate) fn response_buffer(&mut self) -> &mut [u8] {
        self.out
    }

    /// The connection and the context of the invocation the last [`next`](Runtime::next)
    /// handed out (current until the next exchange on the connection), for a stream the C API
    /// keeps open across calls.
    #[cfg(feature = "c-api-stream")]
    pub(crate) fn last(&mut self) -> (&mut Conn<'static>, Context<'_>) {
        let spans = self.conn.spans;
        (&mut self.conn, Context { head: &*self.event, spans })
    }

    /// Answers the invocation the last [`next`](Runtime::next) handed out, if it is still
    /// unanswered (its context is current: nothing was exchanged since): calls `answer` with
    /// its responder and the response buffer. Generic, so that each C function links only
    /// the answer it gives.
    #[cfg(feature = "c-api")]
    pub(crate) fn answer(&mut self, answer: impl FnOnce(Responder<'_>, &[u8])) -> bool {
        let pending = self.pending;
        if pending {
            let context = Context { head: &*self.event, spans: self.conn.spans };
            answer(Responder { conn: &mut self.conn, pending: &mut self.pending, context }, self.out);
        }
        pending
    }

    /// Runs `handler` for every invocation, forever.
    // Inlined, and an invocation left unanswered by an earlier `next` reported before the
    // loop, not in it: after `from_env` there is none, so `lambda_libc::run` links no
    // `Runtime.NoResponse` post. The check is `fetch`'s, written out: through a function of
    // their own both `next`s compile differently, and the arm64 C echo grows (docs/size.md).
    #[inline(always)]
    pub fn run(mut self, mut handler: impl Handler) -> ! {
        if self.pending {
            post_last(&mut self.conn, self.event, NO_RESPONSE_TYPE, NO_RESPONSE);
            self.pending = false;
        }
        loop {
            // `next` without the `Next`: the handler always answers here, so `pending` stays
            // false, and nothing is exchanged before the answer.
            let reply = self.fetch::<false>();
            let event: &[u8] = self.event;
            let context = Context { head: event, spans: self.conn.spans };
            match handler.handle(&Invocation { event: reply.body(event), context }, Writer::new(self.out)) {
                // What `Responder::respond` does, without building one (smaller: docs/size.md).
                Ok(body) => {
                    post_last(&mut self.conn, event, b"", body);
                    sys::set_phase(Phase::Busy);
                }
                Err(error) => Responder { conn: &mut self.conn, pending: &mut self.pending, context }.fail(&error),
            }
        }
    }
}

/// Answers the invocation of the last `GET /next`, whose context headers are in `head` and
/// the connection's spans (see [`Conn::post`]): current as long as nothing was exchanged
/// since.
fn post_last(conn: &mut Conn<'static>, head: &[u8], error_type: &[u8], body: &[u8]) {
    let context = Context { head, spans: conn.spans };
    conn.post(&context, error_type, body);
}

/// A request id goes into a URL path: visible ASCII without `/ ? # %`.
fn valid_request_id(id: &[u8]) -> bool {
    !id.is_empty() && id.iter().all(|&b| b.is_ascii_graphic() && !matches!(b, b'/' | b'?' | b'#' | b'%'))
}

/// Reports a panic (see the `panic-handler` feature) and exits with status 1: as an init
/// error before the first invocation, as a `Runtime.Panic` error of the current one while
/// a handler runs. A report goes out on a connection of its own, with stack buffers, so it
/// does not depend on the state the panic interrupted.
#[cfg(feature = "panic-handler")]
pub(crate) fn report_panic(message: &[u8], file: &[u8], line: u32) -> ! {
    use core::sync::atomic::{AtomicBool, Ordering};
    static PANICKED: AtomicBool = AtomicBool::new(false);
    if PANICKED.swap(true, Ordering::Relaxed) {
        sys::exit(1);
    }
    let mut digits = [0u8; 20];
    let parts: [&[u8]; 5] = [message, b" at ", file, b":", crate::client::decimal(line as u64, &mut digits)];
    sys::log(&[b"panic: ", parts[0], parts[1], parts[2], parts[3], parts[4]]);
    let target: Option<(&[u8], &[u8])> = match sys::phase() {
        Phase::Init => Some((b"", b"")),
        Phase::Invoking(id, inv) => Some((id, inv)),
        Phase::Busy => None,
    };
    if let (Some(ep), Some((id, inv))) = (sys::endpoint(), target) {
        let (mut reply, mut scratch) = ([0u8; 2048], [0u8; 2048]);
        Conn::new(ep, &mut reply, &mut scratch).post_error(id, inv, b"Runtime.Panic", &parts);
    }
    sys::exit(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_documents_are_what_json_would_write() {
        for (doc, t, m) in [
            (NO_RESPONSE, "Runtime.NoResponse", "the handler returned without responding"),
            (TOO_LARGE, "Runtime.EventTooLarge", "the event exceeds the 6291556-byte limit"),
            #[cfg(feature = "c-api")]
            (
                RESPONSE_TOO_LARGE,
                "Function.ResponseSizeTooLarge",
                "the response does not fit in the 6291556-byte buffer",
            ),
        ] {
            let mut buf = [0u8; 256];
            let n = crate::json::error_body(&mut buf, t.as_bytes(), &[m.as_bytes()]);
            assert_eq!(&buf[..n], doc);
        }
    }

    #[test]
    fn error_types_from_the_documents() {
        assert_eq!(NO_RESPONSE_TYPE, b"Runtime.NoResponse");
        assert_eq!(TOO_LARGE_TYPE, b"Runtime.EventTooLarge");
        #[cfg(feature = "c-api")]
        assert_eq!(RESPONSE_TOO_LARGE_TYPE, b"Function.ResponseSizeTooLarge");
    }

    #[test]
    fn request_ids() {
        assert!(valid_request_id(b"8476a536-e9f4-11e8-9739-2dfe598c3fcd"));
        assert!(valid_request_id(b"custom_id.1:2"));
        for bad in [&b""[..], b"a/b", b"a b", b"a?b", b"a#b", b"a%2F", b"\xc3\xa9"] {
            assert!(!valid_request_id(bad), "{bad:?}");
        }
    }
}
