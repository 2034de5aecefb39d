//! The server: accept loop, one thread per connection, routing and fault delivery.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime};

use crate::http::{self, Body, BodyKind, Head, ReadError, Response};
use crate::record::{Answer, Request, Route};
use crate::script::{
    Deadline, Event, Exhausted, Fault, Framing, HeaderEdit, MAX_PAYLOAD_SIZE, Reply, Script, default_request_id,
    default_trace_id,
};
use crate::signal;

/// Path prefix of every Runtime API resource.
pub const API_PREFIX: &str = "/2018-06-01";

/// The path of `GET /next`.
pub const NEXT_PATH: &str = "/2018-06-01/runtime/invocation/next";

/// The path a runtime posts the response of invocation `id` to.
pub fn response_path(id: &str) -> String {
    format!("{API_PREFIX}/runtime/invocation/{id}/response")
}

/// The path a runtime posts the error of invocation `id` to.
pub fn error_path(id: &str) -> String {
    format!("{API_PREFIX}/runtime/invocation/{id}/error")
}

/// Path prefix of every Extensions API resource.
pub const EXTENSION_API_PREFIX: &str = "/2020-01-01/extension";

/// The path of `POST /extension/register`.
pub const EXTENSION_REGISTER_PATH: &str = "/2020-01-01/extension/register";

/// The path of `GET /extension/event/next`.
pub const EXTENSION_NEXT_PATH: &str = "/2020-01-01/extension/event/next";

/// Most extensions RAPID accepts (`core.MaxAgentsAllowed`); the next registration gets
/// `403 Extension.TooManyExtensions`.
pub const MAX_EXTENSIONS: usize = 10;

/// The `shutdownReason` of the SHUTDOWN event [`MockServer::shutdown`] hands out.
pub const SHUTDOWN_REASON: &str = "spindown";

/// Length of Lambda's shutdown phase with external extensions (2,000 ms): the
/// `deadlineMs` of the SHUTDOWN event is the moment [`MockServer::shutdown`] starts plus
/// this.
pub const SHUTDOWN_PHASE: Duration = Duration::from_millis(2000);

/// Pause between the parts of a [`Fault::SplitAt`] reply.
const SPLIT_PAUSE: Duration = Duration::from_millis(20);

/// Pause before a reset that follows sent bytes, so the client can read them first
/// (data queued behind an RST may otherwise be lost).
const RESET_SETTLE: Duration = Duration::from_millis(25);

/// How long `Drop` waits for connection threads before leaving them behind.
const DROP_JOIN_LIMIT: Duration = Duration::from_secs(5);

/// A running mock Runtime API. Dropping it stops the accept loop, shuts down every
/// connection (waking hanging `/next`s and delays) and joins the threads.
///
/// ```
/// use std::time::Duration;
/// use lambda_libc_mock::{Event, MockServer, Script};
///
/// let server = MockServer::start(Script::new().event(Event::json(b"{}"))).unwrap();
/// let api = server.runtime_api(); // "127.0.0.1:PORT", the AWS_LAMBDA_RUNTIME_API value
/// assert!(api.starts_with("127.0.0.1:"));
/// // ... start a runtime with AWS_LAMBDA_RUNTIME_API=api ...
/// assert!(!server.wait_for_answers(1, Duration::from_millis(10)));
/// ```
pub struct MockServer {
    inner: Arc<Inner>,
    addr: SocketAddr,
    accept: Option<JoinHandle<()>>,
}

struct Inner {
    /// The script's settings; its events moved to [`State::events`] at start.
    script: Script,
    state: Mutex<State>,
    changed: Condvar,
    stop: AtomicBool,
}

#[derive(Default)]
struct State {
    /// The scripted events, then those added by [`MockServer::push_event`].
    events: Vec<Event>,
    /// How many events `/next` has handed out (the index of the next one to serve).
    cursor: usize,
    ids: HashMap<String, usize>,
    answered: Vec<bool>,
    /// Per event: the `Lambda-Runtime-Deadline-Ms` its `/next` reply carried, if any.
    deadlines: Vec<Option<u64>>,
    /// `/next` requests waiting for an event now, and the most at one time.
    parked_next: usize,
    max_parked_next: usize,
    /// `/init/error` requests received (the first wins).
    init_errors: usize,
    /// Registered extensions, in order.
    extensions: Vec<Extension>,
    /// Extension `/event/next` requests waiting for an event now.
    parked_extension_next: usize,
    /// Set by [`MockServer::shutdown`]: the `deadlineMs` of the SHUTDOWN event.
    shutdown_deadline_ms: Option<u64>,
    requests: Vec<Request>,
    connections: usize,
    unsent: usize,
    streams: HashMap<usize, TcpStream>,
    workers: Vec<JoinHandle<()>>,
}

/// An extension registered with `POST /extension/register`.
struct Extension {
    name: String,
    id: String,
}

/// What [`MockServer::shutdown`] sent to the process, Lambda's way: SIGTERM first only
/// when an extension is registered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShutdownOutcome {
    /// SIGTERM, and the process exited within the grace period.
    Sigterm,
    /// SIGTERM, then SIGKILL when the process was still alive after the grace period.
    SigtermThenSigkill,
    /// SIGKILL at once: no extension was registered, so Lambda sends no SIGTERM.
    Sigkill,
}

/// What happens to a connection after a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum End {
    KeepAlive,
    Close,
    Reset { settle: bool },
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// Sleeps `d` unless the server stops first; returns false if it stopped.
    fn sleep(&self, d: Duration) -> bool {
        let st = self.lock();
        let (_st, _) =
            self.changed.wait_timeout_while(st, d, |_| !self.stopped()).unwrap_or_else(PoisonError::into_inner);
        !self.stopped()
    }

    fn record(&self, rec: Request, unsent: bool) {
        self.record_at(None, rec, unsent);
    }

    /// Records `rec`: in place of the record at `slot` (a parked request's), or at the end.
    fn record_at(&self, slot: Option<usize>, rec: Request, unsent: bool) {
        let mut st = self.lock();
        match slot {
            Some(i) => st.requests[i] = rec,
            None => st.requests.push(rec),
        }
        if unsent {
            st.unsent += 1;
        }
        self.changed.notify_all();
    }

    fn sent(&self) {
        let mut st = self.lock();
        st.unsent -= 1;
        self.changed.notify_all();
    }
}

impl MockServer {
    /// Serves `script` on `127.0.0.1` with a free port.
    pub fn start(script: Script) -> std::io::Result<Self> {
        Self::start_on(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), script)
    }

    /// Serves `script` on `[::1]` with a free port (fails where IPv6 loopback is off).
    pub fn start_ipv6(script: Script) -> std::io::Result<Self> {
        Self::start_on(SocketAddr::from((Ipv6Addr::LOCALHOST, 0)), script)
    }

    /// Serves `script` on `addr` (port 0 picks a free port).
    pub fn start_on(addr: SocketAddr, script: Script) -> std::io::Result<Self> {
        let listener = TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let mut script = script;
        let events = std::mem::take(&mut script.events);
        let state = State {
            answered: vec![false; events.len()],
            deadlines: vec![None; events.len()],
            events,
            ..State::default()
        };
        let inner =
            Arc::new(Inner { script, state: Mutex::new(state), changed: Condvar::new(), stop: AtomicBool::new(false) });
        let accept_inner = Arc::clone(&inner);
        let accept = thread::Builder::new()
            .name("mock-runtime-accept".into())
            .spawn(move || accept_loop(&accept_inner, &listener))?;
        Ok(Self { inner, addr, accept: Some(accept) })
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The value for `AWS_LAMBDA_RUNTIME_API`: `127.0.0.1:PORT`, or `[::1]:PORT` on IPv6.
    pub fn runtime_api(&self) -> String {
        self.addr.to_string()
    }

    /// Every request received so far, in the order the mock decided on its reply.
    pub fn requests(&self) -> Vec<Request> {
        self.inner.lock().requests.clone()
    }

    /// Only the `/response` and `/error` requests, in order.
    pub fn answers(&self) -> Vec<Answer> {
        self.inner.lock().requests.iter().filter_map(Answer::from_request).collect()
    }

    /// Number of TCP connections accepted so far.
    pub fn connections(&self) -> usize {
        self.inner.lock().connections
    }

    /// Number of scripted events handed out by `/next` so far.
    pub fn served(&self) -> usize {
        self.inner.lock().cursor
    }

    /// Adds an event after the scripted ones (and those pushed before), while the server
    /// runs: a parked `/next` ([`Exhausted::Hang`]) takes it at once, or else the next
    /// `/next` that finds no earlier event left. Its default request id is
    /// [`default_request_id`] of its index (scripted events count).
    pub fn push_event(&self, event: Event) {
        let mut st = self.inner.lock();
        st.events.push(event);
        st.answered.push(false);
        st.deadlines.push(None);
        self.inner.changed.notify_all();
    }

    /// Number of `GET /next` requests parked now: received, with no event to hand out
    /// yet ([`Exhausted::Hang`]). A `/next` that finds an event is answered at once and is
    /// never counted.
    ///
    /// A parked `/next` whose client has gone stays counted (the mock notices only when
    /// it writes the reply), and takes the next pushed event.
    pub fn outstanding_next(&self) -> usize {
        self.inner.lock().parked_next
    }

    /// The most `GET /next` requests that were parked at the same time so far (see
    /// [`outstanding_next`](Self::outstanding_next)): with no events left, the number of
    /// workers a concurrent (Lambda Managed Instances) runtime has polling.
    pub fn max_outstanding_next(&self) -> usize {
        self.inner.lock().max_parked_next
    }

    /// Waits until `pred` holds for [`outstanding_next`](Self::outstanding_next); false
    /// on timeout or if the server stopped.
    pub fn wait_for_outstanding_next(&self, timeout: Duration, mut pred: impl FnMut(usize) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        let mut st = self.inner.lock();
        loop {
            if pred(st.parked_next) {
                return true;
            }
            let now = Instant::now();
            if self.inner.stopped() || now >= deadline {
                return false;
            }
            st = self.inner.changed.wait_timeout(st, deadline - now).unwrap_or_else(PoisonError::into_inner).0;
        }
    }

    /// Number of extensions registered with `POST /2020-01-01/extension/register`.
    pub fn extensions_registered(&self) -> usize {
        self.inner.lock().extensions.len()
    }

    /// Number of extension `GET /2020-01-01/extension/event/next` requests parked now
    /// (waiting for [`shutdown`](Self::shutdown)).
    pub fn outstanding_extension_next(&self) -> usize {
        self.inner.lock().parked_extension_next
    }

    /// Shuts the process `pid` (the runtime under test) down the way Lambda does:
    ///
    /// * with at least one extension registered: every parked extension `/event/next`
    ///   (and any later one) gets the SHUTDOWN event, the process gets SIGTERM, and if it
    ///   is still alive after `grace`, SIGKILL (Lambda gives a runtime with an internal
    ///   extension 500 ms, 300 ms otherwise);
    /// * with none: SIGKILL at once (Lambda sends no SIGTERM then).
    ///
    /// Blocks for at most `grace`. Returns what was sent.
    ///
    /// Limits: the mock did not spawn the process, so it cannot `wait` for it; "still
    /// alive" is read from `/proc/<pid>/stat` (a zombie counts as exited), or from
    /// `kill(pid, 0)` where `/proc` cannot be read (a zombie then counts as alive). The
    /// caller still has to reap its child. Unlike Lambda, the mock hands SHUTDOWN to every
    /// registered extension, even one (an internal one) that subscribed to no events, and
    /// does not wait for extensions to finish.
    ///
    /// # Errors
    /// `InvalidInput` if `pid` is 0 or above `i32::MAX` (which `kill` would read as a
    /// process group); the `kill` error if the first signal cannot be sent (e.g. no such
    /// process).
    pub fn shutdown(&self, pid: u32, grace: Duration) -> std::io::Result<ShutdownOutcome> {
        let pid = signal::checked_pid(pid)?;
        let with_extensions = {
            let mut st = self.inner.lock();
            let deadline = http::epoch_ms(SystemTime::now() + SHUTDOWN_PHASE);
            st.shutdown_deadline_ms.get_or_insert(deadline);
            self.inner.changed.notify_all();
            !st.extensions.is_empty()
        };
        if !with_extensions {
            signal::kill(pid, libc::SIGKILL)?;
            return Ok(ShutdownOutcome::Sigkill);
        }
        signal::kill(pid, libc::SIGTERM)?;
        if signal::wait_exit(pid, grace) {
            return Ok(ShutdownOutcome::Sigterm);
        }
        match signal::kill(pid, libc::SIGKILL) {
            Ok(()) => Ok(ShutdownOutcome::SigtermThenSigkill),
            // It exited (and was reaped) between the last look and the SIGKILL.
            Err(e) if signal::is_no_such_process(&e) => Ok(ShutdownOutcome::Sigterm),
            Err(e) => Err(e),
        }
    }

    /// Waits until `pred` holds for the recorded requests; false on timeout or if the
    /// server stopped. `Duration::MAX` waits without limit.
    pub fn wait_until(&self, timeout: Duration, mut pred: impl FnMut(&[Request]) -> bool) -> bool {
        let deadline = Instant::now().checked_add(timeout);
        let mut st = self.inner.lock();
        loop {
            if pred(&st.requests) {
                return true;
            }
            if self.inner.stopped() {
                return false;
            }
            st = match deadline {
                None => self.inner.changed.wait(st).unwrap_or_else(PoisonError::into_inner),
                Some(d) => {
                    let now = Instant::now();
                    if now >= d {
                        return false;
                    }
                    self.inner.changed.wait_timeout(st, d - now).unwrap_or_else(PoisonError::into_inner).0
                }
            };
        }
    }

    /// Waits until at least `n` `/response` or `/error` requests have been recorded.
    pub fn wait_for_answers(&self, n: usize, timeout: Duration) -> bool {
        self.wait_until(timeout, |reqs| {
            reqs.iter().filter(|r| matches!(r.route, Route::Response(_) | Route::Error(_))).count() >= n
        })
    }

    /// Waits until at least `n` requests (of any kind) have been recorded.
    pub fn wait_for_requests(&self, n: usize, timeout: Duration) -> bool {
        self.wait_until(timeout, |reqs| reqs.len() >= n)
    }

    /// Waits until every reply the mock has decided on has been written to its socket
    /// (requests are recorded just before their reply is sent).
    pub fn wait_replies_sent(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut st = self.inner.lock();
        while st.unsent > 0 {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            st = self.inner.changed.wait_timeout(st, deadline - now).unwrap_or_else(PoisonError::into_inner).0;
        }
        true
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        self.inner.stop.store(true, Ordering::SeqCst);
        {
            let st = self.inner.lock();
            for s in st.streams.values() {
                let _ = s.shutdown(Shutdown::Both);
            }
            self.inner.changed.notify_all();
        }
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
        let workers = std::mem::take(&mut self.inner.lock().workers);
        let deadline = Instant::now() + DROP_JOIN_LIMIT;
        for w in workers {
            while !w.is_finished() && Instant::now() < deadline {
                thread::sleep(Duration::from_millis(1));
            }
            if w.is_finished() {
                let _ = w.join();
            }
        }
    }
}

fn accept_loop(inner: &Arc<Inner>, listener: &TcpListener) {
    while !inner.stopped() {
        match listener.accept() {
            Ok((stream, _)) => {
                let _ = stream.set_nonblocking(false);
                // Go's net package enables TCP_NODELAY on every connection.
                let _ = stream.set_nodelay(true);
                let mut st = inner.lock();
                if inner.stopped() {
                    break;
                }
                let conn = st.connections;
                st.connections += 1;
                if let Ok(clone) = stream.try_clone() {
                    st.streams.insert(conn, clone);
                }
                let worker_inner = Arc::clone(inner);
                match thread::Builder::new()
                    .name(format!("mock-runtime-conn-{conn}"))
                    .spawn(move || serve_connection(&worker_inner, stream, conn))
                {
                    Ok(h) => st.workers.push(h),
                    Err(_) => {
                        st.streams.remove(&conn);
                    }
                }
                inner.changed.notify_all();
            }
            Err(_) => thread::sleep(Duration::from_millis(2)),
        }
    }
}

fn malformed(conn: usize, head: Head, body: Body, error: String, status: Option<u16>) -> Request {
    Request { status, error: Some(error), ..record(conn, head, body, Route::Malformed) }
}

/// The record of a request as read, before it is answered.
fn record(conn: usize, head: Head, body: Body, route: Route) -> Request {
    Request {
        connection: conn,
        method: head.method,
        target: head.target,
        version: head.version,
        headers: head.headers,
        body: body.bytes,
        chunked: head.body == BodyKind::Chunked,
        chunks: body.chunks,
        trailers: body.trailers,
        route,
        event: None,
        status: None,
        response_headers: Vec::new(),
        error: None,
        raw: body.raw,
    }
}

/// Records a request that could not be read and, for a parse error, sends Go's reply.
fn reject(inner: &Inner, stream: &TcpStream, conn: usize, head: Head, body: Body, err: ReadError) {
    match err {
        ReadError::Closed => {}
        ReadError::Truncated(msg) => inner.record(malformed(conn, head, body, msg, None), false),
        ReadError::Bad { status, reason } => {
            inner.record(malformed(conn, head, body, reason.clone(), Some(status)), true);
            let _ = (&*stream).write_all(&http::bad_request_bytes(status, &reason));
            inner.sent();
        }
    }
}

/// A connection's reader that keeps the bytes each request consumed, when the script asks
/// for them ([`Script::capture_raw`]).
struct Recorder<R> {
    inner: R,
    raw: Option<Vec<u8>>,
}

impl<R: BufRead> Recorder<R> {
    /// The bytes consumed since the last call.
    fn take_raw(&mut self) -> Vec<u8> {
        self.raw.as_mut().map(std::mem::take).unwrap_or_default()
    }
}

impl<R: BufRead> Read for Recorder<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Recorder<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, n: usize) {
        // `n` bytes of the buffer the last `fill_buf` returned: still buffered, no I/O.
        if let (Some(raw), true) = (&mut self.raw, n > 0)
            && let Ok(buffered) = self.inner.fill_buf()
        {
            raw.extend_from_slice(&buffered[..n.min(buffered.len())]);
        }
        self.inner.consume(n);
    }
}

/// For an answer whose event has [`Fault::CloseWhileReading`] and is not answered yet: how
/// many body bytes to read. The event then counts as answered.
fn cut_short(inner: &Inner, head: &Head) -> Option<(usize, usize)> {
    let (Route::Response(id) | Route::Error(id)) = route(&head.method, head.path()) else {
        return None;
    };
    let mut st = inner.lock();
    let index = st.ids.get(&id).copied().filter(|&i| !st.answered[i])?;
    let n = st.events[index].answer_faults.iter().find_map(|f| match f {
        Fault::CloseWhileReading(n) => Some(*n),
        _ => None,
    })?;
    st.answered[index] = true;
    Some((index, n))
}

fn serve_connection(inner: &Inner, stream: TcpStream, conn: usize) {
    let mut reader =
        Recorder { inner: BufReader::with_capacity(64 * 1024, &stream), raw: inner.script.capture_raw.then(Vec::new) };
    let end = loop {
        if inner.stopped() {
            break End::Close;
        }
        let mut head = Head::default();
        if let Err(e) = http::read_head(&mut reader, &mut head) {
            let body = Body { raw: reader.take_raw(), ..Body::default() };
            reject(inner, &stream, conn, head, body, e);
            break End::Close;
        }
        if let Some((index, n)) = cut_short(inner, &head) {
            let mut bytes = Vec::new();
            let _ = reader.by_ref().take(n as u64).read_to_end(&mut bytes);
            let route = route(&head.method, head.path());
            let error = format!("closed by Fault::CloseWhileReading after {} body bytes", bytes.len());
            let body = Body { bytes, raw: reader.take_raw(), ..Body::default() };
            let rec = Request { event: Some(index), error: Some(error), ..record(conn, head, body, route) };
            inner.record(rec, false);
            break End::Close;
        }
        if head.expects_continue() && (&stream).write_all(b"HTTP/1.1 100 Continue\r\n\r\n").is_err() {
            break End::Close;
        }
        let mut body = Body::default();
        let read = http::read_body(&mut reader, &head, &mut body, http::MAX_BODY_BYTES);
        body.raw = reader.take_raw();
        if let Err(e) = read {
            reject(inner, &stream, conn, head, body, e);
            break End::Close;
        }
        match handle(inner, &stream, conn, head, body) {
            End::KeepAlive => {}
            end => break end,
        }
    };
    drop(reader);
    // Drop the registry's handle first: the socket closes (or resets) only when its last
    // descriptor is closed.
    let clone = inner.lock().streams.remove(&conn);
    drop(clone);
    match end {
        End::Reset { settle } => {
            if settle {
                thread::sleep(RESET_SETTLE);
            }
            let _ = socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO));
        }
        _ => {
            let _ = stream.shutdown(Shutdown::Write);
        }
    }
    drop(stream);
}

fn route(method: &str, path: &str) -> Route {
    match (method, path) {
        ("POST", EXTENSION_REGISTER_PATH) => return Route::ExtensionRegister,
        ("GET", EXTENSION_NEXT_PATH) => return Route::ExtensionNext,
        _ => {}
    }
    let Some(rest) = path.strip_prefix(API_PREFIX).and_then(|r| r.strip_prefix('/')) else {
        return Route::NotFound;
    };
    let valid_id = |id: &str| !id.is_empty() && !id.contains('/');
    match (method, rest) {
        ("GET", "runtime/invocation/next") => Route::Next,
        ("POST", "runtime/init/error") => Route::InitError,
        ("POST", r) => {
            let Some(tail) = r.strip_prefix("runtime/invocation/") else {
                return Route::NotFound;
            };
            if let Some(id) = tail.strip_suffix("/response").filter(|id| valid_id(id)) {
                Route::Response(id.to_owned())
            } else if let Some(id) = tail.strip_suffix("/error").filter(|id| valid_id(id)) {
                Route::Error(id.to_owned())
            } else {
                Route::NotFound
            }
        }
        _ => Route::NotFound,
    }
}

fn handle(inner: &Inner, stream: &TcpStream, conn: usize, head: Head, body: Body) -> End {
    let route = route(&head.method, head.path());
    let close = head.wants_close();
    let rec = record(conn, head, body, route.clone());
    match route {
        Route::Next => serve_next(inner, stream, close, rec),
        Route::Response(id) => serve_answer(inner, stream, close, rec, &id, true),
        Route::Error(id) => serve_answer(inner, stream, close, rec, &id, false),
        Route::InitError => serve_init_error(inner, stream, close, rec),
        Route::ExtensionRegister => serve_register(inner, stream, close, rec),
        Route::ExtensionNext => serve_extension_next(inner, stream, close, rec),
        Route::NotFound | Route::Malformed => {
            let resp = Response::new(
                404,
                vec![
                    ("Content-Type".into(), "text/plain; charset=utf-8".into()),
                    ("X-Content-Type-Options".into(), "nosniff".into()),
                ],
                b"404 page not found\n".to_vec(),
            );
            deliver(inner, stream, resp, &[], close, rec)
        }
    }
}

fn total_delay(faults: &[Fault]) -> Duration {
    faults
        .iter()
        .filter_map(|f| match f {
            Fault::Delay(d) => Some(*d),
            _ => None,
        })
        .sum()
}

fn reply_response(reply: &Reply) -> Response {
    Response::new(reply.status, reply.headers.clone(), reply.body.clone())
}

fn serve_next(inner: &Inner, stream: &TcpStream, close: bool, mut rec: Request) -> End {
    let script = &inner.script;
    // The index of this request's record once it is parked (recorded with no status).
    let mut slot = None;
    let mut st = inner.lock();
    while st.cursor == st.events.len() {
        match &script.exhausted {
            Exhausted::Hang => {}
            Exhausted::Close => {
                drop(st);
                inner.record(rec, false);
                return End::Close;
            }
            Exhausted::Reply(reply) => {
                drop(st);
                return deliver(inner, stream, reply_response(reply), &[], close, rec);
            }
        }
        if inner.stopped() {
            if slot.is_some() {
                st.parked_next -= 1;
            }
            return End::Close;
        }
        if slot.is_none() {
            slot = Some(st.requests.len());
            st.requests.push(rec.clone());
            st.parked_next += 1;
            st.max_parked_next = st.max_parked_next.max(st.parked_next);
            inner.changed.notify_all();
        }
        st = inner.changed.wait(st).unwrap_or_else(PoisonError::into_inner);
    }
    if slot.is_some() {
        st.parked_next -= 1;
    }
    let index = st.cursor;
    st.cursor += 1;
    let event = st.events[index].clone();
    drop(st);

    rec.event = Some(index);
    let delay = total_delay(&event.faults);
    if !delay.is_zero() && !inner.sleep(delay) {
        return End::Close;
    }
    let resp = render_event(script, &event, index);
    let id = http::find_header(&resp.headers, "Lambda-Runtime-Aws-Request-Id")
        .map(str::to_owned)
        .or_else(|| event.request_id.clone())
        .unwrap_or_else(|| default_request_id(index));
    let deadline = http::find_header(&resp.headers, "Lambda-Runtime-Deadline-Ms").and_then(|v| v.parse().ok());
    {
        let mut st = inner.lock();
        st.ids.insert(id, index);
        st.deadlines[index] = deadline;
    }
    deliver_at(inner, stream, resp, &event.faults, close, rec, slot)
}

/// The `/next` reply for an event, headers as RAPID's `renderInvokeHeaders` sets them.
fn render_event(script: &Script, event: &Event, index: usize) -> Response {
    let now = http::epoch_ms(SystemTime::now());
    let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
    let deadline = match event.deadline {
        Deadline::Default => now.saturating_add(ms(script.timeout)),
        Deadline::Timeout(t) => now.saturating_add(ms(t)),
        Deadline::EpochMs(v) => v,
    };
    let request_id = event.request_id.clone().unwrap_or_else(|| default_request_id(index));
    let invocation_id =
        event.invocation_id.clone().or_else(|| event.derive_invocation_id.then(|| format!("inv-{request_id}")));
    let mut headers: Vec<(String, String)> = Vec::new();
    let mut set = |name: &str, value: Option<String>| {
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            headers.push((name.to_owned(), v));
        }
    };
    set("Lambda-Runtime-Aws-Request-Id", Some(request_id));
    set("Lambda-Runtime-Trace-Id", Some(event.trace_id.clone().unwrap_or_else(|| default_trace_id(index))));
    set("Lambda-Runtime-Client-Context", event.client_context.clone());
    set("Lambda-Runtime-Cognito-Identity", event.cognito_identity.clone());
    set(
        "Lambda-Runtime-Invoked-Function-Arn",
        Some(event.function_arn.clone().unwrap_or_else(|| script.function_arn.clone())),
    );
    set("Lambda-Runtime-Deadline-Ms", Some(deadline.to_string()));
    set("Lambda-Runtime-Aws-Tenant-Id", event.tenant_id.clone());
    set("Lambda-Runtime-Invocation-Id", invocation_id);
    let content_type =
        event.content_type.clone().filter(|c| !c.is_empty()).unwrap_or_else(|| "application/json".to_owned());
    set("Content-Type", Some(content_type));
    for edit in &event.edits {
        match edit {
            HeaderEdit::Set(n, v) => {
                headers.retain(|(h, _)| !h.eq_ignore_ascii_case(n));
                headers.push((n.clone(), v.clone()));
            }
            HeaderEdit::Append(n, v) => headers.push((n.clone(), v.clone())),
            HeaderEdit::Remove(n) => headers.retain(|(h, _)| !h.eq_ignore_ascii_case(n)),
        }
    }
    let mut resp = Response::new(200, headers, event.body.clone());
    resp.framing = event.framing.clone();
    resp
}

fn serve_answer(inner: &Inner, stream: &TcpStream, close: bool, mut rec: Request, id: &str, is_response: bool) -> End {
    let script = &inner.script;
    let (index, reply, faults): (Option<usize>, Reply, Vec<Fault>) = {
        let mut st = inner.lock();
        match st.ids.get(id).copied() {
            None => (None, Reply::for_status(400), Vec::new()),
            Some(i) if st.answered[i] => (Some(i), Reply::for_status(400), Vec::new()),
            Some(i) if script.enforce_deadlines && is_past(st.deadlines[i]) => {
                st.answered[i] = true;
                (Some(i), Reply::for_status(410), Vec::new())
            }
            Some(i) => {
                st.answered[i] = true;
                let mode = rec.header("Lambda-Runtime-Function-Response-Mode").unwrap_or("");
                let reply = if !is_response {
                    Reply::accepted()
                } else if !mode.is_empty() && mode != "streaming" {
                    Reply::error(400, "InvalidFunctionResponseMode", "Invalid function response mode")
                } else if mode != "streaming" && rec.body.len() > MAX_PAYLOAD_SIZE {
                    Reply::for_status(413)
                } else {
                    Reply::accepted()
                };
                (Some(i), reply, st.events[i].answer_faults.clone())
            }
        }
    };
    rec.event = index;
    let delay = total_delay(&faults);
    if !delay.is_zero() && !inner.sleep(delay) {
        return End::Close;
    }
    deliver(inner, stream, reply_response(&reply), &faults, close, rec)
}

/// True when the epoch-milliseconds `deadline` has passed (never for `None`: an event
/// sent without a readable `Lambda-Runtime-Deadline-Ms` has no deadline to enforce).
fn is_past(deadline: Option<u64>) -> bool {
    deadline.is_some_and(|d| http::epoch_ms(SystemTime::now()) > d)
}

/// `/init/error`: the first is accepted; a later one gets RAPID's `403` (the runtime is in
/// state InitError already: `rapi/handler/initerror.go`).
fn serve_init_error(inner: &Inner, stream: &TcpStream, close: bool, rec: Request) -> End {
    let first = {
        let mut st = inner.lock();
        st.init_errors += 1;
        st.init_errors == 1
    };
    let reply = if first {
        Reply::accepted()
    } else {
        Reply::error(
            403,
            "InvalidStateTransition",
            "State transition from InitError to InitError failed for runtime. Error: State transition is not allowed",
        )
    };
    deliver(inner, stream, reply_response(&reply), &[], close, rec)
}

/// The identifier the mock gives the extension registered `index`-th (0-based): a UUID,
/// as RAPID's, e.g. `e47e0000-0000-4000-8000-000000000001`.
fn extension_id(index: usize) -> String {
    format!("e47e0000-0000-4000-8000-{:012}", index + 1)
}

/// True for the canonical UUID form `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` (hex digits).
/// RAPID's `uuid.Parse` also takes the braced, `urn:uuid:` and 32-digit forms; the mock
/// calls those invalid.
fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// `POST /extension/register`, as RAPID's `agentRegisterHandler`: `403` for an empty
/// `Lambda-Extension-Name`, a name registered already or an 11th extension; else `200`
/// with `Lambda-Extension-Identifier` and the function's metadata. The body (the events
/// to subscribe to) is recorded but not checked.
fn serve_register(inner: &Inner, stream: &TcpStream, close: bool, rec: Request) -> End {
    let name = rec.header("Lambda-Extension-Name").unwrap_or("").to_owned();
    let reply = {
        let mut st = inner.lock();
        if name.is_empty() {
            Reply::error(403, "Extension.InvalidExtensionName", "Empty extension name")
        } else if st.extensions.iter().any(|e| e.name == name) {
            Reply::error(403, "Extension.InvalidExtensionState", "Extension with this name already registered")
        } else if st.extensions.len() >= MAX_EXTENSIONS {
            Reply::error(403, "Extension.TooManyExtensions", &format!("Extension limit ({MAX_EXTENSIONS}) reached"))
        } else {
            let id = extension_id(st.extensions.len());
            st.extensions.push(Extension { name, id: id.clone() });
            // `model.ExtensionRegisterResponse` through Go's `json.Encoder` (a trailing
            // newline), the function name being the ARN's.
            let function_name = inner.script.function_arn.split(':').nth(6).unwrap_or("mock");
            let body = format!(
                "{{\"functionName\":{},\"functionVersion\":\"$LATEST\",\"handler\":\"bootstrap\"}}\n",
                http::json_string(function_name)
            );
            Reply::new(200, "application/json", body).header("Lambda-Extension-Identifier", id)
        }
    };
    deliver(inner, stream, reply_response(&reply), &[], close, rec)
}

/// `GET /extension/event/next`: `403` unless `Lambda-Extension-Identifier` names a
/// registered extension (RAPID's `AgentUniqueIdentifierHeaderValidator` and
/// `agentNextHandler`); else parked until [`MockServer::shutdown`], then `200` with the
/// SHUTDOWN event.
fn serve_extension_next(inner: &Inner, stream: &TcpStream, close: bool, rec: Request) -> End {
    let id = rec.header("Lambda-Extension-Identifier").unwrap_or("").to_owned();
    let refusal = if id.is_empty() {
        Some(Reply::error(403, "Extension.MissingExtensionIdentifier", "Missing Lambda-Extension-Identifier header"))
    } else if !is_uuid(&id) {
        Some(Reply::error(403, "Extension.InvalidExtensionIdentifier", "Invalid Lambda-Extension-Identifier"))
    } else if !inner.lock().extensions.iter().any(|e| e.id.eq_ignore_ascii_case(&id)) {
        Some(Reply::error(403, "Extension.UnknownExtensionIdentifier", &format!("Unknown extension {id}")))
    } else {
        None
    };
    if let Some(reply) = refusal {
        return deliver(inner, stream, reply_response(&reply), &[], close, rec);
    }

    // The index of this request's record once it is parked (recorded with no status).
    let mut slot = None;
    let mut st = inner.lock();
    let deadline_ms = loop {
        if let Some(deadline) = st.shutdown_deadline_ms {
            break deadline;
        }
        if inner.stopped() {
            if slot.is_some() {
                st.parked_extension_next -= 1;
            }
            return End::Close;
        }
        if slot.is_none() {
            slot = Some(st.requests.len());
            st.requests.push(rec.clone());
            st.parked_extension_next += 1;
            inner.changed.notify_all();
        }
        st = inner.changed.wait(st).unwrap_or_else(PoisonError::into_inner);
    };
    if slot.is_some() {
        st.parked_extension_next -= 1;
    }
    drop(st);
    // RAPID's `ShutdownRenderer` writes `json.Marshal` of `model.AgentShutdownEvent`
    // (embedded `AgentEvent` fields first, no trailing newline) with no `Content-Type`, so
    // Go's `net/http` sniffs `text/plain; charset=utf-8`.
    let body =
        format!("{{\"eventType\":\"SHUTDOWN\",\"deadlineMs\":{deadline_ms},\"shutdownReason\":\"{SHUTDOWN_REASON}\"}}");
    let resp = Response::new(200, vec![("Content-Type".into(), "text/plain; charset=utf-8".into())], body.into_bytes());
    deliver_at(inner, stream, resp, &[], close, rec, slot)
}

enum Mode {
    Whole,
    Paced(usize, Duration),
    Split(Vec<usize>),
}

/// Applies `faults` to `resp`, records `rec` and writes the result.
fn deliver(
    inner: &Inner,
    stream: &TcpStream,
    resp: Response,
    faults: &[Fault],
    client_close: bool,
    rec: Request,
) -> End {
    deliver_at(inner, stream, resp, faults, client_close, rec, None)
}

/// [`deliver`], recording `rec` in place of the record at `slot` (a parked request's).
fn deliver_at(
    inner: &Inner,
    stream: &TcpStream,
    mut resp: Response,
    faults: &[Fault],
    client_close: bool,
    mut rec: Request,
    slot: Option<usize>,
) -> End {
    enum Replace {
        Nothing,
        Raw(Vec<u8>),
    }
    let mut replace = None;
    let mut close_after = false;
    let mut reset = false;
    let mut reset_now = false;
    let mut truncate = None;
    let mut mode = Mode::Whole;
    for fault in faults {
        match fault {
            Fault::Delay(_) | Fault::CloseWhileReading(_) => {}
            Fault::CloseBeforeResponse => {
                replace = Some(Replace::Nothing);
                reset_now = false;
            }
            Fault::ResetBeforeResponse => {
                replace = Some(Replace::Nothing);
                reset_now = true;
            }
            Fault::Raw(bytes) => replace = Some(Replace::Raw(bytes.clone())),
            Fault::Reply(reply) => {
                replace = None;
                resp = reply_response(reply);
            }
            Fault::Http10 => resp.http10 = true,
            Fault::ConnectionClose => resp.close = true,
            Fault::CloseAfterResponse => close_after = true,
            Fault::ResetAfterResponse => reset = true,
            Fault::CloseAfterBytes(n) => {
                truncate = Some(*n);
                close_after = true;
            }
            Fault::ResetAfterBytes(n) => {
                truncate = Some(*n);
                reset = true;
            }
            Fault::ByteByByte => mode = Mode::Paced(1, Duration::ZERO),
            Fault::Paced { bytes, pause } => mode = Mode::Paced((*bytes).max(1), *pause),
            Fault::SplitAt(offsets) => mode = Mode::Split(offsets.clone()),
        }
    }
    if client_close {
        resp.close = true;
    }
    let (mut bytes, end) = match replace {
        Some(Replace::Nothing) => {
            inner.record_at(slot, rec, false);
            return if reset_now { End::Reset { settle: false } } else { End::Close };
        }
        Some(Replace::Raw(bytes)) => {
            inner.record_at(slot, rec, true);
            (bytes, if reset { End::Reset { settle: true } } else { End::Close })
        }
        None => {
            let (bytes, headers) = resp.render();
            rec.status = Some(resp.status);
            rec.response_headers = headers;
            inner.record_at(slot, rec, true);
            let closing = resp.close || resp.http10 || resp.framing == Framing::CloseDelimited;
            let end = if reset {
                End::Reset { settle: true }
            } else if closing || close_after {
                End::Close
            } else {
                End::KeepAlive
            };
            (bytes, end)
        }
    };
    if let Some(n) = truncate {
        bytes.truncate(n);
    }
    let ok = write_with(inner, stream, &bytes, &mode);
    inner.sent();
    if ok { end } else { End::Close }
}

fn write_with(inner: &Inner, stream: &TcpStream, bytes: &[u8], mode: &Mode) -> bool {
    let mut w = stream;
    match mode {
        Mode::Whole => w.write_all(bytes).is_ok(),
        Mode::Paced(n, pause) => {
            for (k, part) in bytes.chunks(*n).enumerate() {
                if k > 0 && !pause.is_zero() && !inner.sleep(*pause) {
                    return false;
                }
                if w.write_all(part).is_err() {
                    return false;
                }
            }
            true
        }
        Mode::Split(offsets) => {
            let mut cuts: Vec<usize> = offsets.iter().copied().filter(|&o| o > 0 && o < bytes.len()).collect();
            cuts.sort_unstable();
            cuts.dedup();
            cuts.push(bytes.len());
            let mut start = 0;
            for (k, end) in cuts.into_iter().enumerate() {
                if k > 0 && !inner.sleep(SPLIT_PAUSE) {
                    return false;
                }
                if w.write_all(&bytes[start..end]).is_err() {
                    return false;
                }
                start = end;
            }
            true
        }
    }
}
