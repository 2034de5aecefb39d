//! What the mock records about each request it receives.

use std::borrow::Cow;
use std::fmt;

use crate::http::find_header;

/// Which Runtime API (or Extensions API) endpoint a request hit.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Route {
    /// `GET /2018-06-01/runtime/invocation/next`.
    Next,
    /// `POST /2018-06-01/runtime/invocation/{id}/response`.
    Response(String),
    /// `POST /2018-06-01/runtime/invocation/{id}/error`.
    Error(String),
    /// `POST /2018-06-01/runtime/init/error`.
    InitError,
    /// `POST /2020-01-01/extension/register` (Extensions API).
    ExtensionRegister,
    /// `GET /2020-01-01/extension/event/next` (Extensions API).
    ExtensionNext,
    /// Any other method or path (answered `404`).
    NotFound,
    /// A request the mock could not parse (answered `400`, `413`, `431`, `501` or `505`
    /// and the connection closed), or one cut short by the client; see
    /// [`Request::error`].
    Malformed,
}

/// One request as the mock received it.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Request {
    /// Index (0-based, in accept order) of the TCP connection it came on.
    pub connection: usize,
    /// Method, e.g. `GET`.
    pub method: String,
    /// Request target as sent, e.g. `/2018-06-01/runtime/invocation/next`.
    pub target: String,
    /// Protocol version as sent, e.g. `HTTP/1.1`.
    pub version: String,
    /// Header fields in the order received: name as sent, value with surrounding
    /// whitespace trimmed.
    pub headers: Vec<(String, String)>,
    /// Body bytes (de-chunked).
    pub body: Vec<u8>,
    /// True when the body came with `Transfer-Encoding: chunked`.
    pub chunked: bool,
    /// Sizes of the chunks received, in order (empty unless chunked).
    pub chunks: Vec<usize>,
    /// Trailer fields after the last chunk, in order.
    pub trailers: Vec<(String, String)>,
    /// The endpoint it hit.
    pub route: Route,
    /// Index of the scripted event involved: the one served (for `/next`) or answered
    /// (for `/response`/`/error` whose id resolved to an event).
    pub event: Option<usize>,
    /// Status the mock replied with; `None` when it sent no reply (a fault, a hanging
    /// `/next`, raw bytes, or a truncated request).
    pub status: Option<u16>,
    /// Header fields of the mock's reply as written, in order (empty when none was sent).
    pub response_headers: Vec<(String, String)>,
    /// For [`Route::Malformed`]: why the request was rejected or incomplete; for an answer
    /// cut short by [`Fault::CloseWhileReading`](crate::Fault::CloseWhileReading): that.
    pub error: Option<String>,
    /// The request's bytes exactly as received, when the script asked for them
    /// ([`Script::capture_raw`](crate::Script::capture_raw)); empty otherwise.
    pub raw: Vec<u8>,
}

impl Request {
    /// First value of a header, name compared case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// Every value of a header, in order.
    pub fn header_all(&self, name: &str) -> Vec<&str> {
        self.headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str()).collect()
    }

    /// First value of a trailer field, name compared case-insensitively.
    pub fn trailer(&self, name: &str) -> Option<&str> {
        find_header(&self.trailers, name)
    }

    /// First value of a header of the mock's reply (e.g. the `Lambda-Runtime-Deadline-Ms`
    /// a `/next` handed out).
    pub fn response_header(&self, name: &str) -> Option<&str> {
        find_header(&self.response_headers, name)
    }

    /// The body as UTF-8 (lossy).
    pub fn body_str(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.body)
    }

    /// The path of the target, without a query string (or scheme and authority, for an
    /// absolute-form target).
    pub fn path(&self) -> &str {
        crate::http::target_path(&self.target)
    }
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const SHOW: usize = 256;
        let preview = String::from_utf8_lossy(&self.body[..self.body.len().min(SHOW)]);
        f.debug_struct("Request")
            .field("connection", &self.connection)
            .field("method", &self.method)
            .field("target", &self.target)
            .field("version", &self.version)
            .field("headers", &self.headers)
            .field("body_len", &self.body.len())
            .field("body_preview", &preview)
            .field("chunked", &self.chunked)
            .field("chunks", &self.chunks.len())
            .field("trailers", &self.trailers)
            .field("route", &self.route)
            .field("event", &self.event)
            .field("status", &self.status)
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

/// Whether an answer was a result or an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AnswerKind {
    /// `POST …/{id}/response`.
    Response,
    /// `POST …/{id}/error`.
    Error,
}

impl AnswerKind {
    /// `"response"` or `"error"` (the last path segment).
    pub fn as_str(self) -> &'static str {
        match self {
            AnswerKind::Response => "response",
            AnswerKind::Error => "error",
        }
    }
}

/// A `/response` or `/error` request, with the request id and event it answered.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Answer {
    /// Result or error.
    pub kind: AnswerKind,
    /// The `{id}` from the path.
    pub request_id: String,
    /// Index of the scripted event with that id; `None` if the id was unknown.
    pub event: Option<usize>,
    /// The full request.
    pub request: Request,
}

impl Answer {
    pub(crate) fn from_request(request: &Request) -> Option<Self> {
        let (kind, id) = match &request.route {
            Route::Response(id) => (AnswerKind::Response, id.clone()),
            Route::Error(id) => (AnswerKind::Error, id.clone()),
            _ => return None,
        };
        Some(Self { kind, request_id: id, event: request.event, request: request.clone() })
    }

    /// The body bytes.
    pub fn body(&self) -> &[u8] {
        &self.request.body
    }

    /// The body as UTF-8 (lossy).
    pub fn body_str(&self) -> Cow<'_, str> {
        self.request.body_str()
    }

    /// First value of a request header.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.request.header(name)
    }

    /// Status the mock replied with (`None` if a fault suppressed the reply).
    pub fn status(&self) -> Option<u16> {
        self.request.status
    }
}
