//! Shared harness of the `bootstrap_*` integration tests: finds the built bootstraps, runs
//! them as child processes against the mock Runtime API on loopback, and checks how they
//! ended.
//!
//! The binaries come from `LAMBDA_LIBC_BIN_DIR`, which `cargo xtask test` sets to
//! `dist/bin` (what `cargo xtask dist` writes: x86_64 names unsuffixed, arm64 ones with
//! `-arm64`). It may also hold several directories, separated like `PATH`; every directory
//! is searched for every name below.
//!
//! * Echo bootstraps ([`echo_bootstraps`]): [`ECHO_NAMES`]. `bootstrap` (the Rust echo of
//!   `example-rust`) is required; the others are tested when present.
//! * Fixture bootstraps ([`fixtures`]): [`FIXTURE_NAMES`]. `fixture` (`tests/fixtures`) is
//!   required; the others are tested when present.
//! * Streaming echo bootstraps ([`stream_bootstraps`]): [`STREAM_NAMES`]. `bootstrap-stream`
//!   (`example-rust/src/stream.rs`) is required; the C one is tested when present.
//! * The JSON API bootstraps ([`api_bootstraps`]): [`API_NAMES`]. `bootstrap-api`
//!   (`example-rust/src/api.rs`) is required; the arm64 one is tested when present.
//!
//! Bootstraps of the other architecture run under qemu-user ([`Bin::is_emulated`]); where
//! the FHS loader is missing, the native ones start through [`LOADER_VAR`]'s loader.
//!
//! Every run is bounded: a child that does not end within [`TIMEOUT`] is killed and the
//! test fails. Children get a cleared environment plus exactly the variables a test gives.
#![allow(dead_code)]

use std::fmt;
use std::io::Read;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use lambda_libc_mock::{Answer, AnswerKind, MockServer, Request, Route, Script};

/// The bound on every wait: a run that takes longer is a failure.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// Where the built bootstraps are (set by `cargo xtask test`).
pub const BIN_DIR_VAR: &str = "LAMBDA_LIBC_BIN_DIR";
/// The dynamic loader that starts the bootstraps of this machine's architecture, where the
/// FHS one they name is missing (the Nix sandbox: nix/checks.nix sets it to glibc's).
/// Unset, they start by themselves.
pub const LOADER_VAR: &str = "LAMBDA_LIBC_LOADER";
/// The qemu-user emulator for bootstraps of the other architecture, by its ELF name
/// (`LAMBDA_LIBC_QEMU_AARCH64`, `LAMBDA_LIBC_QEMU_X86_64`; default `qemu-aarch64`,
/// `qemu-x86_64`, from Debian's `qemu-user`), and the root in which qemu finds their loader
/// and libc (`…_LD_PREFIX`; default `/usr/aarch64-linux-gnu`, `/usr/x86_64-linux-gnu`,
/// Debian's `libc6-arm64-cross` and `libc6-amd64-cross`).
pub const QEMU_VAR_PREFIX: &str = "LAMBDA_LIBC_QEMU_";
const EM_X86_64: u16 = 62;
const EM_AARCH64: u16 = 183;

/// Echo bootstraps (answer every event with itself), in test order. The first is
/// required; the others (a C echo, arm64 builds) are tested when a directory has them.
pub const ECHO_NAMES: &[&str] = &["bootstrap", "bootstrap-c", "bootstrap-arm64", "bootstrap-c-arm64"];

/// Fixture bootstraps (behaviour chosen by each event, see `tests/fixtures/src/main.rs`).
/// The first is required; the others are tested when a directory has them.
pub const FIXTURE_NAMES: &[&str] = &["fixture", "fixture-c", "fixture-arm64", "fixture-c-arm64"];

/// Streaming echo bootstraps (stream every event back in chunks of at most 4 KiB), as
/// [`ECHO_NAMES`].
pub const STREAM_NAMES: &[&str] =
    &["bootstrap-stream", "bootstrap-c-stream", "bootstrap-stream-arm64", "bootstrap-c-stream-arm64"];

/// The JSON API bootstraps (function URL requests answered with JSON documents), as
/// [`ECHO_NAMES`].
pub const API_NAMES: &[&str] = &["bootstrap-api", "bootstrap-api-arm64"];

#[allow(unused_imports)] // each test file uses a different subset
pub use lambda_libc_mock::{error_path, response_path};

/// A built bootstrap.
#[derive(Clone, Debug)]
pub struct Bin {
    /// How assertion messages name it: the file name, plus its directory when
    /// `LAMBDA_LIBC_BIN_DIR` lists several.
    pub name: String,
    pub path: PathBuf,
}

impl fmt::Display for Bin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

fn bin_dirs() -> Vec<PathBuf> {
    let Some(value) = std::env::var_os(BIN_DIR_VAR) else {
        panic!(
            "{BIN_DIR_VAR} is not set: run `cargo xtask test` (it builds the bootstraps and sets it), \
             or build them (`cargo xtask dist`) and set {BIN_DIR_VAR}=dist/bin"
        );
    };
    let dirs: Vec<PathBuf> = std::env::split_paths(&value).filter(|d| !d.as_os_str().is_empty()).collect();
    assert!(!dirs.is_empty(), "{BIN_DIR_VAR} is empty: run `cargo xtask test`");
    for d in &dirs {
        assert!(d.is_dir(), "{BIN_DIR_VAR} names {}, which is not a directory: run `cargo xtask test`", d.display());
    }
    dirs
}

fn find(names: &[&str]) -> Vec<Bin> {
    let dirs = bin_dirs();
    let mut found = Vec::new();
    for dir in &dirs {
        for name in names {
            let path = dir.join(name);
            if path.is_file() {
                let name = if dirs.len() == 1 { (*name).to_owned() } else { format!("{name} ({})", dir.display()) };
                found.push(Bin { name, path });
            }
        }
    }
    let required = names[0];
    assert!(
        found.iter().any(|b| b.path.file_name().is_some_and(|f| f == required)),
        "{BIN_DIR_VAR}={} has no `{required}`: run `cargo xtask test` (it builds every bootstrap)",
        std::env::var(BIN_DIR_VAR).unwrap_or_default()
    );
    found
}

/// The echo bootstraps to test: every one of [`ECHO_NAMES`] that exists.
pub fn echo_bootstraps() -> Vec<Bin> {
    find(ECHO_NAMES)
}

/// The fixture bootstraps to test: every one of [`FIXTURE_NAMES`] that exists.
pub fn fixtures() -> Vec<Bin> {
    find(FIXTURE_NAMES)
}

/// The streaming echo bootstraps to test: every one of [`STREAM_NAMES`] that exists.
pub fn stream_bootstraps() -> Vec<Bin> {
    find(STREAM_NAMES)
}

/// The JSON API bootstraps to test: every one of [`API_NAMES`] that exists.
pub fn api_bootstraps() -> Vec<Bin> {
    find(API_NAMES)
}

/// The Rust fixtures: the ones that can panic (C has no panics for the runtime to report;
/// a crashing C handler ends the process, which Lambda reports as `Runtime.ExitError`).
pub fn rust_fixtures() -> Vec<Bin> {
    fixtures().into_iter().filter(|b| !b.is_c()).collect()
}

/// The C fixtures (`fixture-c`), for the C API's own tests.
pub fn c_fixtures() -> Vec<Bin> {
    fixtures().into_iter().filter(Bin::is_c).collect()
}

impl Bin {
    /// Whether this is a C program (`bootstrap-c…`, `fixture-c…`), built on the C API.
    pub fn is_c(&self) -> bool {
        self.path.file_name().is_some_and(|f| f.to_string_lossy().contains("-c"))
    }

    /// Runs the bootstrap with only `AWS_LAMBDA_RUNTIME_API=api` in its environment.
    pub fn spawn(&self, api: &str) -> Proc {
        self.spawn_env(&[("AWS_LAMBDA_RUNTIME_API", api)])
    }

    /// The ELF's machine (`e_machine`), if it is an ELF file.
    fn machine(&self) -> Option<u16> {
        let mut header = [0u8; 20];
        let read = std::fs::File::open(&self.path).and_then(|mut f| f.read_exact(&mut header));
        (read.is_ok() && header[..4] == *b"\x7fELF").then(|| u16::from_le_bytes([header[18], header[19]]))
    }

    /// Whether this is an arm64 ELF.
    pub fn is_arm64(&self) -> bool {
        self.machine() == Some(EM_AARCH64)
    }

    /// Whether it runs under qemu-user here (an ELF of the other architecture): the process
    /// is then qemu, whose memory figures are its own (the translation cache grows), not the
    /// bootstrap's.
    pub fn is_emulated(&self) -> bool {
        let host = match std::env::consts::ARCH {
            "aarch64" => EM_AARCH64,
            _ => EM_X86_64,
        };
        self.machine().is_some_and(|m| m != host)
    }

    /// The command that runs it: itself, through [`LOADER_VAR`]'s loader when that is set,
    /// or under qemu-user for the other architecture ([`QEMU_VAR_PREFIX`]).
    fn command(&self) -> Command {
        if !self.is_emulated() {
            return match std::env::var_os(LOADER_VAR) {
                Some(loader) => {
                    let mut cmd = Command::new(loader);
                    cmd.arg(&self.path);
                    cmd
                }
                None => Command::new(&self.path),
            };
        }
        let (name, qemu, root) = if self.is_arm64() {
            ("AARCH64", "qemu-aarch64", "/usr/aarch64-linux-gnu")
        } else {
            ("X86_64", "qemu-x86_64", "/usr/x86_64-linux-gnu")
        };
        let qemu = std::env::var_os(format!("{QEMU_VAR_PREFIX}{name}")).unwrap_or_else(|| qemu.into());
        let root = std::env::var_os(format!("{QEMU_VAR_PREFIX}{name}_LD_PREFIX")).unwrap_or_else(|| root.into());
        let mut cmd = Command::new(qemu);
        cmd.arg("-L").arg(root).arg(&self.path);
        cmd
    }

    /// Runs the bootstrap with exactly these environment variables.
    pub fn spawn_env(&self, env: &[(&str, &str)]) -> Proc {
        let mut cmd = self.command();
        cmd.env_clear().stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap_or_else(|e| panic!("{self}: cannot run {}: {e}", self.path.display()));
        let stdout = child.stdout.take().map(drain);
        let stderr = child.stderr.take().map(drain);
        Proc { bin: self.clone(), child, stdout, stderr, started: Instant::now() }
    }

    /// Starts a mock with `script` and the bootstrap against it, with `env` besides
    /// `AWS_LAMBDA_RUNTIME_API`.
    pub fn start_env(&self, script: Script, env: &[(&str, &str)]) -> (MockServer, Proc) {
        let server = MockServer::start(script).expect("start the mock");
        let api = server.runtime_api();
        let mut all = vec![("AWS_LAMBDA_RUNTIME_API", api.as_str())];
        all.extend_from_slice(env);
        let proc = self.spawn_env(&all);
        (server, proc)
    }

    /// Runs the bootstrap against `server` and waits until it has answered every scripted
    /// event and waits in a `/next` the mock holds open (the script must end with
    /// `Exhausted::Hang`, the default), then kills it. Fails if the run does not get there
    /// within [`TIMEOUT`] or the process ended on its own.
    pub fn run_to_idle(&self, server: &MockServer) -> Exit {
        let mut proc = self.spawn(&server.runtime_api());
        proc.wait_until(server, "wait in the last /next", idle);
        proc.kill()
    }

    /// Starts a mock with `script` and [`run_to_idle`](Bin::run_to_idle): returns the mock
    /// (to inspect) and how the process ended (killed by the test). Asserts that it wrote
    /// nothing on stderr or stdout.
    pub fn echo_run(&self, script: Script) -> (MockServer, Exit) {
        let server = MockServer::start(script).expect("start the mock");
        let exit = self.run_to_idle(&server);
        exit.assert_quiet();
        (server, exit)
    }

    /// Starts a mock with `script`, runs the bootstrap against it and waits (bounded) for
    /// it to exit on its own.
    pub fn run_to_exit(&self, script: Script) -> (MockServer, Exit) {
        let server = MockServer::start(script).expect("start the mock");
        let exit = self.spawn(&server.runtime_api()).wait();
        (server, exit)
    }
}

/// Whether the runtime waits in a `/next` the mock holds open because the script is used
/// up (`Exhausted::Hang` records such a request with no event).
pub fn idle(reqs: &[Request]) -> bool {
    reqs.iter().any(|r| r.route == Route::Next && r.event.is_none())
}

fn drain(mut pipe: impl Read + Send + 'static) -> JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut out = Vec::new();
        let _ = pipe.read_to_end(&mut out);
        out
    })
}

/// A running bootstrap. Dropping it kills it.
pub struct Proc {
    pub bin: Bin,
    child: Child,
    stdout: Option<JoinHandle<Vec<u8>>>,
    stderr: Option<JoinHandle<Vec<u8>>>,
    started: Instant,
}

/// How a run ended.
#[derive(Debug)]
pub struct Exit {
    /// The bootstrap's name, for assertion messages.
    pub bin: String,
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
    /// From spawn to exit.
    pub elapsed: Duration,
}

impl Proc {
    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether the process has exited.
    pub fn exited(&mut self) -> bool {
        self.child.try_wait().expect("try_wait").is_some()
    }

    /// Waits until `pred` holds for the mock's requests, while the process runs. Fails
    /// (killing it, with its stderr and the requests in the message) if it exits first or
    /// [`TIMEOUT`] passes.
    pub fn wait_until(&mut self, server: &MockServer, what: &str, pred: impl FnMut(&[Request]) -> bool) {
        self.wait_until_within(server, what, TIMEOUT, pred);
    }

    /// [`wait_until`](Proc::wait_until) with another bound than [`TIMEOUT`] (the soak test's
    /// long runs); the failure message then shows the last 40 requests.
    pub fn wait_until_within(
        &mut self,
        server: &MockServer,
        what: &str,
        timeout: Duration,
        mut pred: impl FnMut(&[Request]) -> bool,
    ) {
        let deadline = Instant::now() + timeout;
        loop {
            if server.wait_until(Duration::from_millis(20), &mut pred) {
                return;
            }
            let exited = self.exited();
            if exited || Instant::now() >= deadline {
                self.give_up(server, what, exited);
            }
        }
    }

    /// Fails a wait for `what`: kills the process, with its stderr and the last 40 requests
    /// in the message.
    fn give_up(&mut self, server: &MockServer, what: &str, exited: bool) -> ! {
        let why = if exited { "exited first" } else { "timed out" };
        let bin = self.bin.name.clone();
        let exit = self.finish(true);
        let reqs = server.requests();
        panic!(
            "{bin}: expected it to {what}, but it {why} ({:?}); stderr:\n{}\nrequests (the last 40 of {}):\n{}",
            exit.status,
            exit.stderr,
            reqs.len(),
            summary(&reqs[reqs.len().saturating_sub(40)..])
        );
    }

    /// Waits until `cond` holds (polled every 10 ms, outside the mock's lock: it may ask
    /// the mock anything), while the process runs; fails as [`wait_until`](Proc::wait_until).
    pub fn wait_for(&mut self, server: &MockServer, what: &str, mut cond: impl FnMut() -> bool) {
        let deadline = Instant::now() + TIMEOUT;
        while !cond() {
            let exited = self.exited();
            if exited || Instant::now() >= deadline {
                self.give_up(server, what, exited);
            }
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// Waits until `n` `/next` are parked in the mock at once.
    pub fn wait_parked(&mut self, server: &MockServer, n: usize) {
        self.wait_for(server, &format!("park {n} /next at once"), || server.outstanding_next() >= n);
    }

    /// Waits until the mock has recorded `n` answers (`/response` or `/error`), as
    /// [`wait_until`](Proc::wait_until).
    pub fn wait_for_answers(&mut self, server: &MockServer, n: usize) {
        self.wait_for_answers_within(server, n, TIMEOUT);
    }

    /// [`wait_for_answers`](Proc::wait_for_answers) within `timeout`.
    pub fn wait_for_answers_within(&mut self, server: &MockServer, n: usize, timeout: Duration) {
        self.wait_until_within(server, &format!("send {n} answers"), timeout, |reqs| {
            reqs.iter().filter(|r| matches!(r.route, Route::Response(_) | Route::Error(_))).count() >= n
        });
    }

    /// Waits (at most [`TIMEOUT`]) for the process to exit on its own; kills it and fails
    /// if it does not.
    pub fn wait(mut self) -> Exit {
        let deadline = Instant::now() + TIMEOUT;
        while !self.exited() {
            if Instant::now() >= deadline {
                let bin = self.bin.name.clone();
                let exit = self.finish(true);
                panic!("{bin}: did not exit within {TIMEOUT:?}; stderr:\n{}", exit.stderr);
            }
            thread::sleep(Duration::from_millis(2));
        }
        self.finish(false)
    }

    /// Kills the process, which must still be running (it is expected to wait in a
    /// `/next`), and collects its output.
    pub fn kill(mut self) -> Exit {
        if self.exited() {
            let bin = self.bin.name.clone();
            let exit = self.finish(false);
            panic!(
                "{bin}: exited on its own ({:?}) instead of waiting for the next event; stderr:\n{}",
                exit.status, exit.stderr
            );
        }
        self.finish(true)
    }

    fn finish(&mut self, kill: bool) -> Exit {
        if kill {
            let _ = self.child.kill();
        }
        let status = self.child.wait().expect("wait for the child");
        let elapsed = self.started.elapsed();
        let text = |h: Option<JoinHandle<Vec<u8>>>| {
            h.map(|h| String::from_utf8_lossy(&h.join().unwrap_or_default()).into_owned()).unwrap_or_default()
        };
        Exit {
            bin: self.bin.name.clone(),
            status,
            stdout: text(self.stdout.take()),
            stderr: text(self.stderr.take()),
            elapsed,
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Exit {
    /// The `lambda-libc: ` lines of stderr, without the prefix.
    pub fn diagnostics(&self) -> Vec<&str> {
        self.stderr.lines().filter_map(|l| l.strip_prefix("lambda-libc: ")).collect()
    }

    /// Asserts the process exited with status 1, not by a signal, after a stderr line
    /// `lambda-libc: …` containing `fragment`; returns that line (without the prefix).
    pub fn assert_failed(&self, fragment: &str) -> &str {
        self.assert_exit_1();
        self.assert_diagnostic(fragment)
    }

    /// Asserts a clean exit with status 1 (never a signal).
    pub fn assert_exit_1(&self) {
        assert_eq!(
            self.status.signal(),
            None,
            "{}: killed by a signal ({:?}); stderr:\n{}",
            self.bin,
            self.status,
            self.stderr
        );
        assert_eq!(
            self.status.code(),
            Some(1),
            "{}: exit status {:?}, expected 1; stderr:\n{}",
            self.bin,
            self.status,
            self.stderr
        );
    }

    /// Asserts a stderr line `lambda-libc: …` contains `fragment`; returns it.
    pub fn assert_diagnostic(&self, fragment: &str) -> &str {
        self.diagnostics().into_iter().find(|l| l.contains(fragment)).unwrap_or_else(|| {
            panic!("{}: no stderr line `lambda-libc: …{fragment}…`; stderr:\n{}", self.bin, self.stderr)
        })
    }

    /// Asserts nothing was written on stderr or stdout.
    pub fn assert_quiet(&self) {
        assert_eq!(self.stderr, "", "{}: unexpected stderr", self.bin);
        assert_eq!(self.stdout, "", "{}: unexpected stdout", self.bin);
    }
}

/// One line per request, for failure messages.
pub fn summary(reqs: &[Request]) -> String {
    reqs.iter()
        .map(|r| {
            format!(
                "  conn {} {} {} {:?} event {:?} status {:?} body {} bytes{}\n",
                r.connection,
                r.method,
                r.target,
                r.route,
                r.event,
                r.status,
                r.body.len(),
                r.error.as_ref().map(|e| format!(" error {e:?}")).unwrap_or_default()
            )
        })
        .collect()
}

/// Asserts the routes of the requests the server saw, in order (`what` says why).
pub fn assert_routes(bin: &Bin, server: &MockServer, want: &[Route], what: &str) {
    let reqs = server.requests();
    let routes: Vec<Route> = reqs.iter().map(|r| r.route.clone()).collect();
    assert_eq!(routes, want, "{bin}: {what}:\n{}", summary(&reqs));
}

/// Asserts the answers are exactly one `/response` per `(request id, body)`, in order,
/// each accepted (202) with a `Content-Length` body.
pub fn assert_responses(bin: &Bin, server: &MockServer, expected: &[(String, Vec<u8>)]) {
    let answers = server.answers();
    assert_eq!(
        answers.len(),
        expected.len(),
        "{bin}: {} answers for {} events; requests:\n{}",
        answers.len(),
        expected.len(),
        summary(&server.requests())
    );
    for (i, (a, (id, body))) in answers.iter().zip(expected).enumerate() {
        assert_response(bin, a, id, body, &format!("answer {i}"));
    }
}

/// Asserts `a` is an accepted `/response` for `id` whose body is exactly `body`.
pub fn assert_response(bin: &Bin, a: &Answer, id: &str, body: &[u8], what: &str) {
    assert_eq!((a.kind, a.request_id.as_str()), (AnswerKind::Response, id), "{bin}: {what}: {:?}", a.request);
    assert_eq!(a.request.target, response_path(id), "{bin}: {what}");
    assert_eq!(
        a.request.header("Content-Length"),
        Some(body.len().to_string().as_str()),
        "{bin}: {what}: Content-Length"
    );
    assert!(!a.request.chunked, "{bin}: {what}: a buffered response is not chunked");
    if a.body() != body {
        let at = a.body().iter().zip(body).position(|(x, y)| x != y).unwrap_or(a.body().len().min(body.len()));
        panic!(
            "{bin}: {what}: response body differs from the event: {} bytes vs {} expected, first difference at byte {at}",
            a.body().len(),
            body.len()
        );
    }
    assert_eq!(a.status(), Some(202), "{bin}: {what}: the mock's status");
}

/// The `/error` answer of `id`'s expected shape: returns its parsed JSON body after
/// checking the kind, path, content type and error-type header.
pub fn assert_error(bin: &Bin, a: &Answer, id: &str, error_type: &str) -> serde_json::Value {
    assert_eq!((a.kind, a.request_id.as_str()), (AnswerKind::Error, id), "{bin}: {:?}", a.request);
    assert_eq!(a.request.target, error_path(id), "{bin}");
    assert_error_document(bin, &a.request, error_type)
}

/// Checks an error post (`/error` or `/init/error`): `Content-Type`, the error-type
/// header, `Content-Length`, and a JSON body `{errorMessage, errorType, stackTrace: []}`
/// with exactly those keys; returns the parsed body.
pub fn assert_error_document(bin: &Bin, r: &Request, error_type: &str) -> serde_json::Value {
    assert_eq!(r.method, "POST", "{bin}");
    assert_eq!(r.header("Content-Type"), Some("application/vnd.aws.lambda.error+json"), "{bin}: {r:?}");
    assert_eq!(r.header("Lambda-Runtime-Function-Error-Type"), Some(error_type), "{bin}: {r:?}");
    assert_eq!(r.header("Content-Length"), Some(r.body.len().to_string().as_str()), "{bin}");
    let v: serde_json::Value = serde_json::from_slice(&r.body)
        .unwrap_or_else(|e| panic!("{bin}: error body is not JSON ({e}): {:?}", r.body_str()));
    let obj = v.as_object().unwrap_or_else(|| panic!("{bin}: error body is not an object: {v}"));
    let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["errorMessage", "errorType", "stackTrace"], "{bin}: {v}");
    assert_eq!(v["errorType"], error_type, "{bin}: {v}");
    assert!(v["errorMessage"].is_string(), "{bin}: {v}");
    assert_eq!(v["stackTrace"], serde_json::json!([]), "{bin}: {v}");
    v
}

/// Deterministic pseudo-random bytes (xorshift), different for each `seed`.
pub fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// A free loopback port with nothing listening on it (bound, then released).
pub fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    l.local_addr().expect("local_addr").port()
}

/// A raw `/next` reply for `id` whose head is exactly `len` bytes (padded with an `X-Pad`
/// header), with the two-byte body `{}`.
pub fn padded_head(id: &str, len: usize) -> Vec<u8> {
    let start = format!("HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: {id}\r\nContent-Length: 2\r\nX-Pad: ");
    let pad = len - start.len() - 4;
    let mut raw = start.into_bytes();
    raw.extend(std::iter::repeat_n(b'p', pad));
    raw.extend_from_slice(b"\r\n\r\n{}");
    assert_eq!(raw.len(), len + 2);
    raw
}

/// The `name=value` lines of a fixture-c report of `lambda_libc.h` status codes.
pub fn statuses(bin: &Bin, body: &[u8]) -> std::collections::BTreeMap<String, i64> {
    let text = std::str::from_utf8(body).unwrap_or_else(|_| panic!("{bin}: report is not UTF-8"));
    text.lines()
        .map(|line| {
            let (name, value) = line.split_once('=').unwrap_or_else(|| panic!("{bin}: bad line {line:?}"));
            (name.to_owned(), value.parse().unwrap_or_else(|_| panic!("{bin}: bad number in {line:?}")))
        })
        .collect()
}

// lambda_libc.h's status codes, as the fixture-c reports print them.
pub const LAMBDA_OK: i64 = 0;
pub const LAMBDA_E_NULL: i64 = -1;
pub const LAMBDA_E_STATE: i64 = -2;

/// The child processes of `pid` (a supervisor's workers).
pub fn workers_of(pid: u32) -> Vec<u32> {
    let children = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap_or_default();
    children.split_whitespace().filter_map(|p| p.parse().ok()).collect()
}
