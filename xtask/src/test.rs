//! `cargo xtask test`: the project's one test command (README and CI run exactly this). The
//! Nix flake's checks run some of its steps (`--step`), with the same commands.

use std::fs;
use std::path::Path;
use std::process::Command;

use cargo_lambda_libc::builder::{C_API, C_API_STREAM};

use crate::dist;
use crate::util::{Context, Result, Workspace, cargo, run};

/// A step of `cargo xtask test`, in the order they run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Step {
    /// cargo fmt --all --check
    Fmt,
    /// cargo clippy -D warnings: the workspace, lambda-libc with each C API feature, and the
    /// JSON API example
    Clippy,
    /// cargo xtask dist
    Dist,
    /// cargo test: the workspace against dist/, and lambda-libc with the C API
    Tests,
    /// cargo install cargo-lambda-libc, then new, build --arch all, invoke: a Rust and a C
    /// function project outside the repository, and a Rust one built twice
    NewProject,
    /// cargo xtask rehearse: the flake's derivations as its sandbox builds them
    Rehearse,
    /// cargo xtask repro: dist from another copy of the sources
    Repro,
    /// cargo xtask fuzz: each cargo-fuzz target for 60 s (nightly)
    Fuzz,
}

/// The variable that names the file where skipped tests write why (`tests/tests/tools/mod.rs`).
pub const SKIP_LOG_VAR: &str = "LAMBDA_LIBC_SKIP_LOG";

/// Runs `steps` (every step when empty), in [`Step`] order. `tested` is what the `tests`
/// step tests: an `xtask dist --out` directory (default: dist/).
pub fn test(ws: &Workspace, steps: &[Step], tested: Option<&Path>) -> Result {
    use clap::ValueEnum as _;
    let all = Step::value_variants();
    let chosen: Vec<Step> = all.iter().copied().filter(|s| steps.is_empty() || steps.contains(s)).collect();
    for (i, &step) in chosen.iter().enumerate() {
        let name = step.to_possible_value().map(|v| v.get_name().to_owned()).unwrap_or_default();
        let about = step.to_possible_value().and_then(|v| v.get_help().map(ToString::to_string)).unwrap_or_default();
        eprintln!("\nxtask: ==== {}/{} {name}: {about} ====", i + 1, chosen.len());
        run_step(ws, step, tested)
            .map_err(|e| -> crate::util::Error { format!("step `{name}` failed: {e}").into() })?;
    }
    eprintln!("xtask: test: all {} steps passed", chosen.len());
    Ok(())
}

fn run_step(ws: &Workspace, step: Step, tested: Option<&Path>) -> Result {
    let cargo_in_root = |args: &[&str]| -> Command {
        let mut cmd = cargo();
        cmd.current_dir(&ws.root).args(args);
        cmd
    };
    match step {
        Step::Fmt => run(&mut cargo_in_root(&["fmt", "--all", "--check"])),
        Step::Clippy => {
            run(&mut cargo_in_root(&["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]))?;
            // The plain C API, the one with streaming, and with every feature (which the tests
            // use).
            for features in [C_API, C_API_STREAM, dist::ALL_FEATURES] {
                let lib = ["-p", "lambda-libc", "--features", features, "--all-targets"];
                run(cargo_in_root(&["clippy"]).args(lib).args(["--", "-D", "warnings"]))?;
            }
            // The JSON API example, which the workspace's run leaves out (its feature is off).
            let api = ["-p", "lambda-libc-example", "--features", dist::RUST_API_FEATURE, "--bins"];
            run(cargo_in_root(&["clippy"]).args(api).args(["--", "-D", "warnings"]))?;
            Ok(())
        }
        Step::Dist => dist::dist(ws, &dist::Options::all(ws)).map(drop),
        Step::Tests => {
            let tested = tested.unwrap_or(&ws.dist);
            let skip_log = ws.target.join("skipped-tests.txt");
            fs::create_dir_all(&ws.target).context("cannot create the target directory")?;
            fs::write(&skip_log, b"").context(format_args!("cannot empty {}", skip_log.display()))?;
            let with_env = |cmd: &mut Command| {
                cmd.env("LAMBDA_LIBC_BIN_DIR", tested.join("bin"))
                    .env("LAMBDA_LIBC_DIST_DIR", tested)
                    .env(SKIP_LOG_VAR, &skip_log);
            };
            let mut tests = cargo_in_root(&["test", "--workspace"]);
            with_env(&mut tests);
            let result = run(&mut tests).and_then(|()| {
                // Unit tests and doctests of the library with the C API (which defines a C
                // program's panic handler only where it is built to abort, so that the
                // doctests link).
                let mut c_api = cargo_in_root(&["test", "-p", "lambda-libc", "--features", dist::ALL_FEATURES]);
                with_env(&mut c_api);
                run(&mut c_api)
            });
            let skipped = fs::read_to_string(&skip_log).unwrap_or_default();
            if skipped.is_empty() {
                eprintln!("xtask: tests: none skipped");
            } else {
                eprint!("xtask: tests: SKIPPED {}:\n{skipped}", skipped.lines().count());
            }
            result
        }
        Step::NewProject => crate::new_project::new_project(ws),
        Step::Rehearse => crate::rehearse::rehearse(ws),
        Step::Repro => crate::repro::repro(ws),
        Step::Fuzz => crate::fuzz::fuzz(ws, crate::fuzz::CI_SECONDS),
    }
}
