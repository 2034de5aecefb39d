//! `cargo xtask dist`: build the bootstraps with zig as the linker (glibc 2.34), write
//! deterministic deployment zips and `SHA256SUMS` into `dist/`, verify everything.
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
    /// Which Rust compiler builds for it.
    pub toolchain: Toolchain,
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
};

pub const ARM64: Arch = Arch {
    name: "arm64",
    rust_target: "aarch64-unknown-linux-gnu",
    zig_target: "aarch64-linux-gnu.2.34",
    elf_machine: elf::EM_AARCH64.0,
    interpreter: "/lib/ld-linux-aarch64.so.1",
    toolchain: Toolchain::DebianArm64,
};

impl Arch {
    /// The environment variable that names cargo's linker for this architecture.
    pub fn linker_var(&self) -> String {
        format!("CARGO_TARGET_{}_LINKER", self.rust_target.to_uppercase().replace('-', "_"))
    }
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
];

const RUST_ECHO: Source = Source::Cargo { package: "lambda-libc-example", bin: "bootstrap" };
const C_ECHO: Source = Source::C { source: "example-c/function.c", bin: "bootstrap-c", features: C_API };
/// The streaming echoes: every event streamed back in chunks of at most 4 KiB.
const RUST_STREAM: Source = Source::Cargo { package: "lambda-libc-example", bin: "bootstrap-stream" };
const C_STREAM: Source = Source::C { source: "example-c/stream.c", bin: "bootstrap-c-stream", features: C_API_STREAM };

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

    /// Where the build leaves the ELF.
    pub fn elf_path(&self, ws: &Workspace) -> PathBuf {
        ws.release_dir(self.arch.rust_target).join(self.source.bin())
    }

    pub fn zip_path(&self, ws: &Workspace) -> PathBuf {
        ws.dist.join(self.zip)
    }
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
/// those bytes, and returns them. `dist` and `xtask zip` (the Nix flake's zip step) both
/// write their zips through this function.
pub fn write_zip(elf: &[u8], path: &Path) -> Result<Vec<u8>> {
    let zip = deployment_zip(elf)?;
    write_if_changed(path, &zip)?;
    Ok(zip)
}

/// One built ELF and, for bootstraps, its zip.
pub struct Built {
    pub name: String,
    pub elf_bytes: usize,
    pub zip_bytes: Option<usize>,
    pub problems: Vec<String>,
}

/// Builds all bootstraps and extras with zig as the linker: per architecture one cargo
/// build, then (if C programs are wanted) the static library and `make` per C program.
/// Returns the architectures built: one whose compiler this machine lacks is skipped with
/// a warning, or is an error when `LAMBDA_LIBC_REQUIRE_TOOLS=1`.
pub fn build(ws: &Workspace) -> Result<Vec<&'static Arch>> {
    let zig = Zig::ensure(ws)?;
    let sources: Vec<(&Source, &Arch)> =
        BOOTSTRAPS.iter().map(|b| (&b.source, b.arch)).chain(EXTRAS.iter().map(|e| (&e.source, e.arch))).collect();
    let mut arches: Vec<&'static Arch> = Vec::new();
    for &(_, arch) in &sources {
        if !arches.iter().any(|a| a.rust_target == arch.rust_target) {
            arches.push(arch);
        }
    }
    let mut built = Vec::new();
    for arch in arches {
        let debian = match arch.toolchain {
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
        let cargo = || {
            let mut cmd = cargo();
            cmd.current_dir(&ws.root);
            if let Some(debian) = &debian {
                debian.configure(&mut cmd);
            }
            cmd
        };
        let linker = zig.linker_wrapper(ws, arch)?;
        let mine: Vec<&Source> =
            sources.iter().filter(|(_, a)| a.rust_target == arch.rust_target).map(|&(s, _)| s).collect();
        let mut packages = BTreeSet::new();
        let mut c_programs = Vec::new();
        for &source in &mine {
            match *source {
                Source::Cargo { package, .. } => {
                    packages.insert(package);
                }
                Source::C { source, bin, features } => c_programs.push((source, bin, features)),
            }
        }
        let linker_var = arch.linker_var();
        let release = ws.release_dir(arch.rust_target);
        if !packages.is_empty() {
            let mut cmd = cargo();
            // Always --target: the bootstraps' link flags must never reach build scripts.
            cmd.args(["build", "--release", "--target", arch.rust_target]);
            for package in packages {
                cmd.args(["-p", package]);
            }
            run(cmd.env(&linker_var, &linker))?;
        }
        let mut libraries = BTreeSet::new();
        for &(_, _, features) in &c_programs {
            if libraries.insert(features) {
                // Each feature set keeps its own copy: cargo writes every build to one file.
                run(cargo().args(staticlib(features)).args(["--target", arch.rust_target]))?;
                let built = release.join(STATICLIB_FILE);
                let copy = release.join(staticlib_copy(features));
                fs::copy(&built, &copy).context(format_args!("copying {} to {}", built.display(), copy.display()))?;
            }
        }
        for &(source, bin, features) in &c_programs {
            let mut make = Command::new("make");
            make.arg("-s").arg("-C").arg(ws.root.join("example-c"));
            make.arg(format!("CC={}", linker.display()));
            make.arg(format!("LAMBDA_LIBC={}", release.join(staticlib_copy(features)).display()));
            make.arg(format!("SRC={}", ws.root.join(source).display()));
            make.arg(format!("OUT={}", release.join(bin).display()));
            run(&mut make).context("make (example-c/Makefile)")?;
        }
        // What ships, and what the tests run: every executable without its section headers.
        for source in mine {
            let path = release.join(source.bin());
            write_if_changed(&path, &sstrip(&read(&path)?)?)?;
        }
        built.push(arch);
    }
    Ok(built)
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

/// Writes the zips and `SHA256SUMS`, verifies every ELF and zip and prints the table to
/// `out`. Problems are recorded in the result; see [`fail_on_problems`].
pub fn package(ws: &Workspace, arches: &[&Arch], out: &mut dyn Write) -> Result<Vec<Built>> {
    let built_for = |arch: &Arch| arches.iter().any(|a| a.name == arch.name);
    fs::create_dir_all(&ws.dist).context(format_args!("cannot create {}", ws.dist.display()))?;
    let mut built = Vec::new();
    let mut sums = Vec::new();
    for b in BOOTSTRAPS.iter().filter(|b| built_for(b.arch)) {
        let elf = read(&b.elf_path(ws))?;
        let zip = write_zip(&elf, &b.zip_path(ws))?;
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
    // In zip name order, as `sha256sum *.zip` lists them (the flake's `dist` package does).
    sums.sort();
    let sums: String = sums.iter().map(|(zip, hash)| format!("{hash}  {zip}\n")).collect();
    write_if_changed(&ws.dist.join("SHA256SUMS"), sums.as_bytes())?;

    for extra in EXTRAS.iter().filter(|e| built_for(e.arch)) {
        let path = ws.release_dir(extra.arch.rust_target).join(extra.source.bin());
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

/// `cargo xtask dist`.
/// Returns the architectures built.
pub fn dist(ws: &Workspace) -> Result<Vec<&'static Arch>> {
    let arches = build(ws)?;
    let built = package(ws, &arches, &mut std::io::stdout())?;
    fail_on_problems(&built)?;
    Ok(arches)
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
        let Some(elf) = crate::verify::tests::host_cc("write-zip", crate::verify::tests::MAIN, &[]) else {
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
    fn tables_are_consistent() {
        for b in BOOTSTRAPS {
            assert!(b.zip.ends_with(".zip") && b.name().contains(b.arch.name), "{b:?}");
            assert!(ARCHES.iter().any(|a| a.rust_target == b.arch.rust_target));
        }
        let names: BTreeSet<_> = BOOTSTRAPS.iter().map(|b| b.zip).collect();
        assert_eq!(names.len(), BOOTSTRAPS.len(), "zip names are unique");
    }
}
