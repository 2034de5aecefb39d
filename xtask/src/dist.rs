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
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use object::elf;
use sha2::{Digest, Sha256};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

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
}

pub const X86_64: Arch = Arch {
    name: "x86_64",
    rust_target: "x86_64-unknown-linux-gnu",
    zig_target: "x86_64-linux-gnu.2.34",
    elf_machine: elf::EM_X86_64.0,
    interpreter: "/lib64/ld-linux-x86-64.so.2",
};

pub const ARM64: Arch = Arch {
    name: "arm64",
    rust_target: "aarch64-unknown-linux-gnu",
    zig_target: "aarch64-linux-gnu.2.34",
    elf_machine: elf::EM_AARCH64.0,
    interpreter: "/lib/ld-linux-aarch64.so.1",
};

/// Every architecture the verifier knows.
pub const ARCHES: &[&Arch] = &[&X86_64, &ARM64];

/// How a bootstrap is built.
#[derive(Debug)]
pub enum Source {
    /// A binary of a workspace package, built with cargo.
    Cargo { package: &'static str, bin: &'static str },
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
pub const BOOTSTRAPS: &[Bootstrap] = &[Bootstrap {
    zip: "bootstrap-rust-x86_64.zip",
    source: Source::Cargo { package: "lambda-libc-example", bin: "bootstrap" },
    arch: &X86_64,
}];

/// Packages built alongside the bootstraps, for the integration tests. Their binaries
/// (names starting with `bin_prefix`) are verified like bootstraps but not zipped.
pub struct Extra {
    pub package: &'static str,
    pub bin_prefix: &'static str,
    pub arch: &'static Arch,
}

pub const EXTRAS: &[Extra] = &[Extra { package: "lambda-libc-fixtures", bin_prefix: "fixture", arch: &X86_64 }];

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
        match self.source {
            Source::Cargo { bin, .. } => ws.release_dir(self.arch.rust_target).join(bin),
        }
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

/// Writes the deployment zip of `elf` ([`zip_bootstrap`]) to `path`, unless the file already
/// holds exactly those bytes, and returns them. `dist` and `xtask zip` (the Nix flake's zip
/// step) both write their zips through this function.
pub fn write_zip(elf: &[u8], path: &Path) -> Result<Vec<u8>> {
    let zip = zip_bootstrap(elf)?;
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

/// Builds all bootstraps and extras with the zig linker (one cargo build per architecture).
pub fn build(ws: &Workspace) -> Result {
    let zig = Zig::ensure(ws)?;
    let mut arches: Vec<&Arch> = Vec::new();
    for arch in BOOTSTRAPS.iter().map(|b| b.arch).chain(EXTRAS.iter().map(|e| e.arch)) {
        if !arches.iter().any(|a| a.rust_target == arch.rust_target) {
            arches.push(arch);
        }
    }
    for arch in arches {
        let linker = zig.linker_wrapper(ws, arch)?;
        let mut packages = BTreeSet::new();
        for b in BOOTSTRAPS.iter().filter(|b| b.arch.rust_target == arch.rust_target) {
            let Source::Cargo { package, .. } = b.source;
            packages.insert(package);
        }
        for e in EXTRAS.iter().filter(|e| e.arch.rust_target == arch.rust_target) {
            packages.insert(e.package);
        }
        let mut cmd = cargo();
        // Always --target: the bootstraps' link flags must never reach build scripts.
        cmd.current_dir(&ws.root).args(["build", "--release", "--target", arch.rust_target]);
        for package in packages {
            cmd.args(["-p", package]);
        }
        let var = format!("CARGO_TARGET_{}_LINKER", arch.rust_target.to_uppercase().replace('-', "_"));
        cmd.env(var, &linker);
        run(&mut cmd)?;
    }
    Ok(())
}

/// Writes the zips and `SHA256SUMS`, verifies every ELF and zip and prints the table to
/// `out`. Problems are recorded in the result; see [`fail_on_problems`].
pub fn package(ws: &Workspace, out: &mut dyn Write) -> Result<Vec<Built>> {
    fs::create_dir_all(&ws.dist).context(format_args!("cannot create {}", ws.dist.display()))?;
    let mut built = Vec::new();
    let mut sums = Vec::new();
    for b in BOOTSTRAPS {
        let elf = read(&b.elf_path(ws))?;
        let zip = write_zip(&elf, &b.zip_path(ws))?;
        sums.push((b.zip, hex(&Sha256::digest(&zip))));
        let report = verify::check_zip(&zip);
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

    for extra in EXTRAS {
        let dir = ws.release_dir(extra.arch.rust_target);
        let mut found = false;
        let mut entries: Vec<_> = fs::read_dir(&dir)
            .context(format_args!("cannot list {}", dir.display()))?
            .filter_map(|entry| entry.ok())
            .collect();
        entries.sort_by_key(|entry| entry.file_name());
        for entry in entries {
            let file_name = entry.file_name().to_string_lossy().into_owned();
            let executable = entry.metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0);
            if !file_name.starts_with(extra.bin_prefix) || file_name.contains('.') || !executable {
                continue;
            }
            found = true;
            let elf = read(&entry.path())?;
            built.push(Built {
                name: format!("{file_name} ({})", extra.arch.name),
                elf_bytes: elf.len(),
                zip_bytes: None,
                problems: verify::elf_problems(&elf),
            });
        }
        if !found {
            return Err(format!("no {}* binaries of {} in {}", extra.bin_prefix, extra.package, dir.display()).into());
        }
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
pub fn dist(ws: &Workspace) -> Result {
    build(ws)?;
    let built = package(ws, &mut std::io::stdout())?;
    fail_on_problems(&built)
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
    fn write_zip_writes_the_zip_bootstrap_bytes() {
        let dir = std::env::temp_dir().join(format!("xtask-write-zip-{}", std::process::id()));
        let path = dir.join("sub/bootstrap-test.zip");
        let elf: Vec<u8> = b"\x7fELF not really ".repeat(20);
        let written = write_zip(&elf, &path).unwrap();
        let on_disk = fs::read(&path).unwrap();
        fs::remove_dir_all(&dir).unwrap();
        assert_eq!(written, zip_bootstrap(&elf).unwrap());
        assert_eq!(on_disk, written);
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
