//! The Lambda architectures: their Rust and zig targets and what their ELF files must look
//! like.

use object::elf;

/// A Lambda architecture: how to build for it and what its ELF files must look like.
#[derive(Debug, PartialEq, Eq)]
pub struct Arch {
    /// Lambda's name for it (`x86_64`, `arm64`), used in zip names.
    pub name: &'static str,
    /// Rust's target triple.
    pub rust_target: &'static str,
    /// zig's target with the glibc version pin (Amazon Linux 2023 has glibc 2.34).
    pub zig_target: &'static str,
    /// The ELF header's `e_machine`.
    pub elf_machine: u16,
    /// The FHS dynamic loader path, as on Amazon Linux.
    pub interpreter: &'static str,
    /// What its ELFs' names end with where both architectures' lie side by side (x86_64's
    /// unsuffixed).
    pub bin_suffix: &'static str,
    /// Codegen flags of its programs, in the target's rustflags with the link flags
    /// ([`crate::link::link_with`]).
    pub rustflags: &'static [&'static str],
}

/// x86_64 (the machines this builds on).
pub const X86_64: Arch = Arch {
    name: "x86_64",
    rust_target: "x86_64-unknown-linux-gnu",
    zig_target: "x86_64-linux-gnu.2.34",
    elf_machine: elf::EM_X86_64.0,
    interpreter: "/lib64/ld-linux-x86-64.so.2",
    bin_suffix: "",
    rustflags: &[],
};

/// arm64 (Graviton).
pub const ARM64: Arch = Arch {
    name: "arm64",
    rust_target: "aarch64-unknown-linux-gnu",
    zig_target: "aarch64-linux-gnu.2.34",
    elf_machine: elf::EM_AARCH64.0,
    interpreter: "/lib/ld-linux-aarch64.so.1",
    bin_suffix: "-arm64",
    // Atomics inline (LL/SC), not through compiler-rt's outline helpers, whose objects in
    // some standard library builds (Debian's) carry stack-protector imports from the
    // dynamic loader (`DT_NEEDED ld-linux-aarch64.so.1`) and a CPU-probing constructor. And
    // no machine outliner, which LLVM runs at opt-level "z" on arm64 (not on x86_64): it
    // turns repeated instruction sequences into calls, which deflate would have matched for
    // less (docs/size.md has what each flag saves).
    rustflags: &["-C target-feature=-outline-atomics", "-C llvm-args=-enable-machine-outliner=never"],
};

/// Every architecture, in the order they are built.
pub const ARCHES: &[&Arch] = &[&X86_64, &ARM64];

impl Arch {
    /// `rust_target` in cargo's environment variables: `X86_64_UNKNOWN_LINUX_GNU`.
    pub fn cargo_env(&self) -> String {
        self.rust_target.to_uppercase().replace('-', "_")
    }

    /// The architecture Lambda calls `name`.
    pub fn named(name: &str) -> Option<&'static Arch> {
        ARCHES.iter().copied().find(|a| a.name == name)
    }

    /// The architecture of this machine, if Lambda has it.
    pub fn host() -> Option<&'static Arch> {
        let name = match std::env::consts::ARCH {
            "aarch64" => "arm64",
            other => other,
        };
        Self::named(name)
    }
}

/// A command-line parser for `--arch`: one of [`ARCHES`] by name.
pub fn parse_arch(name: &str) -> Result<&'static Arch, String> {
    Arch::named(name).ok_or_else(|| {
        let names: Vec<&str> = ARCHES.iter().map(|a| a.name).collect();
        format!("`{name}` is not one of {}", names.join(", "))
    })
}
