//! A C user's own build: the C echo compiled by the host's C compiler with nothing but the
//! flags of dist's `runtime-x86_64/lib/pkgconfig/lambda-libc.pc` (`cc function.c
//! $(pkg-config --cflags --libs lambda-libc)`, its variables expanded as pkg-config does)
//! is a bootstrap: it echoes, and the linker script and entry point its `Libs:` name are
//! the ones installed beside it.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use lambda_libc_mock::{Event, Script};
use support::{Bin, assert_responses};

/// The `Cflags:` and `Libs:` of the pkg-config file at `pc`, with `${…}` expanded from its
/// variables (and `pcfiledir`, the file's directory), split into arguments.
fn pkg_config(pc: &Path) -> (Vec<String>, Vec<String>) {
    let text = std::fs::read_to_string(pc).unwrap_or_else(|e| panic!("{}: {e} (run `cargo xtask dist`)", pc.display()));
    let mut vars = BTreeMap::from([("pcfiledir".to_owned(), pc.parent().unwrap().display().to_string())]);
    let expand = |vars: &BTreeMap<String, String>, mut value: String| {
        while let Some(start) = value.find("${") {
            let end = start + value[start..].find('}').expect("an unclosed ${");
            let var = vars.get(&value[start + 2..end]).unwrap_or_else(|| panic!("undefined {}", &value[start..=end]));
            value.replace_range(start..=end, var);
        }
        value
    };
    let (mut cflags, mut libs) = (Vec::new(), Vec::new());
    for line in text.lines() {
        if let Some((name, value)) = line.split_once('=').filter(|(n, _)| !n.contains(':')) {
            let value = expand(&vars, value.to_owned());
            vars.insert(name.to_owned(), value);
        } else if let Some(value) = line.strip_prefix("Cflags:") {
            cflags = expand(&vars, value.to_owned()).split_whitespace().map(str::to_owned).collect();
        } else if let Some(value) = line.strip_prefix("Libs:") {
            libs = expand(&vars, value.to_owned()).split_whitespace().map(str::to_owned).collect();
        }
    }
    (cflags, libs)
}

#[test]
fn the_pkg_config_flags_link_an_echo_bootstrap() {
    let dist =
        PathBuf::from(std::env::var_os("LAMBDA_LIBC_DIST_DIR").expect("LAMBDA_LIBC_DIST_DIR: run `cargo xtask test`"));
    let runtime = dist.join("runtime-x86_64");
    let (cflags, libs) = pkg_config(&runtime.join("lib/pkgconfig/lambda-libc.pc"));
    let script =
        libs.iter().find_map(|l| l.strip_prefix("-Wl,-T,")).unwrap_or_else(|| panic!("no linker script in {libs:?}"));
    let script = std::fs::canonicalize(script).unwrap_or_else(|e| panic!("the linker script {script}: {e}"));
    assert_eq!(script, std::fs::canonicalize(runtime.join("lib/bootstrap.ld")).unwrap());

    let out = std::env::temp_dir().join(format!("lambda-libc-pkg-config-{}", std::process::id()));
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../example-c/function.c");
    let cc = Command::new("cc").arg("-Os").args(&cflags).arg("-o").arg(&out).arg(&source).args(&libs).output();
    let cc = cc.expect("run cc, the host's C compiler");
    assert!(cc.status.success(), "cc {cflags:?} {libs:?} failed:\n{}", String::from_utf8_lossy(&cc.stderr));

    let bin = Bin { name: "the C echo built with the pkg-config flags".to_owned(), path: out.clone() };
    let events = [("pc-1", r#"{"hello":"pkg-config"}"#), ("pc-2", "")];
    let script = events.iter().fold(Script::new(), |s, (id, body)| s.event(Event::json(*body).request_id(*id)));
    let (server, _exit) = bin.echo_run(script);
    let _ = std::fs::remove_file(&out);
    let expected: Vec<(String, Vec<u8>)> =
        events.iter().map(|(id, body)| (id.to_string(), body.as_bytes().to_vec())).collect();
    assert_responses(&bin, &server, &expected);
}
