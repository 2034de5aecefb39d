//! The Nix flake, as far as a machine without the flake's inputs can check it (nothing of the
//! build runs here; docs/nix.md says what is and is not exercised):
//!
//! * every `.nix` file parses (`nix-instantiate --parse`), has no dead code (`deadnix
//!   --fail`) and is formatted (`nixpkgs-fmt --check`);
//! * `flake.lock` matches the inputs of `flake.nix` (`nix flake metadata --offline
//!   --no-update-lock-file` fails, or tries the network, otherwise);
//! * the flake's outputs and the names of its packages, checks, apps and dev shells per
//!   system, `lib.<system>.buildBootstrap`'s arguments, and the templates (each a directory
//!   of templates/, with a description), evaluated offline with no input fetched, are
//!   exactly the ones listed below. (Calling `buildBootstrap` would fetch nixpkgs: only the
//!   workflows where Nix runs build with it.)
//!
//! Needs `nix` (Debian's nix-bin 2.8 is enough), `deadnix`, `nixpkgs-fmt` and `git`; without
//! them the test prints `SKIPPED: …`, or fails when `LAMBDA_LIBC_REQUIRE_TOOLS=1`. Nix sees
//! only the files git tracks: `git add` a new file before this test can see it in the flake.

mod tools;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};

const SYSTEMS: &[&str] = &["aarch64-linux", "x86_64-linux"];

/// `packages.<system>`, the same on both systems: the unsuffixed ones are the host's
/// architecture, the suffixed ones either architecture (docs/nix.md).
const PACKAGES: &[&str] = &[
    "bootstrap",
    "bootstrap-api",
    "bootstrap-api-arm64",
    "bootstrap-api-x86_64",
    "bootstrap-arm64",
    "bootstrap-c",
    "bootstrap-c-arm64",
    "bootstrap-c-stream",
    "bootstrap-c-stream-arm64",
    "bootstrap-c-stream-x86_64",
    "bootstrap-c-x86_64",
    "bootstrap-stream",
    "bootstrap-stream-arm64",
    "bootstrap-stream-x86_64",
    "bootstrap-x86_64",
    "cli",
    "default",
    "dist",
    "runtime",
    "runtime-arm64",
    "runtime-x86_64",
    "xtask",
];

/// `checks.<system>`; `tofu-validate` joins them when git tracks files under `terraform/`.
const CHECKS: &[&str] = &["bootstraps", "clippy", "deadnix", "integration", "nixpkgs-fmt", "rustfmt", "verify"];

/// `lib.<system>.buildBootstrap`'s arguments, `true` for those with a default (nix/bootstrap.nix).
const BUILD_BOOTSTRAP_ARGS: &[(&str, bool)] = &[
    ("arch", true),
    ("bin", true),
    ("cSources", true),
    ("cStream", true),
    ("features", true),
    ("package", true),
    ("src", false),
];

/// `templates`: each is a directory of templates/ (also what `cargo lambda-libc new` writes).
const TEMPLATES: &[&str] = &["c", "default", "rust"];

const NIX_FEATURES: &[&str] = &["--extra-experimental-features", "nix-command flakes"];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ has a parent").to_path_buf()
}

/// Runs `program args` in the repository root; the output, or `None` if it cannot start.
fn run(program: &str, args: &[&str]) -> Option<Output> {
    Command::new(program).args(args).current_dir(root()).output().ok()
}

/// Runs `program args` in the repository root and returns its stdout; fails the test with
/// its output unless it exits with 0.
fn ok(program: &str, args: &[&str]) -> String {
    let out = run(program, args).unwrap_or_else(|| panic!("cannot run {program}"));
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    assert!(
        out.status.success(),
        "`{program} {}` failed ({}):\n{}{}",
        args.join(" "),
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// `git ls-files` (tracked and untracked, not ignored) for `pathspec`.
fn files(pathspec: &str) -> Vec<String> {
    ok("git", &["ls-files", "--cached", "--others", "--exclude-standard", "--", pathspec])
        .lines()
        .map(str::to_owned)
        .collect()
}

fn nix_eval_json(expr: &str) -> Value {
    let mut args = NIX_FEATURES.to_vec();
    args.extend(["eval", "--offline", "--impure", "--json", "--expr", expr]);
    let out = ok("nix", &args);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("nix eval printed no JSON ({e}): {out}"))
}

fn per_system(names: &[&str]) -> Value {
    SYSTEMS.iter().map(|s| (s.to_string(), json!(names))).collect()
}

#[test]
fn the_flake_parses_lints_locks_and_has_the_expected_outputs() {
    if tools::in_sandbox(
        "nix does not run inside a Nix build; checks.deadnix and checks.nixpkgs-fmt lint the files there",
    ) {
        return;
    }
    let tools = ["nix", "nix-instantiate", "deadnix", "nixpkgs-fmt", "git"];
    // Installed = can be started (`nixpkgs-fmt --version` exits with 1).
    if let Some(missing) = tools.iter().find(|t| run(t, &["--version"]).is_none()) {
        tools::skip(&format!(
            "{missing} is not installed (apt-get install nix-bin; cargo install --locked deadnix nixpkgs-fmt)"
        ));
        return;
    }

    let nix_files = files("*.nix");
    for file in ["flake.nix", "nix/default.nix"] {
        assert!(nix_files.iter().any(|f| f == file), "{file} missing from {nix_files:?}");
    }
    for file in &nix_files {
        ok("nix-instantiate", &["--parse", file]);
    }
    let mut args = vec!["--fail"];
    args.extend(nix_files.iter().map(String::as_str));
    ok("deadnix", &args);
    args[0] = "--check";
    ok("nixpkgs-fmt", &args);

    let mut args = NIX_FEATURES.to_vec();
    args.extend(["flake", "metadata", "--offline", "--no-update-lock-file"]);
    ok("nix", &args);

    // One evaluation of the whole structure. Only names are forced: no input is fetched.
    let flake = format!("git+file://{}", root().display());
    let got = nix_eval_json(&format!(
        r#"let
          flake = builtins.getFlake "{flake}";
          names = builtins.mapAttrs (_: builtins.attrNames);
        in {{
          outputs = builtins.attrNames flake.outputs;
          packages = names flake.packages;
          checks = names flake.checks;
          apps = names flake.apps;
          devShells = names flake.devShells;
          formatter = builtins.attrNames flake.formatter;
          lib = names flake.lib;
          buildBootstrap = builtins.mapAttrs (_: l: builtins.functionArgs l.buildBootstrap) flake.lib;
          templates = builtins.mapAttrs (_: t: {{
            files = builtins.attrNames (builtins.readDir t.path);
            described = t.description != "";
          }}) flake.templates;
        }}"#
    ));

    let mut checks = CHECKS.to_vec();
    // builtins.pathExists in nix/checks.nix sees what the flake sees: tracked files only.
    if !ok("git", &["ls-files", "--", "terraform"]).is_empty() {
        checks.push("tofu-validate");
        checks.sort_unstable();
    }
    // Each template is the directory of templates/ with its name (`default` is `rust`), as git
    // tracks it: its top-level entries.
    let template = |name: &str| {
        let mut files: Vec<String> = files(&format!("templates/{name}"))
            .iter()
            .filter_map(|f| f.strip_prefix(&format!("templates/{name}/"))?.split('/').next().map(str::to_owned))
            .collect();
        files.sort();
        files.dedup();
        json!({ "files": files, "described": true })
    };
    let templates: serde_json::Map<String, Value> =
        TEMPLATES.iter().map(|&t| (t.to_owned(), template(if t == "default" { "rust" } else { t }))).collect();
    let build_bootstrap: serde_json::Map<String, Value> =
        BUILD_BOOTSTRAP_ARGS.iter().map(|&(arg, default)| (arg.to_owned(), json!(default))).collect();
    let expected = json!({
        "outputs": ["apps", "checks", "devShells", "formatter", "lib", "packages", "templates"],
        "packages": per_system(PACKAGES),
        "checks": per_system(&checks),
        "apps": per_system(&["invoke"]),
        "devShells": per_system(&["default"]),
        "formatter": SYSTEMS,
        "lib": per_system(&["buildBootstrap"]),
        "buildBootstrap": SYSTEMS.iter().map(|s| (s.to_string(), json!(build_bootstrap))).collect::<Value>(),
        "templates": templates,
    });
    for (key, want) in expected.as_object().expect("an object") {
        assert_eq!(&got[key], want, "flake `{key}` changed: update this test, docs/nix.md and the README");
    }
}

/// The text of `nix/<name>`.
fn nix_file(name: &str) -> String {
    std::fs::read_to_string(root().join("nix").join(name)).unwrap_or_else(|e| panic!("nix/{name}: {e}"))
}

/// Whether the test runs in the Nix sandbox, whose source leaves `nix/` out (then it is
/// skipped). The tests below check, as far as the files' text can show it without nixpkgs,
/// the fixes of what a review of the flake found (docs/nix.md, "Defects found and what
/// prevents them"): nothing here can evaluate or run them.
fn without_nix_files() -> bool {
    tools::in_sandbox("nix/ is not in the flake's source (nix/source.toml)")
}

/// Defect 1: no cargo linker setting, which cargo would give build scripts too (xtask gives
/// zig through the target's rustflags; `xtask dist` checks what zig linked).
#[test]
fn no_nix_file_sets_a_cargo_linker() {
    if without_nix_files() {
        return;
    }
    for name in files("nix/*.nix") {
        let text = std::fs::read_to_string(root().join(&name)).unwrap();
        assert!(!text.contains("_LINKER"), "{name} sets a cargo linker: build scripts would get it");
    }
}

/// Defect 3: the tests get raw ELFs (xtask's bin/), the host's started through glibc's loader
/// and the other architecture's under qemu, with a glibc from a cross package set, not from
/// another system's substitute-only packages.
#[test]
fn the_checks_run_raw_elfs_and_qemu_with_a_cross_glibc() {
    if without_nix_files() {
        return;
    }
    let (default, checks) = (nix_file("default.nix"), nix_file("checks.nix"));
    assert!(checks.contains("--dist ${build.dist}"), "the integration check tests `dist`'s own bin/");
    assert!(
        !default.contains("legacyPackages.${arch") && default.contains("pkgsCross"),
        "qemu's glibc comes from pkgsCross"
    );
    for var in ["LAMBDA_LIBC_LOADER", "LAMBDA_LIBC_QEMU_${other.elf}", "LAMBDA_LIBC_QEMU_${other.elf}_LD_PREFIX"] {
        assert!(default.contains(var), "nix/default.nix sets no {var}");
    }
}

/// Defect 4: `nix run .#invoke` always starts the bootstrap through glibc's loader; it never
/// tests for the FHS loader, which NixOS's stub-ld fakes.
#[test]
fn the_invoke_app_always_uses_glibcs_loader() {
    if without_nix_files() {
        return;
    }
    let default = nix_file("default.nix");
    let app = &default[default.find("invoke =").expect("the invoke app")..];
    assert!(app.contains("--loader ${runEnv.LAMBDA_LIBC_LOADER}"), "the app passes --loader");
    assert!(!default.contains("[ -e "), "no existence test of a loader");
}

/// Defect 6: crane's toolchain as a function of `pkgs`, not a derivation.
#[test]
fn crane_gets_the_toolchain_as_a_function() {
    if without_nix_files() {
        return;
    }
    let default = nix_file("default.nix");
    assert!(default.contains("overrideToolchain toolchainFor") && default.contains("toolchainFor = p:"));
}

/// `nix fmt` runs nix/fmt.sh with the arguments Nix gives it: none since Nix 2.25, and then
/// it must format the tree, not stdin (defect 5).
#[test]
fn nix_fmt_formats_the_tree_when_given_no_path() {
    if without_nix_files() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("lambda-libc-fmt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let fake = dir.join("nixpkgs-fmt");
    std::fs::write(&fake, "#!/bin/sh\nprintf '%s\\n' \"$@\" > \"$(dirname \"$0\")/args\"\n").unwrap();
    std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let path = format!("{}:{}", dir.display(), std::env::var("PATH").unwrap_or_default());
    for (args, expected) in [(&[][..], ".\n"), (&["flake.nix", "nix"][..], "flake.nix\nnix\n")] {
        let status = Command::new("bash")
            .arg(root().join("nix/fmt.sh"))
            .args(args)
            .env("PATH", &path)
            .stdin(std::process::Stdio::null())
            .status()
            .expect("bash");
        assert!(status.success());
        assert_eq!(std::fs::read_to_string(dir.join("args")).unwrap(), expected, "nix fmt {args:?}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
