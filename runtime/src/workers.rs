//! Workers: several invocations at once on Lambda Managed Instances (feature
//! `concurrency`; docs/design.md, "Concurrency").
//!
//! With `AWS_LAMBDA_MAX_CONCURRENCY` = N > 1, the initialised process forks N workers and
//! becomes their supervisor. Each worker is a copy of the process with its own connection
//! and buffers (copy-on-write: it backs only the pages it touches) and runs the usual
//! `/next` → handler → answer loop. The supervisor serves no invocation; it sleeps in one
//! `sigtimedwait` until a worker ends, `SIGTERM` comes, or [`CHECK_MS`] pass, and:
//!
//! - replaces a worker that died. One killed by a signal during an invocation has that
//!   invocation reported as `Runtime.WorkerDied`, one that exited (a handler that called
//!   `exit`) as `Runtime.WorkerExited` (a panic reports its own). One that died
//!   before starting any invocation (it exited: the Runtime API cannot be served; a signal
//!   killed it: the workers cannot run, and replacing them would only loop) ends the
//!   supervisor with status 1;
//! - kills (`SIGKILL`) and replaces a worker still in its handler [`OVERRUN_MARGIN_MS`]
//!   after the invocation's deadline: Lambda has failed the invocation already, but does not
//!   stop the handler, which would hold its slot for ever;
//! - on `SIGTERM`, passes it to every worker, waits for them at most
//!   [`SHUTDOWN_WAIT_MS`], and exits: 0 if every worker exited with 0.
//!
//! Workers die with the supervisor (`PR_SET_PDEATHSIG`).

use core::sync::atomic::{AtomicBool, Ordering};

use crate::ascii::{MAX_DIGITS, format_decimal};
use crate::client::Conn;
use crate::policy;
use crate::slots::{self, NO_DEADLINE, Slots};
use crate::sys::{self, Ended, SignalSet};

/// The most workers: the most concurrent invocations Lambda allows one execution
/// environment.
pub const MAX_CONCURRENCY: u64 = 1600;

/// How long after its deadline a worker still in its handler is stopped.
pub const OVERRUN_MARGIN_MS: u64 = 2000;

/// How long the supervisor waits for its workers after passing `SIGTERM` on: within the
/// 500 ms Lambda grants a runtime with an internal extension.
pub const SHUTDOWN_WAIT_MS: u64 = 480;

/// How often, at least, the supervisor looks at the deadlines: a worker records a new one
/// without waking it, so a runaway handler is stopped between [`OVERRUN_MARGIN_MS`] and
/// that margin plus this after its deadline.
pub const CHECK_MS: u64 = 500;

/// The error type of an invalid `AWS_LAMBDA_MAX_CONCURRENCY`, reported as an init error.
const INVALID_TYPE: &[u8] = b"Runtime.InvalidConcurrency";
/// The error type of an invocation whose worker a signal killed.
const DIED_TYPE: &[u8] = b"Runtime.WorkerDied";
/// The error type of an invocation whose worker exited (a handler that called `exit`).
const EXITED_TYPE: &[u8] = b"Runtime.WorkerExited";

/// `AWS_LAMBDA_MAX_CONCURRENCY`'s value as a number of workers: a decimal integer from 1 to
/// [`MAX_CONCURRENCY`], or `None`.
fn parse_concurrency(value: &[u8]) -> Option<usize> {
    match crate::ascii::parse_decimal(value) {
        Some(n @ 1..=MAX_CONCURRENCY) => Some(n as usize),
        _ => None,
    }
}

/// Starts the workers `AWS_LAMBDA_MAX_CONCURRENCY` asks for, if more than one: returns in
/// each worker, and at once when the variable is unset or 1 (one `getenv`, nothing else),
/// or when the workers were started already (a second call, or a call in a worker).
/// The supervisor never returns. An invalid value is reported to `/runtime/init/error` and
/// the process exits with status 1. `conn` is closed first: each worker opens its own.
pub fn start(conn: &mut Conn<'static>) {
    // Once per process tree: a worker (a copy of the process after this) and a second call
    // find it set and return.
    static STARTED: AtomicBool = AtomicBool::new(false);
    if STARTED.swap(true, Ordering::Relaxed) {
        return;
    }
    let Some((entry, value)) = sys::getenv(c"AWS_LAMBDA_MAX_CONCURRENCY") else {
        return;
    };
    let n = match parse_concurrency(value) {
        Some(1) => return,
        Some(n) => n,
        None => {
            let message: [&[u8]; 2] = [entry, b": not a whole number from 1 to 1600"];
            policy::post_error(conn, b"", b"", INVALID_TYPE, &message);
            policy::fatal_error(INVALID_TYPE, &[b"init error: Runtime.InvalidConcurrency: ", message[0], message[1]]);
        }
    };
    let Ok(slots) = Slots::map(n) else {
        policy::fatal(&[b"cannot map the slots of ", value, b" workers"]);
    };
    #[cfg(feature = "shutdown")]
    crate::shutdown::finish_if_requested();
    conn.disconnect();
    // Initialisation may have set `SIGCHLD` to be ignored, which reaps children unseen.
    sys::default_action(libc::SIGCHLD);
    let supervisor =
        Supervisor { slots, n, pid: sys::process_id(), watched: SignalSet::of(&[libc::SIGCHLD, libc::SIGTERM]) };
    let workers_mask = supervisor.watched.block();
    supervisor.run(conn, &workers_mask);
}

struct Supervisor {
    slots: Slots,
    /// How many workers.
    n: usize,
    /// Its process id.
    pid: sys::Pid,
    /// The signals the supervisor takes with `sigtimedwait` (blocked in it).
    watched: SignalSet,
}

impl Supervisor {
    /// Forks the workers and watches them: returns only in a worker.
    fn run(&self, conn: &mut Conn<'static>, workers_mask: &SignalSet) {
        loop {
            for index in 0..self.n {
                if self.slots.pid(index) == 0 && self.spawn(index) {
                    workers_mask.set_mask();
                    return;
                }
            }
            if self.watched.wait(Some(self.next_wake())) == Some(libc::SIGTERM) {
                self.shut_down();
            }
            while let Some((pid, ended)) = sys::reap() {
                self.reaped(conn, pid, ended);
            }
            self.enforce_deadlines();
        }
    }

    /// Forks worker `index`: `true` in the worker. A failed fork is logged and tried again
    /// at the next turn, within [`CHECK_MS`].
    fn spawn(&self, index: usize) -> bool {
        self.slots.reset(index);
        match sys::fork() {
            Ok(0) => {
                sys::die_with_parent();
                // A supervisor that died before the line above left no one to kill us.
                if sys::parent_id() != self.pid {
                    sys::exit_now(1);
                }
                Slots::adopt(index);
                true
            }
            Ok(pid) => {
                self.slots.set_pid(index, pid);
                false
            }
            Err(errno) => {
                log_worker(index, &[b": fork failed: errno ", format_decimal(errno as u64, &mut [0; MAX_DIGITS])]);
                false
            }
        }
    }

    /// How long to sleep, at most: [`CHECK_MS`], or less when the earliest deadline's margin
    /// runs out sooner. (A worker that could not be forked is tried again after it too.)
    fn next_wake(&self) -> u64 {
        let now = sys::now_ms() as u64;
        (0..self.n)
            .map(|i| match (self.slots.pid(i), self.slots.deadline(i)) {
                (0, _) | (_, None | Some(NO_DEADLINE)) => CHECK_MS,
                // Killed already, at this turn (`enforce_deadlines`), if the margin is out:
                // looked at again after a whole check, not at once.
                (_, Some(deadline)) => match deadline.saturating_add(OVERRUN_MARGIN_MS).saturating_sub(now) {
                    0 => CHECK_MS,
                    left => left.min(CHECK_MS),
                },
            })
            .min()
            .unwrap_or(CHECK_MS)
    }

    /// The worker whose process `pid` was reaped: its slot no longer has a process (the
    /// next turn of [`run`](Self::run) forks a new one). `None`: not a worker.
    fn release(&self, pid: sys::Pid) -> Option<usize> {
        let index = self.slots.find(self.n, pid)?;
        self.slots.set_pid(index, 0);
        Some(index)
    }

    /// A worker ended: it is reported and replaced (by the next turn of [`run`]), or the
    /// supervisor exits when the Runtime API cannot be served.
    fn reaped(&self, conn: &mut Conn<'static>, pid: sys::Pid, ended: Ended) {
        let Some(index) = self.release(pid) else {
            return;
        };
        let mut id = [0u8; slots::MAX_ID];
        let running = self.slots.deadline(index).map(|d| (d, self.slots.request_id(index, &mut id)));
        let mut buf = [0u8; MAX_DIGITS];
        match (ended, running) {
            (Ended::Exited(code), _) if self.slots.started(index) == 0 => {
                log_worker(
                    index,
                    &[b": exited with status ", format_decimal(code as u64, &mut buf), b" before its first invocation"],
                );
                policy::fatal(&[b"the Runtime API cannot be served: exiting"]);
            }
            (Ended::Signaled(signal), _) if self.slots.started(index) == 0 => {
                let signal = format_decimal(signal as u64, &mut buf);
                log_worker(index, &[b": killed by signal ", signal, b" before its first invocation"]);
                policy::fatal(&[b"the workers cannot run: exiting"]);
            }
            (Ended::Signaled(libc::SIGKILL), Some((deadline, _))) if overrun(deadline) => {
                log_worker(index, &[b": stopped, its handler still ran past the deadline and margin; replaced"]);
            }
            (Ended::Exited(code), running) => {
                let how: [&[u8]; 2] = [b"exited with status ", format_decimal(code as u64, &mut buf)];
                log_worker(index, &[b": ", how[0], how[1], b"; replaced"]);
                report(conn, running, EXITED_TYPE, how);
            }
            (Ended::Signaled(signal), running) => {
                let how: [&[u8]; 2] = [b"was killed by signal ", format_decimal(signal as u64, &mut buf)];
                log_worker(index, &[b": killed by signal ", how[1], b"; replaced"]);
                report(conn, running, DIED_TYPE, how);
            }
        }
    }

    /// Kills every worker still in its handler [`OVERRUN_MARGIN_MS`] after its deadline.
    fn enforce_deadlines(&self) {
        for index in 0..self.n {
            let pid = self.slots.pid(index);
            if pid != 0 && self.slots.deadline(index).is_some_and(overrun) {
                let _ = sys::kill(pid, libc::SIGKILL);
            }
        }
    }

    /// Passes `SIGTERM` on to the workers, waits for them at most [`SHUTDOWN_WAIT_MS`] and
    /// exits: with 0 if every worker exited with 0, else with 1.
    fn shut_down(&self) -> ! {
        for index in 0..self.n {
            let pid = self.slots.pid(index);
            if pid != 0 {
                let _ = sys::kill(pid, libc::SIGTERM);
            }
        }
        let until = (sys::now_ms() as u64).saturating_add(SHUTDOWN_WAIT_MS);
        let mut clean = true;
        while (0..self.n).any(|i| self.slots.pid(i) != 0) {
            let now = sys::now_ms() as u64;
            if now >= until {
                policy::fatal(&[b"shutdown: workers still running after the grace period"]);
            }
            let _ = self.watched.wait(Some(until - now));
            while let Some((pid, ended)) = sys::reap() {
                if self.release(pid).is_some() {
                    clean &= ended == Ended::Exited(0);
                }
            }
        }
        sys::exit(if clean { 0 } else { 1 })
    }
}

/// Reports the invocation a dead worker was running, if any (and its id was kept), as an
/// error of `error_type`: `the worker running the invocation <how>`.
fn report(conn: &mut Conn<'static>, running: Option<(u64, &[u8])>, error_type: &[u8], how: [&[u8]; 2]) {
    if let Some((_, request_id)) = running.filter(|(_, id)| !id.is_empty()) {
        policy::post_error(conn, request_id, b"", error_type, &[b"the worker running the invocation ", how[0], how[1]]);
    }
}

/// Whether an invocation with `deadline` has run past it and the margin.
fn overrun(deadline: u64) -> bool {
    deadline != NO_DEADLINE && (sys::now_ms() as u64) >= deadline.saturating_add(OVERRUN_MARGIN_MS)
}

/// Logs `worker <index><parts…>`.
fn log_worker(index: usize, parts: &[&[u8]]) {
    let mut buf = [0u8; MAX_DIGITS];
    let mut line: [&[u8]; 6] = [b"worker ", format_decimal(index as u64, &mut buf), b"", b"", b"", b""];
    for (slot, part) in line.iter_mut().skip(2).zip(parts) {
        *slot = part;
    }
    policy::warn(&line);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concurrency_values() {
        assert_eq!(parse_concurrency(b"1"), Some(1));
        assert_eq!(parse_concurrency(b"4"), Some(4));
        assert_eq!(parse_concurrency(b"1600"), Some(1600));
        for bad in [&b""[..], b"0", b"-1", b"+4", b" 4", b"4 ", b"4.0", b"1601", b"0x10", b"99999999999999999999999"] {
            assert_eq!(parse_concurrency(bad), None, "{bad:?}");
        }
    }
}
