//! The response head: status line and header lines, parsed in one pass.

use super::{Error, MAX_BODY, MAX_HEAD, is_value};
use crate::ascii::{self, eq_ignore_case};

/// Where a header value lies in the head: the byte range `start..end` (`0..0` when absent).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Span {
    /// The offset of the value's first byte.
    pub start: usize,
    /// The offset just past its last byte.
    pub end: usize,
}

impl Span {
    /// The value in `head` (empty if the span is not inside it).
    pub fn of<'a>(&self, head: &'a [u8]) -> &'a [u8] {
        head.get(self.start..self.end).unwrap_or_default()
    }
}

/// How the body of a response is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// `Content-Length: n`, or no body (`n` = 0) for a 1xx, 204 or 304 status without one.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// Neither: the body ends when the server closes the connection.
    UntilClose,
}

/// A parsed response head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResponseHead {
    /// The length of the head, through its blank line: the body starts there.
    pub len: usize,
    /// The status code, 100 to 999.
    pub status: u16,
    /// Whether the connection may be reused after this response.
    pub keep_alive: bool,
    /// How the body is delimited.
    pub framing: Framing,
}

/// The header names whose values [`parse_head`] records, lower case: each of `suffixes`
/// after `prefix`, then each of `others`, in the order of the values.
///
/// Lambda's context headers share one prefix: a name is matched against it once, then
/// only its rest against the suffixes. No name in `others` starts with `prefix`.
#[derive(Debug, Clone, Copy)]
pub struct Names<'a> {
    /// What every name in `suffixes` starts with.
    pub prefix: &'a [u8],
    /// The names that start with `prefix`, without it.
    pub suffixes: &'a [&'a [u8]],
    /// The other names, whole.
    pub others: &'a [&'a [u8]],
}

impl Names<'_> {
    /// The position of `name` (in any case) among the names, if it is one of them.
    fn position(&self, name: &[u8]) -> Option<usize> {
        match ascii::strip_prefix_ignore_case(name, self.prefix) {
            Some(suffix) => self.suffixes.iter().position(|s| eq_ignore_case(suffix, s)),
            None => self.others.iter().position(|n| eq_ignore_case(name, n)).map(|i| self.suffixes.len() + i),
        }
    }
}

/// Parses the response head at the start of `buf`, in one pass: `Ok(None)` while the head
/// is incomplete (read more and call again with all of it).
///
/// The value of each header named in `names` (compared ASCII case-insensitively) is
/// recorded in the same position of `values`, trimmed of spaces and tabs; the last header
/// of a name wins; names absent leave `0..0`. With no `values`, no name is looked up.
///
/// The rules: the status line is `HTTP/1.x NNN[ reason]` with a status from 100 to 999;
/// every header line is `token ":" field-content`; every line ends with CRLF (a bare LF is
/// an error). An error is found as soon as its line is complete, even in an incomplete head.
// Out of line: inlined into the client it compiles larger (docs/size.md).
#[inline(never)]
pub fn parse_head(buf: &[u8], names: &Names<'_>, values: &mut [Span]) -> Result<Option<ResponseHead>, Error> {
    values.fill(Span::default());
    let window = buf.get(..MAX_HEAD).unwrap_or(buf);
    match parse_lines(window, names, values)? {
        None if buf.len() >= MAX_HEAD => Err(Error::HeadTooLarge),
        head => Ok(head),
    }
}

/// What the framing headers said so far.
struct FramingHeaders {
    length: Option<u64>,
    chunked: bool,
    keep_alive: bool,
}

fn parse_lines(buf: &[u8], names: &Names<'_>, values: &mut [Span]) -> Result<Option<ResponseHead>, Error> {
    let (line, tail) = take_while(buf, &VALUE);
    let Some(mut rest) = end_of_line(tail, Error::StatusLine)? else { return Ok(None) };
    let (minor, status) = status_line(line)?;
    // HTTP/1.1 and later minor versions keep the connection unless told otherwise.
    let mut framings = FramingHeaders { length: None, chunked: false, keep_alive: minor != b'0' };
    loop {
        match rest {
            [b'\r', b'\n', ..] => break,
            [] | [b'\r'] => return Ok(None),
            _ => {}
        }
        let (name, tail) = take_while(rest, &TOKEN);
        let tail = match tail {
            [b':', tail @ ..] if !name.is_empty() => tail,
            [] => return Ok(None),
            _ => return Err(Error::HeaderLine),
        };
        let (value, tail) = take_while(tail, &VALUE);
        let Some(tail) = end_of_line(tail, Error::HeaderLine)? else { return Ok(None) };
        let value = trim(value);
        if !framings.read(name, value)?
            && !values.is_empty()
            && let Some(span) = names.position(name).and_then(|i| values.get_mut(i))
        {
            let start = value.as_ptr().addr() - buf.as_ptr().addr();
            *span = Span { start, end: start + value.len() };
        }
        rest = tail;
    }
    let len = buf.len() - rest.len() + 2;
    let framing = match framings {
        FramingHeaders { chunked: true, length: Some(_), .. } => return Err(Error::AmbiguousFraming),
        FramingHeaders { chunked: true, .. } => Framing::Chunked,
        FramingHeaders { length: Some(n), .. } => Framing::Length(n),
        _ if status < 200 || status == 204 || status == 304 => Framing::Length(0),
        _ => {
            framings.keep_alive = false;
            Framing::UntilClose
        }
    };
    Ok(Some(ResponseHead { len, status, keep_alive: framings.keep_alive, framing }))
}

impl FramingHeaders {
    /// Takes in a framing header (`Content-Length`, `Transfer-Encoding`, `Connection`):
    /// `Ok(false)` for any other.
    fn read(&mut self, name: &[u8], value: &[u8]) -> Result<bool, Error> {
        if eq_ignore_case(name, b"content-length") {
            let n = ascii::parse_decimal(value).ok_or(Error::ContentLength)?;
            if self.length.is_some_and(|l| l != n) {
                return Err(Error::ContentLength);
            }
            if n > MAX_BODY {
                return Err(Error::BodyTooLarge);
            }
            self.length = Some(n);
        } else if eq_ignore_case(name, b"transfer-encoding") {
            if !eq_ignore_case(value, b"chunked") {
                return Err(Error::TransferEncoding);
            }
            self.chunked = true;
        } else if eq_ignore_case(name, b"connection") {
            for token in value.split(|&b| b == b',').map(trim) {
                if eq_ignore_case(token, b"close") {
                    self.keep_alive = false;
                } else if eq_ignore_case(token, b"keep-alive") {
                    self.keep_alive = true;
                }
            }
        } else {
            return Ok(false);
        }
        Ok(true)
    }
}

/// The minor version (an ASCII digit) and the status of `HTTP/1.x NNN[ reason]`.
fn status_line(line: &[u8]) -> Result<(u8, u16), Error> {
    let &[b'H', b'T', b'T', b'P', b'/', b'1', b'.', minor, b' ', hundreds, tens, ones, ref reason @ ..] = line else {
        return Err(Error::StatusLine);
    };
    match (minor, hundreds, tens, ones, reason) {
        (b'0'..=b'9', b'1'..=b'9', b'0'..=b'9', b'0'..=b'9', [] | [b' ', ..]) => {
            let digit = |b: u8| u16::from(b - b'0');
            Ok((minor, digit(hundreds) * 100 + digit(tens) * 10 + digit(ones)))
        }
        _ => Err(Error::StatusLine),
    }
}

/// After a line's content: `Ok(Some(rest))` past its CRLF, `Ok(None)` if the input ends
/// before the CRLF does, `Err(error)` for any other byte.
fn end_of_line(s: &[u8], error: Error) -> Result<Option<&[u8]>, Error> {
    match s {
        [b'\r', b'\n', rest @ ..] => Ok(Some(rest)),
        [] | [b'\r'] => Ok(None),
        _ => Err(error),
    }
}

/// Splits `s` before its first byte that is not in `class`.
// Inlined: it is the loop over every byte of the head.
#[inline(always)]
fn take_while<'a>(s: &'a [u8], class: &[bool; 256]) -> (&'a [u8], &'a [u8]) {
    let mut i = 0;
    while let Some(&b) = s.get(i)
        && class[usize::from(b)]
    {
        i += 1;
    }
    s.split_at_checked(i).unwrap_or((s, &[]))
}

/// `s` without the spaces and tabs around it.
fn trim(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] | [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

/// RFC 9110 `tchar`: the bytes of a header name.
const fn is_token(b: u8) -> bool {
    matches!(b,
        b'0'..=b'9' | b'A'..=b'Z' | b'a'..=b'z'
        | b'!' | b'#' | b'$' | b'%' | b'&' | b'\'' | b'*' | b'+' | b'-' | b'.' | b'^' | b'_' | b'`' | b'|' | b'~')
}

/// A table of `$class` for every byte, built at compile time: the scans look a byte up
/// in it rather than test it against each range.
macro_rules! byte_class {
    ($class:ident) => {{
        let mut table = [false; 256];
        let mut b = 0;
        while b < table.len() {
            table[b] = $class(b as u8);
            b += 1;
        }
        table
    }};
}

/// [`is_token`] of every byte.
static TOKEN: [bool; 256] = byte_class!(is_token);
/// [`is_value`] of every byte.
static VALUE: [bool; 256] = byte_class!(is_value);

#[cfg(test)]
mod tests {
    use super::*;

    const NAMES: Names<'_> = Names {
        prefix: b"lambda-runtime-",
        suffixes: &[b"aws-request-id", b"deadline-ms"],
        others: &[b"content-type"],
    };

    /// Parses a whole head, checking that every shorter prefix is incomplete or the same
    /// error.
    fn head(bytes: &[u8]) -> Result<(ResponseHead, [std::vec::Vec<u8>; 3]), Error> {
        let mut values = [Span::default(); 3];
        let result = parse_head(bytes, &NAMES, &mut values);
        for cut in 0..bytes.len() {
            let mut scratch = [Span::default(); 3];
            match (parse_head(&bytes[..cut], &NAMES, &mut scratch), result) {
                (Ok(None), _) => {}
                (Err(e), Err(whole)) => assert_eq!(e, whole, "prefix {cut} of {bytes:?}"),
                (got, _) => panic!("prefix {cut} of {bytes:?}: {got:?}"),
            }
        }
        let head = result?.expect("a whole head");
        assert_eq!(head.len, bytes.len(), "the head ends at its blank line");
        Ok((head, values.map(|s| s.of(bytes).to_vec())))
    }

    #[test]
    fn golden_next_response() {
        let raw = b"HTTP/1.1 200 OK\r\n\
            Content-Type: application/json\r\n\
            lambda-runtime-aws-request-id: 8476a536-e9f4-11e8-9739-2dfe598c3fcd\r\n\
            Lambda-Runtime-Deadline-Ms:1542409706888\r\n\
            Date: Mon, 23 Nov 2026 12:00:00 GMT\r\n\
            Content-Length: 2\r\n\r\n";
        let (h, [id, deadline, content_type]) = head(raw).unwrap();
        assert_eq!(h, ResponseHead { len: raw.len(), status: 200, keep_alive: true, framing: Framing::Length(2) });
        assert_eq!(id, b"8476a536-e9f4-11e8-9739-2dfe598c3fcd");
        assert_eq!(deadline, b"1542409706888");
        assert_eq!(content_type, b"application/json");
    }

    #[test]
    fn values_are_trimmed_and_the_last_one_wins() {
        let raw = b"HTTP/1.1 200 OK\r\nCONTENT-TYPE: \t a b \t\r\nLambda-Runtime-Deadline-Ms: 1\r\n\
            lambda-runtime-deadline-ms: 2\r\nContent-Length: 0\r\n\r\n";
        let (_, [id, deadline, content_type]) = head(raw).unwrap();
        assert_eq!((id.as_slice(), deadline.as_slice(), content_type.as_slice()), (&b""[..], &b"2"[..], &b"a b"[..]));
    }

    #[test]
    fn bytes_after_the_head_are_not_read() {
        let raw = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nHTTP/\x00";
        let mut values = [Span::default(); 3];
        let h = parse_head(raw, &NAMES, &mut values).unwrap().unwrap();
        assert_eq!(h.len, raw.len() - 6);
    }

    #[test]
    fn status_lines() {
        for (raw, want) in [
            (&b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n"[..], Ok((202, true))),
            (b"HTTP/1.1 413\r\nContent-Length: 0\r\n\r\n", Ok((413, true))),
            (b"HTTP/1.1 500 \r\nContent-Length: 0\r\n\r\n", Ok((500, true))),
            (b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", Ok((200, false))),
            (b"HTTP/1.2 200 OK\r\nContent-Length: 0\r\n\r\n", Ok((200, true))),
            (b"HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n", Ok((200, true))),
            (b"HTTP/1.1 200 OK\r\nConnection: TE, close\r\nContent-Length: 0\r\n\r\n", Ok((200, false))),
            (b"HTTP/2.0 200 OK\r\n\r\n", Err(Error::StatusLine)),
            (b"HTTP/1.1 20 OK\r\n\r\n", Err(Error::StatusLine)),
            (b"HTTP/1.1 2000 OK\r\n\r\n", Err(Error::StatusLine)),
            (b"HTTP/1.1 099 OK\r\n\r\n", Err(Error::StatusLine)),
            (b"HTTP/1.1  200 OK\r\n\r\n", Err(Error::StatusLine)),
            (b"http/1.1 200 OK\r\n\r\n", Err(Error::StatusLine)),
            (b"HTTP/1.1 2x0 OK\r\n\r\n", Err(Error::StatusLine)),
            (b"HTTP/1.x 200 OK\r\n\r\n", Err(Error::StatusLine)),
            (b"HTTP/1.1 200 O\x01K\r\n\r\n", Err(Error::StatusLine)),
            (b"HTTP/1.1 200 OK\n\r\n\r\n", Err(Error::StatusLine)),
            (b"\r\n\r\n", Err(Error::StatusLine)),
        ] {
            let got = head(raw).map(|(h, _)| (h.status, h.keep_alive));
            assert_eq!(got, want, "{:?}", core::str::from_utf8(raw));
        }
    }

    #[test]
    fn header_lines() {
        for raw in [
            &b"HTTP/1.1 200 OK\r\nNo-Colon\r\n\r\n"[..],
            b"HTTP/1.1 200 OK\r\n: empty-name\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nSpace Before : x\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nName : x\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nA: b\r\n folded\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nA: b\rc\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nA: b\nC: d\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nA: b\x00\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nA: \x7f\r\n\r\n",
        ] {
            assert_eq!(head(raw).err(), Some(Error::HeaderLine), "{:?}", core::str::from_utf8(raw));
        }
        // obs-text and tabs are legal in values.
        let (_, [_, _, ct]) =
            head(b"HTTP/1.1 200 OK\r\nContent-Type: t\xc3\xa9\tx\r\nContent-Length: 0\r\n\r\n").unwrap();
        assert_eq!(ct, "t\u{e9}\tx".as_bytes());
    }

    #[test]
    fn framing() {
        let max = MAX_BODY.to_string();
        let over = (MAX_BODY + 1).to_string();
        let at_max = format!("HTTP/1.1 200 OK\r\nContent-Length: {max}\r\n\r\n");
        let over_max = format!("HTTP/1.1 200 OK\r\nContent-Length: {over}\r\n\r\n");
        for (raw, want) in [
            (&b"HTTP/1.1 200 OK\r\nContent-Length: 0042\r\n\r\n"[..], Ok(Framing::Length(42))),
            (b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\nContent-Length: 5\r\n\r\n", Ok(Framing::Length(5))),
            (at_max.as_bytes(), Ok(Framing::Length(MAX_BODY))),
            (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n", Ok(Framing::Chunked)),
            (b"HTTP/1.1 204 No Content\r\n\r\n", Ok(Framing::Length(0))),
            (b"HTTP/1.1 200 OK\r\n\r\n", Ok(Framing::UntilClose)),
            (over_max.as_bytes(), Err(Error::BodyTooLarge)),
            (b"HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551615\r\n\r\n", Err(Error::BodyTooLarge)),
            (b"HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551616\r\n\r\n", Err(Error::ContentLength)),
            (b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", Err(Error::ContentLength)),
            (b"HTTP/1.1 200 OK\r\nContent-Length: +1\r\n\r\n", Err(Error::ContentLength)),
            (b"HTTP/1.1 200 OK\r\nContent-Length: 1 2\r\n\r\n", Err(Error::ContentLength)),
            (b"HTTP/1.1 200 OK\r\nContent-Length: 0x10\r\n\r\n", Err(Error::ContentLength)),
            (b"HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n", Err(Error::ContentLength)),
            (b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", Err(Error::ContentLength)),
            (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", Err(Error::TransferEncoding)),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
                Err(Error::AmbiguousFraming),
            ),
        ] {
            assert_eq!(head(raw).map(|(h, _)| h.framing), want, "{:?}", core::str::from_utf8(raw));
        }
        let (h, _) = head(b"HTTP/1.1 200 OK\r\n\r\n").unwrap();
        assert!(!h.keep_alive, "a close-delimited body ends the connection");
    }

    #[test]
    fn a_head_over_the_limit_is_an_error() {
        let mut raw = b"HTTP/1.1 200 OK\r\nX: ".to_vec();
        raw.resize(MAX_HEAD, b'a');
        let mut values = [Span::default(); 3];
        assert_eq!(parse_head(&raw[..MAX_HEAD - 1], &NAMES, &mut values), Ok(None));
        assert_eq!(parse_head(&raw, &NAMES, &mut values), Err(Error::HeadTooLarge));
        // A head that ends exactly at the limit is whole.
        raw.truncate(MAX_HEAD - 4);
        raw.extend_from_slice(b"\r\n\r\n");
        assert_eq!(parse_head(&raw, &NAMES, &mut values).map(|h| h.map(|h| h.len)), Ok(Some(MAX_HEAD)));
    }

    #[test]
    fn tokens_are_rfc_9110_tchar() {
        for b in 0..=u8::MAX {
            let tchar = b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
            assert_eq!(is_token(b), tchar, "{b:#04x}");
        }
    }

    #[test]
    fn the_tables_are_their_predicates() {
        for b in 0..=u8::MAX {
            assert_eq!(TOKEN[usize::from(b)], is_token(b), "{b:#04x}");
            assert_eq!(VALUE[usize::from(b)], is_value(b), "{b:#04x}");
        }
    }
}
