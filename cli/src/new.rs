//! `cargo lambda-libc new`: a function project from the template files in `templates/rust/`
//! and `templates/c/` (the same files `nix flake init -t` copies), with the only changes
//! [`Template::render`] makes.

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{Context, Result};

/// A project template: its files, as `(path in the project, contents)`.
pub struct Template {
    /// The directory under `templates/` it comes from.
    pub name: &'static str,
    /// Every file of the template directory.
    pub files: &'static [(&'static str, &'static str)],
}

/// A Rust function: `Cargo.toml`, `src/main.rs` (a JSON handler for function URL events).
pub const RUST: Template = Template {
    name: "rust",
    files: &[
        ("Cargo.toml", include_str!("../../templates/rust/Cargo.toml")),
        ("src/main.rs", include_str!("../../templates/rust/src/main.rs")),
        ("README.md", include_str!("../../templates/rust/README.md")),
        (".gitignore", include_str!("../../templates/rust/.gitignore")),
        ("flake.nix", include_str!("../../templates/rust/flake.nix")),
    ],
};

/// A C function: `function.c`, built against lambda-libc's static library.
pub const C: Template = Template {
    name: "c",
    files: &[
        ("function.c", include_str!("../../templates/c/function.c")),
        ("README.md", include_str!("../../templates/c/README.md")),
        (".gitignore", include_str!("../../templates/c/.gitignore")),
        ("flake.nix", include_str!("../../templates/c/flake.nix")),
    ],
};

/// The Rust template's package name, replaced by the project's.
pub const TEMPLATE_NAME: &str = r#"name = "my-function""#;
/// The Rust template's lambda-libc source, replaced by the one `new` is given.
pub const TEMPLATE_SOURCE: &str = r#"git = "https://github.com/aws-lambda-libc/aws-lambda-libc""#;
/// The file of a C project that names its lambda-libc source (`source = "<path>"`).
pub const C_SOURCE_FILE: &str = "lambda-libc.toml";

/// Where a project's lambda-libc comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A checkout (the workspace root, with `runtime/` in it), absolute.
    Path(PathBuf),
    /// A git repository's URL.
    Git(String),
}

impl Source {
    /// The lambda-libc source this program was built from: `LAMBDA_LIBC_SOURCE` as it was
    /// when it was compiled (a package manager that builds in a copy, like Nix, names the
    /// source that stays), else the parent of the `cli/` crate.
    pub fn own() -> PathBuf {
        match option_env!("LAMBDA_LIBC_SOURCE") {
            Some(source) => PathBuf::from(source),
            None => Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap_or(Path::new("/")).to_path_buf(),
        }
    }

    /// `--lambda-libc`'s argument: a URL (`https://`, `ssh://`, `git@…`, `file://`) is git,
    /// anything else a path, made absolute.
    pub fn parse(arg: &str) -> Result<Self> {
        if ["https://", "http://", "ssh://", "git://", "file://", "git@"].iter().any(|p| arg.starts_with(p)) {
            return Ok(Self::Git(arg.to_owned()));
        }
        Ok(Self::Path(std::path::absolute(arg).context(format_args!("cannot make {arg} absolute"))?))
    }
}

impl Template {
    /// The files of a project named `name` on lambda-libc from `source`: the template's,
    /// with, in the Rust template's `Cargo.toml`, [`TEMPLATE_NAME`] as `name` and
    /// [`TEMPLATE_SOURCE`] as `source` (a `path` to its `runtime/`, or its `git` URL); for C,
    /// a source other than [`Source::own`] is named by an extra file [`C_SOURCE_FILE`] (a C
    /// project cannot use a git URL: its static library is built from a checkout).
    pub fn render(&self, name: &str, source: &Source) -> Result<Vec<(&'static str, String)>> {
        let toml_string = |s: &str| toml::Value::String(s.to_owned()).to_string();
        let mut files: Vec<(&str, String)> = self.files.iter().map(|&(path, text)| (path, text.to_owned())).collect();
        for (path, text) in &mut files {
            if *path != "Cargo.toml" {
                continue;
            }
            let dependency = match source {
                Source::Path(dir) => {
                    let runtime = dir.join("runtime");
                    format!("path = {}", toml_string(runtime.to_str().ok_or("the lambda-libc path is not UTF-8")?))
                }
                Source::Git(url) => format!("git = {}", toml_string(url)),
            };
            for (from, to) in [(TEMPLATE_NAME, format!("name = {}", toml_string(name))), (TEMPLATE_SOURCE, dependency)]
            {
                if text.matches(from).count() != 1 {
                    return Err(format!("templates/{}/{path} does not hold `{from}` exactly once", self.name).into());
                }
                *text = text.replace(from, &to);
            }
        }
        if self.name == C.name {
            match source {
                Source::Git(url) => {
                    return Err(format!(
                        "a C project builds lambda-libc's static library from a checkout: clone {url} and give \
                         --lambda-libc its path"
                    )
                    .into());
                }
                Source::Path(dir) if *dir != Source::own() => {
                    let path = dir.to_str().ok_or("the lambda-libc path is not UTF-8")?;
                    files.push((C_SOURCE_FILE, format!("source = {}\n", toml_string(path))));
                }
                Source::Path(_) => {}
            }
        }
        Ok(files)
    }
}

/// Writes a new project into `dir` (which must not exist or be empty) from `template`, on
/// lambda-libc from `source`; the package name is `dir`'s file name.
pub fn new(dir: &Path, template: &Template, source: &Source) -> Result {
    // `new .` names the project after the current directory.
    let absolute = std::path::absolute(dir).context(format_args!("cannot resolve {}", dir.display()))?;
    let name = absolute
        .components()
        .next_back()
        .map(|c| c.as_os_str())
        .and_then(|n| n.to_str())
        .ok_or_else(|| format!("{} has no file name to name the project after", dir.display()))?;
    check_package_name(name)?;
    if fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_some()) {
        return Err(format!("{} exists and is not empty", dir.display()).into());
    }
    for (path, text) in template.render(name, source)? {
        let file = dir.join(path);
        fs::create_dir_all(file.parent().unwrap_or(dir)).context(format_args!("cannot create {}", dir.display()))?;
        fs::write(&file, text).context(format_args!("cannot write {}", file.display()))?;
    }
    eprintln!("wrote the {} function {} into {}", template.name, name, dir.display());
    Ok(())
}

/// Writes the `Cargo.lock` of the Rust project in `dir` from the registry cache alone
/// (`cargo generate-lockfile --offline`), so that it builds offline right after `new`. When
/// the cache lacks a crate, says so and leaves the lock to the first build, which fetches
/// what is missing.
pub fn lock_offline(dir: &Path) -> Result {
    let out = crate::process::cargo()
        .current_dir(dir)
        .args(["generate-lockfile", "--offline"])
        .output()
        .context("cannot run cargo generate-lockfile")?;
    if out.status.success() {
        eprintln!("wrote {} from the registry cache", dir.join("Cargo.lock").display());
    } else {
        let why = String::from_utf8_lossy(&out.stderr);
        eprintln!(
            "note: the registry cache cannot resolve the project's crates ({}): the first build fetches them",
            why.lines().find(|l| l.starts_with("error")).unwrap_or("cargo generate-lockfile --offline failed").trim()
        );
    }
    Ok(())
}

/// Fails unless `name` is a valid cargo package name (ASCII letters, digits, `-` and `_`,
/// not starting with a digit) that is not a Rust keyword or a reserved one.
pub fn check_package_name(name: &str) -> Result {
    let valid = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    const RESERVED: &[&str] = &["test", "core", "std", "alloc", "proc_macro", "self", "crate", "super", "Self"];
    if !valid || RESERVED.contains(&name) {
        return Err(format!(
            "`{name}` is not a usable cargo package name (letters, digits, `-` and `_`, starting with a letter, \
             not a reserved name): name the directory differently"
        )
        .into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scratch directory removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(tag: &str) -> Self {
            let dir = std::env::temp_dir().join(format!("lambda-libc-new-{tag}-{}", std::process::id()));
            let _ = fs::remove_dir_all(&dir);
            Self(dir)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    /// Every file under `dir`, relative, sorted.
    fn files(dir: &Path) -> Vec<String> {
        fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
            for entry in fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(root, &path, out);
                } else {
                    out.push(path.strip_prefix(root).unwrap().to_string_lossy().into_owned());
                }
            }
        }
        let mut out = Vec::new();
        walk(dir, dir, &mut out);
        out.sort();
        out
    }

    /// `new` writes exactly the template directory's files, each the same modulo the
    /// substitutions `expected` makes of it.
    fn writes_the_template(template: &Template, source: &Source, expected: impl Fn(&str, String) -> String) {
        let templates = Path::new(env!("CARGO_MANIFEST_DIR")).join("../templates").join(template.name);
        let tmp = TempDir::new(template.name);
        let dir = tmp.0.join("hello-fn");
        new(&dir, template, source).unwrap();
        let mut wanted = files(&templates);
        if template.name == "c" && *source != Source::Path(Source::own()) {
            wanted.push(C_SOURCE_FILE.to_owned());
            wanted.sort();
        }
        assert_eq!(files(&dir), wanted, "the files of templates/{} and those `new` writes", template.name);
        for file in files(&templates) {
            let original = fs::read_to_string(templates.join(&file)).unwrap();
            let written = fs::read_to_string(dir.join(&file)).unwrap();
            assert_eq!(written, expected(&file, original), "{file}");
        }
        assert!(new(&dir, template, source).unwrap_err().to_string().contains("is not empty"));
    }

    #[test]
    fn new_writes_the_rust_template_with_the_name_and_source() {
        let own = Source::own();
        let runtime = own.join("runtime");
        writes_the_template(&RUST, &Source::Path(own), |file, text| match file {
            "Cargo.toml" => text
                .replace(r#"name = "my-function""#, r#"name = "hello-fn""#)
                .replace(TEMPLATE_SOURCE, &format!("path = \"{}\"", runtime.display())),
            _ => text,
        });
        let url = "https://example.com/lambda-libc.git";
        writes_the_template(&RUST, &Source::Git(url.to_owned()), |file, text| match file {
            "Cargo.toml" => text
                .replace(r#"name = "my-function""#, r#"name = "hello-fn""#)
                .replace(TEMPLATE_SOURCE, &format!("git = \"{url}\"")),
            _ => text,
        });
    }

    #[test]
    fn new_writes_the_c_template_and_names_another_source() {
        writes_the_template(&C, &Source::Path(Source::own()), |_, text| text);
        let other = Source::Path(PathBuf::from("/src/lambda-libc"));
        writes_the_template(&C, &other, |_, text| text);
        let tmp = TempDir::new("c-source");
        new(&tmp.0.join("f"), &C, &other).unwrap();
        assert_eq!(fs::read_to_string(tmp.0.join("f").join(C_SOURCE_FILE)).unwrap(), "source = \"/src/lambda-libc\"\n");
        let git = C.render("f", &Source::Git("https://example.com/x.git".to_owned()));
        assert!(git.unwrap_err().to_string().contains("clone https://example.com/x.git"));
    }

    #[test]
    fn package_names_are_checked() {
        for good in ["hello", "my-function", "fn_2", "_x"] {
            check_package_name(good).unwrap();
        }
        for bad in ["", "2fn", "a b", "é", "test", "a.b"] {
            assert!(check_package_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn sources_are_paths_or_git_urls() {
        assert_eq!(Source::parse("https://github.com/a/b").unwrap(), Source::Git("https://github.com/a/b".into()));
        assert_eq!(Source::parse("git@github.com:a/b.git").unwrap(), Source::Git("git@github.com:a/b.git".into()));
        let Source::Path(path) = Source::parse("some/dir").unwrap() else { panic!("a path") };
        assert!(path.is_absolute() && path.ends_with("some/dir"));
    }
}
