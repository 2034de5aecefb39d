//! Lambda's logging controls (the feature `log`, which the fixtures are built with): with
//! `AWS_LAMBDA_LOG_FORMAT=JSON` every stderr line is one JSON object (`timestamp`, `level`,
//! `message`, `requestId` while a handler runs, `errorType` where there is one), records
//! below `AWS_LAMBDA_LOG_LEVEL` are left out, a message over a record is cut and marked,
//! and the text format is as without the feature.

mod support;

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use lambda_libc_mock::{Event, Fault, MockServer, Script};
use serde_json::{Map, Value};
use support::{Bin, Exit, fixtures, idle, rust_fixtures};

/// The most bytes of one record (`lambda_libc::log::MAX_RECORD`, `LAMBDA_LOG_MAX`).
const MAX_RECORD: usize = 4096;

fn ev(id: &str, body: &str) -> Event {
    Event::json(body.as_bytes().to_vec()).request_id(id)
}

/// Runs `bin` with `env` (plus the endpoint) until it waits in the last `/next`.
fn run_to_idle(bin: &Bin, env: &[(&str, &str)], events: Vec<Event>) -> (MockServer, Exit) {
    let (server, mut proc) = bin.start_env(Script::new().events(events), env);
    proc.wait_until(&server, "wait in the last /next", idle);
    (server, proc.kill())
}

/// Runs `bin` with `env` (plus the endpoint) until it exits by itself.
fn run_to_exit(bin: &Bin, env: &[(&str, &str)], script: Script) -> (MockServer, Exit) {
    let (server, proc) = bin.start_env(script, env);
    (server, proc.wait())
}

const JSON: (&str, &str) = ("AWS_LAMBDA_LOG_FORMAT", "JSON");

/// Every line of `stderr` as a JSON record, checked: an object whose `timestamp` is RFC 3339
/// within a minute of now, whose `level` is one of Lambda's, whose `message` is a string,
/// and whose `requestId` and `errorType`, when present, are strings.
fn records(bin: &Bin, stderr: &str) -> Vec<Map<String, Value>> {
    let now = jiff::Timestamp::now();
    stderr
        .lines()
        .map(|line| {
            assert!(line.len() < MAX_RECORD, "{bin}: a record over {MAX_RECORD} bytes: {line}");
            let value: Value =
                serde_json::from_str(line).unwrap_or_else(|e| panic!("{bin}: a line that is not JSON ({e}): {line:?}"));
            let Value::Object(record) = value else { panic!("{bin}: not an object: {line}") };
            let timestamp = record["timestamp"].as_str().unwrap_or_else(|| panic!("{bin}: no timestamp: {line}"));
            assert!(timestamp.ends_with('Z') && timestamp.len() == 24, "{bin}: {timestamp}");
            let at: jiff::Timestamp =
                timestamp.parse().unwrap_or_else(|e| panic!("{bin}: timestamp {timestamp} is not RFC 3339: {e}"));
            let skew = now.duration_since(at).unsigned_abs();
            assert!(skew < Duration::from_secs(60), "{bin}: timestamp {timestamp} is {skew:?} from now");
            let level = record["level"].as_str().unwrap_or_else(|| panic!("{bin}: no level: {line}"));
            assert!(["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"].contains(&level), "{bin}: {line}");
            assert!(record["message"].is_string(), "{bin}: no message: {line}");
            for optional in ["requestId", "errorType"] {
                assert!(record.get(optional).is_none_or(Value::is_string), "{bin}: {optional}: {line}");
            }
            record
        })
        .collect()
}

fn field<'r>(record: &'r Map<String, Value>, name: &str) -> Option<&'r str> {
    record.get(name).and_then(Value::as_str)
}

#[test]
fn a_handler_record_is_json_with_the_request_id() {
    let text = "hello \"world\" \\ é\ttab";
    for bin in fixtures() {
        let (server, exit) = run_to_idle(&bin, &[JSON], vec![ev("h1", &format!("log:{text}")), ev("h2", "plain")]);
        assert_eq!(server.answers().len(), 2, "{bin}");
        let records = records(&bin, &exit.stderr);
        assert_eq!(records.len(), 1, "{bin}: one record: {}", exit.stderr);
        let r = &records[0];
        assert_eq!(field(r, "level"), Some("INFO"), "{bin}");
        assert_eq!(field(r, "message"), Some(text), "{bin}");
        assert_eq!(field(r, "requestId"), Some("h1"), "{bin}");
        assert_eq!(field(r, "errorType"), None, "{bin}");
    }
}

/// The levels of the records `log-levels` leaves with `AWS_LAMBDA_LOG_LEVEL=level`.
fn levels_written(bin: &Bin, level: Option<&str>) -> Vec<String> {
    let mut env = vec![JSON];
    if let Some(level) = level {
        env.push(("AWS_LAMBDA_LOG_LEVEL", level));
    }
    let (_, exit) = run_to_idle(bin, &env, vec![ev("l1", "log-levels")]);
    let records = records(bin, &exit.stderr);
    for r in &records {
        let level = field(r, "level").unwrap();
        assert_eq!(field(r, "message"), Some(format!("level {level}").as_str()), "{bin}");
        assert_eq!(field(r, "requestId"), Some("l1"), "{bin}");
    }
    records.iter().map(|r| field(r, "level").unwrap().to_owned()).collect()
}

#[test]
fn a_level_that_is_none_is_refused_in_c() {
    for bin in support::c_fixtures() {
        let (server, exit) =
            run_to_idle(&bin, &[JSON, ("AWS_LAMBDA_LOG_LEVEL", "FATAL")], vec![ev("i", "log-invalid")]);
        // LAMBDA_E_INVALID for each, even with every valid level below the threshold.
        assert_eq!(server.answers()[0].body_str(), "-7,-7,-7", "{bin}");
        assert_eq!(exit.stderr, "", "{bin}");
    }
}

#[test]
fn records_below_the_level_are_left_out() {
    let all = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"];
    for bin in fixtures() {
        assert_eq!(levels_written(&bin, None), all[2..], "{bin}: INFO when unset");
        assert_eq!(levels_written(&bin, Some("loud")), all[2..], "{bin}: INFO when invalid");
        assert_eq!(levels_written(&bin, Some("TRACE")), all, "{bin}");
        assert_eq!(levels_written(&bin, Some("warn")), all[3..], "{bin}: in any case");
        assert_eq!(levels_written(&bin, Some("FATAL")), all[5..], "{bin}");
    }
}

#[test]
fn a_client_error_status_is_a_warning_of_the_invocation() {
    for bin in fixtures() {
        let events = || vec![ev("a", "x").answer_status(410), ev("b", "y")];
        let (_, exit) = run_to_idle(&bin, &[JSON], events());
        let records = records(&bin, &exit.stderr);
        assert_eq!(records.len(), 1, "{bin}: {}", exit.stderr);
        let r = &records[0];
        assert_eq!(field(r, "level"), Some("WARN"), "{bin}");
        assert!(
            field(r, "message").unwrap().starts_with("POST /2018-06-01/runtime/invocation/a/response: HTTP 410"),
            "{bin}: {r:?}"
        );
        assert_eq!(field(r, "requestId"), Some("a"), "{bin}");
        // Below ERROR: left out.
        let (_, exit) = run_to_idle(&bin, &[JSON, ("AWS_LAMBDA_LOG_LEVEL", "ERROR")], events());
        assert_eq!(exit.stderr, "", "{bin}");
    }
}

#[test]
fn a_fatal_error_is_a_fatal_record_at_every_level() {
    for bin in fixtures() {
        let raw = b"HTTP/1.1 2x0 OK\r\nLambda-Runtime-Aws-Request-Id: raw\r\nContent-Length: 2\r\n\r\n{}".to_vec();
        let (_, exit) = run_to_exit(&bin, &[JSON], Script::new().event(ev("raw", "{}").fault(Fault::Raw(raw.clone()))));
        exit.assert_exit_1();
        let records = records(&bin, &exit.stderr);
        assert_eq!(records.len(), 1, "{bin}: {}", exit.stderr);
        let r = &records[0];
        assert_eq!(field(r, "level"), Some("FATAL"), "{bin}");
        assert_eq!(
            field(r, "message"),
            Some("GET /2018-06-01/runtime/invocation/next: malformed status line"),
            "{bin}"
        );
        assert_eq!(field(r, "requestId"), None, "{bin}: no invocation runs");
        // No level hides why the process ended.
        let script = Script::new().event(ev("raw", "{}").fault(Fault::Raw(raw.clone())));
        let (_, exit) = run_to_exit(&bin, &[JSON, ("AWS_LAMBDA_LOG_LEVEL", "FATAL")], script);
        assert_eq!(self::records(&bin, &exit.stderr).len(), 1, "{bin}: {}", exit.stderr);
    }
}

#[test]
fn a_panic_is_a_fatal_record_with_its_type_and_request_id() {
    for bin in rust_fixtures() {
        let (server, exit) = run_to_exit(&bin, &[JSON], Script::new().events([ev("ok", "fine"), ev("p1", "panic")]));
        exit.assert_exit_1();
        assert_eq!(server.answers().len(), 2, "{bin}: the panic is reported");
        let records = records(&bin, &exit.stderr);
        assert_eq!(records.len(), 1, "{bin}: {}", exit.stderr);
        let r = &records[0];
        assert_eq!(field(r, "level"), Some("FATAL"), "{bin}");
        assert_eq!(field(r, "errorType"), Some("Runtime.Panic"), "{bin}");
        assert_eq!(field(r, "requestId"), Some("p1"), "{bin}");
        let message = field(r, "message").unwrap();
        assert!(
            message.starts_with("panic: handler panicked at ") && message.contains("src/main.rs"),
            "{bin}: {message}"
        );
    }
}

#[test]
fn an_init_error_is_a_fatal_record_with_its_type() {
    for bin in fixtures() {
        let env = [JSON, ("FIXTURE_INIT", "error")];
        let (_, exit) = run_to_exit(&bin, &env, Script::new().event(ev("never", "x")));
        exit.assert_exit_1();
        let records = records(&bin, &exit.stderr);
        assert_eq!(records.len(), 1, "{bin}: {}", exit.stderr);
        let r = &records[0];
        assert_eq!(field(r, "level"), Some("FATAL"), "{bin}");
        assert_eq!(field(r, "errorType"), Some("Function.InitFailed"), "{bin}");
        assert_eq!(
            field(r, "message"),
            Some("init error: Function.InitFailed: cannot start: \"config\" missing"),
            "{bin}"
        );
        assert_eq!(field(r, "requestId"), None, "{bin}");
    }
}

#[test]
fn a_message_over_a_record_is_cut_and_marked() {
    for bin in fixtures() {
        let (_, exit) = run_to_idle(&bin, &[JSON], vec![ev("big", "log-big")]);
        let records = records(&bin, &exit.stderr);
        assert_eq!(records.len(), 1, "{bin}: {}", exit.stderr);
        let message = field(&records[0], "message").unwrap();
        assert!(message.starts_with("big: bbbb") && message.ends_with("b [truncated]"), "{bin}: {message}");
        assert!(message.len() > MAX_RECORD - 200, "{bin}: the record is filled: {}", message.len());
        let line = exit.stderr.lines().next().unwrap();
        assert!(line.len() < MAX_RECORD, "{bin}: {}", line.len());

        let (_, exit) = run_to_idle(&bin, &[], vec![ev("big", "log-big")]);
        let line = exit.stderr.strip_suffix('\n').unwrap_or_else(|| panic!("{bin}: one line: {:?}", exit.stderr));
        assert!(!line.contains('\n') && line.len() < MAX_RECORD, "{bin}: {}", line.len());
        assert!(line.contains("\tbig\tINFO\tbig: bbbb") && line.ends_with("b [truncated]"), "{bin}: {line}");
    }
}

#[test]
fn the_text_format_is_as_without_the_feature() {
    for format in [None, Some("Text"), Some("yaml")] {
        let env: Vec<(&str, &str)> = format.map(|f| ("AWS_LAMBDA_LOG_FORMAT", f)).into_iter().collect();
        for bin in fixtures() {
            let (_, exit) = run_to_idle(&bin, &env, vec![ev("a", "x").answer_status(410), ev("t1", "log:two\nlines")]);
            let lines: Vec<&str> = exit.stderr.lines().collect();
            assert_eq!(lines.len(), 2, "{bin}: {format:?}: {}", exit.stderr);
            assert!(lines[0].starts_with("lambda-libc: POST /2018-06-01/runtime/invocation/a/response: HTTP 410"));
            let fields: Vec<&str> = lines[1].split('\t').collect();
            assert_eq!(fields.len(), 4, "{bin}: {}", lines[1]);
            assert!(fields[0].parse::<jiff::Timestamp>().is_ok(), "{bin}: {}", fields[0]);
            assert_eq!(fields[1..], ["t1", "INFO", "two\rlines"], "{bin}");

            let raw = b"HTTP/1.1 2x0 OK\r\nLambda-Runtime-Aws-Request-Id: raw\r\nContent-Length: 2\r\n\r\n{}".to_vec();
            let (_, exit) = run_to_exit(&bin, &env, Script::new().event(ev("raw", "{}").fault(Fault::Raw(raw))));
            exit.assert_exit_1();
            assert_eq!(
                exit.stderr, "lambda-libc: GET /2018-06-01/runtime/invocation/next: malformed status line\n",
                "{bin}: {format:?}"
            );
        }
    }
}

/// Processes that share one stderr pipe (as Lambda's workers do) write whole lines.
#[test]
fn records_of_processes_sharing_stderr_never_interleave() {
    const PROCESSES: usize = 4;
    const EVENTS: usize = 30;
    for bin in fixtures() {
        if bin.is_emulated() {
            continue; // started here without qemu: the native fixtures only
        }
        let (mut reader, writer) = std::io::pipe().expect("a pipe");
        let mut running = Vec::new();
        for p in 0..PROCESSES {
            let events =
                (0..EVENTS).map(|i| ev(&format!("p{p}-{i}"), if i % 2 == 0 { "log-big" } else { "log-levels" }));
            let server = MockServer::start(Script::new().events(events)).expect("start the mock");
            let mut cmd = match std::env::var_os(support::LOADER_VAR) {
                Some(loader) => {
                    let mut cmd = Command::new(loader);
                    cmd.arg(&bin.path);
                    cmd
                }
                None => Command::new(&bin.path),
            };
            cmd.env_clear().env("AWS_LAMBDA_RUNTIME_API", server.runtime_api()).env("AWS_LAMBDA_LOG_FORMAT", "JSON");
            cmd.env("AWS_LAMBDA_LOG_LEVEL", "TRACE");
            let child = cmd
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(writer.try_clone().expect("clone the pipe"))
                .spawn()
                .expect("start the fixture");
            running.push((server, child));
        }
        drop(writer);
        let collector = std::thread::spawn(move || {
            let mut all = String::new();
            reader.read_to_string(&mut all).expect("read the shared stderr");
            all
        });
        let start = Instant::now();
        for (server, child) in &mut running {
            while !idle(&server.requests()) {
                assert!(start.elapsed() < support::TIMEOUT * 3, "{bin}: the fixtures did not finish");
                std::thread::sleep(Duration::from_millis(20));
            }
            child.kill().expect("kill the fixture");
            child.wait().expect("reap the fixture");
        }
        let all = collector.join().expect("the collector");
        let records = records(&bin, &all);
        assert_eq!(records.len(), PROCESSES * EVENTS / 2 * (1 + 6), "{bin}: every record, whole");
    }
}
