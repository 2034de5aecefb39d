//! `cargo lambda-libc new | build | invoke | verify`: a Lambda function of one's own on
//! lambda-libc, from a new project to a verified, deterministic deployment zip, invoked
//! locally against the mock Runtime API. `cargo lambda-libc <command> --help` describes each.

use std::path::PathBuf;
use std::process::ExitCode;

use cargo_lambda_libc::arch::{ARCHES, Arch, parse_arch};
use cargo_lambda_libc::error::{Context, Result};
use cargo_lambda_libc::invoke::parse_env;
use cargo_lambda_libc::new::{self, Source};
use cargo_lambda_libc::toolchain::Toolchains;
use cargo_lambda_libc::{invoke, project, verify};
use clap::{Parser, Subcommand};

/// Tiny AWS Lambda `bootstrap` zips (provided.al2023) with lambda-libc, in Rust or C.
#[derive(Parser)]
#[command(name = "cargo lambda-libc", bin_name = "cargo lambda-libc", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write a new function project into DIR (a Rust one, or a C one with --c): the same
    /// files as `nix flake init -t <lambda-libc>#rust` (or `#c`)
    New {
        /// The project's directory (new or empty); its name is the package's
        dir: PathBuf,
        /// A C project (function.c) instead of a Rust one
        #[arg(long)]
        c: bool,
        /// The lambda-libc to build on: a checkout's path or (Rust only) a git URL. Default:
        /// the source this command was installed from
        #[arg(long, value_name = "PATH|URL")]
        lambda_libc: Option<String>,
    },
    /// Build the project here: release build linked by zig for glibc 2.34, sstripped,
    /// verified, zipped deterministically to <out>/bootstrap-<arch>.zip with the ELF in
    /// <out>/<arch>/bootstrap and <out>/SHA256SUMS (out: target/lambda/)
    Build {
        /// x86_64, arm64 or all. Default: this machine's
        #[arg(long, value_name = "ARCH", value_parser = parse_arches)]
        arch: Option<Arches>,
        /// Fail when a zip is larger than N bytes
        #[arg(long, value_name = "N")]
        max_zip_bytes: Option<usize>,
        #[command(flatten)]
        project: ProjectArgs,
    },
    /// Build the project (as `build`, for one architecture) and run its bootstrap once
    /// against the built-in mock Runtime API; print the response body on stdout, or for an
    /// /error its type and message (and exit with 1). arm64 runs under qemu-user
    Invoke {
        /// The event, as JSON
        #[arg(required_unless_present = "event", conflicts_with = "event")]
        json: Option<String>,
        /// Read the event from FILE
        #[arg(long, value_name = "FILE")]
        event: Option<PathBuf>,
        /// x86_64 or arm64. Default: this machine's
        #[arg(long, value_name = "ARCH", value_parser = parse_arch)]
        arch: Option<&'static Arch>,
        /// Extra environment for the bootstrap; repeatable
        #[arg(long = "env", value_name = "NAME=VALUE", value_parser = parse_env)]
        env: Vec<(String, String)>,
        /// Run this ELF instead of building the project
        #[arg(long, value_name = "PATH")]
        bootstrap: Option<PathBuf>,
        /// Start the ELF through this dynamic loader (for systems without the FHS one, e.g.
        /// NixOS)
        #[arg(long, value_name = "PATH")]
        loader: Option<PathBuf>,
        #[command(flatten)]
        project: ProjectArgs,
    },
    /// Check bootstrap zips or ELF files built any other way: one `bootstrap` entry, mode
    /// 0755; the FHS loader, libc.so.6 only, glibc <= 2.34, no RPATH, no allocator, no
    /// /nix/store
    Verify {
        /// Zips or ELF files
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Fail when a zip is larger than N bytes
        #[arg(long, value_name = "N")]
        max_zip_bytes: Option<usize>,
    },
}

/// What is built, shared by `build` and `invoke`.
#[derive(clap::Args)]
struct ProjectArgs {
    /// The cargo package. Default: the one here, else the workspace's
    #[arg(short = 'p', long, value_name = "PACKAGE")]
    package: Option<String>,
    /// The binary. Default: `bootstrap`, else the package's only one
    #[arg(long, value_name = "NAME")]
    bin: Option<String>,
    /// Cargo features to build it with, as cargo takes them; repeatable. C: lambda-libc's
    /// features for the static library (`concurrency`, `shutdown`, `log`)
    #[arg(short = 'F', long, value_name = "FEATURES")]
    features: Vec<String>,
    /// A C project of these sources (default without a Cargo.toml: every *.c here)
    #[arg(long = "c", value_name = "FILE", num_args = 1..)]
    c_sources: Vec<PathBuf>,
    /// C: link lambda-libc with response streaming (lambda_stream_*)
    #[arg(long)]
    stream: bool,
    /// C: the lambda-libc checkout to build the static library from. Default:
    /// lambda-libc.toml's `source`, else the source this command was installed from
    #[arg(long, value_name = "PATH")]
    lambda_libc: Option<PathBuf>,
    /// The output directory. Default: target/lambda/ in cargo's target directory
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Build every architecture with the running cargo, whose toolchain has every target's
    /// standard library (as the Nix flake's has), never with Debian's rustc
    #[arg(long)]
    one_toolchain: bool,
}

impl ProjectArgs {
    fn options(self, arches: Vec<&'static Arch>, max_zip_bytes: Option<usize>) -> Result<project::Options> {
        Ok(project::Options {
            dir: std::env::current_dir().context("cannot read the current directory")?,
            arches,
            package: self.package,
            bin: self.bin,
            features: self.features,
            c_sources: self.c_sources,
            stream: self.stream,
            lambda_libc: self.lambda_libc,
            out: self.out,
            toolchains: if self.one_toolchain { Toolchains::One } else { Toolchains::Auto },
            max_zip_bytes,
        })
    }
}

/// `build --arch`'s value: one architecture, or `all`.
#[derive(Clone)]
struct Arches(Vec<&'static Arch>);

fn parse_arches(name: &str) -> std::result::Result<Arches, String> {
    if name == "all" { Ok(Arches(ARCHES.to_vec())) } else { parse_arch(name).map(|a| Arches(vec![a])) }
}

fn main() -> ExitCode {
    // `cargo lambda-libc …` runs `cargo-lambda-libc lambda-libc …`.
    let mut args: Vec<_> = std::env::args_os().collect();
    if args.get(1).is_some_and(|a| a == "lambda-libc") {
        args.remove(1);
    }
    match run(Cli::parse_from(args).command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cargo lambda-libc: error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn host() -> Result<&'static Arch> {
    Arch::host().ok_or_else(|| {
        format!("this machine ({}) is not a Lambda architecture: give --arch", std::env::consts::ARCH).into()
    })
}

fn run(command: Command) -> Result {
    match command {
        Command::New { dir, c, lambda_libc } => {
            let source = match lambda_libc {
                Some(arg) => Source::parse(&arg)?,
                None => Source::Path(Source::own()),
            };
            new::new(&dir, if c { &new::C } else { &new::RUST }, &source)?;
            if c { Ok(()) } else { new::lock_offline(&dir) }
        }
        Command::Build { arch, max_zip_bytes, project } => {
            let arches = match arch {
                Some(Arches(arches)) => arches,
                None => vec![host()?],
            };
            for built in project::build(&project.options(arches, max_zip_bytes)?)? {
                println!("{built}");
            }
            Ok(())
        }
        Command::Invoke { json, event, arch, env, bootstrap, loader, project } => {
            let arch = match arch {
                Some(arch) => arch,
                None => host()?,
            };
            let payload = match (json, event) {
                (Some(json), None) => json.into_bytes(),
                (None, Some(file)) => cargo_lambda_libc::files::read(&file)?,
                _ => unreachable!("clap: exactly one of JSON and --event"),
            };
            let (bootstrap, sizes) = match bootstrap {
                Some(path) => (path, String::from("given with --bootstrap")),
                None => {
                    let built = project::build(&project.options(vec![arch], None)?)?;
                    let b = built.into_iter().next().ok_or("nothing was built")?;
                    // stdout carries the answer only.
                    eprintln!("{b}");
                    (b.elf, format!("ELF {} B, zip {} B", b.elf_bytes, b.zip_bytes))
                }
            };
            let runner = invoke::runner(arch, loader.as_deref())?;
            let answer = invoke::invoke(invoke::Options { payload, bootstrap, runner, env, sizes })?;
            answer.print()?;
            match &answer.error_type {
                None => Ok(()),
                Some(error_type) => {
                    Err(format!("the function answered /error: {error_type}: {}", error_message(&answer.body)).into())
                }
            }
        }
        Command::Verify { files, max_zip_bytes } => {
            let files: Vec<&std::path::Path> = files.iter().map(PathBuf::as_path).collect();
            verify::verify_files(&files, &|_| max_zip_bytes)
        }
    }
}

/// The `errorMessage` of an `/error` body, else the body.
fn error_message(body: &[u8]) -> String {
    let json: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    match json.as_ref().and_then(|j| j["errorMessage"].as_str()) {
        Some(message) => message.to_owned(),
        None => String::from_utf8_lossy(body).into_owned(),
    }
}
