//! Which Rust compiler builds for an architecture: the toolchain of the cargo that runs
//! (rustup's, the Nix flake's), or, for arm64 on an x86_64 machine whose toolchain lacks the
//! arm64 standard library, Debian's ([`DebianRust`]).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::arch::{ARM64, Arch};
use crate::debian_rust::{self, DebianRust};
use crate::error::Result;
use crate::process::output;

/// How the compiler of each architecture is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Toolchains {
    /// Every architecture with the running cargo, whose toolchain must have every target's
    /// standard library (the Nix flake's has): `--one-toolchain`.
    One,
    /// The running cargo where its toolchain has the target's standard library; else, for
    /// arm64, Debian's (`cargo lambda-libc build`).
    Auto,
    /// arm64 always with Debian's, everything else with the running cargo: the pinned
    /// compilers of `cargo xtask dist` (docs/reproducibility.md).
    DebianArm64,
}

/// The Rust compiler of one architecture.
pub enum Compiler {
    /// The running cargo's toolchain.
    Running,
    /// Debian's rustc with its arm64 standard library.
    Debian(DebianRust),
}

impl Compiler {
    /// The compiler `toolchains` gives `arch`, with Debian's route unpacked into `tools` if
    /// it is the one; `Ok(Err(why))` when this machine has no compiler for `arch`, saying how
    /// to install one. `dir` is where cargo will run (rustup picks the toolchain there).
    pub fn choose(
        arch: &Arch,
        toolchains: Toolchains,
        tools: &Path,
        dir: &Path,
    ) -> Result<std::result::Result<Self, String>> {
        let host = Arch::host().is_some_and(|h| h == arch);
        match toolchains {
            Toolchains::One => Ok(Ok(Self::Running)),
            _ if host => Ok(Ok(Self::Running)),
            Toolchains::DebianArm64 if *arch == ARM64 => Ok(DebianRust::find(tools)?.map(Self::Debian)),
            Toolchains::DebianArm64 => Ok(Ok(Self::Running)),
            Toolchains::Auto => {
                let sysroot = running_sysroot(dir)?;
                if sysroot.join("lib/rustlib").join(arch.rust_target).join("lib").is_dir() {
                    return Ok(Ok(Self::Running));
                }
                let missing = format!(
                    "the Rust toolchain at {} has no {target} standard library (`rustup target add {target}`)",
                    sysroot.display(),
                    target = arch.rust_target,
                );
                if *arch != ARM64 {
                    return Ok(Err(missing));
                }
                Ok(DebianRust::find(tools)?.map(Self::Debian).map_err(|why| {
                    format!(
                        "{missing}, and Debian's route is not there either: {why}.\n\
                         Either `rustup target add {}`, or, on Debian 12: `{}`",
                        arch.rust_target,
                        debian_rust::INSTALL
                    )
                }))
            }
        }
    }

    /// Makes `cmd` (a cargo command) build with this compiler.
    pub fn configure(&self, cmd: &mut Command) {
        if let Self::Debian(debian) = self {
            debian.configure(cmd);
        }
    }
}

/// The sysroot of the rustc that cargo runs in `dir`: `RUSTC`, else the `rustc` beside the
/// running cargo (`CARGO`, a toolchain's own binary), else `rustc` on `PATH`.
fn running_sysroot(dir: &Path) -> Result<PathBuf> {
    let beside_cargo = std::env::var_os("CARGO")
        .map(|cargo| PathBuf::from(cargo).with_file_name("rustc"))
        .filter(|rustc| rustc.is_file());
    let rustc = std::env::var_os("RUSTC").map(PathBuf::from).or(beside_cargo).unwrap_or_else(|| "rustc".into());
    let sysroot = output(Command::new(rustc).current_dir(dir).args(["--print", "sysroot"]))?;
    Ok(PathBuf::from(sysroot.trim()))
}
