//! One run of one candidate: spawn it against a loopback Runtime API served by this thread,
//! hand it `n` events one after the other, check every answer, time everything from the
//! server's side, read its peak RSS, kill it.
//!
//! The server is single-threaded (`poll(2)` over the listener and the connections): its
//! work per invocation is the same for every candidate (one `writev` of a precomputed
//! response, reads until the `/response` is complete, a comparison with the event, one
//! `write` of the 202), and no thread is created while a candidate runs.

use std::fs::File;
use std::io::{self, IoSlice, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::protocol::{self, ACCEPTED, Framing, NEXT, NOT_FOUND, PREFIX};

/// What one run serves.
#[derive(Debug, Clone)]
pub struct Workload {
    pub event: Vec<u8>,
    pub framing: Framing,
    /// Invocations in the run (at least 2: the first is not warm).
    pub invocations: usize,
}

/// How the candidate is started.
#[derive(Debug, Clone)]
pub struct Launch {
    pub program: PathBuf,
    /// Arguments before the bootstrap (e.g. `strace … --`): `program` is then the wrapper,
    /// and the bootstrap is the last argument.
    pub args: Vec<String>,
    /// stdout and stderr of the candidate are appended here.
    pub log: PathBuf,
    /// The bound on the whole run.
    pub timeout: Duration,
    /// Variables added to the Lambda environment ([`lambda_env`]), e.g. a fixture's mode.
    pub env: Vec<(String, String)>,
}

impl Launch {
    pub fn new(bootstrap: &Path, log: &Path) -> Self {
        Launch {
            program: bootstrap.to_owned(),
            args: Vec::new(),
            log: log.to_owned(),
            timeout: Duration::from_secs(120),
            env: Vec::new(),
        }
    }
}

/// What one run measured. Durations are in microseconds.
#[derive(Debug, Clone)]
pub struct Run {
    /// From just before spawning to the first `GET /next` received complete.
    pub init_us: f64,
    /// The first invocation's round trip: from writing its `/next` response to receiving
    /// its `/response` complete.
    pub first_us: f64,
    /// The round trips of invocations 2..=n, in order.
    pub warm_us: Vec<f64>,
    /// Warm invocations per second: n - 1 over the time from writing the second event to
    /// receiving the last response (so it includes the 202s and the `/next` requests).
    pub per_second: f64,
    /// `VmHWM` of the candidate's process after the last response, in KiB (`None` when it
    /// runs under a wrapper).
    pub vm_hwm_kib: Option<u64>,
    /// TCP connections the candidate opened (accepts).
    pub connections: usize,
    /// The candidate's process id (the wrapper's, under one).
    pub pid: u32,
}

/// A Lambda-like environment (nothing is inherited): what `provided.al2023` sets.
pub fn lambda_env(runtime_api: &str, task_root: &Path) -> Vec<(String, String)> {
    lambda_libc_mock::lambda_environment(runtime_api, "bench", task_root)
}

struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
    filled: usize,
}

/// Counts runs, for distinct request ids across the runs of one process.
static RUN: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// A number for the next run, distinct from every other run's in this process.
pub(crate) fn next_run_id() -> u32 {
    RUN.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// Runs the candidate for `work` and measures it. Fails (with the tail of its log) if it
/// exits, answers wrongly, posts an `/error`, or the run exceeds `launch.timeout`.
pub fn run(launch: &Launch, work: &Workload) -> Result<Run, String> {
    assert!(work.invocations >= 2, "a run needs at least two invocations");
    let run_id = next_run_id();
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("bind 127.0.0.1: {e}"))?;
    listener.set_nonblocking(true).map_err(|e| e.to_string())?;
    let api = listener.local_addr().map_err(|e| e.to_string())?.to_string();

    // Everything the server writes is ready before the candidate starts.
    let deadline_ms = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64) + 3_600_000;
    let ids: Vec<String> = (0..work.invocations).map(|i| protocol::request_id(run_id, i)).collect();
    let heads: Vec<Vec<u8>> =
        ids.iter().map(|id| protocol::next_head(id, deadline_ms, work.event.len(), work.framing)).collect();
    let targets: Vec<String> = ids.iter().map(|id| protocol::response_target(id)).collect();
    let body = protocol::frame(&work.event, work.framing);

    let mut cmd = command(launch, &api)?;
    let started = Instant::now();
    let mut child = Guard::spawn(&mut cmd, launch)?;
    let until = started + launch.timeout;

    let mut conns: Vec<Conn> = Vec::new();
    let mut accepts = 0;
    let (mut served, mut answered) = (0, 0);
    let mut first_next = None;
    let mut sent_at: Vec<Instant> = Vec::with_capacity(work.invocations);
    let mut done_at: Vec<Instant> = Vec::with_capacity(work.invocations);
    let fail = |child: &mut Guard, why: String| -> Result<Run, String> {
        let status = child.stop();
        Err(format!("{why} ({status}){}", log_tail(&launch.log)))
    };

    'serve: loop {
        let mut fds: Vec<libc::pollfd> = std::iter::once(listener.as_raw_fd())
            .chain(conns.iter().map(|c| c.stream.as_raw_fd()))
            .map(|fd| libc::pollfd { fd, events: libc::POLLIN, revents: 0 })
            .collect();
        // SAFETY: `fds` is a valid array of pollfd for the call.
        let ready = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, 20) };
        if ready < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return fail(&mut child, format!("poll: {e}"));
        }
        if ready == 0 {
            if let Ok(Some(status)) = child.child.try_wait() {
                return fail(&mut child, format!("exited ({status}) after {answered} answers"));
            }
            if Instant::now() >= until {
                return fail(&mut child, format!("timed out after {:?} with {answered} answers", launch.timeout));
            }
            continue;
        }
        // Connections first (their indices shift when the listener adds one).
        let mut i = conns.len();
        while i > 0 {
            i -= 1;
            if fds[i + 1].revents == 0 {
                continue;
            }
            let conn = &mut conns[i];
            if conn.buf.len() - conn.filled < 64 * 1024 {
                let grow = conn.buf.len().max(64 * 1024);
                conn.buf.resize(conn.buf.len() + grow, 0);
            }
            let n = match conn.stream.read(&mut conn.buf[conn.filled..]) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => 0, // a reset is a close
            };
            let now = Instant::now();
            if n == 0 {
                if conn.filled > 0 {
                    return fail(
                        &mut child,
                        format!("closed a connection in the middle of a request ({answered} answers)"),
                    );
                }
                conns.swap_remove(i);
                continue;
            }
            conn.filled += n;
            loop {
                let request = match protocol::parse_request(&conn.buf[..conn.filled]) {
                    Ok(Some(r)) => r,
                    Ok(None) => break,
                    Err(e) => return fail(&mut child, format!("sent a malformed request: {e}")),
                };
                let buf = &conn.buf[..conn.filled];
                let (method, target) = (request.method(buf), request.target(buf));
                if method == b"GET" && target == NEXT.as_bytes() {
                    first_next.get_or_insert(now);
                    if served > answered {
                        return fail(&mut child, format!("asked for event {} before answering {answered}", served + 1));
                    }
                    if served == work.invocations {
                        // Every event answered, and the candidate waits for the next one.
                        break 'serve;
                    }
                    sent_at.push(Instant::now());
                    let response = [IoSlice::new(&heads[served]), IoSlice::new(&body)];
                    if let Err(e) = write_all(&mut conn.stream, response) {
                        return fail(&mut child, format!("cannot write event {}: {e}", served + 1));
                    }
                    served += 1;
                } else if method == b"POST" && served > answered && target == targets[answered].as_bytes() {
                    done_at.push(now);
                    if !request.body_is(buf, &work.event) {
                        let got = request.body_bytes(buf);
                        let shown = String::from_utf8_lossy(&got[..got.len().min(80)]).into_owned();
                        return fail(
                            &mut child,
                            format!(
                                "answer {} is not the event: {} bytes ({shown:?}…) for {} bytes",
                                answered + 1,
                                got.len(),
                                work.event.len()
                            ),
                        );
                    }
                    answered += 1;
                    if let Err(e) = conn.stream.write_all(ACCEPTED) {
                        return fail(&mut child, format!("cannot write the 202: {e}"));
                    }
                } else {
                    let what = String::from_utf8_lossy(&[method, b" ", target].concat()).into_owned();
                    let body = String::from_utf8_lossy(&request.body_bytes(buf)).into_owned();
                    let _ = conn.stream.write_all(NOT_FOUND);
                    let known = target.starts_with(PREFIX.as_bytes());
                    let why = if known { "an unexpected request" } else { "an unknown request" };
                    return fail(&mut child, format!("sent {why} after {answered} answers: {what} {body:.300}"));
                }
                let len = request.len;
                conn.buf.copy_within(len..conn.filled, 0);
                conn.filled -= len;
                if request.close {
                    conns.swap_remove(i);
                    break;
                }
            }
        }
        if fds[0].revents != 0 {
            loop {
                match listener.accept() {
                    Ok((stream, _)) => {
                        accepts += 1;
                        let setup = stream.set_nonblocking(false).and_then(|()| stream.set_nodelay(true));
                        if let Err(e) = setup {
                            return fail(&mut child, format!("accepted socket: {e}"));
                        }
                        conns.push(Conn { stream, buf: vec![0; 64 * 1024], filled: 0 });
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return fail(&mut child, format!("accept: {e}")),
                }
            }
        }
    }

    let vm_hwm_kib = if child.wrapped { None } else { vm_hwm_kib(child.child.id()) };
    let pid = child.child.id();
    child.stop();
    let us = |a: Instant, b: Instant| b.duration_since(a).as_secs_f64() * 1e6;
    let first_next = first_next.unwrap_or(started);
    let n = work.invocations;
    Ok(Run {
        init_us: us(started, first_next),
        first_us: us(sent_at[0], done_at[0]),
        warm_us: (1..n).map(|i| us(sent_at[i], done_at[i])).collect(),
        per_second: (n - 1) as f64 / done_at[n - 1].duration_since(sent_at[1]).as_secs_f64(),
        vm_hwm_kib,
        connections: accepts,
        pid,
    })
}

/// The command that starts the candidate of `launch` against the Runtime API at `api`: the
/// Lambda environment and `launch.env` only, its output appended to `launch.log`, run from
/// the bootstrap's directory (the task root).
pub(crate) fn command(launch: &Launch, api: &str) -> Result<Command, String> {
    let log = File::options()
        .create(true)
        .append(true)
        .open(&launch.log)
        .map_err(|e| format!("cannot open {}: {e}", launch.log.display()))?;
    let log2 = log.try_clone().map_err(|e| e.to_string())?;
    let bootstrap = Path::new(launch.args.last().map_or(launch.program.as_os_str(), |a| a.as_ref()));
    let task_root = bootstrap.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut cmd = Command::new(&launch.program);
    cmd.args(&launch.args)
        .env_clear()
        .envs(lambda_env(api, task_root))
        .envs(launch.env.iter().map(|(k, v)| (k, v)))
        .current_dir(task_root)
        .stdin(Stdio::null())
        .stdout(Stdio::from(log))
        .stderr(Stdio::from(log2));
    Ok(cmd)
}

/// Writes both slices, looping over short writes.
pub(crate) fn write_all(stream: &mut TcpStream, mut parts: [IoSlice<'_>; 2]) -> io::Result<()> {
    let mut rest: &mut [IoSlice<'_>] = &mut parts;
    while !rest.is_empty() {
        match stream.write_vectored(rest) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => IoSlice::advance_slices(&mut rest, n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// `VmHWM` of `pid` in KiB.
pub fn vm_hwm_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status_kib(&status, "VmHWM:")
}

/// A `Name:   123 kB` line of `/proc/<pid>/status`, in KiB.
pub fn status_kib(status: &str, name: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with(name))?;
    line[name.len()..].trim().strip_suffix("kB")?.trim().parse().ok()
}

/// The last lines of the candidate's log, for failure messages.
pub(crate) fn log_tail(log: &Path) -> String {
    let text = std::fs::read(log).map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let tail = lines[lines.len().saturating_sub(8)..].join("\n  ");
    if tail.is_empty() { String::new() } else { format!("; its log ({}) ends:\n  {tail}", log.display()) }
}

/// The candidate's process, killed when dropped. Under a wrapper (strace, valgrind), the
/// wrapper is made to end by itself, so that it writes its output.
pub(crate) struct Guard {
    pub(crate) child: Child,
    wrapped: bool,
}

impl Guard {
    /// Starts `cmd`, the candidate of `launch` (wrapped when `launch` has arguments).
    pub(crate) fn spawn(cmd: &mut Command, launch: &Launch) -> Result<Guard, String> {
        let child = cmd.spawn().map_err(|e| format!("cannot run {}: {e}", launch.program.display()))?;
        Ok(Guard { child, wrapped: !launch.args.is_empty() })
    }

    /// Ends the process (if still running) and returns how it ended.
    pub(crate) fn stop(&mut self) -> String {
        if let Ok(Some(status)) = self.child.try_wait() {
            return status.to_string();
        }
        if self.wrapped {
            // strace: kill its tracee, and strace ends by itself. A wrapper without children
            // (valgrind runs the program in its own process) gets a SIGTERM, so that it ends
            // the program and writes its output; first it is given the time to block in
            // its read of the next event, so that every run ends at the same instruction
            // (callgrind's counts would otherwise vary with when the signal lands).
            let children = children(self.child.id());
            if children.is_empty() {
                let until = Instant::now() + Duration::from_secs(2);
                while !asleep(self.child.id()) && Instant::now() < until {
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
            let (pids, signal) =
                if children.is_empty() { (vec![self.child.id()], libc::SIGTERM) } else { (children, libc::SIGKILL) };
            for pid in pids {
                // SAFETY: kill(2) on a process id; at worst it names a process that is gone.
                unsafe { libc::kill(pid as libc::pid_t, signal) };
            }
            let until = Instant::now() + Duration::from_secs(10);
            while Instant::now() < until {
                if let Ok(Some(status)) = self.child.try_wait() {
                    return status.to_string();
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        let _ = self.child.kill();
        self.child.wait().map_or_else(|e| e.to_string(), |s| s.to_string())
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Whether every thread of `pid` sleeps in a system call (state `S` in
/// `/proc/<pid>/task/<tid>/stat`, which follows the command name in parentheses).
fn asleep(pid: u32) -> bool {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else { return false };
    tasks.filter_map(|t| t.ok()).all(|t| {
        std::fs::read_to_string(t.path().join("stat"))
            .is_ok_and(|s| s.rsplit_once(')').is_some_and(|(_, rest)| rest.trim_start().starts_with('S')))
    })
}

/// The child processes of `pid` (Linux: `/proc/<pid>/task/<tid>/children`).
pub fn children(pid: u32) -> Vec<u32> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else { return Vec::new() };
    tasks
        .filter_map(|t| t.ok())
        .filter_map(|t| std::fs::read_to_string(t.path().join("children")).ok())
        .flat_map(|s| s.split_whitespace().filter_map(|p| p.parse().ok()).collect::<Vec<u32>>())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_lines() {
        let status = "Name:\tbootstrap\nVmPeak:\t   13000 kB\nVmHWM:\t     812 kB\nVmRSS:\t     800 kB\n";
        assert_eq!(status_kib(status, "VmHWM:"), Some(812));
        assert_eq!(status_kib(status, "VmRSS:"), Some(800));
        assert_eq!(status_kib(status, "VmSwap:"), None);
    }

    #[test]
    fn a_sleeping_process_is_asleep() {
        let mut sleeper = Command::new("sleep").arg("10").spawn().unwrap();
        let until = Instant::now() + Duration::from_secs(5);
        while !asleep(sleeper.id()) && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(1));
        }
        assert!(asleep(sleeper.id()));
        sleeper.kill().unwrap();
        sleeper.wait().unwrap();
        assert!(!asleep(sleeper.id()), "a process that is gone");
        assert!(!asleep(std::process::id()), "this thread runs");
    }

    #[test]
    fn this_process_has_a_peak_rss() {
        assert!(vm_hwm_kib(std::process::id()).is_some_and(|k| k > 0));
    }
}
