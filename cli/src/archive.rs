//! Deterministic deployment zips and their `SHA256SUMS`.
//!
//! Zip bytes are reproducible for a given ELF: one entry, fixed date (1980-01-01 00:00),
//! fixed mode, no extra fields, deflate by the `zip` crate =9.8.1 with its pure-Rust zopfli
//! backend (`zopfli` 0.8.x, version fixed by Cargo.lock) at [`DEFLATE_LEVEL`].

use std::io::{Cursor, Write};
use std::path::Path;

use sha2::{Digest, Sha256};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

use crate::error::{Context, Result};
use crate::files::{hex, write_if_changed};
use crate::sstrip::sstrip;
use crate::verify::{ZIP_ENTRY, ZIP_ENTRY_MODE};

/// zip's deflate level: 10..=264 select zopfli with `level - 9` iterations, i.e. 255 at 264
/// (the crate's best). Measured on a 14,728 B bootstrap: zlib-rs level 9 gave an 8,437 B
/// zip, zopfli 8,135 B (1 iteration) .. 8,112 B (255 iterations). zopfli is slow without
/// optimisation (~6 s for that file in a dev build, 0.7 s optimised): the workspace sets
/// `opt-level = 3` for the `zopfli` package. Output bytes do not depend on it.
pub const DEFLATE_LEVEL: i64 = 264;

/// Deterministic deployment zip: one entry `bootstrap`, mode 0755, 1980-01-01 00:00, deflate
/// (zopfli, [`DEFLATE_LEVEL`]), no extra fields, no comment.
pub fn zip_bootstrap(elf: &[u8]) -> Result<Vec<u8>> {
    zip_bootstrap_with_level(elf, DEFLATE_LEVEL)
}

/// [`zip_bootstrap`] with another deflate level (1..=9: flate2/zlib-rs, 10..=264: zopfli).
pub fn zip_bootstrap_with_level(elf: &[u8], level: i64) -> Result<Vec<u8>> {
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .compression_level(Some(level))
        .last_modified_time(DateTime::default())
        .system(zip::System::Unix)
        .unix_permissions(ZIP_ENTRY_MODE & 0o777)
        .large_file(false);
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    writer.start_file(ZIP_ENTRY, options).context("zip: start entry")?;
    writer.write_all(elf).context("zip: write entry")?;
    Ok(writer.finish().context("zip: finish")?.into_inner())
}

/// The deployment zip of the executable `elf`: [`sstrip`]ped (no section headers: what
/// the kernel and the dynamic loader never read), then [`zip_bootstrap`].
pub fn deployment_zip(elf: &[u8]) -> Result<Vec<u8>> {
    zip_bootstrap(&sstrip(elf)?)
}

/// Writes the [`deployment_zip`] of `elf` to `path`, unless the file already holds exactly
/// those bytes, and returns them. Every zip of `cargo lambda-libc build`, `cargo xtask dist`
/// and `cargo xtask zip` is written through this function.
pub fn write_zip(elf: &[u8], path: &Path) -> Result<Vec<u8>> {
    let zip = deployment_zip(elf)?;
    write_if_changed(path, &zip)?;
    Ok(zip)
}

/// A `SHA256SUMS` file of `files` (name, bytes): `sha256sum`'s format, sorted by name, as
/// `sha256sum *.zip` lists them.
pub fn sha256sums<'a>(files: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> String {
    let mut sums: Vec<(&str, String)> =
        files.into_iter().map(|(name, bytes)| (name, hex(&Sha256::digest(bytes)))).collect();
    sums.sort();
    sums.iter().map(|(name, hash)| format!("{hash}  {name}\n")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::io::Read;

    #[test]
    fn zip_is_deterministic_and_minimal() {
        // Small, so the test stays quick even with an unoptimised zopfli.
        let payload: Vec<u8> = b"\x7fELF bootstrap bytes ".repeat(40);
        let a = zip_bootstrap(&payload).unwrap();
        let b = zip_bootstrap(&payload).unwrap();
        assert_eq!(a, b);

        // Local file header: version, flags, method 8 (deflate), time 0, date 1980-01-01,
        // name length 9, extra length 0.
        assert_eq!(&a[..4], b"PK\x03\x04");
        assert_eq!(u16::from_le_bytes([a[8], a[9]]), 8, "deflate");
        assert_eq!(u16::from_le_bytes([a[10], a[11]]), 0, "time 00:00");
        assert_eq!(u16::from_le_bytes([a[12], a[13]]), (1 << 5) | 1, "date 1980-01-01");
        assert_eq!(u16::from_le_bytes([a[26], a[27]]), 9, "name length");
        assert_eq!(u16::from_le_bytes([a[28], a[29]]), 0, "no extra fields");
        assert_eq!(&a[30..39], b"bootstrap");

        let mut archive = zip::ZipArchive::new(Cursor::new(&a)).unwrap();
        assert_eq!(archive.len(), 1);
        let mut entry = archive.by_index(0).unwrap();
        assert_eq!(entry.name().unwrap(), "bootstrap");
        assert_eq!(entry.unix_mode(), Some(0o100_755));
        assert!(entry.extra_data().is_none_or(|d| d.is_empty()));
        let mut back = Vec::new();
        entry.read_to_end(&mut back).unwrap();
        assert_eq!(back, payload);
    }

    #[test]
    fn write_zip_writes_the_sstripped_executable() {
        let dir = std::env::temp_dir().join(format!("lambda-libc-write-zip-{}", std::process::id()));
        let path = dir.join("sub/bootstrap-test.zip");
        // A small ELF executable with section headers.
        let Some(elf) =
            crate::verify::tests::zig_cc("write-zip", crate::verify::tests::AL2023, crate::verify::tests::MAIN, &[])
        else {
            return;
        };
        let written = write_zip(&elf, &path);
        let on_disk = fs::read(&path);
        fs::remove_dir_all(&dir).unwrap();
        let written = written.unwrap();
        let stripped = sstrip(&elf).unwrap();
        assert!(stripped.len() < elf.len());
        assert_eq!(written, zip_bootstrap(&stripped).unwrap());
        assert_eq!(on_disk.unwrap(), written);
        assert!(write_zip(b"\x7fELF not really", &path).is_err(), "only an executable is zipped");
    }

    #[test]
    fn sha256sums_are_sorted_by_name() {
        let sums = sha256sums([("b.zip", &b""[..]), ("a.zip", b"abc")]);
        assert_eq!(
            sums,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  a.zip\n\
             e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  b.zip\n"
        );
    }
}
