//! `mock-runtime-api`: serve a few events on the mock Lambda Runtime API from the shell.
//! `mock-runtime-api --help` says how (the doc comments of [`Cli`]).

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::error::ErrorKind;
use clap::{ArgMatches, CommandFactory as _, FromArgMatches as _, Parser};

use lambda_libc_mock::{Event, Exhausted, MockServer, Reply, Script};

/// Serve a few events on the mock Lambda Runtime API.
///
/// Prints `AWS_LAMBDA_RUNTIME_API=HOST:PORT` first, then one line per answer:
/// `<request-id> <response|error> <status> <body>` (body as lossy UTF-8, with CR and LF
/// written as `\r` and `\n` so each answer stays on one line). Exits 0 after N answers
/// (default: the number of events). Once the events run out, `/next` hangs, or gets
/// `--exhausted-status` (e.g. 500).
#[derive(Parser)]
#[command(name = "mock-runtime-api")]
struct Cli {
    /// The address to listen on (port 0: a free one)
    #[arg(long, value_name = "IP:PORT", default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// An event, read from FILE; repeatable, served in the order given (with --json)
    #[arg(long = "event", value_name = "FILE")]
    event_files: Vec<PathBuf>,
    /// An event, given as JSON; repeatable, served in the order given (with --event)
    // A JSON text may start with `-` (a negative number): a value, not a flag.
    #[arg(long, value_name = "JSON", allow_hyphen_values = true)]
    json: Vec<String>,
    /// Exit after N answers, accepted or not [default: the number of events]
    #[arg(long, value_name = "N")]
    exit_after: Option<usize>,
    /// The status every `/next` gets once the events run out [default: `/next` hangs]
    #[arg(long, value_name = "CODE")]
    exhausted_status: Option<u16>,
    /// The function timeout, for the deadlines of the events
    #[arg(long, value_name = "MS")]
    timeout_ms: Option<u64>,
    /// Answer a response or error posted after its event's deadline with 410, as Lambda
    /// Managed Instances do
    #[arg(long)]
    enforce_deadlines: bool,
}

fn main() -> ExitCode {
    let matches = Cli::command().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let events = events(&matches, &cli).unwrap_or_else(|e| e.exit());
    match serve(&cli, events) {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("mock-runtime-api: {msg}");
            ExitCode::from(2)
        }
    }
}

/// The events of `--event` and `--json`, in the order given: clap keeps each flag's values
/// apart, and their indices say where they were.
fn events(matches: &ArgMatches, cli: &Cli) -> Result<Vec<Event>, clap::Error> {
    let mut given: Vec<(usize, Event)> = Vec::new();
    for (i, path) in matches.indices_of("event_files").into_iter().flatten().zip(&cli.event_files) {
        let body = std::fs::read(path)
            .map_err(|e| Cli::command().error(ErrorKind::Io, format!("cannot read event {}: {e}", path.display())))?;
        given.push((i, Event::json(body)));
    }
    for (i, json) in matches.indices_of("json").into_iter().flatten().zip(&cli.json) {
        given.push((i, Event::json(json.clone())));
    }
    given.sort_by_key(|&(i, _)| i);
    Ok(given.into_iter().map(|(_, e)| e).collect())
}

fn serve(cli: &Cli, events: Vec<Event>) -> Result<(), String> {
    let answers_wanted = cli.exit_after.unwrap_or(events.len());
    let exhausted = cli.exhausted_status.map_or(Exhausted::Hang, |code| Exhausted::Reply(Reply::for_status(code)));
    let mut script = Script::new().events(events).when_exhausted(exhausted);
    if let Some(ms) = cli.timeout_ms {
        script = script.timeout(Duration::from_millis(ms));
    }
    if cli.enforce_deadlines {
        script = script.enforce_deadlines();
    }
    let listen = cli.listen;
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
