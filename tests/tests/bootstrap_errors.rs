//! The echo bootstraps on bad input: every malformed `/next` response ends the process
//! (status 1, one diagnostic line, nothing answered), an oversized event is reported to
//! `/error` and skipped, and error statuses from the Runtime API are logged or fatal as the
//! API asks.

mod support;

use std::time::Duration;

use lambda_libc_mock::{AnswerKind, Chunked, Event, Fault, Framing, Reply, Route, Script};
use support::{assert_error, assert_response, echo_bootstraps, noise, padded_head, summary};

const NEXT: &str = "GET /2018-06-01/runtime/invocation/next: ";

fn ev(id: &str, body: impl Into<Vec<u8>>) -> Event {
    Event::json(body).request_id(id)
}

/// An event whose `/next` reply is replaced by `bytes` (then the mock closes).
fn raw(bytes: &[u8]) -> Event {
    ev("raw", "{}").fault(Fault::Raw(bytes.to_vec()))
}

/// Every echo bootstrap, served `event` first: exits 1 within seconds with a diagnostic
/// containing `fragment`, after exactly one request (that `/next`), answering nothing.
fn assert_rejected(event: Event, fragment: &str) {
    for bin in echo_bootstraps() {
        let (server, exit) = bin.run_to_exit(Script::new().event(event.clone()).event(ev("after", "x")));
        exit.assert_failed(fragment);
        let reqs = server.requests();
        assert!(server.answers().is_empty(), "{bin}: answered a malformed event:\n{}", summary(&reqs));
        assert_eq!(reqs.len(), 1, "{bin}: one /next and nothing else:\n{}", summary(&reqs));
        assert_eq!(reqs[0].route, Route::Next, "{bin}");
        assert!(exit.elapsed < Duration::from_secs(5), "{bin}: took {:?}", exit.elapsed);
    }
}

fn next_error(problem: &str) -> String {
    format!("{NEXT}{problem}")
}

#[test]
fn malformed_status_lines() {
    for line in
        ["HTTP/1.1 2x0 OK", "HTTP/2 200 OK", "HTTP/1.1 20 OK", "http/1.1 200 OK", "ICY 200 OK", "HTTP/1.1  200 OK"]
    {
        let bytes = format!("{line}\r\nLambda-Runtime-Aws-Request-Id: raw\r\nContent-Length: 2\r\n\r\n{{}}");
        assert_rejected(raw(bytes.as_bytes()), &next_error("malformed status line"));
    }
}

#[test]
fn header_line_without_a_colon() {
    assert_rejected(
        raw(b"HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: raw\r\nNo-Colon-Here\r\nContent-Length: 2\r\n\r\n{}"),
        &next_error("malformed header line"),
    );
}

#[test]
fn obsolete_line_folding() {
    assert_rejected(
        raw(b"HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: raw\r\nX-Folded: a\r\n  continued\r\nContent-Length: 2\r\n\r\n{}"),
        &next_error("malformed header line"),
    );
}

#[test]
fn header_with_a_bare_lf_or_control_character() {
    assert_rejected(
        raw(b"HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: raw\nContent-Length: 2\r\n\r\n{}"),
        &next_error("malformed header line"),
    );
    assert_rejected(
        raw(b"HTTP/1.1 200 OK\r\nX-Ctl: a\x01b\r\nContent-Length: 2\r\n\r\n{}"),
        &next_error("malformed header line"),
    );
}

#[test]
fn header_block_over_64_kib() {
    assert_rejected(raw(&padded_head("raw", 65537)), &next_error("header block over 65536 bytes"));
    // A head that never ends.
    let mut endless = b"HTTP/1.1 200 OK\r\n".to_vec();
    for i in 0..5000 {
        endless.extend_from_slice(format!("X-Header-{i}: {}\r\n", "v".repeat(20)).as_bytes());
    }
    assert_rejected(raw(&endless), &next_error("header block over 65536 bytes"));
}

#[test]
fn bad_chunk_size() {
    for size in ["zz", "-1", "", "1 2", "0x10"] {
        let bytes = format!(
            "HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: raw\r\nTransfer-Encoding: chunked\r\n\r\n{size}\r\nab\r\n0\r\n\r\n"
        );
        assert_rejected(raw(bytes.as_bytes()), &next_error("malformed chunk size"));
    }
}

#[test]
fn chunk_sizes_that_would_overflow_64_bits_are_over_the_read_limit() {
    // Refused at the digit that takes the size past 32 MiB, long before 64 bits.
    for size in ["10000000000000000", "ffffffffffffffff0", "000000000000000000010000000000000000"] {
        let bytes = format!(
            "HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: raw\r\nTransfer-Encoding: chunked\r\n\r\n{size}\r\nab\r\n0\r\n\r\n"
        );
        assert_rejected(raw(bytes.as_bytes()), &next_error("body over 33554432 bytes"));
    }
}

#[test]
fn missing_crlf_after_chunk_data() {
    assert_rejected(
        raw(b"HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: raw\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n"),
        &next_error("malformed chunk framing"),
    );
    assert_rejected(
        raw(b"HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: raw\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\n0\r\n\r\n"),
        &next_error("malformed chunk framing"),
    );
}

#[test]
fn content_length_with_a_non_digit() {
    for value in ["1x", "-1", "+2", "0x2", "2 2", ""] {
        let bytes =
            format!("HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: raw\r\nContent-Length: {value}\r\n\r\n{{}}");
        assert_rejected(raw(bytes.as_bytes()), &next_error("malformed Content-Length"));
    }
}

#[test]
fn content_length_overflowing_64_bits() {
    assert_rejected(
        raw(b"HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: raw\r\nContent-Length: 18446744073709551616\r\n\r\n{}"),
        &next_error("malformed Content-Length"),
    );
}

#[test]
fn two_different_content_lengths() {
    assert_rejected(ev("two-cl", "{}").append_header("Content-Length", "3"), &next_error("malformed Content-Length"));
}

#[test]
fn content_length_and_transfer_encoding() {
    assert_rejected(
        ev("cl-te", "{}").chunked([1]).append_header("Content-Length", "2"),
        &next_error("both Content-Length and Transfer-Encoding"),
    );
}

#[test]
fn unsupported_transfer_encoding() {
    for te in ["gzip", "gzip, chunked", "chunked, gzip", "identity"] {
        let bytes = format!(
            "HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: raw\r\nTransfer-Encoding: {te}\r\n\r\n2\r\n{{}}\r\n0\r\n\r\n"
        );
        assert_rejected(raw(bytes.as_bytes()), &next_error("unsupported Transfer-Encoding"));
    }
}

#[test]
fn truncated_bodies() {
    assert_rejected(
        raw(b"HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: raw\r\nContent-Length: 100\r\n\r\n{\"only\":\"part\"}"),
        &next_error("connection closed in the middle of the response"),
    );
    assert_rejected(
        raw(b"HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: raw\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"),
        &next_error("connection closed in the middle of the response"),
    );
    assert_rejected(
        raw(b"HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: raw\r\nContent-Length: 2\r\n"),
        &next_error("connection closed in the middle of the response"),
    );
}

#[test]
fn extra_bytes_after_the_body() {
    assert_rejected(
        raw(b"HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: raw\r\nContent-Length: 2\r\n\r\n{}EXTRA"),
        &next_error("unexpected bytes after the response"),
    );
    assert_rejected(
        raw(b"HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: raw\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\nHTTP/1.1 200 OK\r\n"),
        &next_error("unexpected bytes after the response"),
    );
}

const BAD_ID: &str = "GET /next: missing or malformed Lambda-Runtime-Aws-Request-Id";

#[test]
fn missing_request_id() {
    assert_rejected(ev("gone", "{}").remove_header("Lambda-Runtime-Aws-Request-Id"), BAD_ID);
    assert_rejected(ev("empty", "{}").header("Lambda-Runtime-Aws-Request-Id", ""), BAD_ID);
}

#[test]
fn request_id_that_cannot_go_in_a_url() {
    for id in ["a/b", "a b", "a?b", "a#b", "a%2Fb", "caf\u{e9}", "../next"] {
        assert_rejected(ev(id, "{}"), BAD_ID);
    }
}

// ---- Events over the 6,291,556-byte limit ----

const TOO_LARGE: usize = 6_291_557;

/// Every echo bootstrap: `big` is reported as `Runtime.EventTooLarge` and the next event
/// is answered normally.
fn assert_too_large(big: Event, size: usize) {
    for bin in echo_bootstraps() {
        let (server, _) = bin.echo_run(Script::new().event(big.clone().request_id("big")).event(ev("next", "after")));
        let answers = server.answers();
        assert_eq!(answers.len(), 2, "{bin}: {}", summary(&server.requests()));
        let v = assert_error(&bin, &answers[0], "big", "Runtime.EventTooLarge");
        let msg = v["errorMessage"].as_str().unwrap();
        assert!(msg.contains("6291556"), "{bin}: the message names the limit: {msg}");
        assert!(!msg.is_empty() && size > 6_291_556);
        assert_eq!(answers[0].status(), Some(202), "{bin}");
        assert_response(&bin, &answers[1], "next", b"after", "the event after the oversized one");
        assert_eq!(server.connections(), 1, "{bin}: the oversized body was drained, the connection kept");
    }
}

#[test]
fn an_event_one_byte_too_large_with_content_length() {
    assert_too_large(Event::json(noise(TOO_LARGE, 30)), TOO_LARGE);
}

#[test]
fn an_event_one_byte_too_large_chunked() {
    assert_too_large(Event::json(noise(TOO_LARGE, 31)).framing(Framing::Chunked(Chunked::sizes([]))), TOO_LARGE);
    assert_too_large(Event::json(noise(TOO_LARGE, 32)).chunked([32 * 1024]), TOO_LARGE);
}

#[test]
fn a_much_larger_event() {
    const SIXTEEN_MIB: usize = 16 << 20;
    assert_too_large(Event::json(noise(SIXTEEN_MIB, 33)).chunked([1 << 20]), SIXTEEN_MIB);
}

// ---- Bodies over the 32 MiB the runtime reads at most (`http::MAX_BODY`) ----

/// The most body bytes the runtime reads, declared or received: an event up to this size
/// is drained and reported, a larger one is a malformed response (docs/design.md, "Limits").
const MAX_BODY: usize = 32 << 20;

#[test]
fn an_event_at_the_read_limit_is_drained_and_reported() {
    assert_too_large(Event::json(noise(MAX_BODY, 35)), MAX_BODY);
    assert_too_large(Event::json(noise(MAX_BODY, 36)).chunked([1 << 20]), MAX_BODY);
}

#[test]
fn a_declared_size_over_the_read_limit_is_fatal_at_once() {
    // Only the head is sent, then the mock closes: a runtime that read on would report the
    // connection closed in the middle instead.
    for length in [(MAX_BODY + 1).to_string(), u64::MAX.to_string()] {
        let head = format!("HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: raw\r\nContent-Length: {length}\r\n\r\n");
        assert_rejected(raw(head.as_bytes()), &next_error("body over 33554432 bytes"));
    }
}

#[test]
fn a_chunk_size_over_the_read_limit_is_fatal_at_once() {
    let head = "HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: raw\r\nTransfer-Encoding: chunked\r\n\r\n";
    // Only the size line is sent, then the mock closes: a runtime that read on would report
    // the connection closed in the middle instead.
    let raw_bytes = format!("{head}{:x}\r\n", MAX_BODY + 1);
    assert_rejected(raw(raw_bytes.as_bytes()), &next_error("body over 33554432 bytes"));
    // Chunks within the limit each, over it together: refused at the size that crosses it.
    let mut two = format!("{head}{:x}\r\n", MAX_BODY / 2).into_bytes();
    two.extend(noise(MAX_BODY / 2, 37));
    two.extend(format!("\r\n{:x}\r\n", MAX_BODY / 2 + 1).into_bytes());
    assert_rejected(raw(&two), &next_error("body over 33554432 bytes"));
}

#[test]
fn the_too_large_error_echoes_the_invocation_id() {
    for bin in echo_bootstraps() {
        let (server, _) = bin.echo_run(
            Script::new().event(Event::json(noise(TOO_LARGE, 34)).request_id("big").invocation_id("inv-big-1")),
        );
        let answers = server.answers();
        assert_eq!(answers.len(), 1, "{bin}");
        assert_error(&bin, &answers[0], "big", "Runtime.EventTooLarge");
        assert_eq!(answers[0].header("Lambda-Runtime-Invocation-Id"), Some("inv-big-1"), "{bin}");
    }
}

// ---- Error statuses from the Runtime API ----

#[test]
fn client_error_statuses_on_response_are_logged_and_the_runtime_carries_on() {
    // Any status below 500 but 2xx is logged (302: neither a success nor a server error).
    for status in [302, 400, 403, 410, 413] {
        for bin in echo_bootstraps() {
            let server = lambda_libc_mock::MockServer::start(
                Script::new().events([ev("a", "1").answer_status(status), ev("b", "2")]),
            )
            .unwrap();
            let exit = bin.run_to_idle(&server);
            let answers = server.answers();
            assert_eq!(
                answers.len(),
                2,
                "{bin}: {status}: no retry, no /error; requests:\n{}",
                summary(&server.requests())
            );
            assert_eq!(
                (answers[0].kind, answers[0].request_id.as_str(), answers[0].status()),
                (AnswerKind::Response, "a", Some(status)),
                "{bin}"
            );
            assert_response(&bin, &answers[1], "b", b"2", &format!("after a {status}"));
            let line =
                exit.assert_diagnostic(&format!("POST /2018-06-01/runtime/invocation/a/response: HTTP {status}"));
            let expected_body = String::from_utf8_lossy(Reply::for_status(status).body()).trim_end().to_owned();
            assert!(line.contains(&expected_body), "{bin}: the line quotes the reply body: {line}");
        }
    }
}

#[test]
fn a_status_diagnostic_is_exactly_one_line() {
    // RAPID's error bodies end with a newline (Go's json.Encoder); quoting one must not
    // add an empty line (or any line) to the log.
    for bin in echo_bootstraps() {
        let server =
            lambda_libc_mock::MockServer::start(Script::new().events([ev("a", "1").answer_status(413), ev("b", "2")]))
                .unwrap();
        let exit = bin.run_to_idle(&server);
        exit.assert_diagnostic("POST /2018-06-01/runtime/invocation/a/response: HTTP 413");
        assert_eq!(exit.stderr.lines().count(), 1, "{bin}: exactly one stderr line, got {:?}", exit.stderr);
        let (server, exit) = bin.run_to_exit(Script::new().events([
            ev("a", "1").fault(Fault::Reply(Reply::new(500, "text/plain; charset=utf-8", "line one\nline two\r\n"))),
            ev("b", "2"),
        ]));
        exit.assert_failed(&format!("{NEXT}HTTP 500"));
        assert_eq!(exit.stderr.lines().count(), 1, "{bin}: exactly one stderr line, got {:?}", exit.stderr);
        drop(server);
    }
}

#[test]
fn a_server_error_on_response_is_fatal() {
    for bin in echo_bootstraps() {
        let (server, exit) = bin.run_to_exit(Script::new().events([ev("a", "1").answer_status(500), ev("b", "2")]));
        exit.assert_failed("POST /2018-06-01/runtime/invocation/a/response: HTTP 500");
        let answers = server.answers();
        assert_eq!(answers.len(), 1, "{bin}: {}", summary(&server.requests()));
        assert_eq!(server.requests().len(), 2, "{bin}: nothing after the 500");
    }
}

#[test]
fn a_server_error_on_error_is_fatal() {
    for bin in echo_bootstraps() {
        let (server, exit) = bin.run_to_exit(
            Script::new()
                .events([Event::json(noise(TOO_LARGE, 35)).request_id("big").answer_status(500), ev("b", "2")]),
        );
        exit.assert_failed("POST /2018-06-01/runtime/invocation/big/error: HTTP 500");
        assert_eq!(server.requests().len(), 2, "{bin}: {}", summary(&server.requests()));
    }
}

#[test]
fn a_gone_status_on_error_is_logged_and_the_runtime_carries_on() {
    for bin in echo_bootstraps() {
        let server = lambda_libc_mock::MockServer::start(
            Script::new()
                .events([Event::json(noise(TOO_LARGE, 36)).request_id("big").answer_status(410), ev("b", "2")]),
        )
        .unwrap();
        let exit = bin.run_to_idle(&server);
        let answers = server.answers();
        assert_eq!(answers.len(), 2, "{bin}: {}", summary(&server.requests()));
        assert_error(&bin, &answers[0], "big", "Runtime.EventTooLarge");
        assert_response(&bin, &answers[1], "b", b"2", "after a 410");
        exit.assert_diagnostic("POST /2018-06-01/runtime/invocation/big/error: HTTP 410");
    }
}

#[test]
fn non_200_statuses_on_next_are_fatal() {
    for status in [500, 403, 404, 204, 202] {
        for bin in echo_bootstraps() {
            let (server, exit) = bin.run_to_exit(
                Script::new().events([ev("a", "1").fault(Fault::Reply(Reply::for_status(status))), ev("b", "2")]),
            );
            exit.assert_failed(&format!("{NEXT}HTTP {status}"));
            assert_eq!(server.requests().len(), 1, "{bin}: {status}: {}", summary(&server.requests()));
        }
    }
}

#[test]
fn a_500_on_next_after_invocations_is_fatal() {
    for bin in echo_bootstraps() {
        let (server, exit) = bin.run_to_exit(
            Script::new()
                .events([ev("a", "1"), ev("b", "2")])
                .when_exhausted(lambda_libc_mock::Exhausted::Reply(Reply::for_status(500))),
        );
        exit.assert_failed(&format!("{NEXT}HTTP 500"));
        assert_eq!(server.answers().len(), 2, "{bin}");
        assert_eq!(server.requests().len(), 5, "{bin}: {}", summary(&server.requests()));
    }
}
