//! The concurrency run: one bootstrap started with `AWS_LAMBDA_MAX_CONCURRENCY=N`, served on
//! loopback by one thread per connection in a closed loop: every `GET /next` is answered at
//! once with the next event, so N workers keep N invocations in flight. It measures
//! invocations per second and the peak RSS (`VmHWM`) of the process started and of each of
//! its children (the workers), read after the last answer and before anything is killed.
//!
//! Unlike [`crate::run`], which times one invocation after the other from one thread, this
//! server must not be the bottleneck when several workers run at once: each connection has
//! its own thread, the responses are prepared before the candidate starts, and the threads
//! share only two counters (the next event to hand out, the answers received) and, twice a
//! run, the clock.

use std::io::{self, IoSlice, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::protocol::{self, ACCEPTED, Framing, NEXT, NOT_FOUND};
use crate::run::{self, Guard, Launch};

/// What one concurrency run serves.
#[derive(Debug, Clone)]
pub struct Load {
    /// The event of every invocation (framed by `Content-Length`).
    pub event: Vec<u8>,
    /// Invocations in the run: more than `workers` (the first `workers` are not timed).
    pub invocations: usize,
    /// `AWS_LAMBDA_MAX_CONCURRENCY`: the worker processes the bootstrap is asked for.
    pub workers: usize,
}

/// What one concurrency run measured.
#[derive(Debug, Clone)]
pub struct ConcurrentRun {
    /// The workers asked for.
    pub workers: usize,
    /// Invocations per second: the answers after the first `workers` over the time from the
    /// `workers`-th answer to the last.
    pub per_second: f64,
    /// `VmHWM` of the process started, in KiB: the supervisor when it forked workers, else
    /// the single loop itself.
    pub process_vm_hwm_kib: Option<u64>,
    /// `VmHWM` of each child of that process (the workers), in KiB.
    pub children_vm_hwm_kib: Vec<u64>,
    /// TCP connections the candidate opened (accepts).
    pub connections: usize,
}

impl ConcurrentRun {
    /// The peak RSS of every process that served invocations, in KiB: the workers, or the
    /// single loop when there are none.
    pub fn worker_vm_hwm_kib(&self) -> Vec<u64> {
        if self.children_vm_hwm_kib.is_empty() {
            self.process_vm_hwm_kib.into_iter().collect()
        } else {
            self.children_vm_hwm_kib.clone()
        }
    }

    /// The supervisor's peak RSS in KiB, if the process forked workers.
    pub fn supervisor_vm_hwm_kib(&self) -> Option<u64> {
        if self.children_vm_hwm_kib.is_empty() { None } else { self.process_vm_hwm_kib }
    }
}

/// Everything the connection threads share.
struct Shared {
    /// The `/next` response heads and `/response` targets of every invocation, in order.
    heads: Vec<Vec<u8>>,
    targets: Vec<String>,
    event: Vec<u8>,
    /// Invocations whose answer starts the clock (the workers' first ones are not timed).
    untimed: usize,
    /// The next invocation to hand out; past the last, a `/next` is left waiting.
    next: AtomicUsize,
    /// Answers received.
    answered: AtomicUsize,
    /// When the `untimed`-th and the last answer arrived.
    clock: Mutex<(Option<Instant>, Option<Instant>)>,
    /// The first thing that went wrong: the run fails with it.
    failure: Mutex<Option<String>>,
    /// Connections whose `/next` is left waiting at the end (kept open until the end).
    parked: Mutex<Vec<TcpStream>>,
    /// Connection threads still serving (not parked, not closed).
    serving: AtomicUsize,
}

impl Shared {
    fn fail(&self, why: String) {
        self.failure.lock().unwrap_or_else(|e| e.into_inner()).get_or_insert(why);
    }

    fn failure(&self) -> Option<String> {
        self.failure.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn done(&self) -> bool {
        self.answered.load(Ordering::Acquire) == self.heads.len()
    }
}

/// Runs the candidate of `launch` with `load` and measures it. Fails (with the tail of its
/// log) if it exits, answers wrongly, posts an `/error`, sends anything unexpected, has not
/// `load.workers` children at the end (when it was asked for more than one), or the run
/// exceeds `launch.timeout`. `launch` must not be wrapped (strace, valgrind).
pub fn run(launch: &Launch, load: &Load) -> Result<ConcurrentRun, String> {
    assert!(launch.args.is_empty(), "a concurrency run measures the bootstrap itself, not a wrapper");
    assert!(load.workers >= 1 && load.invocations > load.workers, "more invocations than workers");
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("bind 127.0.0.1: {e}"))?;
    listener.set_nonblocking(true).map_err(|e| e.to_string())?;
    let api = listener.local_addr().map_err(|e| e.to_string())?.to_string();

    let run_id = run::next_run_id();
    let deadline_ms = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64) + 3_600_000;
    let ids: Vec<String> = (0..load.invocations).map(|i| protocol::request_id(run_id, i)).collect();
    let shared = Arc::new(Shared {
        heads: ids
            .iter()
            .map(|id| protocol::next_head(id, deadline_ms, load.event.len(), Framing::ContentLength))
            .collect(),
        targets: ids.iter().map(|id| protocol::response_target(id)).collect(),
        event: load.event.clone(),
        untimed: load.workers,
        next: AtomicUsize::new(0),
        answered: AtomicUsize::new(0),
        clock: Mutex::new((None, None)),
        failure: Mutex::new(None),
        parked: Mutex::new(Vec::new()),
        serving: AtomicUsize::new(0),
    });

    let mut env = launch.env.clone();
    env.push(("AWS_LAMBDA_MAX_CONCURRENCY".to_owned(), load.workers.to_string()));
    let mut cmd = run::command(&Launch { env, ..launch.clone() }, &api)?;
    let started = Instant::now();
    let mut child = Guard::spawn(&mut cmd, launch)?;
    let mut threads: Vec<JoinHandle<()>> = Vec::new();
    let outcome = serve(&listener, &shared, &mut child, started + launch.timeout, &mut threads, launch.timeout);

    // Measured while every process is alive: the workers wait in their next `/next`.
    let pid = child.child.id();
    let process_vm_hwm_kib = run::vm_hwm_kib(pid);
    let workers = run::children(pid);
    let children_vm_hwm_kib: Vec<u64> = workers.iter().filter_map(|&w| run::vm_hwm_kib(w)).collect();
    // The supervisor first, so that it replaces no worker; its workers die with it
    // (`PR_SET_PDEATHSIG`), and are killed here as well.
    let status = child.stop();
    for &worker in &workers {
        // SAFETY: kill(2) on a process id; at worst it names a process that is gone.
        unsafe { libc::kill(worker as libc::pid_t, libc::SIGKILL) };
    }
    // Their connections are closed now, so every thread ends.
    shared.parked.lock().unwrap_or_else(|e| e.into_inner()).clear();
    for thread in threads {
        let _ = thread.join();
    }
    let fail = |why: String| Err(format!("{why} ({status}){}", run::log_tail(&launch.log)));
    let connections = match outcome {
        Ok(connections) => connections,
        Err(why) => return fail(why),
    };
    if load.workers > 1 && children_vm_hwm_kib.len() != load.workers {
        return fail(format!(
            "{} worker processes for AWS_LAMBDA_MAX_CONCURRENCY={} (is it built with the feature `concurrency`?)",
            children_vm_hwm_kib.len(),
            load.workers
        ));
    }
    let (Some(from), Some(to)) = *shared.clock.lock().unwrap_or_else(|e| e.into_inner()) else {
        unreachable!("every answer arrived, so the clock started and stopped")
    };
    Ok(ConcurrentRun {
        workers: load.workers,
        per_second: (load.invocations - load.workers) as f64 / to.duration_since(from).as_secs_f64(),
        process_vm_hwm_kib,
        children_vm_hwm_kib,
        connections,
    })
}

/// Accepts connections (a thread each) until every invocation is answered and every
/// connection still serving has parked in its next `/next` (or a second has passed); returns
/// the number of connections.
fn serve(
    listener: &TcpListener,
    shared: &Arc<Shared>,
    child: &mut Guard,
    until: Instant,
    threads: &mut Vec<JoinHandle<()>>,
    timeout: Duration,
) -> Result<usize, String> {
    let mut accepts = 0;
    let mut settled_by = None;
    loop {
        if let Some(why) = shared.failure() {
            return Err(why);
        }
        if shared.done() {
            let settled_by = *settled_by.get_or_insert_with(|| Instant::now() + Duration::from_secs(1));
            if shared.serving.load(Ordering::Acquire) == 0 || Instant::now() >= settled_by {
                return Ok(accepts);
            }
        }
        let answered = shared.answered.load(Ordering::Relaxed);
        if let Ok(Some(status)) = child.child.try_wait() {
            return Err(format!("exited ({status}) after {answered} answers"));
        }
        if Instant::now() >= until {
            return Err(format!("timed out after {timeout:?} with {answered} answers"));
        }
        let mut fd = libc::pollfd { fd: listener.as_raw_fd(), events: libc::POLLIN, revents: 0 };
        // SAFETY: `fd` is one valid pollfd for the call.
        if unsafe { libc::poll(&mut fd, 1, 10) } <= 0 {
            continue;
        }
        loop {
            match listener.accept() {
                Ok((stream, _)) => {
                    accepts += 1;
                    let setup = stream
                        .set_nonblocking(false)
                        .and_then(|()| stream.set_nodelay(true))
                        .and_then(|()| stream.set_read_timeout(Some(timeout)));
                    if let Err(e) = setup {
                        return Err(format!("accepted socket: {e}"));
                    }
                    shared.serving.fetch_add(1, Ordering::AcqRel);
                    let shared = Arc::clone(shared);
                    threads.push(std::thread::spawn(move || connection(stream, &shared)));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(format!("accept: {e}")),
            }
        }
    }
}

/// How a connection's thread ended.
enum End {
    /// Its `/next` came after the last event: the stream is kept open, the worker waits.
    Parked(TcpStream),
    /// The candidate closed it.
    Closed,
    /// Something went wrong: the run fails.
    Failed(String),
}

/// Serves one connection until it parks, closes or fails; records the end in `shared`.
fn connection(stream: TcpStream, shared: &Shared) {
    match serve_connection(stream, shared) {
        End::Parked(stream) => shared.parked.lock().unwrap_or_else(|e| e.into_inner()).push(stream),
        End::Closed => {}
        End::Failed(why) => shared.fail(why),
    }
    shared.serving.fetch_sub(1, Ordering::AcqRel);
}

fn serve_connection(mut stream: TcpStream, shared: &Shared) -> End {
    let mut buf = vec![0; 64 * 1024];
    let mut filled = 0;
    // The invocation handed out on this connection and not answered yet.
    let mut outstanding: Option<usize> = None;
    loop {
        if buf.len() - filled < 16 * 1024 {
            buf.resize(buf.len() * 2, 0);
        }
        let n = match stream.read(&mut buf[filled..]) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {
                return End::Failed(format!("a connection was silent for too long: {e}"));
            }
            Err(_) => 0, // a reset is a close
        };
        if n == 0 {
            return match outstanding {
                _ if filled > 0 => End::Failed("closed a connection in the middle of a request".to_owned()),
                Some(i) => End::Failed(format!("closed the connection of invocation {} unanswered", i + 1)),
                None => End::Closed,
            };
        }
        filled += n;
        loop {
            let request = match protocol::parse_request(&buf[..filled]) {
                Ok(Some(r)) => r,
                Ok(None) => break,
                Err(e) => return End::Failed(format!("sent a malformed request: {e}")),
            };
            let (method, target) = (request.method(&buf), request.target(&buf));
            if method == b"GET" && target == NEXT.as_bytes() {
                if let Some(i) = outstanding {
                    return End::Failed(format!("asked for the next event before answering invocation {}", i + 1));
                }
                let i = shared.next.fetch_add(1, Ordering::AcqRel);
                if i >= shared.heads.len() {
                    return End::Parked(stream);
                }
                let response = [IoSlice::new(&shared.heads[i]), IoSlice::new(&shared.event)];
                if let Err(e) = run::write_all(&mut stream, response) {
                    return End::Failed(format!("cannot write event {}: {e}", i + 1));
                }
                outstanding = Some(i);
            } else if let Some(i) = outstanding.filter(|&i| method == b"POST" && target == shared.targets[i].as_bytes())
            {
                let now = Instant::now();
                if !request.body_is(&buf, &shared.event) {
                    let got = request.body_bytes(&buf);
                    let shown = String::from_utf8_lossy(&got[..got.len().min(80)]).into_owned();
                    return End::Failed(format!(
                        "answer {} is not the event: {} bytes ({shown:?}…) for {} bytes",
                        i + 1,
                        got.len(),
                        shared.event.len()
                    ));
                }
                let answered = shared.answered.fetch_add(1, Ordering::AcqRel) + 1;
                if answered == shared.untimed || answered == shared.heads.len() {
                    let mut clock = shared.clock.lock().unwrap_or_else(|e| e.into_inner());
                    if answered == shared.untimed {
                        clock.0 = Some(now);
                    }
                    if answered == shared.heads.len() {
                        clock.1 = Some(now);
                    }
                }
                outstanding = None;
                if let Err(e) = stream.write_all(ACCEPTED) {
                    return End::Failed(format!("cannot write the 202: {e}"));
                }
            } else {
                let what = String::from_utf8_lossy(&[method, b" ", target].concat()).into_owned();
                let body = String::from_utf8_lossy(&request.body_bytes(&buf)).into_owned();
                let _ = stream.write_all(NOT_FOUND);
                return End::Failed(format!("sent an unexpected request: {what} {body:.300}"));
            }
            let (len, close) = (request.len, request.close);
            buf.copy_within(len..filled, 0);
            filled -= len;
            if close {
                return End::Closed;
            }
        }
    }
}
