//! arm64 on an x86_64 machine without rustup's arm64 standard library (which cannot be
//! downloaded here): Debian's rustc (package `rustc-web`) with its arm64 standard library
//! (`libstd-rust-web-dev:arm64`, unpacked into `target/tools/`), zig as the linker.
//!
//! One compiler per architecture: rustup's 1.95.0 for x86_64, Debian's for arm64 (rustup's
//! rustc cannot use Debian's libraries). The arm64 bytes depend on this version: change
//! [`VERSION`] deliberately (docs/reproducibility.md).

use std::fs;
use std::path::PathBuf;
use std::process::Command;

use crate::dist::Arch;
use crate::util::{Context, Result, Workspace, output, run};

/// The pinned Debian version of `rustc-web` and `libstd-rust-web-dev:arm64`.
pub const VERSION: &str = "1.96.0+dfsg1-1~deb12u2";
/// Debian's rustc.
const RUSTC: &str = "/usr/bin/rustc";
/// What installs the route on a Debian 12 machine.
pub const INSTALL: &str = "dpkg --add-architecture arm64 && apt-get update && \
     apt-get install rustc-web qemu-user libc6-arm64-cross";

/// Debian's rustc and the unpacked arm64 standard library.
pub struct DebianRust {
    sysroot: PathBuf,
}

impl DebianRust {
    /// The route, unpacking the standard library on first use; `Ok(Err(why))` when this
    /// machine does not have Debian's rustc at the pinned version.
    pub fn find(ws: &Workspace) -> Result<std::result::Result<Self, String>> {
        let installed = Command::new("dpkg-query").args(["-W", "-f=${Version}", "rustc-web"]).output();
        match installed {
            Ok(out) if out.status.success() && out.stdout == VERSION.as_bytes() => {}
            Ok(out) if out.status.success() => {
                return Ok(Err(format!(
                    "rustc-web is {}, not the pinned {VERSION} (xtask/src/debian_rust.rs)",
                    String::from_utf8_lossy(&out.stdout)
                )));
            }
            _ => return Ok(Err(format!("Debian's rustc-web {VERSION} is not installed ({INSTALL})"))),
        }
        let dir = ws.tools.join(format!("libstd-rust-web-dev-arm64-{VERSION}"));
        let sysroot = dir.join("usr");
        if !sysroot.join("lib/rustlib/aarch64-unknown-linux-gnu/lib").is_dir() {
            unpack_std(&dir)?;
        }
        Ok(Ok(Self { sysroot }))
    }

    /// Makes a cargo command build for `arch` with this compiler and standard library.
    pub fn configure<'c>(&self, cmd: &'c mut Command, arch: &Arch) -> &'c mut Command {
        let var = format!("CARGO_TARGET_{}_RUSTFLAGS", arch.rust_target.to_uppercase().replace('-', "_"));
        cmd.env("RUSTC", RUSTC)
            .env(var, format!("--sysroot {} -C target-feature=-outline-atomics", self.sysroot.display()))
    }
}

/// Downloads `libstd-rust-web-dev:arm64` at [`VERSION`] and unpacks it into `dir`.
fn unpack_std(dir: &std::path::Path) -> Result {
    let download = dir.with_extension("download");
    let _ = fs::remove_dir_all(&download);
    fs::create_dir_all(&download).context(format_args!("cannot create {}", download.display()))?;
    run(Command::new("apt-get")
        .current_dir(&download)
        .args(["download", &format!("libstd-rust-web-dev:arm64={VERSION}")]))
    .context(format_args!("downloading the arm64 standard library (needs `{INSTALL}` first)"))?;
    let deb = output(Command::new("sh").current_dir(&download).args(["-c", "ls *.deb"]))?;
    let _ = fs::remove_dir_all(dir);
    run(Command::new("dpkg-deb").arg("-x").arg(download.join(deb.trim())).arg(dir))?;
    fs::remove_dir_all(&download).context("removing the downloaded package")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ci_installs_the_pinned_version() {
        let ws = Workspace::locate().unwrap();
        let ci = std::fs::read_to_string(ws.root.join(".ci/run")).unwrap();
        assert!(ci.contains(&format!("rustc_web={VERSION}\n")), ".ci/run must install rustc-web={VERSION}");
    }
}
