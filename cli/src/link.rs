//! The one place for a bootstrap's compile and link flags (docs/size.md has what each one
//! saves), for Rust programs (the target's rustflags, [`link_with`]), for C programs
//! ([`crate::builder::ArchBuilder::compile_c`]) and for C users' own build systems (the pkg-config files of
//! `cargo xtask dist`, [`pkg_config_libs`]).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::arch::Arch;
use crate::error::Result;
use crate::files::write_if_changed;

/// The linker script every bootstrap is linked with (`runtime/link/bootstrap.ld`): no
/// unwind tables, no constructors, no `.comment`.
pub const LINKER_SCRIPT: &str = include_str!("../../runtime/link/bootstrap.ld");
/// Its file name, wherever it is written.
pub const LINKER_SCRIPT_FILE: &str = "bootstrap.ld";

/// The link flags of every bootstrap, Rust or C, before `-Wl,-T,<linker script>`:
/// lambda-libc's entry point instead of glibc's startup files (`-e`; zig's driver ignores
/// `-nostartfiles`, and `--gc-sections` then drops its `crt1.o` code), no build id, no
/// RELRO padding, no `.eh_frame_hdr`.
pub const LINK_ARGS: &[&str] = &[
    "-nostartfiles",
    "-Wl,-e,__lambda_libc_start",
    "-Wl,--build-id=none",
    "-Wl,--hash-style=gnu",
    "-Wl,-z,norelro",
    "-Wl,--no-eh-frame-hdr",
];

/// What rustc passes by itself for a release build and a C program must ask for: a
/// position-independent executable (like the Rust bootstraps: ASLR, and a smaller zip),
/// unused sections dropped, no symbol table.
pub const C_LINK_ARGS: &[&str] = &["-pie", "-Wl,--gc-sections", "-Wl,-s"];

/// How C sources are compiled: for size, no unwind tables (the handler never unwinds), no
/// stack protector (it would import its guard from the dynamic loader), position-independent.
pub const CFLAGS: &[&str] =
    &["-Os", "-fno-asynchronous-unwind-tables", "-fno-unwind-tables", "-fno-stack-protector", "-fPIE"];

/// `path` as one word of a rustflags variable, which cargo splits at white space.
fn word(path: &Path, what: &str) -> Result<String> {
    path.to_str().filter(|p| !p.contains(char::is_whitespace)).map(str::to_owned).ok_or_else(|| {
        format!("the {what} path {} has white space (cargo splits rustflags at it)", path.display()).into()
    })
}

/// A dependency's source directory and the path it has in the program's strings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remap {
    /// Where cargo has its source: `~/.cargo/registry/src/…/serde-json-core-0.7.0`, a
    /// vendored copy (in the Nix sandbox, under `/nix/store`), a path dependency.
    pub from: PathBuf,
    /// `/deps/<name>-<version>`.
    pub to: String,
}

/// Where the dependencies (every package that is not a workspace member) of the project in
/// `dir` have their sources, each to be remapped to `/deps/<name>-<version>`: a panic's
/// location (`file!()`) would otherwise put that path into the program, which then depends
/// on `CARGO_HOME` or the vendor directory (the verifier rejects a `/nix/store` one).
pub fn dependency_remaps(dir: &Path, arch: &Arch) -> Result<Vec<Remap>> {
    let mut metadata = crate::process::cargo();
    // Every feature: an optional dependency is a dependency of some build.
    metadata.current_dir(dir).args([
        "metadata",
        "--format-version",
        "1",
        "--all-features",
        "--filter-platform",
        arch.rust_target,
    ]);
    let metadata: serde_json::Value = serde_json::from_str(&crate::process::output(&mut metadata)?)
        .map_err(|e| format!("reading `cargo metadata`: {e}"))?;
    let members = metadata["workspace_members"].as_array().map(Vec::as_slice).unwrap_or_default();
    let packages = metadata["packages"].as_array().map(Vec::as_slice).unwrap_or_default();
    let mut remaps: Vec<Remap> = packages
        .iter()
        .filter(|p| !members.contains(&p["id"]))
        .filter_map(|p| {
            let dir = Path::new(p["manifest_path"].as_str()?).parent()?;
            let to = format!("/deps/{}-{}", p["name"].as_str()?, p["version"].as_str()?);
            Some(Remap { from: dir.to_path_buf(), to })
        })
        .collect();
    remaps.sort_by(|a, b| a.from.cmp(&b.from));
    Ok(remaps)
}

/// `-Wl,-T,<script>`: the flag that links with the linker script at `script`.
pub fn script_arg(script: &str) -> String {
    format!("-Wl,-T,{script}")
}

/// Writes [`LINKER_SCRIPT`] into `dir` (if changed) and returns its path.
pub fn write_linker_script(dir: &Path) -> Result<PathBuf> {
    let path = dir.join(LINKER_SCRIPT_FILE);
    write_if_changed(&path, LINKER_SCRIPT.as_bytes())?;
    Ok(path)
}

/// Every link flag of a C bootstrap linked by a C compiler, the linker script at `script`.
pub fn c_link_args(script: &str) -> Vec<String> {
    C_LINK_ARGS.iter().chain(LINK_ARGS).map(|&a| a.to_owned()).chain([script_arg(script)]).collect()
}

/// The `Libs:` line of a pkg-config file for the static library `library`, installed with
/// the linker script in `${libdir}`: `cc function.c $(pkg-config --cflags --libs …)` links
/// a bootstrap as `cargo lambda-libc build` does.
pub fn pkg_config_libs(library: &str) -> String {
    let mut line = format!("-L${{libdir}} -l{library}");
    for arg in c_link_args(&format!("${{libdir}}/{LINKER_SCRIPT_FILE}")) {
        line.push(' ');
        line.push_str(&arg);
    }
    line
}

/// Makes `cmd` (a cargo command with `--target arch.rust_target`) build the target's
/// programs with `arch`'s codegen flags ([`Arch::rustflags`]), the dependencies' paths
/// remapped ([`dependency_remaps`]), and link them with `linker`
/// and the bootstrap link flags ([`LINK_ARGS`], the linker script at `script`), and nothing
/// else with them.
///
/// They go in the target's rustflags (`-C linker=… -C link-arg=…`), not in
/// `CARGO_TARGET_<T>_LINKER`: with `--target`, cargo applies a target's `linker` to build
/// scripts too when the target is the host, but never its rustflags. Build scripts are thus
/// linked by the host's own `cc` (in the Nix sandbox, stdenv's), and run there; zig's, for
/// glibc 2.34 with the FHS loader, would not start in the sandbox, and the entry point flags
/// would break them. Cargo merges this variable with a project's `target.<triple>.rustflags`
/// of `.cargo/config.toml`. Flags from the environment (`RUSTFLAGS` and the like) would
/// replace those and change the bytes: they are removed.
pub fn link_with(cmd: &mut Command, arch: &Arch, linker: &Path, script: &Path, remaps: &[Remap]) -> Result {
    let mut flags = format!("-C linker={}", word(linker, "linker")?);
    for flag in arch.rustflags {
        flags.push(' ');
        flags.push_str(flag);
    }
    for remap in remaps {
        flags.push_str(&format!(" --remap-path-prefix={}={}", word(&remap.from, "dependency")?, remap.to));
    }
    for arg in LINK_ARGS.iter().map(|&a| a.to_owned()).chain([script_arg(&word(script, "linker script")?)]) {
        flags.push_str(" -C link-arg=");
        flags.push_str(&arg);
    }
    let env = arch.cargo_env();
    for var in ["RUSTFLAGS", "CARGO_ENCODED_RUSTFLAGS", "CARGO_BUILD_RUSTFLAGS", &format!("CARGO_TARGET_{env}_LINKER")]
    {
        cmd.env_remove(var);
    }
    cmd.env(format!("CARGO_TARGET_{env}_RUSTFLAGS"), flags);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_and_c_programs_get_the_same_link_flags() {
        let mut cmd = Command::new("cargo");
        let remap = Remap { from: PathBuf::from("/r/serde-1.0"), to: "/deps/serde-1.0".to_owned() };
        link_with(&mut cmd, &crate::arch::X86_64, Path::new("/t/zig-cc"), Path::new("/t/bootstrap.ld"), &[remap])
            .unwrap();
        let flags = cmd.get_envs().find(|(k, _)| *k == "CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS");
        let flags = flags.and_then(|(_, v)| v).unwrap().to_str().unwrap().to_owned();
        let rust: Vec<&str> = flags.split(' ').filter_map(|f| f.strip_prefix("link-arg=")).collect();
        assert!(
            flags.starts_with("-C linker=/t/zig-cc --remap-path-prefix=/r/serde-1.0=/deps/serde-1.0 -C link-arg="),
            "{flags}"
        );
        let mut arm64 = Command::new("cargo");
        link_with(&mut arm64, &crate::arch::ARM64, Path::new("/t/zig-cc"), Path::new("/t/bootstrap.ld"), &[]).unwrap();
        let arm64 = arm64.get_envs().find(|(k, _)| *k == "CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUSTFLAGS");
        let arm64 = arm64.and_then(|(_, v)| v).unwrap().to_str().unwrap().to_owned();
        assert!(arm64.contains(" -C target-feature=-outline-atomics "), "{arm64}");
        let c = c_link_args("/t/bootstrap.ld");
        assert_eq!(c[C_LINK_ARGS.len()..], rust, "the C flags end with the Rust ones");
        assert_eq!(rust.last(), Some(&"-Wl,-T,/t/bootstrap.ld"));
        assert!(link_with(&mut cmd, &crate::arch::X86_64, Path::new("/a b/zig-cc"), Path::new("/t"), &[]).is_err());
    }

    #[test]
    fn pkg_config_links_with_the_installed_script() {
        let libs = pkg_config_libs("lambda_libc");
        assert!(libs.starts_with("-L${libdir} -llambda_libc -pie "), "{libs}");
        assert!(libs.ends_with(" -Wl,-T,${libdir}/bootstrap.ld"), "{libs}");
    }
}
