//! Graceful shutdown, opt-in with [`Runtime::on_shutdown`](crate::Runtime::on_shutdown):
//! the `SIGTERM` handler, the callback, and its time budget (docs/design.md, "Shutdown").
//!
//! When `SIGTERM` comes, the handler first arms a timer of [`BUDGET_MS`]; then:
//! - if the process is waiting for its next invocation (between [`waiting`] and
//!   [`not_waiting`]: only the runtime's own code runs there, inside `GET /next`), the
//!   handler runs the callback itself and exits with status 0;
//! - otherwise (a handler runs, or the runtime posts its answer) it only records the
//!   request, and the runtime runs the callback and exits with status 0 when it is next
//!   about to wait ([`waiting`]): the invocation is answered first.
//!
//! If the timer fires first, the process logs it and exits with status 1 (`_exit`), before Lambda's
//! `SIGKILL` (500 ms after `SIGTERM` for a runtime with an internal extension).
//!
//! Without the opt-in none of this runs: no extension, no handler; the two flags are never
//! set, so the checks [`waiting`] makes find nothing.

use core::sync::atomic::{AtomicBool, Ordering};

use crate::client::Failure;
use crate::endpoint::Endpoint;
use crate::extension;
use crate::policy;
use crate::sys;

/// How long the callback (and, after `SIGTERM` during an invocation, the rest of the
/// invocation) may take: within Lambda's 500 ms, with room to exit.
pub const BUDGET_MS: u64 = 400;

/// The callback, once registered.
static CALLBACK: sys::Once<fn()> = sys::Once::new();
/// `SIGTERM` came while the process was not waiting for an invocation.
static REQUESTED: AtomicBool = AtomicBool::new(false);
/// The process waits for its next invocation: the handler may finish it at once.
static WAITING: AtomicBool = AtomicBool::new(false);

/// Why [`enable`] failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShutdownError {
    /// A callback is registered already.
    AlreadyEnabled,
    /// The extension could not be registered.
    Register(Failure<'static>),
}

/// Registers the extension, then `callback` and the `SIGTERM` handler. A failure changes
/// nothing: the call may be made again.
pub fn enable(endpoint: &Endpoint, callback: fn()) -> Result<(), ShutdownError> {
    if CALLBACK.get().is_some() {
        return Err(ShutdownError::AlreadyEnabled);
    }
    if let Err(failure) = extension::register(endpoint) {
        failure.log(extension::REQUEST);
        return Err(ShutdownError::Register(failure));
    }
    CALLBACK.set(callback).map_err(|_| ShutdownError::AlreadyEnabled)?;
    sys::on_signal(libc::SIGTERM, on_term);
    Ok(())
}

/// If `SIGTERM` came already, runs the callback and exits with status 0: what the process
/// does when it is about to wait ([`waiting`]), and the supervisor before it forks workers,
/// which would inherit a request that came during initialisation and each end before
/// serving.
pub fn finish_if_requested() {
    if REQUESTED.load(Ordering::SeqCst) {
        finish();
    }
}

/// The process is about to wait for its next invocation: if `SIGTERM` came during the last
/// one, the callback runs now and the process exits with status 0.
pub fn waiting() {
    WAITING.store(true, Ordering::SeqCst);
    // Read after `WAITING` is set: a signal from now on finishes in the handler, and one
    // before it is seen here.
    finish_if_requested();
}

/// The process has its next invocation: a `SIGTERM` from now on waits for its answer.
pub fn not_waiting() {
    WAITING.store(false, Ordering::SeqCst);
}

/// Runs the callback, then exits with status 0 (flushing a C program's stdio).
fn finish() -> ! {
    if let Some(callback) = CALLBACK.get() {
        callback();
    }
    sys::exit(0)
}

extern "C" fn on_term(_signal: i32) {
    // The budget's timer and its handler, only now: until `SIGTERM`, `SIGALRM` is the
    // program's own.
    sys::on_signal(libc::SIGALRM, on_alarm);
    sys::alarm_ms(BUDGET_MS);
    REQUESTED.store(true, Ordering::SeqCst);
    if WAITING.load(Ordering::SeqCst) {
        // Only the runtime's `GET /next` was interrupted: it holds no lock and no state the
        // callback or `exit` could need.
        finish();
    }
}

extern "C" fn on_alarm(_signal: i32) {
    policy::fatal_line(
        b"",
        &[b"shutdown: not done within 400 ms of SIGTERM (the invocation running then, or the callback): exiting"],
    );
    sys::exit_now(1);
}
