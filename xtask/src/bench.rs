//! `cargo xtask bench`: builds the candidates and runs the harness (`bench/`, binary
//! `lambda-libc-bench`) pinned to one CPU with `taskset`; see docs/BENCHMARKS.md.
//!
//! Candidates: our x86_64 bootstraps from `dist` (the arm64 ones would run under qemu-user
//! here, which measures qemu: skipped), the floor `bench/floor/floor.c` (zig cc, glibc 2.34,
//! `-O2`) and the peer `bench/peers/lambda-runtime` (the registry's `lambda_runtime`, its own
//! Cargo.lock and size profile, the host linker). The floor's and the peer's zips are made
//! by [`dist::deployment_zip`], as ours are.
//!
//! Then the concurrency run (binary `lambda-libc-bench-concurrency`, not pinned, so that
//! workers can run side by side): the Rust fixture from `dist` with `FIXTURE_LOOP=run` and 1,
//! 2 and 4 workers (`AWS_LAMBDA_MAX_CONCURRENCY`), and the floor's single loop.
//!
//! Outputs go to `target/bench/`; a full run (not `--quick`) also refreshes
//! `docs/bench/results.json`, `docs/bench/concurrency.json`, `docs/bench/latency.svg` and the
//! two results sections of `docs/BENCHMARKS.md`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

use cargo_lambda_libc::arch::X86_64;
use cargo_lambda_libc::archive::deployment_zip;
use cargo_lambda_libc::zig::ZIG_VERSION;

use crate::dist::{self, BOOTSTRAPS};
use crate::util::{Context, Result, Workspace, cargo, hex, output, read, run, write_if_changed};

/// The floor's source and compiler flags (after zig's `-target`).
pub const FLOOR_SOURCE: &str = "bench/floor/floor.c";
pub const FLOOR_CFLAGS: &[&str] = &["-O2", "-s", "-Wall", "-Wextra", "-Werror"];
/// The peer's crate (excluded from the workspace).
pub const PEER_DIR: &str = "bench/peers/lambda-runtime";
pub const PEER_BIN: &str = "bootstrap-lambda-runtime";
/// Where docs/BENCHMARKS.md's generated results start and end.
pub const BEGIN: &str = "<!-- cargo xtask bench: results begin -->";
pub const END: &str = "<!-- cargo xtask bench: results end -->";
/// Where docs/BENCHMARKS.md's generated concurrency results start and end.
pub const CONCURRENCY_BEGIN: &str = "<!-- cargo xtask bench: concurrency begin -->";
pub const CONCURRENCY_END: &str = "<!-- cargo xtask bench: concurrency end -->";
/// The bootstrap of the concurrency run (in dist's `bin/`): the Rust fixture, built with the
/// feature `concurrency`, echoing with [`FIXTURE_ENV`].
pub const FIXTURE: &str = "fixture";
pub const FIXTURE_ENV: &str = "FIXTURE_LOOP=run";
/// The numbers of workers of the concurrency run.
pub const WORKERS: &str = "1,2,4";

#[derive(Debug, Default)]
pub struct Options {
    /// A short run for trying things: one round, few invocations, docs/ untouched.
    pub quick: bool,
    pub repeats: Option<usize>,
    pub invocations: Option<usize>,
    pub large_invocations: Option<usize>,
    /// The CPU to pin to (default: the last one this process may use).
    pub cpu: Option<usize>,
    /// Invocations per run of the concurrency run.
    pub concurrency_invocations: Option<usize>,
}

pub fn bench(ws: &Workspace, o: &Options) -> Result {
    let out = ws.target.join("bench");
    fs::create_dir_all(&out).context("cannot create target/bench")?;

    // Ours: every zip of dist (verified), of which the x86_64 echoes run here (arm64 would
    // measure qemu; a streaming echo answers on a connection of its own per invocation, by
    // design, and has no buffered peer to compare with; the JSON API is no echo).
    let dist = dist::Options::all(ws);
    dist::dist(ws, &dist)?;
    let ours: Vec<(String, PathBuf, PathBuf)> = BOOTSTRAPS
        .iter()
        .filter(|b| b.arch.name == X86_64.name && !b.zip.contains("-stream-") && !b.zip.contains("-api-"))
        .map(|b| (b.name().to_owned(), dist.bin_dir().join(dist::bin_name(&b.source, b.arch)), dist.out.join(b.zip)))
        .collect();

    // The floor, with the same zig cc and glibc 2.34 as ours.
    let cc = ws.zig()?.linker_wrapper(&X86_64)?;
    let floor = out.join("floor");
    run(Command::new(&cc).args(FLOOR_CFLAGS).arg("-o").arg(&floor).arg(ws.root.join(FLOOR_SOURCE)))
        .context("building the floor")?;

    // The peer: its own lock file and profile, the host's linker.
    let peer_target = out.join("peer");
    let mut build = cargo();
    build.current_dir(ws.root.join(PEER_DIR)).args(["build", "--release", "--locked", "--target", X86_64.rust_target]);
    run(build.arg("--target-dir").arg(&peer_target)).context("building the peer (bench/peers/lambda-runtime)")?;
    let peer = peer_target.join(X86_64.rust_target).join("release").join(PEER_BIN);

    let floor_zip = zip_cached(&floor, &out.join("zip/floor.zip"))?;
    let peer_zip = zip_cached(&peer, &out.join("zip/lambda_runtime.zip"))?;

    // The harness, optimised for speed (profile `harness`).
    run(cargo().current_dir(&ws.root).args(["build", "--profile", "harness", "-p", "lambda-libc-bench"]))?;
    let harness = ws.target.join("harness").join("lambda-libc-bench");

    let cpu = match o.cpu {
        Some(cpu) => cpu,
        None => allowed_cpus()?.into_iter().max().ok_or("no CPU in this process's affinity")?,
    };
    let (repeats, invocations, large, strace, callgrind) =
        if o.quick { (1, 500, 10, 50, 20) } else { (7, 5_000, 200, 200, 200) };
    let mut cmd = Command::new("taskset");
    cmd.arg("-c").arg(cpu.to_string()).arg(&harness);
    cmd.args(["--repeats", &o.repeats.unwrap_or(repeats).to_string()]);
    cmd.args(["--invocations", &o.invocations.unwrap_or(invocations).to_string()]);
    cmd.args(["--large-invocations", &o.large_invocations.unwrap_or(large).to_string()]);
    cmd.args(["--strace-invocations", &strace.to_string()]);
    cmd.args(["--callgrind-invocations", &callgrind.to_string()]);
    for (name, elf, zip) in &ours {
        cmd.arg("--ours").arg(format!("{name}={}", elf.display()));
        cmd.arg("--zip").arg(format!("{name}={}", zip.display()));
    }
    cmd.arg("--floor").arg(format!("floor={}", floor.display()));
    cmd.arg("--zip").arg(format!("floor={}", floor_zip.display()));
    cmd.arg("--peer").arg(format!("lambda_runtime={}", peer.display()));
    cmd.arg("--zip").arg(format!("lambda_runtime={}", peer_zip.display()));
    for (key, value) in meta(ws) {
        cmd.arg("--meta").arg(format!("{key}={value}"));
    }
    cmd.arg("--out").arg(&out);
    run(&mut cmd).context("the benchmark (target/bench/logs has the candidates' output)")?;

    // The concurrency run, not pinned: the workers and the server's threads need every CPU.
    let fixture = dist.bin_dir().join(FIXTURE);
    let concurrency = ws.target.join("harness").join("lambda-libc-bench-concurrency");
    let (repeats, invocations) = if o.quick { (1, 2_000) } else { (7, 20_000) };
    let mut cmd = Command::new(&concurrency);
    cmd.args(["--repeats", &o.repeats.unwrap_or(repeats).to_string()]);
    cmd.args(["--invocations", &o.concurrency_invocations.unwrap_or(invocations).to_string()]);
    cmd.args(["--workers", WORKERS, "--env", FIXTURE_ENV]);
    cmd.arg("--ours").arg(format!("{FIXTURE}={}", fixture.display()));
    cmd.arg("--floor").arg(format!("floor={}", floor.display()));
    for (key, value) in meta(ws) {
        cmd.arg("--meta").arg(format!("{key}={value}"));
    }
    cmd.arg("--out").arg(&out);
    run(&mut cmd).context("the concurrency run (target/bench/logs has the candidates' output)")?;

    if o.quick {
        eprintln!("xtask: bench --quick: results in {} (docs/ untouched)", ws.show(&out));
        return Ok(());
    }
    let docs = ws.root.join("docs");
    write_if_changed(&docs.join("bench/results.json"), &read(&out.join("results.json"))?)?;
    write_if_changed(&docs.join("bench/latency.svg"), &read(&out.join("latency.svg"))?)?;
    write_if_changed(&docs.join("bench/concurrency.json"), &read(&out.join("concurrency.json"))?)?;
    let md = String::from_utf8(read(&out.join("results.md"))?).context("results.md")?;
    let concurrency_md = String::from_utf8(read(&out.join("concurrency.md"))?).context("concurrency.md")?;
    let doc_path = docs.join("BENCHMARKS.md");
    let doc = String::from_utf8(read(&doc_path)?).context("docs/BENCHMARKS.md")?;
    let doc = splice_concurrency(&splice(&doc, &md)?, &concurrency_md)?;
    write_if_changed(&doc_path, doc.as_bytes())?;
    eprintln!(
        "xtask: bench: updated docs/bench/results.json, docs/bench/concurrency.json, docs/bench/latency.svg and \
         docs/BENCHMARKS.md"
    );
    Ok(())
}

/// `doc` with the text between [`BEGIN`] and [`END`] replaced by `results`.
pub fn splice(doc: &str, results: &str) -> Result<String> {
    crate::util::splice(doc, BEGIN, END, results).context("docs/BENCHMARKS.md")
}

/// `doc` with the text between [`CONCURRENCY_BEGIN`] and [`CONCURRENCY_END`] replaced by
/// `results`.
pub fn splice_concurrency(doc: &str, results: &str) -> Result<String> {
    crate::util::splice(doc, CONCURRENCY_BEGIN, CONCURRENCY_END, results).context("docs/BENCHMARKS.md")
}

/// Zips `elf` with [`deployment_zip`] into `zip`, unless `zip` was made from the same
/// bytes (zopfli takes about a minute for the peer's 780 KB).
fn zip_cached(elf: &Path, zip: &Path) -> Result<PathBuf> {
    let bytes = read(elf)?;
    let stamp = zip.with_extension("zip.elf-sha256");
    let sum = hex(&Sha256::digest(&bytes));
    if zip.is_file() && fs::read_to_string(&stamp).is_ok_and(|s| s.trim() == sum) {
        return Ok(zip.to_owned());
    }
    eprintln!("xtask: zipping {} ({} bytes) as dist does", elf.display(), bytes.len());
    write_if_changed(zip, &deployment_zip(&bytes)?)?;
    write_if_changed(&stamp, sum.as_bytes())?;
    Ok(zip.to_owned())
}

/// The CPUs `taskset -p` says this process may use.
fn allowed_cpus() -> Result<Vec<usize>> {
    let status = fs::read_to_string("/proc/self/status").context("reading /proc/self/status")?;
    let list = status
        .lines()
        .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
        .ok_or("no Cpus_allowed_list in /proc/self/status")?;
    parse_cpu_list(list.trim())
}

/// `0-2,5` as `[0, 1, 2, 5]`.
pub fn parse_cpu_list(list: &str) -> Result<Vec<usize>> {
    let mut cpus = Vec::new();
    for part in list.split(',').filter(|p| !p.is_empty()) {
        let bad = || format!("bad CPU list `{list}`");
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b): (usize, usize) = (a.parse().map_err(|_| bad())?, b.parse().map_err(|_| bad())?);
                cpus.extend(a..=b);
            }
            None => cpus.push(part.parse().map_err(|_| bad())?),
        }
    }
    Ok(cpus)
}

/// Tool versions for results.json.
fn meta(ws: &Workspace) -> Vec<(&'static str, String)> {
    let first_line = |cmd: &mut Command| output(cmd).ok().and_then(|s| s.lines().next().map(str::to_owned));
    let lock = fs::read_to_string(ws.root.join(PEER_DIR).join("Cargo.lock")).unwrap_or_default();
    let locked = |name: &str| {
        let header = format!("name = \"{name}\"\nversion = \"");
        lock.find(&header).and_then(|i| lock[i + header.len()..].split('"').next().map(str::to_owned))
    };
    let mut meta = vec![("zig", ZIG_VERSION.to_owned())];
    if let Some(v) = first_line(cargo().current_dir(&ws.root).args(["--version"])) {
        meta.push(("cargo", v));
    }
    if let Some(v) = first_line(Command::new("git").current_dir(&ws.root).args(["describe", "--always", "--dirty"])) {
        meta.push(("commit", v));
    }
    for name in ["lambda_runtime", "tokio", "hyper", "serde_json"] {
        if let Some(v) = locked(name) {
            meta.push((name, v));
        }
    }
    meta.push(("floor", format!("zig cc -target {} {}", X86_64.zig_target, FLOOR_CFLAGS.join(" "))));
    meta.push((
        "peer",
        "cargo build --release (opt-level z, lto, codegen-units 1, panic abort, strip), host linker".into(),
    ));
    meta
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splices_between_the_markers() {
        let doc = format!("# B\n\nintro\n\n{BEGIN}\nold\n{END}\n\nafter\n");
        let new = splice(&doc, "| a |\n\n").unwrap();
        assert_eq!(new, format!("# B\n\nintro\n\n{BEGIN}\n\n| a |\n{END}\n\nafter\n"));
        assert_eq!(splice(&new, "| a |").unwrap(), new, "idempotent");
        assert!(splice("no markers", "x").is_err());
        let doc = format!("{new}{CONCURRENCY_BEGIN}\nold\n{CONCURRENCY_END}\n");
        let both = splice_concurrency(&doc, "| n |\n").unwrap();
        assert_eq!(both, format!("{new}{CONCURRENCY_BEGIN}\n\n| n |\n{CONCURRENCY_END}\n"));
        assert_eq!(splice(&both, "| a |").unwrap(), both, "the other section is left alone");
    }

    #[test]
    fn cpu_lists() {
        assert_eq!(parse_cpu_list("0-2,5").unwrap(), vec![0, 1, 2, 5]);
        assert_eq!(parse_cpu_list("1").unwrap(), vec![1]);
        assert!(parse_cpu_list("x").is_err());
    }
}
