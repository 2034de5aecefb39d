//! What the integration tests do when something they rely on is missing from the machine (a
//! Python package, checkov, nix), or cannot exist in the Nix sandbox: they print
//! `SKIPPED: ...` on stderr, append the same line to the file named by
//! `LAMBDA_LIBC_SKIP_LOG` (which `cargo xtask test` prints once the tests end), and pass.
//! `LAMBDA_LIBC_REQUIRE_TOOLS=1` (set by `.ci/run`) makes a missing tool a failure instead.
#![allow(dead_code)]

use std::io::Write as _;
use std::process::{Command, Stdio};

/// Set to `1` to fail, instead of skip, the tests whose tools are missing.
pub const REQUIRE_TOOLS_VAR: &str = "LAMBDA_LIBC_REQUIRE_TOOLS";
/// Set to `1` by the Nix flake's checks (nix/checks.nix): the tests run in the sandbox.
pub const SANDBOX_VAR: &str = "LAMBDA_LIBC_SANDBOX";
/// The file every skip is recorded in, one line each (set by `cargo xtask test`).
pub const SKIP_LOG_VAR: &str = "LAMBDA_LIBC_SKIP_LOG";

/// Call when `what` is missing, then return from the test: panics under
/// `LAMBDA_LIBC_REQUIRE_TOOLS=1`, else records `SKIPPED: <test>: <what>`.
pub fn skip(what: &str) {
    if std::env::var(REQUIRE_TOOLS_VAR).as_deref() == Ok("1") {
        panic!("{what} ({REQUIRE_TOOLS_VAR}=1)");
    }
    record(what);
}

/// Call when `what`, a tool CI is not asked to have (the Runtime Interface Emulator), is
/// missing, then return from the test: records `SKIPPED: <test>: <what>`, even under
/// `LAMBDA_LIBC_REQUIRE_TOOLS=1`.
pub fn skip_optional(what: &str) {
    record(what);
}

/// Whether the test runs in the Nix sandbox (`LAMBDA_LIBC_SANDBOX=1`); if so, records
/// `SKIPPED: <test>: in the Nix sandbox: <why>`, and the test returns.
pub fn in_sandbox(why: &str) -> bool {
    let inside = std::env::var(SANDBOX_VAR).as_deref() == Ok("1");
    if inside {
        record(&format!("in the Nix sandbox: {why}"));
    }
    inside
}

fn record(what: &str) {
    let test = std::thread::current().name().unwrap_or("?").to_owned();
    let binary = std::env::current_exe()
        .ok()
        .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .map(|s| s.rsplit_once('-').map_or(s.clone(), |(name, _hash)| name.to_owned()))
        .unwrap_or_default();
    let line = format!("SKIPPED: {binary}::{test}: {what}");
    eprintln!("{line}");
    if let Some(log) = std::env::var_os(SKIP_LOG_VAR) {
        let file = std::fs::OpenOptions::new().create(true).append(true).open(&log);
        // One write per line: the test binaries may record at the same time.
        let _ = file.and_then(|mut f| f.write_all(format!("{line}\n").as_bytes()));
    }
}

/// Whether `python3` is on PATH and imports every module in `modules` (dotted names allowed).
pub fn python_imports(modules: &[&str]) -> bool {
    Command::new("python3")
        .args(["-c", &format!("import {}", modules.join(", "))])
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}
