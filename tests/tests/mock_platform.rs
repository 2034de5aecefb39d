//! The mock's platform behaviour (Lambda Managed Instances, the Extensions API, shutdown),
//! checked with a raw TcpStream client and real child processes.

mod common;

use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::{Client, NEXT, error_path, response_path};
use lambda_libc_mock::{
    ACCEPTED_BODY, EXTENSION_NEXT_PATH, EXTENSION_REGISTER_PATH, Event, INVALID_REQUEST_ID_BODY, INVOKE_TIMEOUT_BODY,
    MockServer, Route, SHUTDOWN_PHASE, Script, ShutdownOutcome, default_request_id,
};

/// Bound on every wait; generous, for a loaded machine.
const WAIT: Duration = Duration::from_secs(10);

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as u64
}

/// Registers an extension named `name`; returns its identifier.
fn register(c: &mut Client, name: &str) -> String {
    let r =
        c.request("POST", EXTENSION_REGISTER_PATH, &[("Lambda-Extension-Name", name)], br#"{"events":[]}"#).unwrap();
    assert_eq!(r.status, 200, "{}", r.body_str());
    r.header("Lambda-Extension-Identifier").expect("an identifier").to_owned()
}

/// A child that exits on SIGTERM (the default action).
fn sleeper() -> Child {
    Command::new("sleep").arg("30").spawn().expect("spawn sleep")
}

/// A child that ignores SIGTERM, returned once the `trap` is in place (it says so on
/// stdout before it becomes `sleep`, which keeps SIGTERM ignored).
fn stubborn_sleeper() -> Child {
    let mut child = Command::new("sh")
        .args(["-c", "trap '' TERM; echo ready; exec sleep 30"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn sh");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    assert_eq!(line, "ready\n");
    child
}

#[test]
fn parked_nexts_are_counted_and_pushed_events_release_them() {
    let server = MockServer::start(Script::new()).unwrap();
    let mut clients: Vec<Client> = (0..4).map(|_| Client::connect(server.addr())).collect();
    for c in &mut clients {
        c.send_request("GET", NEXT, &[], b"").unwrap();
    }
    assert!(server.wait_for_outstanding_next(WAIT, |n| n == 4), "parked: {}", server.outstanding_next());
    assert_eq!(server.max_outstanding_next(), 4);
    // Each parked /next is recorded once, with no status yet.
    let reqs = server.requests();
    assert_eq!(reqs.len(), 4);
    assert!(reqs.iter().all(|r| (&r.route, r.event, r.status) == (&Route::Next, None, None)), "{reqs:?}");

    // One pushed event releases exactly one of them.
    server.push_event(Event::json("p0"));
    assert!(server.wait_for_outstanding_next(WAIT, |n| n == 3), "parked: {}", server.outstanding_next());
    assert!(server.wait_until(WAIT, |reqs| reqs.iter().any(|r| r.status == Some(200))));
    let served: Vec<_> = server.requests().into_iter().filter(|r| r.status.is_some()).collect();
    assert_eq!(served.len(), 1, "{served:?}");
    assert_eq!(served[0].event, Some(0));
    assert_eq!(server.served(), 1);

    // Three more release the rest; each client gets one event, records are completed in place.
    for i in 1..4 {
        server.push_event(Event::json(format!("p{i}")));
    }
    assert!(server.wait_for_outstanding_next(WAIT, |n| n == 0));
    let mut bodies: Vec<String> = clients.iter_mut().map(|c| c.read_response().unwrap().body_str()).collect();
    bodies.sort();
    assert_eq!(bodies, ["p0", "p1", "p2", "p3"]);
    let reqs = server.requests();
    assert_eq!(reqs.len(), 4);
    let mut events: Vec<usize> = reqs.iter().map(|r| r.event.unwrap()).collect();
    events.sort_unstable();
    assert_eq!(events, [0, 1, 2, 3]);
    assert!(reqs.iter().all(|r| r.status == Some(200)));
    assert_eq!(server.max_outstanding_next(), 4);

    // A pushed event is answered like a scripted one (default id of its index).
    let r = clients[0].post(&response_path(&default_request_id(2)), b"ok");
    assert_eq!(r.status, 202);
    assert!(server.wait_for_answers(1, WAIT));
    assert_eq!(server.answers()[0].event, Some(2));
}

#[test]
fn a_next_that_finds_an_event_is_never_parked() {
    let server = MockServer::start(Script::new().event(Event::json(b"1")).event(Event::json(b"2"))).unwrap();
    let mut c = Client::connect(server.addr());
    assert_eq!(c.next().body, b"1");
    assert_eq!(c.next().body, b"2");
    assert_eq!((server.outstanding_next(), server.max_outstanding_next()), (0, 0));
    // A /next pushed before anyone asks is served at once too.
    server.push_event(Event::json(b"3").request_id("pushed"));
    let r = c.next();
    assert_eq!((r.body.as_slice(), r.header("Lambda-Runtime-Aws-Request-Id")), (&b"3"[..], Some("pushed")));
    assert_eq!(server.max_outstanding_next(), 0);
}

#[test]
fn late_answers_get_410_when_deadlines_are_enforced() {
    // Deadline 1 ms after the epoch: long past, whatever the machine's load.
    let late = |id: &str| Event::json(b"{}").request_id(id).deadline_ms(1);
    let script = Script::new()
        .enforce_deadlines()
        .event(late("late-r"))
        .event(late("late-e"))
        .event(Event::json(b"{}").request_id("in-time").timeout(Duration::from_secs(600)));
    let server = MockServer::start(script).unwrap();
    let mut c = Client::connect(server.addr());
    for _ in 0..3 {
        assert_eq!(c.next().status, 200);
    }
    let r = c.post(&response_path("late-r"), b"too late");
    assert_eq!((r.status, r.body_str()), (410, INVOKE_TIMEOUT_BODY.to_owned()));
    assert_eq!(r.header("Content-Type"), Some("application/json"));
    let r = c.post(&error_path("late-e"), br#"{"errorMessage":"x","errorType":"y"}"#);
    assert_eq!((r.status, r.body_str()), (410, INVOKE_TIMEOUT_BODY.to_owned()));
    // The event counts as answered: a second answer is an invalid request id.
    let r = c.post(&response_path("late-r"), b"again");
    assert_eq!((r.status, r.body_str()), (400, INVALID_REQUEST_ID_BODY.to_owned()));
    // Before its deadline, an answer is accepted.
    let r = c.post(&response_path("in-time"), b"ok");
    assert_eq!((r.status, r.body_str()), (202, ACCEPTED_BODY.to_owned()));

    assert!(server.wait_for_answers(4, WAIT));
    let answers = server.answers();
    let statuses: Vec<(&str, Option<usize>, Option<u16>)> =
        answers.iter().map(|a| (a.request_id.as_str(), a.event, a.status())).collect();
    assert_eq!(
        statuses,
        [
            ("late-r", Some(0), Some(410)),
            ("late-e", Some(1), Some(410)),
            ("late-r", Some(0), Some(400)),
            ("in-time", Some(2), Some(202))
        ]
    );
}

#[test]
fn late_answers_are_accepted_by_default() {
    let server = MockServer::start(Script::new().event(Event::json(b"{}").request_id("late").deadline_ms(1))).unwrap();
    let mut c = Client::connect(server.addr());
    assert_eq!(c.next().status, 200);
    let r = c.post(&response_path("late"), b"fine");
    assert_eq!((r.status, r.body_str()), (202, ACCEPTED_BODY.to_owned()));
}

#[test]
fn the_first_init_error_wins() {
    let server = MockServer::start(Script::new()).unwrap();
    let mut c = Client::connect(server.addr());
    let headers = [("Lambda-Runtime-Function-Error-Type", "Runtime.InitError")];
    let body = br#"{"errorMessage":"no","errorType":"InitError"}"#;
    let first = c.request("POST", "/2018-06-01/runtime/init/error", &headers, body).unwrap();
    assert_eq!((first.status, first.body_str()), (202, ACCEPTED_BODY.to_owned()));
    let second = c.request("POST", "/2018-06-01/runtime/init/error", &headers, body).unwrap();
    assert_eq!(second.status, 403);
    assert_eq!(
        second.body_str(),
        "{\"errorMessage\":\"State transition from InitError to InitError failed for runtime. Error: State transition is not allowed\",\"errorType\":\"InvalidStateTransition\"}\n"
    );
    assert!(server.wait_for_requests(2, WAIT));
    let statuses: Vec<(Route, Option<u16>)> = server.requests().into_iter().map(|r| (r.route, r.status)).collect();
    assert_eq!(statuses, [(Route::InitError, Some(202)), (Route::InitError, Some(403))]);
}

#[test]
fn extensions_register_with_a_name_and_get_an_identifier() {
    let server = MockServer::start(Script::new()).unwrap();
    let mut c = Client::connect(server.addr());
    let r = c.request("POST", EXTENSION_REGISTER_PATH, &[], br#"{"events":[]}"#).unwrap();
    assert_eq!(r.status, 403);
    assert_eq!(
        r.body_str(),
        "{\"errorMessage\":\"Empty extension name\",\"errorType\":\"Extension.InvalidExtensionName\"}\n"
    );
    assert_eq!(server.extensions_registered(), 0);

    let r = c
        .request("POST", EXTENSION_REGISTER_PATH, &[("Lambda-Extension-Name", "shutdown-hook")], br#"{"events":[]}"#)
        .unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.header("Content-Type"), Some("application/json"));
    assert_eq!(r.body_str(), "{\"functionName\":\"mock\",\"functionVersion\":\"$LATEST\",\"handler\":\"bootstrap\"}\n");
    let id = r.header("Lambda-Extension-Identifier").unwrap();
    assert_eq!(id.len(), 36, "{id}");
    assert_eq!(id.matches('-').count(), 4, "{id}");
    assert_eq!(server.extensions_registered(), 1);

    // A name registers once; another name gets another identifier.
    let r = c
        .request("POST", EXTENSION_REGISTER_PATH, &[("Lambda-Extension-Name", "shutdown-hook")], br#"{"events":[]}"#)
        .unwrap();
    assert_eq!(r.status, 403);
    assert!(r.body_str().contains("Extension.InvalidExtensionState"), "{}", r.body_str());
    let other = register(&mut c, "other");
    assert_ne!(other, id);
    assert_eq!(server.extensions_registered(), 2);

    assert!(server.wait_for_requests(4, WAIT));
    let statuses: Vec<(Route, Option<u16>)> = server.requests().into_iter().map(|r| (r.route, r.status)).collect();
    assert_eq!(statuses, [403, 200, 403, 200].map(|s| (Route::ExtensionRegister, Some(s))));
}

#[test]
fn extension_next_needs_a_registered_identifier() {
    let server = MockServer::start(Script::new()).unwrap();
    let mut c = Client::connect(server.addr());
    let unknown = "00000000-0000-4000-8000-000000000000";
    for (headers, error_type) in [
        (vec![], "Extension.MissingExtensionIdentifier"),
        (vec![("Lambda-Extension-Identifier", "not-a-uuid")], "Extension.InvalidExtensionIdentifier"),
        (vec![("Lambda-Extension-Identifier", unknown)], "Extension.UnknownExtensionIdentifier"),
    ] {
        let r = c.request("GET", EXTENSION_NEXT_PATH, &headers, b"").unwrap();
        assert_eq!(r.status, 403, "{error_type}");
        assert!(r.body_str().ends_with(&format!("\"errorType\":\"{error_type}\"}}\n")), "{}", r.body_str());
    }
    assert_eq!(server.outstanding_extension_next(), 0);
    assert!(server.wait_for_requests(3, WAIT));
    assert!(server.requests().iter().all(|r| (&r.route, r.status) == (&Route::ExtensionNext, Some(403))));
}

#[test]
fn shutdown_answers_the_parked_extension_next_and_sends_sigterm() {
    let server = MockServer::start(Script::new()).unwrap();
    let mut c = Client::connect(server.addr());
    let id = register(&mut c, "shutdown-hook");
    c.send_request("GET", EXTENSION_NEXT_PATH, &[("Lambda-Extension-Identifier", &id)], b"").unwrap();
    assert!(server.wait_until(WAIT, |reqs| reqs.iter().any(|r| r.route == Route::ExtensionNext)));
    assert_eq!(server.outstanding_extension_next(), 1);
    assert_eq!(server.requests()[1].status, None, "parked, not answered");

    let mut child = sleeper();
    let before = now_ms();
    let outcome = server.shutdown(child.id(), WAIT).unwrap();
    assert_eq!(outcome, ShutdownOutcome::Sigterm);
    assert_eq!(child.wait().unwrap().signal(), Some(libc::SIGTERM));

    let r = c.read_response().unwrap();
    assert_eq!(r.status, 200);
    let body = r.body_str();
    let deadline: u64 = body
        .strip_prefix("{\"eventType\":\"SHUTDOWN\",\"deadlineMs\":")
        .and_then(|rest| rest.strip_suffix(",\"shutdownReason\":\"spindown\"}"))
        .unwrap_or_else(|| panic!("not a SHUTDOWN event: {body}"))
        .parse()
        .unwrap();
    let phase = SHUTDOWN_PHASE.as_millis() as u64;
    assert!(deadline >= before + phase && deadline <= now_ms() + phase, "deadline {deadline}, before {before}");
    assert_eq!(server.outstanding_extension_next(), 0);
    // The parked request's record is completed in place.
    assert!(server.wait_until(WAIT, |reqs| reqs.len() == 2 && reqs[1].status == Some(200)));

    // After shutdown, an extension's /event/next gets SHUTDOWN at once.
    c.send_request("GET", EXTENSION_NEXT_PATH, &[("Lambda-Extension-Identifier", &id)], b"").unwrap();
    assert_eq!(c.read_response().unwrap().body_str(), body);
}

#[test]
fn shutdown_sends_sigkill_after_the_grace_when_sigterm_is_ignored() {
    let server = MockServer::start(Script::new()).unwrap();
    register(&mut Client::connect(server.addr()), "shutdown-hook");
    let mut child = stubborn_sleeper();
    let outcome = server.shutdown(child.id(), Duration::from_millis(500)).unwrap();
    assert_eq!(outcome, ShutdownOutcome::SigtermThenSigkill);
    assert_eq!(child.wait().unwrap().signal(), Some(libc::SIGKILL));
}

#[test]
fn shutdown_without_an_extension_sends_sigkill_at_once() {
    let server = MockServer::start(Script::new()).unwrap();
    let mut child = sleeper();
    assert_eq!(server.shutdown(child.id(), WAIT).unwrap(), ShutdownOutcome::Sigkill);
    assert_eq!(child.wait().unwrap().signal(), Some(libc::SIGKILL));
}

#[test]
fn shutdown_refuses_process_group_ids() {
    let server = MockServer::start(Script::new()).unwrap();
    for pid in [0, u32::MAX, 1 << 31] {
        let err = server.shutdown(pid, Duration::ZERO).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput, "{pid}");
    }
}

#[test]
fn the_cli_enforces_deadlines_on_request() {
    // --timeout-ms 0: the deadline is the moment /next replies; the answer comes later.
    let mut child = Command::new(env!("CARGO_BIN_EXE_mock-runtime-api"))
        .args(["--json", "{}", "--timeout-ms", "0", "--enforce-deadlines"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn mock-runtime-api");
    // Lines of its stdout, read on a thread so every wait is bounded.
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in stdout.lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let first = rx.recv_timeout(WAIT).expect("the API line");
    let api = first.strip_prefix("AWS_LAMBDA_RUNTIME_API=").expect("AWS_LAMBDA_RUNTIME_API=...");
    let mut c = Client::connect(api);
    let id = c.next().header("Lambda-Runtime-Aws-Request-Id").unwrap().to_owned();
    std::thread::sleep(Duration::from_millis(5)); // past the deadline, whatever the clock's resolution
    assert_eq!(c.post(&response_path(&id), b"late").status, 410);
    let answer = rx.recv_timeout(WAIT).expect("the answer line");
    // `<request-id> <kind> <status> <body posted>`
    assert_eq!(answer, format!("{id} response 410 late"));
    let _ = child.kill();
    let _ = child.wait();
}
