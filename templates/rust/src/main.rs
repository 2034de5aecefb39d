//! A Lambda function behind a function URL: `GET /hello?name=Ada` answers
//! `{"message":"hello, Ada"}`. No heap: serde-json-core parses the event where it lies, and
//! the answer is written into the runtime's response buffer.

#![no_std]
#![no_main]

use lambda_libc::{Invocation, Outcome, Writer};
use serde::Deserialize;

/// The parts of a function URL event (payload format 2.0) this function reads; the other
/// fields are skipped. Strings are borrowed from the event as written, escapes and all:
/// `"\/hello"` is not the path `/hello` (404), and the name check refuses a backslash.
/// serde-json-core recurses once per level of nesting, without a limit: Lambda's function
/// URL events are shallow, but an event nested thousands deep, sent by a direct invoke,
/// would overflow the stack.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Request<'a> {
    raw_path: &'a str,
    /// Absent when the URL has no query string.
    #[serde(default)]
    raw_query_string: &'a str,
    #[serde(borrow)]
    request_context: RequestContext<'a>,
}

#[derive(Deserialize)]
struct RequestContext<'a> {
    #[serde(borrow)]
    http: Http<'a>,
}

#[derive(Deserialize)]
struct Http<'a> {
    method: &'a str,
}

fn handler<'a>(invocation: &Invocation<'a>, out: Writer<'a>) -> Outcome<'a> {
    let Ok((request, _)) = serde_json_core::from_slice::<Request>(invocation.event) else {
        return respond(out, "400", &["the event is not a function URL request"]);
    };
    match (request.raw_path, request.request_context.http.method) {
        ("/hello", "GET") => {
            let name = query_value(request.raw_query_string, "name").unwrap_or("world");
            if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return respond(out, "400", &["name: letters and digits only"]);
            }
            respond(out, "200", &["hello, ", name])
        }
        ("/hello", _) => respond(out, "405", &["/hello answers GET only"]),
        _ => respond(out, "404", &["no such path"]),
    }
}

/// The value of `key` in a query string (`a=1&name=Ada`), as sent (not percent-decoded).
fn query_value<'q>(query: &'q str, key: &str) -> Option<&'q str> {
    query.split('&').find_map(|pair| match pair.split_once('=') {
        Some((k, value)) if k == key => Some(value),
        _ => None,
    })
}

/// Writes a function URL response: `status`, a JSON content type, and a body
/// `{"message":"…"}` made of `message`'s parts. The parts need no JSON escaping: the
/// callers pass fixed text and names checked to be letters and digits.
fn respond<'a>(mut out: Writer<'a>, status: &str, message: &[&str]) -> Outcome<'a> {
    out.write(b"{\"statusCode\":")?;
    out.write(status.as_bytes())?;
    out.write(br#","headers":{"content-type":"application/json"},"body":"{\"message\":\""#)?;
    for part in message {
        out.write(part.as_bytes())?;
    }
    out.write(br#"\"}"}"#)?;
    Ok(out.finish())
}

lambda_libc::main!(handler);
