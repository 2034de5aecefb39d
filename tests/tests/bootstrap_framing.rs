//! The echo bootstraps read every legal framing of a `/next` response, delivered in any
//! split: chunk layouts and spellings, trailers, byte-by-byte delivery and cuts inside the
//! status line, the headers, the chunk-size lines and the CRLFs.

mod support;

use std::time::Duration;

use lambda_libc_mock::{Chunked, Event, Fault, Framing, MockServer, Script};
use support::{Bin, assert_responses, echo_bootstraps, noise, padded_head, summary};

fn ev(id: &str, body: impl Into<Vec<u8>>) -> Event {
    Event::json(body).request_id(id)
}

/// Runs every echo bootstrap over `events` and checks each was echoed, in order.
fn assert_echoes(events: &[Event]) {
    for bin in echo_bootstraps() {
        echo_once(&bin, events);
    }
}

fn echo_once(bin: &Bin, events: &[Event]) -> MockServer {
    let (server, _) = bin.echo_run(Script::new().events(events.iter().cloned()));
    let requests = server.requests();
    let expected: Vec<(String, Vec<u8>)> = events
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let id = requests
                .iter()
                .find(|r| r.event == Some(i) && r.route == lambda_libc_mock::Route::Next)
                .and_then(|r| r.response_header("Lambda-Runtime-Aws-Request-Id"))
                .unwrap_or_else(|| panic!("{bin}: event {i} was not served; requests:\n{}", summary(&requests)))
                .to_owned();
            (id, e.body().to_vec())
        })
        .collect();
    assert_responses(bin, &server, &expected);
    server
}

fn chunked(body: &[u8], c: Chunked) -> Event {
    Event::json(body.to_vec()).framing(Framing::Chunked(c))
}

#[test]
fn chunk_layouts() {
    let body = noise(20_000, 20);
    assert_echoes(&[
        chunked(&body, Chunked::sizes([1, 7, 4096])).request_id("sizes"),
        chunked(&body, Chunked::sizes([])).request_id("single"),
        chunked(&body[..3000], Chunked::sizes([1])).request_id("ones"),
        chunked(&body, Chunked::sizes([65536])).request_id("larger-than-body"),
        chunked(&body, Chunked::sizes([19_999])).request_id("last-byte-alone"),
        chunked(b"x", Chunked::sizes([1])).request_id("one-byte"),
    ]);
}

#[test]
fn chunk_line_spellings_and_trailers() {
    let body = noise(10_000, 21);
    assert_echoes(&[
        chunked(&body, Chunked::sizes([5, 11, 2748]).extension(";name=value;q=\"quoted ; str\"")).request_id("ext"),
        chunked(&body, Chunked::sizes([0xABC, 0xFF]).uppercase_hex()).request_id("upper"),
        chunked(&body, Chunked::sizes([0xabc, 0xff])).request_id("lower"),
        chunked(&body, Chunked::sizes([300]).zero_padded(8)).request_id("padded"),
        chunked(&body, Chunked::sizes([4000]).trailer("X-Checksum", "abc123").trailer("X-Other", "1"))
            .request_id("trailers"),
        chunked(
            &body,
            Chunked::sizes([7, 4093])
                .extension(";a=b")
                .uppercase_hex()
                .zero_padded(6)
                .trailer("Expires", "Wed, 21 Oct 2015 07:28:00 GMT"),
        )
        .request_id("everything"),
        chunked(b"", Chunked::sizes([]).extension(";last").trailer("X-Empty", "")).request_id("empty-with-trailer"),
    ]);
}

#[test]
fn byte_by_byte_delivery() {
    let body = noise(1500, 22);
    assert_echoes(&[
        ev("cl", body.clone()).fault(Fault::ByteByByte),
        ev("te", body.clone()).chunked([1, 7, 300]).fault(Fault::ByteByByte),
        chunked(&body[..200], Chunked::sizes([13]).extension(";x=y").trailer("T", "v"))
            .request_id("te-trailer")
            .fault(Fault::ByteByByte),
    ]);
}

#[test]
fn paced_single_bytes_split_the_response_everywhere() {
    // One byte per write with a pause: every read sees at most a byte or two, so every
    // boundary of the head and of the chunk framing is a read boundary.
    let paced = Fault::Paced { bytes: 1, pause: Duration::from_millis(1) };
    assert_echoes(&[
        chunked(b"hello, paced world", Chunked::sizes([1, 2, 3]).extension(";e=1").trailer("X-T", "v"))
            .request_id("paced-te")
            .fault(paced.clone()),
        ev("paced-cl", "hello again").fault(paced),
    ]);
}

/// The raw length of a chunked body as the mock encodes it.
fn chunked_len(body_len: usize, sizes: &[usize], ext: &str, trailers: &[(&str, &str)]) -> usize {
    let line = |n: usize| format!("{n:x}").len() + ext.len() + 2;
    let (mut pos, mut k, mut len) = (0, 0, 0);
    while pos < body_len {
        let n = sizes.get(k).or(sizes.last()).copied().unwrap_or(body_len).min(body_len - pos);
        len += line(n) + n + 2;
        pos += n;
        k += 1;
    }
    len + line(0) + trailers.iter().map(|(n, v)| n.len() + 2 + v.len() + 2).sum::<usize>() + 2
}

/// The length of a response head: status line, `name: value` lines, blank line.
fn head_len(status_line: &str, headers: &[(String, String)]) -> usize {
    status_line.len() + 2 + headers.iter().map(|(n, v)| n.len() + 2 + v.len() + 2).sum::<usize>() + 2
}

#[test]
fn split_inside_the_status_line_headers_chunk_lines_and_crlfs() {
    const ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:split";
    const TRACE: &str = "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1";
    const DEADLINE: &str = "4102444800000";
    let body = b"split me: a chunked body".to_vec();
    let sizes = [1, 2, 3, 5];
    let ext = ";k=v";
    let trailers = [("X-T", "v")];
    let mut c = Chunked::sizes(sizes).extension(ext);
    for (n, v) in trailers {
        c = c.trailer(n, v);
    }
    // The headers the mock writes for this event (in its own order; only the total
    // length matters), with a Date of fixed length.
    let expected_headers: Vec<(String, String)> = [
        ("Content-Type", "application/json"),
        ("Lambda-Runtime-Aws-Request-Id", "split-1"),
        ("Lambda-Runtime-Deadline-Ms", DEADLINE),
        ("Lambda-Runtime-Invoked-Function-Arn", ARN),
        ("Lambda-Runtime-Trace-Id", TRACE),
        ("Trailer", "X-T"),
        ("Date", "Mon, 23 Nov 2026 12:00:00 GMT"),
        ("Transfer-Encoding", "chunked"),
    ]
    .iter()
    .map(|(n, v)| (n.to_string(), v.to_string()))
    .collect();
    let head = head_len("HTTP/1.1 200 OK", &expected_headers);
    let raw_body = chunked_len(body.len(), &sizes, ext, &trailers);
    // Every offset of the status line; the last header's CRLF and the blank line; a
    // spread over the headers; every offset of the chunked body.
    let mut offsets: Vec<usize> = (1..=17).collect();
    offsets.extend([head - 4, head - 3, head - 2, head - 1, head]);
    offsets.extend((20..head - 4).step_by(23));
    offsets.extend(head + 1..head + raw_body);
    let split = Event::json(body.clone())
        .request_id("split-1")
        .function_arn(ARN)
        .trace_id(TRACE)
        .deadline_ms(DEADLINE.parse().unwrap())
        .framing(Framing::Chunked(c))
        .fault(Fault::SplitAt(offsets.clone()));
    // A Content-Length reply: a spread of offsets over its head and body.
    let split_cl = ev("split-2", body.clone()).fault(Fault::SplitAt((1..320).step_by(13).collect()));
    for bin in echo_bootstraps() {
        let server = echo_once(&bin, &[split.clone(), split_cl.clone()]);
        // The offsets were computed for the head the mock actually wrote.
        let next = &server.requests()[0];
        assert_eq!(
            head_len("HTTP/1.1 200 OK", &next.response_headers),
            head,
            "the mock's head differs from the one the offsets were computed for: {:?}",
            next.response_headers
        );
    }
}

#[test]
fn duplicate_equal_content_lengths_are_accepted() {
    assert_echoes(&[ev("dup-cl", "twice").append_header("Content-Length", "5")]);
}

#[test]
fn header_names_are_case_insensitive() {
    assert_echoes(&[
        Event::json("lower").header("lambda-runtime-aws-request-id", "lower-id"),
        Event::json("upper").header("LAMBDA-RUNTIME-AWS-REQUEST-ID", "upper-id"),
        Event::json("mixed").header("lAmBdA-rUnTiMe-AwS-rEqUeSt-Id", "mixed-id").append_header("content-length", "5"),
    ]);
}

#[test]
fn a_head_of_exactly_64_kib_is_accepted() {
    for bin in echo_bootstraps() {
        // The mock sends the raw reply and closes the connection: the runtime answers on
        // a fresh one.
        let server = MockServer::start(
            Script::new()
                .events([ev("big-head", "{}").fault(Fault::Raw(padded_head("big-head", 65536))), ev("next", "after")]),
        )
        .unwrap();
        let exit = bin.run_to_idle(&server);
        exit.assert_quiet();
        assert_responses(&bin, &server, &[("big-head".into(), b"{}".to_vec()), ("next".into(), b"after".to_vec())]);
    }
}

#[test]
fn optional_whitespace_and_empty_values_in_raw_heads() {
    let raw = b"HTTP/1.1 200 OK\r\nlambda-runtime-aws-request-id:\t  ows-id \t\r\nX-Empty:\r\nX-Tabs:\t\t\r\nLambda-Runtime-Trace-Id:\r\nCONTENT-LENGTH:  4  \r\n\r\nows!";
    for bin in echo_bootstraps() {
        let server = MockServer::start(
            Script::new().events([ev("ows-id", "ows!").fault(Fault::Raw(raw.to_vec())), ev("next", "after")]),
        )
        .unwrap();
        let exit = bin.run_to_idle(&server);
        exit.assert_quiet();
        assert_responses(&bin, &server, &[("ows-id".into(), b"ows!".to_vec()), ("next".into(), b"after".to_vec())]);
    }
}
