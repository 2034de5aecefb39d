//! The invocation context: every `/next` header, borrowed from the receive buffer.

use crate::ascii;
use crate::http::head::Names;
use crate::http::{self, Span};
use crate::sys;

/// The context headers, in the order the parser fills them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Field {
    /// `Lambda-Runtime-Aws-Request-Id`.
    RequestId,
    /// `Lambda-Runtime-Deadline-Ms`.
    DeadlineMs,
    /// `Lambda-Runtime-Invoked-Function-Arn`.
    InvokedFunctionArn,
    /// `Lambda-Runtime-Trace-Id`.
    TraceId,
    /// `Lambda-Runtime-Client-Context`.
    ClientContext,
    /// `Lambda-Runtime-Cognito-Identity`.
    CognitoIdentity,
    /// `Lambda-Runtime-Aws-Tenant-Id`.
    TenantId,
    /// `Lambda-Runtime-Invocation-Id`.
    InvocationId,
    /// `Content-Type`.
    ContentType,
}

/// The environment variable X-Ray SDKs read the trace id from.
pub(crate) const TRACE_ID_VARIABLE: &core::ffi::CStr = c"_X_AMZN_TRACE_ID";

/// How many [`Field`]s there are.
pub const FIELDS: usize = 9;

/// The header name of each [`Field`], in its order, lower case: what the parser looks for.
/// All but `Content-Type` start with `Lambda-Runtime-`.
pub(crate) const HEADER_NAMES: Names<'static> = Names {
    prefix: b"lambda-runtime-",
    suffixes: &[
        b"aws-request-id",
        b"deadline-ms",
        b"invoked-function-arn",
        b"trace-id",
        b"client-context",
        b"cognito-identity",
        b"aws-tenant-id",
        b"invocation-id",
    ],
    others: &[b"content-type"],
};

/// Where each [`Field`] lies in a header block (`0..0` when absent).
pub(crate) type Spans = [Span; FIELDS];

/// The context of one invocation.
///
/// Every value is the raw header value with surrounding whitespace trimmed, borrowed from
/// the runtime's receive buffer. A header that is absent, or present but empty (the managed
/// instances server sends empty ones), reads as an empty slice.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Context<'a> {
    /// The header block the spans point into.
    pub(crate) head: &'a [u8],
    pub(crate) spans: Spans,
}

impl<'a> Context<'a> {
    /// The value of one header.
    pub fn field(&self, field: Field) -> &'a [u8] {
        value(self.head, &self.spans, field)
    }

    /// The request id (`Lambda-Runtime-Aws-Request-Id`). Never empty for an invocation the
    /// runtime hands out.
    pub fn request_id(&self) -> &'a [u8] {
        self.field(Field::RequestId)
    }

    /// The deadline in milliseconds since the Unix epoch, or 0 if the header is absent or
    /// not a decimal number.
    pub fn deadline_ms(&self) -> u64 {
        ascii::parse_decimal(self.field(Field::DeadlineMs)).unwrap_or(0)
    }

    /// Milliseconds left until the deadline by the realtime clock (negative once passed).
    /// `i64::MAX` when the deadline is unknown.
    pub fn remaining_ms(&self) -> i64 {
        remaining_ms(self.deadline_ms())
    }

    /// The ARN of the function, version or alias that was invoked.
    pub fn invoked_function_arn(&self) -> &'a [u8] {
        self.field(Field::InvokedFunctionArn)
    }

    /// The X-Ray trace header (`Root=…;Parent=…;Sampled=…`), often absent.
    pub fn trace_id(&self) -> &'a [u8] {
        self.field(Field::TraceId)
    }

    /// The client context JSON of a mobile SDK invoke, usually absent.
    pub fn client_context(&self) -> &'a [u8] {
        self.field(Field::ClientContext)
    }

    /// The Cognito identity JSON, usually absent.
    pub fn cognito_identity(&self) -> &'a [u8] {
        self.field(Field::CognitoIdentity)
    }

    /// The tenant id of a function with tenant isolation, otherwise absent.
    pub fn tenant_id(&self) -> &'a [u8] {
        self.field(Field::TenantId)
    }

    /// The per-attempt invocation id. The runtime echoes it on `/response` and `/error`.
    pub fn invocation_id(&self) -> &'a [u8] {
        self.field(Field::InvocationId)
    }

    /// The event's content type (the Runtime API default is `application/json`).
    pub fn content_type(&self) -> &'a [u8] {
        self.field(Field::ContentType)
    }

    /// Sets `_X_AMZN_TRACE_ID` to this invocation's trace id, or removes it when there is
    /// none, for X-Ray SDKs used by the handler. Opt-in, because glibc's `setenv`
    /// allocates; call it at the start of each invocation. Returns `false` when the value
    /// could not be set (longer than 1023 bytes, or `setenv` failed).
    pub fn export_trace_id(&self) -> bool {
        sys::setenv(TRACE_ID_VARIABLE, self.trace_id())
    }
}

/// The value of `field` in `head` by `spans`: [`Context::field`] without a `Context`.
pub(crate) fn value<'a>(head: &'a [u8], spans: &Spans, field: Field) -> &'a [u8] {
    spans[field as usize].of(head)
}

/// Milliseconds from now until `deadline_ms` (see [`Context::remaining_ms`]).
pub(crate) fn remaining_ms(deadline_ms: u64) -> i64 {
    match deadline_ms {
        0 => i64::MAX,
        d => (d as i64).saturating_sub(sys::now_ms()),
    }
}

/// Parses a response head (see [`http::parse_head`]) with the context headers recorded: for
/// the fuzz targets and tests, which reach the parser from outside the crate.
#[doc(hidden)]
pub fn parse_head(buf: &[u8]) -> Result<Option<(http::ResponseHead, Context<'_>)>, http::Error> {
    let mut spans = Spans::default();
    let head = http::parse_head(buf, &HEADER_NAMES, &mut spans)?;
    Ok(head.map(|h| (h, Context { head: buf.get(..h.len).unwrap_or_default(), spans })))
}
