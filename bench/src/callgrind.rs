//! Instructions per warm invocation, counted by callgrind: the one figure of the bench that
//! the load of the machine does not move (the same binary, event and environment execute
//! the same instructions, whatever the other CPUs do), so two runs of the bench can be
//! compared even on a noisy host.
//!
//! Two runs with the small event under `valgrind --tool=callgrind`, of [`BASE`] and
//! `BASE + n` invocations: their difference is `n` warm invocations, and everything else
//! cancels out (the dynamic loader, the runtime's start-up, the first invocation's lazy
//! binding, the `/next` left waiting when the run ends). The shorter run, less its
//! invocations counted as warm ones, is the start-up.

use std::path::Path;
use std::process::Command;

/// Invocations of the shorter run.
pub const BASE: usize = 2;

/// The `valgrind` arguments before the bootstrap.
pub fn args(output: &Path) -> Vec<String> {
    vec!["--tool=callgrind".to_owned(), format!("--callgrind-out-file={}", output.display()), "--".to_owned()]
}

/// Whether `valgrind` runs here.
pub fn available() -> bool {
    Command::new("valgrind").arg("--version").output().is_ok_and(|o| o.status.success())
}

/// The instructions a callgrind output file counts in all (its `totals:` line).
pub fn total(output: &str) -> Result<u64, String> {
    output
        .lines()
        .find_map(|l| l.strip_prefix("totals:"))
        .ok_or("no `totals:` line in the callgrind output")?
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| "the callgrind `totals:` line has no instruction count".to_owned())
}

/// What the two runs give.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Instructions {
    /// Warm invocations the figure is the mean of (`n`).
    pub invocations: usize,
    pub per_invocation: f64,
    /// The run of [`BASE`] invocations, less [`BASE`] warm invocations.
    pub startup: f64,
}

/// The figures from the totals of the runs of [`BASE`] and `BASE + n` invocations.
pub fn instructions(base_total: u64, longer_total: u64, n: usize) -> Result<Instructions, String> {
    if n == 0 || longer_total <= base_total {
        return Err(format!("{n} more invocations counted {base_total} then {longer_total} instructions"));
    }
    let per_invocation = (longer_total - base_total) as f64 / n as f64;
    let startup = (base_total as f64 - BASE as f64 * per_invocation).max(0.0);
    Ok(Instructions { invocations: n, per_invocation, startup })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_totals_line() {
        let out = "# callgrind format\nevents: Ir\nsummary: 126651\n\nfn=(1) main\n3 10\n\ntotals: 126651\n";
        assert_eq!(total(out), Ok(126_651));
        assert!(total("events: Ir\n").unwrap_err().contains("no `totals:`"));
        assert!(total("totals: many\n").unwrap_err().contains("no instruction count"));
    }

    #[test]
    fn the_difference_of_the_runs_is_the_warm_invocations() {
        let i = instructions(130_000, 1_130_000, 100).unwrap();
        assert_eq!(i, Instructions { invocations: 100, per_invocation: 10_000.0, startup: 110_000.0 });
        assert!(instructions(130_000, 130_000, 100).is_err());
        assert!(instructions(130_000, 140_000, 0).is_err());
    }
}
