//! Link flags for a small `bootstrap` (see docs/size.md): lambda-libc's entry point
//! instead of glibc's startup files (`-e`; zig's driver ignores `-nostartfiles`, and
//! `--gc-sections` then drops its `crt1.o` code), no unwind tables, no build id, no RELRO padding. Emitted for the
//! binaries only, so they never reach build scripts. Shared by `tests/fixtures`.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("linux") {
        return;
    }
    let out = std::path::PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let script = out.join("discard.ld");
    std::fs::write(
        &script,
        "SECTIONS { /DISCARD/ : { *(.eh_frame) *(.eh_frame_hdr) *(.comment) } } INSERT AFTER .text;\n",
    )
    .expect("write the linker script");
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
