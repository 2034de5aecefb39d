//! `cargo xtask <command>`: build, package, verify and test the lambda-libc bootstraps.
//! Run `cargo xtask help` for the commands.

mod bench;
mod debian_rust;
mod dist;
mod fuzz;
mod header;
mod invoke;
mod repro;
mod size;
mod sstrip;
mod test;
mod util;
mod verify;
mod zig;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use util::{Result, Workspace};

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  dist              build the bootstraps (zig cc linker, glibc 2.34), write dist/*.zip and
                    dist/SHA256SUMS, run the verifier, print sizes
  verify [FILE...]  check bootstrap ELF files or zips (default: the zips in dist/)
  zip ELF ZIP       write ELF as a deployment zip, the same bytes as `dist` writes (used by
                    the Nix flake; needs neither cargo nor the workspace)
  sstrip ELF OUT    write ELF without its section headers, as the zips hold it (the flake's
                    bin/bootstrap)
  invoke JSON | --event FILE [--c | --bootstrap PATH] [--env NAME=VALUE]...
                    run a bootstrap (the Rust echo; --c: the C echo) once against the
                    in-process mock Runtime API with a
                    Lambda-like environment; print the answer's body to stdout, timing and
                    sizes to stderr (builds dist first unless --bootstrap is given)
  fuzz [SECONDS]    run each cargo-fuzz target (fuzz/, nightly) for SECONDS (default 60)
  repro             build dist from two copies of the sources (other paths, other target
                    directories) and require the same SHA256SUMS as dist/
  size [N]          where the Rust echo's bytes are (x86_64): ELF and zip bytes, each
                    section raw and deflated, the N (default 30) largest functions
  header            regenerate runtime/include/lambda_libc.h from runtime/src/capi.rs (cbindgen)
  test              cargo fmt --check, cargo clippy -D warnings, dist, cargo test --workspace, repro,
                    fuzz (60 s per target)
  bench [--quick] [--repeats N] [--invocations N] [--large-invocations N] [--cpu N]
                    measure our x86_64 bootstraps, the floor (bench/floor) and lambda_runtime
                    (bench/peers) on a loopback Runtime API, pinned to one CPU with taskset;
                    write target/bench/ and (unless --quick) docs/bench/ and docs/BENCHMARKS.md
  help              this text
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &[String]) -> Result {
    let (command, rest) = match args.split_first() {
        Some((command, rest)) => (command.as_str(), rest),
        None => ("help", &[][..]),
    };
    // `zip` and `verify FILE...` run from the Nix store, away from any workspace.
    let ws = Workspace::locate;
    match command {
        "dist" => {
            no_arguments("dist", rest)?;
            dist::dist(&ws()?).map(drop)
        }
        "verify" => {
            let files: Vec<PathBuf> = if rest.is_empty() {
                let ws = ws()?;
                dist::BOOTSTRAPS.iter().map(|b| b.zip_path(&ws)).collect()
            } else {
                rest.iter().map(PathBuf::from).collect()
            };
            let files: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
            verify::verify_files(&files)
        }
        "zip" => match rest {
            [elf, zip] => dist::write_zip(&util::read(Path::new(elf))?, Path::new(zip)).map(|_| ()),
            _ => Err("usage: cargo xtask zip ELF ZIP".into()),
        },
        "sstrip" => match rest {
            [elf, out] => {
                util::write_if_changed(Path::new(out), &sstrip::sstrip(&util::read(Path::new(elf))?)?).map(drop)
            }
            _ => Err("usage: cargo xtask sstrip ELF OUT".into()),
        },
        "invoke" => invoke::invoke(&ws()?, parse_invoke(rest)?),
        "fuzz" => {
            let seconds = match rest {
                [] => fuzz::CI_SECONDS,
                [s] => s.parse().map_err(|_| format!("fuzz: `{s}` is not a number of seconds"))?,
                _ => return Err("usage: cargo xtask fuzz [SECONDS]".into()),
            };
            fuzz::fuzz(&ws()?, seconds)
        }
        "repro" => {
            no_arguments("repro", rest)?;
            repro::repro(&ws()?)
        }
        "size" => {
            let top = match rest {
                [] => 30,
                [n] => n.parse().map_err(|_| format!("size: `{n}` is not a number of functions"))?,
                _ => return Err("usage: cargo xtask size [N]".into()),
            };
            size::size(&ws()?, top)
        }
        "header" => {
            no_arguments("header", rest)?;
            header::header(&ws()?)
        }
        "test" => {
            no_arguments("test", rest)?;
            test::test(&ws()?)
        }
        "bench" => bench::bench(&ws()?, &parse_bench(rest)?),
        "help" | "-h" | "--help" => {
            print!("{USAGE}");
            Ok(())
        }
        other => Err(format!("unknown command `{other}`\n\n{USAGE}").into()),
    }
}

fn no_arguments(command: &str, rest: &[String]) -> Result {
    match rest.first() {
        None => Ok(()),
        Some(arg) => Err(format!("`{command}` takes no arguments, got `{arg}`").into()),
    }
}

fn parse_bench(args: &[String]) -> Result<bench::Options> {
    let mut options = bench::Options::default();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut number = || -> Result<usize> {
            let value = args.next().ok_or_else(|| format!("{arg} needs a value"))?;
            value.parse().map_err(|_| format!("{arg}: not a number: `{value}`").into())
        };
        match arg.as_str() {
            "--quick" => options.quick = true,
            "--repeats" => options.repeats = Some(number()?.max(1)),
            "--invocations" => options.invocations = Some(number()?.max(2)),
            "--large-invocations" => options.large_invocations = Some(number()?),
            "--cpu" => options.cpu = Some(number()?),
            other => return Err(format!("bench: unknown option `{other}`\n\n{USAGE}").into()),
        }
    }
    Ok(options)
}

fn parse_invoke(args: &[String]) -> Result<invoke::Options> {
    let mut payload = None;
    let mut bootstrap = None;
    let mut env = Vec::new();
    let mut c = false;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value = |flag: &str| args.next().cloned().ok_or_else(|| format!("{flag} needs a value"));
        let new = match arg.as_str() {
            "--event" => Some(invoke::Payload::File(value("--event")?.into())),
            "--bootstrap" => {
                bootstrap = Some(PathBuf::from(value("--bootstrap")?));
                None
            }
            "--c" => {
                c = true;
                None
            }
            "--env" => {
                let pair = value("--env")?;
                let (name, val) =
                    pair.split_once('=').ok_or_else(|| format!("--env needs NAME=VALUE, got `{pair}`"))?;
                env.push((name.to_owned(), val.to_owned()));
                None
            }
            flag if flag.starts_with("--") => return Err(format!("unknown option {flag}").into()),
            json => Some(invoke::Payload::Json(json.to_owned())),
        };
        if let Some(new) = new {
            if payload.is_some() {
                return Err("invoke takes one event: a JSON argument or --event FILE".into());
            }
            payload = Some(new);
        }
    }
    let payload = payload.ok_or("usage: cargo xtask invoke JSON | --event FILE [--c | --bootstrap PATH]")?;
    if c && bootstrap.is_some() {
        return Err("invoke takes --c or --bootstrap, not both".into());
    }
    Ok(invoke::Options { payload, bootstrap, env, c })
}
