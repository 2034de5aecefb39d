//! Smoke test of the harness with the built bootstraps (`LAMBDA_LIBC_BIN_DIR`, set by
//! `cargo xtask test`): a handful of invocations of our Rust echo through the whole
//! pipeline, the concurrency run with the fixture's workers, and candidates that must be
//! rejected. Nothing here asserts a timing: speed is
//! measured by `cargo xtask bench`, never tested.

#[path = "../../tests/tests/tools/mod.rs"]
mod tools;

use std::path::PathBuf;

use lambda_libc_bench::callgrind;
use lambda_libc_bench::concurrency::{self, Load};
use lambda_libc_bench::concurrency_bench::{ConcurrencyOptions, bench_concurrency};
use lambda_libc_bench::protocol::{self, Framing};
use lambda_libc_bench::run::{self, Launch, Workload};
use lambda_libc_bench::{Candidate, Options, Role, bench, report};

/// Whether `path` is an ELF for this machine (the directories may hold arm64 builds too).
fn native(path: &std::path::Path) -> bool {
    let machine = match std::env::consts::ARCH {
        "x86_64" => 62u16,
        "aarch64" => 183,
        _ => return true,
    };
    std::fs::read(path)
        .is_ok_and(|b| b.len() > 20 && b[..4] == *b"\x7fELF" && u16::from_le_bytes([b[18], b[19]]) == machine)
}

/// `name`, built for this machine, in the first directory of `LAMBDA_LIBC_BIN_DIR` that has it.
fn built(name: &str) -> PathBuf {
    let dirs = std::env::var_os("LAMBDA_LIBC_BIN_DIR").unwrap_or_else(|| {
        panic!(
            "LAMBDA_LIBC_BIN_DIR is not set: run `cargo xtask test` (it builds the bootstraps and sets it), or \
             build them (`cargo xtask dist`) and set it to dist/bin"
        )
    });
    std::env::split_paths(&dirs)
        .map(|d| d.join(name))
        .find(|p| native(p))
        .unwrap_or_else(|| panic!("no `{name}` in LAMBDA_LIBC_BIN_DIR={}: run `cargo xtask test`", dirs.display()))
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lambda-libc-bench-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn the_rust_echo_through_the_whole_pipeline() {
    if tools::in_sandbox("the harness starts bootstraps by their FHS loader, which the sandbox lacks") {
        return;
    }
    let dir = scratch("pipeline");
    let options = Options {
        repeats: 1,
        invocations: 10,
        large_invocations: 3,
        large_bytes: 1 << 20,
        init_samples: 2,
        strace_invocations: 4,
        callgrind_invocations: 3,
        log_dir: dir.join("logs"),
        ..Options::default()
    };
    let candidate = Candidate { name: "rust".into(), role: Role::Ours, elf: built("bootstrap"), zip: None };
    let results = bench(&[candidate], &options, &mut |_| {});
    let m = &results.measured[0];
    assert_eq!(m.failure, None);
    assert!(m.elf_bytes > 0);
    assert_eq!(m.small.runs.len(), 1);
    assert_eq!(m.small.init_us.len(), 3, "one from the run, two samples");
    assert_eq!(m.small.runs[0].warm_us.len(), 9);
    assert_eq!(m.large.runs[0].warm_us.len(), 2);
    for run in m.small.runs.iter().chain(&m.large.runs) {
        assert!(run.connections >= 1);
        assert!(run.vm_hwm_kib.is_some_and(|k| k > 0));
        assert!(run.init_us > 0.0 && run.first_us > 0.0 && run.per_second > 0.0);
    }
    let summary = m.small.summary();
    assert!(summary.p50_us.is_some() && summary.p99_us.is_some());
    if lambda_libc_bench::strace::available() {
        let count = m.small.syscalls.as_ref().expect("strace ran");
        assert_eq!(count.invocations, 3);
        assert!(count.total > 0, "{count:?}");
        assert!(m.large.syscalls.is_some());
    } else {
        tools::skip("strace is not installed: syscall counts not checked");
    }
    if callgrind::available() {
        let i = m.small.instructions.expect("callgrind ran");
        assert_eq!(i.invocations, 3);
        assert!(i.per_invocation > 1_000.0 && i.startup > 10_000.0, "{i:?}");
        assert!(m.large.instructions.is_none(), "callgrind runs the small event only");
    } else {
        tools::skip("valgrind is not installed: instruction counts not checked");
    }

    results.write(&dir).unwrap();
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("results.json")).unwrap()).unwrap();
    assert_eq!(json["candidates"][0]["name"], "rust");
    assert!(json["candidates"][0]["small_event"]["warm_p50_us"].is_number());
    let md = std::fs::read_to_string(dir.join("results.md")).unwrap();
    assert!(md.contains("| `rust` |"), "{md}");
    assert_eq!(md, report::markdown(&results));
    assert!(std::fs::read_to_string(dir.join("latency.svg")).unwrap().contains("<svg"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// The point of counting instructions: two benches of the same binary count the same.
#[test]
fn instruction_counts_repeat() {
    if tools::in_sandbox("the harness starts bootstraps by their FHS loader, which the sandbox lacks") {
        return;
    }
    if !callgrind::available() {
        return tools::skip("valgrind is not installed: instruction counts not checked");
    }
    let dir = scratch("callgrind");
    let options = Options {
        repeats: 0,
        invocations: 2,
        large_invocations: 0,
        init_samples: 0,
        strace_invocations: 0,
        callgrind_invocations: 20,
        log_dir: dir.join("logs"),
        ..Options::default()
    };
    let candidate = Candidate { name: "rust".into(), role: Role::Ours, elf: built("bootstrap"), zip: None };
    let count = || {
        let results = bench(std::slice::from_ref(&candidate), &options, &mut |_| {});
        assert_eq!(results.measured[0].failure, None);
        results.measured[0].small.instructions.expect("callgrind ran")
    };
    assert_eq!(count(), count());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_chunked_event_is_echoed() {
    if tools::in_sandbox("the harness starts bootstraps by their FHS loader, which the sandbox lacks") {
        return;
    }
    let dir = scratch("chunked");
    let work = Workload { event: protocol::json_event(100_000), framing: Framing::Chunked(4096), invocations: 3 };
    let run = run::run(&Launch::new(&built("bootstrap"), &dir.join("log")), &work).unwrap();
    assert_eq!(run.warm_us.len(), 2);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn candidates_that_do_not_echo_are_rejected() {
    if tools::in_sandbox("the harness starts bootstraps by their FHS loader, which the sandbox lacks") {
        return;
    }
    let dir = scratch("reject");
    let fixture = built("fixture");
    let launch = Launch::new(&fixture, &dir.join("log"));
    let work = |event: &[u8]| Workload { event: event.to_vec(), framing: Framing::ContentLength, invocations: 3 };
    // `context` answers with the context, not the event.
    let e = run::run(&launch, &work(b"context")).unwrap_err();
    assert!(e.contains("answer 1 is not the event"), "{e}");
    // `error` answers with /error.
    let e = run::run(&launch, &work(b"error")).unwrap_err();
    assert!(e.contains("/error"), "{e}");
    // A program that is not a runtime at all.
    let e = run::run(&Launch::new(std::path::Path::new("/bin/true"), &dir.join("log")), &work(b"{}")).unwrap_err();
    assert!(e.contains("exited"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The fixture's mode in which `Runtime::run` starts the workers and the handler echoes.
fn fixture_env() -> Vec<(String, String)> {
    vec![("FIXTURE_LOOP".to_owned(), "run".to_owned())]
}

#[test]
fn the_fixture_serves_with_two_workers() {
    if tools::in_sandbox("the harness starts bootstraps by their FHS loader, which the sandbox lacks") {
        return;
    }
    let dir = scratch("workers");
    let launch = Launch { env: fixture_env(), ..Launch::new(&built("fixture"), &dir.join("log")) };
    let load = |workers| Load { event: protocol::json_event(100), invocations: 200, workers };

    let two = concurrency::run(&launch, &load(2)).unwrap();
    assert_eq!(two.children_vm_hwm_kib.len(), 2, "{two:?}");
    assert!(two.children_vm_hwm_kib.iter().all(|&k| k > 0), "{two:?}");
    assert!(two.supervisor_vm_hwm_kib().is_some_and(|k| k > 0), "{two:?}");
    assert!(two.connections >= 2 && two.per_second > 0.0, "{two:?}");

    let one = concurrency::run(&launch, &load(1)).unwrap();
    assert!(one.children_vm_hwm_kib.is_empty(), "the single loop forks nothing: {one:?}");
    assert_eq!(one.supervisor_vm_hwm_kib(), None);
    assert_eq!(one.worker_vm_hwm_kib().len(), 1);

    // The echo bootstrap is built without the feature: it ignores the variable and serves
    // alone, which the run must not take for two workers.
    let e = concurrency::run(&Launch::new(&built("bootstrap"), &dir.join("log")), &load(2)).unwrap_err();
    assert!(e.contains("0 worker processes for AWS_LAMBDA_MAX_CONCURRENCY=2"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_concurrency_bench_through_the_whole_pipeline() {
    if tools::in_sandbox("the harness starts bootstraps by their FHS loader, which the sandbox lacks") {
        return;
    }
    let dir = scratch("concurrency");
    let options = ConcurrencyOptions {
        repeats: 2,
        invocations: 100,
        workers: vec![1, 2],
        env: fixture_env(),
        log_dir: dir.join("logs"),
        ..ConcurrencyOptions::default()
    };
    // The Rust echo stands in for the floor: a single loop.
    let candidates = [
        Candidate { name: "fixture".into(), role: Role::Ours, elf: built("fixture"), zip: None },
        Candidate { name: "single".into(), role: Role::Floor, elf: built("bootstrap"), zip: None },
    ];
    let results = bench_concurrency(&candidates, &options, &mut |_| {});
    let seen: Vec<(&str, usize, Option<&String>, usize)> = results
        .points
        .iter()
        .map(|p| (p.candidate.name.as_str(), p.workers, p.failure.as_ref(), p.runs.len()))
        .collect();
    assert_eq!(seen, [("fixture", 1, None, 2), ("fixture", 2, None, 2), ("single", 1, None, 2)]);
    let two = results.summary(&results.points[1]);
    assert!(two.per_second.is_some() && two.over_floor.is_some(), "{two:?}");
    assert_eq!(two.serving_processes, Some(2));
    assert!(two.supervisor_kib.is_some() && two.worker_max_kib >= two.worker_mean_kib, "{two:?}");

    results.write(&dir).unwrap();
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("concurrency.json")).unwrap()).unwrap();
    assert_eq!(json["points"][1]["workers"], 2);
    assert_eq!(json["points"][1]["rounds"][0]["children_vm_hwm_kib"].as_array().map(Vec::len), Some(2));
    let md = std::fs::read_to_string(dir.join("concurrency.md")).unwrap();
    assert!(md.contains("| `fixture` | 2 |") && md.contains("| `single` | 1 |"), "{md}");
    assert_eq!(md, report::concurrency_markdown(&results));
    let _ = std::fs::remove_dir_all(&dir);
}
