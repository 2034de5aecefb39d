//! Small file helpers: reading with the path in the error, writing only what changed,
//! shell quoting and hex for the scripts and checksums written.

use std::ffi::OsStr;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::error::{Context, Result};

/// The bytes of `path`; the error names the file.
pub fn read(path: &Path) -> Result<Vec<u8>> {
    fs::read(path).context(format_args!("cannot read {}", path.display()))
}

/// Writes `bytes` unless the file already holds exactly them (keeps mtimes stable), creating
/// its directory if needed. Returns whether it wrote.
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

/// [`write_if_changed`], then mode 0755: an executable (a script, a bootstrap).
pub fn write_executable(path: &Path, bytes: &[u8]) -> Result {
    write_if_changed(path, bytes)?;
    fs::set_permissions(path, fs::Permissions::from_mode(0o755))
        .context(format_args!("cannot chmod {}", path.display()))
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
