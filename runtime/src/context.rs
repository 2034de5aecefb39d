//! The invocation context: every `/next` header, borrowed from the receive buffer.

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

/// How many [`Field`]s there are.
pub const FIELDS: usize = 9;

/// Where each [`Field`] lies in a header block: `start..end` byte ranges (`0..0` when
/// absent).
pub(crate) type Spans = [[usize; 2]; FIELDS];

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
    // Inlined in the C library, which otherwise keeps it out of line: `post_last` then reads
    // the spans in place rather than copying the `Context` it takes the address of (a
    // smaller C echo, docs/size.md; the Rust bootstraps, without `c-api`, are unchanged).
    #[cfg_attr(feature = "c-api", inline(always))]
    pub fn request_id(&self) -> &'a [u8] {
        self.field(Field::RequestId)
    }

    /// The deadline in milliseconds since the Unix epoch, or 0 if the header is absent or
    /// not a decimal number.
    pub fn deadline_ms(&self) -> u64 {
        crate::http::parse_decimal(self.field(Field::DeadlineMs)).unwrap_or(0)
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
    // Inlined in the C library, as `request_id`.
    #[cfg_attr(feature = "c-api", inline(always))]
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
        crate::sys::set_trace_env(self.trace_id())
    }
}

/// The value of `field` in `head` by `spans`: [`Context::field`] without a `Context`.
pub(crate) fn value<'a>(head: &'a [u8], spans: &Spans, field: Field) -> &'a [u8] {
    let [start, end] = spans[field as usize];
    head.get(start..end).unwrap_or_default()
}

/// Milliseconds from now until `deadline_ms` (see [`Context::remaining_ms`]).
pub(crate) fn remaining_ms(deadline_ms: u64) -> i64 {
    match deadline_ms {
        0 => i64::MAX,
        d => (d as i64).saturating_sub(crate::sys::now_ms()),
    }
}
