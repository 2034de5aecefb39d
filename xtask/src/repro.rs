//! `cargo xtask repro`: the reproducibility test. Copies the tracked sources into a
//! directory of another name and depth, runs `dist` there with its own target directory, and
//! requires its `SHA256SUMS` to be the workspace's own `dist/SHA256SUMS`, for every
//! architecture built. (One copy: the rehearsal and the `new-project` step of `cargo xtask
//! test` build from other directories too.) The tools (zig, the
//! arm64 standard library) are shared: they are pinned by version, not rebuilt.

use std::fs;
use std::path::Path;
use std::process::Command;

use crate::util::{Context, Result, Workspace, copy_tracked, read, run};

pub fn repro(ws: &Workspace) -> Result {
    let base = ws.target.join("repro");
    let _ = fs::remove_dir_all(&base);
    let copy = base.join("second").join("copy-b");
    copy_tracked(ws, &copy, &[])?;
    let target = base.join("target");
    fs::create_dir_all(&target).context("cannot create a target directory")?;
    share_tools(&ws.tools, &target.join("tools"))?;
    // This xtask, pointed at the copy (see `Workspace::locate`): the bootstraps are built
    // from scratch there, xtask itself need not be.
    let mut dist = Command::new(std::env::current_exe().context("cannot find the xtask executable")?);
    dist.current_dir(&copy).env("CARGO_MANIFEST_DIR", copy.join("xtask")).env("CARGO_TARGET_DIR", &target);
    run(dist.arg("dist"))?;
    let theirs = read(&copy.join("dist/SHA256SUMS"))?;
    let ours = read(&ws.dist.join("SHA256SUMS"))?;
    if theirs != ours {
        return Err(format!(
            "not reproducible: {} differs from dist/SHA256SUMS\n--- {}:\n{}--- dist/SHA256SUMS:\n{}",
            copy.join("dist/SHA256SUMS").display(),
            copy.display(),
            String::from_utf8_lossy(&theirs),
            String::from_utf8_lossy(&ours)
        )
        .into());
    }
    eprint!("xtask: repro: identical SHA256SUMS from two source trees:\n{}", String::from_utf8_lossy(&ours));
    fs::remove_dir_all(&base).context("removing the copy")?;
    Ok(())
}

/// Links the workspace's tools directory into a copy's target directory.
fn share_tools(tools: &Path, link: &Path) -> Result {
    fs::create_dir_all(tools).context("cannot create target/tools")?;
    std::os::unix::fs::symlink(tools, link).context(format_args!("cannot link {}", link.display()))?;
    Ok(())
}
