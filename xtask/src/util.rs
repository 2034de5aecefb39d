//! Shared plumbing: error type, workspace paths, child processes, small file helpers.

use std::ffi::OsStr;
use std::fmt::Display;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::{env, fs};

/// Every xtask error is a human-readable message.
pub type Error = Box<dyn std::error::Error + Send + Sync>;
pub type Result<T = ()> = std::result::Result<T, Error>;

/// `.context("reading x")?` for any `Result` whose error can be displayed.
pub trait Context<T> {
    fn context(self, what: impl Display) -> Result<T>;
}

impl<T, E: Display> Context<T> for std::result::Result<T, E> {
    fn context(self, what: impl Display) -> Result<T> {
        self.map_err(|e| format!("{what}: {e}").into())
    }
}

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

    /// `<target>/<triple>/release`: where `cargo build --release --target <triple>` puts binaries.
    pub fn release_dir(&self, rust_target: &str) -> PathBuf {
        self.target.join(rust_target).join("release")
    }

    /// `path` relative to the workspace root, for messages.
    pub fn show<'a>(&self, path: &'a Path) -> std::path::Display<'a> {
        path.strip_prefix(&self.root).unwrap_or(path).display()
    }
}

/// The cargo that runs us (`CARGO`), so nested builds use the pinned toolchain.
pub fn cargo() -> Command {
    Command::new(env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// A command line for display: program and arguments, space-separated.
pub fn command_line(cmd: &Command) -> String {
    let mut line = cmd.get_program().to_string_lossy().into_owned();
    for arg in cmd.get_args() {
        line.push(' ');
        line.push_str(&arg.to_string_lossy());
    }
    line
}

/// Runs `cmd` with inherited stdio (output streams through); fails unless it exits with 0.
pub fn run(cmd: &mut Command) -> Result {
    eprintln!("xtask: $ {}", command_line(cmd));
    let status = cmd.status().context(format_args!("cannot start `{}`", cmd.get_program().display()))?;
    if status.success() { Ok(()) } else { Err(format!("`{}` failed ({status})", command_line(cmd)).into()) }
}

/// Runs `cmd` and returns its stdout; stderr is part of the error message on failure.
pub fn output(cmd: &mut Command) -> Result<String> {
    let out = cmd.output().context(format_args!("cannot start `{}`", cmd.get_program().display()))?;
    if !out.status.success() {
        return Err(format!(
            "`{}` failed ({}):\n{}",
            command_line(cmd),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim_end()
        )
        .into());
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

pub fn read(path: &Path) -> Result<Vec<u8>> {
    fs::read(path).context(format_args!("cannot read {}", path.display()))
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

/// Writes `bytes` unless the file already holds exactly them (keeps mtimes stable).
pub fn write_if_changed(path: &Path, bytes: &[u8]) -> Result<bool> {
    if fs::read(path).is_ok_and(|old| old == bytes) {
        return Ok(false);
    }
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).context(format_args!("cannot create {}", dir.display()))?;
    }
    fs::write(path, bytes).context(format_args!("cannot write {}", path.display()))?;
    Ok(true)
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

/// Quotes `s` for a POSIX shell script (single quotes, `'` as `'\''`).
pub fn sh_quote(s: &OsStr) -> String {
    format!("'{}'", s.to_string_lossy().replace('\'', r"'\''"))
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sh_quote_escapes_single_quotes() {
        assert_eq!(sh_quote(OsStr::new("/a b/c")), "'/a b/c'");
        assert_eq!(sh_quote(OsStr::new("it's")), r"'it'\''s'");
    }

    #[test]
    fn hex_is_lower_case() {
        assert_eq!(hex(&[0x00, 0xab, 0x7f]), "00ab7f");
    }
}
