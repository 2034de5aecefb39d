//! The workspace's paths and helpers about this repository (its tracked files, generated
//! parts of its documents), with the library's error type, process and file helpers
//! (`cargo_lambda_libc`), which every xtask module uses.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::{env, fs};

pub use cargo_lambda_libc::error::{Context, Error, Result};
pub use cargo_lambda_libc::files::{hex, read, write_if_changed};
pub use cargo_lambda_libc::process::{cargo, output, run};
use cargo_lambda_libc::zig::Zig;

/// Paths of the workspace this xtask belongs to.
#[derive(Debug, Clone)]
pub struct Workspace {
    /// The workspace root (parent of `xtask/`).
    pub root: PathBuf,
    /// Cargo's target directory (`CARGO_TARGET_DIR` or `<root>/target`).
    pub target: PathBuf,
    /// `<root>/dist`: the zips and `SHA256SUMS`.
    pub dist: PathBuf,
    /// `<target>/tools`: zig, its caches and the linker wrappers.
    pub tools: PathBuf,
}

impl Workspace {
    /// The workspace of `cargo xtask` (cargo sets `CARGO_MANIFEST_DIR` to `<root>/xtask`), or,
    /// for an xtask run on its own (the Nix flake's build phases), the current directory.
    pub fn locate() -> Result<Self> {
        let root = match env::var_os("CARGO_MANIFEST_DIR") {
            Some(manifest) => {
                PathBuf::from(manifest).parent().ok_or("CARGO_MANIFEST_DIR has no parent directory")?.to_path_buf()
            }
            None => env::current_dir().context("cannot read the current directory")?,
        };
        if !root.join("xtask/Cargo.toml").is_file() {
            return Err(format!(
                "{} is not the lambda-libc workspace (no xtask/Cargo.toml): run xtask from its root",
                root.display()
            )
            .into());
        }
        let target = match env::var_os("CARGO_TARGET_DIR") {
            Some(dir) => root.join(dir),
            None => root.join("target"),
        };
        Ok(Self { dist: root.join("dist"), tools: target.join("tools"), target, root })
    }

    /// The pinned zig ([`Zig::ensure`]), installed into and working in `target/tools/`.
    pub fn zig(&self) -> Result<Zig> {
        Zig::ensure(&self.tools, &self.tools)
    }

    /// `path` relative to the workspace root, for messages.
    pub fn show<'a>(&self, path: &'a Path) -> std::path::Display<'a> {
        path.strip_prefix(&self.root).unwrap_or(path).display()
    }
}

/// Copies every file git tracks in the workspace to the same path under `to`, except those
/// under (or named) one of `skip`; returns how many were copied.
pub fn copy_tracked(ws: &Workspace, to: &Path, skip: &[String]) -> Result<usize> {
    let files = output(Command::new("git").current_dir(&ws.root).args(["ls-files", "-z"]))?;
    let mut copied = 0;
    for file in files.split('\0').filter(|f| !f.is_empty()) {
        if skip.iter().any(|s| file == s || file.strip_prefix(s.as_str()).is_some_and(|rest| rest.starts_with('/'))) {
            continue;
        }
        let dest = to.join(file);
        fs::create_dir_all(dest.parent().unwrap_or(to)).context(format_args!("cannot create {}", dest.display()))?;
        fs::copy(ws.root.join(file), &dest).context(format_args!("cannot copy {file}"))?;
        copied += 1;
    }
    Ok(copied)
}

/// `doc` with the text between the lines `begin` and `end` replaced by `text`: a generated
/// part of a hand-written document (docs/BENCHMARKS.md's results, README.md's size table).
pub fn splice(doc: &str, begin: &str, end: &str, text: &str) -> Result<String> {
    let (Some(b), Some(e)) = (doc.find(begin), doc.find(end)) else {
        return Err(format!("lacks the markers `{begin}` and `{end}`").into());
    };
    if e < b {
        return Err(format!("the markers `{begin}` and `{end}` are in the wrong order").into());
    }
    Ok(format!("{}{begin}\n\n{}\n{end}{}", &doc[..b], text.trim_end(), &doc[e + end.len()..]))
}
