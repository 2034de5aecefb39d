//! The mock's ordinary behaviour, checked with a raw TcpStream client.

mod common;
mod tools;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::{Client, NEXT, error_path, response_path};
use lambda_libc_mock::{
    ACCEPTED_BODY, AnswerKind, DEFAULT_FUNCTION_ARN, EXAMPLE_CLIENT_CONTEXT, EXAMPLE_COGNITO_IDENTITY,
    EXAMPLE_TENANT_ID, Event, Exhausted, INVALID_REQUEST_ID_BODY, INVALID_RESPONSE_MODE_BODY, MAX_PAYLOAD_SIZE,
    MockServer, Reply, Route, Script, TOO_LARGE_BODY, default_request_id, default_trace_id,
};

const WAIT: Duration = Duration::from_secs(10);

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as u64
}

#[test]
fn next_renders_the_invoke_headers_like_rapid() {
    let server = MockServer::start(Script::new().event(Event::json(r#"{"a":1}"#))).unwrap();
    assert!(server.runtime_api().starts_with("127.0.0.1:"));
    let mut c = Client::connect(server.addr());
    let before = now_ms();
    let r = c.next();
    assert_eq!(r.version, "HTTP/1.1");
    assert_eq!(r.status, 200);
    assert_eq!(r.body, br#"{"a":1}"#);
    assert_eq!(r.header("content-length"), Some("7"));
    assert_eq!(r.header("transfer-encoding"), None);
    assert_eq!(r.header("Content-Type"), Some("application/json"));
    assert_eq!(r.header("Lambda-Runtime-Aws-Request-Id"), Some(default_request_id(0).as_str()));
    assert_eq!(r.header("Lambda-Runtime-Invoked-Function-Arn"), Some(DEFAULT_FUNCTION_ARN));
    assert_eq!(r.header("Lambda-Runtime-Trace-Id"), Some(default_trace_id(0).as_str()));
    let deadline: u64 = r.header("Lambda-Runtime-Deadline-Ms").unwrap().parse().unwrap();
    assert!(
        deadline >= before + 3000 && deadline <= now_ms() + 3000,
        "deadline {deadline} not now+3000 (before {before})"
    );
    for absent in [
        "Lambda-Runtime-Client-Context",
        "Lambda-Runtime-Cognito-Identity",
        "Lambda-Runtime-Aws-Tenant-Id",
        "Lambda-Runtime-Invocation-Id",
    ] {
        assert_eq!(r.header(absent), None, "{absent} must be omitted when empty");
    }
    // Go's order: handler headers sorted by name, then Date, then Content-Length.
    let names: Vec<&str> = r.headers.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "Content-Type",
            "Lambda-Runtime-Aws-Request-Id",
            "Lambda-Runtime-Deadline-Ms",
            "Lambda-Runtime-Invoked-Function-Arn",
            "Lambda-Runtime-Trace-Id",
            "Date",
            "Content-Length"
        ]
    );
    // The record carries the reply headers the runtime saw.
    assert!(server.wait_for_requests(1, WAIT));
    let rec = &server.requests()[0];
    assert_eq!(rec.route, Route::Next);
    assert_eq!(rec.event, Some(0));
    assert_eq!(rec.status, Some(200));
    assert_eq!(rec.response_header("Lambda-Runtime-Deadline-Ms"), r.header("Lambda-Runtime-Deadline-Ms"));
    assert_eq!(rec.header("host"), Some(server.runtime_api().as_str()));
}

#[test]
fn optional_context_headers_and_overrides() {
    let script = Script::new()
        .function_arn("arn:aws:lambda:eu-west-1:000000000000:function:f:live")
        .timeout(Duration::from_secs(900))
        .event(Event::json(b"{}").request_id("id-ctx").with_all_context().content_type("application/octet-stream"))
        .event(
            Event::json(b"{}")
                .request_id("id-2")
                .deadline_ms(1234)
                .trace_id("Root=1-x")
                .function_arn("arn:other")
                .remove_header("lambda-runtime-aws-request-id")
                .header("X-Extra", "1")
                .append_header("X-Extra", "2")
                .header("content-type", "text/plain"),
        );
    let server = MockServer::start(script).unwrap();
    let mut c = Client::connect(server.addr());
    let before = now_ms();
    let r = c.next();
    assert_eq!(r.header("Lambda-Runtime-Aws-Request-Id"), Some("id-ctx"));
    assert_eq!(r.header("Lambda-Runtime-Client-Context"), Some(EXAMPLE_CLIENT_CONTEXT));
    assert_eq!(r.header("Lambda-Runtime-Cognito-Identity"), Some(EXAMPLE_COGNITO_IDENTITY));
    assert_eq!(r.header("Lambda-Runtime-Aws-Tenant-Id"), Some(EXAMPLE_TENANT_ID));
    assert_eq!(r.header("Lambda-Runtime-Invocation-Id"), Some("inv-id-ctx"));
    assert_eq!(r.header("Content-Type"), Some("application/octet-stream"));
    assert_eq!(
        r.header("Lambda-Runtime-Invoked-Function-Arn"),
        Some("arn:aws:lambda:eu-west-1:000000000000:function:f:live")
    );
    let deadline: u64 = r.header("Lambda-Runtime-Deadline-Ms").unwrap().parse().unwrap();
    assert!(deadline >= before + 900_000 && deadline <= now_ms() + 900_000);

    let r = c.next();
    assert_eq!(r.header("Lambda-Runtime-Aws-Request-Id"), None);
    assert_eq!(r.header("Lambda-Runtime-Deadline-Ms"), Some("1234"));
    assert_eq!(r.header("Lambda-Runtime-Trace-Id"), Some("Root=1-x"));
    assert_eq!(r.header("Lambda-Runtime-Invoked-Function-Arn"), Some("arn:other"));
    assert_eq!(r.header_count("x-extra"), 2);
    assert_eq!(r.header_count("content-type"), 1);
    assert_eq!(r.header("Content-Type"), Some("text/plain"));
    // The id still answers, even though the runtime never saw it.
    assert_eq!(c.post(&response_path("id-2"), b"x").status, 202);
}

#[test]
fn keep_alive_serves_a_whole_session_on_one_connection() {
    let script = Script::new().event(Event::json(b"1").request_id("a")).event(Event::json(b"2").request_id("b"));
    let server = MockServer::start(script).unwrap();
    let mut c = Client::connect(server.addr());
    assert_eq!(c.next().body, b"1");
    let ok = c.post(&response_path("a"), b"result-a");
    assert_eq!(ok.status, 202);
    assert_eq!(ok.body, ACCEPTED_BODY.as_bytes());
    assert_eq!(ok.header("Content-Type"), Some("application/json"));
    assert_eq!(c.next().body, b"2");
    let err = c
        .request(
            "POST",
            &error_path("b"),
            &[
                ("Content-Type", "application/vnd.aws.lambda.error+json"),
                ("Lambda-Runtime-Function-Error-Type", "Function.Boom"),
            ],
            br#"{"errorMessage":"boom","errorType":"Boom"}"#,
        )
        .unwrap();
    assert_eq!(err.status, 202);
    assert!(server.wait_for_answers(2, WAIT));
    assert_eq!(server.connections(), 1);
    assert_eq!(server.served(), 2);
    let answers = server.answers();
    assert_eq!(answers.len(), 2);
    assert_eq!(answers[0].kind, AnswerKind::Response);
    assert_eq!(answers[0].request_id, "a");
    assert_eq!(answers[0].event, Some(0));
    assert_eq!(answers[0].body(), b"result-a");
    assert_eq!(answers[0].status(), Some(202));
    assert_eq!(answers[1].kind, AnswerKind::Error);
    assert_eq!(answers[1].event, Some(1));
    assert_eq!(answers[1].header("lambda-runtime-function-error-type"), Some("Function.Boom"));
    assert!(server.requests().iter().all(|r| r.connection == 0));
    assert_eq!(server.requests().len(), 4);
}

#[test]
fn answers_may_come_on_other_connections() {
    let server = MockServer::start(Script::new().event(Event::json(b"1").request_id("a"))).unwrap();
    Client::connect(server.addr()).next();
    let mut c2 = Client::connect(server.addr());
    assert_eq!(c2.post(&response_path("a"), b"ok").status, 202);
    assert!(server.wait_for_answers(1, WAIT));
    assert_eq!(server.connections(), 2);
    let reqs = server.requests();
    assert_eq!((reqs[0].connection, reqs[1].connection), (0, 1));
}

#[test]
fn unknown_or_repeated_ids_get_400_invalid_request_id() {
    let server = MockServer::start(Script::new().event(Event::json(b"1").request_id("a"))).unwrap();
    let mut c = Client::connect(server.addr());
    let r = c.post(&response_path("nope"), b"x");
    assert_eq!(r.status, 400);
    assert_eq!(r.body, INVALID_REQUEST_ID_BODY.as_bytes());
    // Not served yet: still unknown.
    assert_eq!(c.post(&response_path("a"), b"x").status, 400);
    c.next();
    assert_eq!(c.post(&response_path("a"), b"x").status, 202);
    let again = c.post(&error_path("a"), b"x");
    assert_eq!(again.status, 400);
    assert_eq!(again.body, INVALID_REQUEST_ID_BODY.as_bytes());
    assert!(server.wait_for_answers(4, WAIT));
    let events: Vec<_> = server.answers().iter().map(|a| a.event).collect();
    assert_eq!(events, [None, None, Some(0), Some(0)]);
}

#[test]
fn oversized_buffered_response_gets_the_exact_413() {
    let script = Script::new()
        .event(Event::json(b"1").request_id("big"))
        .event(Event::json(b"2").request_id("max"))
        .event(Event::json(b"3").request_id("stream"));
    let server = MockServer::start(script).unwrap();
    let mut c = Client::connect(server.addr());
    c.next();
    let r = c.post(&response_path("big"), &vec![b'x'; MAX_PAYLOAD_SIZE + 1]);
    assert_eq!(r.status, 413);
    assert_eq!(
        r.body,
        b"{\"errorMessage\":\"Exceeded maximum allowed payload size (6291556 bytes).\",\"errorType\":\"RequestEntityTooLarge\"}\n"
    );
    assert_eq!(r.body, TOO_LARGE_BODY.as_bytes());
    assert_eq!(r.header("content-type"), Some("application/json"));
    // Exactly the limit is fine, and the connection survived the 413.
    c.next();
    assert_eq!(c.post(&response_path("max"), &vec![b'x'; MAX_PAYLOAD_SIZE]).status, 202);
    // Streaming responses are not held to the buffered limit.
    c.next();
    let r = c
        .request(
            "POST",
            &response_path("stream"),
            &[("Lambda-Runtime-Function-Response-Mode", "streaming")],
            &vec![b'x'; MAX_PAYLOAD_SIZE + 1],
        )
        .unwrap();
    assert_eq!(r.status, 202);
    assert!(server.wait_for_answers(3, WAIT));
    assert_eq!(server.answers()[0].body().len(), MAX_PAYLOAD_SIZE + 1);
    assert_eq!(server.connections(), 1);
}

#[test]
fn invalid_response_mode_is_rejected() {
    let server = MockServer::start(Script::new().event(Event::json(b"1").request_id("a"))).unwrap();
    let mut c = Client::connect(server.addr());
    c.next();
    let r =
        c.request("POST", &response_path("a"), &[("Lambda-Runtime-Function-Response-Mode", "buffered")], b"x").unwrap();
    assert_eq!(r.status, 400);
    assert_eq!(r.body, INVALID_RESPONSE_MODE_BODY.as_bytes());
}

#[test]
fn chunked_streaming_response_with_trailers_is_recorded() {
    let server = MockServer::start(Script::new().event(Event::json(b"1").request_id("s"))).unwrap();
    let mut c = Client::connect(server.addr());
    c.next();
    let host = server.runtime_api();
    let req = format!(
        "POST {} HTTP/1.1\r\nHost: {host}\r\nLambda-Runtime-Function-Response-Mode: streaming\r\n\
         Transfer-Encoding: chunked\r\nTrailer: Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body\r\n\
         Content-Type: application/octet-stream\r\n\r\n\
         5\r\nhello\r\n1;ext=1\r\n \r\n6\r\nworld!\r\n0\r\n\
         Lambda-Runtime-Function-Error-Type: Function.Mid\r\nLambda-Runtime-Function-Error-Body: eyJ9\r\n\r\n",
        response_path("s")
    );
    c.send(req.as_bytes()).unwrap();
    let r = c.read_response().unwrap();
    assert_eq!(r.status, 202);
    assert!(server.wait_for_answers(1, WAIT));
    let a = &server.answers()[0];
    assert!(a.request.chunked);
    assert_eq!(a.body(), b"hello world!");
    assert_eq!(a.request.chunks, [5, 1, 6]);
    assert_eq!(a.request.trailer("lambda-runtime-function-error-type"), Some("Function.Mid"));
    assert_eq!(a.request.trailers.len(), 2);
    assert_eq!(a.request.trailers[1].1, "eyJ9");
    // Keep-alive still works after a chunked request.
    assert_eq!(c.request("GET", "/nothing", &[], b"").unwrap().status, 404);
}

#[test]
fn expect_100_continue_is_honoured() {
    let server = MockServer::start(Script::new().event(Event::json(b"1").request_id("a"))).unwrap();
    let mut c = Client::connect(server.addr());
    c.next();
    let host = server.runtime_api();
    let head = format!(
        "POST {} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n",
        response_path("a")
    );
    c.send(head.as_bytes()).unwrap();
    let mut buf = [0u8; 25];
    std::io::Read::read_exact(&mut c.stream, &mut buf).unwrap();
    assert_eq!(&buf, b"HTTP/1.1 100 Continue\r\n\r\n");
    c.send(b"abc").unwrap();
    let r = c.read_response().unwrap();
    assert_eq!(r.status, 202);
}

#[test]
fn init_error_and_unknown_paths() {
    let server = MockServer::start(Script::new()).unwrap();
    let mut c = Client::connect(server.addr());
    let r = c
        .request(
            "POST",
            "/2018-06-01/runtime/init/error",
            &[("Lambda-Runtime-Function-Error-Type", "Runtime.InitError")],
            br#"{"errorMessage":"no","errorType":"InitError"}"#,
        )
        .unwrap();
    assert_eq!(r.status, 202);
    assert_eq!(r.body, ACCEPTED_BODY.as_bytes());
    for (method, path) in [
        ("GET", "/2018-06-01/runtime/invocation/nextx"),
        ("POST", NEXT),
        ("GET", "/runtime/invocation/next"),
        ("GET", "/2018-06-01/runtime/init/error"),
        ("POST", "/2018-06-01/runtime/invocation//response"),
        ("POST", "/2018-06-01/runtime/invocation/a/b/response"),
        ("PUT", "/2018-06-01/runtime/invocation/a/response"),
    ] {
        let r = c.request(method, path, &[], b"").unwrap();
        assert_eq!(r.status, 404, "{method} {path}");
        assert_eq!(r.body, b"404 page not found\n");
    }
    assert!(server.wait_for_requests(8, WAIT));
    let reqs = server.requests();
    assert_eq!(reqs[0].route, Route::InitError);
    assert_eq!(reqs[0].header("lambda-runtime-function-error-type"), Some("Runtime.InitError"));
    assert!(reqs[1..].iter().all(|r| r.route == Route::NotFound));
}

#[test]
fn malformed_requests_get_400_and_are_recorded() {
    let server = MockServer::start(Script::new()).unwrap();
    let cases: [(&[u8], u16); 4] = [
        (b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\n\r\n", 400),
        (b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\nHost: x\n\n", 400),
        (b"POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nnothex\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 501),
    ];
    for (raw, status) in cases {
        let mut c = Client::connect(server.addr());
        c.send(raw).unwrap();
        let r = c.read_response().unwrap();
        assert_eq!(r.status, status, "{:?}", String::from_utf8_lossy(raw));
        assert_eq!(r.header("connection"), Some("close"));
        assert!(c.is_closed());
    }
    assert!(server.wait_for_requests(4, WAIT));
    let reqs = server.requests();
    assert!(reqs.iter().all(|r| r.route == Route::Malformed && r.error.is_some()));
    assert!(reqs[0].error.as_deref().unwrap().contains("Host"));
    // A request cut short is recorded with no status.
    let mut c = Client::connect(server.addr());
    c.send(b"POST /2018-06-01/runtime/init/error HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc").unwrap();
    c.stream.shutdown(std::net::Shutdown::Write).unwrap();
    assert!(c.is_closed());
    assert!(server.wait_for_requests(5, WAIT));
    let last = server.requests().pop().unwrap();
    assert_eq!(last.route, Route::Malformed);
    assert_eq!(last.status, None);
    assert_eq!(last.body, b"abc");
}

#[test]
fn http10_request_gets_http10_reply_and_close() {
    let server = MockServer::start(Script::new().event(Event::json(b"{}"))).unwrap();
    let mut c = Client::connect(server.addr());
    c.send(b"GET /2018-06-01/runtime/invocation/next HTTP/1.0\r\n\r\n").unwrap();
    let r = c.read_response().unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.header("connection"), Some("close"));
    assert!(c.is_closed());
}

#[test]
fn client_connection_close_is_honoured() {
    let server = MockServer::start(Script::new().event(Event::json(b"{}"))).unwrap();
    let mut c = Client::connect(server.addr());
    let r = c.request("GET", NEXT, &[("Connection", "close")], b"").unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.header("connection"), Some("close"));
    assert!(c.is_closed());
}

#[test]
fn raw_requests_are_captured_on_request_only() {
    let body = "5\r\nhello\r\n0\r\nT: v\r\n\r\n";
    let run = |script: Script| {
        let server = MockServer::start(script.event(Event::json(b"1").request_id("r"))).unwrap();
        let mut c = Client::connect(server.addr());
        let next = format!("GET {NEXT} HTTP/1.1\r\nHost: h\r\n\r\n");
        let post =
            format!("POST {} HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n{body}", response_path("r"));
        // Both requests in one write: each record holds its own bytes only.
        c.send(format!("{next}{post}").as_bytes()).unwrap();
        assert_eq!(c.read_response().unwrap().status, 200);
        assert_eq!(c.read_response().unwrap().status, 202);
        assert!(server.wait_for_answers(1, WAIT));
        let reqs = server.requests();
        (next, post, reqs)
    };
    let (next, post, reqs) = run(Script::new().capture_raw());
    assert_eq!(reqs[0].raw, next.as_bytes());
    assert_eq!(reqs[1].raw, post.as_bytes());
    assert_eq!(reqs[1].body, b"hello");
    let (_, _, reqs) = run(Script::new());
    assert!(reqs.iter().all(|r| r.raw.is_empty()), "off by default");
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let script = Script::new().event(Event::json(b"1").request_id("a")).event(Event::json(b"2").request_id("b"));
    let server = MockServer::start(script).unwrap();
    let mut c = Client::connect(server.addr());
    let host = server.runtime_api();
    let next = format!("GET {NEXT} HTTP/1.1\r\nHost: {host}\r\n\r\n");
    c.send(format!("{next}{next}").as_bytes()).unwrap();
    assert_eq!(c.read_response().unwrap().body, b"1");
    assert_eq!(c.read_response().unwrap().body, b"2");
}

#[test]
fn exhausted_script_hangs_until_the_server_is_dropped() {
    let server = MockServer::start(Script::new().event(Event::json(b"1"))).unwrap();
    let mut c = Client::connect(server.addr());
    assert_eq!(c.next().status, 200);
    c.stream.set_read_timeout(Some(Duration::from_millis(300))).unwrap();
    c.send_request("GET", NEXT, &[], b"").unwrap();
    let err = c.read_response().unwrap_err();
    assert!(
        matches!(err.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut),
        "expected a timeout, got {err:?}"
    );
    assert!(server.wait_for_requests(2, WAIT));
    let hanging = server.requests().pop().unwrap();
    assert_eq!((hanging.route, hanging.event, hanging.status), (Route::Next, None, None));
    let t = Instant::now();
    drop(server);
    assert!(t.elapsed() < Duration::from_secs(2), "drop took {:?}", t.elapsed());
    c.stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    assert!(c.is_closed());
}

#[test]
fn exhausted_script_can_answer_500_or_close() {
    let server = MockServer::start(Script::new().when_exhausted(Exhausted::Reply(Reply::for_status(500)))).unwrap();
    let mut c = Client::connect(server.addr());
    for _ in 0..2 {
        let r = c.next();
        assert_eq!(r.status, 500);
        assert_eq!(r.body, b"{\"errorMessage\":\"Internal Server Error\",\"errorType\":\"InternalServerError\"}\n");
    }
    assert_eq!(server.connections(), 1);

    let server = MockServer::start(Script::new().when_exhausted(Exhausted::Close)).unwrap();
    let mut c = Client::connect(server.addr());
    c.send_request("GET", NEXT, &[], b"").unwrap();
    let (bytes, err) = c.read_to_end();
    assert!(bytes.is_empty() && err.is_none(), "{bytes:?} {err:?}");
}

#[test]
fn concurrent_next_calls_get_distinct_events() {
    let script = Script::new().events((0..4).map(|i| Event::json(i.to_string())));
    let server = MockServer::start(script).unwrap();
    let addr = server.addr();
    let bodies: Vec<Vec<u8>> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..4).map(|_| s.spawn(move || Client::connect(addr).next().body)).collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut bodies: Vec<String> = bodies.into_iter().map(|b| String::from_utf8(b).unwrap()).collect();
    bodies.sort();
    assert_eq!(bodies, ["0", "1", "2", "3"]);
    assert_eq!(server.connections(), 4);
}

#[test]
fn waits_time_out_when_nothing_happens() {
    let server = MockServer::start(Script::new().event(Event::json(b"1"))).unwrap();
    let t = Instant::now();
    assert!(!server.wait_for_answers(1, Duration::from_millis(100)));
    assert!(!server.wait_for_requests(1, Duration::from_millis(10)));
    assert!(t.elapsed() >= Duration::from_millis(100));
    assert!(server.answers().is_empty());
    assert_eq!(server.connections(), 0);
}

#[test]
fn ipv6_loopback() {
    let server = match MockServer::start_ipv6(Script::new().event(Event::json(b"6"))) {
        Ok(s) => s,
        Err(e) => {
            tools::skip(&format!("IPv6 loopback unavailable: {e}"));
            return;
        }
    };
    let api = server.runtime_api();
    assert!(api.starts_with("[::1]:"), "{api}");
    let mut c = Client::connect(api.as_str());
    assert_eq!(c.next().body, b"6");
}
