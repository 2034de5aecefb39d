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
//! - no network: every build runs in a network namespace of its own (`unshare --net`), with
//!   only loopback up.
//!
//! The derivations, in order:
//! 1. `tools` ([`TOOLS_BUILD`], [`TOOLS_INSTALL`]): xtask and `cargo lambda-libc`, the
//!    flake's `xtask` and `cli` packages;
//! 2. `dist` ([`DIST_BUILD`]), for x86_64 only ([`DIST_HERE`]): this machine's rustup has no arm64 standard
//!    library, and the cargo path's arm64 bytes come from another compiler anyway. `dist`
//!    checks the zig wrapper's record itself: zig linked nothing but x86_64 programs (no
//!    build script). Then every file it wrote must equal the one `cargo xtask dist` wrote;
//! 3. the `bootstrap` and `bootstrap-c` packages for x86_64, as `lib.buildBootstrap` builds
//!    a user's function ([`BOOTSTRAP_BUILD`] with [`BOOTSTRAP_ARGS`] and each package's
//!    own, [`BOOTSTRAP_INSTALL`]): each zip must be `dist/`'s of that bootstrap (the flake's
//!    `bootstraps` check requires the same of every package);
//! 4. the `integration` check ([`INTEGRATION_BUILD`]) against that `dist`, with the
//!    sandbox's flag (the tests that cannot run there skip, naming why) and the host's ELFs
//!    started through the loader given explicitly, as the check starts them.
//!
//! The phases are checked against `nix/packages.nix`, `nix/bootstrap.nix` and
//! `nix/checks.nix`, which must hold them word for word ([`held`]).

use std::ffi::OsStr;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use cargo_lambda_libc::arch::X86_64;
use cargo_lambda_libc::zig::ZIG_VAR;

use cargo_lambda_libc::files::sh_quote;

use crate::util::{Context, Result, Workspace, copy_tracked, output, read, run};

/// The flake files with the derivations rehearsed here.
const PACKAGES_NIX: &str = "nix/packages.nix";
const BOOTSTRAP_NIX: &str = "nix/bootstrap.nix";
const CHECKS_NIX: &str = "nix/checks.nix";
/// The build (and install) phases of the derivations rehearsed here, word for word as
/// those files hold them: the `tools` and `dist` derivations and the `integration` check.
const TOOLS_BUILD: &str = "cargo build --profile dev --locked -p xtask -p cargo-lambda-libc";
const TOOLS_INSTALL: &str = "install -D -m 755 -t $out/bin target/debug/xtask target/debug/cargo-lambda-libc";
const DIST_BUILD: &str = "xtask dist --one-toolchain --out $out";
const INTEGRATION_BUILD: &str = "xtask test --step tests --dist ${build.dist}";
/// `buildBootstrap`'s phases: the command with its arguments (`BOOTSTRAP_ARGS`, then each
/// optional group as the `bootstrap` and `bootstrap-c` packages use them), and the install.
const BOOTSTRAP_BUILD: &str = "cargo-lambda-libc build ${lib.escapeShellArgs args}";
const BOOTSTRAP_ARGS: &[&str] = &["--arch", "x86_64", "--one-toolchain", "--out", "lambda"];
const BOOTSTRAP_INSTALL: &str = "install -D -m 644 lambda/bootstrap-${arch}.zip $out/bootstrap-${arch}.zip
    install -D -m 755 lambda/${arch}/bootstrap $out/bin/bootstrap";
/// What the files must hold: each phase as its attribute, the checks' sandbox flag, and
/// the arguments of `buildBootstrap` the rehearsal passes.
fn held() -> [(&'static str, String); 13] {
    [
        (PACKAGES_NIX, format!(r#"buildPhaseCargoCommand = "{TOOLS_BUILD}";"#)),
        (PACKAGES_NIX, format!(r#"installPhaseCommand = "{TOOLS_INSTALL}";"#)),
        (PACKAGES_NIX, r#"LAMBDA_LIBC_SOURCE = "${src}";"#.to_owned()),
        (PACKAGES_NIX, format!(r#"buildPhaseCargoCommand = "{DIST_BUILD}";"#)),
        (
            PACKAGES_NIX,
            r#"bootstrap = { zip = "bootstrap-rust-${arch}.zip"; package = "lambda-libc-example"; bin = "bootstrap"; };"#
                .to_owned(),
        ),
        (PACKAGES_NIX, r#"bootstrap-c = { zip = "bootstrap-c-${arch}.zip"; cSources = [ "example-c/function.c" ]; };"#.to_owned()),
        (BOOTSTRAP_NIX, format!(r#"buildPhaseCargoCommand = "{BOOTSTRAP_BUILD}";"#)),
        (BOOTSTRAP_NIX, r#"args = [ "--arch" arch "--one-toolchain" "--out" "lambda" ]"#.to_owned()),
        (
            BOOTSTRAP_NIX,
            r#"++ lib.optionals (package != null) [ "-p" package ]
    ++ lib.optionals (bin != null) [ "--bin" bin ]"#
                .to_owned(),
        ),
        (
            BOOTSTRAP_NIX,
            r#"++ lib.optionals c ([ "--lambda-libc" "${lambdaLibc}" ] ++ lib.optional cStream "--stream" ++ [ "--c" ] ++ cSources);
in"#
                .to_owned(),
        ),
        (BOOTSTRAP_NIX, format!("installPhaseCommand = ''\n    {BOOTSTRAP_INSTALL}\n  '';")),
        (CHECKS_NIX, format!(r#"integration = step "integration" "{INTEGRATION_BUILD}""#)),
        (CHECKS_NIX, r#"LAMBDA_LIBC_SANDBOX = "1";"#.to_owned()),
    ]
}
/// What the rehearsal adds to [`DIST_BUILD`]: see the module's comment.
const DIST_HERE: &str = " --arch x86_64";

pub fn rehearse(ws: &Workspace) -> Result {
    for (file, held) in held() {
        let text = fs::read_to_string(ws.root.join(file)).context(format_args!("cannot read {file}"))?;
        if !text.contains(&held) {
            return Err(format!("{file} no longer holds `{held}`: rehearse what the flake builds").into());
        }
    }
    let Some(ip) = sandbox_tools_or_skip("rehearse")? else {
        return Ok(());
    };
    let zig = ws.zig()?.exe;
    let toolchain = toolchain_bin()?;

    let base = ws.target.join("rehearsal");
    make_writable(&base);
    let _ = fs::remove_dir_all(&base);
    let store = base.join("nix/store");
    let src = store.join("00000000000000000000000000000000-source");
    // The flake's source: what git tracks, less what nothing in the sandbox reads.
    copy_tracked(ws, &src, &unread(ws)?)?;
    let vendor = store.join("00000000000000000000000000000000-vendor-cargo-deps");
    eprintln!("xtask: rehearse: cargo vendor (crane's vendorCargoDeps) into {}", ws.show(&vendor));
    // Every crate of Cargo.lock, as crane vendors them, those of other platforms included.
    output(crate::util::cargo().current_dir(&ws.root).args(["vendor", "--locked"]).arg(&vendor))?;
    for dir in [&src, &vendor] {
        read_only(dir)?;
    }
    let sandbox = Sandbox { base: &base, src: &src, vendor: &vendor, toolchain: &toolchain, ip };

    let tools = store.join("00000000000000000000000000000000-lambda-libc-tools");
    let env = [("LAMBDA_LIBC_SOURCE", src.as_os_str())];
    sandbox.build("tools", &tools, &[], &format!("{TOOLS_BUILD}\n{TOOLS_INSTALL}"), &env)?;

    let dist = store.join("00000000000000000000000000000000-lambda-libc-dist");
    sandbox.build("dist", &dist, &[&tools], &format!("{DIST_BUILD}{DIST_HERE}"), &[(ZIG_VAR, zig.as_os_str())])?;
    let compared = compare(&dist, &ws.dist)?;
    eprintln!("xtask: rehearse: dist: its {compared} files equal dist/'s");

    // The `bootstrap` and `bootstrap-c` packages as `buildBootstrap` builds them: each
    // holds dist's zip of that bootstrap.
    let src_arg = src.to_string_lossy();
    for (package, extra, zip) in [
        ("bootstrap", &["-p", "lambda-libc-example", "--bin", "bootstrap"][..], "bootstrap-rust-x86_64.zip"),
        ("bootstrap-c", &["--lambda-libc", &src_arg, "--c", "example-c/function.c"][..], "bootstrap-c-x86_64.zip"),
    ] {
        let out = store.join(format!("00000000000000000000000000000000-{package}-x86_64"));
        let args: Vec<String> = BOOTSTRAP_ARGS.iter().chain(extra).map(|a| sh_quote(OsStr::new(a))).collect();
        let build = BOOTSTRAP_BUILD.replace("${lib.escapeShellArgs args}", &args.join(" "));
        let phase = format!("{build}\n{}", BOOTSTRAP_INSTALL.replace("${arch}", "x86_64"));
        sandbox.build(package, &out, &[&tools], &phase, &[(ZIG_VAR, zig.as_os_str())])?;
        if read(&out.join("bootstrap-x86_64.zip"))? != read(&ws.dist.join(zip))? {
            return Err(format!("buildBootstrap's {package} (x86_64) is not dist/{zip}").into());
        }
        eprintln!("xtask: rehearse: buildBootstrap's {package} (x86_64) is dist/{zip}, byte for byte");
    }

    // The host's ELFs start through its loader, as the check makes them (LAMBDA_LIBC_LOADER).
    let loader = X86_64.interpreter;
    let check = store.join("00000000000000000000000000000000-lambda-libc-integration");
    let phase = INTEGRATION_BUILD.replace("${build.dist}", &dist.to_string_lossy());
    let env =
        [(ZIG_VAR, zig.as_os_str()), ("LAMBDA_LIBC_SANDBOX", "1".as_ref()), ("LAMBDA_LIBC_LOADER", loader.as_ref())];
    sandbox.build("integration", &check, &[&tools], &phase, &env)?;
    eprintln!(
        "xtask: rehearse: the flake's tools, dist, bootstrap, bootstrap-c and integration check ran offline in sandbox-like builds"
    );

    make_writable(&base);
    fs::remove_dir_all(&base).context("removing the rehearsal")?;
    Ok(())
}

/// The paths and tools every rehearsed derivation shares.
pub struct Sandbox<'a> {
    /// The rehearsal's directory: the store and the build directories.
    pub base: &'a Path,
    /// The source (read-only).
    pub src: &'a Path,
    /// The vendored crates (read-only).
    pub vendor: &'a Path,
    /// The Rust toolchain's `bin/`.
    pub toolchain: &'a Path,
    /// iproute2's `ip`, to bring up loopback in the build's network namespace (the sandbox
    /// has it up).
    pub ip: &'a Path,
}

impl Sandbox<'_> {
    /// Builds derivation `name` into `out`: unpacks the source into a build directory of
    /// its own (a writable copy, as stdenv does), configures the vendored crates (crane's
    /// `configureCargoVendoredDepsHook`), and runs `phase` there with `bash -e -c`, as the
    /// derivation's build phase runs it: `inputs`' `bin/` first on `PATH`, then the
    /// toolchain; the sandbox's environment plus `env`; no network.
    pub fn build(&self, name: &str, out: &Path, inputs: &[&Path], phase: &str, env: &[(&str, &OsStr)]) -> Result {
        let top = self.base.join(format!("build-{name}"));
        let source = top.join("source");
        fs::create_dir_all(&top).context(format_args!("cannot create {}", top.display()))?;
        run(Command::new("cp").arg("-r").arg(self.src).arg(&source))?;
        make_writable(&source);
        if out.exists() {
            return Err(format!("{} exists already", out.display()).into());
        }
        let cargo_home = source.join(".cargo-home");
        fs::create_dir_all(&cargo_home).context("cannot create CARGO_HOME")?;
        let config = format!(
            "\n[source.crates-io]\nreplace-with = \"nix-sources\"\n[source.nix-sources]\ndirectory = \"{}\"\n",
            self.vendor.display()
        );
        fs::write(cargo_home.join("config.toml"), config).context("cannot write CARGO_HOME/config.toml")?;

        let bins = inputs.iter().map(|i| i.join("bin"));
        let path = std::env::join_paths(bins.chain([self.toolchain.to_path_buf(), "/usr/bin".into(), "/bin".into()]))?;
        let script = format!("{} link set lo up && {phase}", self.ip.display());
        let mut cmd = Command::new("unshare");
        // stdenv runs the phases with bash, and stops at the first failing command.
        cmd.args(["--net", "--map-root-user", "--", "bash", "-e", "-c", &script]).current_dir(&source).env_clear();
        cmd.env("PATH", path)
            .env("HOME", "/homeless-shelter")
            .env("NIX_BUILD_TOP", &top)
            .env("TMPDIR", &top)
            .env("NIX_BUILD_CORES", "2")
            .env("out", out)
            // crane's configureCargoCommonVarsHook.
            .env("CARGO_HOME", &cargo_home)
            .env("CARGO_BUILD_JOBS", "2")
            .env("CARGO_BUILD_INCREMENTAL", "false");
        for (name, value) in env {
            cmd.env(name, value);
        }
        run(&mut cmd)
    }
}

/// The toolchain's `bin/`, which the sandbox's `PATH` holds (no rustup proxy): the cargo
/// that runs xtask is the toolchain's own binary, beside its rustc and rustfmt.
pub fn toolchain_bin() -> Result<PathBuf> {
    let cargo = std::env::var_os("CARGO").map(PathBuf::from).ok_or("CARGO is not set: run xtask with `cargo xtask`")?;
    Ok(cargo.parent().ok_or("CARGO has no directory")?.to_path_buf())
}

/// [`sandbox_tools`]'s `ip`, or `None` after `xtask: <what>: SKIPPED: <why>` on stderr; an
/// error instead under `LAMBDA_LIBC_REQUIRE_TOOLS=1`.
pub fn sandbox_tools_or_skip(what: &str) -> Result<Option<&'static Path>> {
    match sandbox_tools() {
        Ok(ip) => Ok(Some(ip)),
        Err(why) if crate::dist::require_tools() => Err(format!("{why} (LAMBDA_LIBC_REQUIRE_TOOLS=1)").into()),
        Err(why) => {
            eprintln!("xtask: {what}: SKIPPED: {why}");
            Ok(None)
        }
    }
}

/// iproute2's `ip`, or why the rehearsal cannot run here: no `ip`, or no user and network
/// namespaces (a container without the privilege, or a kernel that forbids them).
fn sandbox_tools() -> std::result::Result<&'static Path, String> {
    let ip = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"]
        .into_iter()
        .map(Path::new)
        .find(|p| p.is_file())
        .ok_or("`ip` (iproute2) is not installed: the rehearsal brings up loopback with it")?;
    match Command::new("unshare").args(["--net", "--map-root-user", "--", "true"]).output() {
        Ok(out) if out.status.success() => Ok(ip),
        Ok(out) => Err(format!(
            "`unshare --net --map-root-user true` failed ({}): the rehearsal needs user and network namespaces",
            String::from_utf8_lossy(&out.stderr).trim()
        )),
        Err(e) => Err(format!("cannot run unshare (util-linux): {e}")),
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
pub fn read_only(dir: &Path) -> Result {
    run(Command::new("chmod").args(["-R", "a-w"]).arg(dir))
}

/// Undoes [`read_only`] (so the tree can be removed), if `dir` exists.
pub fn make_writable(dir: &Path) {
    if dir.exists() {
        let _ = fs::set_permissions(dir, fs::Permissions::from_mode(0o755));
        let _ = Command::new("chmod").args(["-R", "u+w"]).arg(dir).status();
    }
}
