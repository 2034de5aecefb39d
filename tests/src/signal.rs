//! Signals for [`MockServer::shutdown`](crate::MockServer::shutdown): `kill(2)` and a
//! liveness check for a process the mock did not spawn.
//!
//! The only unsafe code of the crate is here: one call to `libc::kill` per block.

use std::io;
use std::thread;
use std::time::{Duration, Instant};

/// How often [`wait_exit`] looks at the process.
const POLL: Duration = Duration::from_millis(5);

/// `pid` as a `pid_t`, refusing the values `kill(2)` reads as groups: 0 (the caller's
/// process group), and anything that does not fit a positive `pid_t` (-1 is every
/// process the caller may signal).
pub(crate) fn checked_pid(pid: u32) -> io::Result<libc::pid_t> {
    match libc::pid_t::try_from(pid) {
        Ok(p) if p > 0 => Ok(p),
        _ => Err(io::Error::new(io::ErrorKind::InvalidInput, format!("not a single process id: {pid}"))),
    }
}

/// Sends `signal` to the process `pid` (a value from [`checked_pid`]).
pub(crate) fn kill(pid: libc::pid_t, signal: libc::c_int) -> io::Result<()> {
    // SAFETY: kill(2) reads no memory of ours; any pid and signal number are valid input
    // (the worst outcome is an error return). `checked_pid` keeps pid > 0, so the signal
    // goes to one process, not a group.
    let rc = unsafe { libc::kill(pid, signal) };
    if rc == 0 { Ok(()) } else { Err(io::Error::last_os_error()) }
}

/// True when `err` is `ESRCH`: no such process (it has exited and been reaped).
pub(crate) fn is_no_such_process(err: &io::Error) -> bool {
    err.raw_os_error() == Some(libc::ESRCH)
}

/// Whether `pid` is still running. A zombie (exited, not yet reaped by its parent) counts
/// as exited: the mock cannot `wait` for a process it did not spawn, and a test's child
/// stays a zombie until the test reaps it.
///
/// Reads the state field of `/proc/<pid>/stat` (Linux); where that file cannot be read
/// for another reason than "no such file", falls back to `kill(pid, 0)`, which cannot tell
/// a zombie from a running process.
pub(crate) fn is_alive(pid: libc::pid_t) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            // "pid (comm) S ...": comm may hold spaces and parentheses, so the state is the
            // first field after the last ')'.
            let after_comm = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
            let state = after_comm.split_whitespace().next().unwrap_or("");
            !matches!(state, "Z" | "X" | "x")
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => false,
        Err(_) => kill(pid, 0).is_ok(),
    }
}

/// Waits up to `limit` for `pid` to exit (see [`is_alive`]); true if it did.
pub(crate) fn wait_exit(pid: libc::pid_t, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if !is_alive(pid) {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        thread::sleep(POLL);
    }
}
