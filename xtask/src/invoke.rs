//! `cargo xtask invoke`: one invocation of this repository's echo bootstrap (or another
//! ELF) against the in-process mock Runtime API, by the library's `invoke`. The answer's
//! body goes to stdout; everything else (build output, the bootstrap's own stdout/stderr,
//! timing, sizes) goes to stderr.

use std::path::PathBuf;

use cargo_lambda_libc::arch::X86_64;
use cargo_lambda_libc::invoke;

use crate::dist::{self, BOOTSTRAPS, Source};
use crate::util::{Result, Workspace, read};

/// The event.
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
/// `--bootstrap`). An `/error` answer is printed as a response is, with its type on stderr.
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
    let elf_bytes =
        std::fs::metadata(&bootstrap).map_err(|e| format!("cannot stat {}: {e}", bootstrap.display()))?.len();
    let sizes = match zip_bytes {
        Some(zip) => format!("ELF {elf_bytes} B, zip {zip} B"),
        None => format!("ELF {elf_bytes} B"),
    };
    let runner = options.loader.into_iter().map(PathBuf::into_os_string).collect();
    let answer = invoke::invoke(invoke::Options { payload, bootstrap, runner, env: options.env, sizes })?;
    answer.print()
}
