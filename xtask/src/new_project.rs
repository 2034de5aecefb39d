//! `cargo xtask test --step new-project`: a function project of one's own, as a user makes
//! it (issue 19, "Done when"), in a temporary directory outside the repository:
//!
//! ```sh
//! cargo install --locked --path cli --root <tmp>/root        # PATH gets <tmp>/root/bin
//! cargo lambda-libc new <tmp>/fn
//! cd <tmp>/fn && cargo lambda-libc build --arch all && cargo lambda-libc invoke '<GET /hello?name=Ada>'
//! ```
//!
//! which must answer the greeting; then `invoke --arch arm64` (under qemu-user); the same
//! with `new --c`; a second `new` + `build` of the Rust project in another directory,
//! which must write the same `SHA256SUMS`; and its x86_64 build as the Nix flake's sandbox
//! runs it (the rehearsal's sandbox: no network, no home, vendored crates, zig from
//! `LAMBDA_LIBC_ZIG`, `--one-toolchain`), which must write the same zip.
//!
//! `--locked`: the zips' bytes depend on the compressor's version, which the workspace's
//! Cargo.lock pins. The install's target directory (`target/new-project/install`) and the
//! tools `cargo lambda-libc` installs (`XDG_CACHE_HOME=target/new-project/cache`: zig, Debian's
//! arm64 standard library) are kept between runs; the projects are new each time.

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use cargo_lambda_libc::zig::ZIG_VAR;

use crate::rehearse::{Sandbox, make_writable, read_only, sandbox_tools_or_skip, toolchain_bin};
use crate::util::{Context, Result, Workspace, cargo, output, read, run};

/// The event of the done-when test: a function URL's `GET /hello?name=Ada`.
pub const EVENT: &str =
    r#"{"rawPath":"/hello","rawQueryString":"name=Ada","requestContext":{"http":{"method":"GET"}}}"#;
/// What the answer must hold.
pub const GREETING: &str = "hello, Ada";

pub fn new_project(ws: &Workspace) -> Result {
    let started = Instant::now();
    let tmp = std::env::temp_dir().join(format!("lambda-libc-new-project-{}", std::process::id()));
    if tmp.starts_with(&ws.root) {
        return Err(format!("the temporary directory {} is inside the repository", tmp.display()).into());
    }
    let _ = fs::remove_dir_all(&tmp);
    fs::create_dir_all(&tmp).context(format_args!("cannot create {}", tmp.display()))?;
    let result = steps(ws, &tmp);
    if result.is_ok() {
        fs::remove_dir_all(&tmp).context(format_args!("cannot remove {}", tmp.display()))?;
        eprintln!("xtask: new-project: passed in {:.0?}", started.elapsed());
    } else {
        eprintln!("xtask: new-project: the projects are left in {}", tmp.display());
    }
    result
}

fn steps(ws: &Workspace, tmp: &Path) -> Result {
    let root = tmp.join("root");
    let installed = Instant::now();
    let mut install = cargo();
    install.current_dir(&ws.root).args(["install", "--locked", "--path", "cli", "--root"]).arg(&root);
    run(install.env("CARGO_TARGET_DIR", ws.target.join("new-project/install")))?;
    eprintln!("xtask: new-project: cargo install took {:.0?}", installed.elapsed());
    let path = std::env::join_paths(
        std::iter::once(root.join("bin")).chain(std::env::var_os("PATH").iter().flat_map(std::env::split_paths)),
    )?;
    let user = User { path, cache: ws.target.join("new-project/cache") };

    for (name, c) in [("fn", false), ("fn-c", true)] {
        let dir = tmp.join(name);
        let mut new = user.lambda_libc(tmp, &["new"]);
        if c {
            new.arg("--c");
        }
        run(new.arg(&dir))?;
        // Offline right after `new`: the Rust project's crates come from the registry cache.
        run(user.lambda_libc(&dir, &["build", "--arch", "all"]).env("CARGO_NET_OFFLINE", "true"))?;
        for arch in ["x86_64", "arm64"] {
            let answer = output(&mut user.lambda_libc(&dir, &["invoke", EVENT, "--arch", arch]))?;
            if !answer.contains(GREETING) {
                return Err(format!("{name} ({arch}) answered {answer:?}, without {GREETING:?}").into());
            }
            eprintln!("xtask: new-project: {name} ({arch}) answered {}", answer.trim_end());
        }
    }

    // The same Rust project, made and built in another directory.
    let again = tmp.join("again/fn");
    run(user.lambda_libc(tmp, &["new"]).arg(&again))?;
    run(&mut user.lambda_libc(&again, &["build", "--arch", "all"]))?;
    let sums = |dir: &Path| read(&dir.join("target/lambda/SHA256SUMS"));
    let (first, second) = (sums(&tmp.join("fn"))?, sums(&again)?);
    if first != second {
        return Err(format!(
            "two builds of the same project in different directories differ:\n{}\n{}",
            String::from_utf8_lossy(&first),
            String::from_utf8_lossy(&second)
        )
        .into());
    }
    eprintln!("xtask: new-project: the same SHA256SUMS from two directories:\n{}", String::from_utf8_lossy(&first));
    sandboxed(ws, tmp, &root, &tmp.join("fn"))
}

/// Builds `project` for x86_64 as the flake's sandbox would (see the module's comment) with
/// the `cargo lambda-libc` installed in `root`, and requires the zip its normal build wrote.
fn sandboxed(ws: &Workspace, tmp: &Path, root: &Path, project: &Path) -> Result {
    let Some(ip) = sandbox_tools_or_skip("new-project: the sandboxed build")? else {
        return Ok(());
    };
    let base = tmp.join("sandbox");
    let src = base.join("nix/store/00000000000000000000000000000000-source");
    let vendor = base.join("nix/store/00000000000000000000000000000000-vendor-cargo-deps");
    let out = base.join("nix/store/00000000000000000000000000000000-bootstrap");
    fs::create_dir_all(&src).context(format_args!("cannot create {}", src.display()))?;
    for file in ["Cargo.toml", "Cargo.lock", "src"] {
        run(Command::new("cp").arg("-r").arg(project.join(file)).arg(&src))?;
    }
    output(cargo().current_dir(&src).args(["vendor", "--locked"]).arg(&vendor))?;
    read_only(&src)?;
    read_only(&vendor)?;
    let sandbox = Sandbox { base: &base, src: &src, vendor: &vendor, toolchain: &toolchain_bin()?, ip };
    let zig = ws.zig()?.exe;
    let phase = "cargo lambda-libc build --one-toolchain --arch x86_64 --out $out";
    let built = sandbox.build("bootstrap", &out, &[root], phase, &[(ZIG_VAR, zig.as_os_str())]);
    make_writable(&base);
    built?;
    let zip = "bootstrap-x86_64.zip";
    if read(&out.join(zip))? != read(&project.join("target/lambda").join(zip))? {
        return Err(format!("the sandboxed build's {zip} differs from the normal build's").into());
    }
    eprintln!("xtask: new-project: the sandboxed build wrote the same {zip}");
    Ok(())
}

/// The environment of a user who installed `cargo lambda-libc`.
struct User {
    /// `PATH` with the installed `bin/` first.
    path: OsString,
    /// `XDG_CACHE_HOME`: where `cargo lambda-libc` installs its tools.
    cache: PathBuf,
}

impl User {
    /// `cargo lambda-libc <args>` in `dir`, with none of xtask's cargo environment (a target
    /// directory of its own: the project's).
    fn lambda_libc(&self, dir: &Path, args: &[&str]) -> Command {
        let mut cmd = cargo();
        cmd.current_dir(dir).arg("lambda-libc").args(args);
        cmd.env("PATH", &self.path).env("XDG_CACHE_HOME", &self.cache).env_remove("CARGO_TARGET_DIR");
        cmd
    }
}
