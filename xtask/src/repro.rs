//! `cargo xtask repro`: the reproducibility test. Copies the tracked sources into two
//! directories of different names and depths, runs `dist` in each with its own target
//! directory, and requires both `SHA256SUMS` to be identical, to each other and to the
//! workspace's own `dist/SHA256SUMS`, for every architecture built. The tools (zig, the
//! arm64 standard library) are shared: they are pinned by version, not rebuilt.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::{Context, Result, Workspace, copy_tracked, read, run};

pub fn repro(ws: &Workspace) -> Result {
    let base = ws.target.join("repro");
    let _ = fs::remove_dir_all(&base);
    let copies = [base.join("a"), base.join("second").join("copy-b")];
    let mut sums = Vec::new();
    for (i, copy) in copies.iter().enumerate() {
        copy_tracked(ws, copy, &[])?;
        let target = base.join(format!("target-{i}"));
        fs::create_dir_all(&target).context("cannot create a target directory")?;
        share_tools(&ws.tools, &target.join("tools"))?;
        // This xtask, pointed at the copy (see `Workspace::locate`): the bootstraps are built
        // from scratch there, xtask itself need not be.
        let mut dist = Command::new(std::env::current_exe().context("cannot find the xtask executable")?);
        dist.current_dir(copy).env("CARGO_MANIFEST_DIR", copy.join("xtask")).env("CARGO_TARGET_DIR", &target);
        run(dist.arg("dist"))?;
        sums.push((copy.clone(), read(&copy.join("dist/SHA256SUMS"))?));
    }
    let ours = read(&ws.dist.join("SHA256SUMS"))?;
    for (copy, sum) in &sums {
        if *sum != ours {
            return Err(format!(
                "not reproducible: {} differs from dist/SHA256SUMS\n--- {}:\n{}--- dist/SHA256SUMS:\n{}",
                copy.join("dist/SHA256SUMS").display(),
                copy.display(),
                String::from_utf8_lossy(sum),
                String::from_utf8_lossy(&ours)
            )
            .into());
        }
    }
    eprint!(
        "xtask: repro: identical SHA256SUMS from {} source trees:\n{}",
        sums.len() + 1,
        String::from_utf8_lossy(&ours)
    );
    fs::remove_dir_all(&base).context("removing the copies")?;
    Ok(())
}

/// Links the workspace's tools directory into a copy's target directory.
fn share_tools(tools: &Path, link: &PathBuf) -> Result {
    fs::create_dir_all(tools).context("cannot create target/tools")?;
    std::os::unix::fs::symlink(tools, link).context(format_args!("cannot link {}", link.display()))?;
    Ok(())
}
