//! `mock-runtime-api`: serve a few events on the mock Lambda Runtime API from the shell.
//!
//! ```text
//! mock-runtime-api [--listen 127.0.0.1:9001] [--event FILE | --json '<json>']...
//!                  [--exit-after N] [--exhausted-status CODE] [--timeout-ms MS]
//! ```
//!
//! Prints `AWS_LAMBDA_RUNTIME_API=HOST:PORT` first, then one line per answer:
//! `<request-id> <response|error> <status> <body>` (body as lossy UTF-8, with CR and LF
//! written as `\r` and `\n` so each answer stays on one line). Exits 0 after N answers
//! (default: the number of events). Once the events run out, `/next` hangs, or gets
//! `--exhausted-status` (e.g. 500). `--listen` defaults to `127.0.0.1:0` (a free port).

use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use lambda_libc_mock::{Event, Exhausted, MockServer, Reply, Script};

const USAGE: &str = "usage: mock-runtime-api [--listen ADDR] [--event FILE | --json JSON]... \
[--exit-after N] [--exhausted-status CODE] [--timeout-ms MS]";

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("mock-runtime-api: {msg}\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn number<T: std::str::FromStr>(flag: &str, v: &str) -> Result<T, String> {
    v.parse().map_err(|_| format!("{flag} expects a number, got {v:?}"))
}

fn run() -> Result<(), String> {
    let mut listen = SocketAddr::from(([127, 0, 0, 1], 0));
    let mut events = Vec::new();
    let mut exit_after = None;
    let mut exhausted = Exhausted::Hang;
    let mut timeout = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
            _ => (arg.clone(), None),
        };
        let mut value = || inline.clone().or_else(|| args.next()).ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--listen" => {
                let v = value()?;
                listen = v.parse().map_err(|_| format!("--listen expects IP:PORT, got {v:?}"))?;
            }
            "--event" => {
                let path = value()?;
                let body = std::fs::read(&path).map_err(|e| format!("cannot read event {path:?}: {e}"))?;
                events.push(Event::json(body));
            }
            "--json" => events.push(Event::json(value()?)),
            "--exit-after" => exit_after = Some(number::<usize>("--exit-after", &value()?)?),
            "--exhausted-status" => {
                let code = number::<u16>("--exhausted-status", &value()?)?;
                exhausted = Exhausted::Reply(Reply::for_status(code));
            }
            "--timeout-ms" => {
                timeout = Some(Duration::from_millis(number("--timeout-ms", &value()?)?));
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }

    let answers_wanted = exit_after.unwrap_or(events.len());
    let mut script = Script::new().events(events).when_exhausted(exhausted);
    if let Some(t) = timeout {
        script = script.timeout(t);
    }
    let server = MockServer::start_on(listen, script).map_err(|e| format!("cannot listen on {listen}: {e}"))?;

    let mut out = std::io::stdout().lock();
    let io_err = |e: std::io::Error| format!("cannot write to stdout: {e}");
    writeln!(out, "AWS_LAMBDA_RUNTIME_API={}", server.runtime_api()).map_err(io_err)?;
    out.flush().map_err(io_err)?;
    for k in 0..answers_wanted {
        if !server.wait_for_answers(k + 1, Duration::MAX) {
            return Err("server stopped unexpectedly".into());
        }
        let answer = &server.answers()[k];
        let status = answer.status().map_or_else(|| "-".to_owned(), |s| s.to_string());
        let body = answer.body_str().replace('\r', "\\r").replace('\n', "\\n");
        writeln!(out, "{} {} {status} {body}", answer.request_id, answer.kind.as_str()).map_err(io_err)?;
        out.flush().map_err(io_err)?;
    }
    // Let the last 202 reach the client before the process goes away.
    server.wait_replies_sent(Duration::from_secs(5));
    Ok(())
}
