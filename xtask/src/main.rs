//! `cargo xtask <command>`: build, package, verify and test the lambda-libc bootstraps.
//! Run `cargo xtask help`, or `cargo xtask <command> --help`, for the commands.
//!
//! xtask holds what is about this repository: which programs `dist` builds into which
//! files (`dist`, `sizes`), its size budgets (`verify`), benchmarks, fuzzing, the header,
//! the rehearsal of the flake, reproducibility and the test command. How a bootstrap is
//! built, linked, stripped, zipped, verified and invoked is the library of
//! `cargo lambda-libc` (`cli/`, crate `cargo_lambda_libc`), which xtask calls.

mod bench;
mod dist;
mod fuzz;
mod header;
mod invoke;
mod new_project;
mod rehearse;
mod repro;
mod size;
mod sizes;
mod test;
/// What the tests do when a tool is missing or they run in the Nix sandbox (shared with the
/// integration tests and the bench's).
#[cfg(test)]
#[path = "../../tests/tests/tools/mod.rs"]
mod tools;
mod util;
mod verify;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use cargo_lambda_libc::arch::{Arch, parse_arch};
use cargo_lambda_libc::invoke::parse_env;
use cargo_lambda_libc::toolchain::Toolchains;
use cargo_lambda_libc::{archive, sstrip};
use clap::{Parser, Subcommand};

use util::{Result, Workspace};

/// Build, package, verify and test the lambda-libc bootstraps.
#[derive(Parser)]
#[command(name = "cargo xtask", bin_name = "cargo xtask")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Build the bootstraps (zig cc linker, glibc 2.34), write the zips, SHA256SUMS, bin/ and
    /// runtime-<arch>/ into dist/ (or --out), run the verifier, print sizes; into dist/, also
    /// README.md's size table
    Dist {
        /// Build only this architecture (x86_64, arm64); repeatable. Default: both
        #[arg(long = "arch", value_name = "ARCH", value_parser = parse_arch)]
        arches: Vec<&'static Arch>,
        /// Build every architecture with the cargo that runs xtask (its toolchain must have
        /// every target's standard library, as the Nix flake's has), not arm64 with Debian's
        #[arg(long)]
        one_toolchain: bool,
        /// The output directory (default: dist/ in the workspace)
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// Check bootstrap ELF files or zips (default: the zips in dist/)
    Verify {
        /// ELF files or zips
        files: Vec<PathBuf>,
    },
    /// Write ELF as a deployment zip, the same bytes as `dist` writes (needs neither cargo
    /// nor the workspace)
    Zip { elf: PathBuf, zip: PathBuf },
    /// Write ELF without its section headers, as the zips hold it
    Sstrip { elf: PathBuf, out: PathBuf },
    /// Run a bootstrap (the Rust echo, or the C echo with --c) once against the in-process
    /// mock Runtime API with a Lambda-like environment; print the answer's body to stdout,
    /// timing and sizes to stderr (builds dist first unless --bootstrap is given)
    Invoke(InvokeArgs),
    /// Run each cargo-fuzz target (fuzz/, nightly) for SECONDS, growing its working corpus
    /// under target/fuzz/ (the committed seeds in fuzz/corpus/ stay as they are)
    Fuzz {
        #[arg(default_value_t = fuzz::CI_SECONDS)]
        seconds: u32,
        /// Afterwards, minimise each working corpus (`cargo fuzz cmin`) and add the inputs
        /// that are not seeds yet to fuzz/corpus/<target>/, for you to review and commit
        #[arg(long)]
        add_to_seeds: bool,
    },
    /// Build dist from a copy of the sources (another path, another target directory)
    /// and require the same SHA256SUMS as dist/
    Repro,
    /// Build the Nix flake's derivations as its sandbox would (docs/nix.md) and require the
    /// same ELFs and zips as dist/
    Rehearse,
    /// Where the Rust echo's bytes are (x86_64): ELF and zip bytes, each section raw and
    /// deflated, the N largest functions
    Size {
        #[arg(default_value_t = 30)]
        top: usize,
    },
    /// Regenerate runtime/include/lambda_libc.h from runtime/src/capi.rs (cbindgen)
    Header,
    /// The project's test command: every step below in order, or the ones named
    Test {
        /// Run only this step; repeatable
        #[arg(long = "step", value_enum)]
        steps: Vec<test::Step>,
        /// For the `tests` step: the output of an earlier `dist --out DIR` to test, instead
        /// of dist/ (the Nix flake's checks)
        #[arg(long, value_name = "DIR")]
        dist: Option<PathBuf>,
    },
    /// Measure our x86_64 bootstraps, the floor (bench/floor) and lambda_runtime
    /// (bench/peers) on a loopback Runtime API, pinned to one CPU with taskset, then the
    /// fixture with 1, 2 and 4 workers against the floor, not pinned; write target/bench/ and
    /// (unless --quick) docs/bench/ and docs/BENCHMARKS.md
    Bench(BenchArgs),
}

#[derive(clap::Args)]
struct InvokeArgs {
    /// The event, as JSON
    #[arg(required_unless_present = "event", conflicts_with = "event")]
    json: Option<String>,
    /// Read the event from FILE
    #[arg(long, value_name = "FILE")]
    event: Option<PathBuf>,
    /// Run the C echo
    #[arg(long, conflicts_with = "bootstrap")]
    c: bool,
    /// Run this ELF instead of building the echo
    #[arg(long, value_name = "PATH")]
    bootstrap: Option<PathBuf>,
    /// Start the ELF through this dynamic loader (for systems without the FHS one, e.g.
    /// NixOS)
    #[arg(long, value_name = "PATH")]
    loader: Option<PathBuf>,
    /// Extra environment for the bootstrap; repeatable
    #[arg(long = "env", value_name = "NAME=VALUE", value_parser = parse_env)]
    env: Vec<(String, String)>,
}

#[derive(clap::Args)]
struct BenchArgs {
    /// A short run for trying things: one round, few invocations, docs/ untouched
    #[arg(long)]
    quick: bool,
    /// Rounds of every measurement
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    repeats: Option<u32>,
    /// Invocations of the small event per round
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(2..))]
    invocations: Option<u32>,
    /// Invocations of the large event per round
    #[arg(long, value_name = "N")]
    large_invocations: Option<u32>,
    /// The CPU to pin to (default: the last one this process may use)
    #[arg(long, value_name = "N")]
    cpu: Option<usize>,
    /// Invocations per run of the concurrency run (not pinned; 1, 2 and 4 workers)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(5..))]
    concurrency_invocations: Option<u32>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: Option<Command>) -> Result {
    // `zip`, `sstrip`, `verify FILE...` and `invoke --bootstrap` need no workspace (the Nix
    // store has none).
    let ws = Workspace::locate;
    let Some(command) = command else {
        use clap::CommandFactory as _;
        Cli::command().print_help()?;
        return Ok(());
    };
    match command {
        Command::Dist { arches, one_toolchain, out } => {
            let ws = ws()?;
            let mut options = dist::Options::all(&ws);
            if !arches.is_empty() {
                options.arches.retain(|a| arches.contains(a));
            }
            if one_toolchain {
                options.toolchains = Toolchains::One;
            }
            // README.md's size table is dist/'s: not written for another output directory.
            let readme = out.is_none();
            if let Some(out) = out {
                options.out = std::path::absolute(out)?;
            }
            let built = dist::dist(&ws, &options)?;
            if readme { sizes::write_readme(&ws, &options.out, &built) } else { Ok(()) }
        }
        Command::Verify { files } => {
            let files = if files.is_empty() {
                let ws = ws()?;
                dist::BOOTSTRAPS.iter().map(|b| ws.dist.join(b.zip)).collect()
            } else {
                files
            };
            let files: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
            cargo_lambda_libc::verify::verify_files(&files, &|name| Some(verify::max_zip_bytes(name)))
        }
        Command::Zip { elf, zip } => archive::write_zip(&util::read(&elf)?, &zip).map(drop),
        Command::Sstrip { elf, out } => util::write_if_changed(&out, &sstrip::sstrip(&util::read(&elf)?)?).map(drop),
        Command::Invoke(args) => {
            let payload = match (args.json, args.event) {
                (Some(json), None) => invoke::Payload::Json(json),
                (None, Some(file)) => invoke::Payload::File(file),
                _ => unreachable!("clap: exactly one of JSON and --event"),
            };
            let options =
                invoke::Options { payload, bootstrap: args.bootstrap, loader: args.loader, env: args.env, c: args.c };
            invoke::invoke(ws, options)
        }
        Command::Fuzz { seconds, add_to_seeds } => {
            let ws = ws()?;
            fuzz::fuzz(&ws, seconds)?;
            if add_to_seeds { fuzz::add_to_seeds(&ws) } else { Ok(()) }
        }
        Command::Repro => repro::repro(&ws()?),
        Command::Rehearse => rehearse::rehearse(&ws()?),
        Command::Size { top } => size::size(&ws()?, top),
        Command::Header => header::header(&ws()?),
        Command::Test { steps, dist } => {
            let dist = dist.map(std::path::absolute).transpose()?;
            test::test(&ws()?, &steps, dist.as_deref())
        }
        Command::Bench(args) => {
            let options = bench::Options {
                quick: args.quick,
                repeats: args.repeats.map(|n| n as usize),
                invocations: args.invocations.map(|n| n as usize),
                large_invocations: args.large_invocations.map(|n| n as usize),
                cpu: args.cpu,
                concurrency_invocations: args.concurrency_invocations.map(|n| n as usize),
            };
            bench::bench(&ws()?, &options)
        }
    }
}
