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
//! architecture, an [`Arch`] in [`ARCHES`]).
//!
//! Zip bytes are reproducible for a given ELF: one entry, fixed date (1980-01-01 00:00),
//! fixed mode, no extra fields, deflate by the `zip` crate =9.8.1 with its pure-Rust zopfli
//! backend (`zopfli` 0.8.x, version fixed by Cargo.lock) at [`DEFLATE_LEVEL`].

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::fs;
use std::io::{Cursor, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use object::elf;
use sha2::{Digest, Sha256};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

use crate::debian_rust::DebianRust;
use crate::sstrip::sstrip;
use crate::util::{Context, Result, Workspace, cargo, hex, read, run, write_if_changed};
use crate::verify::{self, ZIP_ENTRY, ZIP_ENTRY_MODE};
use crate::zig::Zig;

/// A Lambda architecture: how to build for it and what its ELF files must look like.
#[derive(Debug)]
pub struct Arch {
    /// Lambda's name for it, used in zip names.
    pub name: &'static str,
    pub rust_target: &'static str,
    /// zig's target with the glibc version pin (Amazon Linux 2023 has glibc 2.34).
    pub zig_target: &'static str,
    pub elf_machine: u16,
    /// The FHS dynamic loader path, as on Amazon Linux.
    pub interpreter: &'static str,
    /// Which Rust compiler builds for it (unless `--one-toolchain`).
    pub toolchain: Toolchain,
    /// What its ELFs' names in `bin/` end with.
    pub bin_suffix: &'static str,
}

/// The Rust compiler of an architecture.
#[derive(Debug, PartialEq, Eq)]
pub enum Toolchain {
    /// rustup's, pinned by `rust-toolchain.toml`.
    Rustup,
    /// Debian's, with its arm64 standard library ([`DebianRust`]), on x86_64 machines.
    DebianArm64,
}

pub const X86_64: Arch = Arch {
    name: "x86_64",
    rust_target: "x86_64-unknown-linux-gnu",
    zig_target: "x86_64-linux-gnu.2.34",
    elf_machine: elf::EM_X86_64.0,
    interpreter: "/lib64/ld-linux-x86-64.so.2",
    toolchain: Toolchain::Rustup,
    bin_suffix: "",
};

pub const ARM64: Arch = Arch {
    name: "arm64",
    rust_target: "aarch64-unknown-linux-gnu",
    zig_target: "aarch64-linux-gnu.2.34",
    elf_machine: elf::EM_AARCH64.0,
    interpreter: "/lib/ld-linux-aarch64.so.1",
    toolchain: Toolchain::DebianArm64,
    bin_suffix: "-arm64",
};

impl Arch {
    /// `name` in cargo's environment variables: `X86_64_UNKNOWN_LINUX_GNU`.
    fn cargo_env(&self) -> String {
        self.rust_target.to_uppercase().replace('-', "_")
    }

    /// The architecture Lambda calls `name`.
    pub fn named(name: &str) -> Option<&'static Arch> {
        ARCHES.iter().copied().find(|a| a.name == name)
    }
}

/// Makes `cmd` (a cargo command with `--target arch.rust_target`) link the target's
/// programs with `linker`, and nothing else with it.
///
/// The linker goes in the target's rustflags (`-C linker=…`), not in
/// `CARGO_TARGET_<T>_LINKER`: with `--target`, cargo applies a target's `linker` to build
/// scripts too when the target is the host, but never its rustflags. Build scripts are thus
/// linked by the host's own `cc` (in the Nix sandbox, stdenv's), and run there; zig's, for
/// glibc 2.34 with the FHS loader, would not start in the sandbox. Cargo merges this
/// variable with `target.<triple>.rustflags` of `.cargo/config.toml`. Flags from the
/// environment (`RUSTFLAGS` and the like) would replace those and change the bytes: they
/// are removed.
pub fn link_with(cmd: &mut Command, arch: &Arch, linker: &Path) -> Result {
    let linker = linker.to_str().filter(|l| !l.contains(char::is_whitespace)).ok_or_else(|| {
        format!("the linker path {} has white space (cargo splits rustflags at it)", linker.display())
    })?;
    let env = arch.cargo_env();
    for var in ["RUSTFLAGS", "CARGO_ENCODED_RUSTFLAGS", "CARGO_BUILD_RUSTFLAGS", &format!("CARGO_TARGET_{env}_LINKER")]
    {
        cmd.env_remove(var);
    }
    cmd.env(format!("CARGO_TARGET_{env}_RUSTFLAGS"), format!("-C linker={linker}"));
    Ok(())
}

/// Every architecture the verifier knows.
pub const ARCHES: &[&Arch] = &[&X86_64, &ARM64];

/// How a bootstrap is built.
#[derive(Debug)]
pub enum Source {
    /// A binary of a workspace package, built with cargo.
    Cargo { package: &'static str, bin: &'static str },
    /// A C program (path from the workspace root), linked against lambda-libc's static
    /// library built with `features` (`c-api`, or `c-api-stream` for the streaming
    /// functions) by `example-c/Makefile` with zig cc as the compiler; the ELF is written to
    /// the release directory as `bin`.
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

const RUST_ECHO: Source = Source::Cargo { package: "lambda-libc-example", bin: "bootstrap" };
const C_ECHO: Source = Source::C { source: "example-c/function.c", bin: "bootstrap-c", features: C_API };
/// The streaming echoes: every event streamed back in chunks of at most 4 KiB.
const RUST_STREAM: Source = Source::Cargo { package: "lambda-libc-example", bin: "bootstrap-stream" };
const C_STREAM: Source = Source::C { source: "example-c/stream.c", bin: "bootstrap-c-stream", features: C_API_STREAM };
/// The JSON API on a function URL (example-rust/src/api.rs), built with [`RUST_API_FEATURE`].
const RUST_API: Source = Source::Cargo { package: "lambda-libc-example", bin: "bootstrap-api" };
/// The feature that builds the JSON API (see example-rust/Cargo.toml for why it is one).
pub const RUST_API_FEATURE: &str = "lambda-libc-example/api";

/// The static library's features for the C API, and for the C API with streaming (the
/// streaming functions stay out of the plain library: in one LTO unit with it, they would
/// change how the plain functions are inlined, and the C echo would grow).
pub const C_API: &str = "c-api";
pub const C_API_STREAM: &str = "c-api-stream";

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

const RUST_FIXTURE: Source = Source::Cargo { package: "lambda-libc-fixtures", bin: "fixture" };
const C_FIXTURE: Source = Source::C { source: "tests/fixtures/fixture.c", bin: "fixture-c", features: C_API_STREAM };

/// zip's deflate level: 10..=264 select zopfli with `level - 9` iterations, i.e. 255 at 264
/// (the crate's best). Measured on a 14,728 B bootstrap: zlib-rs level 9 gave an 8,437 B
/// zip, zopfli 8,135 B (1 iteration) .. 8,112 B (255 iterations). zopfli is slow without
/// optimisation (~6 s for that file in a dev build, 0.7 s optimised): the workspace should
/// set `[profile.dev.package.zopfli] opt-level = 3`. Output bytes do not depend on it.
pub const DEFLATE_LEVEL: i64 = 264;

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

/// Deterministic deployment zip: one entry `bootstrap`, mode 0755, 1980-01-01 00:00, deflate
/// (zopfli, [`DEFLATE_LEVEL`]), no extra fields, no comment.
pub fn zip_bootstrap(elf: &[u8]) -> Result<Vec<u8>> {
    zip_bootstrap_with_level(elf, DEFLATE_LEVEL)
}

/// [`zip_bootstrap`] with another deflate level (1..=9: flate2/zlib-rs, 10..=264: zopfli).
pub fn zip_bootstrap_with_level(elf: &[u8], level: i64) -> Result<Vec<u8>> {
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .compression_level(Some(level))
        .last_modified_time(DateTime::default())
        .system(zip::System::Unix)
        .unix_permissions(ZIP_ENTRY_MODE & 0o777)
        .large_file(false);
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    writer.start_file(ZIP_ENTRY, options).context("zip: start entry")?;
    writer.write_all(elf).context("zip: write entry")?;
    Ok(writer.finish().context("zip: finish")?.into_inner())
}

/// The deployment zip of the executable `elf`: [`sstrip`]ped (no section headers: what
/// the kernel and the dynamic loader never read), then [`zip_bootstrap`].
pub fn deployment_zip(elf: &[u8]) -> Result<Vec<u8>> {
    zip_bootstrap(&sstrip(elf)?)
}

/// Writes the [`deployment_zip`] of `elf` to `path`, unless the file already holds exactly
/// those bytes, and returns them. `dist` and `xtask zip` both write their zips through this
/// function.
pub fn write_zip(elf: &[u8], path: &Path) -> Result<Vec<u8>> {
    let zip = deployment_zip(elf)?;
    write_if_changed(path, &zip)?;
    Ok(zip)
}

/// What `dist` builds, with what, and where it writes.
#[derive(Debug)]
pub struct Options {
    /// The architectures to build, in [`ARCHES`] order.
    pub arches: Vec<&'static Arch>,
    /// Build every architecture with the cargo that runs xtask, whose toolchain must have
    /// every target's standard library (the flake's has), instead of each architecture's
    /// own [`Toolchain`].
    pub one_toolchain: bool,
    /// The output directory (see the module's table).
    pub out: PathBuf,
}

impl Options {
    /// Every architecture, each with its own toolchain, into `dist/`: `cargo xtask dist`.
    pub fn all(ws: &Workspace) -> Self {
        Self { arches: ARCHES.to_vec(), one_toolchain: false, out: ws.dist.clone() }
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
    let zig = Zig::ensure(ws)?;
    let mut built = Vec::new();
    for &arch in &options.arches {
        let debian = match arch.toolchain {
            _ if options.one_toolchain => None,
            Toolchain::Rustup => None,
            Toolchain::DebianArm64 => match DebianRust::find(ws)? {
                Ok(debian) => Some(debian),
                Err(why) if require_tools() => {
                    return Err(format!("{} (LAMBDA_LIBC_REQUIRE_TOOLS=1): {why}", arch.name).into());
                }
                Err(why) => {
                    eprintln!("xtask: warning: SKIPPING the {} bootstraps: {why}", arch.name);
                    continue;
                }
            },
        };
        build_arch(ws, options, &zig, arch, debian.as_ref())?;
        built.push(arch);
    }
    Ok(built)
}

/// The programs `dist` builds for `arch`: its bootstraps, then its extras.
fn sources(arch: &Arch) -> impl Iterator<Item = &'static Source> {
    let bootstraps = BOOTSTRAPS.iter().filter(move |b| b.arch.name == arch.name).map(|b| &b.source);
    bootstraps.chain(EXTRAS.iter().filter(move |e| e.arch.name == arch.name).map(|e| &e.source))
}

/// One architecture: one cargo build of the Rust programs, the static library with each
/// feature set the C programs need, `make` per C program; then the ELFs into `bin/` and the
/// C API into `runtime-<arch>/`.
fn build_arch(ws: &Workspace, options: &Options, zig: &Zig, arch: &Arch, debian: Option<&DebianRust>) -> Result {
    let linker = zig.linker_wrapper(ws, arch)?;
    let cargo = || -> Result<Command> {
        let mut cmd = cargo();
        cmd.current_dir(&ws.root);
        if let Some(debian) = debian {
            debian.configure(&mut cmd);
        }
        link_with(&mut cmd, arch, &linker)?;
        Ok(cmd)
    };
    let release = ws.release_dir(arch.rust_target);
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

    let mut build = cargo()?;
    // Always --target: see `link_with`.
    build.args(["build", "--release", "--target", arch.rust_target]);
    for package in packages {
        build.args(["-p", package]);
    }
    build.args(["--features", RUST_API_FEATURE]);
    run(&mut build)?;
    for features in [C_API, C_API_STREAM] {
        // Each feature set keeps its own copy: cargo writes every build to one file.
        run(cargo()?.args(staticlib(features)).args(["--target", arch.rust_target]))?;
        let built = release.join(STATICLIB_FILE);
        let copy = release.join(staticlib_copy(features));
        fs::copy(&built, &copy).context(format_args!("copying {} to {}", built.display(), copy.display()))?;
    }
    for (source, bin, features) in c_programs {
        let mut make = Command::new("make");
        make.arg("-s").arg("-C").arg(ws.root.join("example-c"));
        make.arg(format!("CC={}", linker.display()));
        make.arg(format!("LAMBDA_LIBC={}", release.join(staticlib_copy(features)).display()));
        make.arg(format!("SRC={}", ws.root.join(source).display()));
        make.arg(format!("OUT={}", release.join(bin).display()));
        run(&mut make).context("make (example-c/Makefile)")?;
    }
    let foreign = foreign_links(&Zig::linked(&linker)?, &ws.target.join(arch.rust_target));
    if !foreign.is_empty() {
        let list: Vec<String> = foreign.iter().map(|p| format!("\n  {}", p.display())).collect();
        return Err(format!(
            "zig linked files that are not {} programs:{}\nA program linked by zig is for glibc 2.34 with the \
             FHS loader; one that runs during the build (a build script) does not start in the Nix sandbox. \
             Give cargo the linker with `link_with` (xtask/src/dist.rs).",
            arch.rust_target,
            list.concat()
        )
        .into());
    }

    // What ships, and what the tests run: every executable without its section headers.
    for source in sources(arch) {
        let elf = read(&release.join(source.bin()))?;
        let path = options.bin_dir().join(bin_name(source, arch));
        write_if_changed(&path, &sstrip(&elf)?)?;
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755))
            .context(format_args!("cannot chmod {}", path.display()))?;
    }
    install_c_api(ws, &release, &options.out.join(format!("runtime-{}", arch.name)))
}

/// The files of `linked` (what the zig wrapper wrote) that lie outside `arch_dir`
/// (`<target>/<triple>/`, where the target's programs are built). A build script lies under
/// `<target>/release/build/` (or `debug`); `-` (a call without `-o`) is outside too.
pub fn foreign_links(linked: &[PathBuf], arch_dir: &Path) -> Vec<PathBuf> {
    let canonical = |p: &Path| -> PathBuf {
        match (p.parent().and_then(|d| fs::canonicalize(d).ok()), p.file_name()) {
            (Some(dir), Some(name)) => dir.join(name),
            _ => p.to_path_buf(),
        }
    };
    let arch_dir = fs::canonicalize(arch_dir).unwrap_or_else(|_| arch_dir.to_path_buf());
    linked.iter().filter(|p| !(p.is_absolute() && canonical(p).starts_with(&arch_dir))).cloned().collect()
}

/// The C API for C users, into `dir`: the header, both static libraries and a pkg-config
/// file for each (relocatable: the prefix is found from the file's own directory).
fn install_c_api(ws: &Workspace, release: &Path, dir: &Path) -> Result {
    let header = "lambda_libc.h";
    write_if_changed(&dir.join("include").join(header), &read(&ws.root.join("runtime/include").join(header))?)?;
    for (features, library, pc, what) in [
        (C_API, "lambda_libc", "lambda-libc", "the C API"),
        (C_API_STREAM, "lambda_libc_stream", "lambda-libc-stream", "the C API with streaming"),
    ] {
        let archive = read(&release.join(staticlib_copy(features)))?;
        write_if_changed(&dir.join(format!("lib/lib{library}.a")), &archive)?;
        let version = env!("CARGO_PKG_VERSION");
        let pc = format!(
            "prefix=${{pcfiledir}}/../..\nlibdir=${{prefix}}/lib\nincludedir=${{prefix}}/include\n\n\
             Name: {pc}\nDescription: lambda-libc, {what}: a no_std, allocation-free AWS Lambda Runtime API client (static)\n\
             Version: {version}\nLibs: -L${{libdir}} -l{library}\nCflags: -I${{includedir}}\n"
        );
        write_if_changed(&dir.join(format!("lib/pkgconfig/{pc}.pc")), pc.as_bytes())?;
    }
    Ok(())
}

/// Whether a missing tool is an error (CI) rather than a loud skip.
pub fn require_tools() -> bool {
    std::env::var("LAMBDA_LIBC_REQUIRE_TOOLS").as_deref() == Ok("1")
}

/// The cargo arguments that build lambda-libc's static library for C with `features`
/// ([`C_API`] or [`C_API_STREAM`]; plus `--target`).
pub fn staticlib(features: &str) -> [&str; 8] {
    ["rustc", "--release", "-p", "lambda-libc", "--features", features, "--crate-type", "staticlib"]
}
/// What [`staticlib`] writes into the release directory.
pub const STATICLIB_FILE: &str = "liblambda_libc.a";

/// Where the library built with `features` is kept in the release directory (a copy of
/// [`STATICLIB_FILE`]).
fn staticlib_copy(features: &str) -> String {
    format!("liblambda_libc-{features}.a")
}

/// Writes the zips of the architectures built and `SHA256SUMS` (removing the zips and ELFs of
/// any other), verifies every ELF and zip and prints the table to `out`. Problems are
/// recorded in the result; see [`fail_on_problems`].
pub fn package(options: &Options, arches: &[&Arch], out: &mut dyn Write) -> Result<Vec<Built>> {
    let built_for = |arch: &Arch| arches.iter().any(|a| a.name == arch.name);
    let bin = options.bin_dir();
    fs::create_dir_all(&bin).context(format_args!("cannot create {}", bin.display()))?;
    let mut built = Vec::new();
    let mut sums = Vec::new();
    for b in BOOTSTRAPS {
        let zip_path = options.out.join(b.zip);
        if !built_for(b.arch) {
            remove_stale(&zip_path)?;
            remove_stale(&bin.join(bin_name(&b.source, b.arch)))?;
            continue;
        }
        let elf = read(&bin.join(bin_name(&b.source, b.arch)))?;
        let zip = write_zip(&elf, &zip_path)?;
        sums.push((b.zip, hex(&Sha256::digest(&zip))));
        let report = verify::check_zip(&zip, verify::max_zip_bytes(b.zip));
        let mut problems = report.problems;
        if let Some(facts) = &report.facts
            && facts.machine != b.arch.elf_machine
        {
            problems.push(format!("ELF machine {} is not {}", facts.machine, b.arch.name));
        }
        built.push(Built { name: b.name().to_owned(), elf_bytes: elf.len(), zip_bytes: Some(zip.len()), problems });
    }
    // In zip name order, as `sha256sum *.zip` lists them.
    sums.sort();
    let sums: String = sums.iter().map(|(zip, hash)| format!("{hash}  {zip}\n")).collect();
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
    use std::io::Read;

    #[test]
    fn zip_is_deterministic_and_minimal() {
        // Small, so the test stays quick even with an unoptimised zopfli.
        let payload: Vec<u8> = b"\x7fELF bootstrap bytes ".repeat(40);
        let a = zip_bootstrap(&payload).unwrap();
        let b = zip_bootstrap(&payload).unwrap();
        assert_eq!(a, b);

        // Local file header: version, flags, method 8 (deflate), time 0, date 1980-01-01,
        // name length 9, extra length 0.
        assert_eq!(&a[..4], b"PK\x03\x04");
        assert_eq!(u16::from_le_bytes([a[8], a[9]]), 8, "deflate");
        assert_eq!(u16::from_le_bytes([a[10], a[11]]), 0, "time 00:00");
        assert_eq!(u16::from_le_bytes([a[12], a[13]]), (1 << 5) | 1, "date 1980-01-01");
        assert_eq!(u16::from_le_bytes([a[26], a[27]]), 9, "name length");
        assert_eq!(u16::from_le_bytes([a[28], a[29]]), 0, "no extra fields");
        assert_eq!(&a[30..39], b"bootstrap");

        let mut archive = zip::ZipArchive::new(Cursor::new(&a)).unwrap();
        assert_eq!(archive.len(), 1);
        let mut entry = archive.by_index(0).unwrap();
        assert_eq!(entry.name().unwrap(), "bootstrap");
        assert_eq!(entry.unix_mode(), Some(0o100_755));
        assert!(entry.extra_data().is_none_or(|d| d.is_empty()));
        let mut back = Vec::new();
        entry.read_to_end(&mut back).unwrap();
        assert_eq!(back, payload);
    }

    #[test]
    fn write_zip_writes_the_sstripped_executable() {
        let dir = std::env::temp_dir().join(format!("xtask-write-zip-{}", std::process::id()));
        let path = dir.join("sub/bootstrap-test.zip");
        // A small ELF executable with section headers.
        let Some(elf) =
            crate::verify::tests::zig_cc("write-zip", crate::verify::tests::AL2023, crate::verify::tests::MAIN, &[])
        else {
            return;
        };
        let written = write_zip(&elf, &path);
        let on_disk = fs::read(&path);
        fs::remove_dir_all(&dir).unwrap();
        let written = written.unwrap();
        let stripped = sstrip(&elf).unwrap();
        assert!(stripped.len() < elf.len());
        assert_eq!(written, zip_bootstrap(&stripped).unwrap());
        assert_eq!(on_disk.unwrap(), written);
        assert!(write_zip(b"\x7fELF not really", &path).is_err(), "only an executable is zipped");
    }

    #[test]
    fn only_the_targets_programs_may_be_linked_by_zig() {
        let arch_dir = Path::new("/w/target/x86_64-unknown-linux-gnu");
        let linked = [
            "/w/target/x86_64-unknown-linux-gnu/release/deps/bootstrap-0123",
            "/w/target/x86_64-unknown-linux-gnu/release/bootstrap-c",
            "/w/target/release/build/libc-4567/build_script_build-4567",
            "target/x86_64-unknown-linux-gnu/release/relative",
            "-",
        ]
        .map(PathBuf::from);
        let foreign = foreign_links(&linked, arch_dir);
        assert_eq!(foreign, linked[2..], "a build script, a relative path and a call without -o");
    }

    #[test]
    fn tables_are_consistent() {
        for b in BOOTSTRAPS {
            assert!(b.zip.ends_with(".zip") && b.name().contains(b.arch.name), "{b:?}");
            assert!(ARCHES.iter().any(|a| a.rust_target == b.arch.rust_target));
        }
        let names: BTreeSet<_> = BOOTSTRAPS.iter().map(|b| b.zip).collect();
        assert_eq!(names.len(), BOOTSTRAPS.len(), "zip names are unique");
    }
}
