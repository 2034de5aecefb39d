//! The error document: `{"errorMessage":…,"errorType":…,"stackTrace":[]}`, escaped while
//! it is written into a bounded buffer.

/// The mark of a cut message.
pub(crate) const TRUNCATED: &[u8] = b" [truncated]";

/// Whether `t` matches `(Runtime|Function)\.[A-Z][a-zA-Z]+`, the error types the Runtime
/// API accepts (anything else is recorded as `Runtime.Unknown`).
pub fn valid_error_type(t: &[u8]) -> bool {
    let name = strip(t, b"Runtime.").or_else(|| strip(t, b"Function."));
    matches!(name, Some([first, rest @ ..]) if first.is_ascii_uppercase() && !rest.is_empty() && rest.iter().all(u8::is_ascii_alphabetic))
}

/// The error type to report for `t`: `t` itself if it is valid ([`valid_error_type`]),
/// else `Function.Unknown`.
pub fn reported_error_type(t: &[u8]) -> &[u8] {
    if valid_error_type(t) { t } else { b"Function.Unknown" }
}

/// `t` without `prefix`, if it starts with it (a loop: slice equality would import `bcmp`).
fn strip<'a>(t: &'a [u8], prefix: &[u8]) -> Option<&'a [u8]> {
    let rest = t.get(prefix.len()..)?;
    t.iter().zip(prefix).all(|(a, b)| a == b).then_some(rest)
}

/// Writes the error document for `error_type` (used verbatim: validate it first) and the
/// message, given as UTF-8 pieces written one after another, into `dst`; returns its
/// length. A message too long for `dst` is cut at a character boundary and marked
/// ` [truncated]`. `dst` must hold at least 128 bytes.
#[inline(never)]
pub fn error_body(dst: &mut [u8], error_type: &[u8], message: &[&[u8]]) -> usize {
    let mut w = Cursor { dst, len: 0 };
    w.put(b"{\"errorMessage\":\"");
    let limit = w.dst.len().saturating_sub(TRUNCATED.len() + error_type.len() + 40);
    'pieces: for piece in message {
        for (i, &b) in piece.iter().enumerate() {
            if w.len + 6 > limit {
                // Back up to a character boundary: non-ASCII bytes were copied one for one.
                let mut i = i;
                while i > 0 && piece.get(i).is_some_and(|b| b & 0xc0 == 0x80) {
                    i -= 1;
                    w.len -= 1;
                }
                w.put(TRUNCATED);
                break 'pieces;
            }
            w.put_escaped(b);
        }
    }
    w.put(b"\",\"errorType\":\"");
    w.put(error_type);
    w.put(b"\",\"stackTrace\":[]}");
    w.len
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Writes into a bounded buffer: what does not fit is dropped.
pub(crate) struct Cursor<'a> {
    pub dst: &'a mut [u8],
    pub len: usize,
}

impl Cursor<'_> {
    /// Appends as much of `s` as fits.
    pub fn put(&mut self, s: &[u8]) {
        for (d, s) in self.dst.iter_mut().skip(self.len).zip(s) {
            *d = *s;
            self.len += 1;
        }
    }

    /// Appends `b` as it reads inside a JSON string: `"`, `\` and control characters
    /// escaped (`\n`, `\r`, `\t`, `\u00XX`), any other byte as it is (at most 6 bytes).
    pub fn put_escaped(&mut self, b: u8) {
        match b {
            b'"' | b'\\' => self.put(&[b'\\', b]),
            b'\n' => self.put(b"\\n"),
            b'\r' => self.put(b"\\r"),
            b'\t' => self.put(b"\\t"),
            0..=0x1f | 0x7f => self.put(&[b'\\', b'u', b'0', b'0', HEX[(b >> 4) as usize], HEX[(b & 15) as usize]]),
            _ => self.put(&[b]),
        }
    }
}

/// How many bytes [`Cursor::put_escaped`] writes for `b`.
#[cfg(feature = "log")]
pub(crate) fn escaped_len(b: u8) -> usize {
    match b {
        b'"' | b'\\' | b'\n' | b'\r' | b'\t' => 2,
        0..=0x1f | 0x7f => 6,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(cap: usize, t: &str, m: &str) -> std::string::String {
        let mut buf = std::vec![0u8; cap];
        let n = error_body(&mut buf, t.as_bytes(), &[m.as_bytes()]);
        std::string::String::from_utf8(buf[..n].to_vec()).unwrap()
    }

    #[cfg(feature = "log")]
    #[test]
    fn escaped_len_is_what_put_escaped_writes() {
        for b in 0..=u8::MAX {
            let mut buf = [0u8; 8];
            let mut w = Cursor { dst: &mut buf, len: 0 };
            w.put_escaped(b);
            assert_eq!(escaped_len(b), w.len, "{b:#x}");
        }
    }

    #[test]
    fn golden_document() {
        assert_eq!(
            body(256, "Function.Bad", "say \"hi\"\\\n\r\t\u{1}\u{7f} é"),
            r#"{"errorMessage":"say \"hi\"\\\n\r\t\u0001\u007f é","errorType":"Function.Bad","stackTrace":[]}"#
        );
    }

    #[test]
    fn long_messages_are_cut_at_a_character_boundary() {
        let msg = "é".repeat(200);
        let out = body(200, "Runtime.X", &msg);
        assert!(out.len() <= 200, "{out}");
        assert!(out.ends_with(r#"é [truncated]","errorType":"Runtime.X","stackTrace":[]}"#), "{out}");
        assert!(out.contains("\"errorMessage\":\"éé"), "{out}");
    }

    #[test]
    fn pieces_are_concatenated() {
        let mut buf = [0u8; 128];
        let n = error_body(&mut buf, b"Runtime.Panic", &[b"boom", b" at ", b"src/main.rs", b":", b"7"]);
        assert_eq!(
            &buf[..n],
            br#"{"errorMessage":"boom at src/main.rs:7","errorType":"Runtime.Panic","stackTrace":[]}"#
        );
    }

    #[test]
    fn invalid_error_types_are_reported_as_unknown() {
        assert_eq!(reported_error_type(b"Function.Bad"), b"Function.Bad");
        assert_eq!(reported_error_type(b"bad"), b"Function.Unknown");
    }

    #[test]
    fn error_types() {
        for ok in ["Runtime.Unknown", "Function.ResponseSizeTooLarge", "Runtime.Xy"] {
            assert!(valid_error_type(ok.as_bytes()), "{ok}");
        }
        for bad in [
            "",
            "Runtime.",
            "Runtime.X",
            "Runtime.x1",
            "Function.lower",
            "Sandbox.Timeout",
            "unhandled",
            "Runtime.Bad Name",
            "Runtime.Über",
        ] {
            assert!(!valid_error_type(bad.as_bytes()), "{bad}");
        }
    }
}
