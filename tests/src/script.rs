//! The script: which events `/next` hands out, how they are framed, and which faults
//! the mock injects.

use std::time::Duration;

use crate::http::json_string;

/// Largest invoke payload and buffered response the real Runtime API accepts:
/// 6 MiB + 100 bytes (`interop.MaxPayloadSize` in the Runtime Interface Emulator).
pub const MAX_PAYLOAD_SIZE: usize = 6_291_556;

/// Invoked function ARN rendered when the script sets none.
pub const DEFAULT_FUNCTION_ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:mock";

/// Function timeout used for `Lambda-Runtime-Deadline-Ms` when the script sets none
/// (3 s, the Lambda default).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(3000);

/// Example `Lambda-Runtime-Client-Context` value used by [`Event::with_all_context`].
pub const EXAMPLE_CLIENT_CONTEXT: &str = r#"{"client":{"installation_id":"mock-installation","app_title":"mock-app","app_version_name":"1.0","app_version_code":"1","app_package_name":"mock.app"},"custom":{"source":"mock"},"env":{"platform":"mock"}}"#;

/// Example `Lambda-Runtime-Cognito-Identity` value used by [`Event::with_all_context`]
/// (the shape RAPID renders: `rapi/model/cognitoidentity.go`).
pub const EXAMPLE_COGNITO_IDENTITY: &str = r#"{"cognitoIdentityId":"us-east-1:11111111-2222-3333-4444-555555555555","cognitoIdentityPoolId":"us-east-1:66666666-7777-8888-9999-000000000000"}"#;

/// Example `Lambda-Runtime-Aws-Tenant-Id` value used by [`Event::with_all_context`].
pub const EXAMPLE_TENANT_ID: &str = "mock-tenant-1";

/// The request id the mock gives the event at `index` (0-based) when the script sets none.
///
/// It has the shape of a real one (a UUID), e.g. `c0ffee00-0000-4000-8000-000000000001`
/// for index 0.
pub fn default_request_id(index: usize) -> String {
    format!("c0ffee00-0000-4000-8000-{:012}", index + 1)
}

/// The `Lambda-Runtime-Trace-Id` the mock renders for the event at `index` when the script
/// sets none, e.g. `Root=1-65f1c0de-000000000000000000000001;Parent=0000000000000001;Sampled=0`.
pub fn default_trace_id(index: usize) -> String {
    format!("Root=1-65f1c0de-{:024x};Parent={:016x};Sampled=0", index + 1, index + 1)
}

/// The ordered list of events the mock serves, plus server-wide defaults.
///
/// ```
/// use lambda_libc_mock::{Event, Exhausted, Reply, Script};
/// let script = Script::new()
///     .event(Event::json(r#"{"n":1}"#).request_id("id-1"))
///     .event(Event::json(r#"{"n":2}"#).chunked([1, 7, 4096]))
///     .when_exhausted(Exhausted::Reply(Reply::for_status(500)));
/// assert_eq!(script.len(), 2);
/// ```
#[derive(Clone, Debug)]
pub struct Script {
    pub(crate) events: Vec<Event>,
    pub(crate) exhausted: Exhausted,
    pub(crate) function_arn: String,
    pub(crate) timeout: Duration,
    pub(crate) capture_raw: bool,
    pub(crate) enforce_deadlines: bool,
}

impl Default for Script {
    fn default() -> Self {
        Self::new()
    }
}

impl Script {
    /// An empty script: no events, `/next` hangs, default ARN and a 3 s timeout.
    pub fn new() -> Self {
        Self {
            events: Vec::new(),
            exhausted: Exhausted::Hang,
            function_arn: DEFAULT_FUNCTION_ARN.to_owned(),
            timeout: DEFAULT_TIMEOUT,
            capture_raw: false,
            enforce_deadlines: false,
        }
    }

    /// Appends one event; `/next` serves events in the order they were added.
    pub fn event(mut self, event: Event) -> Self {
        self.events.push(event);
        self
    }

    /// Appends several events.
    pub fn events(mut self, events: impl IntoIterator<Item = Event>) -> Self {
        self.events.extend(events);
        self
    }

    /// Sets the `Lambda-Runtime-Invoked-Function-Arn` for events that set none.
    pub fn function_arn(mut self, arn: impl Into<String>) -> Self {
        self.function_arn = arn.into();
        self
    }

    /// Sets the function timeout: each deadline is "now + timeout" at the moment `/next`
    /// responds, unless the event overrides it.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Records every request's bytes exactly as received (request line, headers, body with
    /// its chunk framing, trailers) in [`Request::raw`](crate::Request::raw), for golden
    /// wire tests. Off by default: a large body is then held twice.
    pub fn capture_raw(mut self) -> Self {
        self.capture_raw = true;
        self
    }

    /// Answers a `/response` or `/error` posted after its event's deadline (the
    /// `Lambda-Runtime-Deadline-Ms` the mock sent with it) with `410`
    /// [`INVOKE_TIMEOUT_BODY`], as Lambda Managed Instances do (the RIE's
    /// `internal/lambda-managed-instances`: `RenderInvokeTimeout`). The event then counts as
    /// answered, and its [`answer_fault`](Event::answer_fault)s are not applied. Off by
    /// default: every answer to a served event is accepted whatever the time.
    pub fn enforce_deadlines(mut self) -> Self {
        self.enforce_deadlines = true;
        self
    }

    /// Chooses what a `/next` gets once every event has been served.
    pub fn when_exhausted(mut self, exhausted: Exhausted) -> Self {
        self.exhausted = exhausted;
        self
    }

    /// Number of scripted events.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// True when the script has no events.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }
}

/// What a `/next` gets when the script has no event left.
#[derive(Clone, Debug, Default)]
pub enum Exhausted {
    /// Hold the request open ("parked") until an event arrives with
    /// [`MockServer::push_event`](crate::MockServer::push_event) or the
    /// [`MockServer`](crate::MockServer) is dropped, as the real API does while no invoke
    /// arrives. The request is recorded (with no status and no event) when it parks; if a
    /// pushed event releases it, that record is completed in place (event, status, reply
    /// headers).
    #[default]
    Hang,
    /// Answer with this reply, e.g. `Reply::for_status(500)` ("runtime should exit").
    Reply(Reply),
    /// Close the connection (FIN) without answering.
    Close,
}

/// How the mock frames the body of a response it renders.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Framing {
    /// `Content-Length: N` (the default; the real API uses it for bodies up to ~2 KiB).
    #[default]
    ContentLength,
    /// `Transfer-Encoding: chunked` (the real API uses it for larger bodies).
    Chunked(Chunked),
    /// Neither header: the body ends when the mock closes the connection, which it does
    /// right after the body. The real API never does this.
    CloseDelimited,
}

/// Parameters of a chunked body: chunk sizes and the exact spelling of the chunk lines.
///
/// ```
/// use lambda_libc_mock::Chunked;
/// // "0003;a=b\r\nabc\r\n" ... "0;a=b\r\nX-Checksum: 1\r\n\r\n"
/// let c = Chunked::sizes([3]).extension(";a=b").zero_padded(4).uppercase_hex().trailer("X-Checksum", "1");
/// # let _ = c;
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Chunked {
    pub(crate) sizes: Vec<usize>,
    pub(crate) extension: Option<String>,
    pub(crate) uppercase: bool,
    pub(crate) width: usize,
    pub(crate) trailers: Vec<(String, String)>,
}

impl Chunked {
    /// Splits the body into chunks of these sizes; the last size repeats until the body
    /// is used up (the final chunk may be shorter). An empty list sends the whole body as
    /// one chunk.
    ///
    /// # Panics
    /// If a size is 0 (a zero-size chunk is the end marker).
    pub fn sizes(sizes: impl IntoIterator<Item = usize>) -> Self {
        let sizes: Vec<usize> = sizes.into_iter().collect();
        assert!(sizes.iter().all(|&s| s > 0), "chunk sizes must be non-zero (a 0 chunk ends the body)");
        Self { sizes, ..Self::default() }
    }

    /// Appends this chunk extension (e.g. `";a=b"`, written verbatim) to every chunk-size
    /// line, the final `0` line included.
    pub fn extension(mut self, extension: impl Into<String>) -> Self {
        self.extension = Some(extension.into());
        self
    }

    /// Writes chunk sizes in upper-case hex (`FF` instead of `ff`).
    pub fn uppercase_hex(mut self) -> Self {
        self.uppercase = true;
        self
    }

    /// Left-pads chunk sizes with zeros to at least `width` digits (`0007`).
    pub fn zero_padded(mut self, width: usize) -> Self {
        self.width = width;
        self
    }

    /// Sends this trailer field after the last chunk (and declares it in a `Trailer`
    /// response header).
    pub fn trailer(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.trailers.push((name.into(), value.into()));
        self
    }
}

/// A canned HTTP reply: status, headers and body.
///
/// The JSON error bodies have the exact bytes RAPID renders (Go's `json.Encoder`, so they
/// end with a newline): `{"errorMessage":"...","errorType":"..."}\n`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Reply {
    /// A reply with this status, `Content-Type` and body.
    pub fn new(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        Self { status, headers: vec![("Content-Type".to_owned(), content_type.to_owned())], body: body.into() }
    }

    /// A JSON error reply `{"errorMessage":message,"errorType":error_type}\n` with
    /// `Content-Type: application/json`, the shape of every Runtime API error.
    pub fn error(status: u16, error_type: &str, message: &str) -> Self {
        let body = format!("{{\"errorMessage\":{},\"errorType\":{}}}\n", json_string(message), json_string(error_type));
        Self::new(status, "application/json", body)
    }

    /// `202 {"status":"OK"}`: the reply to an accepted `/response`, `/error` or
    /// `/init/error`.
    pub fn accepted() -> Self {
        Self::new(202, "application/json", ACCEPTED_BODY)
    }

    /// The reply RAPID gives for this status (the body it renders for that case):
    ///
    /// | status | errorType | errorMessage |
    /// |---|---|---|
    /// | 202 | — | `{"status":"OK"}` |
    /// | 400 | `InvalidRequestID` | `Invalid request ID` |
    /// | 403 | `InvalidStateTransition` | `State transition from ResponseSent to InvocationResponse failed for runtime. Error: State transition is not allowed` |
    /// | 410 | `InvokeTimeout` | `Invoke timeout` |
    /// | 413 | `RequestEntityTooLarge` | `Exceeded maximum allowed payload size (6291556 bytes).` |
    /// | 500 | `InternalServerError` | `Internal Server Error` |
    ///
    /// Any other status gets errorType `MockError` and its reason phrase as message.
    pub fn for_status(status: u16) -> Self {
        match status {
            202 => Self::accepted(),
            400 => Self::error(400, "InvalidRequestID", "Invalid request ID"),
            403 => Self::error(
                403,
                "InvalidStateTransition",
                "State transition from ResponseSent to InvocationResponse failed for runtime. Error: State transition is not allowed",
            ),
            410 => Self::error(410, "InvokeTimeout", "Invoke timeout"),
            413 => Self::error(
                413,
                "RequestEntityTooLarge",
                &format!("Exceeded maximum allowed payload size ({MAX_PAYLOAD_SIZE} bytes)."),
            ),
            500 => Self::error(500, "InternalServerError", "Internal Server Error"),
            other => Self::error(other, "MockError", crate::http::reason_phrase(other)),
        }
    }

    /// Adds a header (or, for `Content-Type`, replaces it).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        let name = name.into();
        if name.eq_ignore_ascii_case("content-type") {
            self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case("content-type"));
        }
        self.headers.push((name, value.into()));
        self
    }

    /// The status code.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The body bytes.
    pub fn body(&self) -> &[u8] {
        &self.body
    }
}

/// Body of a `202 Accepted` reply, exactly as RAPID renders it.
pub const ACCEPTED_BODY: &str = "{\"status\":\"OK\"}\n";

/// Body of the `413` reply to an oversized buffered `/response`, exactly as RAPID renders it.
pub const TOO_LARGE_BODY: &str = "{\"errorMessage\":\"Exceeded maximum allowed payload size (6291556 bytes).\",\"errorType\":\"RequestEntityTooLarge\"}\n";

/// Body of the `410` reply to an answer posted after its deadline, with
/// [`Script::enforce_deadlines`]: `RenderInvokeTimeout` of the RIE's managed-instances
/// RAPID (`internal/lambda-managed-instances/rapi/rendering/render_error.go`).
pub const INVOKE_TIMEOUT_BODY: &str = "{\"errorMessage\":\"Invoke timeout\",\"errorType\":\"InvokeTimeout\"}\n";

/// Body of the `400` reply to an unknown or already answered request id.
pub const INVALID_REQUEST_ID_BODY: &str =
    "{\"errorMessage\":\"Invalid request ID\",\"errorType\":\"InvalidRequestID\"}\n";

/// Body of the `400` reply to a `/response` whose `Lambda-Runtime-Function-Response-Mode`
/// is neither empty nor `streaming`.
pub const INVALID_RESPONSE_MODE_BODY: &str =
    "{\"errorMessage\":\"Invalid function response mode\",\"errorType\":\"InvalidFunctionResponseMode\"}\n";

/// A misbehaviour the mock injects into one reply.
///
/// Faults given with [`Event::fault`] apply to the `/next` reply that hands out the
/// event; faults given with [`Event::answer_fault`] apply to the reply to the first
/// `/response` or `/error` for it. Faults combine: e.g. `Delay` + `ByteByByte` +
/// `ResetAfterResponse`. When two faults replace the reply (`CloseBeforeResponse`,
/// `ResetBeforeResponse`, `Raw`, `Reply`), the last one wins.
///
/// An event whose `/next` reply is replaced or cut still counts as served: the next `/next`
/// gets the next scripted event. To test a client's retry, script a sacrificial event in
/// front of the real one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Wait this long before replying (the deadline is computed after the wait).
    Delay(Duration),
    /// Close the connection (FIN) without sending anything.
    CloseBeforeResponse,
    /// Reset the connection (`SO_LINGER` 0, then close → RST) without sending anything.
    ResetBeforeResponse,
    /// Send these bytes instead of the reply, then close (FIN), or reset if
    /// `ResetAfterResponse` is also given. For malformed status lines, bad chunk sizes,
    /// truncated bodies (a `Content-Length` larger than what follows), etc.
    Raw(Vec<u8>),
    /// Replace the reply with this one (e.g. `Reply::for_status(500)` on `/next`, or
    /// `Reply::for_status(410)` for an answer). The request is still consumed: a `/next`
    /// event counts as served, an answer as given.
    Reply(Reply),
    /// Reply with an `HTTP/1.0` status line and `Connection: close`, then close.
    Http10,
    /// Reply on HTTP/1.1 with `Connection: close`, then close.
    ConnectionClose,
    /// After the complete reply, close the connection (FIN) without announcing it.
    CloseAfterResponse,
    /// After the complete reply, reset the connection (RST).
    ResetAfterResponse,
    /// Send only the first N bytes of the reply, then close (FIN). With
    /// `Content-Length` framing and N inside the body, that is a truncated body.
    CloseAfterBytes(usize),
    /// Send only the first N bytes of the reply, then reset (RST).
    ResetAfterBytes(usize),
    /// Deliver the reply one byte per `write`, as fast as the socket takes them (TCP_NODELAY
    /// is on). The client still sees coalesced reads whenever it reads slower than the
    /// mock writes; use [`Fault::Paced`] to force small reads.
    ByteByByte,
    /// Deliver the reply `bytes` bytes per `write` with `pause` between writes.
    Paced {
        /// Bytes per write (at least 1).
        bytes: usize,
        /// Pause after each write but the last.
        pause: Duration,
    },
    /// Split the reply at these byte offsets into separate writes, pausing 20 ms between
    /// them so the client sees partial reads.
    SplitAt(Vec<usize>),
    /// For an answer ([`Event::answer_fault`]) only: read just the first N bytes of the
    /// request's body (as sent: chunk framing counts), then close the connection without
    /// replying, as a server that gives up on a streamed response. A client still sending
    /// gets a reset. The request is recorded with those N raw bytes as its body, no status
    /// and an [`error`](crate::Request::error); the event counts as answered.
    CloseWhileReading(usize),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum HeaderEdit {
    Set(String, String),
    Append(String, String),
    Remove(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Deadline {
    Default,
    Timeout(Duration),
    EpochMs(u64),
}

/// One scripted invocation: the payload `/next` hands out, its context headers, framing
/// and faults.
///
/// Rendered headers (as RAPID's `renderInvokeHeaders`, each only when non-empty):
/// `Content-Type` (default `application/json`), `Lambda-Runtime-Aws-Request-Id`,
/// `Lambda-Runtime-Deadline-Ms`, `Lambda-Runtime-Invoked-Function-Arn`,
/// `Lambda-Runtime-Trace-Id`, and optionally `Lambda-Runtime-Client-Context`,
/// `Lambda-Runtime-Cognito-Identity`, `Lambda-Runtime-Aws-Tenant-Id`,
/// `Lambda-Runtime-Invocation-Id`. Handler headers are written sorted by name, then
/// `Date`, then the framing headers, as Go's `net/http` does.
///
/// ```
/// use lambda_libc_mock::{Event, Fault};
/// let e = Event::json(b"{}")
///     .request_id("id-1")
///     .with_all_context()
///     .remove_header("Lambda-Runtime-Trace-Id")
///     .fault(Fault::ByteByByte);
/// # let _ = e;
/// ```
#[derive(Clone, Debug)]
pub struct Event {
    pub(crate) body: Vec<u8>,
    pub(crate) request_id: Option<String>,
    pub(crate) content_type: Option<String>,
    pub(crate) deadline: Deadline,
    pub(crate) function_arn: Option<String>,
    pub(crate) trace_id: Option<String>,
    pub(crate) client_context: Option<String>,
    pub(crate) cognito_identity: Option<String>,
    pub(crate) tenant_id: Option<String>,
    pub(crate) invocation_id: Option<String>,
    pub(crate) derive_invocation_id: bool,
    pub(crate) edits: Vec<HeaderEdit>,
    pub(crate) framing: Framing,
    pub(crate) faults: Vec<Fault>,
    pub(crate) answer_faults: Vec<Fault>,
}

impl Event {
    /// An event with this payload and `Content-Type: application/json`. The bytes are sent
    /// as they are; they need not be valid JSON.
    pub fn json(body: impl Into<Vec<u8>>) -> Self {
        Self {
            body: body.into(),
            request_id: None,
            content_type: None,
            deadline: Deadline::Default,
            function_arn: None,
            trace_id: None,
            client_context: None,
            cognito_identity: None,
            tenant_id: None,
            invocation_id: None,
            derive_invocation_id: false,
            edits: Vec::new(),
            framing: Framing::ContentLength,
            faults: Vec::new(),
            answer_faults: Vec::new(),
        }
    }

    /// A valid JSON payload (one string, `"aaa…"`) of exactly `len` bytes (`len >= 2`).
    /// `Event::json_of_len(MAX_PAYLOAD_SIZE + 1)` is an event larger than the real API
    /// would ever send.
    ///
    /// # Panics
    /// If `len < 2`.
    pub fn json_of_len(len: usize) -> Self {
        assert!(len >= 2, "a JSON string needs at least 2 bytes");
        let mut body = vec![b'a'; len];
        body[0] = b'"';
        body[len - 1] = b'"';
        Self::json(body)
    }

    /// The payload bytes.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// Sets `Lambda-Runtime-Aws-Request-Id` (default: [`default_request_id`] of the
    /// event's index).
    pub fn request_id(mut self, id: impl Into<String>) -> Self {
        self.request_id = Some(id.into());
        self
    }

    /// Sets `Content-Type` (default `application/json`).
    pub fn content_type(mut self, content_type: impl Into<String>) -> Self {
        self.content_type = Some(content_type.into());
        self
    }

    /// Deadline = the moment `/next` responds + `timeout` (overrides the script's).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.deadline = Deadline::Timeout(timeout);
        self
    }

    /// Sets `Lambda-Runtime-Deadline-Ms` to this absolute epoch-milliseconds value.
    pub fn deadline_ms(mut self, epoch_ms: u64) -> Self {
        self.deadline = Deadline::EpochMs(epoch_ms);
        self
    }

    /// Sets `Lambda-Runtime-Invoked-Function-Arn` (default: the script's).
    pub fn function_arn(mut self, arn: impl Into<String>) -> Self {
        self.function_arn = Some(arn.into());
        self
    }

    /// Sets `Lambda-Runtime-Trace-Id` (default: [`default_trace_id`]). Use
    /// [`remove_header`](Self::remove_header) to send none.
    pub fn trace_id(mut self, trace_id: impl Into<String>) -> Self {
        self.trace_id = Some(trace_id.into());
        self
    }

    /// Sets `Lambda-Runtime-Client-Context`.
    pub fn client_context(mut self, json: impl Into<String>) -> Self {
        self.client_context = Some(json.into());
        self
    }

    /// Sets `Lambda-Runtime-Cognito-Identity`.
    pub fn cognito_identity(mut self, json: impl Into<String>) -> Self {
        self.cognito_identity = Some(json.into());
        self
    }

    /// Sets `Lambda-Runtime-Aws-Tenant-Id`.
    pub fn tenant_id(mut self, tenant_id: impl Into<String>) -> Self {
        self.tenant_id = Some(tenant_id.into());
        self
    }

    /// Sets `Lambda-Runtime-Invocation-Id` (which a runtime should echo on its answer).
    pub fn invocation_id(mut self, invocation_id: impl Into<String>) -> Self {
        self.invocation_id = Some(invocation_id.into());
        self
    }

    /// Sets every optional context header to an example value: client context
    /// ([`EXAMPLE_CLIENT_CONTEXT`]), Cognito identity ([`EXAMPLE_COGNITO_IDENTITY`]),
    /// tenant id ([`EXAMPLE_TENANT_ID`]) and an invocation id derived from the request id
    /// (`inv-<request id>`) unless already set.
    pub fn with_all_context(mut self) -> Self {
        self.client_context.get_or_insert_with(|| EXAMPLE_CLIENT_CONTEXT.to_owned());
        self.cognito_identity.get_or_insert_with(|| EXAMPLE_COGNITO_IDENTITY.to_owned());
        self.tenant_id.get_or_insert_with(|| EXAMPLE_TENANT_ID.to_owned());
        self.derive_invocation_id = true;
        self
    }

    /// Sets a response header, replacing any header of that name (case-insensitive),
    /// including the rendered context headers and `Content-Type`.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.edits.push(HeaderEdit::Set(name.into(), value.into()));
        self
    }

    /// Adds a response header even if one of that name exists (duplicates).
    pub fn append_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.edits.push(HeaderEdit::Append(name.into(), value.into()));
        self
    }

    /// Removes every response header of that name (case-insensitive), e.g.
    /// `Lambda-Runtime-Aws-Request-Id` to test a missing request id. Framing headers
    /// (`Content-Length`, `Transfer-Encoding`) and `Date` are not affected; use
    /// [`Fault::Raw`] for broken framing.
    pub fn remove_header(mut self, name: impl Into<String>) -> Self {
        self.edits.push(HeaderEdit::Remove(name.into()));
        self
    }

    /// Chooses the body framing (default `Content-Length`).
    pub fn framing(mut self, framing: Framing) -> Self {
        self.framing = framing;
        self
    }

    /// Shorthand for `framing(Framing::Chunked(Chunked::sizes(sizes)))`.
    pub fn chunked(self, sizes: impl IntoIterator<Item = usize>) -> Self {
        self.framing(Framing::Chunked(Chunked::sizes(sizes)))
    }

    /// Adds a fault to the `/next` reply that hands out this event.
    pub fn fault(mut self, fault: Fault) -> Self {
        self.faults.push(fault);
        self
    }

    /// Adds a fault to the reply to the first `/response` or `/error` for this event,
    /// e.g. `Fault::CloseAfterResponse` (the client must reconnect for its next `/next`)
    /// or `Fault::Reply(Reply::for_status(410))`.
    pub fn answer_fault(mut self, fault: Fault) -> Self {
        self.answer_faults.push(fault);
        self
    }

    /// Shorthand for `answer_fault(Fault::Reply(Reply::for_status(status)))`: the answer
    /// to this event gets this status with RAPID's body for it.
    pub fn answer_status(self, status: u16) -> Self {
        self.answer_fault(Fault::Reply(Reply::for_status(status)))
    }
}
