//! Building bootstraps for one architecture: cargo with zig as the linker and the link
//! flags of [`crate::link`], lambda-libc's static library for C, C programs compiled and
//! linked by zig cc, and the check that zig linked nothing else.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::arch::Arch;
use crate::error::{Context, Result};
use crate::link::{CFLAGS, c_link_args, dependency_remaps, link_with, write_linker_script};
use crate::process::{cargo, run};
use crate::toolchain::Compiler;
use crate::zig::Zig;

/// The static library's features for the C API, and for the C API with streaming (the
/// streaming functions stay out of the plain library: in one LTO unit with it, they would
/// change how the plain functions are inlined, and a C program that does not stream would
/// grow).
pub const C_API: &str = "c-api";
/// See [`C_API`].
pub const C_API_STREAM: &str = "c-api-stream";
/// The header of the C API, in `runtime/include/` of the lambda-libc source.
pub const HEADER: &str = "lambda_libc.h";

/// Builds for one architecture into one cargo target directory.
pub struct ArchBuilder<'a> {
    /// The architecture built for.
    pub arch: &'a Arch,
    compiler: &'a Compiler,
    linker: PathBuf,
    script: PathBuf,
    target_dir: PathBuf,
}

impl<'a> ArchBuilder<'a> {
    /// Writes the linker wrapper for `arch` (emptying its link record) and the linker script
    /// (into `<target_dir>/<triple>/`) for builds into `target_dir` with `compiler`.
    pub fn new(zig: &Zig, arch: &'a Arch, compiler: &'a Compiler, target_dir: &Path) -> Result<Self> {
        let linker = zig.linker_wrapper(arch)?;
        let script = write_linker_script(&target_dir.join(arch.rust_target))?;
        Ok(Self { arch, compiler, linker, script, target_dir: target_dir.to_path_buf() })
    }

    /// `<target_dir>/<triple>/release`: where the release builds' programs are.
    pub fn release_dir(&self) -> PathBuf {
        self.target_dir.join(self.arch.rust_target).join("release")
    }

    /// A cargo command in `dir` (the project: its dependencies are remapped) that builds
    /// with this architecture's compiler and links its programs with zig and the link flags;
    /// the caller adds the subcommand and, always, `--target` (see [`link_with`]).
    pub fn cargo(&self, dir: &Path) -> Result<Command> {
        let remaps = dependency_remaps(dir, self.arch)?;
        let mut cmd = cargo();
        cmd.current_dir(dir).env("CARGO_TARGET_DIR", &self.target_dir);
        self.compiler.configure(&mut cmd);
        link_with(&mut cmd, self.arch, &self.linker, &self.script, &remaps)?;
        Ok(cmd)
    }

    /// Builds lambda-libc's static library with `features` ([`C_API`] or [`C_API_STREAM`])
    /// from the lambda-libc source `source` (the workspace root, which may be read-only)
    /// and returns the path of a copy kept for those features (cargo writes every build of
    /// it to one file).
    pub fn staticlib(&self, source: &Path, features: &str) -> Result<PathBuf> {
        let mut cmd = self.cargo(source)?;
        cmd.args(["rustc", "--release", "-p", "lambda-libc", "--features", features, "--crate-type", "staticlib"])
            .args(["--locked", "--target", self.arch.rust_target, "--manifest-path"])
            .arg(source.join("Cargo.toml"));
        run(&mut cmd)?;
        let built = self.release_dir().join("liblambda_libc.a");
        // `c-api,log` becomes `liblambda_libc-c-api+log.a`.
        let copy = self.release_dir().join(format!("liblambda_libc-{}.a", features.replace(',', "+")));
        fs::copy(&built, &copy).context(format_args!("cannot copy {} to {}", built.display(), copy.display()))?;
        Ok(copy)
    }

    /// Compiles and links the C program of `sources` against the static `library`, with the
    /// header from `include`, into `out`: zig cc with [`CFLAGS`], then the link flags.
    pub fn compile_c(&self, sources: &[PathBuf], include: &Path, library: &Path, out: &Path) -> Result {
        let script = self.script.to_str().ok_or("the linker script's path is not UTF-8")?;
        let mut cc = Command::new(&self.linker);
        cc.args(CFLAGS).arg(format!("-I{}", include.display())).args(c_link_args(script)).arg("-o").arg(out);
        run(cc.args(sources).arg(library))
    }

    /// Fails if zig linked anything since [`ArchBuilder::new`] that is not a program of this
    /// architecture's target directory (a build script would be one: see [`foreign_links`]).
    pub fn check_links(&self) -> Result {
        let foreign = foreign_links(&Zig::linked(&self.linker)?, &self.target_dir.join(self.arch.rust_target));
        if foreign.is_empty() {
            return Ok(());
        }
        let list: Vec<String> = foreign.iter().map(|p| format!("\n  {}", p.display())).collect();
        Err(format!(
            "zig linked files that are not {} programs:{}\nA program linked by zig is for glibc 2.34 with the \
             FHS loader; one that runs during the build (a build script) does not start in the Nix sandbox. \
             Give cargo the linker with `link_with` (cli/src/link.rs).",
            self.arch.rust_target,
            list.concat()
        )
        .into())
    }
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
