//! The JSON API example (`example-rust/src/api.rs`, `bootstrap-api`) against the mock Runtime
//! API: function URL events (the AWS documentation's sample and variations of it) and the
//! exact response documents, parsed with serde_json.

mod support;

use lambda_libc_mock::{AnswerKind, Event, MAX_PAYLOAD_SIZE, Script};
use serde_json::{Value, json};
use support::{api_bootstraps, summary};

/// The request payload sample of the AWS documentation for function URLs ("Invoking Lambda
/// function URLs", "Request payload format"), as written there.
const SAMPLE: &str = r#"{
  "version": "2.0",
  "routeKey": "$default",
  "rawPath": "/my/path",
  "rawQueryString": "parameter1=value1&parameter1=value2&parameter2=value",
  "cookies": [
    "cookie1",
    "cookie2"
  ],
  "headers": {
    "header1": "value1",
    "header2": "value1,value2"
  },
  "queryStringParameters": {
    "parameter1": "value1,value2",
    "parameter2": "value"
  },
  "requestContext": {
    "accountId": "123456789012",
    "apiId": "<urlid>",
    "authentication": null,
    "authorizer": {
        "iam": {
                "accessKey": "AKIA...",
                "accountId": "111122223333",
                "callerId": "AIDA...",
                "cognitoIdentity": null,
                "principalOrgId": null,
                "userArn": "arn:aws:iam::111122223333:user/example-user",
                "userId": "AIDA..."
        }
    },
    "domainName": "<url-id>.lambda-url.us-west-2.on.aws",
    "domainPrefix": "<url-id>",
    "http": {
      "method": "POST",
      "path": "/my/path",
      "protocol": "HTTP/1.1",
      "sourceIp": "123.123.123.123",
      "userAgent": "agent"
    },
    "requestId": "id",
    "routeKey": "$default",
    "stage": "$default",
    "time": "12/Mar/2020:19:03:58 +0000",
    "timeEpoch": 1583348638390
  },
  "body": "Hello from client!",
  "pathParameters": null,
  "isBase64Encoded": false,
  "stageVariables": null
}"#;

/// One invocation: what it tests, the event, and the response document expected.
struct Case {
    what: String,
    event: Vec<u8>,
    expected: Value,
}

fn case(what: impl Into<String>, event: impl Into<Vec<u8>>, expected: Value) -> Case {
    Case { what: what.into(), event: event.into(), expected }
}

/// Runs every API bootstrap over `cases`, in one session each, and checks every response
/// document.
fn check(cases: &[Case]) {
    for bin in api_bootstraps() {
        let events = cases.iter().enumerate().map(|(i, c)| Event::json(c.event.clone()).request_id(format!("api-{i}")));
        let (server, _) = bin.echo_run(Script::new().events(events));
        let answers = server.answers();
        assert_eq!(answers.len(), cases.len(), "{bin}: answers; requests:\n{}", summary(&server.requests()));
        for (i, (answer, case)) in answers.iter().zip(cases).enumerate() {
            let what = &case.what;
            assert_eq!(answer.kind, AnswerKind::Response, "{bin}: {what}: {}", answer.body_str());
            assert_eq!(answer.request_id, format!("api-{i}"), "{bin}: {what}");
            let document: Value = serde_json::from_slice(answer.body())
                .unwrap_or_else(|e| panic!("{bin}: {what}: not JSON ({e}): {}", shown(&answer.body_str())));
            assert!(
                document == case.expected,
                "{bin}: {what}:\n got {}\nwant {}",
                shown(&document.to_string()),
                shown(&case.expected.to_string())
            );
            // The `body` string is itself the JSON answer.
            let body = document["body"].as_str().expect("a body string");
            serde_json::from_str::<Value>(body).unwrap_or_else(|e| panic!("{bin}: {what}: body is not JSON: {e}"));
        }
    }
}

/// `text`, cut for a failure message.
fn shown(text: &str) -> String {
    match text.char_indices().nth(400) {
        Some((at, _)) => format!("{}… ({} bytes)", &text[..at], text.len()),
        None => text.to_owned(),
    }
}

/// The sample as a request for `method` on `path` with the raw query string `query` and no
/// body.
fn request(method: &str, path: &str, query: &str) -> Value {
    let mut event: Value = serde_json::from_str(SAMPLE).expect("the sample is JSON");
    event["rawPath"] = json!(path);
    event["rawQueryString"] = json!(query);
    event["requestContext"]["http"]["method"] = json!(method);
    event["requestContext"]["http"]["path"] = json!(path);
    event.as_object_mut().expect("an object").remove("body");
    event
}

/// `event` with the body `body`, base64 or not.
fn with_body(mut event: Value, body: &str, base64: bool) -> Value {
    event["body"] = json!(body);
    event["isBase64Encoded"] = json!(base64);
    event
}

/// A `POST /echo` with the JSON body `body`, as text.
fn echo(body: &str) -> Vec<u8> {
    bytes(&with_body(request("POST", "/echo", ""), body, false))
}

/// A `POST /echo` with `body` in base64 (written as given).
fn echo_base64(body: &str) -> Vec<u8> {
    bytes(&with_body(request("POST", "/echo", ""), body, true))
}

/// A `GET /hello` with the raw query string `query`.
fn hello(query: &str) -> Vec<u8> {
    bytes(&request("GET", "/hello", query))
}

fn bytes(event: &Value) -> Vec<u8> {
    serde_json::to_vec(event).expect("serialize the event")
}

/// A response document: `status`, the headers (with `allow` if given) and the body string.
fn document(status: u16, allow: Option<&str>, body: &str) -> Value {
    let mut headers = json!({"content-type": "application/json"});
    if let Some(allow) = allow {
        headers["allow"] = json!(allow);
    }
    json!({"statusCode": status, "headers": headers, "body": body})
}

/// A 200 document whose body string is `body`.
fn ok(body: &str) -> Value {
    document(200, None, body)
}

/// An error document of `status` with `{"error": message}`.
fn error(status: u16, message: &str) -> Value {
    document(status, None, &format!(r#"{{"error":"{message}"}}"#))
}

/// The greeting document of `hello, <name>`, `name` as the JSON answer writes it.
fn greeting(name: &str) -> Value {
    ok(&format!(r#"{{"message":"hello, {name}"}}"#))
}

fn not_a_request() -> Value {
    error(400, "the event is not a function URL request")
}

fn invalid_json() -> Value {
    error(400, "the body is not valid JSON")
}

fn invalid_base64() -> Value {
    error(400, "the body is not valid base64")
}

/// Standard base64 with padding, as Lambda encodes bodies.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for group in bytes.chunks(3) {
        let bits = group.iter().enumerate().fold(0u32, |bits, (i, &b)| bits | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            match i <= group.len() {
                true => out.push(char::from(ALPHABET[(bits >> (18 - 6 * i) & 63) as usize])),
                false => out.push('='),
            }
        }
    }
    out
}

/// A JSON document of at least `len` bytes: objects with numbers, escapes and non-ASCII text.
fn large_json(len: usize) -> String {
    let mut items = Vec::new();
    let mut size = 0;
    while size < len {
        let i = items.len();
        let item = json!({"id": i, "name": format!("item {i}: \"quoted\", back\\slash, é, ✓, 😀"), "ratio": i as f64 / 7.0, "tags": ["a", "b", null, true]});
        size += item.to_string().len() + 1;
        items.push(item);
    }
    json!({ "items": items }).to_string()
}

#[test]
fn the_documentation_sample_is_a_post_to_an_unknown_path() {
    check(&[case("the sample as written", SAMPLE, error(404, "not found"))]);
}

#[test]
fn hello_greets_the_name_from_the_query_string() {
    check(&[
        case("name=Ada", hello("name=Ada"), greeting("Ada")),
        case("among other parameters", hello("greeting=hi&name=Ada&name=Bob"), greeting("Ada")),
        case("+ and percent-encoded UTF-8", hello("name=J%C3%B6rg+M%C3%BCller"), greeting("Jörg Müller")),
        case("a lower-case escape", hello("name=%c3%a9"), greeting("é")),
        case("a percent-encoded key", hello("n%61me=Ada"), greeting("Ada")),
        case("& and = inside the value", hello("name=a%26b%3Dc"), greeting("a&b=c")),
        case(
            "quotes, backslash and control characters, escaped in the answer",
            hello("name=%22Bobby%22%20%5C%0A%01"),
            greeting(r#"\"Bobby\" \\\n\u0001"#),
        ),
        case("UTF-8 as it came", hello("name=✓"), greeting("✓")),
    ]);
}

#[test]
fn hello_without_a_name_greets_the_world() {
    let mut no_query = request("GET", "/hello", "");
    no_query.as_object_mut().expect("an object").remove("rawQueryString");
    no_query.as_object_mut().expect("an object").remove("queryStringParameters");
    check(&[
        case("an empty query string", hello(""), greeting("world")),
        case("no rawQueryString", bytes(&no_query), greeting("world")),
        case("no name parameter", hello("other=1"), greeting("world")),
        case("an empty name", hello("name="), greeting("world")),
        case("a name without =", hello("name"), greeting("world")),
        case("an empty parameter first", hello("&name=Ada"), greeting("Ada")),
    ]);
}

#[test]
fn hello_refuses_a_malformed_query_string() {
    let long = format!("name={}", "a".repeat(5000));
    check(&[
        case("% without digits", hello("name=%zz"), error(400, "the query string is malformed")),
        case("% at the end", hello("name=ab%4"), error(400, "the query string is malformed")),
        case("a malformed key", hello("x%=1&name=Ada"), error(400, "the query string is malformed")),
        case("a name that is not UTF-8", hello("name=%FF"), error(400, "the name is not UTF-8")),
        case("a query string over the limit", hello(&long), error(414, "the query string is too long")),
    ]);
}

#[test]
fn echo_answers_with_the_json_body_as_given() {
    let bodies = [
        r#"{"hello":"world","n":[1,2,3],"s":"é\"\\/\u00e9\ud83d\ude00"}"#,
        " { \"spaced\" : [ 1 , 2 ] }\n",
        "[]",
        "{}",
        "\"a string\"",
        "-0.5e-3",
        "0",
        "true",
        "null",
        "[1E+2,1.0e-0,-0,123456789012345678901234567890]",
    ];
    let cases: Vec<Case> = bodies.iter().map(|body| case(format!("body {body:?}"), echo(body), ok(body))).collect();
    check(&cases);
}

#[test]
fn echo_decodes_a_base64_body() {
    let body = r#"{"bytes":"base64","escapes":"\"\\\n","text":"é ✓ 😀"}"#;
    check(&[
        case("base64 of JSON", echo_base64(&base64(body.as_bytes())), ok(body)),
        case("one byte in the last group", echo_base64(&base64(b"[1]")), ok("[1]")),
        case("two bytes in the last group", echo_base64(&base64(b"[12]")), ok("[12]")),
        case("no padding needed", echo_base64(&base64(b"[123]")), ok("[123]")),
    ]);
}

#[test]
fn echo_refuses_a_body_that_is_not_base64() {
    check(&[
        case("characters outside the alphabet", echo_base64("e30*"), invalid_base64()),
        case("missing padding", echo_base64("e30"), invalid_base64()),
        case("data after padding", echo_base64("e30=e30="), invalid_base64()),
        case("padding alone", echo_base64("===="), invalid_base64()),
        case("non-zero trailing bits", echo_base64("e31="), invalid_base64()),
        case("base64url's alphabet", echo_base64("__4="), invalid_base64()),
        case("bad base64 after bad JSON", echo_base64(&format!("{}!!!!", base64(b"}}}"))), invalid_base64()),
        case("valid base64 of something else", echo_base64(&base64(b"not json")), invalid_json()),
        case("valid base64 of nothing", echo_base64(""), invalid_json()),
    ]);
}

#[test]
fn echo_refuses_invalid_json() {
    let too_deep = format!("{}{}", "[".repeat(65), "]".repeat(65));
    let bodies = [
        r#"{"a":tru}"#,
        r#"{"a":1,}"#,
        "[1 2]",
        "[1,]",
        "01",
        "1.",
        ".5",
        "1e",
        "+1",
        "-",
        "nul",
        r#""\x""#,
        r#""\u12""#,
        r#""\ud800""#,
        r#""\udc00\ud800""#,
        "\"a\tb\"",
        "{\"a\" 1}",
        "{1:2}",
        "{} x",
        "{}{}",
        "",
        "   ",
        "[",
        "\"open",
        &too_deep,
    ];
    let mut cases: Vec<Case> = bodies
        .iter()
        .map(|body| case(format!("body {}", shown(&format!("{body:?}"))), echo(body), invalid_json()))
        .collect();
    let mut no_body = request("POST", "/echo", "");
    no_body["isBase64Encoded"] = json!(false);
    cases.push(case("no body", bytes(&no_body), invalid_json()));
    let mut null_body = no_body.clone();
    null_body["body"] = Value::Null;
    cases.push(case("a null body", bytes(&null_body), invalid_json()));
    check(&cases);
}

#[test]
fn echo_accepts_json_nested_to_the_limit() {
    // The example's limit is 64 levels (65 are refused above).
    let deepest = format!("{}{}", "[".repeat(64), "]".repeat(64));
    let objects = format!("{}1{}", r#"{"a":"#.repeat(64), "}".repeat(64));
    check(&[case("64 arrays", echo(&deepest), ok(&deepest)), case("64 objects", echo(&objects), ok(&objects))]);
}

#[test]
fn echo_answers_a_one_megabyte_body_in_full() {
    let body = large_json(1 << 20);
    check(&[
        case("1 MB as text", echo(&body), ok(&body)),
        case("1 MB in base64", echo_base64(&base64(body.as_bytes())), ok(&body)),
    ]);
}

#[test]
fn echo_answers_413_when_the_answer_would_not_fit() {
    // Base64 of a string of escaped quotes: each `\"` is written `\\\"` in the answer, which
    // comes to half as much again as the event, over Lambda's limit.
    let quotes = format!("\"{}\"", "\\\"".repeat(2_290_000));
    let event = echo_base64(&base64(quotes.as_bytes()));
    assert!(event.len() <= MAX_PAYLOAD_SIZE, "{} bytes", event.len());
    check(&[
        case("an answer too large", event, error(413, "the answer would be larger than Lambda allows")),
        case("the next one", echo("[1]"), ok("[1]")),
    ]);
}

#[test]
fn wrong_methods_get_405_with_an_allow_header() {
    check(&[
        case(
            "POST /hello",
            bytes(&request("POST", "/hello", "")),
            document(405, Some("GET"), r#"{"error":"method not allowed"}"#),
        ),
        case(
            "GET /echo",
            bytes(&request("GET", "/echo", "")),
            document(405, Some("POST"), r#"{"error":"method not allowed"}"#),
        ),
        case(
            "PUT /echo",
            bytes(&request("PUT", "/echo", "")),
            document(405, Some("POST"), r#"{"error":"method not allowed"}"#),
        ),
        case(
            "lower-case get",
            bytes(&request("get", "/hello", "")),
            document(405, Some("GET"), r#"{"error":"method not allowed"}"#),
        ),
    ]);
}

#[test]
fn unknown_paths_get_404() {
    check(&[
        case("GET /", bytes(&request("GET", "/", "")), error(404, "not found")),
        case("GET /hello/", bytes(&request("GET", "/hello/", "")), error(404, "not found")),
        case("GET /Hello", bytes(&request("GET", "/Hello", "")), error(404, "not found")),
        case("POST /echo/more", bytes(&request("POST", "/echo/more", "")), error(404, "not found")),
    ]);
}

#[test]
fn escaped_strings_in_the_event_are_read_as_what_they_stand_for() {
    // As an encoder that escapes every `/` and everything past ASCII would write them.
    let event = r#"{"rawPath":"\/hello","rawQueryString":"name=\u00e9\ud83d\ude00%21","requestContext":{"http":{"method":"\u0047ET"}}}"#;
    let echo = r#"{"rawPath":"\/echo","requestContext":{"http":{"method":"POST"}},"body":"{\"k\":\"\\u00e9\u00e9\"}","isBase64Encoded":false}"#;
    let base64 =
        r#"{"rawPath":"/echo","requestContext":{"http":{"method":"POST"}},"body":"e30\u003d","isBase64Encoded":true}"#;
    check(&[
        case("escaped path, query and method", event, greeting("é😀!")),
        case("an escaped body, kept as written", echo, ok(r#"{"k":"\u00e9é"}"#)),
        case("an escaped base64 body", base64, ok("{}")),
    ]);
}

#[test]
fn events_that_are_not_function_url_requests_get_400() {
    let mut no_context = request("GET", "/hello", "");
    no_context.as_object_mut().expect("an object").remove("requestContext");
    let mut no_http = request("GET", "/hello", "");
    no_http["requestContext"].as_object_mut().expect("an object").remove("http");
    let mut no_path = request("GET", "/hello", "");
    no_path.as_object_mut().expect("an object").remove("rawPath");
    let mut number_path = request("GET", "/hello", "");
    number_path["rawPath"] = json!(1);
    let mut text_base64_flag = with_body(request("POST", "/echo", ""), "{}", false);
    text_base64_flag["isBase64Encoded"] = json!("yes");
    let mut deep_header = request("GET", "/hello", "");
    // The event, its headers and 63 arrays: 65 levels, one more than the example reads.
    deep_header["headers"]["deep"] = serde_json::from_str(&format!("{}{}", "[".repeat(63), "]".repeat(63))).unwrap();
    check(&[
        case("no requestContext", bytes(&no_context), not_a_request()),
        case("no requestContext.http", bytes(&no_http), not_a_request()),
        case("no rawPath", bytes(&no_path), not_a_request()),
        case("a number for rawPath", bytes(&number_path), not_a_request()),
        case("a string for isBase64Encoded", bytes(&text_base64_flag), not_a_request()),
        case("an empty object", "{}", not_a_request()),
        case("an array", "[]", not_a_request()),
        case("not JSON", "hello", not_a_request()),
        case("an empty event", "", not_a_request()),
        case("JSON cut short", &SAMPLE[..SAMPLE.len() / 2], not_a_request()),
        case("a field nested too deeply", bytes(&deep_header), not_a_request()),
        case("a million open brackets", "[".repeat(1_000_000), not_a_request()),
        case("an escape that is not one", r#"{"rawPath":"\q"}"#, not_a_request()),
        case("then a good one", hello("name=Ada"), greeting("Ada")),
    ]);
}

#[test]
fn the_test_base64_encoder_is_standard() {
    assert_eq!(base64(b""), "");
    assert_eq!(base64(b"{}"), "e30=");
    assert_eq!(base64(b"[1]"), "WzFd");
    assert_eq!(base64(b"\xff\xfe"), "//4=");
    assert_eq!(base64(b"Man"), "TWFu");
    assert_eq!(base64(b"Ma"), "TWE=");
    assert_eq!(base64(b"M"), "TQ==");
}
