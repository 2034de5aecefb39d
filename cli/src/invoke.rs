//! One invocation of a bootstrap against the in-process mock Runtime API
//! (`lambda_libc_mock`), with a Lambda-like environment: the answer's body goes to stdout;
//! the bootstrap's own stdout and stderr, timing and sizes go to stderr.

use std::ffi::OsString;
use std::io::Write as _;
use std::os::fd::AsFd as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use lambda_libc_mock::{AnswerKind, DEFAULT_FUNCTION_ARN, Event, MockServer, Route, Script};

use crate::arch::{ARM64, Arch};
use crate::error::{Context, Result};

/// How long to wait for the answer.
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);

/// Where Debian's `libc6-arm64-cross` puts the arm64 loader and libc, for qemu-user's `-L`.
pub const ARM64_SYSROOT: &str = "/usr/aarch64-linux-gnu";

/// Parses one `--env NAME=VALUE` argument (of `cargo lambda-libc invoke` and `cargo xtask
/// invoke`) into [`Options::env`]'s pair.
pub fn parse_env(pair: &str) -> std::result::Result<(String, String), String> {
    let (name, value) = pair.split_once('=').ok_or_else(|| format!("`{pair}` is not NAME=VALUE"))?;
    Ok((name.to_owned(), value.to_owned()))
}

/// What to run, how, and with what event.
pub struct Options {
    /// The event.
    pub payload: Vec<u8>,
    /// The bootstrap ELF.
    pub bootstrap: PathBuf,
    /// What starts it: `[]` to run it directly, else a program and its arguments, given the
    /// bootstrap as the last argument (a dynamic loader, qemu-user: see [`runner`]).
    pub runner: Vec<OsString>,
    /// Extra `NAME=VALUE` environment for the bootstrap (it inherits nothing else).
    pub env: Vec<(String, String)>,
    /// Its sizes, for the summary line (`ELF <bytes> B, zip <bytes> B`).
    pub sizes: String,
}

/// What starts a bootstrap for `arch` on this machine: `loader` if given (for systems
/// without the FHS loader the bootstraps name, such as NixOS), directly on the machine's
/// own architecture, and arm64 on x86_64 under qemu-user with Debian's arm64 libc.
pub fn runner(arch: &Arch, loader: Option<&Path>) -> Result<Vec<OsString>> {
    if let Some(loader) = loader {
        return Ok(vec![loader.into()]);
    }
    if Arch::host().is_some_and(|host| host == arch) {
        return Ok(Vec::new());
    }
    let install = "on Debian: `apt-get install qemu-user libc6-arm64-cross`";
    if *arch != ARM64 {
        return Err(format!("cannot run an {} bootstrap on this machine", arch.name).into());
    }
    let qemu = std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join("qemu-aarch64"))
        .find(|qemu| qemu.is_file())
        .ok_or_else(|| {
            format!("an arm64 bootstrap runs under qemu-user, and qemu-aarch64 is not on PATH ({install})")
        })?;
    if !Path::new(ARM64_SYSROOT).join(ARM64.interpreter.trim_start_matches('/')).exists() {
        return Err(format!(
            "qemu-user runs an arm64 bootstrap with the arm64 libc in {ARM64_SYSROOT}, which is missing ({install})"
        )
        .into());
    }
    Ok(vec![qemu.into(), "-L".into(), ARM64_SYSROOT.into()])
}

/// The function's answer.
pub struct Answer {
    /// `/response` or `/error`.
    pub kind: AnswerKind,
    /// The body it posted.
    pub body: Vec<u8>,
    /// `Lambda-Runtime-Function-Error-Type` of an `/error`.
    pub error_type: Option<String>,
}

impl Answer {
    /// Writes the body to stdout (with a final newline); for an `/error`, also its type on
    /// stderr.
    pub fn print(&self) -> Result {
        let mut stdout = std::io::stdout().lock();
        stdout.write_all(&self.body).context("writing stdout")?;
        if !self.body.ends_with(b"\n") {
            stdout.write_all(b"\n").context("writing stdout")?;
        }
        stdout.flush().context("writing stdout")?;
        if let Some(error_type) = &self.error_type {
            eprintln!("the function answered /error, Lambda-Runtime-Function-Error-Type: {error_type}");
        }
        Ok(())
    }
}

/// Runs the bootstrap once: starts the mock with one event, waits for the answer (or an
/// init error, or the bootstrap's exit) and stops the bootstrap. An init error, no answer,
/// or an exit without one are errors.
pub fn invoke(options: Options) -> Result<Answer> {
    let Options { payload, bootstrap, runner, env, sizes } = options;
    // Absolute, because the child runs in the bootstrap's directory.
    let bootstrap = std::fs::canonicalize(&bootstrap).context(format_args!("cannot find {}", bootstrap.display()))?;
    let server =
        MockServer::start(Script::new().event(Event::json(payload))).context("cannot start the mock Runtime API")?;
    let started = Instant::now();
    let mut child = lambda_command(&bootstrap, &runner, &server.runtime_api())?
        .envs(env)
        .spawn()
        .context(format_args!("cannot run {}", bootstrap.display()))?;

    // Wait for an answer (or an init error), noticing if the bootstrap dies first.
    let mut exited = None;
    let finished = |reqs: &[lambda_libc_mock::Request]| {
        reqs.iter().any(|r| matches!(r.route, Route::Response(_) | Route::Error(_) | Route::InitError))
    };
    while started.elapsed() < ANSWER_TIMEOUT {
        if server.wait_until(Duration::from_millis(20), finished) {
            break;
        }
        exited = child.try_wait().context("waiting for the bootstrap")?;
        if exited.is_some() {
            // Give requests already on the wire a moment to be recorded.
            server.wait_until(Duration::from_millis(200), finished);
            break;
        }
    }
    let elapsed = started.elapsed();
    if exited.is_none() {
        let _ = child.kill();
        let _ = child.wait();
    }
    let requests = server.requests();
    drop(server);

    if let Some(init) = requests.iter().find(|r| r.route == Route::InitError) {
        return Err(format!(
            "the bootstrap reported an init error after {elapsed:.1?} ({sizes}): {} {}",
            init.header("Lambda-Runtime-Function-Error-Type").unwrap_or("-"),
            init.body_str()
        )
        .into());
    }
    let answer = requests.iter().find_map(|r| match &r.route {
        Route::Response(_) => Some((AnswerKind::Response, r)),
        Route::Error(_) => Some((AnswerKind::Error, r)),
        _ => None,
    });
    let Some((kind, request)) = answer else {
        let why = match exited {
            Some(status) => format!("the bootstrap exited ({status}) without answering"),
            None => format!("no answer within {ANSWER_TIMEOUT:?}"),
        };
        return Err(format!("{why}; {} request(s) seen ({sizes})", requests.len()).into());
    };
    eprintln!("/{} after {elapsed:.1?} ({sizes}) from {}", kind.as_str(), bootstrap.display());
    let error_type = (kind == AnswerKind::Error)
        .then(|| request.header("Lambda-Runtime-Function-Error-Type").unwrap_or("(none)").to_owned());
    Ok(Answer { kind, body: request.body.clone(), error_type })
}

/// The bootstrap with a Lambda-like environment (and nothing inherited from cargo).
fn lambda_command(bootstrap: &Path, runner: &[OsString], runtime_api: &str) -> Result<Command> {
    let task_root = bootstrap.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = DEFAULT_FUNCTION_ARN.rsplit(':').next().unwrap_or("mock");
    // The bootstrap's stdout is its log: keep it off our stdout, which carries the answer.
    let log = std::io::stderr().as_fd().try_clone_to_owned().context("dup stderr")?;
    let mut cmd = match runner.split_first() {
        Some((program, args)) => {
            let mut cmd = Command::new(program);
            cmd.args(args).arg(bootstrap);
            cmd
        }
        None => Command::new(bootstrap),
    };
    cmd.env_clear()
        .envs(lambda_libc_mock::lambda_environment(runtime_api, name, task_root))
        .current_dir(task_root)
        .stdin(Stdio::null())
        .stdout(Stdio::from(log));
    Ok(cmd)
}
