//! Drops what of an ELF executable nothing loads: the section header table and what lies
//! after the last segment (the section names). The kernel and the dynamic loader read
//! program headers only; the verifier reads the dynamic segment. Like ELFkickers' `sstrip`.

use object::Endianness;
use object::read::elf::{ElfFile64, FileHeader as _, ProgramHeader as _};

use crate::error::Result;

/// Offsets in the 64-bit ELF header of `e_shoff` (8 bytes), `e_shnum` and `e_shstrndx`
/// (2 bytes each).
const E_SHOFF: usize = 0x28;
const E_SHNUM: usize = 0x3c;
const E_SHSTRNDX: usize = 0x3e;

/// `elf` without its section header table and without the bytes after the last byte any
/// program header covers; the same bytes again for a file stripped before. Only 64-bit
/// executables are accepted (every bootstrap is one).
pub fn sstrip(elf: &[u8]) -> Result<Vec<u8>> {
    let file = ElfFile64::<Endianness>::parse(elf).map_err(|e| format!("sstrip: not a 64-bit ELF file: {e}"))?;
    let (endian, header) = (file.endian(), file.elf_header());
    let phdrs = header.e_phoff(endian) + u64::from(header.e_phnum(endian)) * u64::from(header.e_phentsize(endian));
    let end = file
        .elf_program_headers()
        .iter()
        .map(|p| p.p_offset(endian) + p.p_filesz(endian))
        .fold(phdrs.max(64), u64::max);
    let mut out = elf.get(..end as usize).ok_or("sstrip: a segment ends past the end of the file")?.to_vec();
    // Zeroed in the file's byte order: zero is zero in both.
    out[E_SHOFF..E_SHOFF + 8].fill(0);
    out[E_SHNUM..E_SHNUM + 2].fill(0);
    out[E_SHSTRNDX..E_SHSTRNDX + 2].fill(0);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_the_section_headers_and_nothing_that_is_loaded() {
        // This test binary: an ELF executable with section headers and names after its
        // segments.
        let elf = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        let stripped = sstrip(&elf).unwrap();
        assert!(stripped.len() < elf.len());
        assert_eq!(sstrip(&stripped).unwrap(), stripped, "stripping twice changes nothing");
        let file = ElfFile64::<Endianness>::parse(&*stripped).unwrap();
        assert!(file.elf_program_headers().len() > 2);
        let endian = file.endian();
        assert_eq!(file.elf_header().e_shnum(endian), 0);
        assert_eq!(file.elf_header().e_shoff(endian), 0);
        assert!(file.elf_section_table().is_empty());
        // Every byte past the ELF header is where it was, and every segment is kept whole.
        assert!(stripped[64..] == elf[64..stripped.len()], "bytes moved");
        for p in file.elf_program_headers() {
            assert!(p.p_offset(endian) + p.p_filesz(endian) <= stripped.len() as u64);
        }
        // The rest of the ELF header is unchanged.
        assert!(stripped[..E_SHOFF] == elf[..E_SHOFF] && stripped[E_SHOFF + 8..E_SHNUM] == elf[E_SHOFF + 8..E_SHNUM]);
    }

    #[test]
    fn a_stripped_executable_still_runs() {
        use std::os::unix::fs::PermissionsExt;
        let elf = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        let path = std::env::temp_dir().join(format!("lambda-libc-sstrip-{}", std::process::id()));
        std::fs::write(&path, sstrip(&elf).unwrap()).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        // The test harness lists its tests: loaded by the kernel and the dynamic loader.
        let out = std::process::Command::new(&path).args(["--list", "a_stripped_executable_still_runs"]).output();
        let _ = std::fs::remove_file(&path);
        let out = out.unwrap();
        assert!(out.status.success(), "{out:?}");
        assert!(String::from_utf8_lossy(&out.stdout).contains("a_stripped_executable_still_runs"), "{out:?}");
    }

    #[test]
    fn refuses_what_is_not_a_64_bit_elf_file() {
        assert!(sstrip(b"#!/bin/sh\n").is_err());
        assert!(sstrip(b"").is_err());
    }
}
