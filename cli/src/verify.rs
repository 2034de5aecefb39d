//! The verifier: what a `bootstrap` ELF and its zip must satisfy to run on Amazon Linux 2023
//! (glibc 2.34) and to keep lambda-libc's promises (no allocation; a zip within a size
//! limit, if one is given). Reads ELF structures with the `object` crate; no
//! `readelf`/`objdump` scraping.

use std::io::{Cursor, Read};
use std::path::Path;

use object::Endianness;
use object::elf::{self, FileHeader64};
use object::read::elf::{Dyn as _, ElfFile64, FileHeader as _, GnuHashTable, ProgramHeader as _, Sym as _};

use crate::arch::{ARCHES, Arch};

/// Highest glibc symbol version a bootstrap may need: Amazon Linux 2023 ships glibc 2.34.
pub const MAX_GLIBC: (u32, u32) = (2, 34);

/// The only shared library a bootstrap may need.
pub const LIBC_SONAME: &str = "libc.so.6";
/// The name of the single zip entry, as the Lambda `provided` runtimes expect.
pub const ZIP_ENTRY: &str = "bootstrap";
/// `S_IFREG | 0755`: a regular, executable file.
pub const ZIP_ENTRY_MODE: u32 = 0o100_755;

/// Functions that allocate (or hand out memory the caller must free). The runtime promises
/// not to allocate, so importing any of them is a violation.
pub const ALLOCATION_FUNCTIONS: &[&str] = &[
    "malloc",
    "calloc",
    "realloc",
    "reallocarray",
    "free",
    "posix_memalign",
    "aligned_alloc",
    "memalign",
    "valloc",
    "pvalloc",
    "malloc_usable_size",
    "strdup",
    "strndup",
    "wcsdup",
    "asprintf",
    "vasprintf",
    "getline",
    "getdelim",
    "open_memstream",
    "__libc_malloc",
    "__libc_calloc",
    "__libc_realloc",
    "__libc_free",
    "__libc_memalign",
    "__strdup",
    "__strndup",
    // Name resolution: the list getaddrinfo returns is allocated (the runtime resolves
    // without it: literals and `localhost` only).
    "getaddrinfo",
    "freeaddrinfo",
];

/// What the verifier reads from an ELF file.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ElfFacts {
    /// The ELF header's `e_machine`.
    pub machine: u16,
    /// The ELF type is `ET_DYN`: with an interpreter, a position-independent executable.
    pub pie: bool,
    /// `PT_INTERP`, if any.
    pub interpreter: Option<String>,
    /// `DT_NEEDED` entries, in order.
    pub needed: Vec<String>,
    /// `DT_RPATH` entries.
    pub rpath: Vec<String>,
    /// `DT_RUNPATH` entries.
    pub runpath: Vec<String>,
    /// `(file, version)` pairs from `.gnu.version_r`, e.g. `("libc.so.6", "GLIBC_2.2.5")`.
    pub version_needs: Vec<(String, String)>,
    /// Undefined (imported) symbols from `.dynsym`.
    pub imports: Vec<String>,
    /// The file contains the bytes `/nix/store` somewhere.
    pub nix_store: bool,
}

impl ElfFacts {
    /// The highest `GLIBC_x.y[.z]` version needed, if any.
    pub fn max_glibc(&self) -> Option<(u32, u32, u32)> {
        self.glibc_versions().filter_map(parse_glibc_version).max()
    }

    fn glibc_versions(&self) -> impl Iterator<Item = &str> {
        self.version_needs.iter().map(|(_, v)| v.as_str()).filter(|v| v.starts_with("GLIBC_"))
    }

    /// Every rule this ELF breaks; empty if it is fine.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        match ARCHES.iter().find(|a| a.elf_machine == self.machine) {
            None => problems.push(format!("unsupported ELF machine {} (expected x86_64 or aarch64)", self.machine)),
            Some(arch) => match &self.interpreter {
                None => problems.push(format!(
                    "no ELF interpreter (PT_INTERP): not a dynamically linked executable; \
                     expected {}",
                    arch.interpreter
                )),
                Some(interp) if interp != arch.interpreter => {
                    problems.push(format!("ELF interpreter is {interp}, expected {} ({})", arch.interpreter, arch.name))
                }
                Some(_) => {}
            },
        }
        if !self.pie {
            problems.push("not a position-independent executable (ELF type is not ET_DYN): link with -pie".to_owned());
        }
        for path in &self.rpath {
            problems.push(format!("has DT_RPATH {path}"));
        }
        for path in &self.runpath {
            problems.push(format!("has DT_RUNPATH {path}"));
        }
        if self.needed != [LIBC_SONAME] {
            problems.push(format!("DT_NEEDED is [{}], expected exactly [{LIBC_SONAME}]", self.needed.join(", ")));
        }
        for version in self.glibc_versions() {
            match parse_glibc_version(version) {
                Some((major, minor, _)) if (major, minor) > MAX_GLIBC => problems.push(format!(
                    "needs {version}, newer than GLIBC_{}.{} (Amazon Linux 2023)",
                    MAX_GLIBC.0, MAX_GLIBC.1
                )),
                Some(_) => {}
                None => problems.push(format!(
                    "needs {version}, not a plain GLIBC_x.y version \
                     (GLIBC_ABI_DT_RELR means glibc >= 2.36)"
                )),
            }
        }
        for name in &self.imports {
            if ALLOCATION_FUNCTIONS.contains(&name.as_str()) {
                problems.push(format!("imports allocation function {name}"));
            }
        }
        if self.nix_store {
            problems.push("contains the bytes /nix/store".to_owned());
        }
        problems
    }
}

/// `GLIBC_2.2.5` → `(2, 2, 5)`, `GLIBC_2.34` → `(2, 34, 0)`; `None` for `GLIBC_PRIVATE` etc.
pub fn parse_glibc_version(name: &str) -> Option<(u32, u32, u32)> {
    let mut parts = name.strip_prefix("GLIBC_")?.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    let patch = parts.next().map_or(Some(0), |p| p.parse().ok())?;
    parts.next().is_none().then_some((major, minor, patch))
}

fn string(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Reads the facts the verifier needs from a 64-bit ELF file.
pub fn elf_facts(data: &[u8]) -> Result<ElfFacts, String> {
    inspect(data).map_err(|e| format!("not a readable 64-bit ELF file: {e}"))
}

fn inspect(data: &[u8]) -> Result<ElfFacts, String> {
    let e = |e: object::read::Error| e.to_string();
    let file = ElfFile64::<Endianness>::parse(data).map_err(e)?;
    let endian = file.endian();
    let header = file.elf_header();
    let mut facts = ElfFacts {
        machine: header.e_machine(endian).0,
        pie: header.e_type(endian) == elf::ET_DYN,
        nix_store: data.windows(b"/nix/store".len()).any(|w| w == b"/nix/store"),
        ..ElfFacts::default()
    };
    // Program headers only, as the dynamic loader reads the file: the zips' bootstraps have
    // no section headers (`sstrip`).
    let segments = file.elf_program_headers();
    let mut dynamic = None;
    for segment in segments {
        if let Some(interp) = segment.interpreter(endian, data).map_err(e)? {
            facts.interpreter = Some(string(interp));
        }
        dynamic = dynamic.or(segment.dynamic(endian, data).map_err(e)?);
    }
    let Some(dynamic) = dynamic else {
        return Ok(facts);
    };
    // The file's bytes from virtual address `addr` to the end of its loaded segment.
    let at = |addr: u64| {
        segments.iter().filter(|s| s.p_type(endian) == elf::PT_LOAD).find_map(|s| {
            let offset = addr.checked_sub(s.p_vaddr(endian)).filter(|&o| o < s.p_filesz(endian))?;
            data.get((s.p_offset(endian) + offset) as usize..(s.p_offset(endian) + s.p_filesz(endian)) as usize)
        })
    };
    let value = |tag| dynamic.iter().find(|d| d.tag(endian) == tag).map(|d| d.d_val(endian));
    let address = |tag, what: &str| {
        value(tag).and_then(at).ok_or_else(|| format!("the dynamic segment's {what} is missing or not loaded"))
    };
    let strings = address(elf::DT_STRTAB, "DT_STRTAB")?;
    let strings = strings.get(..value(elf::DT_STRSZ).unwrap_or(0) as usize).unwrap_or(strings);
    let name = |offset: u64| -> Result<String, String> {
        let tail = strings.get(offset as usize..).ok_or("a string offset past DT_STRSZ")?;
        Ok(string(tail.split(|&b| b == 0).next().unwrap_or_default()))
    };
    for entry in dynamic {
        let list = match entry.tag(endian) {
            elf::DT_NULL => break,
            elf::DT_NEEDED => &mut facts.needed,
            elf::DT_RPATH => &mut facts.rpath,
            elf::DT_RUNPATH => &mut facts.runpath,
            _ => continue,
        };
        list.push(name(entry.d_val(endian))?);
    }
    if let Some(mut need) = value(elf::DT_VERNEED).map(|a| at(a).ok_or("DT_VERNEED is not loaded")).transpose()? {
        for _ in 0..value(elf::DT_VERNEEDNUM).unwrap_or(0) {
            let (vn, _) = object::pod::from_bytes::<elf::Verneed<Endianness>>(need).map_err(|()| "a short Verneed")?;
            let file = name(vn.vn_file.get(endian).into())?;
            let mut aux = need.get(vn.vn_aux.get(endian) as usize..).ok_or("a Vernaux past the end")?;
            for _ in 0..vn.vn_cnt.get(endian) {
                let (va, _) =
                    object::pod::from_bytes::<elf::Vernaux<Endianness>>(aux).map_err(|()| "a short Vernaux")?;
                facts.version_needs.push((file.clone(), name(va.vna_name.get(endian).into())?));
                aux = aux.get(va.vna_next.get(endian) as usize..).ok_or("a Vernaux past the end")?;
            }
            need = need.get(vn.vn_next.get(endian) as usize..).ok_or("a Verneed past the end")?;
        }
    }
    // The number of dynamic symbols: from DT_HASH, or from DT_GNU_HASH (its last chain, or
    // its first hashed index when nothing is hashed, as in an executable that exports
    // nothing).
    let count = match (value(elf::DT_HASH), value(elf::DT_GNU_HASH)) {
        (Some(hash), _) => {
            let table = at(hash).ok_or("DT_HASH is not loaded")?;
            table.get(4..8).map_or(0, |n| u32::from_le_bytes([n[0], n[1], n[2], n[3]]))
        }
        (None, Some(gnu)) => {
            let table = at(gnu).ok_or("DT_GNU_HASH is not loaded")?;
            let table = GnuHashTable::<FileHeader64<Endianness>>::parse(endian, table).map_err(e)?;
            table.symbol_table_length(endian).unwrap_or(table.symbol_base())
        }
        (None, None) => 0,
    };
    if count > 0 {
        let table = address(elf::DT_SYMTAB, "DT_SYMTAB")?;
        let (symbols, _) = object::pod::slice_from_bytes::<elf::Sym64<Endianness>>(table, count as usize)
            .map_err(|()| "the dynamic symbol table is cut short")?;
        for symbol in symbols {
            if symbol.is_undefined(endian) && symbol.st_name(endian) != 0 {
                facts.imports.push(name(symbol.st_name(endian).into())?);
            }
        }
    }
    Ok(facts)
}

/// Every rule the ELF in `data` breaks (an unreadable file is one problem).
pub fn elf_problems(data: &[u8]) -> Vec<String> {
    match elf_facts(data) {
        Ok(facts) => facts.problems(),
        Err(e) => vec![e],
    }
}

/// A verified deployment zip.
#[derive(Debug, Default)]
pub struct ZipReport {
    /// The zip's size.
    pub zip_bytes: usize,
    /// The `bootstrap` entry, if it could be read.
    pub elf: Option<Vec<u8>>,
    /// What the verifier read from that ELF, if it could.
    pub facts: Option<ElfFacts>,
    /// Every rule the zip and its ELF break.
    pub problems: Vec<String>,
}

/// Checks a deployment zip: size (at most `max_bytes`, if given), exactly one entry
/// `bootstrap` with mode 0755, and the ELF inside it.
pub fn check_zip(data: &[u8], max_bytes: Option<usize>) -> ZipReport {
    let mut report = ZipReport { zip_bytes: data.len(), ..ZipReport::default() };
    if let Some(max_bytes) = max_bytes
        && data.len() > max_bytes
    {
        report.problems.push(format!("zip is {} bytes, more than the limit of {max_bytes}", data.len()));
    }
    let mut archive = match zip::ZipArchive::new(Cursor::new(data)) {
        Ok(archive) => archive,
        Err(e) => {
            report.problems.push(format!("not a readable zip: {e}"));
            return report;
        }
    };
    let names: Vec<String> =
        archive.file_names().map(|name| name.map_or_else(|e| format!("<{e}>"), |n| n.into_owned())).collect();
    if names != [ZIP_ENTRY] {
        report.problems.push(format!("zip entries are [{}], expected exactly [{ZIP_ENTRY}]", names.join(", ")));
    }
    let mut entry = match archive.by_name(ZIP_ENTRY) {
        Ok(entry) => entry,
        Err(e) => {
            report.problems.push(format!("cannot open zip entry {ZIP_ENTRY}: {e}"));
            return report;
        }
    };
    match entry.unix_mode() {
        Some(ZIP_ENTRY_MODE) => {}
        Some(mode) => {
            report.problems.push(format!("zip entry {ZIP_ENTRY} has mode {mode:o}, expected {ZIP_ENTRY_MODE:o}"))
        }
        None => report.problems.push(format!("zip entry {ZIP_ENTRY} has no unix mode, expected {ZIP_ENTRY_MODE:o}")),
    }
    let mut elf = Vec::new();
    if let Err(e) = entry.read_to_end(&mut elf) {
        report.problems.push(format!("cannot read zip entry {ZIP_ENTRY}: {e}"));
        return report;
    }
    match elf_facts(&elf) {
        Ok(facts) => {
            report.problems.extend(facts.problems());
            report.facts = Some(facts);
        }
        Err(e) => report.problems.push(e),
    }
    report.elf = Some(elf);
    report
}

/// Every problem of the deployment zip `zip` for `arch`: [`check_zip`]'s, and an ELF for
/// another machine.
pub fn zip_problems(zip: &[u8], arch: &Arch, max_bytes: Option<usize>) -> Vec<String> {
    let report = check_zip(zip, max_bytes);
    let mut problems = report.problems;
    if let Some(facts) = &report.facts
        && facts.machine != arch.elf_machine
    {
        problems.push(format!("ELF machine {} is not {}", facts.machine, arch.name));
    }
    problems
}

/// `verify`: checks each file (a zip or an ELF, told apart by magic bytes), each zip within
/// `max_zip_bytes(its file name)` if that gives a limit, and prints one line per file plus
/// its problems on stdout. Fails if any file has a problem.
pub fn verify_files(files: &[&Path], max_zip_bytes: &dyn Fn(&str) -> Option<usize>) -> crate::error::Result {
    let mut failed = 0;
    for path in files {
        let data = crate::files::read(path)?;
        let (summary, problems) = if data.starts_with(b"PK\x03\x04") {
            let name = path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
            let report = check_zip(&data, max_zip_bytes(&name));
            let elf_bytes = report.elf.as_ref().map_or(0, Vec::len);
            let summary = format!("zip {} B, ELF {elf_bytes} B{}", report.zip_bytes, glibc_note(report.facts.as_ref()));
            (summary, report.problems)
        } else {
            let facts = elf_facts(&data);
            let summary = format!("ELF {} B{}", data.len(), glibc_note(facts.as_ref().ok()));
            (summary, facts.map_or_else(|e| vec![e], |f| f.problems()))
        };
        if problems.is_empty() {
            println!("ok    {} ({summary})", path.display());
        } else {
            failed += 1;
            println!("FAIL  {} ({summary})", path.display());
            for problem in &problems {
                println!("      - {problem}");
            }
        }
    }
    if failed > 0 {
        return Err(format!("verifier: {failed} of {} file(s) failed", files.len()).into());
    }
    Ok(())
}

fn glibc_note(facts: Option<&ElfFacts>) -> String {
    match facts.and_then(ElfFacts::max_glibc) {
        Some((major, minor, 0)) => format!(", needs GLIBC_{major}.{minor}"),
        Some((major, minor, patch)) => format!(", needs GLIBC_{major}.{minor}.{patch}"),
        None => String::new(),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn glibc_versions_parse() {
        assert_eq!(parse_glibc_version("GLIBC_2.2.5"), Some((2, 2, 5)));
        assert_eq!(parse_glibc_version("GLIBC_2.34"), Some((2, 34, 0)));
        assert_eq!(parse_glibc_version("GLIBC_PRIVATE"), None);
        assert_eq!(parse_glibc_version("GLIBC_ABI_DT_RELR"), None);
        assert_eq!(parse_glibc_version("GCC_3.0"), None);
        assert!((2, 35) > MAX_GLIBC && (2, 34) <= MAX_GLIBC && (2, 4) < MAX_GLIBC);
    }

    #[test]
    fn garbage_is_not_an_elf() {
        let problems = elf_problems(b"#!/bin/sh\necho hi\n");
        assert_eq!(problems.len(), 1);
        assert!(problems[0].contains("not a readable 64-bit ELF"), "{problems:?}");
    }

    #[test]
    fn facts_report_every_rule() {
        let good = ElfFacts {
            machine: elf::EM_X86_64.0,
            pie: true,
            interpreter: Some("/lib64/ld-linux-x86-64.so.2".into()),
            needed: vec!["libc.so.6".into()],
            version_needs: vec![("libc.so.6".into(), "GLIBC_2.2.5".into()), ("libc.so.6".into(), "GLIBC_2.34".into())],
            imports: vec!["write".into(), "socket".into()],
            ..ElfFacts::default()
        };
        assert_eq!(good.problems(), Vec::<String>::new());
        assert_eq!(good.max_glibc(), Some((2, 34, 0)));

        let arm = ElfFacts {
            machine: elf::EM_AARCH64.0,
            interpreter: Some("/lib/ld-linux-aarch64.so.1".into()),
            ..good.clone()
        };
        assert_eq!(arm.problems(), Vec::<String>::new());

        let bad = ElfFacts {
            interpreter: Some("/lib/ld-linux-aarch64.so.1".into()),
            version_needs: vec![("libc.so.6".into(), "GLIBC_ABI_DT_RELR".into())],
            imports: vec!["posix_memalign".into(), "strdup".into()],
            nix_store: true,
            pie: false,
            ..good.clone()
        };
        let problems = bad.problems().join("\n");
        for needle in [
            "interpreter is /lib/ld-linux-aarch64.so.1",
            "GLIBC_ABI_DT_RELR",
            "posix_memalign",
            "strdup",
            "/nix/store",
            "not a position-independent executable",
        ] {
            assert!(problems.contains(needle), "{needle} missing in:\n{problems}");
        }
    }

    // ---- Real ELF files built with the host C compiler. ----

    /// A scratch directory removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(tag: &str) -> Self {
            let dir = std::env::temp_dir().join(format!(
                "lambda-libc-verify-{tag}-{}-{:?}",
                std::process::id(),
                std::thread::current().id()
            ));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            Self(dir)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// `target/tools/` of this repository (or of `CARGO_TARGET_DIR`): where `cargo xtask dist`
    /// installs zig.
    pub(crate) fn repository_tools() -> PathBuf {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), |t| root.join(t));
        target.join("tools")
    }

    /// zig's target for the test programs: Amazon Linux 2023's glibc, as the bootstraps.
    pub(crate) const AL2023: &str = "x86_64-linux-gnu.2.34";

    /// Compiles and links `source` with the pinned zig for `target`, as a position-independent
    /// executable unless `flags` say otherwise: the same ELF on every machine (FHS loader,
    /// zig's glibc stubs), whatever its own C compiler. `None` (after a loud message, or a
    /// failure under `LAMBDA_LIBC_REQUIRE_TOOLS=1`) when this machine has no pinned zig.
    pub(crate) fn zig_cc(tag: &str, target: &str, source: &str, flags: &[&str]) -> Option<Vec<u8>> {
        let Some(zig) = crate::zig::Zig::find(&repository_tools(), &repository_tools()).unwrap() else {
            crate::tools::skip(&format!(
                "{tag}: the pinned zig is not installed (cargo xtask dist installs it), or set {}",
                crate::zig::ZIG_VAR
            ));
            return None;
        };
        let dir = TempDir::new(tag);
        let src = dir.0.join("test.c");
        let out = dir.0.join("test.elf");
        std::fs::write(&src, source).unwrap();
        let mut cc = zig.cc(target);
        // Optimised (zig's debug builds link its UBSan runtime, with imports of their own),
        // but with every call kept as written (-fno-builtin: malloc and free stay).
        cc.args(["-Os", "-fno-builtin", "-fno-sanitize=undefined", "-fPIE", "-pie"])
            .args(flags)
            .arg("-o")
            .arg(&out)
            .arg(&src);
        let result = cc.output().unwrap();
        assert!(result.status.success(), "zig cc {flags:?} failed:\n{}", String::from_utf8_lossy(&result.stderr));
        Some(std::fs::read(&out).unwrap())
    }

    fn assert_reports(problems: &[String], needle: &str) {
        assert!(
            problems.iter().any(|p| p.contains(needle)),
            "expected a problem mentioning {needle:?}, got {problems:#?}"
        );
    }

    /// Verifier tests need a valid zip, not the smallest one: zlib-rs level 9 is fast.
    fn zip_fast(elf: &[u8]) -> Vec<u8> {
        crate::archive::zip_bootstrap_with_level(elf, 9).unwrap()
    }

    pub(crate) const MAIN: &str = "int main(void) { return 0; }\n";

    #[test]
    fn plain_program_passes() {
        // A trivial program for glibc 2.34 needs GLIBC_2.34 (__libc_start_main), has the
        // FHS interpreter and only libc.so.6.
        let Some(elf) = zig_cc("plain", AL2023, MAIN, &[]) else {
            return;
        };
        let facts = elf_facts(&elf).unwrap();
        assert_eq!(facts.problems(), Vec::<String>::new(), "{facts:#?}");
        assert_eq!(facts.needed, ["libc.so.6"]);
        assert!(facts.max_glibc().is_some());
    }

    #[test]
    fn a_position_dependent_executable_is_reported() {
        let Some(elf) = zig_cc("no-pie", AL2023, MAIN, &["-fno-PIE", "-no-pie"]) else {
            return;
        };
        assert_reports(&elf_problems(&elf), "not a position-independent executable");
    }

    #[test]
    fn malloc_and_friends_are_reported() {
        let source = r#"
            #include <netdb.h>
            #include <stdlib.h>
            #include <string.h>
            int main(int argc, char **argv) {
                char *p = malloc(argc);
                char *q = calloc(argc, 2);
                p = realloc(p, 64);
                char *s = strdup(argv[0]);
                struct addrinfo *list = 0;
                int r = p[0] + q[0] + s[0] + getaddrinfo(argv[0], 0, 0, &list);
                freeaddrinfo(list);
                free(p); free(q); free(s);
                return r;
            }
        "#;
        let Some(elf) = zig_cc("malloc", AL2023, source, &[]) else {
            return;
        };
        let problems = elf_problems(&elf);
        for name in ["malloc", "calloc", "realloc", "free", "strdup", "getaddrinfo", "freeaddrinfo"] {
            assert_reports(&problems, &format!("allocation function {name}"));
        }
    }

    #[test]
    fn runpath_and_rpath_are_reported() {
        let Some(elf) = zig_cc("runpath", AL2023, MAIN, &["-Wl,-rpath,/opt/x", "-Wl,--enable-new-dtags"]) else {
            return;
        };
        assert_reports(&elf_problems(&elf), "DT_RUNPATH /opt/x");
        // zig's driver drops `--disable-new-dtags`: the same program with the tag turned.
        let elf = runpath_as_rpath(&elf);
        assert_reports(&elf_problems(&elf), "DT_RPATH /opt/x");
    }

    /// `elf` (64-bit, little-endian) with its `DT_RUNPATH` entry retagged `DT_RPATH`.
    fn runpath_as_rpath(elf: &[u8]) -> Vec<u8> {
        use object::read::elf::{ElfFile64, ProgramHeader as _};
        let file = ElfFile64::<object::Endianness>::parse(elf).unwrap();
        let endian = file.endian();
        let dynamic = file.elf_program_headers().iter().find(|p| p.p_type(endian) == object::elf::PT_DYNAMIC).unwrap();
        let (start, len) = (dynamic.p_offset(endian) as usize, dynamic.p_filesz(endian) as usize);
        let mut out = elf.to_vec();
        // Entries of two 8-byte words: the tag, then its value.
        for entry in out[start..start + len].chunks_exact_mut(16) {
            if u64::from_le_bytes(entry[..8].try_into().unwrap()) == object::elf::DT_RUNPATH.0 as u64 {
                entry[..8].copy_from_slice(&(object::elf::DT_RPATH.0 as u64).to_le_bytes());
            }
        }
        out
    }

    #[test]
    fn glibc_newer_than_2_34_is_reported() {
        // arc4random is GLIBC_2.36 (Amazon Linux 2023 has 2.34): linked for 2.36 here.
        let source = r#"
            #include <stdlib.h>
            int main(void) { return (int)(arc4random() & 1); }
        "#;
        let Some(elf) = zig_cc("arc4random", "x86_64-linux-gnu.2.36", source, &[]) else {
            return;
        };
        let facts = elf_facts(&elf).unwrap();
        assert_eq!(facts.max_glibc(), Some((2, 36, 0)), "{facts:#?}");
        assert_reports(&facts.problems(), "needs GLIBC_2.36, newer than GLIBC_2.34");
    }

    #[test]
    fn extra_needed_library_is_reported() {
        let source = r#"
            #include <math.h>
            int main(int argc, char **argv) { return (int)cos((double)argc); }
        "#;
        let Some(elf) = zig_cc("libm", AL2023, source, &["-Wl,--no-as-needed", "-lm"]) else {
            return;
        };
        assert_reports(&elf_problems(&elf), "libm.so.6");
    }

    #[test]
    fn nix_store_interpreter_is_reported() {
        let interp = "/nix/store/00000000000000000000000000000000-glibc-2.42/lib/ld-linux-x86-64.so.2";
        let flag = format!("-Wl,--dynamic-linker={interp}");
        let Some(elf) = zig_cc("nix", AL2023, MAIN, &[&flag]) else {
            return;
        };
        let problems = elf_problems(&elf);
        assert_reports(&problems, &format!("ELF interpreter is {interp}"));
        assert_reports(&problems, "/nix/store");
    }

    #[test]
    fn nix_store_string_is_reported() {
        let source = r#"
            const char *where = "/nix/store/abc-thing";
            int main(void) { return where[1]; }
        "#;
        let Some(elf) = zig_cc("nixstr", AL2023, source, &[]) else {
            return;
        };
        assert_eq!(elf_problems(&elf), ["contains the bytes /nix/store"]);
    }

    #[test]
    fn static_binary_is_reported() {
        let Some(elf) = zig_cc("static", "x86_64-linux-musl", MAIN, &["-static"]) else {
            return;
        };
        let problems = elf_problems(&elf);
        assert_reports(&problems, "no ELF interpreter");
        assert_reports(&problems, "DT_NEEDED is []");
    }

    #[test]
    fn zip_of_a_program_is_checked() {
        let Some(elf) = zig_cc("zip", AL2023, MAIN, &[]) else {
            return;
        };
        let zip = zip_fast(&elf);
        let report = check_zip(&zip, Some(8192));
        assert_eq!(report.problems, Vec::<String>::new());
        assert_eq!(report.elf.as_deref(), Some(&elf[..]));

        // The same ELF with a malloc import inside a zip is still caught.
        let Some(bad) = zig_cc(
            "zipmalloc",
            AL2023,
            "#include <stdlib.h>\nint main(int c, char **v) { free(malloc(c)); return 0; }\n",
            &[],
        ) else {
            return;
        };
        let report = check_zip(&zip_fast(&bad), None);
        assert_reports(&report.problems, "allocation function malloc");
    }

    #[test]
    fn oversized_zip_is_reported() {
        let limit = 8192;
        // Incompressible bytes (xorshift) make the zip larger than the limit.
        let mut x = 0x2545_f491_4f6c_dd1d_u64;
        let noise: Vec<u8> = (0..limit + 512)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        let zip = zip_fast(&noise);
        let report = check_zip(&zip, Some(limit));
        assert_reports(&report.problems, &format!("zip is {} bytes, more than the limit of {limit}", zip.len()));
        assert_reports(&report.problems, "not a readable 64-bit ELF");
        for max in [Some(zip.len()), None] {
            let report = check_zip(&zip, max);
            assert!(!report.problems.iter().any(|p| p.contains("more than the limit")), "{:?}", report.problems);
        }
    }
}
