//! Differential tests of the wire code against httparse, on stable (proptest): generated
//! header blocks (status lines, header names and values, the framing headers, the context
//! headers) must get exactly the result the oracle of `fuzz/src/lib.rs` derives from
//! httparse, and generated chunk-size lines must decode to httparse's chunk size. Where
//! lambda-libc is deliberately stricter, the rule is stated in the oracle
//! (`expected_head`) or next to the strategy, and the comparison runs on the common domain.

#[allow(dead_code)] // fuzz_replay.rs uses the rest
#[path = "../../fuzz/src/lib.rs"]
mod wire_checks;

use lambda_libc::http::{BodyDecoder, Error, Framing, MAX_BODY};
use proptest::prelude::*;

/// A header name: one the parser knows (in any case), another token, or a broken one.
fn name() -> impl Strategy<Value = String> {
    let known = prop::sample::select(vec![
        "Lambda-Runtime-Aws-Request-Id",
        "Lambda-Runtime-Deadline-Ms",
        "Lambda-Runtime-Invoked-Function-Arn",
        "Lambda-Runtime-Trace-Id",
        "Lambda-Runtime-Client-Context",
        "Lambda-Runtime-Cognito-Identity",
        "Lambda-Runtime-Aws-Tenant-Id",
        "Lambda-Runtime-Invocation-Id",
        "Content-Type",
        "Content-Length",
        "Transfer-Encoding",
        "Connection",
        "Date",
    ]);
    let cased = (known, any::<u64>()).prop_map(|(n, bits)| {
        n.chars()
            .enumerate()
            .map(|(i, c)| if bits >> (i % 64) & 1 == 1 { c.to_ascii_uppercase() } else { c.to_ascii_lowercase() })
            .collect()
    });
    prop_oneof![
        6 => cased,
        2 => "[!#$%&'*+.^_`|~0-9A-Za-z-]{1,12}",
        1 => "[A-Za-z]{0,3}[ @\"(),/:;<=>?{}\\[\\]]{1,2}[A-Za-z]{0,3}",
    ]
}

/// A header value: what the framing headers and the context take, or any field content
/// (with tabs, spaces and obs-text), sometimes a control character.
fn value() -> impl Strategy<Value = Vec<u8>> {
    let words = prop::sample::select(vec![
        "chunked",
        "CHUNKED",
        "gzip",
        "close",
        "keep-alive",
        "Keep-Alive, close",
        "close, keep-alive",
        "upgrade",
        "0",
        "7",
        "18446744073709551615",
        "18446744073709551616",
        "-1",
        "1 2",
        "007",
    ]);
    prop_oneof![
        4 => words.prop_map(|w| w.as_bytes().to_vec()),
        3 => prop::collection::vec(prop_oneof![Just(b'\t'), 0x20u8..0x7f, 0x80u8..=0xff], 0..24),
        1 => prop::collection::vec(any::<u8>().prop_filter("no line breaks", |b| *b != b'\n'), 0..8),
    ]
    .prop_flat_map(|v| (Just(v), "[ \t]{0,2}", "[ \t]{0,2}"))
    .prop_map(|(v, pre, post)| [pre.as_bytes(), &v, post.as_bytes()].concat())
}

/// A status line: mostly well formed, sometimes not.
fn status_line() -> impl Strategy<Value = Vec<u8>> {
    let version = prop::sample::select(vec!["HTTP/1.1", "HTTP/1.0", "HTTP/1.2", "HTTP/2.0", "HTTP/1.", "http/1.1"]);
    let code = prop_oneof![100u16..600, 0u16..1000];
    let reason = prop_oneof![Just(String::new()), " [ -~]{0,12}".prop_map(|r| r), Just(" OK\t".to_owned())];
    (version, code, reason).prop_map(|(v, c, r)| format!("{v} {c:03}{r}").into_bytes())
}

/// A header block ending with its blank line.
fn block() -> impl Strategy<Value = Vec<u8>> {
    (status_line(), prop::collection::vec((name(), value()), 0..12)).prop_map(|(status, headers)| {
        let mut b = status;
        b.extend_from_slice(b"\r\n");
        for (n, v) in headers {
            b.extend_from_slice(n.as_bytes());
            b.extend_from_slice(b":");
            b.extend_from_slice(&v);
            b.extend_from_slice(b"\r\n");
        }
        b.extend_from_slice(b"\r\n");
        b
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4096, ..ProptestConfig::default() })]

    /// Every generated block: lambda-libc's verdict and values are the oracle's.
    #[test]
    fn header_blocks_agree_with_httparse(b in block()) {
        // Only blocks whose first blank line is the generated one (a value may hold CRLFCRLF
        // bytes only if a control byte made it so; those are cut at the first one).
        let n = wire_checks::first_blank_line(&b).expect("the block ends with CRLFCRLF");
        wire_checks::check_head(&b[..n]);
    }

    /// Chunk-size lines httparse accepts (1 to 15 hex digits in any case, leading zeros, an
    /// optional extension): the decoder reads httparse's size and the data that follows, or,
    /// for a size over `MAX_BODY`, which no valid response has, refuses it as too large.
    /// lambda-libc also allows spaces before `;`, which is outside this domain.
    #[test]
    fn chunk_sizes_agree_with_httparse(
        digits in "[0-9a-fA-F]{1,15}",
        ext in prop_oneof![Just(String::new()), ";[a-z]{1,6}", ";[a-z]{1,4}=[a-z0-9]{1,4}"],
    ) {
        let line = format!("{digits}{ext}\r\n");
        let theirs = match httparse::parse_chunk_size(line.as_bytes()) {
            Ok(httparse::Status::Complete((used, size))) => { prop_assert_eq!(used, line.len()); size }
            other => return Err(TestCaseError::fail(format!("httparse rejects {line:?}: {other:?}"))),
        };
        let size = u64::from_str_radix(&digits, 16).expect("hex");
        prop_assert_eq!(theirs, size);
        // Decode the line plus (for small sizes) the data, its CRLF and the last chunk.
        let mut raw = line.clone().into_bytes();
        if size == 0 {
            raw.extend_from_slice(b"\r\n"); // the last chunk: only the blank line follows
        } else if size <= 4096 {
            raw.extend(std::iter::repeat_n(b'x', size as usize));
            raw.extend_from_slice(b"\r\n0\r\n\r\n");
        }
        let end = raw.len();
        let progress = BodyDecoder::new(Framing::Chunked).decode(&mut raw, 0, 0, end);
        if size > MAX_BODY {
            // No valid response has a chunk this large: refused before its data is read.
            prop_assert_eq!(progress, Err(Error::BodyTooLarge), "{:?}", line);
            return Ok(());
        }
        prop_assert!(progress.is_ok(), "lambda-libc rejects {:?}: {:?}", line, progress);
        let progress = progress.unwrap();
        if size <= 4096 {
            prop_assert_eq!(progress.out as u64, size);
            prop_assert_eq!(progress.end, Some(end));
        } else {
            prop_assert_eq!(progress.out, 0);
            prop_assert_eq!(progress.end, None);
        }
    }

    /// Lines both reject: a non-hex digit, a control byte. (An empty size line, which
    /// httparse reads as 0, lambda-libc rejects: a unit test in runtime/src/http/body.rs pins it.)
    #[test]
    fn bad_chunk_sizes_are_rejected_by_both(line in prop_oneof![
        "[g-zG-Z][0-9a-f]{0,3}\r\n",
        "[0-9a-f]{1,3}[g-zG-Z]\r\n",
        "[0-9a-f]{1,3}\u{1}\r\n",
    ]) {
        prop_assert!(!matches!(httparse::parse_chunk_size(line.as_bytes()), Ok(httparse::Status::Complete(_))), "httparse accepts {:?}", line);
        let mut raw = line.clone().into_bytes();
        let end = raw.len();
        prop_assert!(BodyDecoder::new(Framing::Chunked).decode(&mut raw, 0, 0, end).is_err(), "lambda-libc accepts {:?}", line);
    }
}
