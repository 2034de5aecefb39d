//! `lambda-libc-bench`: measures bootstraps against the harness's loopback Runtime API and
//! writes results.json, results.md and latency.svg. `cargo xtask bench` builds the
//! candidates and runs this under `taskset`; run it directly to measure other bootstraps.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::builder::RangedU64ValueParser;
use clap::error::ErrorKind;
use clap::{ArgGroup, ArgMatches, CommandFactory as _, FromArgMatches as _, Parser};

use lambda_libc_bench::{Candidate, Options, Role, bench, parse_pair};

/// Measure echo bootstraps on a loopback Runtime API; write results.json, results.md and
/// latency.svg.
///
/// Each candidate is an echo bootstrap; the floor and the peer are what the ratios compare
/// with. Run it pinned to one CPU (taskset -c N lambda-libc-bench ...): the candidates
/// inherit the affinity.
#[derive(Parser)]
#[command(name = "lambda-libc-bench")]
#[command(group(ArgGroup::new("candidates").args(["ours", "floor", "peer"]).required(true).multiple(true)))]
struct Cli {
    /// One of our bootstraps (the goals apply to it); repeatable
    #[arg(long, value_name = "NAME=ELF", value_parser = parse_pair)]
    ours: Vec<(String, String)>,
    /// The floor the ratios compare with; repeatable
    #[arg(long, value_name = "NAME=ELF", value_parser = parse_pair)]
    floor: Vec<(String, String)>,
    /// A peer, the runtime users compare us with; repeatable
    #[arg(long, value_name = "NAME=ELF", value_parser = parse_pair)]
    peer: Vec<(String, String)>,
    /// The deployment zip of candidate NAME (its size is reported); repeatable
    #[arg(long = "zip", value_name = "NAME=ZIP", value_parser = parse_pair)]
    zips: Vec<(String, String)>,
    /// Rounds over all candidates
    #[arg(long, value_name = "N", default_value_t = Options::default().repeats,
          value_parser = RangedU64ValueParser::<usize>::new().range(1..))]
    repeats: usize,
    /// Invocations per run with the 100-byte event
    #[arg(long, value_name = "N", default_value_t = Options::default().invocations,
          value_parser = RangedU64ValueParser::<usize>::new().range(2..))]
    invocations: usize,
    /// Invocations per run with the 5 MiB event
    #[arg(long, value_name = "N", default_value_t = Options::default().large_invocations)]
    large_invocations: usize,
    /// Extra 2-invocation runs per candidate and round, for init
    #[arg(long, value_name = "N", default_value_t = Options::default().init_samples)]
    init_samples: usize,
    /// Invocations of the strace runs, 0 for none
    #[arg(long, value_name = "N", default_value_t = Options::default().strace_invocations)]
    strace_invocations: usize,
    /// Warm invocations counted by callgrind, 0 for none
    #[arg(long, value_name = "N", default_value_t = Options::default().callgrind_invocations)]
    callgrind_invocations: usize,
    /// Where results.json, results.md and latency.svg go
    #[arg(long, value_name = "DIR", default_value = "target/bench")]
    out: PathBuf,
    /// The candidates' output and strace logs [default: OUT/logs]
    #[arg(long, value_name = "DIR")]
    logs: Option<PathBuf>,
    /// A fact recorded in results.json (tool versions, ...); repeatable
    #[arg(long, value_name = "KEY=VALUE", value_parser = parse_pair)]
    meta: Vec<(String, String)>,
}

/// The candidates in the order given, whatever their roles (the report lists them so), with
/// their zips: clap keeps each flag's values apart, and their indices say where they were.
fn candidates(matches: &ArgMatches, cli: &Cli) -> Result<Vec<Candidate>, clap::Error> {
    let mut given: Vec<(usize, Candidate)> = Vec::new();
    for (id, role, pairs) in
        [("ours", Role::Ours, &cli.ours), ("floor", Role::Floor, &cli.floor), ("peer", Role::Peer, &cli.peer)]
    {
        let indices = matches.indices_of(id).into_iter().flatten();
        given.extend(
            indices
                .zip(pairs)
                .map(|(i, (name, elf))| (i, Candidate { name: name.clone(), role, elf: elf.into(), zip: None })),
        );
    }
    given.sort_by_key(|&(i, _)| i);
    let mut candidates: Vec<Candidate> = given.into_iter().map(|(_, c)| c).collect();
    for (name, zip) in &cli.zips {
        let Some(c) = candidates.iter_mut().find(|c| c.name == *name) else {
            let msg = format!("--zip {name}={zip}: no candidate is named `{name}`");
            return Err(Cli::command().error(ErrorKind::InvalidValue, msg));
        };
        c.zip = Some(zip.into());
    }
    Ok(candidates)
}

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("lambda-libc-bench: {e}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<ExitCode, String> {
    let matches = Cli::command().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());

    let candidates = candidates(&matches, &cli).unwrap_or_else(|e| e.exit());
    let options = Options {
        repeats: cli.repeats,
        invocations: cli.invocations,
        large_invocations: cli.large_invocations,
        init_samples: cli.init_samples,
        strace_invocations: cli.strace_invocations,
        callgrind_invocations: cli.callgrind_invocations,
        log_dir: cli.logs.unwrap_or_else(|| cli.out.join("logs")),
        ..Options::default()
    };
    let out = cli.out;

    let pinned = lambda_libc_bench::pinned_cpus();
    if pinned.len() != 1 {
        eprintln!("lambda-libc-bench: warning: not pinned to one CPU (CPUs {pinned:?}): run it under taskset -c N");
    }
    let mut results = bench(&candidates, &options, &mut |line| eprintln!("lambda-libc-bench: {line}"));
    results.meta = cli.meta;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("lambda-libc-bench").chain(args.iter().copied()))
    }

    fn parse_candidates(args: &[&str]) -> Result<Vec<Candidate>, clap::Error> {
        let matches =
            Cli::command().try_get_matches_from(std::iter::once("lambda-libc-bench").chain(args.iter().copied()))?;
        candidates(&matches, &Cli::from_arg_matches(&matches)?)
    }

    #[test]
    fn the_command_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn defaults_are_the_librarys() {
        let cli = parse(&["--ours", "a=x"]).unwrap();
        let d = Options::default();
        assert_eq!(
            (cli.repeats, cli.invocations, cli.large_invocations, cli.init_samples),
            (d.repeats, d.invocations, d.large_invocations, d.init_samples)
        );
        assert_eq!(
            (cli.strace_invocations, cli.callgrind_invocations),
            (d.strace_invocations, d.callgrind_invocations)
        );
        assert_eq!(cli.out, PathBuf::from("target/bench"));
        assert_eq!(cli.ours, [("a".to_owned(), "x".to_owned())]);
    }

    #[test]
    fn bad_arguments_are_rejected() {
        let kind = |args: &[&str]| parse(args).err().map(|e| e.kind());
        assert_eq!(kind(&[]), Some(ErrorKind::MissingRequiredArgument), "no candidate");
        assert_eq!(kind(&["--ours", "noequals"]), Some(ErrorKind::ValueValidation));
        assert_eq!(kind(&["--ours", "a=x", "--invocations", "1"]), Some(ErrorKind::ValueValidation));
        assert_eq!(kind(&["--ours", "a=x", "--repeats", "0"]), Some(ErrorKind::ValueValidation));
        assert_eq!(kind(&["--ours", "a=x", "--repeats", "x"]), Some(ErrorKind::ValueValidation));
        assert_eq!(kind(&["--ours", "a=x", "--bogus"]), Some(ErrorKind::UnknownArgument));
        assert_eq!(kind(&["--floor", "f=y"]), None);
        let e = parse_candidates(&["--ours", "a=x", "--zip", "b=b.zip"]).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidValue);
        assert!(e.to_string().contains("no candidate is named `b`"), "{e}");
    }

    #[test]
    fn candidates_keep_their_order_and_get_their_zips() {
        let args = ["--peer", "p=P", "--zip", "o=o.zip", "--ours", "o=O", "--floor", "f=F=1", "--ours", "q=Q"];
        let c = parse_candidates(&args).unwrap();
        let seen: Vec<(&str, Role, &str, Option<&str>)> = c
            .iter()
            .map(|c| (c.name.as_str(), c.role, c.elf.to_str().unwrap(), c.zip.as_deref().map(|z| z.to_str().unwrap())))
            .collect();
        assert_eq!(
            seen,
            [
                ("p", Role::Peer, "P", None),
                ("o", Role::Ours, "O", Some("o.zip")),
                ("f", Role::Floor, "F=1", None),
                ("q", Role::Ours, "Q", None),
            ]
        );
    }
}
