//! `lambda-libc-bench`: measures bootstraps against the harness's loopback Runtime API and
//! writes results.json, results.md and latency.svg. `cargo xtask bench` builds the
//! candidates and runs this under `taskset`; run it directly to measure other bootstraps.

use std::path::PathBuf;
use std::process::ExitCode;

use lambda_libc_bench::{Candidate, Options, Role, bench};

const USAGE: &str = "\
usage: lambda-libc-bench [options] (--ours|--floor|--peer NAME=ELF)... 

Each candidate is an echo bootstrap; the floor and the peer are what the ratios compare
with. Run it pinned to one CPU (taskset -c N lambda-libc-bench ...): the candidates inherit
the affinity.

options:
  --zip NAME=ZIP               the candidate's deployment zip (its size is reported)
  --repeats N                  rounds over all candidates (default 7)
  --invocations N              invocations per run with the 100-byte event (default 5000)
  --large-invocations N        invocations per run with the 5 MiB event (default 200)
  --init-samples N             extra 2-invocation runs per candidate and round, for init (default 20)
  --strace-invocations N       invocations of the strace runs, 0 for none (default 200)
  --callgrind-invocations N    warm invocations counted by callgrind, 0 for none (default 200)
  --out DIR                    where results.json, results.md, latency.svg go (default target/bench)
  --logs DIR                   the candidates' output and strace logs (default OUT/logs)
  --meta KEY=VALUE             a fact recorded in results.json (tool versions, ...)
";

fn main() -> ExitCode {
    match run(std::env::args().skip(1).collect()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("lambda-libc-bench: {e}");
            ExitCode::from(2)
        }
    }
}

fn run(args: Vec<String>) -> Result<ExitCode, String> {
    let mut options = Options::default();
    let mut candidates: Vec<Candidate> = Vec::new();
    let mut zips: Vec<(String, PathBuf)> = Vec::new();
    let mut meta = Vec::new();
    let mut out = PathBuf::from("target/bench");
    let mut logs = None;
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value"));
        let pair = |v: String| -> Result<(String, String), String> {
            v.split_once('=')
                .map(|(a, b)| (a.to_owned(), b.to_owned()))
                .ok_or_else(|| format!("expected NAME=VALUE, got `{v}`"))
        };
        let number = |v: String| v.parse::<usize>().map_err(|_| format!("not a number: `{v}`"));
        match arg.as_str() {
            "--ours" | "--floor" | "--peer" => {
                let role = match arg.as_str() {
                    "--ours" => Role::Ours,
                    "--floor" => Role::Floor,
                    _ => Role::Peer,
                };
                let (name, elf) = pair(value()?)?;
                candidates.push(Candidate { name, role, elf: elf.into(), zip: None });
            }
            "--zip" => {
                let (name, zip) = pair(value()?)?;
                zips.push((name, zip.into()));
            }
            "--repeats" => options.repeats = number(value()?)?.max(1),
            "--invocations" => options.invocations = number(value()?)?,
            "--large-invocations" => options.large_invocations = number(value()?)?,
            "--init-samples" => options.init_samples = number(value()?)?,
            "--strace-invocations" => options.strace_invocations = number(value()?)?,
            "--callgrind-invocations" => options.callgrind_invocations = number(value()?)?,
            "--out" => out = value()?.into(),
            "--logs" => logs = Some(PathBuf::from(value()?)),
            "--meta" => meta.push(pair(value()?)?),
            "-h" | "--help" => {
                print!("{USAGE}");
                return Ok(ExitCode::SUCCESS);
            }
            other => return Err(format!("unknown argument `{other}`\n\n{USAGE}")),
        }
    }
    if candidates.is_empty() {
        return Err(format!("no candidates\n\n{USAGE}"));
    }
    if options.invocations < 2 {
        return Err("--invocations must be at least 2".into());
    }
    for (name, zip) in zips {
        let c = candidates.iter_mut().find(|c| c.name == name).ok_or_else(|| format!("--zip for unknown `{name}`"))?;
        c.zip = Some(zip);
    }
    options.log_dir = logs.unwrap_or_else(|| out.join("logs"));

    let pinned = lambda_libc_bench::pinned_cpus();
    if pinned.len() != 1 {
        eprintln!("lambda-libc-bench: warning: not pinned to one CPU (CPUs {pinned:?}): run it under taskset -c N");
    }
    let mut results = bench(&candidates, &options, &mut |line| eprintln!("lambda-libc-bench: {line}"));
    results.meta = meta;
    results.write(&out).map_err(|e| format!("cannot write into {}: {e}", out.display()))?;
    print!("{}", lambda_libc_bench::report::markdown(&results));
    eprintln!("lambda-libc-bench: wrote {}/results.json, results.md, latency.svg", out.display());
    let failed: Vec<&str> =
        results.measured.iter().filter(|m| m.failure.is_some()).map(|m| m.candidate.name.as_str()).collect();
    if failed.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("lambda-libc-bench: FAILED: {}", failed.join(", "));
        Ok(ExitCode::FAILURE)
    }
}
