//! ASCII text as the Runtime API writes it: decimal numbers (`Content-Length`, the
//! deadline, ports) and case-insensitive names (headers, tokens, `localhost`).

/// Whether `s` is `lower` (which is lower case) in any case.
// Inlined: the lengths of the header names it compares mostly differ.
#[inline(always)]
pub fn eq_ignore_case(s: &[u8], lower: &[u8]) -> bool {
    s.len() == lower.len() && same_ignoring_case(s, lower)
}

/// `s` without its start, if that is `lower` (which is lower case) in any case.
#[inline(always)]
pub fn strip_prefix_ignore_case<'a>(s: &'a [u8], lower: &[u8]) -> Option<&'a [u8]> {
    let (start, rest) = s.split_at_checked(lower.len())?;
    same_ignoring_case(start, lower).then_some(rest)
}

/// Whether the bytes of `s` are those of `lower` (of the same length) in any case.
fn same_ignoring_case(s: &[u8], lower: &[u8]) -> bool {
    // Most bytes are in the case looked for already: they match without being folded.
    s.iter().zip(lower).all(|(&a, &b)| a == b || a.to_ascii_lowercase() == b)
}

/// A non-empty run of ASCII digits that fits in a `u64`; `None` for anything else (a sign,
/// a space, an overflow).
pub fn parse_decimal(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    let mut n: u64 = 0;
    for &b in digits {
        let digit = match b {
            b'0'..=b'9' => b - b'0',
            _ => return None,
        };
        n = n.checked_mul(10)?.checked_add(u64::from(digit))?;
    }
    Some(n)
}

/// The most digits a `u64` has.
pub const MAX_DIGITS: usize = 20;

/// Writes `n` in decimal at the end of `buf` and returns the digits.
pub fn format_decimal(mut n: u64, buf: &mut [u8; MAX_DIGITS]) -> &[u8] {
    let mut start = buf.len();
    for slot in buf.iter_mut().rev() {
        *slot = b'0' + (n % 10) as u8;
        start -= 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    buf.get(start..).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_insensitive_names() {
        assert!(eq_ignore_case(b"Content-Length", b"content-length"));
        assert!(eq_ignore_case(b"LOCALHOST", b"localhost"));
        assert!(!eq_ignore_case(b"content-lengt", b"content-length"));
        assert!(!eq_ignore_case(b"keep_alive", b"keep-alive"));
        assert!(!eq_ignore_case(b"\xc3\xa9", b"\xc3\x89"), "only ASCII letters fold");
        assert!(!eq_ignore_case(b"a", b"A"), "the name looked for is lower case");
        assert_eq!(strip_prefix_ignore_case(b"Lambda-Runtime-X", b"lambda-runtime-"), Some(&b"X"[..]));
        assert_eq!(strip_prefix_ignore_case(b"Lambda-Runtime", b"lambda-runtime-"), None);
        assert_eq!(strip_prefix_ignore_case(b"Lambda_Runtime-X", b"lambda-runtime-"), None);
    }

    #[test]
    fn parses_plain_digits_only() {
        assert_eq!(parse_decimal(b"0"), Some(0));
        assert_eq!(parse_decimal(b"0042"), Some(42));
        assert_eq!(parse_decimal(b"18446744073709551615"), Some(u64::MAX));
        for bad in [&b""[..], b"18446744073709551616", b"-1", b"+1", b" 1", b"1 ", b"0x10", b"1.5"] {
            assert_eq!(parse_decimal(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn formats_every_width() {
        for (n, s) in [(0, "0"), (7, "7"), (10, "10"), (413, "413"), (u64::MAX, "18446744073709551615")] {
            assert_eq!(format_decimal(n, &mut [0; MAX_DIGITS]), s.as_bytes());
        }
    }
}
