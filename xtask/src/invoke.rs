//! `cargo xtask invoke`: one invocation of a bootstrap against the in-process mock Runtime
//! API (`lambda_libc_mock`). The answer's body goes to stdout; everything else (build
//! output, the bootstrap's own stdout/stderr, timing, sizes) goes to stderr.

use std::io::Write as _;
use std::os::fd::AsFd as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use lambda_libc_mock::{AnswerKind, DEFAULT_FUNCTION_ARN, Event, MockServer, Route, Script};

use crate::dist::{self, BOOTSTRAPS, Source, X86_64};
use crate::util::{Context, Result, Workspace, read};

/// How long to wait for the answer.
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);

pub enum Payload {
    Json(String),
    File(PathBuf),
}

pub struct Options {
    pub payload: Payload,
    /// Run this ELF instead of building and running the echo bootstrap.
    pub bootstrap: Option<PathBuf>,
    /// Start the bootstrap through this dynamic loader (`<loader> <bootstrap>`), for systems
    /// without the FHS loader the bootstraps name (NixOS).
    pub loader: Option<PathBuf>,
    /// Extra `NAME=VALUE` environment for the bootstrap (it inherits nothing else).
    pub env: Vec<(String, String)>,
    /// Run the C echo bootstrap instead of the Rust one.
    pub c: bool,
}

/// Runs one invocation; `workspace` is called only when the echo must be built (no
/// `--bootstrap`).
pub fn invoke(workspace: impl FnOnce() -> Result<Workspace>, options: Options) -> Result {
    let payload = match options.payload {
        Payload::Json(json) => json.into_bytes(),
        Payload::File(path) => read(&path)?,
    };
    let (bootstrap, zip_bytes) = match options.bootstrap {
        Some(path) => (path, None),
        None => {
            // Cargo is incremental: always building is the simplest "is it up to date?".
            let ws = workspace()?;
            let dist = dist::Options::all(&ws);
            let arches = dist::build(&ws, &dist)?;
            let built = dist::package(&dist, &arches, &mut std::io::stderr())?;
            if let Err(e) = dist::fail_on_problems(&built) {
                eprintln!("xtask: warning: {e}");
            }
            // The host's (x86_64) echo in the language asked for; `package` lists the
            // bootstraps first, in table order.
            let i = BOOTSTRAPS
                .iter()
                .position(|b| b.arch.name == X86_64.name && matches!(b.source, Source::C { .. }) == options.c)
                .ok_or("no such bootstrap in dist's table")?;
            let b = &BOOTSTRAPS[i];
            (dist.bin_dir().join(dist::bin_name(&b.source, b.arch)), built[i].zip_bytes)
        }
    };
    // Absolute, because the child runs in the bootstrap's directory.
    let bootstrap = std::fs::canonicalize(&bootstrap).context(format_args!("cannot find {}", bootstrap.display()))?;
    let elf_bytes = std::fs::metadata(&bootstrap).context(format_args!("cannot stat {}", bootstrap.display()))?.len();

    let server =
        MockServer::start(Script::new().event(Event::json(payload))).context("cannot start the mock Runtime API")?;
    let started = Instant::now();
    let mut child = lambda_command(&bootstrap, options.loader.as_deref(), &server.runtime_api())?
        .envs(options.env)
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

    let sizes = match zip_bytes {
        Some(zip) => format!("ELF {elf_bytes} B, zip {zip} B"),
        None => format!("ELF {elf_bytes} B"),
    };
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

    let mut stdout = std::io::stdout().lock();
    stdout.write_all(&request.body).context("writing stdout")?;
    if !request.body.ends_with(b"\n") {
        stdout.write_all(b"\n").context("writing stdout")?;
    }
    stdout.flush().context("writing stdout")?;
    if kind == AnswerKind::Error {
        eprintln!(
            "xtask: the function answered /error, Lambda-Runtime-Function-Error-Type: {}",
            request.header("Lambda-Runtime-Function-Error-Type").unwrap_or("(none)")
        );
    }
    eprintln!("xtask: /{} after {elapsed:.1?} ({sizes}) from {}", kind.as_str(), bootstrap.display());
    Ok(())
}

/// The bootstrap with a Lambda-like environment (and nothing inherited from cargo).
fn lambda_command(bootstrap: &Path, loader: Option<&Path>, runtime_api: &str) -> Result<Command> {
    let task_root = bootstrap.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = DEFAULT_FUNCTION_ARN.rsplit(':').next().unwrap_or("mock");
    // The bootstrap's stdout is its log: keep it off our stdout, which carries the answer.
    let log = std::io::stderr().as_fd().try_clone_to_owned().context("dup stderr")?;
    let mut cmd = match loader {
        Some(loader) => {
            let mut cmd = Command::new(loader);
            cmd.arg(bootstrap);
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
