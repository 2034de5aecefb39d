//! `cargo xtask test`: the project's one test command (README and CI run exactly this).

use std::process::Command;

use crate::dist;
use crate::util::{Result, Workspace, cargo, run};

pub fn test(ws: &Workspace) -> Result {
    fn step<T>(name: &str, result: Result<T>) -> Result<T> {
        result.map_err(|e| -> crate::util::Error { format!("step `{name}` failed: {e}").into() })
    }
    let cargo_in_root = |args: &[&str]| -> Command {
        let mut cmd = cargo();
        cmd.current_dir(&ws.root).args(args);
        cmd
    };

    banner("1/6 cargo fmt --all --check");
    step("fmt", run(&mut cargo_in_root(&["fmt", "--all", "--check"])))?;

    banner("2/6 cargo clippy --workspace --all-targets -- -D warnings (and lambda-libc with the C API)");
    step("clippy", run(&mut cargo_in_root(&["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"])))?;
    // The plain C API and the one with streaming (a superset, which the tests use).
    let c_api_plain = ["-p", "lambda-libc", "--features", dist::C_API, "--all-targets"];
    step("clippy c-api", run(cargo_in_root(&["clippy"]).args(c_api_plain).args(["--", "-D", "warnings"])))?;
    let c_api = ["-p", "lambda-libc", "--features", dist::C_API_STREAM, "--all-targets"];
    step("clippy c-api-stream", run(cargo_in_root(&["clippy"]).args(c_api).args(["--", "-D", "warnings"])))?;

    banner("3/6 dist (zig build, zips, verifier)");
    let arches = step("dist", dist::dist(ws))?;

    banner("4/6 cargo test --workspace");
    let mut tests = cargo_in_root(&["test", "--workspace"]);
    // Every architecture built: the harness runs the arm64 ones under qemu-user.
    let bin_dirs = std::env::join_paths(arches.iter().map(|a| ws.release_dir(a.rust_target)))?;
    tests.env("LAMBDA_LIBC_BIN_DIR", bin_dirs).env("LAMBDA_LIBC_DIST_DIR", &ws.dist);
    step("cargo test", run(&mut tests))?;
    // Unit tests and doctests of the library with the C API (which defines a C program's
    // panic handler only where it is built to abort, so that the doctests link).
    let c_api_tests = ["test", "-p", "lambda-libc", "--features", dist::C_API_STREAM];
    step("cargo test c-api", run(&mut cargo_in_root(&c_api_tests)))?;

    banner("5/6 reproducibility (dist from two more copies of the sources)");
    step("repro", crate::repro::repro(ws))?;

    banner("6/6 fuzz (each cargo-fuzz target for 60 s, nightly)");
    step("fuzz", crate::fuzz::fuzz(ws, crate::fuzz::CI_SECONDS))?;

    eprintln!("xtask: test: all 6 steps passed");
    Ok(())
}

fn banner(title: &str) {
    eprintln!("\nxtask: ==== {title} ====");
}
