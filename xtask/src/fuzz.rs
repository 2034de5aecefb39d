//! `cargo xtask fuzz [SECONDS]`: runs every cargo-fuzz target of `fuzz/` for `SECONDS`
//! (default [`CI_SECONDS`]) with libFuzzer, on nightly, starting from the committed seed
//! corpus (`fuzz/corpus/<target>`, the golden cases). The working corpus and the build live
//! under `target/fuzz/`, so the committed seeds stay as they are. A crash fails the run and
//! names the input: fix it, then keep the input in `fuzz/regressions/<target>/`, which
//! `tests/tests/fuzz_replay.rs` replays on stable in every test run. New seeds are added on
//! purpose only: `cargo xtask fuzz --add-to-seeds` ([`add_to_seeds`]).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::dist::require_tools;
use crate::util::{Context, Result, Workspace};

/// The targets: `fuzz/fuzz_targets/<name>.rs`.
pub const TARGETS: [&str; 3] = ["head", "chunked", "context"];
/// How long `cargo xtask test` fuzzes each target.
pub const CI_SECONDS: u32 = 60;

pub fn fuzz(ws: &Workspace, seconds: u32) -> Result {
    let available = Command::new("rustup").args(["run", "nightly", "cargo", "fuzz", "--version"]).output();
    if !available.is_ok_and(|o| o.status.success()) {
        let why = "cargo-fuzz on a nightly toolchain is not installed (cargo install --locked cargo-fuzz)";
        if require_tools() {
            return Err(format!("{why} (LAMBDA_LIBC_REQUIRE_TOOLS=1)").into());
        }
        eprintln!("xtask: fuzz: SKIPPED: {why}");
        return Ok(());
    }
    let mut report = Vec::new();
    for target in TARGETS {
        let corpus = working_corpus(ws, target);
        fs::create_dir_all(&corpus).context(format_args!("cannot create {}", corpus.display()))?;
        // Every seed, replacing a working copy of the same name (a seed edited in git).
        copy_files(&seeds(ws, target), &corpus, Replace::Yes)?;
        let mut cmd = cargo_fuzz(ws, "run", target);
        cmd.args(["--", &format!("-max_total_time={seconds}"), "-print_final_stats=1"]);
        eprintln!("xtask: fuzz: {target} for {seconds} s");
        let out = cmd.output().context("cannot start cargo fuzz")?;
        let stderr = String::from_utf8_lossy(&out.stderr);
        if !out.status.success() {
            let tail: Vec<&str> = stderr.lines().rev().take(40).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            return Err(format!(
                "fuzz target `{target}` failed ({}): fix the bug, then keep the input named above in \
                 fuzz/regressions/{target}/\n{}",
                out.status,
                tail.join("\n")
            )
            .into());
        }
        let stat = |name: &str| {
            stderr.lines().find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_owned())).unwrap_or_default()
        };
        let corpus_files = fs::read_dir(&corpus).map(|d| d.count()).unwrap_or(0);
        report.push(format!(
            "{target}: {} executions in {seconds} s ({}/s), corpus {corpus_files} inputs, no crash",
            stat("stat::number_of_executed_units:"),
            stat("stat::average_exec_per_sec:"),
        ));
    }
    for line in report {
        eprintln!("xtask: fuzz: {line}");
    }
    Ok(())
}

/// Minimises each target's working corpus (`cargo fuzz cmin`: the fewest inputs with the same
/// coverage) and copies the inputs that are not seeds yet into `fuzz/corpus/<target>/`.
pub fn add_to_seeds(ws: &Workspace) -> Result {
    for target in TARGETS {
        crate::util::run(&mut cargo_fuzz(ws, "cmin", target))
            .context(format_args!("minimising the corpus of {target}"))?;
        let seeds = seeds(ws, target);
        let added = copy_files(&working_corpus(ws, target), &seeds, Replace::No)?;
        eprintln!("xtask: fuzz: {target}: {added} new seed(s) in {}", ws.show(&seeds));
    }
    Ok(())
}

/// The committed seeds of `target`.
fn seeds(ws: &Workspace, target: &str) -> PathBuf {
    ws.root.join("fuzz/corpus").join(target)
}

/// The corpus `target` is fuzzed with, which grows: under `target/`, never committed.
fn working_corpus(ws: &Workspace, target: &str) -> PathBuf {
    ws.target.join("fuzz/corpus").join(target)
}

/// `cargo fuzz <verb> -O <target> <working corpus>` on nightly, built under `target/fuzz/`.
fn cargo_fuzz(ws: &Workspace, verb: &str, target: &str) -> Command {
    let mut cmd = Command::new("rustup");
    cmd.current_dir(ws.root.join("fuzz")).args(["run", "nightly", "cargo", "fuzz", verb, "-O"]);
    cmd.arg("--target-dir").arg(ws.target.join("fuzz/build")).arg(target).arg(working_corpus(ws, target));
    cmd
}

/// Whether [`copy_files`] replaces a file of the same name.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Replace {
    Yes,
    No,
}

/// Copies the files of `from` into `to`; returns how many were copied.
fn copy_files(from: &Path, to: &Path, replace: Replace) -> Result<usize> {
    let mut copied = 0;
    for file in fs::read_dir(from).context(format_args!("cannot list {}", from.display()))? {
        let file = file.context(format_args!("listing {}", from.display()))?.path();
        let Some(name) = file.file_name() else { continue };
        if replace == Replace::Yes || !to.join(name).exists() {
            fs::copy(&file, to.join(name)).context(format_args!("cannot copy {}", file.display()))?;
            copied += 1;
        }
    }
    Ok(copied)
}
