//! The JSON API example: a function behind a Lambda function URL (payload format 2.0), in
//! `no_std` Rust without a heap.
//!
//! | request | answer |
//! |---|---|
//! | `GET /hello?name=Ada` | 200 `{"message":"hello, Ada"}`: `name` percent-decoded, `+` a space; no name, or an empty one: `world` |
//! | `POST /echo` with a JSON body | 200, the body as given (base64-decoded first when the event says it is base64) |
//! | any other path | 404 |
//! | `/hello` or `/echo` with another method | 405, with an `allow` header |
//! | a body that is not JSON (or nested deeper than [`json::MAX_DEPTH`]), or not base64 when it should be; a malformed query string; a name that is not UTF-8; an event that is not a function URL request | 400 |
//! | a query string longer than [`MAX_QUERY`] | 414 |
//! | an echo whose answer would not fit in Lambda's response | 413 |
//!
//! Every answer is a function URL response document,
//! `{"statusCode":…,"headers":{"content-type":"application/json",…},"body":"…"}`, whose `body`
//! string holds the JSON answer.
//!
//! Nothing is copied onto the stack but the query string (at most [`MAX_QUERY`] bytes). The
//! event is parsed by serde-json-core into strings borrowed from it as written, escapes and
//! all. A text body is checked as JSON while it is unescaped a byte at a time, then copied
//! into the answer as the event wrote it, which is already a JSON string's content. A base64
//! body is decoded four characters at a time, twice: once to check it, once to write it,
//! escaped, into the answer.

#![no_std]
#![no_main]

#[path = "api/json.rs"]
mod json;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use lambda_libc::{Invocation, Outcome, Overflow, Writer};
use serde::Deserialize;
use serde_json_core::str::EscapedStr;

use json::Unescaped;

/// The longest query string `/hello` reads (it is copied, unescaped, onto the stack); a
/// longer one is answered 414.
const MAX_QUERY: usize = 4096;

/// The fields of a function URL request that the API reads; serde-json-core skips the
/// others. Strings are borrowed from the event as written, escapes and all: an escaped string
/// cannot be a `&str` of the event.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Request<'a> {
    #[serde(borrow)]
    raw_path: EscapedStr<'a>,
    /// Empty when the URL has no query.
    #[serde(borrow, default)]
    raw_query_string: EscapedStr<'a>,
    #[serde(borrow)]
    request_context: RequestContext<'a>,
    /// Absent (or `null`) when the request has no body.
    #[serde(borrow, default)]
    body: Option<EscapedStr<'a>>,
    /// Whether `body` is the body in base64, as Lambda sends content that is not text.
    #[serde(default)]
    is_base64_encoded: bool,
}

/// `requestContext`: the part the API reads.
#[derive(Deserialize)]
struct RequestContext<'a> {
    #[serde(borrow)]
    http: Http<'a>,
}

/// `requestContext.http`: the part the API reads.
#[derive(Deserialize)]
struct Http<'a> {
    #[serde(borrow)]
    method: EscapedStr<'a>,
}

/// The paths the API knows.
enum Route {
    Hello,
    Echo,
    Unknown,
}

/// The methods the API tells apart.
enum Method {
    Get,
    Post,
    Other,
}

/// The status of an answer.
#[derive(Clone, Copy)]
enum Status {
    Ok,
    BadRequest,
    NotFound,
    /// 405, with the method the path allows.
    MethodNotAllowed(Allow),
    PayloadTooLarge,
    UriTooLong,
}

/// The method a path allows, for a 405's `allow` header.
#[derive(Clone, Copy)]
enum Allow {
    Get,
    Post,
}

// The JSON answers of the errors.
const NOT_A_REQUEST: &[u8] = br#"{"error":"the event is not a function URL request"}"#;
const NOT_FOUND: &[u8] = br#"{"error":"not found"}"#;
const METHOD_NOT_ALLOWED: &[u8] = br#"{"error":"method not allowed"}"#;
const INVALID_JSON: &[u8] = br#"{"error":"the body is not valid JSON"}"#;
const INVALID_BASE64: &[u8] = br#"{"error":"the body is not valid base64"}"#;
const MALFORMED_QUERY: &[u8] = br#"{"error":"the query string is malformed"}"#;
const NAME_NOT_UTF8: &[u8] = br#"{"error":"the name is not UTF-8"}"#;
const QUERY_TOO_LONG: &[u8] = br#"{"error":"the query string is too long"}"#;
const ANSWER_TOO_LARGE: &[u8] = br#"{"error":"the answer would be larger than Lambda allows"}"#;

/// An answer document up to the opening quote of its `body` string.
fn head(status: Status) -> &'static [u8] {
    match status {
        Status::Ok => br#"{"statusCode":200,"headers":{"content-type":"application/json"},"body":""#,
        Status::BadRequest => br#"{"statusCode":400,"headers":{"content-type":"application/json"},"body":""#,
        Status::NotFound => br#"{"statusCode":404,"headers":{"content-type":"application/json"},"body":""#,
        Status::MethodNotAllowed(Allow::Get) => {
            br#"{"statusCode":405,"headers":{"content-type":"application/json","allow":"GET"},"body":""#
        }
        Status::MethodNotAllowed(Allow::Post) => {
            br#"{"statusCode":405,"headers":{"content-type":"application/json","allow":"POST"},"body":""#
        }
        Status::PayloadTooLarge => br#"{"statusCode":413,"headers":{"content-type":"application/json"},"body":""#,
        Status::UriTooLong => br#"{"statusCode":414,"headers":{"content-type":"application/json"},"body":""#,
    }
}

/// An answer document after its `body` string's content.
const TAIL: &[u8] = br#""}"#;

/// The handler: parses the event, then answers by path and method.
fn api<'a>(invocation: &Invocation<'a>, out: Writer<'a>) -> Outcome<'a> {
    let Some(request) = parse(invocation.event) else {
        return answer(out, Status::BadRequest, NOT_A_REQUEST);
    };
    match (route(request.raw_path), method(request.request_context.http.method)) {
        (Route::Hello, Method::Get) => hello(out, request.raw_query_string),
        (Route::Echo, Method::Post) => echo(out, request.body.unwrap_or_default(), request.is_base64_encoded),
        (Route::Hello, _) => answer(out, Status::MethodNotAllowed(Allow::Get), METHOD_NOT_ALLOWED),
        (Route::Echo, _) => answer(out, Status::MethodNotAllowed(Allow::Post), METHOD_NOT_ALLOWED),
        (Route::Unknown, _) => answer(out, Status::NotFound, NOT_FOUND),
    }
}

lambda_libc::main!(api);

/// The request in `event`, or `None` if the event is not JSON or lacks a field the API reads.
fn parse(event: &[u8]) -> Option<Request<'_>> {
    // serde-json-core neither checks the escapes of the strings it borrows nor bounds its
    // recursion: the validator does both first, and `Unescaped` relies on it.
    if !json::is_valid(event.iter().copied()) {
        return None;
    }
    match serde_json_core::from_slice::<Request<'_>>(event) {
        Ok((request, _)) => Some(request),
        Err(_) => None,
    }
}

/// The route of the path `path`.
fn route(path: EscapedStr<'_>) -> Route {
    if is(path, "/hello") {
        Route::Hello
    } else if is(path, "/echo") {
        Route::Echo
    } else {
        Route::Unknown
    }
}

/// The method named `name`.
fn method(name: EscapedStr<'_>) -> Method {
    if is(name, "GET") {
        Method::Get
    } else if is(name, "POST") {
        Method::Post
    } else {
        Method::Other
    }
}

/// Whether the JSON string `text`, as written, stands for `expected`.
fn is(text: EscapedStr<'_>, expected: &str) -> bool {
    Unescaped::new(text.0.as_bytes()).eq(expected.bytes())
}

/// An answer of `status` whose JSON is `json`.
fn answer<'a>(mut out: Writer<'a>, status: Status, json: &[u8]) -> Outcome<'a> {
    out.write(head(status))?;
    write_escaped(&mut out, json)?;
    out.write(TAIL)?;
    Ok(out.finish())
}

/// Writes `bytes` as a JSON string's content.
fn write_escaped(out: &mut Writer<'_>, bytes: &[u8]) -> Result<(), Overflow> {
    for &byte in bytes {
        out.write(json::escape(byte, &mut [0; 6]))?;
    }
    Ok(())
}

/// Whether a 200 answer whose `body` string's content has `body_len` bytes fits in `out`.
fn fits(out: &Writer<'_>, body_len: usize) -> bool {
    head(Status::Ok).len() + body_len + TAIL.len() <= out.remaining()
}

/// `GET /hello`: greets the query's `name`, or the world.
fn hello<'a>(mut out: Writer<'a>, raw_query: EscapedStr<'_>) -> Outcome<'a> {
    let mut buf = [0; MAX_QUERY];
    let Some(query) = unescape_into(raw_query, &mut buf) else {
        return answer(out, Status::UriTooLong, QUERY_TOO_LONG);
    };
    let name: &[u8] = match name_parameter(query) {
        Ok(Some(name)) if !name.is_empty() => name,
        Ok(_) => b"world",
        Err(Malformed) => return answer(out, Status::BadRequest, MALFORMED_QUERY),
    };
    if core::str::from_utf8(name).is_err() {
        return answer(out, Status::BadRequest, NAME_NOT_UTF8);
    }
    // The answer is JSON in a JSON string: the name is escaped once for the answer, and
    // each byte of that once more for the `body` string. It fits: the name is short.
    out.write(head(Status::Ok))?;
    write_escaped(&mut out, br#"{"message":"hello, "#)?;
    for &byte in name {
        write_escaped(&mut out, json::escape(byte, &mut [0; 6]))?;
    }
    write_escaped(&mut out, br#""}"#)?;
    out.write(TAIL)?;
    Ok(out.finish())
}

/// The bytes the JSON string `text` stands for, in `buf`; `None` if they do not fit.
fn unescape_into<'b>(text: EscapedStr<'_>, buf: &'b mut [u8]) -> Option<&'b mut [u8]> {
    let mut len = 0;
    for byte in Unescaped::new(text.0.as_bytes()) {
        *buf.get_mut(len)? = byte;
        len += 1;
    }
    buf.get_mut(..len)
}

/// A query string with a `%` that two hex digits do not follow.
struct Malformed;

/// The value of the first `name` parameter of `query`, percent-decoded in place.
fn name_parameter(query: &mut [u8]) -> Result<Option<&[u8]>, Malformed> {
    for parameter in query.split_mut(|&byte| byte == b'&') {
        // The key, up to the first `=`, and the value after it (empty without one).
        let mut parts = parameter.splitn_mut(2, |&byte| byte == b'=');
        let key = parts.next().unwrap_or_default();
        let value = parts.next().unwrap_or_default();
        if percent_decode(key)? == b"name" {
            return percent_decode(value).map(Some);
        }
    }
    Ok(None)
}

/// Decodes `text` in place: `%` and two hex digits stand for that byte, `+` for a space (as
/// HTML forms encode it). Returns the decoded bytes, which start `text`.
fn percent_decode(text: &mut [u8]) -> Result<&[u8], Malformed> {
    let mut read = 0;
    let mut written = 0;
    // Invariant: `written <= read`. No byte decodes to more bytes than its encoding, so the
    // decoded bytes never overwrite one still to be read.
    while let Some(&byte) = text.get(read) {
        let (decoded, encoded_len) = match byte {
            b'+' => (b' ', 1),
            b'%' => (text.get(read + 1..read + 3).and_then(hex_pair).ok_or(Malformed)?, 3),
            other => (other, 1),
        };
        if let Some(slot) = text.get_mut(written) {
            *slot = decoded;
        }
        read += encoded_len;
        written += 1;
    }
    Ok(text.get(..written).unwrap_or_default())
}

/// The byte two hex digits stand for.
fn hex_pair(digits: &[u8]) -> Option<u8> {
    let [high, low] = digits else {
        return None;
    };
    let high = char::from(*high).to_digit(16)?;
    let low = char::from(*low).to_digit(16)?;
    u8::try_from(high * 16 + low).ok()
}

/// `POST /echo`: answers with the JSON body as given.
fn echo<'a>(out: Writer<'a>, body: EscapedStr<'_>, base64: bool) -> Outcome<'a> {
    match base64 {
        false => echo_text(out, body),
        true => echo_base64(out, body),
    }
}

/// Echoes a body the event holds as text. The event's string is already the JSON string
/// content the answer needs, so it is copied as it is, once the JSON it stands for is checked.
fn echo_text<'a>(mut out: Writer<'a>, body: EscapedStr<'_>) -> Outcome<'a> {
    let written = body.0.as_bytes();
    if !json::is_valid(Unescaped::new(written)) {
        return answer(out, Status::BadRequest, INVALID_JSON);
    }
    if !fits(&out, written.len()) {
        return answer(out, Status::PayloadTooLarge, ANSWER_TOO_LARGE);
    }
    out.write(head(Status::Ok))?;
    out.write(written)?;
    out.write(TAIL)?;
    Ok(out.finish())
}

/// Echoes a body the event holds in base64: decoded once to check it and measure the
/// answer, and once more to write it.
fn echo_base64<'a>(mut out: Writer<'a>, body: EscapedStr<'_>) -> Outcome<'a> {
    let mut decoded = Base64Decoded::new(body);
    let mut escaped_len = 0;
    let valid = json::is_valid(decoded.by_ref().inspect(|&byte| escaped_len += json::escape(byte, &mut [0; 6]).len()));
    // Decode to the end, so that bad base64 is reported as such wherever it is.
    while decoded.next().is_some() {}
    if decoded.failed {
        return answer(out, Status::BadRequest, INVALID_BASE64);
    }
    if !valid {
        return answer(out, Status::BadRequest, INVALID_JSON);
    }
    // A valid text was read to its end, so `escaped_len` counts all of it.
    if !fits(&out, escaped_len) {
        return answer(out, Status::PayloadTooLarge, ANSWER_TOO_LARGE);
    }
    out.write(head(Status::Ok))?;
    for byte in Base64Decoded::new(body) {
        out.write(json::escape(byte, &mut [0; 6]))?;
    }
    out.write(TAIL)?;
    Ok(out.finish())
}

/// The bytes that base64 text (standard alphabet, with padding, as Lambda writes it) stands
/// for, decoded by the base64 crate four characters at a time. Ends early at the first group
/// of four that is not valid base64; `failed` then says so.
struct Base64Decoded<'a> {
    /// The text, unescaped from the event's string.
    text: Unescaped<'a>,
    /// The bytes of the last group decoded; `decoded[next..len]` are not handed out yet.
    decoded: [u8; 3],
    len: usize,
    next: usize,
    /// The last group had padding, so it must be the last of the text.
    padded: bool,
    /// The text is not valid base64.
    failed: bool,
}

impl<'a> Base64Decoded<'a> {
    /// The bytes the base64 in the JSON string `text` stands for.
    fn new(text: EscapedStr<'a>) -> Self {
        Base64Decoded {
            text: Unescaped::new(text.0.as_bytes()),
            decoded: [0; 3],
            len: 0,
            next: 0,
            padded: false,
            failed: false,
        }
    }

    /// Decodes the next four characters into `decoded`. `None` at the end of the text, or
    /// when they are not valid base64 (`failed` is then set).
    fn decode_group(&mut self) -> Option<()> {
        if self.failed {
            return None;
        }
        let mut group = [0; 4];
        let mut count = 0;
        for slot in &mut group {
            match self.text.next() {
                Some(character) => {
                    *slot = character;
                    count += 1;
                }
                None => break,
            }
        }
        match count {
            0 => return None,
            // The text ends inside a group, without the padding that would complete it.
            1..=3 => self.failed = true,
            // A group after one with padding.
            _ if self.padded => self.failed = true,
            _ => match STANDARD.decode_slice(group, &mut self.decoded) {
                // Only a group with padding decodes to fewer than three bytes.
                Ok(len @ 1..=3) => {
                    self.len = len;
                    self.next = 0;
                    self.padded = len < 3;
                }
                _ => self.failed = true,
            },
        }
        if self.failed { None } else { Some(()) }
    }
}

impl Iterator for Base64Decoded<'_> {
    type Item = u8;

    fn next(&mut self) -> Option<u8> {
        if self.next == self.len {
            self.decode_group()?;
        }
        let byte = self.decoded.get(self.next).copied();
        self.next += 1;
        byte
    }
}
