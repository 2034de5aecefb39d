//! Child processes: the cargo that runs us, commands run with their output streaming
//! through or captured.

use std::env;
use std::process::Command;

use crate::error::{Context, Result};

/// The cargo that runs us (`CARGO`, set by cargo for `cargo lambda-libc`, `cargo xtask`
/// and build scripts), else `cargo` on `PATH`: nested builds use the same toolchain.
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

/// Runs `cmd` with inherited stdio (output streams through, and the command line is
/// shown on stderr first); fails unless it exits with 0.
pub fn run(cmd: &mut Command) -> Result {
    eprintln!("$ {}", command_line(cmd));
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
