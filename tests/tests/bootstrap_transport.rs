//! The echo bootstraps' connection handling: reconnecting when the server closes or resets
//! the keep-alive connection, retrying a stale one exactly once, failing cleanly on a
//! connection that dies, waiting for slow replies, and never dying of SIGPIPE.

mod support;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpListener;
use std::os::unix::process::ExitStatusExt;
use std::time::{Duration, Instant};

use lambda_libc_mock::{Event, Fault, Framing, MockServer, Route, Script};
use support::{Bin, Exit, TIMEOUT, assert_response, assert_responses, echo_bootstraps, noise, summary};

fn ev(id: &str, body: impl Into<Vec<u8>>) -> Event {
    Event::json(body).request_id(id)
}

fn expect(pairs: &[(&str, &[u8])]) -> Vec<(String, Vec<u8>)> {
    pairs.iter().map(|(id, b)| (id.to_string(), b.to_vec())).collect()
}

/// The connection index of each `/next` and answer, in order, as `(route label, conn)`.
fn connections_of(server: &MockServer) -> Vec<(String, usize)> {
    server
        .requests()
        .iter()
        .map(|r| {
            let what = match &r.route {
                Route::Next => format!("next{}", r.event.map(|e| format!("#{e}")).unwrap_or_default()),
                Route::Response(id) => format!("response {id}"),
                Route::Error(id) => format!("error {id}"),
                other => format!("{other:?}"),
            };
            (what, r.connection)
        })
        .collect()
}

fn conns(list: &[(&str, usize)]) -> Vec<(String, usize)> {
    list.iter().map(|(w, c)| (w.to_string(), *c)).collect()
}

#[test]
fn reconnects_after_the_server_closes_the_connection_after_an_answer() {
    for bin in echo_bootstraps() {
        let (server, _) = bin.echo_run(Script::new().events([
            ev("a", "1").answer_fault(Fault::CloseAfterResponse),
            ev("b", "2").answer_fault(Fault::CloseAfterResponse),
            ev("c", "3"),
        ]));
        assert_responses(&bin, &server, &expect(&[("a", b"1"), ("b", b"2"), ("c", b"3")]));
        assert_eq!(
            connections_of(&server),
            conns(&[
                ("next#0", 0),
                ("response a", 0),
                ("next#1", 1),
                ("response b", 1),
                ("next#2", 2),
                ("response c", 2),
                ("next", 2)
            ]),
            "{bin}"
        );
    }
}

#[test]
fn reconnects_after_the_server_resets_the_connection_after_an_answer() {
    for bin in echo_bootstraps() {
        let (server, _) = bin.echo_run(Script::new().events([
            ev("a", "1").answer_fault(Fault::ResetAfterResponse),
            ev("b", "2").answer_fault(Fault::ResetAfterResponse),
            ev("c", "3"),
        ]));
        assert_responses(&bin, &server, &expect(&[("a", b"1"), ("b", b"2"), ("c", b"3")]));
        assert_eq!(server.connections(), 3, "{bin}: {}", summary(&server.requests()));
    }
}

/// The `/next` reply of event `a` and the answer reply of event `b` carry `fault`, which
/// ends the connection after the reply: each is followed by a new connection.
fn assert_reply_fault_ends_the_connection(fault: Fault) {
    for bin in echo_bootstraps() {
        let (server, _) = bin.echo_run(Script::new().events([
            ev("a", r#"{"v":"1"}"#).fault(fault.clone()),
            ev("b", "2").answer_fault(fault.clone()),
            ev("c", "3"),
        ]));
        assert_responses(&bin, &server, &expect(&[("a", br#"{"v":"1"}"#), ("b", b"2"), ("c", b"3")]));
        assert_eq!(
            connections_of(&server),
            conns(&[
                ("next#0", 0),
                ("response a", 1),
                ("next#1", 1),
                ("response b", 1),
                ("next#2", 2),
                ("response c", 2),
                ("next", 2)
            ]),
            "{bin} with {fault:?}"
        );
    }
}

#[test]
fn connection_close_replies_are_honoured() {
    assert_reply_fault_ends_the_connection(Fault::ConnectionClose);
}

#[test]
fn http10_replies_end_the_connection() {
    assert_reply_fault_ends_the_connection(Fault::Http10);
}

#[test]
fn close_delimited_bodies_are_read_to_the_end() {
    let big = noise(300_000, 7);
    for bin in echo_bootstraps() {
        let (server, _) = bin.echo_run(Script::new().events([
            ev("a", big.clone()).framing(Framing::CloseDelimited),
            ev("b", "").framing(Framing::CloseDelimited),
            ev("c", "3"),
        ]));
        assert_responses(&bin, &server, &expect(&[("a", &big), ("b", b""), ("c", b"3")]));
        assert_eq!(
            connections_of(&server),
            conns(&[
                ("next#0", 0),
                ("response a", 1),
                ("next#1", 1),
                ("response b", 2),
                ("next#2", 2),
                ("response c", 2),
                ("next", 2)
            ]),
            "{bin}"
        );
    }
}

#[test]
fn a_stale_connection_closed_at_next_is_retried_once_on_a_fresh_one() {
    for fault in [Fault::CloseBeforeResponse, Fault::ResetBeforeResponse] {
        for bin in echo_bootstraps() {
            // The mock counts the cut event as served: the retry gets the next one.
            let (server, _) =
                bin.echo_run(Script::new().events([ev("a", "1"), ev("lost", "x").fault(fault.clone()), ev("c", "3")]));
            assert_responses(&bin, &server, &expect(&[("a", b"1"), ("c", b"3")]));
            assert_eq!(
                connections_of(&server),
                conns(&[
                    ("next#0", 0),
                    ("response a", 0),
                    ("next#1", 0),
                    ("next#2", 1),
                    ("response c", 1),
                    ("next", 1)
                ]),
                "{bin}: {fault:?}"
            );
        }
    }
}

#[test]
fn a_stale_connection_closed_at_response_is_retried_once() {
    for bin in echo_bootstraps() {
        // The first /response dies before any reply byte; the retry on a fresh connection
        // reaches the mock. The mock (like RAPID) already counted the first as the answer
        // and says 400, which the runtime logs before carrying on; a mock that did not
        // count it would accept the retry (202) and the runtime would log nothing.
        let server = MockServer::start(
            Script::new().events([ev("a", "1").answer_fault(Fault::CloseBeforeResponse), ev("b", "2")]),
        )
        .unwrap();
        let exit = bin.run_to_idle(&server);
        let answers = server.answers();
        assert_eq!(answers.len(), 3, "{bin}: {}", summary(&server.requests()));
        assert_response_attempt(&bin, &answers[0].request, "a", b"1", None, 0);
        let retry_status = answers[1].status();
        assert_response_attempt(&bin, &answers[1].request, "a", b"1", retry_status, 1);
        assert_response(&bin, &answers[2], "b", b"2", "the next event");
        let lines = exit.diagnostics();
        match retry_status {
            Some(400) => {
                assert_eq!(lines.len(), 1, "{bin}: one line for the 400; stderr:\n{}", exit.stderr);
                assert!(lines[0].contains("/a/response: HTTP 400"), "{bin}: {}", lines[0]);
            }
            Some(202) => exit.assert_quiet(),
            other => panic!("{bin}: the mock answered the retry with {other:?}"),
        }
    }
}

fn assert_response_attempt(
    bin: &Bin,
    r: &lambda_libc_mock::Request,
    id: &str,
    body: &[u8],
    status: Option<u16>,
    conn: usize,
) {
    assert_eq!(r.route, Route::Response(id.into()), "{bin}");
    assert_eq!((r.body.as_slice(), r.status, r.connection), (body, status, conn), "{bin}: {r:?}");
}

#[test]
fn a_fresh_connection_that_dies_before_any_byte_is_fatal() {
    for fault in [Fault::CloseBeforeResponse, Fault::ResetBeforeResponse] {
        for bin in echo_bootstraps() {
            let (server, exit) =
                bin.run_to_exit(Script::new().events([ev("a", "1").fault(fault.clone()), ev("b", "2")]));
            exit.assert_failed("GET /2018-06-01/runtime/invocation/next: connection closed before a response");
            assert_eq!(server.connections(), 1, "{bin}: {fault:?}: no retry on a fresh connection");
            assert_eq!(server.requests().len(), 1, "{bin}: {}", summary(&server.requests()));
        }
    }
}

#[test]
fn the_stale_connection_retry_happens_only_once() {
    for bin in echo_bootstraps() {
        let (server, exit) = bin.run_to_exit(Script::new().events([
            ev("a", "1"),
            ev("b", "2").fault(Fault::CloseBeforeResponse),
            ev("c", "3").fault(Fault::CloseBeforeResponse),
            ev("d", "4"),
        ]));
        exit.assert_failed("GET /2018-06-01/runtime/invocation/next: connection closed before a response");
        assert_responses(&bin, &server, &expect(&[("a", b"1")]));
        assert_eq!(
            connections_of(&server),
            conns(&[("next#0", 0), ("response a", 0), ("next#1", 0), ("next#2", 1)]),
            "{bin}"
        );
    }
}

/// Checks a run that ended on a response cut short: exit 1 with the diagnostic, and
/// `answered` answers before it.
fn check_cut(bin: &Bin, exit: &Exit, server: &MockServer, answered: usize) {
    exit.assert_failed("GET /2018-06-01/runtime/invocation/next: connection closed in the middle of the response");
    assert_eq!(server.answers().len(), answered, "{bin}: {}", summary(&server.requests()));
}

#[test]
fn a_close_in_the_middle_of_the_response_is_fatal() {
    let body = noise(10_000, 9);
    for bin in echo_bootstraps() {
        // Inside the status line, the headers, and the body (Content-Length and chunked).
        for cut in [5, 40] {
            let (server, exit) = bin.run_to_exit(
                Script::new().events([ev("a", body.clone()).fault(Fault::CloseAfterBytes(cut)), ev("b", "2")]),
            );
            check_cut(&bin, &exit, &server, 0);
            assert_eq!(server.connections(), 1, "{bin}: no retry after part of a response");
        }
        let (server, exit) = bin.run_to_exit(
            Script::new().events([ev("a", body.clone()).fault(Fault::CloseAfterBytes(5000)), ev("b", "2")]),
        );
        check_cut(&bin, &exit, &server, 0);
        let (server, exit) = bin.run_to_exit(
            Script::new()
                .events([ev("a", body.clone()).chunked([1000]).fault(Fault::CloseAfterBytes(5000)), ev("b", "2")]),
        );
        check_cut(&bin, &exit, &server, 0);
        // On a reused connection: still no retry.
        let (server, exit) = bin.run_to_exit(Script::new().events([
            ev("a", "1"),
            ev("b", body.clone()).fault(Fault::CloseAfterBytes(3000)),
            ev("c", "3"),
        ]));
        check_cut(&bin, &exit, &server, 1);
        assert_eq!(server.connections(), 1, "{bin}: no retry after part of a response");
    }
}

#[test]
fn a_reset_in_the_middle_of_the_response_is_fatal() {
    let body = noise(10_000, 10);
    for bin in echo_bootstraps() {
        let (server, exit) = bin.run_to_exit(
            Script::new().events([ev("a", body.clone()).fault(Fault::ResetAfterBytes(3000)), ev("b", "2")]),
        );
        exit.assert_exit_1();
        let line = exit.assert_diagnostic("GET /2018-06-01/runtime/invocation/next: ");
        assert!(
            line.contains("receive failed (errno 104)")
                || line.contains("connection closed in the middle of the response"),
            "{bin}: {line}"
        );
        assert!(server.answers().is_empty(), "{bin}");
        assert_eq!(server.connections(), 1, "{bin}");
    }
}

#[test]
fn slow_replies_are_waited_for_without_a_timeout() {
    const SLOW: Duration = Duration::from_millis(1500);
    for bin in echo_bootstraps() {
        let (server, exit) = bin.echo_run(Script::new().events([
            ev("a", "1").fault(Fault::Delay(SLOW)),
            ev("b", "2").answer_fault(Fault::Delay(SLOW)),
            ev("c", "3"),
        ]));
        assert_responses(&bin, &server, &expect(&[("a", b"1"), ("b", b"2"), ("c", b"3")]));
        assert_eq!(server.connections(), 1, "{bin}: the slow replies came on the same connection");
        assert!(exit.elapsed >= 2 * SLOW, "{bin}: {:?}", exit.elapsed);
    }
}

/// Reads one request head (through the blank line) from `s`, bounded by the socket's read
/// timeout; returns it as text.
fn read_head(s: &mut std::net::TcpStream) -> String {
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match s.read(&mut b) {
            Ok(1) => head.push(b[0]),
            _ => break,
        }
    }
    String::from_utf8_lossy(&head).into_owned()
}

#[test]
fn a_reset_while_sending_a_large_response_is_not_a_sigpipe() {
    const SIZE: usize = 6_291_556;
    let event = noise(SIZE, 11);
    for bin in echo_bootstraps() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        // A small receive buffer, inherited by accepted sockets, keeps the runtime's send
        // blocked when the reset comes.
        socket2::SockRef::from(&listener).set_recv_buffer_size(4096).unwrap();
        listener.set_nonblocking(true).unwrap();
        let api = listener.local_addr().unwrap().to_string();
        let mut proc = bin.spawn(&api);
        let deadline = Instant::now() + TIMEOUT;
        let mut posts = 0;
        let mut nexts = 0;
        while !proc.exited() && Instant::now() < deadline {
            let mut s = match listener.accept() {
                Ok((s, _)) => s,
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    std::thread::sleep(Duration::from_millis(2));
                    continue;
                }
                Err(e) => panic!("accept: {e}"),
            };
            s.set_nonblocking(false).unwrap();
            s.set_read_timeout(Some(TIMEOUT)).unwrap();
            s.set_write_timeout(Some(TIMEOUT)).unwrap();
            loop {
                let head = read_head(&mut s);
                if head.starts_with("GET /2018-06-01/runtime/invocation/next ") && nexts == 0 {
                    nexts += 1;
                    let reply = format!(
                        "HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: big\r\nContent-Length: {SIZE}\r\n\r\n"
                    );
                    s.write_all(reply.as_bytes()).unwrap();
                    s.write_all(&event).unwrap();
                    continue;
                }
                if head.starts_with("POST /2018-06-01/runtime/invocation/big/response ") {
                    posts += 1;
                    let mut some = vec![0u8; 64 * 1024];
                    let _ = s.read_exact(&mut some);
                    socket2::SockRef::from(&s).set_linger(Some(Duration::ZERO)).unwrap();
                }
                // Anything else (a second /next, or nothing): drop the connection.
                break;
            }
            drop(s);
        }
        let exit = proc.wait();
        assert_eq!(
            exit.status.signal(),
            None,
            "{bin}: killed by a signal ({:?}); stderr:\n{}",
            exit.status,
            exit.stderr
        );
        assert_eq!(exit.status.code(), Some(1), "{bin}: stderr:\n{}", exit.stderr);
        let line = exit.assert_diagnostic("POST /2018-06-01/runtime/invocation/big/response: ");
        assert!(line.contains("send failed") || line.contains("connection closed before a response"), "{bin}: {line}");
        assert_eq!((nexts, posts), (1, 2), "{bin}: one /next, the /response and its one retry");
    }
}
