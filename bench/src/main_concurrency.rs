//! `lambda-libc-bench-concurrency`: measures bootstraps with several worker processes
//! (`AWS_LAMBDA_MAX_CONCURRENCY`) against a loopback Runtime API that serves every
//! connection from its own thread, and writes concurrency.json and concurrency.md.
//! `cargo xtask bench` runs it after `lambda-libc-bench`, not pinned.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::builder::RangedU64ValueParser;
use clap::{ArgGroup, Parser};

use lambda_libc_bench::concurrency_bench::{ConcurrencyOptions, bench_concurrency};
use lambda_libc_bench::{Candidate, Role, parse_pair};

/// Measure bootstraps with N worker processes, N invocations in flight; write
/// concurrency.json and concurrency.md.
///
/// Each candidate but the floor runs with every number of workers given; the floor once per
/// round, serving one invocation at a time. Do not pin it to one CPU: the workers would
/// share it.
#[derive(Parser)]
#[command(name = "lambda-libc-bench-concurrency")]
#[command(group(ArgGroup::new("candidates").args(["ours", "floor"]).required(true).multiple(true)))]
struct Cli {
    /// A bootstrap run with each number of workers; repeatable
    #[arg(long, value_name = "NAME=ELF", value_parser = parse_pair)]
    ours: Vec<(String, String)>,
    /// The single loop the ratios compare with
    #[arg(long, value_name = "NAME=ELF", value_parser = parse_pair)]
    floor: Option<(String, String)>,
    /// The numbers of workers (AWS_LAMBDA_MAX_CONCURRENCY), comma-separated
    #[arg(long, value_name = "N,...", value_delimiter = ',', default_values_t = ConcurrencyOptions::default().workers,
          value_parser = RangedU64ValueParser::<usize>::new().range(1..=1600))]
    workers: Vec<usize>,
    /// Rounds over every candidate and number of workers
    #[arg(long, value_name = "N", default_value_t = ConcurrencyOptions::default().repeats,
          value_parser = RangedU64ValueParser::<usize>::new().range(1..))]
    repeats: usize,
    /// Invocations per run (more than the most workers)
    #[arg(long, value_name = "N", default_value_t = ConcurrencyOptions::default().invocations)]
    invocations: usize,
    /// A variable added to every candidate's environment; repeatable
    #[arg(long, value_name = "KEY=VALUE", value_parser = parse_pair)]
    env: Vec<(String, String)>,
    /// Where concurrency.json and concurrency.md go
    #[arg(long, value_name = "DIR", default_value = "target/bench")]
    out: PathBuf,
    /// The candidates' output [default: OUT/logs]
    #[arg(long, value_name = "DIR")]
    logs: Option<PathBuf>,
    /// A fact recorded in concurrency.json (tool versions, ...); repeatable
    #[arg(long, value_name = "KEY=VALUE", value_parser = parse_pair)]
    meta: Vec<(String, String)>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let most = cli.workers.iter().copied().max().unwrap_or(1);
    if cli.invocations <= most {
        eprintln!("lambda-libc-bench-concurrency: --invocations must be more than the most workers ({most})");
        return ExitCode::from(2);
    }
    let mut candidates: Vec<Candidate> = cli
        .ours
        .iter()
        .map(|(name, elf)| Candidate { name: name.clone(), role: Role::Ours, elf: elf.into(), zip: None })
        .collect();
    if let Some((name, elf)) = &cli.floor {
        candidates.push(Candidate { name: name.clone(), role: Role::Floor, elf: elf.into(), zip: None });
    }
    let options = ConcurrencyOptions {
        repeats: cli.repeats,
        invocations: cli.invocations,
        workers: cli.workers,
        env: cli.env,
        log_dir: cli.logs.unwrap_or_else(|| cli.out.join("logs")),
        ..ConcurrencyOptions::default()
    };

    let allowed = lambda_libc_bench::pinned_cpus();
    if allowed.len() < 2 {
        eprintln!("lambda-libc-bench-concurrency: warning: may run on CPUs {allowed:?} only: the workers share them");
    }
    let mut results = bench_concurrency(&candidates, &options, &mut |line| eprintln!("lambda-libc-bench: {line}"));
    results.meta = cli.meta;
    if let Err(e) = results.write(&cli.out) {
        eprintln!("lambda-libc-bench-concurrency: cannot write into {}: {e}", cli.out.display());
        return ExitCode::from(2);
    }
    print!("{}", lambda_libc_bench::report::concurrency_markdown(&results));
    eprintln!("lambda-libc-bench-concurrency: wrote {}/concurrency.json, concurrency.md", cli.out.display());
    let failed: Vec<String> = results
        .points
        .iter()
        .filter(|p| p.failure.is_some())
        .map(|p| format!("{} with {} workers", p.candidate.name, p.workers))
        .collect();
    if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        eprintln!("lambda-libc-bench-concurrency: FAILED: {}", failed.join(", "));
        ExitCode::FAILURE
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory as _;

    #[test]
    fn the_command_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn workers_are_a_list_and_default_to_the_librarys() {
        let parse = |args: &[&str]| {
            Cli::try_parse_from(std::iter::once("lambda-libc-bench-concurrency").chain(args.iter().copied()))
        };
        let cli = parse(&["--ours", "f=F"]).unwrap();
        assert_eq!(cli.workers, ConcurrencyOptions::default().workers);
        assert_eq!(parse(&["--floor", "f=F", "--workers", "1,8"]).unwrap().workers, [1, 8]);
        assert!(parse(&["--ours", "f=F", "--workers", "0"]).is_err());
        assert!(parse(&[]).is_err(), "no candidate");
    }
}
