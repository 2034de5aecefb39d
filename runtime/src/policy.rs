//! What Lambda's rules make of each outcome: what ends the process (one line on stderr,
//! exit status 1), what is reported to the Runtime API and the runtime goes on, what is only
//! logged; and the state the panic path reads.
//!
//! The Runtime API's rules (docs/design.md, "Outcomes"): a `/next` that does not give a valid
//! invocation, a 5xx to an answer, or a failed exchange end the process; any other status to
//! an answer (a 4xx, in practice) is logged and the runtime goes on to the next invocation.

use crate::client::{Conn, Failure, GET_NEXT, Post, Reply};
use crate::endpoint::Endpoint;
use crate::sys;

/// Logs `parts` as one line on stderr (level `FATAL` with the feature `log`) and exits with
/// status 1.
pub fn fatal(parts: &[&[u8]]) -> ! {
    fatal_line(b"", parts);
    sys::exit(1)
}

/// [`fatal`], for an error of `error_type`: with the feature `log`, the `errorType` of the
/// JSON record, as the Runtime API was told it (`Function.Unknown` for an invalid one).
pub fn fatal_error(error_type: &[u8], parts: &[&[u8]]) -> ! {
    #[cfg(feature = "log")]
    {
        fatal_line(crate::json::reported_error_type(error_type), parts);
        sys::exit(1)
    }
    #[cfg(not(feature = "log"))]
    {
        let _ = error_type;
        fatal(parts)
    }
}

/// Logs `parts` as one line on stderr, of level `WARN` with the feature `log`: something
/// went wrong and the runtime goes on (a worker replaced).
#[cfg(feature = "concurrency")]
pub fn warn(parts: &[&[u8]]) {
    #[cfg(feature = "log")]
    crate::log::runtime_line(crate::log::Level::Warn, b"", parts);
    #[cfg(not(feature = "log"))]
    sys::log(parts);
}

/// Logs the line of [`fatal`] (`error_type` only with the feature `log`), for a caller that
/// ends the process itself (a signal handler, with `_exit`).
#[inline(always)]
pub fn fatal_line(error_type: &[u8], parts: &[&[u8]]) {
    #[cfg(feature = "log")]
    crate::log::runtime_line(crate::log::Level::Fatal, error_type, parts);
    #[cfg(not(feature = "log"))]
    {
        let _ = error_type;
        sys::log(parts);
    }
}

/// `GET /next`, or exit: a failed exchange, or a status other than 200, ends the process.
pub fn next_or_exit(conn: &mut Conn<'_>, event: &mut [u8]) -> Reply {
    match conn.next(event) {
        Ok(reply) => reply,
        Err(failure) => {
            failure.log([GET_NEXT, b"", b""]);
            sys::exit(1)
        }
    }
}

/// Handles the outcome of an answer to the Runtime API (`request` names it in the log): a
/// status below 500 that is not 2xx (a 4xx, in practice) is logged and the runtime goes on;
/// any other failure (a 5xx, no valid response) ends the process.
pub fn handle_answer(request: [&[u8]; 3], result: Result<(), Failure<'_>>) {
    match result {
        Ok(()) => {}
        Err(failure @ Failure::Status(..=499, _)) => failure.log(request),
        Err(failure) => {
            failure.log(request);
            sys::exit(1)
        }
    }
}

/// Posts `body` as `post` says, and handles the outcome ([`handle_answer`]).
pub fn post(conn: &mut Conn<'_>, post: &Post<'_>, body: &[u8]) {
    handle_answer(post.target(), conn.post(post, body));
}

/// Posts an error document (see [`Conn::post_error`]) and handles the outcome
/// ([`handle_answer`]).
pub fn post_error(conn: &mut Conn<'_>, request_id: &[u8], invocation_id: &[u8], error_type: &[u8], message: &[&[u8]]) {
    let result = conn.post_error(request_id, invocation_id, error_type, message);
    handle_answer(Post::error(request_id, invocation_id, error_type).target(), result);
}

/// The error document of an invocation left unanswered (posted by the next `next`).
pub const NO_RESPONSE: &[u8] =
    br#"{"errorMessage":"the handler returned without responding","errorType":"Runtime.NoResponse","stackTrace":[]}"#;
/// Its error type.
pub const NO_RESPONSE_TYPE: &[u8] = b"Runtime.NoResponse";
/// The error document of an event over the limit, which was read and discarded.
pub const TOO_LARGE: &[u8] =
    br#"{"errorMessage":"the event exceeds the 6291556-byte limit","errorType":"Runtime.EventTooLarge","stackTrace":[]}"#;
/// Its error type.
pub const TOO_LARGE_TYPE: &[u8] = b"Runtime.EventTooLarge";
/// The error document of a response that does not fit in the response buffer (the C API's
/// `lambda_write` overflow).
#[cfg(any(test, feature = "c-api"))]
pub const RESPONSE_TOO_LARGE: &[u8] = br#"{"errorMessage":"the response does not fit in the 6291556-byte buffer","errorType":"Function.ResponseSizeTooLarge","stackTrace":[]}"#;
/// Its error type.
#[cfg(any(test, feature = "c-api"))]
pub const RESPONSE_TOO_LARGE_TYPE: &[u8] = b"Function.ResponseSizeTooLarge";

/// The endpoint of the first runtime created, for the panic handler, which reports on a
/// connection of its own.
static ENDPOINT: sys::Once<Endpoint> = sys::Once::new();

/// Makes `endpoint` the one the panic handler reports to, unless one is already (every
/// runtime of a process reads the same variable).
pub fn report_panics_to(endpoint: Endpoint) {
    let _ = ENDPOINT.set(endpoint);
}

/// What the runtime is doing, for the panic handler. Before the first is recorded, the
/// process is initialising: a panic then is an init error.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Phase<'a> {
    /// Inside the runtime, between invocations: a panic is only logged.
    Busy,
    /// A handler is running for this request id and invocation id.
    Invoking(&'a [u8], &'a [u8]),
}

/// The tags of the phases in [`MARKER`]: initialising (the marker's first tag), then the
/// [`Phase`]s.
#[cfg(feature = "panic-handler")]
const INIT: usize = 0;
const BUSY: usize = 1;
const INVOKING: usize = 2;

/// The phase, recorded. Its invariant (see [`sys::Marker`]): the ids of `Invoking` live in
/// the receive buffer, which the runtime overwrites only after recording `Busy`.
static MARKER: sys::Marker = sys::Marker::new();

/// Records the phase.
pub fn set_phase(phase: Phase<'_>) {
    match phase {
        Phase::Busy => MARKER.record(BUSY, b"", b""),
        Phase::Invoking(request_id, invocation_id) => MARKER.record(INVOKING, request_id, invocation_id),
    }
    // The logger, a layer below, keeps its own copy of the request id for its records.
    #[cfg(feature = "log")]
    crate::log::set_request_id(match phase {
        Phase::Busy => b"",
        Phase::Invoking(request_id, _) => request_id,
    });
}

/// Reports a panic and exits with status 1: as an init error before the first invocation,
/// as a `Runtime.Panic` error of the current one while a handler runs, only on stderr in
/// between. The report goes out on a connection of its own, with stack buffers, so it does
/// not depend on the state the panic interrupted.
#[cfg(feature = "panic-handler")]
pub fn report_panic(message: &[u8], file: &[u8], line: u32) -> ! {
    use core::sync::atomic::{AtomicBool, Ordering};
    static PANICKED: AtomicBool = AtomicBool::new(false);
    if PANICKED.swap(true, Ordering::Relaxed) {
        sys::exit(1);
    }
    let mut digits = [0u8; crate::ascii::MAX_DIGITS];
    let parts: [&[u8]; 5] = [message, b" at ", file, b":", crate::ascii::format_decimal(u64::from(line), &mut digits)];
    #[cfg(not(feature = "log"))]
    sys::log(&[b"panic: ", parts[0], parts[1], parts[2], parts[3], parts[4]]);
    #[cfg(feature = "log")]
    crate::log::runtime_line(
        crate::log::Level::Fatal,
        b"Runtime.Panic",
        &[b"panic: ", parts[0], parts[1], parts[2], parts[3], parts[4]],
    );
    let target: Option<(&[u8], &[u8])> = match MARKER.read() {
        (INIT, _, _) => Some((b"", b"")),
        (INVOKING, request_id, invocation_id) => Some((request_id, invocation_id)),
        _ => None,
    };
    if let (Some(endpoint), Some((request_id, invocation_id))) = (ENDPOINT.get(), target) {
        let (mut reply, mut scratch) = ([0u8; 2048], [0u8; 2048]);
        let mut conn: Conn<'_> = Conn::new(*endpoint, &mut reply, &mut scratch);
        // The process ends either way: the outcome is only logged.
        if let Err(failure) = conn.post_error(request_id, invocation_id, b"Runtime.Panic", &parts) {
            failure.log(Post::error(request_id, invocation_id, b"Runtime.Panic").target());
        }
    }
    // Reported: the supervisor of a worker must not report it again.
    #[cfg(feature = "concurrency")]
    crate::slots::end();
    sys::exit(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_documents_are_what_json_would_write() {
        for (doc, t, m) in [
            (NO_RESPONSE, NO_RESPONSE_TYPE, "the handler returned without responding"),
            (TOO_LARGE, TOO_LARGE_TYPE, "the event exceeds the 6291556-byte limit"),
            (RESPONSE_TOO_LARGE, RESPONSE_TOO_LARGE_TYPE, "the response does not fit in the 6291556-byte buffer"),
        ] {
            let mut buf = [0u8; 256];
            let n = crate::json::error_body(&mut buf, t, &[m.as_bytes()]);
            assert_eq!(&buf[..n], doc);
            assert!(crate::json::valid_error_type(t));
        }
    }

    #[test]
    fn the_documents_name_the_limit() {
        let limit = crate::client::MAX_EVENT.to_string();
        for doc in [TOO_LARGE, RESPONSE_TOO_LARGE] {
            assert!(std::str::from_utf8(doc).unwrap().contains(&limit));
        }
    }
}
