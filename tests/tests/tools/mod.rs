//! Tests that need a tool from outside the workspace (python3 with awslambdaric, nix, IPv6
//! loopback, ...) skip loudly when it is missing, or fail when `LAMBDA_LIBC_REQUIRE_TOOLS=1`
//! (set by `.ci/run`, so that CI never passes by skipping).

/// The variable that turns a missing tool from a skip into a failure.
pub const REQUIRE_TOOLS_VAR: &str = "LAMBDA_LIBC_REQUIRE_TOOLS";

/// For a test that cannot run because `reason`: panics when `LAMBDA_LIBC_REQUIRE_TOOLS=1`,
/// otherwise prints `SKIPPED: <reason>` on stderr. The caller returns right after.
pub fn skip_or_fail(reason: impl std::fmt::Display) {
    if std::env::var(REQUIRE_TOOLS_VAR).as_deref() == Ok("1") {
        panic!("{reason} ({REQUIRE_TOOLS_VAR}=1)");
    }
    eprintln!("SKIPPED: {reason}");
}
