//! What a handler sees and returns.

use crate::context::Context;

/// One invocation: the event and its context, borrowed from the runtime's receive buffer.
#[derive(Debug, Clone, Copy)]
pub struct Invocation<'a> {
    /// The event payload, exactly as the Runtime API sent it (decoded if it was chunked).
    pub event: &'a [u8],
    /// The context headers.
    pub context: Context<'a>,
}

/// A bounded buffer for a response the handler builds: 6,291,556 bytes, the most the
/// Runtime API accepts. Writing past its capacity returns [`Overflow`]; it never panics.
pub struct Writer<'a> {
    buf: &'a mut [u8],
    len: usize,
}

/// A write did not fit in the [`Writer`]; nothing of it was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overflow;

impl<'a> Writer<'a> {
    /// A writer over `buf` (the runtime gives each invocation a fresh one; handy in tests).
    pub fn new(buf: &'a mut [u8]) -> Self {
        Writer { buf, len: 0 }
    }

    /// Appends `bytes`, or fails without writing anything if they do not fit.
    pub fn write(&mut self, bytes: &[u8]) -> Result<(), Overflow> {
        let end = self.len.checked_add(bytes.len()).ok_or(Overflow)?;
        self.buf.get_mut(self.len..end).ok_or(Overflow)?.copy_from_slice(bytes);
        self.len = end;
        Ok(())
    }

    /// The bytes written so far.
    pub fn written(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or_default()
    }

    /// How many more bytes fit.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.len
    }

    /// Ends writing and returns the response, to be returned from the handler.
    pub fn finish(self) -> &'a [u8] {
        let Writer { buf, len } = self;
        buf.get(..len).unwrap_or_default()
    }
}

impl core::fmt::Write for Writer<'_> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        self.write(s.as_bytes()).map_err(|_| core::fmt::Error)
    }
}

/// A failed invocation, reported to `/error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Error<'a> {
    /// `Function.Name` or `Runtime.Name` (`[A-Z][a-zA-Z]+`); anything else is reported as
    /// `Function.Unknown`.
    pub error_type: &'a str,
    /// The message; JSON-escaped by the runtime, cut (and marked) past 64 KiB.
    pub message: &'a str,
}

impl<'a> Error<'a> {
    /// An error of `error_type` with `message`.
    pub const fn new(error_type: &'a str, message: &'a str) -> Self {
        Error { error_type, message }
    }
}

impl From<Overflow> for Error<'_> {
    fn from(_: Overflow) -> Self {
        Error::new("Function.ResponseSizeTooLarge", "the response does not fit in the 6291556-byte buffer")
    }
}

/// The result of a handler: the response body, or an error.
pub type Outcome<'a> = Result<&'a [u8], Error<'a>>;

/// An invocation handler.
///
/// Any function or closure `for<'a> FnMut(&Invocation<'a>, Writer<'a>) -> Outcome<'a>` is
/// one. It may return a slice of the event itself (zero copy), of its own data, or what it
/// wrote into the [`Writer`] ([`Writer::finish`]).
pub trait Handler {
    /// Handles one invocation.
    fn handle<'a>(&mut self, invocation: &Invocation<'a>, response: Writer<'a>) -> Outcome<'a>;
}

impl<F> Handler for F
where
    F: for<'a> FnMut(&Invocation<'a>, Writer<'a>) -> Outcome<'a>,
{
    fn handle<'a>(&mut self, invocation: &Invocation<'a>, response: Writer<'a>) -> Outcome<'a> {
        self(invocation, response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writer_is_bounded() {
        let mut buf = [0u8; 8];
        let mut w = Writer::new(&mut buf);
        assert_eq!(w.write(b"hello"), Ok(()));
        assert_eq!(w.write(b"world"), Err(Overflow));
        assert_eq!(w.written(), b"hello");
        assert_eq!(w.remaining(), 3);
        assert_eq!(core::fmt::Write::write_fmt(&mut w, format_args!("{}", 42)), Ok(()));
        assert_eq!(w.write(b"!!"), Err(Overflow));
        assert_eq!(w.finish(), b"hello42");
    }

    #[test]
    fn overflow_becomes_a_response_size_error() {
        let e: Error<'_> = Overflow.into();
        assert_eq!(e.error_type, "Function.ResponseSizeTooLarge");
        assert!(crate::json::valid_error_type(e.error_type.as_bytes()));
    }
}
