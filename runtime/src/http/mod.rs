//! HTTP/1.1 responses as the Runtime API sends them: pure functions over bytes, no I/O.
//!
//! - [`head`]: the response head, parsed in one pass ([`parse_head`]): the status line,
//!   then each header line once, matched against the names the caller asks for.
//! - [`body`]: the body of any framing (`Content-Length`, chunked, until close), decoded
//!   in place from any split of the bytes across reads ([`BodyDecoder`]).
//!
//! Both are strict where the Runtime API never needs leniency (every line ends in CRLF, no
//! folding, framing headers must agree) and bounded: a head over [`MAX_HEAD`] bytes and a
//! body over [`MAX_BODY`] bytes are errors; a body declared that large is refused before
//! any of it is read.

pub mod body;
pub mod head;

pub use body::{BodyDecoder, Progress};
pub use head::{Framing, ResponseHead, Span, parse_head};

/// The largest header block accepted (status line, headers and the blank line).
pub const MAX_HEAD: usize = 64 * 1024;

/// The largest body accepted, declared (`Content-Length`, one chunk's size) or read (the
/// sum of the chunks, a body that ends with the connection). A larger one is malformed:
/// the Runtime API's largest event is 6 MiB + 100 bytes, so 32 MiB leaves room for an event
/// that is merely too large to be read and reported, and bounds the time spent reading
/// one (docs/design.md, "Limits").
pub const MAX_BODY: u64 = 32 * 1024 * 1024;

/// Why a response cannot be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// No blank line within [`MAX_HEAD`] bytes.
    HeadTooLarge,
    /// The status line is not `HTTP/1.x NNN[ reason]`.
    StatusLine,
    /// A header line is not `name: value` with a token name and a printable value.
    HeaderLine,
    /// `Content-Length` is not a decimal number, overflows, or two differ.
    ContentLength,
    /// A `Transfer-Encoding` other than `chunked`.
    TransferEncoding,
    /// Both `Content-Length` and `Transfer-Encoding`.
    AmbiguousFraming,
    /// A chunk size that is not hexadecimal or overflows 64 bits.
    ChunkSize,
    /// A chunk not followed by CRLF, or a malformed trailer section.
    ChunkFraming,
    /// A body over [`MAX_BODY`] bytes, declared or read.
    BodyTooLarge,
}

impl Error {
    /// A short ASCII description, for one-line diagnostics.
    pub fn message(self) -> &'static str {
        match self {
            Error::HeadTooLarge => "header block over 65536 bytes",
            Error::StatusLine => "malformed status line",
            Error::HeaderLine => "malformed header line",
            Error::ContentLength => "malformed Content-Length",
            Error::TransferEncoding => "unsupported Transfer-Encoding",
            Error::AmbiguousFraming => "both Content-Length and Transfer-Encoding",
            Error::ChunkSize => "malformed chunk size",
            Error::ChunkFraming => "malformed chunk framing",
            Error::BodyTooLarge => "body over 33554432 bytes",
        }
    }
}

/// Field content (RFC 9110): visible ASCII, space, tab and obs-text; no control characters.
pub(crate) const fn is_value(b: u8) -> bool {
    matches!(b, b'\t' | b' '..=b'~' | 0x80..=0xff)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_limits() {
        assert!(Error::HeadTooLarge.message().contains(&MAX_HEAD.to_string()));
        assert!(Error::BodyTooLarge.message().contains(&MAX_BODY.to_string()));
    }

    #[test]
    fn field_content_is_rfc_9110() {
        for b in 0..=u8::MAX {
            let control = b < 0x20 && b != b'\t' || b == 0x7f;
            assert_eq!(is_value(b), !control, "{b:#04x}");
        }
    }
}
