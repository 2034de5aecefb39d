//! The size budgets of `budgets.toml` and the shape of `dist/`, as `cargo xtask dist` wrote
//! it (`LAMBDA_LIBC_DIST_DIR`, set by `cargo xtask test`). The ELF properties of what is
//! inside are checked by `cargo xtask verify`, which `dist` runs.

use std::path::PathBuf;

/// The budgets file the verifier (xtask/src/verify.rs) reads too.
const BUDGETS_TOML: &str = include_str!("../../budgets.toml");

/// What `budgets.toml` holds (see its comments).
struct Budgets {
    max_echo_zip_bytes: u64,
    max_stream_zip_bytes: u64,
    max_api_zip_bytes: u64,
    max_c_over_rust_percent: u64,
}

fn budgets() -> Budgets {
    let table: toml::Table = BUDGETS_TOML.parse().unwrap_or_else(|e| panic!("budgets.toml: {e}"));
    let get = |key: &str| {
        let value = table.get(key).unwrap_or_else(|| panic!("budgets.toml has no `{key}`"));
        let n = value.as_integer().and_then(|n| u64::try_from(n).ok()).filter(|&n| n > 0);
        n.unwrap_or_else(|| panic!("budgets.toml: `{key}` is not a positive integer"))
    };
    Budgets {
        max_echo_zip_bytes: get("max_echo_zip_bytes"),
        max_stream_zip_bytes: get("max_stream_zip_bytes"),
        max_api_zip_bytes: get("max_api_zip_bytes"),
        max_c_over_rust_percent: get("max_c_over_rust_percent"),
    }
}

/// The budget of the zip named `name`: a streaming echo's if `-stream-` is in the name, the
/// JSON API example's if `-api-` is, else an echo's.
fn budget(name: &str) -> u64 {
    let b = budgets();
    if name.contains("-stream-") {
        b.max_stream_zip_bytes
    } else if name.contains("-api-") {
        b.max_api_zip_bytes
    } else {
        b.max_echo_zip_bytes
    }
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
fn every_bootstrap_zip_fits_its_budget() {
    for (name, len) in zips() {
        let budget = budget(&name);
        assert!(len <= budget, "{name} is {len} bytes, over its budget of {budget} (budgets.toml)");
        let bytes = std::fs::read(dist_dir().join(&name)).expect("read zip");
        assert_eq!(&bytes[..4], b"PK\x03\x04", "{name} is not a zip");
    }
}

#[test]
fn the_json_api_bootstraps_are_in_dist() {
    let names: Vec<String> = zips().into_iter().map(|(n, _)| n).collect();
    assert!(names.contains(&"bootstrap-rust-api-x86_64.zip".to_owned()), "dist/ has {names:?}");
}

#[test]
fn a_streaming_echo_and_the_json_api_have_budgets_of_their_own() {
    let b = budgets();
    assert_eq!(budget("bootstrap-c-stream-arm64.zip"), b.max_stream_zip_bytes);
    assert_eq!(budget("bootstrap-rust-api-arm64.zip"), b.max_api_zip_bytes);
    assert_eq!(budget("bootstrap-c-arm64.zip"), b.max_echo_zip_bytes);
}

/// For every architecture in dist/, `bootstrap-c-<arch>.zip` against
/// `bootstrap-rust-<arch>.zip`. The echoes only: see `max_c_over_rust_percent` in
/// budgets.toml for why the streaming echoes are not held to it (and the JSON API has no C
/// twin).
#[test]
fn each_c_echo_is_within_its_percent_of_the_rust_echo() {
    let percent = budgets().max_c_over_rust_percent;
    let zips = zips();
    let size = |name: &str| zips.iter().find(|(n, _)| n == name).map(|&(_, len)| len);
    let arch_of = |name: &str| {
        let rest = name.strip_prefix("bootstrap-rust-").or_else(|| name.strip_prefix("bootstrap-c-"))?;
        let arch = rest.strip_suffix(".zip")?;
        let echo = !arch.starts_with("stream-") && !arch.starts_with("api-");
        echo.then(|| arch.to_owned())
    };
    let mut arches: Vec<String> = zips.iter().filter_map(|(name, _)| arch_of(name)).collect();
    arches.sort();
    arches.dedup();
    assert!(!arches.is_empty(), "dist/ has no echo: {zips:?}");
    for arch in arches {
        let (c, rust) = (format!("bootstrap-c-{arch}.zip"), format!("bootstrap-rust-{arch}.zip"));
        let (Some(c_len), Some(rust_len)) = (size(&c), size(&rust)) else {
            panic!("dist/ has not both {c} and {rust}: {zips:?}");
        };
        assert!(
            c_len * 100 <= rust_len * (100 + percent),
            "{c} is {c_len} bytes, more than {percent} % over {rust} ({rust_len} bytes; budgets.toml)"
        );
    }
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
