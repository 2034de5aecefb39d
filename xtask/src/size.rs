//! `cargo xtask size`: where the bytes of the Rust echo bootstrap (x86_64) are. Builds it
//! twice in `target/size/`, away from `dist`'s files: as `dist` does (the ELF and zip
//! bytes that ship, after [`sstrip`]) and with its symbols kept (the same code: `strip` only
//! drops symbols at link time), then prints each section's bytes, raw and deflated on their
//! own, and the largest functions. docs/size.md explains how to read it.

use std::path::Path;

use object::{Object as _, ObjectSection as _, ObjectSymbol as _, SymbolKind};

use cargo_lambda_libc::arch::X86_64;
use cargo_lambda_libc::archive::{DEFLATE_LEVEL, zip_bootstrap, zip_bootstrap_with_level};
use cargo_lambda_libc::builder::ArchBuilder;
use cargo_lambda_libc::sstrip::sstrip;
use cargo_lambda_libc::toolchain::Compiler;
use cargo_lambda_libc::zig::Zig;

use crate::util::{Context, Result, Workspace, read, run};

/// The package and binary measured: the Rust echo, the reference of the size budget.
const PACKAGE: &str = "lambda-libc-example";
const BIN: &str = "bootstrap";

/// One section of the ELF file.
#[derive(Debug, PartialEq, Eq)]
pub struct Section {
    pub name: String,
    /// Bytes in the file (0 for `.bss`).
    pub bytes: usize,
    /// What deflate makes of these bytes alone (as `dist` deflates: zopfli), so what the
    /// section costs in the zip, roughly: deflate also matches across sections.
    pub deflated: usize,
}

/// One function: its (demangled) name and bytes of machine code.
#[derive(Debug, PartialEq, Eq)]
pub struct Function {
    pub name: String,
    pub bytes: u64,
}

/// `cargo xtask size [N]`: prints the sizes, the sections and the `top` largest functions.
pub fn size(ws: &Workspace, top: usize) -> Result {
    let dir = ws.target.join("size");
    let zig = ws.zig()?;
    let linked = build(ws, &zig, &dir.join("stripped"), true)?;
    let symbols = build(ws, &zig, &dir.join("symbols"), false)?;
    // What `deployment_zip` writes, from the stripped ELF the report shows.
    let shipped = sstrip(&linked)?;
    let zip = zip_bootstrap(&shipped)?;
    let name = format!("bootstrap-rust-{}", X86_64.name);
    println!("{name}: ELF {} B, zip {} B (as `cargo xtask dist` builds it)", shipped.len(), zip.len());
    let dropped = linked.len() - shipped.len();
    println!("\nas linked: {} B, of which sstrip drops the last {dropped} B", linked.len());
    println!("{:<16} {:>7} {:>9}", "section", "bytes", "deflated");
    let sections = sections(&linked, DEFLATE_LEVEL)?;
    for s in &sections {
        println!("{:<16} {:>7} {:>9}", s.name, s.bytes, s.deflated);
    }
    let in_sections: usize = sections.iter().map(|s| s.bytes).sum();
    println!("{:<16} {:>7}", "(headers)", linked.len().saturating_sub(in_sections));
    let functions = functions(&symbols)?;
    let total: u64 = functions.iter().map(|f| f.bytes).sum();
    println!("\n{total} B of machine code in {} functions; the {top} largest:", functions.len());
    for f in functions.iter().take(top) {
        println!("{:>7}  {}", f.bytes, f.name);
    }
    Ok(())
}

/// Builds the echo into `target_dir` as `dist` does (zig, the link flags), stripped or with
/// its symbols, and returns the ELF.
fn build(ws: &Workspace, zig: &Zig, target_dir: &Path, strip: bool) -> Result<Vec<u8>> {
    let builder = ArchBuilder::new(zig, &X86_64, &Compiler::Running, target_dir)?;
    let mut cmd = builder.cargo(&ws.root)?;
    cmd.args(["build", "--release", "--target", X86_64.rust_target, "-p", PACKAGE, "--bin", BIN]);
    cmd.env("CARGO_PROFILE_RELEASE_STRIP", if strip { "true" } else { "false" });
    run(&mut cmd)?;
    read(&builder.release_dir().join(BIN))
}

/// The named sections of an ELF file, in file order, deflated at `level` (see
/// [`zip_bootstrap_with_level`]); debug sections, which no bootstrap ships, are not deflated
/// (0).
pub fn sections(elf: &[u8], level: i64) -> Result<Vec<Section>> {
    let file = object::File::parse(elf).context("not an ELF file")?;
    let empty = zip_bootstrap_with_level(b"", level)?.len();
    let mut out = Vec::new();
    for section in file.sections() {
        let name = section.name().context("a section name")?.to_owned();
        if name.is_empty() {
            continue;
        }
        let data = section.data().context(format_args!("section {name}"))?;
        let deflated = match data {
            [] => 0,
            _ if name.starts_with(".debug") => 0,
            _ => zip_bootstrap_with_level(data, level)?.len().saturating_sub(empty),
        };
        out.push(Section { name, bytes: data.len(), deflated });
    }
    Ok(out)
}

/// The functions of an ELF file with symbols, largest first (equal sizes by name).
pub fn functions(elf: &[u8]) -> Result<Vec<Function>> {
    let file = object::File::parse(elf).context("not an ELF file")?;
    let mut out: Vec<Function> = file
        .symbols()
        .filter(|s| s.kind() == SymbolKind::Text && s.size() > 0)
        .map(|s| Function { name: demangle(s.name().unwrap_or("?")), bytes: s.size() })
        .collect();
    out.sort_by(|a, b| b.bytes.cmp(&a.bytes).then_with(|| a.name.cmp(&b.name)));
    Ok(out)
}

/// A Rust legacy-mangled name (`_ZN` `<len><ident>`… `17h<hash>E`) as `a::b::c`, without
/// the hash; anything else as it is.
pub fn demangle(name: &str) -> String {
    let Some(mut rest) = name.strip_prefix("_ZN") else {
        return name.to_owned();
    };
    let mut parts = Vec::new();
    while let Some(digits) = rest.find(|c: char| !c.is_ascii_digit()).filter(|&n| n > 0) {
        let (len, tail) = rest.split_at(digits);
        let Some(part) = len.parse().ok().and_then(|n: usize| tail.get(..n)) else {
            return name.to_owned();
        };
        rest = &tail[part.len()..];
        parts.push(part);
    }
    if rest != "E" || parts.is_empty() {
        return name.to_owned();
    }
    if parts.len() > 1 && parts.last().is_some_and(|h| h.len() == 17 && h.starts_with('h')) {
        parts.pop();
    }
    parts.join("::")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demangles_legacy_rust_names() {
        assert_eq!(demangle("_ZN11lambda_libc4http10parse_into17hc0fe15f72b53669aE"), "lambda_libc::http::parse_into");
        assert_eq!(demangle("_ZN11lambda_libc3run17h9526db7845f2d40aE"), "lambda_libc::run");
        assert_eq!(demangle("main"), "main");
        assert_eq!(demangle("_ZN3fooE"), "foo");
        for odd in ["_ZN", "_ZN9tooshortE", "_ZNxE", "_ZN3foo"] {
            assert_eq!(demangle(odd), odd);
        }
    }

    #[test]
    fn reads_sections_and_functions_of_an_elf_file() {
        // This test binary: an unstripped ELF file with code, on every machine the tests run
        // (large: deflated fast, by zlib-rs at level 1).
        let elf = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        let sections = sections(&elf, 1).unwrap();
        let text = sections.iter().find(|s| s.name == ".text").expect("a .text section");
        assert!(text.bytes > 0 && text.deflated > 0 && text.deflated < text.bytes, "{text:?}");
        assert!(sections.iter().all(|s| s.deflated <= s.bytes + 64), "{sections:?}");
        assert!(sections.iter().filter(|s| s.name.starts_with(".debug")).all(|s| s.deflated == 0));
        let functions = functions(&elf).unwrap();
        assert!(functions.windows(2).all(|w| w[0].bytes >= w[1].bytes), "largest first");
        assert!(
            functions.iter().any(|f| f.name.ends_with("size::demangle")),
            "this module's own function is listed: {:?}",
            &functions[..functions.len().min(10)]
        );
    }
}
