//! The Terraform code in `terraform/` (no Terraform binary needed): the module
//! `terraform/modules/function` and the root example that calls it.
//!
//! * its python-hcl2 tests, `python3 -m pytest terraform/tests`, pass;
//! * checkov reports no failed check on the root (which it follows into the module calls),
//!   with the variables' defaults and with `terraform/example.tfvars`, nor on the module
//!   directory alone (its own defaults, as a caller of the module gets them), and every inline
//!   `#checkov:skip` is still needed: without them checkov fails exactly the skipped checks.
//!
//! Needs `python3` with `python-hcl2` and `pytest`, and checkov: `target/tools/checkov/bin/checkov`
//! (where `.ci/run` installs it, in a venv of its own: checkov's pinned `bc-python-hcl2` installs
//! a module named `hcl2` too, which would shadow python-hcl2) or `checkov` on PATH. Without
//! them the tests print `SKIPPED: ...`, or fail when `LAMBDA_LIBC_REQUIRE_TOOLS=1`.

mod tools;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value;

/// The workspace root (parent of `tests/`).
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn stack() -> PathBuf {
    root().join("terraform")
}

/// The module, inside the root so that the root's `source = "./modules/function"` holds in a
/// copy of `terraform/` (the flake's tofu-validate check copies it).
const MODULE: &str = "modules/function";

/// The checkov that `.ci/run` installs (under `CARGO_TARGET_DIR`, like xtask's tools), else
/// the one on PATH.
fn checkov() -> Option<PathBuf> {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root().join("target"), |d| root().join(d));
    let pinned = target.join("tools/checkov/bin/checkov");
    [pinned, PathBuf::from("checkov")]
        .into_iter()
        .find(|exe| Command::new(exe).arg("--version").output().is_ok_and(|o| o.status.success()))
}

/// A copy of a directory's files, removed on drop (also when the test fails).
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// What one checkov run found.
#[derive(Debug)]
struct Report {
    passed: u64,
    failed: Vec<String>,
    skipped: Vec<String>,
    parsing_errors: u64,
    resources: u64,
}

/// `checkov -d <dir> [--var-file <file>]` on the Terraform framework, read from its JSON
/// report. `--skip-download` keeps it offline (no Prisma Cloud guidelines or policies).
fn run_checkov(checkov: &Path, dir: &Path, var_file: Option<&Path>) -> Report {
    let mut cmd = Command::new(checkov);
    cmd.args(["--framework", "terraform", "--skip-download", "--output", "json", "--directory"]).arg(dir);
    if let Some(file) = var_file {
        cmd.arg("--var-file").arg(file);
    }
    let out = cmd.output().expect("run checkov");
    let stdout = String::from_utf8_lossy(&out.stdout);
    // 0: no failed check, 1: some failed checks; anything else is checkov itself failing.
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "checkov on {}: {}\n{stdout}\n{}",
        dir.display(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let json: Value =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("checkov's report is not JSON ({e}): {stdout}"));
    // One framework gives one report object; several would give a list of them.
    let report = match &json {
        Value::Array(reports) => reports.iter().find(|r| r["check_type"] == "terraform").unwrap_or(&Value::Null),
        _ => &json,
    };
    let checks = |kind: &str| -> Vec<String> {
        report["results"][kind]
            .as_array()
            .map(|v| {
                v.iter()
                    .map(|c| format!("{} {}", c["check_id"].as_str().unwrap(), c["resource"].as_str().unwrap()))
                    .collect()
            })
            .unwrap_or_default()
    };
    let count = |key: &str| report["summary"][key].as_u64().unwrap_or_else(|| panic!("no summary.{key} in {report}"));
    Report {
        passed: count("passed"),
        failed: checks("failed_checks"),
        skipped: checks("skipped_checks"),
        parsing_errors: count("parsing_errors"),
        resources: count("resource_count"),
    }
}

#[test]
fn python_hcl2_tests_pass() {
    if tools::in_sandbox("terraform/ is not in the flake's source (nix/source.toml); checks.tofu-validate checks it") {
        return;
    }
    // hcl2.utils is python-hcl2's own; checkov's bc-python-hcl2 has a `hcl2` without it.
    if !tools::python_imports(&["hcl2.utils", "pytest"]) {
        tools::skip("python-hcl2 or pytest not installed (python3 -m pip install python-hcl2==8.1.4 pytest==9.0.2)");
        return;
    }
    let out = Command::new("python3")
        .args(["-m", "pytest", "-q", "-p", "no:cacheprovider", "terraform/tests"])
        .current_dir(root())
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .expect("run python3 -m pytest");
    let stdout = String::from_utf8_lossy(&out.stdout);
    // pytest exits 0 only when it collected tests and all of them passed.
    assert!(
        out.status.success(),
        "pytest terraform/tests: {}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("{}", stdout.lines().last().unwrap_or_default());
}

#[test]
fn checkov_finds_no_failed_check_and_no_needless_skip() {
    if tools::in_sandbox("terraform/ is not in the flake's source (nix/source.toml); checks.tofu-validate checks it") {
        return;
    }
    let Some(checkov) = checkov() else {
        tools::skip("checkov not installed (.ci/run installs checkov==3.3.30 into target/tools/checkov)");
        return;
    };

    let defaults = run_checkov(&checkov, &stack(), None);
    let example = run_checkov(&checkov, &stack(), Some(&stack().join("example.tfvars")));
    let module = run_checkov(&checkov, &stack().join(MODULE), None);
    for (what, r) in [("the defaults", &defaults), ("example.tfvars", &example), ("the module alone", &module)] {
        assert_eq!(r.failed, Vec::<String>::new(), "checkov with {what}: failed checks");
        assert_eq!(r.parsing_errors, 0, "checkov with {what}: files it could not parse");
        // Per function: a log group, a role, its policy, the function (and a URL).
        assert!(r.resources >= 4 && r.passed > 0, "checkov with {what} checked nothing: {r:?}");
        eprintln!("checkov with {what}: {} passed, 0 failed, {} skipped", r.passed, r.skipped.len());
    }
    assert!(example.resources > defaults.resources, "example.tfvars deploys more than the defaults");
    // The root follows the module calls: their resources are checked, by their module address.
    assert!(
        defaults.skipped.iter().any(|c| c.contains(" module.function[")),
        "checkov did not check the resources of module.function: {defaults:?}"
    );

    // Without the skip comments, in a copy of terraform/ with every `#checkov:skip=` line
    // removed: the module alone fails exactly the checks it skipped, so each skip (they are
    // all in the module) is needed; the root fails nothing but skipped checks. Not all of
    // them: the root passes log_retention_days = null for the module's default, which checkov
    // does not resolve, so CKV_AWS_338 neither fails nor passes there.
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().subsec_nanos();
    let copy = Scratch(std::env::temp_dir().join(format!("terraform-checkov-{}-{nanos}", std::process::id())));
    let removed = copy_without_skips(&stack(), &copy.0);
    assert!(removed > 0, "no #checkov:skip comment found to remove");
    let unskipped = run_checkov(&checkov, &copy.0.join(MODULE), None);
    let skipped: BTreeSet<_> = module.skipped.iter().collect();
    let failed: BTreeSet<_> = unskipped.failed.iter().collect();
    assert!(!skipped.is_empty(), "the module alone: checkov skipped nothing");
    assert_eq!(
        failed, skipped,
        "the module alone: checks failed without the skip comments vs checks skipped with them"
    );
    let unskipped = run_checkov(&checkov, &copy.0, None);
    let skipped: BTreeSet<_> = defaults.skipped.iter().collect();
    let failed: BTreeSet<_> = unskipped.failed.iter().collect();
    assert!(
        !failed.is_empty() && failed.is_subset(&skipped),
        "the root without the skip comments fails {failed:?}, skipped {skipped:?}"
    );
}

/// Copies the `*.tf` and `*.tfvars` files of `from` (and of its subdirectories but `tests/`)
/// to `to`, without the lines that start with `#checkov:skip=`; returns how many it removed.
fn copy_without_skips(from: &Path, to: &Path) -> usize {
    std::fs::create_dir_all(to).unwrap();
    let mut removed = 0;
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap();
        if path.is_dir() && name != "tests" && name != ".terraform" {
            removed += copy_without_skips(&path, &to.join(name));
        } else if path.extension().is_some_and(|e| e == "tf" || e == "tfvars") {
            let text = std::fs::read_to_string(&path).unwrap();
            let kept: Vec<&str> = text.lines().filter(|l| !l.trim_start().starts_with("#checkov:skip=")).collect();
            removed += text.lines().count() - kept.len();
            std::fs::write(to.join(name), kept.join("\n") + "\n").unwrap();
        }
    }
    removed
}
