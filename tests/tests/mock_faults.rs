//! Every fault the mock injects, observed by a raw TcpStream client.

mod common;

use std::io::ErrorKind;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::{Client, NEXT, response_path};
use lambda_libc_mock::{Chunked, Event, Fault, Framing, MAX_PAYLOAD_SIZE, MockServer, Reply, Route, Script};

const WAIT: Duration = Duration::from_secs(10);

fn serve(event: Event) -> (MockServer, Client) {
    let server =
        MockServer::start(Script::new().event(event).event(Event::json(b"second").request_id("second"))).unwrap();
    let client = Client::connect(server.addr());
    (server, client)
}

fn is_reset(e: &std::io::Error) -> bool {
    e.kind() == ErrorKind::ConnectionReset
}

#[test]
fn close_before_response_is_a_clean_eof() {
    let (server, mut c) = serve(Event::json(b"{}").fault(Fault::CloseBeforeResponse));
    c.send_request("GET", NEXT, &[], b"").unwrap();
    let (bytes, err) = c.read_to_end();
    assert!(bytes.is_empty(), "{bytes:?}");
    assert!(err.is_none(), "expected FIN, got {err:?}");
    // The event is consumed; a reconnecting client gets the next one.
    let mut c2 = Client::connect(server.addr());
    assert_eq!(c2.next().body, b"second");
    assert_eq!(server.connections(), 2);
    let reqs = server.requests();
    assert_eq!((reqs[0].event, reqs[0].status), (Some(0), None));
}

#[test]
fn reset_before_response_is_a_connection_reset() {
    let (_server, mut c) = serve(Event::json(b"{}").fault(Fault::ResetBeforeResponse));
    c.send_request("GET", NEXT, &[], b"").unwrap();
    let (bytes, err) = c.read_to_end();
    assert!(bytes.is_empty());
    let err = err.expect("expected an error, got a clean EOF");
    assert!(is_reset(&err), "expected ECONNRESET, got {err:?}");
}

#[test]
fn http10_reply_then_close() {
    let (_server, mut c) = serve(Event::json(b"{\"v\":10}").fault(Fault::Http10));
    let r = c.next();
    assert_eq!(r.version, "HTTP/1.0");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("connection"), Some("close"));
    assert_eq!(r.body, b"{\"v\":10}");
    assert!(r.raw.starts_with(b"HTTP/1.0 200 OK\r\n"));
    let (rest, err) = c.read_to_end();
    assert!(rest.is_empty() && err.is_none());
}

#[test]
fn connection_close_header_then_close() {
    let (_server, mut c) = serve(Event::json(b"{}").fault(Fault::ConnectionClose));
    let r = c.next();
    assert_eq!(r.version, "HTTP/1.1");
    assert_eq!(r.header("connection"), Some("close"));
    let (rest, err) = c.read_to_end();
    assert!(rest.is_empty() && err.is_none());
}

#[test]
fn close_after_answer_forces_a_reconnect() {
    let (server, mut c) = serve(Event::json(b"{}").request_id("a").answer_fault(Fault::CloseAfterResponse));
    c.next();
    let r = c.post(&response_path("a"), b"ok");
    assert_eq!(r.status, 202);
    assert_eq!(r.header("connection"), None, "the close is not announced");
    let (rest, err) = c.read_to_end();
    assert!(rest.is_empty() && err.is_none(), "expected FIN: {rest:?} {err:?}");
    let mut c2 = Client::connect(server.addr());
    assert_eq!(c2.next().body, b"second");
    assert_eq!(server.connections(), 2);
}

#[test]
fn reset_after_answer_resets_the_idle_connection() {
    let (_server, mut c) = serve(Event::json(b"{}").request_id("a").answer_fault(Fault::ResetAfterResponse));
    c.next();
    let r = c.post(&response_path("a"), b"ok");
    assert_eq!(r.status, 202);
    let (rest, err) = c.read_to_end();
    assert!(rest.is_empty());
    let err = err.expect("expected a reset, got a clean EOF");
    assert!(is_reset(&err), "{err:?}");
}

#[test]
fn close_after_next_response() {
    let (_server, mut c) = serve(Event::json(b"{}").fault(Fault::CloseAfterResponse));
    assert_eq!(c.next().status, 200);
    assert!(c.is_closed());
}

#[test]
fn byte_by_byte_delivery_arrives_in_many_reads() {
    // Long enough (one write per byte) that a reading client sees it in pieces even when
    // its reads lag behind the writes.
    let body = vec![b'b'; 200_000];
    let (_server, mut c) = serve(Event::json(body.clone()).fault(Fault::ByteByByte).fault(Fault::ConnectionClose));
    c.send_request("GET", NEXT, &[], b"").unwrap();
    let (bytes, sizes) = c.read_sizes_to_end();
    assert!(bytes.starts_with(b"HTTP/1.1 200 OK\r\n"));
    assert!(bytes.ends_with(&body));
    assert!(sizes.len() >= 5, "{} bytes came in only {} reads: {sizes:?}", bytes.len(), sizes.len());
}

#[test]
fn paced_delivery_takes_its_time_in_small_pieces() {
    let raw = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok".to_vec();
    let (_server, mut c) = serve(
        Event::json(b"{}")
            .fault(Fault::Raw(raw.clone()))
            .fault(Fault::Paced { bytes: 16, pause: Duration::from_millis(15) }),
    );
    let t = Instant::now();
    c.send_request("GET", NEXT, &[], b"").unwrap();
    let (bytes, sizes) = c.read_sizes_to_end();
    assert_eq!(bytes, raw);
    let writes = raw.len().div_ceil(16);
    assert!(t.elapsed() >= Duration::from_millis(15) * (writes as u32 - 1));
    assert!(sizes.len() >= 2, "{sizes:?}");
    assert!(sizes[0] <= 16, "{sizes:?}");
}

#[test]
fn split_delivery_pauses_at_the_offsets() {
    let (_server, mut c) =
        serve(Event::json(vec![b's'; 100]).fault(Fault::SplitAt(vec![10, 60])).fault(Fault::ConnectionClose));
    c.send_request("GET", NEXT, &[], b"").unwrap();
    let (bytes, sizes) = c.read_sizes_to_end();
    assert!(bytes.starts_with(b"HTTP/1.1 200 OK\r\n"));
    assert!(sizes.len() >= 2, "{sizes:?}");
    assert!(sizes[0] <= 60, "first read {sizes:?} crossed a split point");
}

#[test]
fn delay_holds_the_reply_and_the_deadline_counts_from_the_reply() {
    let (_server, mut c) = serve(Event::json(b"{}").fault(Fault::Delay(Duration::from_millis(300))));
    let t = Instant::now();
    let r = c.next();
    assert!(t.elapsed() >= Duration::from_millis(300), "{:?}", t.elapsed());
    let deadline: u64 = r.header("Lambda-Runtime-Deadline-Ms").unwrap().parse().unwrap();
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as u64;
    assert!(deadline + 200 >= now + 3000, "deadline {deadline} now {now}");
}

#[test]
fn raw_bytes_replace_the_reply() {
    let raw = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\ntruncated".to_vec();
    let (server, mut c) = serve(Event::json(b"{}").fault(Fault::Raw(raw.clone())));
    c.send_request("GET", NEXT, &[], b"").unwrap();
    let (bytes, err) = c.read_to_end();
    assert_eq!(bytes, raw);
    assert!(err.is_none());
    assert!(server.wait_for_requests(1, WAIT));
    assert_eq!(server.requests()[0].status, None);
}

#[test]
fn close_and_reset_after_n_bytes() {
    let (_server, mut c) = serve(Event::json(vec![b'x'; 50]).fault(Fault::CloseAfterBytes(20)));
    c.send_request("GET", NEXT, &[], b"").unwrap();
    let (bytes, err) = c.read_to_end();
    assert_eq!(bytes, b"HTTP/1.1 200 OK\r\nCon");
    assert!(err.is_none());

    let (server, mut c) = serve(Event::json(vec![b'x'; 50]).fault(Fault::ResetAfterBytes(430)));
    c.send_request("GET", NEXT, &[], b"").unwrap();
    let (bytes, err) = c.read_to_end();
    let rec = server.requests();
    let full_head_len = rec[0].response_headers.iter().map(|(n, v)| n.len() + v.len() + 4).sum::<usize>()
        + "HTTP/1.1 200 OK\r\n\r\n".len();
    assert!(full_head_len < 430 && full_head_len + 50 > 430, "{full_head_len}");
    assert_eq!(bytes.len(), 430, "got {:?}", String::from_utf8_lossy(&bytes));
    assert!(err.is_some_and(|e| is_reset(&e)));
}

#[test]
fn error_status_on_next_consumes_the_event() {
    let (server, mut c) =
        serve(Event::json(b"{}").fault(Fault::Reply(Reply::error(500, "Runtime.ContainerError", "shutting down"))));
    let r = c.next();
    assert_eq!(r.status, 500);
    assert_eq!(r.body, b"{\"errorMessage\":\"shutting down\",\"errorType\":\"Runtime.ContainerError\"}\n");
    assert_eq!(r.header("Lambda-Runtime-Aws-Request-Id"), None);
    assert_eq!(c.next().body, b"second");
    assert_eq!(server.served(), 2);
}

#[test]
fn forced_answer_statuses_have_realistic_bodies() {
    let cases = [
        (400, "{\"errorMessage\":\"Invalid request ID\",\"errorType\":\"InvalidRequestID\"}\n"),
        (
            403,
            "{\"errorMessage\":\"State transition from ResponseSent to InvocationResponse failed for runtime. Error: State transition is not allowed\",\"errorType\":\"InvalidStateTransition\"}\n",
        ),
        (410, "{\"errorMessage\":\"Invoke timeout\",\"errorType\":\"InvokeTimeout\"}\n"),
        (
            413,
            "{\"errorMessage\":\"Exceeded maximum allowed payload size (6291556 bytes).\",\"errorType\":\"RequestEntityTooLarge\"}\n",
        ),
        (500, "{\"errorMessage\":\"Internal Server Error\",\"errorType\":\"InternalServerError\"}\n"),
    ];
    let script = Script::new()
        .events(cases.iter().map(|(s, _)| Event::json(b"{}").request_id(format!("id-{s}")).answer_status(*s)));
    let server = MockServer::start(script).unwrap();
    let mut c = Client::connect(server.addr());
    for (status, body) in cases {
        c.next();
        let r = c.post(&response_path(&format!("id-{status}")), b"{}");
        assert_eq!(r.status, status);
        assert_eq!(r.body_str(), body);
        assert_eq!(r.header("content-type"), Some("application/json"));
    }
    // A forced status still counts as the answer: a second one is refused.
    assert_eq!(c.post(&response_path("id-410"), b"{}").status, 400);
    assert_eq!(server.connections(), 1);
}

#[test]
fn chunked_delivery_is_byte_exact() {
    let body: Vec<u8> = (0..5000u32).map(|i| b'a' + (i % 26) as u8).collect();
    let framing = Framing::Chunked(
        Chunked::sizes([1, 7, 4096]).extension(";a=b").uppercase_hex().zero_padded(4).trailer("X-Mock-Trailer", "t1"),
    );
    let (_server, mut c) = serve(Event::json(body.clone()).framing(framing));
    let r = c.next();
    assert_eq!(r.header("transfer-encoding"), Some("chunked"));
    assert_eq!(r.header("content-length"), None);
    assert_eq!(r.header("trailer"), Some("X-Mock-Trailer"));
    assert_eq!(r.body, body);
    assert_eq!(r.chunks, [1, 7, 4096, 896]);
    let mut want = Vec::new();
    let mut pos = 0;
    for (size, line) in [(1, "0001"), (7, "0007"), (4096, "1000"), (896, "0380")] {
        want.extend_from_slice(format!("{line};a=b\r\n").as_bytes());
        want.extend_from_slice(&body[pos..pos + size]);
        want.extend_from_slice(b"\r\n");
        pos += size;
    }
    want.extend_from_slice(b"0000;a=b\r\nX-Mock-Trailer: t1\r\n\r\n");
    assert_eq!(r.raw_body(), &want[..]);
    // Keep-alive survives a chunked reply.
    assert_eq!(c.next().body, b"second");
}

#[test]
fn default_chunking_is_lower_case_and_the_last_size_repeats() {
    let (_server, mut c) = serve(Event::json(vec![b'z'; 40]).chunked([16]));
    let r = c.next();
    assert_eq!(r.chunks, [16, 16, 8]);
    assert!(r.raw_body().starts_with(b"10\r\n"));
    assert!(r.raw_body().ends_with(b"\r\n8\r\nzzzzzzzz\r\n0\r\n\r\n"));
}

#[test]
fn close_delimited_body() {
    let (_server, mut c) = serve(Event::json(b"until-eof").framing(Framing::CloseDelimited));
    let r = c.next();
    assert_eq!(r.header("content-length"), None);
    assert_eq!(r.header("transfer-encoding"), None);
    assert_eq!(r.body, b"until-eof");
}

#[test]
fn oversized_event_is_served_whole() {
    let (_server, mut c) = serve(Event::json_of_len(MAX_PAYLOAD_SIZE + 1));
    let r = c.next();
    assert_eq!(r.header("content-length"), Some((MAX_PAYLOAD_SIZE + 1).to_string().as_str()));
    assert_eq!(r.body.len(), MAX_PAYLOAD_SIZE + 1);
    assert_eq!((r.body[0], r.body[MAX_PAYLOAD_SIZE]), (b'"', b'"'));
}

#[test]
fn faults_combine_and_drop_stays_prompt() {
    let (server, mut c) =
        serve(Event::json(b"{}").fault(Fault::Delay(Duration::from_secs(30))).fault(Fault::ByteByByte));
    c.send_request("GET", NEXT, &[], b"").unwrap();
    std::thread::sleep(Duration::from_millis(50));
    let t = Instant::now();
    drop(server);
    assert!(t.elapsed() < Duration::from_secs(2), "drop took {:?}", t.elapsed());
    assert!(c.is_closed());
}

#[test]
fn answer_with_delay_and_http10() {
    let (server, mut c) = serve(
        Event::json(b"{}")
            .request_id("a")
            .answer_fault(Fault::Delay(Duration::from_millis(100)))
            .answer_fault(Fault::Http10),
    );
    c.next();
    let t = Instant::now();
    let r = c.post(&response_path("a"), b"{}");
    assert!(t.elapsed() >= Duration::from_millis(100));
    assert_eq!((r.version.as_str(), r.status), ("HTTP/1.0", 202));
    assert!(c.is_closed());
    assert!(server.wait_for_answers(1, WAIT));
    assert_eq!(server.answers()[0].request.route, Route::Response("a".into()));
}

#[test]
fn close_while_reading_cuts_an_answer_short() {
    let (server, mut c) = serve(Event::json(b"{}").request_id("a").answer_fault(Fault::CloseWhileReading(10)));
    c.next();
    let head = format!("POST {} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n", response_path("a"));
    c.send(head.as_bytes()).unwrap();
    c.send(b"5\r\nhello\r\n5\r\nworld\r\n").unwrap();
    let (bytes, _) = c.read_to_end();
    assert!(bytes.is_empty(), "no reply: {bytes:?}");
    assert!(server.wait_for_answers(1, WAIT));
    let a = &server.answers()[0];
    assert_eq!((a.request_id.as_str(), a.event, a.status()), ("a", Some(0), None));
    assert_eq!(a.body(), b"5\r\nhello\r\n", "the first 10 raw body bytes");
    assert!(a.request.error.as_deref().unwrap_or("").contains("CloseWhileReading after 10"), "{:?}", a.request);
    // The event counts as answered: another answer for it is refused.
    let mut c2 = Client::connect(server.addr());
    assert_eq!(c2.post(&response_path("a"), b"late").status, 400);
}

#[test]
fn close_while_reading_resets_a_client_that_keeps_sending() {
    let (_server, mut c) = serve(Event::json(b"{}").request_id("a").answer_fault(Fault::CloseWhileReading(0)));
    c.next();
    let head = format!("POST {} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n", response_path("a"));
    c.send(head.as_bytes()).unwrap();
    let chunk = [b'x'; 64 * 1024];
    let deadline = Instant::now() + WAIT;
    let err = loop {
        assert!(Instant::now() < deadline, "sends kept succeeding");
        if let Err(e) = c.send(&chunk) {
            break e;
        }
    };
    assert!(matches!(err.kind(), ErrorKind::BrokenPipe | ErrorKind::ConnectionReset), "{err:?}");
}
