//! `cargo xtask rehearse`: the Nix flake's derivations built as its sandbox builds them, on a
//! machine without Nix (docs/nix.md, "The rehearsal"). Nothing of Nix runs; what the
//! sandbox imposes is reproduced:
//!
//! - the source is the flake's (every tracked file less `nix/source.toml`'s `unread`),
//!   copied read-only to a store-like path, and each derivation builds in its own writable
//!   copy of it (`$NIX_BUILD_TOP/source`), as stdenv's unpack phase does;
//! - crates come from a `cargo vendor` directory through `$CARGO_HOME/config.toml`, as
//!   crane's `configureCargoVendoredDepsHook` writes it;
//! - the environment is cleared: `HOME=/homeless-shelter` (which does not exist), `TMPDIR` in
//!   the build directory, the toolchain's own `cargo` and `rustc` (no rustup proxy), zig
//!   from `LAMBDA_LIBC_ZIG`;
//! - no network: every build runs in a network namespace of its own (`unshare --net`).
//!
//! The derivations, in order: `xtask` (crane's `buildPackage`: [`XTASK_PHASE`]) and `dist`
//! ([`DIST_PHASE`], for x86_64 only: this machine's rustup has no arm64 standard library,
//! and the cargo path's arm64 bytes come from another compiler anyway). `dist` checks the
//! zig wrapper's record itself: zig linked nothing but x86_64 programs (no build script).
//! Then every file the rehearsed `dist` wrote must equal the one `cargo xtask dist` wrote.
//! The phases are checked against `nix/packages.nix`, which must hold them word for word.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::{Context, Result, Workspace, output, read, run};
use crate::zig::{ZIG_VAR, Zig};

/// The flake file with the derivations rehearsed here.
const PACKAGES_NIX: &str = "nix/packages.nix";
/// The xtask derivation's cargo arguments (crane runs `cargo build --profile $CARGO_PROFILE`
/// with them) and profile, as `nix/packages.nix` sets them.
const XTASK_ARGS: &str = r#"cargoExtraArgs = "--locked -p xtask";"#;
const XTASK_PROFILE: &str = r#"CARGO_PROFILE = "dev";"#;
/// What crane's `buildPackage` runs for [`XTASK_ARGS`] and [`XTASK_PROFILE`].
pub const XTASK_PHASE: &[&str] = &["cargo", "build", "--profile", "dev", "--locked", "-p", "xtask"];
/// The `dist` derivation's build phase, as `nix/packages.nix` writes it.
pub const DIST_PHASE: &str = "xtask dist --one-toolchain --out $out";
/// What the rehearsal adds to [`DIST_PHASE`].
const DIST_HERE: &[&str] = &["--arch", "x86_64"];

pub fn rehearse(ws: &Workspace) -> Result {
    let nix = read(&ws.root.join(PACKAGES_NIX)).map(|b| String::from_utf8_lossy(&b).into_owned())?;
    for phase in [XTASK_ARGS, XTASK_PROFILE, &format!(r#"buildPhaseCargoCommand = "{DIST_PHASE}";"#)] {
        if !nix.contains(phase) {
            return Err(format!("{PACKAGES_NIX} no longer holds `{phase}`: rehearse what the flake builds").into());
        }
    }
    unshare_works()?;
    let zig = Zig::ensure(ws)?.exe;
    // The cargo that runs us is the toolchain's own binary, beside its rustc and rustfmt.
    let cargo = std::env::var_os("CARGO").map(PathBuf::from).ok_or("CARGO is not set: run `cargo xtask rehearse`")?;
    let toolchain = cargo.parent().ok_or("CARGO has no directory")?.to_path_buf();

    let base = ws.target.join("rehearsal");
    make_writable(&base);
    let _ = fs::remove_dir_all(&base);
    let store = base.join("nix/store");
    let src = store.join("00000000000000000000000000000000-source");
    copy_source(ws, &src)?;
    let vendor = store.join("00000000000000000000000000000000-vendor-cargo-deps");
    eprintln!("xtask: rehearse: cargo vendor (crane's vendorCargoDeps) into {}", ws.show(&vendor));
    output(crate::util::cargo().current_dir(&ws.root).args(["vendor", "--locked", "--offline"]).arg(&vendor))?;
    for dir in [&src, &vendor] {
        read_only(dir)?;
    }

    let sandbox = Sandbox { base: &base, src: &src, vendor: &vendor, toolchain: &toolchain };

    let xtask_out = store.join("00000000000000000000000000000000-xtask");
    let build = sandbox.derivation("xtask", &xtask_out)?;
    sandbox.run(&build, &xtask_out, XTASK_PHASE.iter().map(|s| s.to_string()).collect(), &[])?;
    let bin = xtask_out.join("bin");
    fs::create_dir_all(&bin).context("cannot create the xtask output")?;
    fs::copy(build.join("target/debug/xtask"), bin.join("xtask")).context("installing xtask")?;

    let dist_out = store.join("00000000000000000000000000000000-lambda-libc-dist");
    let build = sandbox.derivation("dist", &dist_out)?;
    let mut phase: Vec<String> =
        DIST_PHASE.split(' ').map(|w| w.replace("$out", &dist_out.to_string_lossy())).collect();
    phase[0] = bin.join("xtask").to_string_lossy().into_owned();
    phase.extend(DIST_HERE.iter().map(|s| s.to_string()));
    sandbox.run(&build, &dist_out, phase, &[(ZIG_VAR, zig.as_os_str())])?;

    let compared = compare(&dist_out, &ws.dist)?;
    eprintln!(
        "xtask: rehearse: the flake's xtask and dist built offline in a sandbox-like build; its {compared} files \
         equal dist/'s"
    );
    make_writable(&base);
    fs::remove_dir_all(&base).context("removing the rehearsal")?;
    Ok(())
}

/// The paths and tools every rehearsed derivation shares.
struct Sandbox<'a> {
    base: &'a Path,
    src: &'a Path,
    vendor: &'a Path,
    toolchain: &'a Path,
}

impl Sandbox<'_> {
    /// A build directory for derivation `name` with the source unpacked into it, as stdenv
    /// does (a writable copy); returns the source copy, where the build phase runs.
    fn derivation(&self, name: &str, out: &Path) -> Result<PathBuf> {
        let top = self.base.join(format!("build-{name}"));
        let source = top.join("source");
        fs::create_dir_all(&top).context(format_args!("cannot create {}", top.display()))?;
        run(Command::new("cp").arg("-r").arg(self.src).arg(&source))?;
        make_writable(&source);
        if out.exists() {
            return Err(format!("{} exists already", out.display()).into());
        }
        // crane's configureCargoVendoredDepsHook.
        let cargo_home = source.join(".cargo-home");
        fs::create_dir_all(&cargo_home).context("cannot create CARGO_HOME")?;
        let config = format!(
            "\n[source.crates-io]\nreplace-with = \"nix-sources\"\n[source.nix-sources]\ndirectory = \"{}\"\n",
            self.vendor.display()
        );
        fs::write(cargo_home.join("config.toml"), config).context("cannot write CARGO_HOME/config.toml")?;
        Ok(source)
    }

    /// Runs `argv` in `source` with the sandbox's environment and no network.
    fn run(&self, source: &Path, out: &Path, argv: Vec<String>, extra: &[(&str, &std::ffi::OsStr)]) -> Result {
        let top = source.parent().ok_or("the source has no parent")?;
        let mut cmd = Command::new("unshare");
        cmd.args(["--net", "--map-root-user", "--"]).args(&argv).current_dir(source).env_clear();
        let path = std::env::join_paths([
            out.join("bin").as_path(),
            self.toolchain,
            Path::new("/usr/bin"),
            Path::new("/bin"),
        ])?;
        cmd.env("PATH", path)
            .env("HOME", "/homeless-shelter")
            .env("NIX_BUILD_TOP", top)
            .env("TMPDIR", top)
            .env("NIX_BUILD_CORES", "2")
            .env("out", out)
            // crane's configureCargoCommonVarsHook.
            .env("CARGO_HOME", source.join(".cargo-home"))
            .env("CARGO_BUILD_JOBS", "2")
            .env("CARGO_BUILD_INCREMENTAL", "false");
        for (name, value) in extra {
            cmd.env(name, value);
        }
        run(&mut cmd)
    }
}

/// Fails unless this machine can give a command a network namespace of its own.
fn unshare_works() -> Result {
    let out = Command::new("unshare").args(["--net", "--map-root-user", "--", "true"]).output();
    match out {
        Ok(out) if out.status.success() => Ok(()),
        Ok(out) => Err(format!(
            "`unshare --net --map-root-user true` failed: {} (the rehearsal needs user and network namespaces)",
            String::from_utf8_lossy(&out.stderr).trim()
        )
        .into()),
        Err(e) => Err(format!("cannot run unshare (util-linux): {e}").into()),
    }
}

/// The paths of `nix/source.toml`'s `unread`.
pub fn unread(ws: &Workspace) -> Result<Vec<String>> {
    let path = ws.root.join("nix/source.toml");
    let text = fs::read_to_string(&path).context(format_args!("cannot read {}", path.display()))?;
    let table: toml::Table = text.parse().context("nix/source.toml")?;
    let list = table.get("unread").and_then(toml::Value::as_array).ok_or("nix/source.toml has no `unread` list")?;
    list.iter()
        .map(|v| v.as_str().map(str::to_owned).ok_or_else(|| "nix/source.toml: `unread` holds a non-string".into()))
        .collect()
}

/// Copies the flake's source (what git tracks, less [`unread`]) to `to`.
fn copy_source(ws: &Workspace, to: &Path) -> Result {
    let unread = unread(ws)?;
    let files = output(Command::new("git").current_dir(&ws.root).args(["ls-files", "-z"]))?;
    for file in files.split('\0').filter(|f| !f.is_empty()) {
        if unread.iter().any(|u| file == u || file.starts_with(&format!("{u}/"))) {
            continue;
        }
        let dest = to.join(file);
        fs::create_dir_all(dest.parent().unwrap_or(to)).context(format_args!("cannot create {}", dest.display()))?;
        fs::copy(ws.root.join(file), &dest).context(format_args!("cannot copy {file}"))?;
    }
    Ok(())
}

/// Every file under `rehearsed` must equal the one at the same path under `dist`, except
/// `SHA256SUMS`, whose every line `dist`'s must hold, and the static libraries (`*.a`), whose
/// member names hold hashes of the source's path (the ELFs linked from them do not). Returns
/// how many files were compared.
fn compare(rehearsed: &Path, dist: &Path) -> Result<usize> {
    let mut files = Vec::new();
    walk(rehearsed, &mut files)?;
    let mut differ = Vec::new();
    files.retain(|f| f.extension().is_none_or(|e| e != "a"));
    for file in &files {
        let relative = file.strip_prefix(rehearsed).unwrap_or(file);
        let ours = read(file)?;
        let theirs = fs::read(dist.join(relative)).unwrap_or_default();
        let same = if relative == Path::new("SHA256SUMS") {
            let theirs = String::from_utf8_lossy(&theirs);
            String::from_utf8_lossy(&ours).lines().all(|line| theirs.lines().any(|l| l == line))
        } else {
            ours == theirs
        };
        if !same {
            differ.push(relative.display().to_string());
        }
    }
    if differ.is_empty() {
        Ok(files.len())
    } else {
        Err(format!("the rehearsed dist differs from dist/ in: {}", differ.join(", ")).into())
    }
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>) -> Result {
    for entry in fs::read_dir(dir).context(format_args!("cannot list {}", dir.display()))? {
        let path = entry.context("listing a directory")?.path();
        if path.is_dir() { walk(&path, files)? } else { files.push(path) }
    }
    Ok(())
}

/// Makes `dir` read-only, as the Nix store is.
fn read_only(dir: &Path) -> Result {
    run(Command::new("chmod").args(["-R", "a-w"]).arg(dir))
}

/// Undoes [`read_only`] (so the tree can be removed), if `dir` exists.
fn make_writable(dir: &Path) {
    if dir.exists() {
        let _ = fs::set_permissions(dir, fs::Permissions::from_mode(0o755));
        let _ = Command::new("chmod").args(["-R", "u+w"]).arg(dir).status();
    }
}
