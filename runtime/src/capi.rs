//! The C API (feature `c-api`): the functions and types of `include/lambda_libc.h`, which
//! is generated from this module by cbindgen (`cargo xtask header`) and checked against it
//! by a test.
//!
//! The runtime is process-wide, as the Runtime API is: the functions act on one hidden
//! runtime, created by the first call that needs it. They are not re-entrant and belong to
//! one thread; a call made while another is in progress returns [`LAMBDA_E_BUSY`].
//!
//! A response can also be streamed (with the feature `c-api-stream`): `lambda_stream_begin`
//! (or `lambda_stream_begin_http` for an HTTP integration response), `lambda_stream_write`
//! for each chunk, then `lambda_stream_finish` or `lambda_stream_fail`, as with the Rust
//! API's [`crate::Stream`].
//!
//! This module holds the crate's only `unsafe` besides `sys.rs`: turning C pointers into
//! slices and the runtime's one mutable cell. The static library also carries the entry
//! point and the panic handler (features `start` and `panic-handler`, which `c-api`
//! enables), so a C bootstrap links exactly like the Rust one.

// The crate denies `unsafe_code` (lib.rs); this module is one of its two exceptions.
#![allow(unsafe_code)]

use core::cell::UnsafeCell;
use core::ffi::{CStr, c_char, c_int, c_void};
use core::mem::MaybeUninit;
use core::sync::atomic::{AtomicBool, Ordering};

use crate::handler::Error;
use crate::runtime::{Responder, Runtime};
#[cfg(feature = "c-api-stream")]
use crate::{stream::Stream, sys::Socket};

// The entry point and the panic handler of a C program. Not where the library is built to
// unwind (the test profiles, whose harnesses bring std's panic handler: doctests with
// `--features c-api` link this library); the static library is always built to abort.
#[cfg(all(not(test), panic = "abort"))]
crate::bootstrap!();

/// Success.
pub const LAMBDA_OK: c_int = 0;
/// A required pointer argument was NULL. Nothing was done.
pub const LAMBDA_E_NULL: c_int = -1;
/// The call does not fit the state of the invocation: answering when no invocation is
/// waiting for an answer (including answering twice, and beginning a stream), a stream call
/// with no stream open, or `lambda_next` from inside a handler run by `lambda_run` or while
/// a stream is open (finish or fail it first). Nothing was done.
pub const LAMBDA_E_STATE: c_int = -2;
/// `lambda_write`: the bytes do not fit in the response buffer. Nothing of them was written;
/// a handler run by `lambda_run` that then returns without answering is reported as a
/// `Function.ResponseSizeTooLarge` error.
pub const LAMBDA_E_OVERFLOW: c_int = -3;
/// Another lambda-libc call is in progress (a call from a second thread, or from a signal
/// handler). Nothing was done.
pub const LAMBDA_E_BUSY: c_int = -4;

/// `lambda_export_trace_id`: the value is over 1,023 bytes, or `setenv` failed.
pub const LAMBDA_E_SYSTEM: c_int = -5;

/// A stream call failed: the connection could not be opened, a send failed (e.g. the server
/// closed the connection), or the Runtime API did not accept the ended stream (no reply, or
/// a 4xx). The cause was logged on stderr. After a failed begin or write the stream stays
/// open but broken: every write returns this at once, and `lambda_stream_finish` or
/// `lambda_stream_fail` closes it (returning this too).
pub const LAMBDA_E_IO: c_int = -6;

/// `lambda_stream_begin_http`: the status code is not 100 to 599, or the prelude's JSON does
/// not fit in the 64 KiB scratch buffer. Nothing was sent; the invocation still waits for an
/// answer.
pub const LAMBDA_E_INVALID: c_int = -7;

/// The capacity of the response buffer `lambda_write` fills, and the largest event: 6 MiB +
/// 100 bytes, the most the Runtime API sends and accepts.
pub const LAMBDA_MAX_RESPONSE: usize = 6_291_556;
const _: () = assert!(LAMBDA_MAX_RESPONSE == crate::MAX_RESPONSE && LAMBDA_MAX_RESPONSE == crate::MAX_EVENT);

/// A byte string borrowed from the runtime: `len` bytes at `ptr`, not NUL-terminated.
/// `ptr` is never NULL (an empty value points at a valid empty string).
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct lambda_bytes {
    /// The first byte.
    pub ptr: *const u8,
    /// The number of bytes.
    pub len: usize,
}

/// The context of an invocation: its `/next` headers, each empty when absent.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct lambda_context {
    /// `Lambda-Runtime-Aws-Request-Id`; never empty.
    pub request_id: lambda_bytes,
    /// `Lambda-Runtime-Deadline-Ms`: milliseconds since the Unix epoch, in decimal (see
    /// `lambda_deadline_ms` and `lambda_remaining_ms`).
    pub deadline_ms: lambda_bytes,
    /// `Lambda-Runtime-Invoked-Function-Arn`.
    pub invoked_function_arn: lambda_bytes,
    /// `Lambda-Runtime-Trace-Id`: the X-Ray trace header.
    pub trace_id: lambda_bytes,
    /// `Lambda-Runtime-Client-Context`: JSON from a mobile SDK invoke.
    pub client_context: lambda_bytes,
    /// `Lambda-Runtime-Cognito-Identity`: JSON.
    pub cognito_identity: lambda_bytes,
    /// `Lambda-Runtime-Aws-Tenant-Id`.
    pub tenant_id: lambda_bytes,
    /// `Lambda-Runtime-Invocation-Id`: per attempt; the runtime echoes it when answering.
    pub invocation_id: lambda_bytes,
    /// `Content-Type` of the event.
    pub content_type: lambda_bytes,
}

/// One invocation. Every pointer in it stays valid until the next `lambda_next` (or the
/// next invocation of a `lambda_run` loop).
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct lambda_invocation {
    /// The event payload, exactly as sent (decoded if it was chunked).
    pub event: lambda_bytes,
    /// Its context.
    pub context: lambda_context,
}

// `State::next_into` writes an invocation as an array of byte strings.
const _: () = assert!(
    size_of::<lambda_invocation>() == (1 + crate::context::FIELDS) * size_of::<lambda_bytes>()
        && align_of::<lambda_invocation>() == align_of::<lambda_bytes>()
);

/// A response header for `lambda_stream_begin_http`: two NUL-terminated UTF-8 strings (cut
/// at the first invalid byte).
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct lambda_header {
    /// The header name, e.g. `"content-type"`.
    pub name: *const c_char,
    /// Its value.
    pub value: *const c_char,
}

/// A handler for `lambda_run`: called once per invocation with the invocation and the
/// `user_data` given to `lambda_run`. It answers with `lambda_respond`, `lambda_fail`,
/// `lambda_respond_written` or a stream (`lambda_stream_begin`); if it returns without
/// answering, the runtime answers with what it wrote with `lambda_write`, or reports
/// `Function.ResponseSizeTooLarge` after an overflow, or `Runtime.NoResponse` if it wrote
/// nothing. A stream it leaves open is ended with the trailers of a
/// `Runtime.StreamNotFinished` error.
#[allow(non_camel_case_types)]
pub type lambda_handler = Option<unsafe extern "C" fn(invocation: *const lambda_invocation, user_data: *mut c_void)>;

/// Where a C program stands: each `lambda_*` function that needs the runtime is a transition
/// of this state, a `match` on it (the table is in docs/design.md, "The C API"). Whether
/// `lambda_run` is running is a separate dimension, [`Api::in_run`].
///
/// The runtime lives in a slot of its own ([`Cell::runtime`]), written once, on leaving
/// `Uninit`, which no transition returns to; the states hold a reference to it, so that a
/// transition moves a pointer, not the whole runtime.
///
/// `repr(u8)`: a tag byte, 0 for the first variant, so that the static holding the state
/// starts as zeros and takes no bytes in the executable (`.bss`) whatever the variants hold.
#[repr(u8)]
enum State {
    /// No runtime yet: the first call that needs one creates it.
    Uninit,
    /// No invocation waits for an answer: none was handed out yet, or it was answered (and
    /// its stream, if any, ended).
    Idle { rt: &'static mut Runtime },
    /// The invocation handed out by `lambda_next` (or `lambda_run`) waits for its answer; the
    /// runtime's own pending flag is set too. `written` bytes of the response buffer hold
    /// what `lambda_write` wrote; `overflowed`: a write did not fit.
    Pending { rt: &'static mut Runtime, written: usize, overflowed: bool },
    /// The invocation was answered with a stream, which is open until `lambda_stream_finish`
    /// or `lambda_stream_fail`. `sock` is its connection, `None` once it broke (every write
    /// then fails at once).
    #[cfg(feature = "c-api-stream")]
    Streaming { rt: &'static mut Runtime, sock: Option<Socket> },
}

/// The state, and whether `lambda_run` is running: a dimension of its own rather than more
/// variants, because `lambda_run`'s handler can be in every state but `Uninit` (it answers,
/// writes and streams as any program does), and because it only ever goes from `false` to
/// `true`. Only `lambda_next` and `lambda_run` read it.
struct Api {
    state: State,
    /// `lambda_run` has handed out its first invocation: from then on its loop runs until the
    /// process ends, and `lambda_next` and `lambda_run` refuse.
    in_run: bool,
}

/// The one [`Api`] and the runtime it refers to, behind a flag that makes each API call
/// their only user.
struct Cell {
    api: UnsafeCell<Api>,
    /// Written by [`new_runtime`] only.
    runtime: UnsafeCell<MaybeUninit<Runtime>>,
    busy: AtomicBool,
}

// SAFETY: the cell is only reached through `with`, which lets one caller at a time in.
unsafe impl Sync for Cell {}

static CELL: Cell = Cell {
    api: UnsafeCell::new(Api { state: State::Uninit, in_run: false }),
    runtime: UnsafeCell::new(MaybeUninit::uninit()),
    busy: AtomicBool::new(false),
};

/// Runs `f` on the state, or returns [`LAMBDA_E_BUSY`] if another call holds it.
fn with(f: impl FnOnce(&mut Api) -> c_int) -> c_int {
    if CELL.busy.swap(true, Ordering::Acquire) {
        return LAMBDA_E_BUSY;
    }
    // SAFETY: the flag was clear and is now set by us, so no other reference to the state
    // exists until we clear it below.
    let status = f(unsafe { &mut *CELL.api.get() });
    CELL.busy.store(false, Ordering::Release);
    status
}

/// Creates the runtime ([`Runtime::from_env`]), for the transitions out of `Uninit`: the
/// one place that writes the runtime's slot.
#[inline(never)]
fn new_runtime() -> &'static mut Runtime {
    // SAFETY: called inside `with`, whose flag keeps other callers out, and only on leaving
    // `Uninit`, which no transition returns to (`lambda_init_error`, which takes the state,
    // ends the process): the one reference to the slot ever made.
    let slot = unsafe { &mut *CELL.runtime.get() };
    slot.write(Runtime::from_env())
}

impl State {
    /// The state, leaving `Uninit` in its place until the transition writes the next one (a
    /// transition moves the runtime's reference out of one variant and into the next).
    fn take(&mut self) -> State {
        core::mem::replace(self, State::Uninit)
    }

    /// `Uninit` → `Idle`, creating the runtime; any other state is kept.
    fn create(&mut self) {
        if let State::Uninit = self {
            *self = State::Idle { rt: new_runtime() };
        }
    }

    /// The runtime, created first in `Uninit` (which becomes `Idle`); the state is kept.
    #[cfg(feature = "shutdown")]
    fn runtime(&mut self) -> &mut Runtime {
        self.create();
        match self {
            State::Uninit => unreachable!("created above"),
            State::Idle { rt } | State::Pending { rt, .. } => rt,
            #[cfg(feature = "c-api-stream")]
            State::Streaming { rt, .. } => rt,
        }
    }

    /// `lambda_run`'s first transition with the feature `concurrency`: the workers are
    /// started ([`Runtime::start_workers`]) from `Uninit`, `Idle` or `Pending` (whose
    /// invocation is reported as `Runtime.NoResponse` first), and each worker goes on in
    /// `Idle`; refused while a stream is open.
    #[cfg(feature = "concurrency")]
    fn start_workers(&mut self) -> c_int {
        let rt = match self.take() {
            State::Uninit => new_runtime(),
            State::Idle { rt } | State::Pending { rt, .. } => rt,
            #[cfg(feature = "c-api-stream")]
            streaming @ State::Streaming { .. } => {
                *self = streaming;
                return LAMBDA_E_STATE;
            }
        };
        rt.start_workers();
        *self = State::Idle { rt };
        LAMBDA_OK
    }

    /// `lambda_next`'s transition, which `lambda_run` makes too (its callers refuse first
    /// inside `lambda_run`): from `Uninit` (creating the runtime), `Idle` or `Pending` (whose
    /// invocation [`Runtime::next`] first reports as `Runtime.NoResponse`) to `Pending`, with
    /// the next invocation written to `invocation`. Refused while a stream is open.
    ///
    /// # Safety
    /// `invocation` must be valid for writes.
    unsafe fn next(&mut self, invocation: *mut lambda_invocation) -> c_int {
        let rt = match self.take() {
            State::Uninit => new_runtime(),
            State::Idle { rt } | State::Pending { rt, .. } => rt,
            #[cfg(feature = "c-api-stream")]
            streaming @ State::Streaming { .. } => {
                *self = streaming;
                return LAMBDA_E_STATE;
            }
        };
        // SAFETY: the caller's contract.
        unsafe { next_into(rt, invocation) };
        *self = State::Pending { rt, written: 0, overflowed: false };
        LAMBDA_OK
    }

    /// Answers the pending invocation with `answer` (see [`Runtime::answer`]): `Pending` →
    /// `Idle`, `LAMBDA_OK`; in any other state, `LAMBDA_E_STATE`.
    fn answer(&mut self, answer: impl FnOnce(Responder<'_>, &[u8])) -> c_int {
        match self.take() {
            State::Pending { rt, .. } => {
                // `Pending` mirrors the runtime's own flag, so `answer` is called.
                debug_assert!(rt.is_pending());
                rt.answer(answer);
                *self = State::Idle { rt };
                LAMBDA_OK
            }
            other => {
                *self = other;
                LAMBDA_E_STATE
            }
        }
    }

    /// `lambda_respond_written`'s transition, which `lambda_run` makes for a handler that
    /// wrote: `Pending` → `Idle`, answered with what `lambda_write` wrote (`LAMBDA_OK`) or,
    /// after an overflow, with `Function.ResponseSizeTooLarge` (`LAMBDA_E_OVERFLOW`); in any
    /// other state, `LAMBDA_E_STATE`.
    fn answer_written(&mut self) -> c_int {
        let State::Pending { written, overflowed, .. } = *self else {
            return LAMBDA_E_STATE;
        };
        self.answer(|r, out| match overflowed {
            true => r.fail_too_large(),
            false => r.respond(out.get(..written).unwrap_or_default()),
        });
        if overflowed { LAMBDA_E_OVERFLOW } else { LAMBDA_OK }
    }

    /// What `lambda_run` does when its handler returns: a stream left open is ended with the
    /// trailers of a `Runtime.StreamNotFinished` error (→ `Idle`); an invocation left
    /// unanswered is answered with what was written (→ `Idle`), or left `Pending` if nothing
    /// was (the next [`Runtime::next`] reports it as `Runtime.NoResponse`). An answer's own
    /// outcome is the handler's business: the loop goes on.
    fn after_handler(&mut self) {
        match *self {
            #[cfg(feature = "c-api-stream")]
            State::Streaming { .. } => {
                self.stream_op(Op::Abandon);
            }
            State::Pending { written: 0, overflowed: false, .. } => {}
            State::Pending { .. } => {
                self.answer_written();
            }
            State::Uninit | State::Idle { .. } => {}
        }
    }

    /// Answers the pending invocation with a stream: `begin` opens it and gives up its
    /// connection (`Some(None)` when that failed: `LAMBDA_E_IO`), or sends nothing and
    /// returns `None` (`LAMBDA_E_INVALID`, still `Pending`). `Pending` → `Streaming`; in any
    /// other state, `LAMBDA_E_STATE`.
    #[cfg(feature = "c-api-stream")]
    fn begin_stream(&mut self, begin: impl FnOnce(Responder<'_>) -> Option<Option<Socket>>) -> c_int {
        match self.take() {
            State::Pending { rt, written, overflowed } => {
                let mut begun = None;
                rt.answer(|r, _| begun = begin(r));
                match begun {
                    Some(sock) => {
                        let status = if sock.is_some() { LAMBDA_OK } else { LAMBDA_E_IO };
                        *self = State::Streaming { rt, sock };
                        status
                    }
                    None => {
                        *self = State::Pending { rt, written, overflowed };
                        LAMBDA_E_INVALID
                    }
                }
            }
            other => {
                *self = other;
                LAMBDA_E_STATE
            }
        }
    }

    /// Does `op` to the open stream: `Streaming` stays `Streaming` after a write (broken if
    /// it failed) and becomes `Idle` when the stream ends. `LAMBDA_OK`, `LAMBDA_E_IO` if it
    /// failed, or `LAMBDA_E_STATE` in any other state. One function for every C stream call,
    /// so that a program links one copy.
    #[cfg(feature = "c-api-stream")]
    #[inline(never)]
    fn stream_op(&mut self, op: Op<'_>) -> c_int {
        let State::Streaming { rt, sock } = self else {
            return LAMBDA_E_STATE;
        };
        let (conn, context) = rt.last();
        let mut stream = Stream::attach(sock.take(), conn, context.request_id());
        let result = match op {
            Op::Write(data) => {
                let result = stream.write(data);
                *sock = stream.detach();
                return if result.is_ok() { LAMBDA_OK } else { LAMBDA_E_IO };
            }
            Op::End(error) => stream.end(error.as_ref()),
            // Dropped below: ended with the trailers of a `Runtime.StreamNotFinished` error.
            Op::Abandon => Ok(()),
        };
        drop(stream);
        if let State::Streaming { rt, .. } = self.take() {
            *self = State::Idle { rt };
        }
        if result.is_ok() { LAMBDA_OK } else { LAMBDA_E_IO }
    }
}

/// What [`State::stream_op`] does.
#[cfg(feature = "c-api-stream")]
enum Op<'a> {
    /// Sends a chunk.
    Write(&'a [u8]),
    /// Ends the stream, with the error trailers if an error is given.
    End(Option<Error<'a>>),
    /// Ends a stream left open after `lambda_run`'s handler.
    Abandon,
}

/// Waits for the next invocation and writes it to `invocation`.
///
/// # Safety
/// `invocation` must be valid for writes.
unsafe fn next_into(rt: &mut Runtime, invocation: *mut lambda_invocation) {
    let event = bytes(rt.next().invocation.event);
    // Written in place, as the array of byte strings the invocation is (the event, then the
    // context in `context::Field` order): the context in one loop over the spans, read where
    // they are (a `Context` would be a copy of them), then the event (this order compiles
    // smaller: docs/size.md). Every pointer is into the runtime's buffers, not into `rt`.
    let out = invocation.cast::<lambda_bytes>();
    let (head, spans) = rt.last_head();
    for (i, span) in spans.iter().enumerate() {
        // SAFETY: `i` < FIELDS, so field `1 + i` of the array of `1 + FIELDS` byte strings
        // the invocation is (above), inside the caller's invocation.
        let field = unsafe { out.add(1 + i) };
        let value = bytes(span.of(head));
        // SAFETY: `field` is inside the invocation, which the caller's contract makes valid
        // for writes; lambda_bytes is Copy, so nothing is dropped.
        unsafe { field.write(value) };
    }
    // SAFETY: the caller's contract; the event is the invocation's first field.
    unsafe { out.write(event) };
}

fn bytes(s: &[u8]) -> lambda_bytes {
    lambda_bytes { ptr: s.as_ptr(), len: s.len() }
}

/// `len` bytes at `ptr` (NULL allowed when `len` is 0).
///
/// # Safety
/// When `len` is not 0, `ptr` must be valid for reads of `len` bytes for `'a`.
unsafe fn slice<'a>(ptr: *const c_void, len: usize) -> Option<&'a [u8]> {
    match (ptr.is_null(), len) {
        (_, 0) => Some(&[]),
        (true, _) => None,
        // SAFETY: the caller's contract.
        (false, _) => Some(unsafe { core::slice::from_raw_parts(ptr.cast(), len) }),
    }
}

#[cfg(feature = "c-api-stream")]
/// `len` items at `ptr` (NULL allowed when `len` is 0).
///
/// # Safety
/// When `len` is not 0, `ptr` must be valid for reads of `len` items for `'a`.
unsafe fn array<'a, T>(ptr: *const T, len: usize) -> Option<&'a [T]> {
    match (ptr.is_null(), len) {
        (_, 0) => Some(&[]),
        (true, _) => None,
        // SAFETY: the caller's contract.
        (false, _) => Some(unsafe { core::slice::from_raw_parts(ptr, len) }),
    }
}

/// A NUL-terminated C string as UTF-8, cut at its first byte that is not valid UTF-8.
///
/// # Safety
/// `s` must be NULL or a valid NUL-terminated string that lives for `'a`.
unsafe fn text<'a>(s: *const c_char) -> Option<&'a str> {
    if s.is_null() {
        return None;
    }
    // SAFETY: the caller's contract.
    let b = unsafe { CStr::from_ptr(s) }.to_bytes();
    Some(match core::str::from_utf8(b) {
        Ok(s) => s,
        // SAFETY: `valid_up_to` is the length of the longest valid UTF-8 prefix.
        Err(e) => unsafe { core::str::from_utf8_unchecked(b.get(..e.valid_up_to()).unwrap_or_default()) },
    })
}

/// Reads `AWS_LAMBDA_RUNTIME_API` and maps the runtime's buffers, if not done yet; the other
/// functions call it when needed, so calling it is optional (it lets start-up problems show
/// before your own initialisation). The connection is opened by the first `lambda_next`.
///
/// Exits the process with status 1 and a one-line message on stderr if the variable is
/// missing or malformed. Returns `LAMBDA_OK`, or `LAMBDA_E_BUSY`.
#[unsafe(no_mangle)]
pub extern "C" fn lambda_init() -> c_int {
    with(|api| {
        api.state.create();
        LAMBDA_OK
    })
}

/// Waits for the next invocation (`GET /next`, no timeout) and stores it in `*invocation`.
///
/// An invocation handed out before and not answered is first reported as a
/// `Runtime.NoResponse` error. Exits the process with status 1 and a one-line message when
/// the Runtime API fails or answers with something that is not a valid invocation.
///
/// Returns `LAMBDA_OK`; `LAMBDA_E_NULL` if `invocation` is NULL; `LAMBDA_E_STATE` inside a
/// handler run by `lambda_run` or while a stream is open; `LAMBDA_E_BUSY`.
///
/// # Safety
/// `invocation` must be NULL or valid for writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lambda_next(invocation: *mut lambda_invocation) -> c_int {
    if invocation.is_null() {
        return LAMBDA_E_NULL;
    }
    with(|api| {
        if api.in_run {
            return LAMBDA_E_STATE;
        }
        // SAFETY: not NULL, so valid for writes by the caller's contract.
        unsafe { api.state.next(invocation) }
    })
}

/// Appends `len` bytes at `data` to the current invocation's response buffer (6,291,556
/// bytes, the most the Runtime API accepts), for `lambda_respond_written`.
///
/// Returns `LAMBDA_OK`; `LAMBDA_E_OVERFLOW` if they do not fit (nothing is written);
/// `LAMBDA_E_NULL` if `data` is NULL and `len` is not 0; `LAMBDA_E_STATE` when no
/// invocation is waiting for an answer; `LAMBDA_E_BUSY`.
///
/// # Safety
/// `data` must be valid for reads of `len` bytes (or `len` is 0).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lambda_write(data: *const c_void, len: usize) -> c_int {
    // SAFETY: the caller's contract.
    let Some(data) = (unsafe { slice(data, len) }) else {
        return LAMBDA_E_NULL;
    };
    with(|api| match &mut api.state {
        State::Pending { rt, written, overflowed } => {
            let at = *written;
            let room = at.checked_add(data.len()).and_then(|end| rt.response_buffer().get_mut(at..end));
            match room {
                Some(room) => {
                    room.copy_from_slice(data);
                    *written = at + data.len();
                    LAMBDA_OK
                }
                None => {
                    *overflowed = true;
                    LAMBDA_E_OVERFLOW
                }
            }
        }
        _ => LAMBDA_E_STATE,
    })
}

/// Answers the current invocation with `len` bytes at `body` (`/response`). `body` may point
/// into the invocation itself (an echo copies nothing).
///
/// Returns `LAMBDA_OK`; `LAMBDA_E_NULL` if `body` is NULL and `len` is not 0;
/// `LAMBDA_E_STATE` when no invocation is waiting for an answer; `LAMBDA_E_BUSY`.
///
/// # Safety
/// `body` must be valid for reads of `len` bytes (or `len` is 0).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lambda_respond(body: *const c_void, len: usize) -> c_int {
    // SAFETY: the caller's contract.
    let Some(body) = (unsafe { slice(body, len) }) else {
        return LAMBDA_E_NULL;
    };
    with(|api| api.state.answer(|r, _| r.respond(body)))
}

/// Answers the current invocation with what `lambda_write` wrote.
///
/// Returns `LAMBDA_OK`; `LAMBDA_E_OVERFLOW` (and reports `Function.ResponseSizeTooLarge`
/// instead) if a write did not fit; `LAMBDA_E_STATE` when no invocation is waiting for an
/// answer; `LAMBDA_E_BUSY`.
#[unsafe(no_mangle)]
pub extern "C" fn lambda_respond_written() -> c_int {
    with(|api| api.state.answer_written())
}

/// Answers the current invocation with an error (`/error`): `error_type` should read
/// `Function.Name` or `Runtime.Name` (`[A-Z][a-zA-Z]+`; anything else is reported as
/// `Function.Unknown`), `message` is any text, JSON-escaped by the runtime and cut past
/// 64 KiB. Both are NUL-terminated UTF-8, cut at the first invalid byte.
///
/// Returns `LAMBDA_OK`; `LAMBDA_E_NULL` if either is NULL; `LAMBDA_E_STATE` when no
/// invocation is waiting for an answer; `LAMBDA_E_BUSY`.
///
/// # Safety
/// Both must be NULL or valid NUL-terminated strings.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lambda_fail(error_type: *const c_char, message: *const c_char) -> c_int {
    // SAFETY: the caller's contract.
    let (Some(t), Some(m)) = (unsafe { text(error_type) }, unsafe { text(message) }) else {
        return LAMBDA_E_NULL;
    };
    with(|api| api.state.answer(|r, _| r.fail(&Error::new(t, m))))
}

/// Reports an initialisation failure (`/runtime/init/error`, same arguments as
/// `lambda_fail`; NULL reads as an empty string) and exits the process with status 1. Only
/// returns, with `LAMBDA_E_BUSY`, if another call is in progress.
///
/// # Safety
/// Both must be NULL or valid NUL-terminated strings.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lambda_init_error(error_type: *const c_char, message: *const c_char) -> c_int {
    // SAFETY: the caller's contract: `error_type` is NULL or a valid NUL-terminated string.
    let t = unsafe { text(error_type) };
    // SAFETY: the caller's contract: `message` is NULL or a valid NUL-terminated string.
    let m = unsafe { text(message) };
    let error = Error::new(t.unwrap_or_default(), m.unwrap_or_default());
    with(|api| {
        // Every state has a runtime to report with (`Uninit` creates one). A stream left open
        // stays so (`state` is never dropped): the process exits first.
        let state = api.state.take();
        let rt = match state {
            State::Uninit => new_runtime(),
            State::Idle { rt } | State::Pending { rt, .. } => rt,
            #[cfg(feature = "c-api-stream")]
            State::Streaming { rt, .. } => rt,
        };
        // SAFETY: the runtime is moved out of its cell once: the state that referred to it
        // was replaced by `Uninit` above, and `init_error` ends the process.
        unsafe { core::ptr::read(rt) }.init_error(&error)
    })
}

/// `context`'s deadline in milliseconds since the Unix epoch; 0 when it is unknown (the
/// header is absent or not a decimal number) or `context` is NULL.
///
/// # Safety
/// `context` must be NULL or point at a valid `lambda_context`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lambda_deadline_ms(context: *const lambda_context) -> u64 {
    // SAFETY: the caller's contract: `context` is NULL or points at a valid `lambda_context`.
    let context = unsafe { context.as_ref() };
    // SAFETY: a valid context's byte strings are valid for reads of their lengths.
    let digits = context.and_then(|c| unsafe { slice(c.deadline_ms.ptr.cast(), c.deadline_ms.len) });
    digits.and_then(crate::ascii::parse_decimal).unwrap_or(0)
}

/// Milliseconds left until `context`'s deadline by the realtime clock (negative once
/// passed); `INT64_MAX` when the deadline is unknown or `context` is NULL.
///
/// # Safety
/// `context` must be NULL or point at a valid `lambda_context`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lambda_remaining_ms(context: *const lambda_context) -> i64 {
    // SAFETY: the caller's contract.
    crate::context::remaining_ms(unsafe { lambda_deadline_ms(context) })
}

/// Sets the environment variable `_X_AMZN_TRACE_ID` to `context`'s trace id, or unsets it
/// when there is none, for X-Ray SDKs used by the handler. Opt-in, because glibc's `setenv`
/// allocates: call it at the start of each invocation.
///
/// Returns `LAMBDA_OK`; `LAMBDA_E_NULL` if `context` (or its trace id's pointer) is NULL;
/// `LAMBDA_E_SYSTEM` if the value is over 1,023 bytes or `setenv` failed.
///
/// # Safety
/// `context` must be NULL or point at a valid `lambda_context`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lambda_export_trace_id(context: *const lambda_context) -> c_int {
    // SAFETY: the caller's contract: `context` is NULL or points at a valid `lambda_context`.
    let context = unsafe { context.as_ref() };
    // SAFETY: a valid context's byte strings are valid for reads of their lengths.
    let trace = context.and_then(|c| unsafe { slice(c.trace_id.ptr.cast(), c.trace_id.len) });
    match trace {
        None => LAMBDA_E_NULL,
        Some(t) if crate::sys::setenv(crate::context::TRACE_ID_VARIABLE, t) => LAMBDA_OK,
        Some(_) => LAMBDA_E_SYSTEM,
    }
}

/// A function called at shutdown (see `lambda_on_shutdown`).
#[allow(non_camel_case_types)]
pub type lambda_shutdown_callback = Option<unsafe extern "C" fn()>;

/// The C program's shutdown callback, which [`call_shutdown_callback`] calls.
#[cfg(feature = "shutdown")]
static SHUTDOWN_CALLBACK: crate::sys::Once<unsafe extern "C" fn()> = crate::sys::Once::new();

/// The callback `lambda_on_shutdown` registers with the runtime: calls the C program's.
#[cfg(feature = "shutdown")]
fn call_shutdown_callback() {
    if let Some(callback) = SHUTDOWN_CALLBACK.get() {
        // SAFETY: `lambda_on_shutdown`'s contract: the callback is safe to call.
        unsafe { callback() }
    }
}

/// Graceful shutdown (opt-in): registers an internal extension with the Extensions API, so
/// that Lambda sends `SIGTERM` at shutdown, and handles it: `callback` runs, then the
/// process exits with status 0 (`exit`, which flushes stdio). A `SIGTERM` during an
/// invocation waits for its answer. The callback and the rest of that invocation have
/// 400 ms in all (Lambda kills the process 500 ms after `SIGTERM`); past that, the process
/// logs it and exits with status 1. Call it during initialisation, before the first
/// `lambda_next` or `lambda_run`.
///
/// The callback runs in the signal handler when the signal comes while the runtime waits
/// for an invocation (only the runtime's own code is interrupted then). It must not call
/// `lambda_*` functions: they return `LAMBDA_E_BUSY`.
///
/// Returns `LAMBDA_OK`; `LAMBDA_E_NULL` if `callback` is NULL; `LAMBDA_E_STATE` if it was
/// called before (also after a failure: report that with `lambda_init_error`);
/// `LAMBDA_E_IO` if the extension could not be registered (logged; report it with
/// `lambda_init_error`); `LAMBDA_E_BUSY`.
///
/// # Safety
/// `callback` must be safe to call, at any time, from a signal handler.
#[cfg(feature = "shutdown")]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lambda_on_shutdown(callback: lambda_shutdown_callback) -> c_int {
    let Some(callback) = callback else {
        return LAMBDA_E_NULL;
    };
    if SHUTDOWN_CALLBACK.set(callback).is_err() {
        return LAMBDA_E_STATE;
    }
    with(|api| match api.state.runtime().on_shutdown(call_shutdown_callback) {
        Ok(()) => LAMBDA_OK,
        Err(_) => LAMBDA_E_IO,
    })
}

/// Runs `handler` for every invocation, forever (see `lambda_handler`). Returns only on
/// misuse: `LAMBDA_E_NULL` if `handler` is NULL, `LAMBDA_E_STATE` from inside a handler or
/// while a stream is open, `LAMBDA_E_BUSY`.
///
/// # Safety
/// `handler` must be safe to call with a valid invocation and `user_data`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lambda_run(handler: lambda_handler, user_data: *mut c_void) -> c_int {
    let Some(handler) = handler else {
        return LAMBDA_E_NULL;
    };
    let mut invocation = MaybeUninit::<lambda_invocation>::uninit();
    // After the first invocation, the end of one and the start of the next share one turn of
    // the state's flag.
    let mut handled = false;
    loop {
        let status = with(|api| {
            if handled {
                api.state.after_handler();
            } else if api.in_run {
                return LAMBDA_E_STATE;
            } else {
                #[cfg(feature = "concurrency")]
                match api.state.start_workers() {
                    LAMBDA_OK => {}
                    refused => return refused,
                }
            }
            // SAFETY: a valid place to write the invocation.
            let status = unsafe { api.state.next(invocation.as_mut_ptr()) };
            // Refused only on the first turn, with a stream begun before `lambda_run` open.
            if status == LAMBDA_OK {
                api.in_run = true;
            }
            status
        });
        if status != LAMBDA_OK {
            return status;
        }
        // SAFETY: the turn's `next` wrote it (its status was `LAMBDA_OK`); the handler's own
        // contract.
        unsafe { handler(invocation.as_ptr(), user_data) };
        handled = true;
    }
}

/// Answers the current invocation with a streamed response (`Lambda-Runtime-Function-Response-Mode:
/// streaming`) of `content_type`, a NUL-terminated string (empty, or with control
/// characters: `application/octet-stream`). Opens a connection of its own and sends the
/// request head; then `lambda_stream_write` each chunk and end with `lambda_stream_finish`
/// or `lambda_stream_fail`. `lambda_next` refuses to run while the stream is open; a
/// handler run by `lambda_run` that returns with it open has it ended with the trailers of
/// a `Runtime.StreamNotFinished` error.
///
/// The `lambda_stream_*` functions are in the static library built with the feature
/// `c-api-stream` (which includes `c-api`), so that a program that does not stream links a
/// library without them.
///
/// Returns `LAMBDA_OK`; `LAMBDA_E_IO` if the connection failed (logged; the stream is open
/// but broken: end it); `LAMBDA_E_NULL` if `content_type` is NULL; `LAMBDA_E_STATE` when no
/// invocation is waiting for an answer; `LAMBDA_E_BUSY`.
///
/// # Safety
/// `content_type` must be NULL or a valid NUL-terminated string.
#[cfg(feature = "c-api-stream")]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lambda_stream_begin(content_type: *const c_char) -> c_int {
    if content_type.is_null() {
        return LAMBDA_E_NULL;
    }
    // SAFETY: not NULL, so a valid NUL-terminated string by the caller's contract. Its bytes
    // go into a header as they are (no UTF-8 needed); control characters are refused there.
    let content_type = unsafe { CStr::from_ptr(content_type) }.to_bytes();
    with(|api| api.state.begin_stream(|r| Some(r.stream(content_type).detach())))
}

/// Answers the current invocation with a streamed HTTP integration response (Function URLs
/// in `RESPONSE_STREAM` mode, API Gateway response streaming): content type
/// `application/vnd.awslambda.http-integration-response`, and a first chunk, sent with the
/// request head, of the JSON prelude `{"statusCode":…,"headers":{…},"cookies":[…]}` and 8
/// NUL bytes. Then write the body as with `lambda_stream_begin`. `headers` holds
/// `n_headers` name/value pairs, `cookies` `n_cookies` `Set-Cookie` values; both may be
/// NULL when their count is 0. Every string is NUL-terminated UTF-8, cut at its first
/// invalid byte, and JSON-escaped.
///
/// Returns `LAMBDA_OK`; `LAMBDA_E_INVALID` if the status code is not 100 to 599 or the JSON
/// is over 64 KiB (nothing is sent; the invocation still waits for an answer);
/// `LAMBDA_E_IO`, `LAMBDA_E_STATE`, `LAMBDA_E_BUSY` as `lambda_stream_begin`; `LAMBDA_E_NULL`
/// if an array with a count above 0, or a string in one, is NULL.
///
/// # Safety
/// `headers` must be valid for reads of `n_headers` items and `cookies` of `n_cookies` (or
/// their counts are 0), and each string must be NULL or valid and NUL-terminated.
#[cfg(feature = "c-api-stream")]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lambda_stream_begin_http(
    status_code: c_int,
    headers: *const lambda_header,
    n_headers: usize,
    cookies: *const *const c_char,
    n_cookies: usize,
) -> c_int {
    // SAFETY: the caller's contract.
    let (Some(headers), Some(cookies)) = (unsafe { array(headers, n_headers) }, unsafe { array(cookies, n_cookies) })
    else {
        return LAMBDA_E_NULL;
    };
    if headers.iter().any(|h| h.name.is_null() || h.value.is_null()) || cookies.iter().any(|c| c.is_null()) {
        return LAMBDA_E_NULL;
    }
    // SAFETY: each string is non-NULL (checked above), hence valid by the caller's contract.
    let bytes = |s: *const c_char| unsafe { text(s) }.unwrap_or_default().as_bytes();
    let headers = headers.iter().map(|h| (bytes(h.name), bytes(h.value)));
    let cookies = cookies.iter().map(|&c| bytes(c));
    let status_code = u16::try_from(status_code).unwrap_or(0);
    with(|api| api.state.begin_stream(|r| r.stream_prelude(status_code, headers, cookies).ok().map(Stream::detach)))
}

/// Sends `len` bytes at `data` as one chunk of the open stream, straight from the buffer
/// (nothing is copied or accumulated). `len` 0 sends nothing.
///
/// Returns `LAMBDA_OK`; `LAMBDA_E_IO` if the send failed (logged once, e.g. the server
/// closed the connection) or the stream broke before; `LAMBDA_E_NULL` if `data` is NULL
/// and `len` is not 0; `LAMBDA_E_STATE` when no stream is open; `LAMBDA_E_BUSY`.
///
/// # Safety
/// `data` must be valid for reads of `len` bytes (or `len` is 0).
#[cfg(feature = "c-api-stream")]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lambda_stream_write(data: *const c_void, len: usize) -> c_int {
    // SAFETY: the caller's contract.
    let Some(data) = (unsafe { slice(data, len) }) else {
        return LAMBDA_E_NULL;
    };
    with(|api| api.state.stream_op(Op::Write(data)))
}

/// Ends the open stream successfully, reads the Runtime API's reply and closes the stream's
/// connection.
///
/// Returns `LAMBDA_OK`; `LAMBDA_E_IO` if the stream was broken, the reply is missing, or it
/// is a 4xx (logged; a 5xx ends the process, as for every answer); `LAMBDA_E_STATE` when no
/// stream is open; `LAMBDA_E_BUSY`. The stream is closed either way.
#[cfg(feature = "c-api-stream")]
#[unsafe(no_mangle)]
pub extern "C" fn lambda_stream_finish() -> c_int {
    with(|api| api.state.stream_op(Op::End(None)))
}

/// Ends the open stream with an error, sent as the HTTP trailers
/// `Lambda-Runtime-Function-Error-Type` (`error_type`, as for `lambda_fail`) and
/// `Lambda-Runtime-Function-Error-Body` (the base64 of the JSON error document, the message
/// cut past about 16 KiB), after the chunks already sent. Then as `lambda_stream_finish`.
///
/// Returns as `lambda_stream_finish`, and `LAMBDA_E_NULL` (the stream stays open) if either
/// string is NULL.
///
/// # Safety
/// Both must be NULL or valid NUL-terminated strings.
#[cfg(feature = "c-api-stream")]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lambda_stream_fail(error_type: *const c_char, message: *const c_char) -> c_int {
    // SAFETY: the caller's contract.
    let (Some(t), Some(m)) = (unsafe { text(error_type) }, unsafe { text(message) }) else {
        return LAMBDA_E_NULL;
    };
    with(|api| api.state.stream_op(Op::End(Some(Error::new(t, m)))))
}

/// `lambda_log`'s lowest level: finer than debugging detail (feature `log`, as every
/// `lambda_log*` item).
#[cfg(feature = "log")]
pub const LAMBDA_LOG_TRACE: c_int = 1;
/// `lambda_log`'s level of debugging detail.
#[cfg(feature = "log")]
pub const LAMBDA_LOG_DEBUG: c_int = 2;
/// `lambda_log`'s level of normal operation, the threshold when `AWS_LAMBDA_LOG_LEVEL` is
/// unset or invalid.
#[cfg(feature = "log")]
pub const LAMBDA_LOG_INFO: c_int = 3;
/// `lambda_log`'s level of something unexpected the function goes on after.
#[cfg(feature = "log")]
pub const LAMBDA_LOG_WARN: c_int = 4;
/// `lambda_log`'s level of a failure.
#[cfg(feature = "log")]
pub const LAMBDA_LOG_ERROR: c_int = 5;
/// `lambda_log`'s highest level: a failure that ends the process.
#[cfg(feature = "log")]
pub const LAMBDA_LOG_FATAL: c_int = 6;
/// The most bytes of one log record, its newline included; a longer message is cut and
/// marked ` [truncated]`.
#[cfg(feature = "log")]
pub const LAMBDA_LOG_MAX: usize = 4096;
#[cfg(feature = "log")]
const _: () = {
    assert!(LAMBDA_LOG_MAX == crate::log::MAX_RECORD);
    use crate::log::Level;
    assert!(LAMBDA_LOG_TRACE == Level::Trace as c_int && LAMBDA_LOG_DEBUG == Level::Debug as c_int);
    assert!(LAMBDA_LOG_INFO == Level::Info as c_int && LAMBDA_LOG_WARN == Level::Warn as c_int);
    assert!(LAMBDA_LOG_ERROR == Level::Error as c_int && LAMBDA_LOG_FATAL == Level::Fatal as c_int);
};

/// Whether a record of `level` (`LAMBDA_LOG_TRACE` … `LAMBDA_LOG_FATAL`) would be written:
/// 1 if it is at least `AWS_LAMBDA_LOG_LEVEL` (read once, on the first call of any logging
/// function), 0 if it is below or `level` is none of the levels. Cheap: a load and a
/// comparison. Needs the feature `log`.
#[cfg(feature = "log")]
#[unsafe(no_mangle)]
pub extern "C" fn lambda_log_enabled(level: c_int) -> c_int {
    match crate::log::Level::from_number(level) {
        Some(level) => c_int::from(crate::log::enabled(level)),
        None => 0,
    }
}

/// Writes a record of `level` to stderr, if `lambda_log_enabled(level)`: the `len` bytes of
/// `message` (any bytes; no NUL needed) as `AWS_LAMBDA_LOG_FORMAT` asks, one line, with the
/// current invocation's request id: a JSON object
/// `{"timestamp":…,"level":…,"requestId":…,"message":…}` for `JSON`, else
/// `<timestamp>\t<request id>\t<LEVEL>\t<message>` (newlines become carriage returns). A
/// record longer than `LAMBDA_LOG_MAX` is cut and marked. `lambda_log` formats and calls
/// this. Not for a signal handler. A record written on a thread other than the process's
/// main one (where `lambda_run` runs) has no request id: the runtime changes it on the main
/// thread. Needs the feature `log`.
///
/// Returns `LAMBDA_OK` (also when the level is below the threshold); `LAMBDA_E_NULL` if
/// `message` is NULL and `len` is not 0; `LAMBDA_E_INVALID` if `level` is none of the levels.
///
/// # Safety
/// `message` must be valid for reads of `len` bytes (or NULL with `len` 0).
#[cfg(feature = "log")]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lambda_log_write(level: c_int, message: *const c_char, len: usize) -> c_int {
    let Some(level) = crate::log::Level::from_number(level) else {
        return LAMBDA_E_INVALID;
    };
    // SAFETY: the caller's contract: `message` is valid for reads of `len` bytes.
    let Some(message) = (unsafe { slice(message.cast(), len) }) else {
        return LAMBDA_E_NULL;
    };
    crate::log::write(level, message);
    LAMBDA_OK
}
