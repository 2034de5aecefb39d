//! The size budget and the shape of `dist/`, as `cargo xtask dist` wrote it
//! (`LAMBDA_LIBC_DIST_DIR`, set by `cargo xtask test`). The ELF properties of what is
//! inside are checked by `cargo xtask verify`, which `dist` runs.

use std::path::PathBuf;

/// Every bootstrap zip must fit in this many bytes: a ratchet, lowered as the runtime
/// shrinks and never raised, kept equal to `MAX_ZIP_BYTES` in xtask/src/verify.rs. The goal
/// is 4,096 bytes.
const ZIP_BUDGET: u64 = 5776;
/// The same for the streaming bootstraps (`-stream-` in the name), kept equal to
/// `MAX_STREAM_ZIP_BYTES` in xtask/src/verify.rs.
const STREAM_ZIP_BUDGET: u64 = 8888;

fn budget(name: &str) -> u64 {
    if name.contains("-stream-") { STREAM_ZIP_BUDGET } else { ZIP_BUDGET }
}

fn dist_dir() -> PathBuf {
    let dir = std::env::var_os("LAMBDA_LIBC_DIST_DIR")
        .expect("LAMBDA_LIBC_DIST_DIR is not set: run `cargo xtask test` (or set it to the dist/ directory)");
    PathBuf::from(dir)
}

fn zips() -> Vec<(String, u64)> {
    let mut zips: Vec<(String, u64)> = std::fs::read_dir(dist_dir())
        .expect("read dist/")
        .map(|e| e.expect("dist/ entry"))
        .filter(|e| e.file_name().to_string_lossy().ends_with(".zip"))
        .map(|e| (e.file_name().to_string_lossy().into_owned(), e.metadata().expect("stat").len()))
        .collect();
    zips.sort();
    zips
}

#[test]
fn the_rust_echo_bootstrap_is_in_dist() {
    let names: Vec<String> = zips().into_iter().map(|(n, _)| n).collect();
    assert!(names.contains(&"bootstrap-rust-x86_64.zip".to_owned()), "dist/ has {names:?}");
}

#[test]
fn the_streaming_bootstraps_are_in_dist() {
    let names: Vec<String> = zips().into_iter().map(|(n, _)| n).collect();
    for name in ["bootstrap-rust-stream-x86_64.zip", "bootstrap-c-stream-x86_64.zip"] {
        assert!(names.contains(&name.to_owned()), "dist/ has {names:?}");
    }
}

#[test]
fn every_bootstrap_zip_fits_the_budget() {
    for (name, len) in zips() {
        let budget = budget(&name);
        assert!(len <= budget, "{name} is {len} bytes, over the {budget}-byte budget");
        let bytes = std::fs::read(dist_dir().join(&name)).expect("read zip");
        assert_eq!(&bytes[..4], b"PK\x03\x04", "{name} is not a zip");
    }
}

/// The echoes only: the C streaming echo also links `lambda_run`'s bookkeeping for a stream
/// kept across C calls, which the Rust one, a loop of its own, does without.
#[test]
fn the_c_echo_is_within_ten_percent_of_the_rust_echo() {
    let zips = zips();
    let size = |name: &str| zips.iter().find(|(n, _)| n == name).map(|&(_, len)| len);
    let mut compared = 0;
    for (name, c_len) in &zips {
        let Some(arch) = name.strip_prefix("bootstrap-c-").and_then(|rest| rest.strip_suffix(".zip")) else {
            continue;
        };
        if arch.starts_with("stream-") {
            continue;
        }
        let rust = format!("bootstrap-rust-{arch}.zip");
        let rust_len = size(&rust).unwrap_or_else(|| panic!("{name} has no {rust} to compare with"));
        assert!(c_len * 10 <= rust_len * 11, "{name} is {c_len} bytes, more than 110 % of {rust} ({rust_len})");
        compared += 1;
    }
    assert!(compared > 0, "dist/ has no C bootstrap: {zips:?}");
}

#[test]
fn sha256sums_lists_exactly_the_zips() {
    let sums = std::fs::read_to_string(dist_dir().join("SHA256SUMS")).expect("read dist/SHA256SUMS");
    let mut listed: Vec<&str> = sums
        .lines()
        .map(|line| {
            let (hash, name) = line.split_once("  ").expect("sha256sum format: `<hex>  <name>`");
            assert_eq!(hash.len(), 64, "{line}");
            assert!(hash.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()), "{line}");
            name
        })
        .collect();
    listed.sort();
    let zips: Vec<String> = zips().into_iter().map(|(n, _)| n).collect();
    assert_eq!(listed, zips);
}
