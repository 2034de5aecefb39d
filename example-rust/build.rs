//! Link flags for a small `bootstrap` (see docs/size.md): lambda-libc's entry point
//! instead of glibc's startup files (`-e`; zig's driver ignores `-nostartfiles`, and
//! `--gc-sections` then drops its `crt1.o` code), `runtime/link/bootstrap.ld` (no unwind tables,
//! no constructors), no build id, no RELRO padding. Emitted for the
//! binaries only, so they never reach build scripts. Shared by `tests/fixtures`.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("linux") {
        return;
    }
    let out = std::path::PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    // Copied into OUT_DIR: a path relative to this file would differ between the packages
    // that share it.
    let script = out.join("bootstrap.ld");
    std::fs::write(&script, include_str!("../runtime/link/bootstrap.ld")).expect("write the linker script");
    let script = format!("-Wl,-T,{}", script.display());
    for arg in [
        "-nostartfiles",
        "-Wl,-e,__lambda_libc_start",
        "-Wl,--build-id=none",
        "-Wl,--hash-style=gnu",
        "-Wl,-z,norelro",
        "-Wl,--no-eh-frame-hdr",
        &script,
    ] {
        println!("cargo:rustc-link-arg-bins={arg}");
    }
}
