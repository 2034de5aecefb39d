//! The `mock-runtime-api` binary, driven by a tiny std client.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::{Client, error_path, response_path};

const WAIT: Duration = Duration::from_secs(20);

/// Kills the child on drop (also when a test fails).
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Lines of the child's stdout, read on a thread so every wait is bounded.
fn lines(stdout: ChildStdout) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

fn spawn(args: &[&str]) -> (Guard, mpsc::Receiver<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mock-runtime-api"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn mock-runtime-api");
    let rx = lines(child.stdout.take().unwrap());
    (Guard(child), rx)
}

fn wait_exit(guard: &mut Guard) -> std::process::ExitStatus {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        if let Some(status) = guard.0.try_wait().unwrap() {
            return status;
        }
        assert!(std::time::Instant::now() < deadline, "the CLI did not exit");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn serves_events_prints_answers_and_exits() {
    let dir = std::env::temp_dir().join(format!("mock-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("event.json");
    std::fs::write(&file, b"{\"from\":\"file\"}").unwrap();
    let (mut guard, rx) = spawn(&["--json", r#"{"n":1}"#, "--event", file.to_str().unwrap()]);
    let first = rx.recv_timeout(WAIT).expect("address line");
    let api =
        first.strip_prefix("AWS_LAMBDA_RUNTIME_API=").unwrap_or_else(|| panic!("unexpected first line {first:?}"));
    assert!(api.starts_with("127.0.0.1:"), "{api}");

    let mut c = Client::connect(api);
    let e1 = c.next();
    assert_eq!(e1.body, br#"{"n":1}"#);
    let id1 = e1.header("Lambda-Runtime-Aws-Request-Id").unwrap().to_owned();
    assert_eq!(c.post(&response_path(&id1), b"line1\nline2").status, 202);
    let line = rx.recv_timeout(WAIT).expect("first answer line");
    assert_eq!(line, format!("{id1} response 202 line1\\nline2"));

    let e2 = c.next();
    assert_eq!(e2.body, b"{\"from\":\"file\"}");
    let id2 = e2.header("Lambda-Runtime-Aws-Request-Id").unwrap().to_owned();
    let r = c
        .request(
            "POST",
            &error_path(&id2),
            &[("Lambda-Runtime-Function-Error-Type", "Function.X")],
            br#"{"errorMessage":"x","errorType":"X"}"#,
        )
        .unwrap();
    assert_eq!(r.status, 202);
    let line = rx.recv_timeout(WAIT).expect("second answer line");
    assert_eq!(line, format!(r#"{id2} error 202 {{"errorMessage":"x","errorType":"X"}}"#));

    let status = wait_exit(&mut guard);
    assert!(status.success(), "{status:?}");
    assert!(rx.recv_timeout(WAIT).is_err(), "no more output expected");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn exit_after_counts_rejected_answers_and_exhausted_status_applies() {
    let (mut guard, rx) =
        spawn(&["--listen", "127.0.0.1:0", "--json", "{}", "--exit-after", "2", "--exhausted-status", "500"]);
    let first = rx.recv_timeout(WAIT).unwrap();
    let api = first.strip_prefix("AWS_LAMBDA_RUNTIME_API=").unwrap().to_owned();
    let mut c = Client::connect(api.as_str());
    c.next();
    assert_eq!(c.post(&response_path("bogus"), b"?").status, 400);
    let line = rx.recv_timeout(WAIT).unwrap();
    assert_eq!(line, "bogus response 400 ?");
    let r = c.next();
    assert_eq!(r.status, 500);
    // Still running: one more answer is due.
    assert!(guard.0.try_wait().unwrap().is_none());
    let id = lambda_libc_mock::default_request_id(0);
    assert_eq!(c.post(&response_path(&id), b"done").status, 202);
    assert_eq!(rx.recv_timeout(WAIT).unwrap(), format!("{id} response 202 done"));
    assert!(wait_exit(&mut guard).success());
}

/// Runs the CLI to its end with `args`: its exit code, stdout and stderr.
fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_mock-runtime-api")).args(args).output().unwrap();
    let text = |bytes: &[u8]| String::from_utf8(bytes.to_vec()).unwrap();
    (out.status.code(), text(&out.stdout), text(&out.stderr))
}

#[test]
fn bad_arguments_exit_2() {
    let (code, out, err) = run(&["--bogus"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("unexpected argument '--bogus'"), "{err}");
    assert!(err.contains("Usage: mock-runtime-api"), "{err}");
    assert!(out.is_empty());

    let (code, out, err) = run(&["--exit-after", "many"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("invalid value 'many' for '--exit-after <N>'"), "{err}");
    assert!(out.is_empty());

    let (code, out, err) = run(&["--json", "{}", "--event", "/nonexistent/event.json"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("cannot read event /nonexistent/event.json"), "{err}");
    assert!(out.is_empty(), "nothing served: {out}");
}

#[test]
fn help_exits_0_and_names_every_option() {
    let (code, out, err) = run(&["--help"]);
    assert_eq!(code, Some(0), "{err}");
    for option in ["--listen", "--event", "--json", "--exit-after", "--exhausted-status", "--timeout-ms"] {
        assert!(out.contains(option), "{option} missing from --help:\n{out}");
    }
    assert!(out.contains("AWS_LAMBDA_RUNTIME_API=HOST:PORT"), "{out}");
}

/// `--json` takes any JSON text, also one that starts like a flag (a negative number).
#[test]
fn a_json_event_may_start_with_a_hyphen() {
    let (mut guard, rx) = spawn(&["--json", "-1", "--json=[]"]);
    let first = rx.recv_timeout(WAIT).unwrap();
    let api = first.strip_prefix("AWS_LAMBDA_RUNTIME_API=").unwrap().to_owned();
    let mut c = Client::connect(api.as_str());
    for want in [&b"-1"[..], b"[]"] {
        let e = c.next();
        assert_eq!(e.body, want);
        let id = e.header("Lambda-Runtime-Aws-Request-Id").unwrap().to_owned();
        assert_eq!(c.post(&response_path(&id), b"ok").status, 202);
        assert_eq!(rx.recv_timeout(WAIT).unwrap(), format!("{id} response 202 ok"));
    }
    assert!(wait_exit(&mut guard).success());
}
