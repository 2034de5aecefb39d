//! Response streaming, end to end: the streaming echoes (`bootstrap-stream`,
//! `bootstrap-c-stream`) and the fixtures' `stream-*` commands against the mock, every
//! architecture built (arm64 under qemu-user).
//!
//! What is checked: the exact bytes on the wire; a dedicated connection per stream, closed
//! after it, the keep-alive `/next` connection untouched; flat memory over a 64 MiB stream;
//! an error mid-stream as real trailers; the HTTP integration prelude; a server that closes
//! mid-stream; a dropped stream; the C API's answers to misuse.

mod support;

use std::collections::BTreeMap;

use lambda_libc_mock::{Answer, AnswerKind, Event, Fault, MockServer, Request, Route, Script};
use support::{
    Bin, Exit, LAMBDA_E_NULL, LAMBDA_E_STATE, LAMBDA_OK, assert_error, assert_response, c_fixtures, fixtures, idle,
    noise, response_path, statuses, stream_bootstraps, summary,
};

const HTTP_INTEGRATION: &str = "application/vnd.awslambda.http-integration-response";
const TRAILER: &str = "Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body";
const MIB: usize = 1 << 20;

fn ev(id: &str, body: impl Into<Vec<u8>>) -> Event {
    Event::json(body).request_id(id)
}

/// Standard base64 (RFC 4648, padded), strictly: anything else is `None`.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    };
    let bytes = text.as_bytes();
    if !bytes.len().is_multiple_of(4) {
        return None;
    }
    let mut out = Vec::new();
    for (i, group) in bytes.chunks(4).enumerate() {
        let last = i + 1 == bytes.len() / 4;
        let pad = group.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 || (pad > 0 && !last) {
            return None;
        }
        let mut w = 0u32;
        for &c in &group[..4 - pad] {
            w = w << 6 | u32::from(value(c)?);
        }
        w <<= 6 * pad as u32;
        out.extend_from_slice(&w.to_be_bytes()[1..4 - pad]);
    }
    Some(out)
}

#[test]
fn base64_decoder_knows_the_rfc_vectors() {
    for (plain, coded) in [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foobar", "Zm9vYmFy")] {
        assert_eq!(base64_decode(coded).as_deref(), Some(plain.as_bytes()), "{coded}");
    }
    for bad in ["Zg=", "Z===", "Zg==Zg==", "Zm9v!A==", "Zm9"] {
        assert_eq!(base64_decode(bad), None, "{bad}");
    }
}

/// Asserts `a` is a streamed `/response` for `id` with the streaming headers, exactly these
/// and no others, and returns it.
fn assert_stream<'a>(
    bin: &Bin,
    a: &'a Answer,
    id: &str,
    content_type: &str,
    invocation_id: Option<&str>,
) -> &'a Request {
    let r = &a.request;
    assert_eq!((a.kind, a.request_id.as_str()), (AnswerKind::Response, id), "{bin}: {r:?}");
    assert_eq!(r.target, response_path(id), "{bin}");
    let mut names: Vec<String> = r.headers.iter().map(|(n, _)| n.to_ascii_lowercase()).collect();
    names.sort();
    let mut want = vec![
        "content-type",
        "host",
        "lambda-runtime-function-response-mode",
        "trailer",
        "transfer-encoding",
        "user-agent",
    ];
    if invocation_id.is_some() {
        want.push("lambda-runtime-invocation-id");
        want.sort();
    }
    assert_eq!(names, want, "{bin}: the streaming headers, exactly");
    assert_eq!(r.header("Lambda-Runtime-Function-Response-Mode"), Some("streaming"), "{bin}");
    assert_eq!(r.header("Transfer-Encoding"), Some("chunked"), "{bin}");
    assert_eq!(r.header("Trailer"), Some(TRAILER), "{bin}");
    assert_eq!(r.header("Content-Type"), Some(content_type), "{bin}");
    assert_eq!(r.header("Lambda-Runtime-Invocation-Id"), invocation_id, "{bin}");
    assert!(r.chunked, "{bin}");
    r
}

/// The error trailers of a stream: its type and the JSON document their body decodes to.
fn error_trailers(bin: &Bin, r: &Request) -> (String, serde_json::Value) {
    assert_eq!(r.trailers.len(), 2, "{bin}: {:?}", r.trailers);
    let t = r.trailer("Lambda-Runtime-Function-Error-Type").unwrap_or_else(|| panic!("{bin}: {:?}", r.trailers));
    let b64 = r.trailer("Lambda-Runtime-Function-Error-Body").unwrap_or_else(|| panic!("{bin}: {:?}", r.trailers));
    let doc = base64_decode(b64).unwrap_or_else(|| panic!("{bin}: not base64: {b64:?}"));
    let v: serde_json::Value = serde_json::from_slice(&doc)
        .unwrap_or_else(|e| panic!("{bin}: not JSON ({e}): {}", String::from_utf8_lossy(&doc)));
    let keys: Vec<&str> = v.as_object().map(|o| o.keys().map(String::as_str).collect()).unwrap_or_default();
    assert_eq!(keys, ["errorMessage", "errorType", "stackTrace"], "{bin}: {v}");
    assert_eq!(v["errorType"], t, "{bin}: the document's type is the trailer's");
    assert_eq!(v["stackTrace"], serde_json::json!([]), "{bin}");
    (t.to_owned(), v)
}

/// The sockets the process has open (its `/proc/<pid>/fd` links to `socket:[…]`).
fn open_sockets(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .expect("read /proc/<pid>/fd")
        .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .filter(|target| target.to_string_lossy().starts_with("socket:"))
        .count()
}

/// The process's peak resident memory (`VmHWM`), in bytes.
fn vm_hwm(pid: u32) -> usize {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("read /proc/<pid>/status");
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).expect("VmHWM in /proc/<pid>/status");
    let kb: usize = line.split_whitespace().nth(1).and_then(|n| n.parse().ok()).expect("VmHWM in kB");
    kb * 1024
}

/// Runs `bin` against `script` with `env` until it waits in the last `/next`; returns the
/// mock, how it ended, and `inspect`'s result on its pid taken just before it is killed.
fn run_idle<T>(
    bin: &Bin,
    script: Script,
    env: &[(&str, &str)],
    inspect: impl FnOnce(u32) -> T,
) -> (MockServer, Exit, T) {
    let server = MockServer::start(script).expect("start the mock");
    let api = server.runtime_api();
    let mut vars = vec![("AWS_LAMBDA_RUNTIME_API", api.as_str())];
    vars.extend_from_slice(env);
    let mut proc = bin.spawn_env(&vars);
    proc.wait_until(&server, "wait in the last /next", idle);
    let seen = inspect(proc.pid());
    (server, proc.kill(), seen)
}

#[test]
fn the_bytes_on_the_wire() {
    for bin in stream_bootstraps() {
        let big = noise(10_000, 7);
        let script = Script::new().capture_raw().events([
            ev("s-1", "hello").content_type("text/plain"),
            ev("s-2", big.clone()).invocation_id("inv-2"),
            ev("s-3", "").remove_header("Content-Type"),
        ]);
        let (server, exit, sockets) = run_idle(&bin, script, &[], open_sockets);
        exit.assert_quiet();
        let reqs = server.requests();
        let answers = server.answers();
        assert_eq!(answers.len(), 3, "{bin}: {}", summary(&reqs));
        let next = reqs.iter().find(|r| r.route == Route::Next).expect("a /next");
        let agent = next.header("User-Agent").expect("the client's User-Agent");
        assert!(agent.starts_with("lambda-libc/"), "{bin}: {agent}");
        let head = |id: &str, content_type: &str, invocation: &str| {
            format!(
                "POST {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: {agent}\r\n\
                 Lambda-Runtime-Function-Response-Mode: streaming\r\nTransfer-Encoding: chunked\r\n\
                 Trailer: {TRAILER}\r\nContent-Type: {content_type}\r\n{invocation}\r\n",
                response_path(id),
                server.runtime_api()
            )
            .into_bytes()
        };
        let mut want = [
            head("s-1", "text/plain", ""),
            head("s-2", "application/json", "Lambda-Runtime-Invocation-Id: inv-2\r\n"),
            head("s-3", "application/octet-stream", ""),
        ];
        want[0].extend_from_slice(b"5\r\nhello\r\n0\r\n\r\n");
        for (size, part) in [(&b"1000"[..], &big[..4096]), (b"1000", &big[4096..8192]), (b"710", &big[8192..])] {
            want[1].extend_from_slice(&[size, b"\r\n", part, b"\r\n"].concat());
        }
        want[1].extend_from_slice(b"0\r\n\r\n");
        want[2].extend_from_slice(b"0\r\n\r\n");
        for (a, want) in answers.iter().zip(&want) {
            assert_eq!(
                String::from_utf8_lossy(&a.request.raw),
                String::from_utf8_lossy(want),
                "{bin}: the request as sent"
            );
            assert_eq!(a.request.raw, *want, "{bin}");
            assert_eq!(a.status(), Some(202), "{bin}");
        }
        assert_eq!(answers[1].body(), big, "{bin}");
        assert_eq!(answers[1].request.chunks, [4096, 4096, 1808], "{bin}: chunks of at most 4 KiB");
        // One connection per stream, used once; `/next` keeps its own.
        let nexts: Vec<usize> = reqs.iter().filter(|r| r.route == Route::Next).map(|r| r.connection).collect();
        assert!(nexts.iter().all(|&c| c == nexts[0]), "{bin}: /next stays on one connection: {nexts:?}");
        let mut streams: Vec<usize> = answers.iter().map(|a| a.request.connection).collect();
        streams.sort_unstable();
        streams.dedup();
        assert_eq!(streams.len(), 3, "{bin}: a connection per stream: {}", summary(&reqs));
        for c in streams {
            assert_ne!(c, nexts[0], "{bin}");
            assert_eq!(
                reqs.iter().filter(|r| r.connection == c).count(),
                1,
                "{bin}: one request per stream connection"
            );
        }
        // Closed after each stream: only the keep-alive connection is left open.
        if !bin.is_emulated() {
            assert_eq!(sockets, 1, "{bin}: sockets open while waiting in /next");
        }
    }
}

#[test]
fn a_64_mib_stream_keeps_memory_flat() {
    for bin in fixtures() {
        let run = |mib: usize| run_idle(&bin, Script::new().event(ev("big", format!("stream-mib:{mib}"))), &[], vm_hwm);
        let (_, exit, small) = run(1);
        exit.assert_quiet();
        let (server, exit, large) = run(64);
        exit.assert_quiet();
        let answers = server.answers();
        assert_eq!(answers.len(), 1, "{bin}: {}", summary(&server.requests()));
        let r = assert_stream(&bin, &answers[0], "big", "application/octet-stream", None);
        assert_eq!(answers[0].status(), Some(202), "{bin}");
        assert!(r.trailers.is_empty(), "{bin}: {:?}", r.trailers);
        assert_eq!(r.body.len(), 64 * MIB, "{bin}");
        assert_eq!(r.chunks.len(), 1024, "{bin}: one chunk per 64 KiB write");
        assert!(r.chunks.iter().all(|&n| n == 64 * 1024), "{bin}");
        for (index, write) in r.body.chunks(64 * 1024).enumerate() {
            assert_eq!(write[..4], (index as u32).to_le_bytes(), "{bin}: write {index}");
            if let Some(at) = write[4..].iter().enumerate().position(|(i, &b)| b != ((i + 4) % 251) as u8) {
                panic!("{bin}: write {index} differs at byte {}", at + 4);
            }
        }
        if bin.is_emulated() {
            eprintln!("{bin}: memory not compared under qemu (its figures are qemu's)");
            continue;
        }
        assert!(
            large < small + MIB,
            "{bin}: VmHWM {large} B after 64 MiB streamed, {small} B after 1 MiB: it grew by 1 MiB or more"
        );
    }
}

#[test]
fn an_error_mid_stream_is_sent_as_trailers() {
    for bin in fixtures() {
        let (server, _) =
            bin.echo_run(Script::new().events([ev("f1", "stream-fail").invocation_id("inv-f1"), ev("after", "fine")]));
        let answers = server.answers();
        assert_eq!(answers.len(), 2, "{bin}: {}", summary(&server.requests()));
        let r = assert_stream(&bin, &answers[0], "f1", "text/plain", Some("inv-f1"));
        assert_eq!(r.body, b"partial output", "{bin}: the body holds what was written, no error text");
        assert_eq!(r.chunks, [8, 6], "{bin}");
        let (t, v) = error_trailers(&bin, r);
        assert_eq!(t, "Function.StreamFailed", "{bin}");
        assert_eq!(v["errorMessage"], "broke \"mid\"\nstream é \u{1}", "{bin}");
        assert_eq!(answers[0].status(), Some(202), "{bin}");
        assert_response(&bin, &answers[1], "after", b"fine", "the invocation after");
    }
}

#[test]
fn the_http_integration_prelude_comes_first() {
    for bin in fixtures() {
        let (server, _) = bin.echo_run(Script::new().events([ev("h1", "stream-http"), ev("after", "fine")]));
        let answers = server.answers();
        assert_eq!(answers.len(), 2, "{bin}: {}", summary(&server.requests()));
        let r = assert_stream(&bin, &answers[0], "h1", HTTP_INTEGRATION, None);
        let json = br#"{"statusCode":201,"headers":{"content-type":"text/plain","x-quote":"say \"hi\""},"cookies":["a=1","b=2; Path=/"]}"#;
        let want = [&json[..], &[0u8; 8], b"hello world"].concat();
        assert_eq!(String::from_utf8_lossy(&r.body), String::from_utf8_lossy(&want), "{bin}");
        assert_eq!(r.body, want, "{bin}: JSON, 8 NUL bytes, body");
        assert_eq!(r.chunks, [json.len() + 8, 6, 5], "{bin}: the prelude is the first chunk");
        let v: serde_json::Value = serde_json::from_slice(json).expect("the prelude is JSON");
        assert_eq!(v["headers"]["x-quote"], "say \"hi\"", "{bin}");
        assert!(r.trailers.is_empty(), "{bin}");
        assert_eq!(answers[0].status(), Some(202), "{bin}");
        assert_response(&bin, &answers[1], "after", b"fine", "the invocation after");
    }
}

#[test]
fn a_prelude_too_large_sends_nothing_and_leaves_the_invocation_to_answer() {
    for bin in fixtures() {
        let (server, _) = bin.echo_run(Script::new().events([ev("p1", "stream-big-prelude"), ev("after", "fine")]));
        let answers = server.answers();
        assert_eq!(answers.len(), 2, "{bin}: {}", summary(&server.requests()));
        let v = assert_error(&bin, &answers[0], "p1", "Function.PreludeTooLarge");
        assert!(v["errorMessage"].is_string(), "{bin}");
        assert_eq!(server.connections(), 1, "{bin}: no stream connection was opened");
        assert_response(&bin, &answers[1], "after", b"fine", "the invocation after");
    }
}

#[test]
fn an_unfinished_stream_ends_with_an_error() {
    for bin in fixtures() {
        let (server, _) = bin.echo_run(Script::new().events([ev("d1", "stream-drop"), ev("after", "fine")]));
        let answers = server.answers();
        assert_eq!(answers.len(), 2, "{bin}: {}", summary(&server.requests()));
        let r = assert_stream(&bin, &answers[0], "d1", "text/plain", None);
        assert_eq!(r.body, b"unfinished", "{bin}");
        let (t, v) = error_trailers(&bin, r);
        assert_eq!(t, "Runtime.StreamNotFinished", "{bin}: {v}");
        assert_response(&bin, &answers[1], "after", b"fine", "the invocation after");
    }
}

/// The streaming echoes stop writing at the first failure; the fixtures' `stream-mib` goes
/// on, and every later write must fail at once, without another line.
#[test]
fn the_server_closing_mid_stream_is_one_clean_error() {
    let echoes = stream_bootstraps().into_iter().map(|bin| (bin, noise(5 * MIB, 3)));
    for (bin, event) in echoes.chain(fixtures().into_iter().map(|bin| (bin, b"stream-mib:16".to_vec()))) {
        let script = Script::new().events([
            ev("cut", event).answer_fault(Fault::CloseWhileReading(64 * 1024)),
            ev("after", "fine").invocation_id("inv-after"),
        ]);
        let server = MockServer::start(script).expect("start the mock");
        let exit = bin.run_to_idle(&server);
        let lines = exit.diagnostics();
        assert_eq!(lines.len(), 1, "{bin}: one line on stderr:\n{}", exit.stderr);
        let prefix = format!("POST {} (streaming): ", response_path("cut"));
        assert!(lines[0].starts_with(&prefix), "{bin}: {}", lines[0]);
        assert_eq!(exit.stdout, "", "{bin}");
        let answers = server.answers();
        assert_eq!(answers.len(), 2, "{bin}: {}", summary(&server.requests()));
        assert!(answers[0].request.error.is_some(), "{bin}: the mock cut it: {:?}", answers[0].request);
        assert_eq!(answers[1].header("Lambda-Runtime-Invocation-Id"), Some("inv-after"), "{bin}");
        if bin.name.starts_with("fixture") {
            assert_response(&bin, &answers[1], "after", b"fine", "the next invocation");
        } else {
            let r = assert_stream(&bin, &answers[1], "after", "application/json", Some("inv-after"));
            assert_eq!(r.body, b"fine", "{bin}: the next invocation is answered");
            assert_eq!(answers[1].status(), Some(202), "{bin}");
        }
    }
}

const LAMBDA_E_INVALID: i64 = -7;

#[test]
fn c_stream_misuse_returns_error_codes_and_changes_nothing() {
    let bins = c_fixtures();
    assert!(!bins.is_empty(), "fixture-c was not built: run `cargo xtask test`");
    for bin in bins {
        let (server, _) = bin.echo_run(Script::new().events([
            ev("m1", "stream-misuse"),
            ev("m2", "stream-misuse-after"),
            ev("after", "x"),
        ]));
        let answers = server.answers();
        assert_eq!(answers.len(), 3, "{bin}: {}", summary(&server.requests()));
        let r = assert_stream(&bin, &answers[0], "m1", "text/plain", None);
        assert!(r.trailers.is_empty(), "{bin}");
        let want: BTreeMap<String, i64> = [
            ("write_without_stream", LAMBDA_E_STATE),
            ("finish_without_stream", LAMBDA_E_STATE),
            ("fail_without_stream", LAMBDA_E_STATE),
            ("begin_null", LAMBDA_E_NULL),
            ("begin_http_null_headers", LAMBDA_E_NULL),
            ("begin_http_null_cookies", LAMBDA_E_NULL),
            ("begin_http_null_name", LAMBDA_E_NULL),
            ("begin_http_null_cookie", LAMBDA_E_NULL),
            ("begin_http_status_99", LAMBDA_E_INVALID),
            ("begin_http_status_600", LAMBDA_E_INVALID),
            ("begin", LAMBDA_OK),
            ("begin_again", LAMBDA_E_STATE),
            ("respond_while_streaming", LAMBDA_E_STATE),
            ("fail_while_streaming", LAMBDA_E_STATE),
            ("write_null", LAMBDA_E_NULL),
            ("write_empty", LAMBDA_OK),
            ("stream_fail_null", LAMBDA_E_NULL),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        assert_eq!(statuses(&bin, &r.body), want, "{bin}");
        assert_eq!(r.chunks.len(), 1, "{bin}: the empty write sent no chunk");
        let after = statuses(&bin, answers[1].body());
        let want_after: BTreeMap<String, i64> = [
            ("finish", LAMBDA_OK),
            ("finish_again", LAMBDA_E_STATE),
            ("write_after", LAMBDA_E_STATE),
            ("begin_after", LAMBDA_E_STATE),
            ("respond_after", LAMBDA_E_STATE),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        assert_eq!(after, want_after, "{bin}");
        assert_response(&bin, &answers[2], "after", b"x", "the invocation after");
    }
}

#[test]
fn c_lambda_next_refuses_to_run_while_a_stream_is_open() {
    for bin in c_fixtures() {
        let script = Script::new().events([ev("d1", "stream-drop"), ev("h2", "stream-http")]);
        let (server, exit, ()) = run_idle(&bin, script, &[("FIXTURE_LOOP", "manual")], |_| ());
        exit.assert_quiet();
        let answers = server.answers();
        assert_eq!(answers.len(), 2, "{bin}: {}", summary(&server.requests()));
        let r = assert_stream(&bin, &answers[0], "d1", "text/plain", None);
        assert_eq!(r.body, b"unfinished", "{bin}");
        let (t, _) = error_trailers(&bin, r);
        assert_eq!(t, "Function.NextRefused", "{bin}: lambda_next returned LAMBDA_E_STATE, the stream stayed usable");
        let r = assert_stream(&bin, &answers[1], "h2", HTTP_INTEGRATION, None);
        assert!(r.body.ends_with(b"hello world"), "{bin}: lambda_next ran again after the stream ended");
    }
}
