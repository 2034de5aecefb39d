//! The echo bootstraps against the mock Runtime API: payloads echoed byte for byte, a long
//! keep-alive session with flat memory, and the exact requests the runtime sends.

mod support;

use lambda_libc_mock::{AnswerKind, Chunked, Event, Framing, MAX_PAYLOAD_SIZE, Route, Script};
use support::{Bin, assert_responses, echo_bootstraps, noise, summary};

/// Runs every echo bootstrap over `events` (request ids set by [`ids`]) and checks that
/// each was answered, in order, with its own bytes.
fn assert_echoes(events: &[Event]) {
    for bin in echo_bootstraps() {
        let expected: Vec<(String, Vec<u8>)> =
            events.iter().enumerate().map(|(i, e)| (format!("echo-{i}"), e.body().to_vec())).collect();
        let (server, _) = bin.echo_run(Script::new().events(events.iter().cloned()));
        assert_responses(&bin, &server, &expected);
    }
}

fn ids(events: Vec<Event>) -> Vec<Event> {
    events.into_iter().enumerate().map(|(i, e)| e.request_id(format!("echo-{i}"))).collect()
}

#[test]
fn echoes_a_json_event() {
    assert_echoes(&ids(vec![Event::json(r#"{"hello":"world","n":[1,2,3],"s":"\u00e9"}"#)]));
}

#[test]
fn echoes_an_empty_event_with_content_length_and_chunked() {
    assert_echoes(&ids(vec![
        Event::json(b""),
        Event::json(b"").framing(Framing::Chunked(Chunked::sizes([]))),
        Event::json(b"{}"),
    ]));
}

#[test]
fn echoes_every_byte_value() {
    let all: Vec<u8> = (0..=255u8).collect();
    let mut twice = all.clone();
    twice.extend(all.iter().rev());
    assert_echoes(&ids(vec![
        Event::json(all.clone()).content_type("application/octet-stream"),
        Event::json(twice.clone()).content_type("application/octet-stream").chunked([1, 7, 255]),
        Event::json(b"\r\n\r\n0\r\n\r\nHTTP/1.1 200 OK\r\n\r\n".to_vec()),
    ]));
}

#[test]
fn echoes_one_mebibyte_with_content_length_and_chunked() {
    let body = noise(1 << 20, 1);
    assert_echoes(&ids(vec![
        Event::json(body.clone()),
        Event::json(body.clone()).framing(Framing::Chunked(Chunked::sizes([]))),
        Event::json(body).chunked([32 * 1024]),
    ]));
}

#[test]
fn echoes_the_largest_event_with_content_length() {
    assert_echoes(&ids(vec![Event::json(noise(MAX_PAYLOAD_SIZE, 2)), Event::json(b"after")]));
}

#[test]
fn echoes_the_largest_event_chunked_in_one_chunk() {
    assert_echoes(&ids(vec![
        Event::json(noise(MAX_PAYLOAD_SIZE, 3)).framing(Framing::Chunked(Chunked::sizes([]))),
        Event::json(b"after"),
    ]));
}

#[test]
fn echoes_the_largest_event_in_many_chunks() {
    // 32 KiB chunks, as the managed-instances server writes them, and an odd size that
    // puts chunk boundaries at every alignment.
    assert_echoes(&ids(vec![
        Event::json(noise(MAX_PAYLOAD_SIZE, 4)).chunked([32 * 1024]),
        Event::json(noise(MAX_PAYLOAD_SIZE, 5)).chunked([4093]),
    ]));
}

#[test]
fn echoes_many_events_in_sequence() {
    let events: Vec<Event> = (0..60)
        .map(|i| {
            let len = [0, 1, 2, 17, 100, 2047, 2048, 2049, 4096, 65535, 65536, 65537, 200_000][i % 13];
            let e = Event::json(noise(len, 100 + i as u64));
            match i % 3 {
                0 => e,
                1 => e.chunked([1 + i * 97]),
                _ => e.framing(Framing::Chunked(Chunked::sizes([]))),
            }
        })
        .collect();
    assert_echoes(&ids(events));
}

/// `VmHWM` (peak resident set) of a process, in KiB.
fn vm_hwm_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("read /proc/<pid>/status");
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).expect("VmHWM in /proc/<pid>/status");
    line.trim_start_matches("VmHWM:").trim().trim_end_matches("kB").trim().parse().expect("VmHWM value")
}

#[test]
fn a_thousand_keep_alive_invocations_on_one_connection_with_flat_memory() {
    const N: usize = 1000;
    const WARM: usize = 100;
    // Sizes vary up to 64 KiB; the largest ones come early, so the warm-up touches every
    // page the session will ever need.
    let size = |i: usize| match i {
        1 => 65536,
        _ if i.is_multiple_of(10) => 65536 - (i * 37) % 4096,
        _ => (i * 7919) % 3000,
    };
    let events: Vec<Event> = (0..N)
        .map(|i| {
            let e = Event::json(noise(size(i), i as u64)).request_id(format!("ka-{i:04}"));
            if i % 4 == 3 { e.chunked([1000 + i]) } else { e }
        })
        .collect();
    let expected: Vec<(String, Vec<u8>)> =
        events.iter().enumerate().map(|(i, e)| (format!("ka-{i:04}"), e.body().to_vec())).collect();
    for bin in echo_bootstraps() {
        let server = lambda_libc_mock::MockServer::start(Script::new().events(events.iter().cloned())).unwrap();
        let mut proc = bin.spawn(&server.runtime_api());
        proc.wait_for_answers(&server, WARM);
        let warm = vm_hwm_kib(proc.pid());
        proc.wait_until(&server, "answer every event and wait in /next", support::idle);
        let end = vm_hwm_kib(proc.pid());
        let exit = proc.kill();
        exit.assert_quiet();
        assert_eq!(server.connections(), 1, "{bin}: every invocation on one keep-alive connection");
        assert_responses(&bin, &server, &expected);
        // Under qemu-user the figures are qemu's (its translation cache grows); the same
        // code's memory is measured natively on x86_64.
        if !bin.is_emulated() {
            assert!(
                end.saturating_sub(warm) < 256,
                "{bin}: VmHWM grew from {warm} KiB after {WARM} invocations to {end} KiB after {N}"
            );
        }
    }
}

/// The header names and values of a request, names lower-cased, sorted.
fn header_set(r: &lambda_libc_mock::Request) -> Vec<(String, String)> {
    let mut h: Vec<(String, String)> = r.headers.iter().map(|(n, v)| (n.to_ascii_lowercase(), v.clone())).collect();
    h.sort();
    h
}

fn user_agent(bin: &Bin, r: &lambda_libc_mock::Request) -> String {
    let ua = r.header("User-Agent").unwrap_or_else(|| panic!("{bin}: no User-Agent: {r:?}"));
    assert!(
        ua.starts_with("lambda-libc/") && ua.len() > "lambda-libc/".len(),
        "{bin}: User-Agent {ua:?} should be lambda-libc/<version>"
    );
    ua.to_owned()
}

#[test]
fn next_and_response_requests_are_exact() {
    let body = br#"{"request":"format"}"#;
    for bin in echo_bootstraps() {
        let (server, _) = bin.echo_run(
            Script::new().event(Event::json(&body[..]).request_id("fmt-1")).event(Event::json(b"").request_id("fmt-2")),
        );
        let api = server.runtime_api();
        let reqs = server.requests();
        let routes: Vec<&Route> = reqs.iter().map(|r| &r.route).collect();
        assert_eq!(
            routes,
            [
                &Route::Next,
                &Route::Response("fmt-1".into()),
                &Route::Next,
                &Route::Response("fmt-2".into()),
                &Route::Next
            ],
            "{bin}: requests:\n{}",
            summary(&reqs)
        );
        let ua = user_agent(&bin, &reqs[0]);
        for next in reqs.iter().filter(|r| r.route == Route::Next) {
            assert_eq!(
                (next.method.as_str(), next.target.as_str(), next.version.as_str()),
                ("GET", "/2018-06-01/runtime/invocation/next", "HTTP/1.1"),
                "{bin}: the /next request line"
            );
            assert_eq!(
                header_set(next),
                [("host".to_owned(), api.clone()), ("user-agent".to_owned(), ua.clone())],
                "{bin}: the /next headers, exactly"
            );
            assert!(next.body.is_empty() && !next.chunked, "{bin}: /next has no body");
        }
        for (r, (id, body)) in [&reqs[1], &reqs[3]].into_iter().zip([("fmt-1", &body[..]), ("fmt-2", b"")]) {
            assert_eq!(
                (r.method.as_str(), r.target.as_str(), r.version.as_str()),
                ("POST", format!("/2018-06-01/runtime/invocation/{id}/response").as_str(), "HTTP/1.1"),
                "{bin}: the /response request line"
            );
            assert_eq!(
                header_set(r),
                [
                    ("content-length".to_owned(), body.len().to_string()),
                    ("host".to_owned(), api.clone()),
                    ("user-agent".to_owned(), ua.clone())
                ],
                "{bin}: the /response headers, exactly"
            );
            assert_eq!(r.body, body, "{bin}");
            assert!(r.trailers.is_empty(), "{bin}");
        }
    }
}

#[test]
fn invocation_id_is_echoed_on_the_response_iff_the_event_has_one() {
    for bin in echo_bootstraps() {
        let (server, _) = bin.echo_run(
            Script::new()
                .event(Event::json(b"1").request_id("inv-a").invocation_id("5e3c1f0a-7b1d-4c55-9d0e-000000000001"))
                .event(Event::json(b"2").request_id("inv-b"))
                .event(Event::json(b"3").request_id("inv-c").with_all_context())
                .event(Event::json(b"4").request_id("inv-d").header("Lambda-Runtime-Invocation-Id", "")),
        );
        let answers = server.answers();
        assert_eq!(answers.len(), 4, "{bin}: {}", summary(&server.requests()));
        let got: Vec<(&str, Option<&str>)> =
            answers.iter().map(|a| (a.request_id.as_str(), a.header("Lambda-Runtime-Invocation-Id"))).collect();
        assert_eq!(
            got,
            [
                ("inv-a", Some("5e3c1f0a-7b1d-4c55-9d0e-000000000001")),
                ("inv-b", None),
                ("inv-c", Some("inv-inv-c")),
                ("inv-d", None),
            ],
            "{bin}"
        );
        for a in &answers {
            assert_eq!(a.kind, AnswerKind::Response, "{bin}");
            assert!(a.request.header_all("Lambda-Runtime-Invocation-Id").len() <= 1, "{bin}: at most one");
        }
    }
}
