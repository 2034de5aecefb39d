//! `cargo xtask dist`: build the bootstraps with zig as the linker (glibc 2.34), write
//! deterministic deployment zips and `SHA256SUMS`, verify everything. The Nix flake's
//! `dist` derivation runs this same command (docs/nix.md): every flag, link argument and
//! zip byte is decided here.
//!
//! What it writes into its output directory (`dist/` unless `--out` says otherwise):
//!
//! | path | what |
//! |---|---|
//! | `<zip>` | every deployment zip of [`BOOTSTRAPS`] built |
//! | `SHA256SUMS` | their sha256, sorted by name (`sha256sum *.zip`'s format) |
//! | `bin/<name>` | every ELF as its zip holds it (sstripped): the bootstraps and the test fixtures ([`EXTRAS`]), x86_64 unsuffixed, arm64 with `-arm64` (the names the integration tests look for) |
//! | `runtime-<arch>/` | for C users: `include/lambda_libc.h`, `lib/liblambda_libc.a` (C API), `lib/liblambda_libc_stream.a` (C API with streaming), `lib/pkgconfig/lambda-libc.pc` and `lambda-libc-stream.pc` |
//!
//! Adding a bootstrap or an architecture is one entry in [`BOOTSTRAPS`] (plus, for a new
//! architecture, an `Arch` in the library's `ARCHES`).
//!
//! How a bootstrap is built, linked, stripped, zipped and verified is the library's
//! (`cargo_lambda_libc`: `builder`, `link`, `sstrip`, `archive`, `verify`), shared with
//! `cargo lambda-libc build`; this module holds what is about this repository: which
//! programs, into which files, within which budgets.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use cargo_lambda_libc::arch::{ARCHES, ARM64, Arch, X86_64};
use cargo_lambda_libc::archive::{sha256sums, write_zip};
use cargo_lambda_libc::builder::{ArchBuilder, C_API, C_API_STREAM, HEADER};
use cargo_lambda_libc::files::write_executable;
use cargo_lambda_libc::link::{pkg_config_libs, write_linker_script};
use cargo_lambda_libc::sstrip::sstrip;
use cargo_lambda_libc::toolchain::{Compiler, Toolchains};
use cargo_lambda_libc::verify;
use cargo_lambda_libc::zig::Zig;

use crate::util::{Context, Result, Workspace, read, run, write_if_changed};
use crate::verify::max_zip_bytes;

/// How a bootstrap is built.
#[derive(Debug)]
pub enum Source {
    /// A binary of a workspace package, built with cargo.
    Cargo { package: &'static str, bin: &'static str },
    /// A C program (path from the workspace root), linked against lambda-libc's static
    /// library built with `features` (`c-api`, or `c-api-stream` for the streaming
    /// functions) by zig cc (`ArchBuilder::compile_c`); the ELF is written to the release
    /// directory as `bin`.
    C { source: &'static str, bin: &'static str, features: &'static str },
}

impl Source {
    /// The ELF's file name in the release directory.
    pub fn bin(&self) -> &'static str {
        match *self {
            Source::Cargo { bin, .. } | Source::C { bin, .. } => bin,
        }
    }
}

/// A deployment zip in `dist/`.
#[derive(Debug)]
pub struct Bootstrap {
    /// The zip's file name in `dist/`.
    pub zip: &'static str,
    pub source: Source,
    pub arch: &'static Arch,
}

/// The deployment zips `cargo xtask dist` writes.
pub const BOOTSTRAPS: &[Bootstrap] = &[
    Bootstrap { zip: "bootstrap-rust-x86_64.zip", source: RUST_ECHO, arch: &X86_64 },
    Bootstrap { zip: "bootstrap-c-x86_64.zip", source: C_ECHO, arch: &X86_64 },
    Bootstrap { zip: "bootstrap-rust-arm64.zip", source: RUST_ECHO, arch: &ARM64 },
    Bootstrap { zip: "bootstrap-c-arm64.zip", source: C_ECHO, arch: &ARM64 },
    Bootstrap { zip: "bootstrap-rust-stream-x86_64.zip", source: RUST_STREAM, arch: &X86_64 },
    Bootstrap { zip: "bootstrap-c-stream-x86_64.zip", source: C_STREAM, arch: &X86_64 },
    Bootstrap { zip: "bootstrap-rust-stream-arm64.zip", source: RUST_STREAM, arch: &ARM64 },
    Bootstrap { zip: "bootstrap-c-stream-arm64.zip", source: C_STREAM, arch: &ARM64 },
    Bootstrap { zip: "bootstrap-rust-api-x86_64.zip", source: RUST_API, arch: &X86_64 },
    Bootstrap { zip: "bootstrap-rust-api-arm64.zip", source: RUST_API, arch: &ARM64 },
];

const RUST_ECHO: Source = Source::Cargo { package: EXAMPLE_PACKAGE, bin: "bootstrap" };
const C_ECHO: Source = Source::C { source: "example-c/function.c", bin: "bootstrap-c", features: C_API };
/// The streaming echoes: every event streamed back in chunks of at most 4 KiB.
const RUST_STREAM: Source = Source::Cargo { package: EXAMPLE_PACKAGE, bin: "bootstrap-stream" };
const C_STREAM: Source = Source::C { source: "example-c/stream.c", bin: "bootstrap-c-stream", features: C_API_STREAM };
/// The JSON API on a function URL (example-rust/src/api.rs), built with [`RUST_API_FEATURE`].
const RUST_API: Source = Source::Cargo { package: EXAMPLE_PACKAGE, bin: "bootstrap-api" };
/// The feature that builds the JSON API (see example-rust/Cargo.toml for why it is one).
pub const RUST_API_FEATURE: &str = "lambda-libc-example/api";

/// Built alongside the bootstraps for the integration tests: verified like them, not zipped.
#[derive(Debug)]
pub struct Extra {
    pub source: Source,
    pub arch: &'static Arch,
}

pub const EXTRAS: &[Extra] = &[
    Extra { source: RUST_FIXTURE, arch: &X86_64 },
    Extra { source: C_FIXTURE, arch: &X86_64 },
    Extra { source: RUST_FIXTURE, arch: &ARM64 },
    Extra { source: C_FIXTURE, arch: &ARM64 },
];

const RUST_FIXTURE: Source = Source::Cargo { package: FIXTURES_PACKAGE, bin: "fixture" };
/// The package of the Rust examples.
const EXAMPLE_PACKAGE: &str = "lambda-libc-example";
/// The package of the Rust fixture.
const FIXTURES_PACKAGE: &str = "lambda-libc-fixtures";
const C_FIXTURE: Source = Source::C { source: "tests/fixtures/fixture.c", bin: "fixture-c", features: ALL_FEATURES };
/// Every feature of lambda-libc: the C fixture's static library, and what the C API is
/// linted and tested with.
pub const ALL_FEATURES: &str = "c-api-stream,concurrency,shutdown,log";

impl Bootstrap {
    /// The zip name without `.zip`, e.g. `bootstrap-rust-x86_64`.
    pub fn name(&self) -> &'static str {
        self.zip.strip_suffix(".zip").unwrap_or(self.zip)
    }
}

/// The name of the ELF of `source` for `arch` in `bin/`: `bootstrap`, `fixture-c-arm64`.
pub fn bin_name(source: &Source, arch: &Arch) -> String {
    format!("{}{}", source.bin(), arch.bin_suffix)
}

/// What `dist` builds, with what, and where it writes.
#[derive(Debug)]
pub struct Options {
    /// The architectures to build, in [`ARCHES`] order.
    pub arches: Vec<&'static Arch>,
    /// Each architecture's compiler: [`Toolchains::DebianArm64`] (the pinned compilers), or,
    /// with `--one-toolchain`, [`Toolchains::One`]: the cargo that runs xtask, whose
    /// toolchain must have every target's standard library (the flake's has).
    pub toolchains: Toolchains,
    /// The output directory (see the module's table).
    pub out: PathBuf,
}

impl Options {
    /// Every architecture, each with its own toolchain, into `dist/`: `cargo xtask dist`.
    pub fn all(ws: &Workspace) -> Self {
        Self { arches: ARCHES.to_vec(), toolchains: Toolchains::DebianArm64, out: ws.dist.clone() }
    }

    /// `bin/` of the output directory.
    pub fn bin_dir(&self) -> PathBuf {
        self.out.join("bin")
    }
}

/// One built ELF and, for bootstraps, its zip.
pub struct Built {
    pub name: String,
    pub elf_bytes: usize,
    pub zip_bytes: Option<usize>,
    pub problems: Vec<String>,
}

/// `cargo xtask dist`: [`build`], then [`package`] with the table on stdout, and fails on
/// any problem the verifier found. Returns the architectures built.
pub fn dist(ws: &Workspace, options: &Options) -> Result<Vec<&'static Arch>> {
    let arches = build(ws, options)?;
    let built = package(options, &arches, &mut std::io::stdout())?;
    fail_on_problems(&built)?;
    Ok(arches)
}

/// Builds the bootstraps and extras of `options.arches` and writes their ELFs, as they ship,
/// into `bin/`. Returns the architectures built: one whose compiler this machine lacks is
/// skipped with a warning, or is an error when `LAMBDA_LIBC_REQUIRE_TOOLS=1`.
pub fn build(ws: &Workspace, options: &Options) -> Result<Vec<&'static Arch>> {
    let zig = ws.zig()?;
    let mut built = Vec::new();
    for &arch in &options.arches {
        let compiler = match Compiler::choose(arch, options.toolchains, &ws.tools, &ws.root)? {
            Ok(compiler) => compiler,
            Err(why) if require_tools() => {
                return Err(format!("{} (LAMBDA_LIBC_REQUIRE_TOOLS=1): {why}", arch.name).into());
            }
            Err(why) => {
                eprintln!("xtask: warning: SKIPPING the {} bootstraps: {why}", arch.name);
                continue;
            }
        };
        build_arch(ws, options, &zig, arch, &compiler)?;
        built.push(arch);
    }
    Ok(built)
}

/// The programs `dist` builds for `arch`: its bootstraps, then its extras.
fn sources(arch: &Arch) -> impl Iterator<Item = &'static Source> {
    let bootstraps = BOOTSTRAPS.iter().filter(move |b| b.arch.name == arch.name).map(|b| &b.source);
    bootstraps.chain(EXTRAS.iter().filter(move |e| e.arch.name == arch.name).map(|e| &e.source))
}

/// One architecture: a cargo build of each package of Rust programs, the static library with each
/// feature set of the C API, zig cc per C program; then the ELFs into `bin/` and the C API
/// into `runtime-<arch>/`.
fn build_arch(ws: &Workspace, options: &Options, zig: &Zig, arch: &Arch, compiler: &Compiler) -> Result {
    let builder = ArchBuilder::new(zig, arch, compiler, &ws.target)?;
    let release = builder.release_dir();
    let mut packages = BTreeSet::new();
    let mut c_programs = Vec::new();
    for source in sources(arch) {
        match *source {
            Source::Cargo { package, .. } => {
                packages.insert(package);
            }
            Source::C { source, bin, features } => c_programs.push((source, bin, features)),
        }
    }

    // The fixtures apart: Cargo unifies the features of the packages one build selects, and
    // theirs (`concurrency`, `shutdown`) must not reach the bootstraps.
    let (fixtures, bootstraps): (Vec<_>, Vec<_>) = packages.into_iter().partition(|&p| p == FIXTURES_PACKAGE);
    for group in [bootstraps, fixtures] {
        if group.is_empty() {
            continue;
        }
        let mut build = builder.cargo(&ws.root)?;
        // Always --target: see `link_with`.
        build.args(["build", "--release", "--target", arch.rust_target]);
        for package in &group {
            build.args(["-p", package]);
        }
        if group.contains(&EXAMPLE_PACKAGE) {
            build.args(["--features", RUST_API_FEATURE]);
        }
        run(&mut build)?;
    }
    let mut libraries = BTreeMap::new();
    for features in [C_API, C_API_STREAM, ALL_FEATURES] {
        libraries.insert(features, builder.staticlib(&ws.root, features)?);
    }
    let include = ws.root.join("runtime/include");
    for (source, bin, features) in c_programs {
        let library = libraries.get(features).ok_or_else(|| format!("{source}: no static library with {features}"))?;
        builder.compile_c(&[ws.root.join(source)], &include, library, &release.join(bin))?;
    }
    builder.check_links()?;

    // What ships, and what the tests run: every executable without its section headers.
    for source in sources(arch) {
        let elf = read(&release.join(source.bin()))?;
        write_executable(&options.bin_dir().join(bin_name(source, arch)), &sstrip(&elf)?)?;
    }
    install_c_api(ws, &libraries, &options.out.join(format!("runtime-{}", arch.name)))
}

/// The C API for C users, into `dir`: the header, both static libraries (`libraries`, by
/// features), the linker script, and a pkg-config file for each library (relocatable: the
/// prefix is found from the file's own directory) whose `Libs:` carry the link flags.
fn install_c_api(ws: &Workspace, libraries: &BTreeMap<&str, PathBuf>, dir: &Path) -> Result {
    write_if_changed(&dir.join("include").join(HEADER), &read(&ws.root.join("runtime/include").join(HEADER))?)?;
    write_linker_script(&dir.join("lib"))?;
    for (features, library, pc, what) in [
        (C_API, "lambda_libc", "lambda-libc", "the C API"),
        (C_API_STREAM, "lambda_libc_stream", "lambda-libc-stream", "the C API with streaming"),
    ] {
        let archive = read(libraries.get(features).ok_or_else(|| format!("no static library with {features}"))?)?;
        write_if_changed(&dir.join(format!("lib/lib{library}.a")), &archive)?;
        let version = env!("CARGO_PKG_VERSION");
        let libs = pkg_config_libs(library);
        let text = format!(
            "prefix=${{pcfiledir}}/../..\nlibdir=${{prefix}}/lib\nincludedir=${{prefix}}/include\n\n\
             Name: {pc}\nDescription: lambda-libc, {what}: a no_std, allocation-free AWS Lambda Runtime API client (static)\n\
             Version: {version}\nLibs: {libs}\nCflags: -I${{includedir}}\n"
        );
        write_if_changed(&dir.join(format!("lib/pkgconfig/{pc}.pc")), text.as_bytes())?;
    }
    Ok(())
}

/// Whether a missing tool is an error (CI) rather than a loud skip.
pub fn require_tools() -> bool {
    std::env::var("LAMBDA_LIBC_REQUIRE_TOOLS").as_deref() == Ok("1")
}

/// Writes the zips of the architectures built and `SHA256SUMS` (removing the zips and ELFs of
/// any other), verifies every ELF and zip and prints the table to `out`. Problems are
/// recorded in the result; see [`fail_on_problems`].
pub fn package(options: &Options, arches: &[&Arch], out: &mut dyn Write) -> Result<Vec<Built>> {
    let built_for = |arch: &Arch| arches.iter().any(|a| a.name == arch.name);
    let bin = options.bin_dir();
    fs::create_dir_all(&bin).context(format_args!("cannot create {}", bin.display()))?;
    let mut built = Vec::new();
    let mut zips = Vec::new();
    for b in BOOTSTRAPS {
        let zip_path = options.out.join(b.zip);
        if !built_for(b.arch) {
            remove_stale(&zip_path)?;
            remove_stale(&bin.join(bin_name(&b.source, b.arch)))?;
            continue;
        }
        let elf = read(&bin.join(bin_name(&b.source, b.arch)))?;
        let zip = write_zip(&elf, &zip_path)?;
        let problems = verify::zip_problems(&zip, b.arch, Some(max_zip_bytes(b.zip)));
        built.push(Built { name: b.name().to_owned(), elf_bytes: elf.len(), zip_bytes: Some(zip.len()), problems });
        zips.push((b.zip, zip));
    }
    let sums = sha256sums(zips.iter().map(|(name, zip)| (*name, zip.as_slice())));
    write_if_changed(&options.out.join("SHA256SUMS"), sums.as_bytes())?;

    for extra in EXTRAS {
        let path = bin.join(bin_name(&extra.source, extra.arch));
        if !built_for(extra.arch) {
            remove_stale(&path)?;
            continue;
        }
        let elf = read(&path)?;
        built.push(Built {
            name: format!("{} ({})", extra.source.bin(), extra.arch.name),
            elf_bytes: elf.len(),
            zip_bytes: None,
            problems: verify::elf_problems(&elf),
        });
    }

    print_table(&built, out).context("writing the table")?;
    Ok(built)
}

/// Removes what an earlier `dist` wrote for an architecture this one did not build.
fn remove_stale(path: &Path) -> Result {
    match fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(format!("cannot remove {}: {e}", path.display()).into())
        }
        _ => Ok(()),
    }
}

/// An error naming every problem the verifier found, if any.
pub fn fail_on_problems(built: &[Built]) -> Result {
    let mut message = String::new();
    for b in built {
        for problem in &b.problems {
            let _ = write!(message, "\n  {}: {problem}", b.name);
        }
    }
    if message.is_empty() { Ok(()) } else { Err(format!("verifier failed:{message}").into()) }
}

fn print_table(built: &[Built], out: &mut dyn Write) -> std::io::Result<()> {
    let width = built.iter().map(|b| b.name.len()).max().unwrap_or(0).max(9);
    writeln!(out, "{:<width$}  {:>9}  {:>9}  verifier", "bootstrap", "ELF bytes", "zip bytes")?;
    for b in built {
        let zip = b.zip_bytes.map_or_else(|| "-".to_owned(), |n| n.to_string());
        let verdict = if b.problems.is_empty() { "ok".to_owned() } else { format!("{} problem(s)", b.problems.len()) };
        writeln!(out, "{:<width$}  {:>9}  {:>9}  {verdict}", b.name, b.elf_bytes, zip)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_consistent() {
        for b in BOOTSTRAPS {
            assert!(b.zip.ends_with(".zip") && b.name().contains(b.arch.name), "{b:?}");
            assert!(ARCHES.iter().any(|a| a.rust_target == b.arch.rust_target));
        }
        let names: BTreeSet<_> = BOOTSTRAPS.iter().map(|b| b.zip).collect();
        assert_eq!(names.len(), BOOTSTRAPS.len(), "zip names are unique");
    }

    #[test]
    fn ci_installs_the_pinned_debian_rustc() {
        let ws = Workspace::locate().unwrap();
        let ci = std::fs::read_to_string(ws.root.join(".ci/run")).unwrap();
        let version = cargo_lambda_libc::debian_rust::VERSION;
        assert!(ci.contains(&format!("rustc_web={version}\n")), ".ci/run must install rustc-web={version}");
    }
}
