//! The error type: every error is a human-readable message.

use std::fmt::Display;

/// An error: a message for the person at the terminal.
pub type Error = Box<dyn std::error::Error + Send + Sync>;
/// `Result<T, Error>`, `()` by default.
pub type Result<T = ()> = std::result::Result<T, Error>;

/// `.context("reading x")?` for any `Result` whose error can be displayed.
pub trait Context<T> {
    /// The error, if any, as `<what>: <error>`.
    fn context(self, what: impl Display) -> Result<T>;
}

impl<T, E: Display> Context<T> for std::result::Result<T, E> {
    fn context(self, what: impl Display) -> Result<T> {
        self.map_err(|e| format!("{what}: {e}").into())
    }
}
