//! What the runtime is doing, recorded for the code that cannot be handed it: the panic
//! handler (is a panic an init error, an invocation's error, or only logged?) and, with the
//! feature `log`, the logger (the `requestId` of each record).

use crate::sys;

/// What the runtime is doing. Before the first is recorded, the process is initialising.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Phase<'a> {
    /// Inside the runtime, between invocations.
    Busy,
    /// A handler is running for this request id and invocation id.
    Invoking(&'a [u8], &'a [u8]),
}

/// The tags of the phases in [`MARKER`]: initialising (the marker's first tag), then the
/// [`Phase`]s.
#[cfg(any(feature = "panic-handler", feature = "log"))]
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
}

/// Whom a panic is reported to: the init error (`Some` of empty ids) while the process
/// initialises, the invocation whose handler runs, or nobody (`None`) in between.
#[cfg(feature = "panic-handler")]
pub fn panic_target() -> Option<(&'static [u8], &'static [u8])> {
    match MARKER.read() {
        (INIT, _, _) => Some((b"", b"")),
        (INVOKING, request_id, invocation_id) => Some((request_id, invocation_id)),
        _ => None,
    }
}

/// The phase recorded last; `None` while the process initialises (nothing recorded yet).
/// The ids of `Invoking` stay valid until the runtime records another phase (the
/// invariant on [`MARKER`]); read them on the thread that runs the runtime.
#[cfg(feature = "log")]
pub fn current() -> Option<Phase<'static>> {
    match MARKER.read() {
        (INIT, _, _) => None,
        (INVOKING, request_id, invocation_id) => Some(Phase::Invoking(request_id, invocation_id)),
        _ => Some(Phase::Busy),
    }
}
