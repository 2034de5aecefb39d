//! Replays every committed fuzz input through the fuzz targets' own checks, on stable:
//! the seed corpus (`fuzz/corpus/<target>/*`, the golden cases) and the regressions
//! (`fuzz/regressions/<target>/*`, every crash a fuzz run has found, kept after the fix).

#[allow(dead_code)] // the differential tests use the rest
#[path = "../../fuzz/src/lib.rs"]
mod wire_checks;

use std::fs;
use std::path::{Path, PathBuf};

fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(dir) else { return Vec::new() };
    let mut files: Vec<PathBuf> = entries.map(|e| e.expect("read a directory entry").path()).collect();
    files.retain(|p| p.is_file());
    files.sort();
    files
}

#[test]
fn every_seed_and_regression_passes_the_fuzz_checks() {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    for (target, check) in wire_checks::TARGETS {
        let seeds = files(&fuzz.join("corpus").join(target));
        assert!(!seeds.is_empty(), "fuzz/corpus/{target}/ has no seed files");
        for file in seeds.iter().chain(&files(&fuzz.join("regressions").join(target))) {
            let data = fs::read(file).unwrap_or_else(|e| panic!("read {}: {e}", file.display()));
            let run = std::panic::catch_unwind(|| check(&data));
            assert!(run.is_ok(), "{target}: {} fails the checks (message above)", file.display());
        }
    }
}
