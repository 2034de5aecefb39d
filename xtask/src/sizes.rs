//! README.md's size table: every deployment zip of [`BOOTSTRAPS`] and the ELF it holds, as
//! an `xtask dist` output directory has them, against the budgets of `budgets.toml`.
//! `cargo xtask dist` writes it between [`BEGIN`] and [`END`]; a test fails when README.md's
//! differs from what dist/ holds. `cargo xtask test` only checks it: its `dist` step leaves
//! README.md alone.

use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use cargo_lambda_libc::arch::{ARCHES, Arch};

use crate::dist::{BOOTSTRAPS, Bootstrap, Source, bin_name};
use crate::util::{Context, Result, Workspace, splice, write_if_changed};
use crate::verify::budgets;

/// Where the table lives, from the workspace root.
pub const README: &str = "README.md";
/// The lines README.md's table stands between.
pub const BEGIN: &str = "<!-- cargo xtask dist: sizes begin -->";
pub const END: &str = "<!-- cargo xtask dist: sizes end -->";

/// The table (with the budgets it is held to) for the output directory `dist`: every
/// bootstrap's ELF in `bin/` and its zip. Fails if one of them is missing.
pub fn table(dist: &Path) -> Result<String> {
    let size = |path: &Path| -> Result<u64> {
        Ok(fs::metadata(path).context(format_args!("cannot stat {}", path.display()))?.len())
    };
    let zip_bytes = |b: &Bootstrap| size(&dist.join(b.zip));
    let b = budgets();
    let mut out = format!(
        "Budgets (`budgets.toml`): every echo's zip at most {} bytes, every streaming echo's at\n\
         most {}, the JSON API example's at most {}; each C echo's zip at most {} % larger than\n\
         the Rust echo's of its architecture (the streaming echoes are not held to that).\n\n\
         | bootstrap | ELF bytes | zip bytes | budget | vs the Rust one |\n|---|---:|---:|---:|---:|\n",
        thousands(b.max_echo_zip_bytes as u64),
        thousands(b.max_stream_zip_bytes as u64),
        thousands(b.max_api_zip_bytes as u64),
        b.max_c_over_rust_percent,
    );
    for boot in BOOTSTRAPS {
        let elf = size(&dist.join("bin").join(bin_name(&boot.source, boot.arch)))?;
        let zip = zip_bytes(boot)?;
        let what = if boot.zip.contains("-stream-") {
            "streaming echo"
        } else if boot.zip.contains("-api-") {
            "JSON API"
        } else {
            "echo"
        };
        let (kind, vs) = match boot.source {
            Source::Cargo { .. } => ("", "—".to_owned()),
            Source::C { .. } => {
                let rust = rust_twin(boot)?;
                let percent = (zip as f64 / zip_bytes(rust)? as f64 - 1.0) * 100.0;
                (", C API", format!("{percent:+.1} %"))
            }
        };
        let _ = writeln!(
            out,
            "| `{}` ({what}{kind}) | {} | {} | {} | {vs} |",
            boot.name(),
            thousands(elf),
            thousands(zip),
            thousands(b.max_zip_bytes(boot.zip) as u64),
        );
    }
    Ok(out)
}

/// The Rust bootstrap of `c`'s architecture that does what `c` does (echo or streaming echo;
/// the JSON API has no C twin).
fn rust_twin(c: &Bootstrap) -> Result<&'static Bootstrap> {
    let stream = c.zip.contains("-stream-");
    BOOTSTRAPS
        .iter()
        .find(|b| {
            matches!(b.source, Source::Cargo { .. })
                && b.arch.name == c.arch.name
                && b.zip.contains("-stream-") == stream
                && !b.zip.contains("-api-")
        })
        .ok_or_else(|| format!("{} has no Rust bootstrap to compare with", c.zip).into())
}

/// `cargo xtask dist`'s last step: README.md's table from `dist`, when every architecture was
/// built (`built`) and the workspace has a README.md.
pub fn write_readme(ws: &Workspace, dist: &Path, built: &[&Arch]) -> Result {
    let path = ws.root.join(README);
    if built.len() < ARCHES.len() {
        eprintln!("xtask: dist: {README}'s size table left as it was: not every architecture was built");
        return Ok(());
    }
    if !path.is_file() {
        eprintln!("xtask: dist: no {README} here: no size table written");
        return Ok(());
    }
    let readme = fs::read_to_string(&path).context(format_args!("cannot read {README}"))?;
    let new = splice(&readme, BEGIN, END, &table(dist)?).context(README)?;
    if write_if_changed(&path, new.as_bytes())? {
        eprintln!("xtask: dist: updated {README}'s size table");
    }
    Ok(())
}

/// `n` with a comma every three digits, as the docs write byte counts: `8,152`.
pub fn thousands(n: u64) -> String {
    thousands::Separable::separate_with_commas(&n)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records a skipped check as `tests/tests/tools/mod.rs` does (stderr, and the file of
    /// `LAMBDA_LIBC_SKIP_LOG`, which `cargo xtask test` prints).
    /// The check that keeps README.md's table true: against `LAMBDA_LIBC_DIST_DIR` (set by
    /// `cargo xtask test`), else dist/.
    #[test]
    fn the_readme_size_table_is_what_dist_holds() {
        let ws = Workspace::locate().unwrap();
        let given = std::env::var_os("LAMBDA_LIBC_DIST_DIR");
        let dist = given.as_ref().map_or_else(|| ws.dist.clone(), Into::into);
        let readme = ws.root.join(README);
        if crate::tools::in_sandbox("README.md is not in the flake's source (nix/source.toml)") {
            return;
        }
        let expected = match table(&dist) {
            Ok(table) => table,
            Err(e) if given.is_none() => {
                return crate::tools::skip(&format!("dist/ is not complete ({e}): run `cargo xtask dist`"));
            }
            Err(e) => panic!("{e}"),
        };
        let doc = fs::read_to_string(&readme).unwrap_or_else(|e| panic!("cannot read {}: {e}", readme.display()));
        let ours = splice(&doc, BEGIN, END, &expected).unwrap();
        assert!(
            doc == ours,
            "{README}'s size table is stale: run `cargo xtask dist`\n--- what {} holds:\n{expected}",
            dist.display()
        );
    }

    #[test]
    fn the_table_is_generated_from_the_files() {
        let dir = std::env::temp_dir().join(format!("xtask-sizes-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("bin")).unwrap();
        for (i, b) in BOOTSTRAPS.iter().enumerate() {
            // Rust zips of 1,000 bytes, C ones of 1,000 + 10 * i.
            let c = matches!(b.source, Source::C { .. });
            fs::write(dir.join(b.zip), vec![0; if c { 1000 + 10 * i } else { 1000 }]).unwrap();
            fs::write(dir.join("bin").join(bin_name(&b.source, b.arch)), vec![0; 12_345]).unwrap();
        }
        let table = table(&dir);
        let b = budgets();
        let missing = {
            fs::remove_file(dir.join(BOOTSTRAPS[0].zip)).unwrap();
            super::table(&dir)
        };
        fs::remove_dir_all(&dir).unwrap();
        let table = table.unwrap();
        assert!(missing.unwrap_err().to_string().contains(BOOTSTRAPS[0].zip));

        let echo = thousands(b.max_echo_zip_bytes as u64);
        assert!(table.contains(&format!("every echo's zip at most {echo} bytes")), "{table}");
        let rows: Vec<&str> = table.lines().filter(|l| l.starts_with("| `")).collect();
        assert_eq!(rows.len(), BOOTSTRAPS.len());
        assert_eq!(rows[0], format!("| `bootstrap-rust-x86_64` (echo) | 12,345 | 1,000 | {echo} | — |"));
        // bootstrap-c-x86_64 is the second: 1,010 bytes, +1.0 % over the Rust one.
        assert_eq!(rows[1], format!("| `bootstrap-c-x86_64` (echo, C API) | 12,345 | 1,010 | {echo} | +1.0 % |"));
        let stream = thousands(b.max_stream_zip_bytes as u64);
        assert!(rows.iter().any(|r| r.starts_with("| `bootstrap-c-stream-arm64` (streaming echo, C API)")
            && r.contains(&format!("| {stream} |"))));
        let api = thousands(b.max_api_zip_bytes as u64);
        assert!(rows.iter().any(
            |r| r.starts_with("| `bootstrap-rust-api-x86_64` (JSON API)") && r.contains(&format!("| {api} | — |"))
        ));
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(5170), "5,170");
        assert_eq!(thousands(6_291_556), "6,291,556");
    }

    #[test]
    fn splices_the_table_between_the_markers() {
        let doc = format!("# R\n\n## Sizes\n\n{BEGIN}\nold\n{END}\n\nafter\n");
        let new = splice(&doc, BEGIN, END, "| a |\n").unwrap();
        assert_eq!(new, format!("# R\n\n## Sizes\n\n{BEGIN}\n\n| a |\n{END}\n\nafter\n"));
        assert!(splice("no markers", BEGIN, END, "x").is_err());
    }
}
