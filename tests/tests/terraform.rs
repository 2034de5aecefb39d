//! The Terraform stack in `terraform/` (no Terraform binary needed):
//!
//! * its python-hcl2 tests, `python3 -m pytest terraform/tests`, pass;
//! * checkov reports no failed check, with the variables' defaults and with
//!   `terraform/example.tfvars`, and every inline `#checkov:skip` is still needed: without
//!   them checkov fails exactly the skipped checks.
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
    for (what, r) in [("defaults", &defaults), ("example.tfvars", &example)] {
        assert_eq!(r.failed, Vec::<String>::new(), "checkov with the {what}: failed checks");
        assert_eq!(r.parsing_errors, 0, "checkov with the {what}: files it could not parse");
        // Per function: a log group, a role, its policy, the function; plus the URLs.
        assert!(r.resources >= 4 && r.passed > 0, "checkov with the {what} checked nothing: {r:?}");
        eprintln!("checkov with the {what}: {} passed, 0 failed, {} skipped", r.passed, r.skipped.len());
    }
    assert!(example.resources > defaults.resources, "example.tfvars deploys more than the defaults");

    // Without the skip comments, checkov fails exactly what was skipped.
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().subsec_nanos();
    let copy = Scratch(std::env::temp_dir().join(format!("terraform-checkov-{}-{nanos}", std::process::id())));
    std::fs::create_dir_all(&copy.0).unwrap();
    let mut removed = 0;
    for entry in std::fs::read_dir(stack()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "tf") {
            let text = std::fs::read_to_string(&path).unwrap();
            let kept: Vec<&str> = text.lines().filter(|l| !l.trim_start().starts_with("#checkov:skip=")).collect();
            removed += text.lines().count() - kept.len();
            std::fs::write(copy.0.join(path.file_name().unwrap()), kept.join("\n") + "\n").unwrap();
        }
    }
    let unskipped = run_checkov(&checkov, &copy.0, None);
    let skipped: BTreeSet<_> = defaults.skipped.iter().collect();
    let failed: BTreeSet<_> = unskipped.failed.iter().collect();
    assert!(removed > 0 && !skipped.is_empty(), "no #checkov:skip comment found to remove");
    assert_eq!(failed, skipped, "checks failed without the skip comments vs checks skipped with them");
}
