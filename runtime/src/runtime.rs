//! The runtime: the buffers, the invocation loop, and the one way to answer an invocation.

use crate::client::{self, Conn, Post, REPLY_BODY, Reply};
use crate::context::{self, Context, Field};
use crate::endpoint::{self, Endpoint};
use crate::handler::{Error, Handler, Invocation, Writer};
use crate::http::MAX_HEAD;
use crate::policy::{self, Phase};
#[cfg(feature = "shutdown")]
use crate::shutdown::{self, ShutdownError};
#[cfg(feature = "concurrency")]
use crate::slots;
use crate::sys;
#[cfg(feature = "concurrency")]
use crate::workers;

/// The largest event the Runtime API sends: 6 MiB + 100 bytes. A larger one (up to the
/// 32 MiB that the runtime reads at most) is drained and reported as
/// `Runtime.EventTooLarge`.
pub const MAX_EVENT: usize = client::MAX_EVENT;
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
    /// Where `/next` responses are read: the head, then the event.
    event: &'static mut [u8],
    /// The response [`Writer`]'s buffer.
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
    pending: &'r mut bool,
    context: Context<'r>,
}

impl<'r> Responder<'r> {
    /// Posts `body` to `/response`.
    pub fn respond(self, body: &[u8]) {
        let post =
            Post::Response { request_id: self.context.request_id(), invocation_id: self.context.invocation_id() };
        policy::post(self.conn, &post, body);
        mark_answered(self.pending);
    }

    /// Posts `error` to `/error`.
    pub fn fail(self, error: &Error<'_>) {
        let (id, inv) = (self.context.request_id(), self.context.invocation_id());
        policy::post_error(self.conn, id, inv, error.error_type.as_bytes(), &[error.message.as_bytes()]);
        mark_answered(self.pending);
    }

    /// Reports `Function.ResponseSizeTooLarge`, like the Rust API's
    /// [`Overflow`](crate::Overflow) error, as a constant document.
    #[cfg(feature = "c-api")]
    pub(crate) fn fail_too_large(self) {
        let (id, inv) = (self.context.request_id(), self.context.invocation_id());
        post_constant_error(self.conn, id, inv, policy::RESPONSE_TOO_LARGE_TYPE, policy::RESPONSE_TOO_LARGE);
        mark_answered(self.pending);
    }

    /// Marks the invocation answered and hands its connection and context over to a
    /// stream, which answers it.
    pub(crate) fn hand_over(self) -> (&'r mut Conn<'static>, Context<'r>) {
        mark_answered(self.pending);
        (self.conn, self.context)
    }
}

impl Runtime {
    /// Reads `AWS_LAMBDA_RUNTIME_API`, maps the buffers and resolves the endpoint. The
    /// connection is opened by the first [`next`](Runtime::next). Exits with a one-line
    /// message if the variable is missing or malformed, or its host is unknown. The panic
    /// handler reports to the endpoint of the first Runtime created.
    pub fn from_env() -> Runtime {
        let Some((entry, value)) = sys::getenv(c"AWS_LAMBDA_RUNTIME_API") else {
            policy::fatal(&[b"AWS_LAMBDA_RUNTIME_API is not set"]);
        };
        let buffers = sys::map(REPLY_LEN + SCRATCH_LEN + EVENT_LEN + MAX_RESPONSE).ok().and_then(|m| {
            let (reply, m) = m.split_at_mut_checked(REPLY_LEN)?;
            let (scratch, m) = m.split_at_mut_checked(SCRATCH_LEN)?;
            let (event, out) = m.split_at_mut_checked(EVENT_LEN)?;
            Some((reply, scratch, event, out))
        });
        let Some((reply, scratch, event, out)) = buffers else {
            policy::fatal(&[b"cannot map the buffers"]);
        };
        let endpoint = resolve(entry, value);
        policy::report_panics_to(endpoint);
        Runtime { conn: Conn::new(endpoint, reply, scratch), event, out, pending: false }
    }

    /// Waits for the next invocation (`GET /next`, no timeout). An invocation handed out
    /// before and left unanswered is first reported as `Runtime.NoResponse`.
    ///
    /// Exits with a one-line message when the Runtime API answers anything but 200, sends
    /// no valid request id, or a response that is not valid HTTP/1.1. An event over
    /// [`MAX_EVENT`] bytes is reported to `/error` and the next one is fetched.
    #[allow(clippy::should_implement_trait)] // the public API's name; not an iterator: it never ends
    pub fn next(&mut self) -> Next<'_> {
        if self.pending {
            self.answer_last(policy::NO_RESPONSE_TYPE, policy::NO_RESPONSE);
        }
        #[cfg(feature = "shutdown")]
        shutdown::waiting();
        let reply = self.fetch();
        #[cfg(feature = "shutdown")]
        shutdown::not_waiting();
        self.pending = true;
        let event: &[u8] = self.event;
        let context = Context { head: event, spans: self.conn.spans };
        Next {
            invocation: Invocation { event: reply.body(event), context },
            writer: Writer::new(self.out),
            responder: Responder { conn: &mut self.conn, pending: &mut self.pending, context },
        }
    }

    /// `GET /next` until an event fits, and records the phase.
    fn fetch(&mut self) -> Reply {
        loop {
            let reply = policy::next_or_exit(&mut self.conn, self.event);
            let id = context::value(self.event, &self.conn.spans, Field::RequestId);
            if !valid_request_id(id) {
                policy::fatal(&[b"GET /next: missing or malformed Lambda-Runtime-Aws-Request-Id"]);
            }
            if !reply.too_large {
                let inv = context::value(self.event, &self.conn.spans, Field::InvocationId);
                policy::set_phase(Phase::Invoking(id, inv));
                #[cfg(feature = "concurrency")]
                slots::begin(id, context::value(self.event, &self.conn.spans, Field::DeadlineMs));
                return reply;
            }
            self.answer_last(policy::TOO_LARGE_TYPE, policy::TOO_LARGE);
        }
    }

    /// Posts the constant error document `body` of `error_type` to the invocation of the
    /// last `/next`, and marks it answered.
    fn answer_last(&mut self, error_type: &[u8], body: &[u8]) {
        let id = context::value(self.event, &self.conn.spans, Field::RequestId);
        let inv = context::value(self.event, &self.conn.spans, Field::InvocationId);
        post_constant_error(&mut self.conn, id, inv, error_type, body);
        mark_answered(&mut self.pending);
    }

    /// Reports an initialisation failure to `/runtime/init/error` and exits with status 1.
    pub fn init_error(mut self, error: &Error<'_>) -> ! {
        let (t, m) = (error.error_type.as_bytes(), error.message.as_bytes());
        policy::post_error(&mut self.conn, b"", b"", t, &[m]);
        policy::fatal_error(t, &[b"init error: ", t, b": ", m])
    }

    /// Graceful shutdown (opt-in): registers an internal extension with the Extensions API,
    /// so that Lambda sends `SIGTERM` at shutdown, and handles it: `callback` runs, then the
    /// process exits with status 0. A `SIGTERM` during an invocation waits for its answer.
    /// The callback and the rest of that invocation have 400 ms in all (Lambda kills the
    /// process 500 ms after `SIGTERM`); past that, the process logs it and exits with status
    /// 1. Call it during initialisation, before the first [`next`](Runtime::next), and once.
    ///
    /// The callback runs in the signal handler when the signal comes while the runtime waits
    /// for an invocation: only the runtime's own code is interrupted then.
    ///
    /// An `Err` (the extension could not be registered, or a callback is registered already)
    /// is logged, and is meant for [`init_error`](Runtime::init_error). With the feature
    /// `shutdown`.
    #[cfg(feature = "shutdown")]
    pub fn on_shutdown(&mut self, callback: fn()) -> Result<(), Error<'static>> {
        shutdown::enable(&self.conn.endpoint, callback).map_err(|error| match error {
            ShutdownError::AlreadyEnabled => Error::new("Runtime.ShutdownTwice", "on_shutdown was called before"),
            ShutdownError::Register(failure) => Error::new("Runtime.ExtensionRegisterFailed", failure.message()),
        })
    }

    /// Runs `handler` for every invocation, forever. With the feature `concurrency` and
    /// `AWS_LAMBDA_MAX_CONCURRENCY` above 1, in that many worker processes at once (see
    /// [`start_workers`](Runtime::start_workers)).
    pub fn run(mut self, mut handler: impl Handler) -> ! {
        #[cfg(feature = "concurrency")]
        self.start_workers();
        loop {
            let next = self.next();
            match handler.handle(&next.invocation, next.writer) {
                Ok(body) => next.responder.respond(body),
                Err(error) => next.responder.fail(&error),
            }
        }
    }

    /// Starts the workers `AWS_LAMBDA_MAX_CONCURRENCY` asks for (docs/design.md,
    /// "Concurrency"): returns in each worker, and at once when the variable is unset or 1;
    /// the supervisor never returns. An invocation handed out and left unanswered is
    /// reported as `Runtime.NoResponse` first, so that no worker inherits it. An invalid
    /// value is an init error.
    ///
    /// [`run`](Runtime::run) calls it; call it first yourself for what each worker must
    /// have of its own (a connection to a database, a thread, a random seed): what
    /// initialisation made before it is shared by the workers as it was at the fork, and
    /// threads do not survive a fork. Later calls, and `run`'s, return at once.
    #[cfg(feature = "concurrency")]
    pub fn start_workers(&mut self) {
        if self.pending {
            self.answer_last(policy::NO_RESPONSE_TYPE, policy::NO_RESPONSE);
        }
        workers::start(&mut self.conn);
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
    /// unanswered: calls `answer` with its responder and the response buffer; `false` if
    /// there is none.
    #[cfg(feature = "c-api")]
    pub(crate) fn answer(&mut self, answer: impl FnOnce(Responder<'_>, &[u8])) -> bool {
        let pending = self.pending;
        if pending {
            let context = Context { head: &*self.event, spans: self.conn.spans };
            answer(Responder { conn: &mut self.conn, pending: &mut self.pending, context }, self.out);
        }
        pending
    }
}

/// Posts the runtime's constant error document `body` of `error_type` for the invocation
/// with `request_id` and `invocation_id`.
fn post_constant_error(
    conn: &mut Conn<'static>,
    request_id: &[u8],
    invocation_id: &[u8],
    error_type: &[u8],
    body: &[u8],
) {
    policy::post(conn, &Post::Error { request_id, invocation_id, error_type }, body);
}

/// Marks the invocation handed out last answered: nothing waits for an answer, and the
/// panic handler no longer reports to it (its ids may be overwritten from now on).
fn mark_answered(pending: &mut bool) {
    *pending = false;
    #[cfg(feature = "concurrency")]
    slots::end();
    policy::set_phase(Phase::Busy);
}

/// The endpoint `AWS_LAMBDA_RUNTIME_API` (`entry` is `NAME=value`) names, or exit.
fn resolve(entry: &[u8], value: &'static [u8]) -> Endpoint {
    match endpoint::resolve(value) {
        Ok(endpoint) => endpoint,
        Err(endpoint::EndpointError::Malformed) => policy::fatal(&[entry, b" is not host:port or [ipv6]:port"]),
        Err(endpoint::EndpointError::Unknown) => {
            policy::fatal(&[entry, b": the host is neither an IP address nor localhost"])
        }
    }
}

/// A request id goes into a URL path: visible ASCII without `/ ? # %`.
fn valid_request_id(id: &[u8]) -> bool {
    !id.is_empty() && id.iter().all(|&b| b.is_ascii_graphic() && !matches!(b, b'/' | b'?' | b'#' | b'%'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids() {
        assert!(valid_request_id(b"8476a536-e9f4-11e8-9739-2dfe598c3fcd"));
        assert!(valid_request_id(b"custom_id.1:2"));
        for bad in [&b""[..], b"a/b", b"a b", b"a?b", b"a#b", b"a%2F", b"\xc3\xa9"] {
            assert!(!valid_request_id(bad), "{bad:?}");
        }
    }
}
