//! A faithful, scriptable mock of the AWS Lambda Runtime API (`/2018-06-01`), for testing
//! runtimes over real loopback TCP.
//!
//! The mock speaks HTTP/1.1 with keep-alive, one thread per connection, and mirrors what
//! the real API (RAPID, whose public Go version is the Runtime Interface Emulator) sends:
//!
//! * `GET /runtime/invocation/next` hands out the next scripted [`Event`] with the context
//!   headers of RAPID's `renderInvokeHeaders` (`Lambda-Runtime-Aws-Request-Id`,
//!   `Lambda-Runtime-Deadline-Ms`, `Lambda-Runtime-Invoked-Function-Arn`,
//!   `Lambda-Runtime-Trace-Id`, `Content-Type`, and the optional client context, Cognito
//!   identity, tenant id and invocation id), framed with `Content-Length` or chunked.
//! * `POST /runtime/invocation/{id}/response` and `/error` read the body (`Content-Length`
//!   or chunked with trailers) and reply `202 {"status":"OK"}`; an unknown or already
//!   answered id gets `400 InvalidRequestID`; a buffered response over
//!   [`MAX_PAYLOAD_SIZE`] gets `413 RequestEntityTooLarge`; a
//!   `Lambda-Runtime-Function-Response-Mode` other than empty or `streaming` gets
//!   `400 InvalidFunctionResponseMode`.
//! * `POST /runtime/init/error` replies `202` the first time and `403
//!   InvalidStateTransition` after (the first init error wins).
//! * A late answer: with [`Script::enforce_deadlines`], a `/response` or `/error` posted
//!   after its event's `Lambda-Runtime-Deadline-Ms` gets `410 InvokeTimeout`, as on Lambda
//!   Managed Instances (LMI).
//! * Concurrent `/next`s (LMI's workers) each get their own event; once the events run out
//!   they are parked ([`Exhausted::Hang`]) until [`MockServer::push_event`] hands one
//!   out. [`MockServer::outstanding_next`] and [`MockServer::max_outstanding_next`] count
//!   the parked ones.
//! * The Extensions API, as far as a runtime needs it for SIGTERM:
//!   `POST /2020-01-01/extension/register` (`Lambda-Extension-Name` required) replies
//!   `200` with a `Lambda-Extension-Identifier`; `GET /2020-01-01/extension/event/next`
//!   with that identifier is parked until [`MockServer::shutdown`], which hands out the
//!   SHUTDOWN event and signals the runtime process as Lambda does ([`ShutdownOutcome`]).
//! * Anything else is `404 page not found`.
//!
//! Error bodies are byte-for-byte what RAPID writes with Go's `json.Encoder`, including
//! the trailing newline (see [`TOO_LARGE_BODY`]).
//!
//! Every request is recorded ([`Request`]), with its bytes as received if the script asks
//! ([`Script::capture_raw`]); [`Fault`]s inject connection closes, resets, HTTP/1.0 replies,
//! slow or split delivery, delays, raw garbage, error statuses, and a close in the middle of
//! a request's body (a streamed response cut short).
//!
//! ```
//! use std::time::Duration;
//! use lambda_libc_mock::{Event, Fault, MockServer, Script};
//!
//! let script = Script::new()
//!     .event(Event::json(r#"{"hello":"world"}"#).request_id("id-1"))
//!     .event(Event::json(b"{}").chunked([1, 7, 4096]).fault(Fault::ByteByByte));
//! let server = MockServer::start(script)?;
//! // Run the runtime with AWS_LAMBDA_RUNTIME_API = server.runtime_api(), then:
//! if server.wait_for_answers(2, Duration::from_millis(1)) {
//!     for answer in server.answers() {
//!         println!("{} {:?} {}", answer.request_id, answer.kind, answer.body_str());
//!     }
//! }
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! Differences from the real API, on purpose:
//! * any served, unanswered event may be answered (no single-invoke state machine, so
//!   retried `/next`s and concurrent workers work); a second answer for one id gets `400`
//!   (RAPID may say `403`);
//! * a wrong method on a known path gets `404` (chi would say `405`);
//! * an echoed `Lambda-Runtime-Invocation-Id` is recorded but not checked;
//! * late answers are accepted unless the script enforces deadlines, and even then the
//!   mock does not report a timeout by itself (no timer: only a late answer sees it);
//! * the Extensions API has no INVOKE events, no `/init/error` or `/exit/error`, no
//!   "registration closed" after init, and does not check the register body;
//!   every registered extension gets SHUTDOWN (Lambda sends it only to extensions
//!   subscribed to it);
//! * HTTP parsing is stricter than Go's: CRLF line ends only, no `Content-Length` together
//!   with `Transfer-Encoding`, no obsolete line folding.

// The one exception: `kill(2)` in src/signal.rs.
#![deny(unsafe_code)]
#![warn(missing_docs)]

mod http;
mod record;
mod script;
mod server;
#[allow(unsafe_code)]
mod signal;

pub use http::{MAX_BODY_BYTES, MAX_HEAD_BYTES};
pub use record::{Answer, AnswerKind, Request, Route};
pub use script::{
    ACCEPTED_BODY, Chunked, DEFAULT_FUNCTION_ARN, DEFAULT_TIMEOUT, EXAMPLE_CLIENT_CONTEXT, EXAMPLE_COGNITO_IDENTITY,
    EXAMPLE_TENANT_ID, Event, Exhausted, Fault, Framing, INVALID_REQUEST_ID_BODY, INVALID_RESPONSE_MODE_BODY,
    INVOKE_TIMEOUT_BODY, MAX_PAYLOAD_SIZE, Reply, Script, TOO_LARGE_BODY, default_request_id, default_trace_id,
};
pub use server::{
    API_PREFIX, EXTENSION_API_PREFIX, EXTENSION_NEXT_PATH, EXTENSION_REGISTER_PATH, MAX_EXTENSIONS, MockServer,
    NEXT_PATH, SHUTDOWN_PHASE, SHUTDOWN_REASON, ShutdownOutcome, error_path, response_path,
};

/// The environment `provided.al2023` gives a bootstrap (nothing inherited), for a function
/// `name` whose code is in `task_root`, talking to the Runtime API at `runtime_api`: what
/// `cargo xtask invoke` and the benchmark harness start bootstraps with.
pub fn lambda_environment(runtime_api: &str, name: &str, task_root: &std::path::Path) -> Vec<(String, String)> {
    [
        ("AWS_LAMBDA_RUNTIME_API", runtime_api),
        ("AWS_LAMBDA_FUNCTION_NAME", name),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"),
        ("AWS_LAMBDA_LOG_GROUP_NAME", &format!("/aws/lambda/{name}")),
        ("AWS_LAMBDA_LOG_STREAM_NAME", "2026/01/01/[$LATEST]00000000000000000000000000000000"),
        ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
        ("AWS_EXECUTION_ENV", "AWS_Lambda_provided.al2023"),
        ("_HANDLER", "bootstrap"),
        ("LAMBDA_TASK_ROOT", &task_root.to_string_lossy()),
        ("LAMBDA_RUNTIME_DIR", "/var/runtime"),
        ("LANG", "en_US.UTF-8"),
        ("TZ", ":UTC"),
        ("PATH", "/usr/local/bin:/usr/bin/:/bin:/opt/bin"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}
