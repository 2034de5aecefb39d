//! `cargo lambda-libc`: the one implementation of building, zipping, verifying and invoking
//! lambda-libc bootstraps, for a function project of one's own (`cargo lambda-libc new |
//! build | invoke | verify`, see `src/main.rs`) and for this repository's examples (`cargo
//! xtask dist`, which calls this library).
//!
//! | module | what it holds |
//! |---|---|
//! | [`arch`] | the Lambda architectures: targets, ELF machine, loader |
//! | [`link`] | the one list of compile and link flags, and the linker script |
//! | [`zig`] | the pinned zig and its linker wrappers (glibc 2.34) |
//! | [`toolchain`] | which Rust compiler builds an architecture |
//! | [`debian_rust`] | Debian's rustc with its arm64 standard library |
//! | [`builder`] | cargo and C builds for one architecture with the above |
//! | [`sstrip`] | section headers dropped from the shipped ELF |
//! | [`archive`] | the deterministic deployment zip and `SHA256SUMS` |
//! | [`verify`] | the verifier of ELFs and zips |
//! | [`invoke`] | one invocation against the in-process mock Runtime API |
//! | [`new`] | a new function project from `templates/` |
//! | [`project`] | `build`: a function project's zips |
//! | [`error`], [`process`], [`files`] | errors as messages, child processes, file helpers |

#![warn(missing_docs)]

pub mod arch;
pub mod archive;
pub mod builder;
pub mod debian_rust;
pub mod error;
pub mod files;
pub mod invoke;
pub mod link;
pub mod new;
pub mod process;
pub mod project;
pub mod sstrip;
pub mod toolchain;
pub mod verify;
pub mod zig;

/// What the tests do when a tool is missing or they run in the Nix sandbox (shared with the
/// integration tests and xtask's).
#[cfg(test)]
#[path = "../../tests/tests/tools/mod.rs"]
mod tools;
