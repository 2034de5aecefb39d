//! What the integration tests do when something they rely on is missing from the machine (a
//! Python package, checkov, IPv6 loopback): they print `SKIPPED: ...` on stderr and pass,
//! unless `LAMBDA_LIBC_REQUIRE_TOOLS=1` (set by `.ci/run`) makes the absence a failure.
#![allow(dead_code)]

use std::process::{Command, Stdio};

/// Set to `1` to fail, instead of skip, the tests whose tools are missing.
pub const REQUIRE_TOOLS_VAR: &str = "LAMBDA_LIBC_REQUIRE_TOOLS";

/// Call when `what` is missing, then return from the test: panics under
/// `LAMBDA_LIBC_REQUIRE_TOOLS=1`, else prints `SKIPPED: <what>` on stderr.
pub fn skip(what: &str) {
    if std::env::var(REQUIRE_TOOLS_VAR).as_deref() == Ok("1") {
        panic!("{what} ({REQUIRE_TOOLS_VAR}=1)");
    }
    eprintln!("SKIPPED: {what}");
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
