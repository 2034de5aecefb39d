//! The runtime's modules form layers (docs/design.md, "Layers"): each module's `crate::`
//! paths name only modules above it in the documented order, so no two modules import
//! each other, and `lib.rs` declares the modules in that order.

mod tools;

use std::path::{Path, PathBuf};

/// Whether to skip: the flake's source leaves docs/ out (nix/source.toml).
fn in_sandbox() -> bool {
    tools::in_sandbox("reads docs/design.md, which the flake's source leaves out")
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ has a parent").to_path_buf()
}

/// The module names of the layer table, bottom first.
fn documented_order() -> Vec<String> {
    let design = std::fs::read_to_string(root().join("docs/design.md")).expect("read docs/design.md");
    let table = design
        .split("<!-- layers: begin -->")
        .nth(1)
        .and_then(|rest| rest.split("<!-- layers: end -->").next())
        .expect("docs/design.md has the layers table between its markers");
    table
        .lines()
        .filter_map(|line| line.strip_prefix("| `"))
        .filter_map(|line| line.split('`').next())
        .map(str::to_owned)
        .collect()
}

/// The source files of module `name`: `runtime/src/<name>.rs` or every file under
/// `runtime/src/<name>/`.
fn sources(name: &str) -> Vec<(PathBuf, String)> {
    let src = root().join("runtime/src");
    let file = src.join(format!("{name}.rs"));
    let files: Vec<PathBuf> = if file.exists() {
        vec![file]
    } else {
        let mut files: Vec<PathBuf> = std::fs::read_dir(src.join(name))
            .unwrap_or_else(|e| panic!("module {name}: neither {name}.rs nor {name}/: {e}"))
            .map(|e| e.expect("read a directory entry").path())
            .collect();
        files.sort();
        files
    };
    files.into_iter().map(|p| (p.clone(), std::fs::read_to_string(&p).expect("read a source file"))).collect()
}

/// Every module a source names with a `crate::` path, including `use crate::{a, b}` lists.
fn named_modules(source: &str, modules: &[String]) -> Vec<String> {
    let mut named = Vec::new();
    for (i, _) in source.match_indices("crate::") {
        let rest = &source[i + "crate::".len()..];
        let names: Vec<&str> = match rest.strip_prefix('{') {
            Some(list) => list.split('}').next().unwrap_or("").split(',').collect(),
            None => vec![rest],
        };
        for name in names {
            let name: String = name.trim().chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            if modules.contains(&name) && !named.contains(&name) {
                named.push(name);
            }
        }
    }
    named
}

#[test]
fn every_module_imports_only_modules_below_it() {
    if in_sandbox() {
        return;
    }
    let order = documented_order();
    assert!(order.len() >= 10, "the layers table lists the modules: {order:?}");
    let mut violations = Vec::new();
    for (rank, module) in order.iter().enumerate() {
        for (path, source) in sources(module) {
            for named in named_modules(&source, &order) {
                let named_rank = order.iter().position(|m| *m == named).expect("a listed module");
                if named_rank >= rank && named != *module {
                    violations
                        .push(format!("{} (layer {rank}) names `crate::{named}` (layer {named_rank})", path.display()));
                }
            }
        }
    }
    assert!(violations.is_empty(), "imports against the layers of docs/design.md:\n{}", violations.join("\n"));
}

#[test]
fn lib_rs_declares_the_modules_in_layer_order() {
    if in_sandbox() {
        return;
    }
    let lib = std::fs::read_to_string(root().join("runtime/src/lib.rs")).expect("read lib.rs");
    let declared: Vec<String> = lib
        .lines()
        .filter_map(|l| l.trim().strip_prefix("pub mod ").or_else(|| l.trim().strip_prefix("mod ")))
        .map(|l| l.trim_end_matches(';').to_owned())
        .collect();
    assert_eq!(declared, documented_order(), "lib.rs's `mod` lines against docs/design.md's layers");
}

#[test]
fn the_checker_sees_imports() {
    let modules: Vec<String> = ["ascii", "sys", "http"].map(str::to_owned).to_vec();
    let source = "use crate::sys;\nuse crate::{ascii, http::Span};\nlet x = crate::http::MAX_HEAD;\n";
    assert_eq!(named_modules(source, &modules), ["sys", "ascii", "http"]);
    assert!(named_modules("use core::net; // not crate::nothing", &modules).is_empty());
}
