//! `cargo lambda-libc build`: a function project's bootstrap for each architecture, built,
//! `sstrip`ped, verified and zipped deterministically, as `cargo xtask dist` builds the
//! repository's own.
//!
//! What it writes into its output directory (`<cargo target directory>/lambda/` unless
//! `--out` says otherwise):
//!
//! | path | what |
//! |---|---|
//! | `bootstrap-<arch>.zip` | the deployment zip |
//! | `<arch>/bootstrap` | the ELF inside it |
//! | `SHA256SUMS` | the sha256 of every `bootstrap-<arch>.zip` there, sorted by name |

use std::fs;
use std::path::{Path, PathBuf};

use crate::arch::{ARCHES, Arch};
use crate::archive::{sha256sums, write_zip};
use crate::builder::{ArchBuilder, C_API, C_API_STREAM, HEADER};
use crate::error::{Context, Result};
use crate::files::{read, write_executable};
use crate::new::{C_SOURCE_FILE, Source};
use crate::process::{cargo, output};
use crate::sstrip::sstrip;
use crate::toolchain::{Compiler, Toolchains};
use crate::verify;
use crate::zig::{ZIG_VAR, Zig};

/// What to build and how.
pub struct Options {
    /// The project's directory.
    pub dir: PathBuf,
    /// The architectures, in [`ARCHES`] order.
    pub arches: Vec<&'static Arch>,
    /// The cargo package (default: the one in `dir`, else the workspace's).
    pub package: Option<String>,
    /// The binary (default: `bootstrap`, else the package's only one).
    pub bin: Option<String>,
    /// Cargo features to build it with (`--features`).
    pub features: Vec<String>,
    /// C sources: a C project even if `dir` has a `Cargo.toml` (default for a directory
    /// without one: every `*.c` in it).
    pub c_sources: Vec<PathBuf>,
    /// For C: lambda-libc's static library with response streaming (`c-api-stream`).
    pub stream: bool,
    /// For C: the lambda-libc source (default: `lambda-libc.toml`'s, else [`Source::own`]).
    pub lambda_libc: Option<PathBuf>,
    /// The output directory.
    pub out: Option<PathBuf>,
    /// How each architecture's compiler is chosen.
    pub toolchains: Toolchains,
    /// A size limit for the zips, checked by the verifier.
    pub max_zip_bytes: Option<usize>,
}

/// One architecture's bootstrap, as written.
pub struct Built {
    /// Its architecture.
    pub arch: &'static Arch,
    /// The shipped ELF.
    pub elf: PathBuf,
    /// Its bytes.
    pub elf_bytes: usize,
    /// The deployment zip.
    pub zip: PathBuf,
    /// Its bytes.
    pub zip_bytes: usize,
}

/// What kind of project, found from its directory.
enum Kind {
    /// A cargo package's binary.
    Rust { package: String, bin: String, manifest: PathBuf },
    /// C sources against the static library from a lambda-libc source.
    C { sources: Vec<PathBuf>, lambda_libc: PathBuf },
}

/// Builds, verifies and zips the bootstrap of `options.arches`.
pub fn build(options: &Options) -> Result<Vec<Built>> {
    let dir = std::path::absolute(&options.dir).context("cannot make the project directory absolute")?;
    let (kind, target_dir) = if options.c_sources.is_empty() && dir.join("Cargo.toml").is_file() {
        rust_project(&dir, options)?
    } else {
        (c_project(&dir, options)?, dir.join("target"))
    };
    let out = match &options.out {
        Some(out) => std::path::absolute(out).context("cannot make --out absolute")?,
        None => target_dir.join("lambda"),
    };
    let work = target_dir.join("lambda-libc");
    let tools = tools_dir();
    let zig = match &tools {
        Ok(tools) => Zig::ensure(tools, &work)?,
        Err(why) => Zig::find(&work, &work)?.ok_or_else(|| why.clone())?,
    };
    // Without a home (a Nix sandbox), Debian's route, which is not used there, would unpack
    // into the target directory.
    let tools = tools.unwrap_or_else(|_| work.clone());
    // Where cargo runs (rustup picks its toolchain there): the project, or for C the
    // lambda-libc source, whose static library it builds.
    let cargo_dir = match &kind {
        Kind::Rust { .. } => dir.as_path(),
        Kind::C { lambda_libc, .. } => lambda_libc.as_path(),
    };
    let mut built = Vec::new();
    for &arch in &options.arches {
        let compiler = match Compiler::choose(arch, options.toolchains, &tools, cargo_dir)? {
            Ok(compiler) => compiler,
            Err(why) => return Err(format!("cannot build for {}: {why}", arch.name).into()),
        };
        let builder = ArchBuilder::new(&zig, arch, &compiler, &target_dir)?;
        let elf = match &kind {
            Kind::Rust { package, bin, manifest } => {
                let mut cmd = builder.cargo(&dir)?;
                cmd.args(["build", "--release", "--target", arch.rust_target, "--manifest-path"]).arg(manifest);
                cmd.args(["-p", package, "--bin", bin]);
                if !options.features.is_empty() {
                    cmd.args(["--features", &options.features.join(",")]);
                }
                crate::process::run(&mut cmd)?;
                builder.release_dir().join(bin)
            }
            Kind::C { sources, lambda_libc } => {
                // `-F` names lambda-libc's own features here: `concurrency`, `shutdown`, `log`.
                let base = if options.stream { C_API_STREAM } else { C_API };
                let features: Vec<&str> =
                    std::iter::once(base).chain(options.features.iter().map(String::as_str)).collect();
                let library = builder.staticlib(lambda_libc, &features.join(","))?;
                // Beside cargo's release directory, not in it, where a binary of a cargo
                // project in the same directory may have the same name.
                let elf = builder.release_dir().with_file_name("c").join("bootstrap");
                fs::create_dir_all(elf.parent().unwrap_or(&target_dir))
                    .context("cannot create the C output directory")?;
                builder.compile_c(sources, &lambda_libc.join("runtime/include"), &library, &elf)?;
                elf
            }
        };
        builder.check_links()?;
        built.push(package(arch, &read(&elf)?, &out, options.max_zip_bytes)?);
    }
    let mut zips = Vec::new();
    for arch in ARCHES {
        let name = zip_name(arch);
        if let Ok(bytes) = fs::read(out.join(&name)) {
            zips.push((name, bytes));
        }
    }
    let sums = sha256sums(zips.iter().map(|(name, bytes)| (name.as_str(), bytes.as_slice())));
    crate::files::write_if_changed(&out.join("SHA256SUMS"), sums.as_bytes())?;
    Ok(built)
}

impl std::fmt::Display for Built {
    /// `x86_64: ELF <bytes> B, zip <bytes> B (<zip path>)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: ELF {} B, zip {} B ({})", self.arch.name, self.elf_bytes, self.zip_bytes, self.zip.display())
    }
}

/// `bootstrap-<arch>.zip`.
pub fn zip_name(arch: &Arch) -> String {
    format!("bootstrap-{}.zip", arch.name)
}

/// Writes the shipped ELF (`sstrip`ped) and its zip into `out`, and verifies both.
fn package(arch: &'static Arch, elf: &[u8], out: &Path, max_zip_bytes: Option<usize>) -> Result<Built> {
    let shipped = sstrip(elf)?;
    let elf_path = out.join(arch.name).join("bootstrap");
    write_executable(&elf_path, &shipped)?;
    let zip_path = out.join(zip_name(arch));
    let zip = write_zip(&shipped, &zip_path)?;
    let problems = verify::zip_problems(&zip, arch, max_zip_bytes);
    if !problems.is_empty() {
        return Err(format!("the verifier failed {}:\n  - {}", zip_path.display(), problems.join("\n  - ")).into());
    }
    Ok(Built { arch, elf: elf_path, elf_bytes: shipped.len(), zip: zip_path, zip_bytes: zip.len() })
}

/// The tools directory for zig and Debian's arm64 standard library:
/// `${XDG_CACHE_HOME:-$HOME/.cache}/lambda-libc`; `Err(why)` without a usable one
/// (a Nix sandbox has no home: zig must come from `LAMBDA_LIBC_ZIG` there).
fn tools_dir() -> std::result::Result<PathBuf, String> {
    let env = |name| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    let cache = match (env("XDG_CACHE_HOME"), env("HOME")) {
        (Some(cache), _) => cache,
        (None, Some(home)) if home.is_dir() => home.join(".cache"),
        _ => {
            return Err(format!(
                "neither XDG_CACHE_HOME nor an existing HOME names where zig is installed: set one, or set \
                 {ZIG_VAR} to a zig executable"
            ));
        }
    };
    Ok(cache.join("lambda-libc"))
}

/// The package and binary to build, and cargo's target directory.
fn rust_project(dir: &Path, options: &Options) -> Result<(Kind, PathBuf)> {
    let manifest = dir.join("Cargo.toml");
    let metadata = output(
        cargo()
            .current_dir(dir)
            .args(["metadata", "--format-version", "1", "--no-deps", "--manifest-path"])
            .arg(&manifest),
    )?;
    let metadata: serde_json::Value = serde_json::from_str(&metadata).context("reading `cargo metadata`")?;
    let target_dir = metadata["target_directory"].as_str().ok_or("`cargo metadata` has no target_directory")?;
    let packages = metadata["packages"].as_array().ok_or("`cargo metadata` has no packages")?;
    let name = |p: &serde_json::Value| p["name"].as_str().unwrap_or_default().to_owned();
    let here = |p: &&serde_json::Value| Path::new(p["manifest_path"].as_str().unwrap_or_default()) == manifest;
    let candidates: Vec<&serde_json::Value> = match &options.package {
        Some(wanted) => packages.iter().filter(|p| name(p) == *wanted).collect(),
        None if packages.iter().any(|p| here(&p)) => packages.iter().filter(here).collect(),
        None => packages.iter().collect(),
    };
    if let Some(wanted) = &options.package
        && candidates.is_empty()
    {
        return Err(format!("no package `{wanted}` in {}", manifest.display()).into());
    }
    // (package, bin) of every binary of the candidates.
    let bins: Vec<(String, String)> = candidates
        .iter()
        .flat_map(|p| {
            let targets = p["targets"].as_array().map(Vec::as_slice).unwrap_or_default();
            targets
                .iter()
                .filter(|t| t["kind"].as_array().is_some_and(|k| k.iter().any(|k| k == "bin")))
                .map(|t| (name(p), t["name"].as_str().unwrap_or_default().to_owned()))
        })
        .collect();
    let chosen: Vec<&(String, String)> = match &options.bin {
        Some(wanted) => bins.iter().filter(|(_, bin)| bin == wanted).collect(),
        None if bins.iter().any(|(_, bin)| bin == "bootstrap") => {
            bins.iter().filter(|(_, bin)| bin == "bootstrap").collect()
        }
        None => bins.iter().collect(),
    };
    match chosen[..] {
        [(package, bin)] => {
            Ok((Kind::Rust { package: package.clone(), bin: bin.clone(), manifest }, PathBuf::from(target_dir)))
        }
        _ => {
            let list: Vec<String> = bins.iter().map(|(p, b)| format!("{b} (package {p})")).collect();
            let what = options.bin.as_deref().map_or_else(
                || "a binary named `bootstrap` or a single binary".to_owned(),
                |b| format!("one binary `{b}`"),
            );
            Err(format!(
                "{} has not {what}: its binaries are [{}]; choose with -p PACKAGE and --bin NAME",
                manifest.display(),
                list.join(", ")
            )
            .into())
        }
    }
}

/// The C sources and the lambda-libc source of a C project.
fn c_project(dir: &Path, options: &Options) -> Result<Kind> {
    let sources = if options.c_sources.is_empty() {
        let mut sources = Vec::new();
        for entry in fs::read_dir(dir).context(format_args!("cannot list {}", dir.display()))? {
            let path = entry.context(format_args!("cannot list {}", dir.display()))?.path();
            if path.extension().is_some_and(|e| e == "c") && path.is_file() {
                sources.push(path);
            }
        }
        sources.sort();
        sources
    } else {
        options.c_sources.iter().map(|s| dir.join(s)).collect()
    };
    if sources.is_empty() {
        return Err(format!(
            "{} has neither a Cargo.toml nor *.c files: run `cargo lambda-libc new` first, or name the sources with --c",
            dir.display()
        )
        .into());
    }
    let lambda_libc = match &options.lambda_libc {
        Some(path) => std::path::absolute(path).context("cannot make --lambda-libc absolute")?,
        None => match fs::read_to_string(dir.join(C_SOURCE_FILE)) {
            Ok(text) => {
                let table: toml::Table = text.parse().context(C_SOURCE_FILE)?;
                let source = table.get("source").and_then(toml::Value::as_str);
                dir.join(source.ok_or_else(|| format!("{C_SOURCE_FILE} has no `source = \"<path>\"`"))?)
            }
            Err(_) => Source::own(),
        },
    };
    if !lambda_libc.join("runtime/include").join(HEADER).is_file() {
        return Err(format!(
            "{} is not a lambda-libc source (no runtime/include/{HEADER}): give its checkout with --lambda-libc \
             or in {C_SOURCE_FILE}",
            lambda_libc.display()
        )
        .into());
    }
    Ok(Kind::C { sources, lambda_libc })
}
