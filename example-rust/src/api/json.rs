//! JSON text as the API example needs it, over bytes and without a heap: a strict validator
//! ([`is_valid`]), the bytes a string's content stands for ([`Unescaped`]), and the escapes
//! that write bytes as a string's content ([`escape`]).
//!
//! serde-json-core parses the event, but it cannot check a JSON document of unknown shape: it
//! has no `deserialize_any`, and it skips values it ignores without checking them (`tru` passes
//! as a value, and escapes are not checked in strings it borrows). It also recurses once per
//! level of nesting, with no limit. So every document is first checked here, with a bounded
//! depth, and only then handed to it.

/// How deeply arrays and objects may nest in a valid document: the bound on the validator's
/// recursion, and on serde-json-core's once the validator passed. Deeper documents are
/// refused (a 400), as nearly every JSON parser refuses some depth.
pub const MAX_DEPTH: usize = 64;

/// Whether `bytes` are one JSON text (RFC 8259): one value, white space around it, strings of
/// well-formed UTF-8 whose `\u` escapes are Unicode scalar values (surrogates only as a
/// pair), and at most [`MAX_DEPTH`] levels of arrays and objects. Stops at the first byte
/// that makes it invalid.
pub fn is_valid(bytes: impl Iterator<Item = u8>) -> bool {
    let mut validator = Validator { bytes, peeked: None };
    validator.text().is_ok()
}

/// The input is not valid JSON (where and why does not matter to the API: it answers 400).
struct Invalid;

/// A recursive-descent check of one JSON text, a byte at a time.
struct Validator<I> {
    bytes: I,
    /// The byte [`Validator::peek`] read and [`Validator::next`] has not taken yet.
    peeked: Option<u8>,
}

impl<I: Iterator<Item = u8>> Validator<I> {
    /// The next byte, without taking it.
    fn peek(&mut self) -> Option<u8> {
        if self.peeked.is_none() {
            self.peeked = self.bytes.next();
        }
        self.peeked
    }

    /// Takes the next byte.
    fn next(&mut self) -> Option<u8> {
        match self.peeked.take() {
            Some(byte) => Some(byte),
            None => self.bytes.next(),
        }
    }

    /// Takes the next byte, which must be `expected`.
    fn expect(&mut self, expected: u8) -> Result<(), Invalid> {
        match self.next() {
            Some(byte) if byte == expected => Ok(()),
            _ => Err(Invalid),
        }
    }

    /// Takes white space up to the next other byte.
    fn skip_white_space(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.next();
        }
    }

    /// A whole text: one value, then nothing but white space.
    fn text(&mut self) -> Result<(), Invalid> {
        self.value(0)?;
        self.skip_white_space();
        match self.next() {
            None => Ok(()),
            Some(_) => Err(Invalid),
        }
    }

    /// A value and the white space before it, inside `depth` arrays and objects.
    fn value(&mut self, depth: usize) -> Result<(), Invalid> {
        self.skip_white_space();
        match self.next() {
            Some(b'{') => self.object(depth + 1),
            Some(b'[') => self.array(depth + 1),
            Some(b'"') => self.string(),
            Some(b't') => self.literal(b"rue"),
            Some(b'f') => self.literal(b"alse"),
            Some(b'n') => self.literal(b"ull"),
            Some(first @ (b'-' | b'0'..=b'9')) => self.number(first),
            _ => Err(Invalid),
        }
    }

    /// The rest of `true`, `false` or `null` after its first letter.
    fn literal(&mut self, rest: &[u8]) -> Result<(), Invalid> {
        for &byte in rest {
            self.expect(byte)?;
        }
        Ok(())
    }

    /// The rest of an object after its `{`; it is the `depth`th level of nesting.
    fn object(&mut self, depth: usize) -> Result<(), Invalid> {
        if depth > MAX_DEPTH {
            return Err(Invalid);
        }
        self.skip_white_space();
        if self.peek() == Some(b'}') {
            self.next();
            return Ok(());
        }
        loop {
            self.skip_white_space();
            self.expect(b'"')?;
            self.string()?;
            self.skip_white_space();
            self.expect(b':')?;
            self.value(depth)?;
            self.skip_white_space();
            match self.next() {
                Some(b',') => {}
                Some(b'}') => return Ok(()),
                _ => return Err(Invalid),
            }
        }
    }

    /// The rest of an array after its `[`; it is the `depth`th level of nesting.
    fn array(&mut self, depth: usize) -> Result<(), Invalid> {
        if depth > MAX_DEPTH {
            return Err(Invalid);
        }
        self.skip_white_space();
        if self.peek() == Some(b']') {
            self.next();
            return Ok(());
        }
        loop {
            self.value(depth)?;
            self.skip_white_space();
            match self.next() {
                Some(b',') => {}
                Some(b']') => return Ok(()),
                _ => return Err(Invalid),
            }
        }
    }

    /// The rest of a string after its opening quote, up to and with its closing one.
    fn string(&mut self) -> Result<(), Invalid> {
        loop {
            match self.next() {
                Some(b'"') => return Ok(()),
                Some(b'\\') => self.escape()?,
                Some(lead @ 0x80..=0xFF) => self.utf8_sequence(lead)?,
                Some(0x20..=0x7F) => {}
                // A control character, or the end of the input.
                Some(0x00..=0x1F) | None => return Err(Invalid),
            }
        }
    }

    /// The rest of an escape after its backslash.
    fn escape(&mut self) -> Result<(), Invalid> {
        match self.next() {
            Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => Ok(()),
            Some(b'u') => match self.hex4()? {
                // A high surrogate stands for a character only with a low one after it.
                0xD800..=0xDBFF => {
                    self.expect(b'\\')?;
                    self.expect(b'u')?;
                    match self.hex4()? {
                        0xDC00..=0xDFFF => Ok(()),
                        _ => Err(Invalid),
                    }
                }
                0xDC00..=0xDFFF => Err(Invalid),
                _ => Ok(()),
            },
            _ => Err(Invalid),
        }
    }

    /// The four hex digits of a `\u` escape, as a UTF-16 code unit.
    fn hex4(&mut self) -> Result<u32, Invalid> {
        let mut unit = 0;
        for _ in 0..4 {
            let digit = self.next().and_then(|byte| char::from(byte).to_digit(16)).ok_or(Invalid)?;
            unit = unit * 16 + digit;
        }
        Ok(unit)
    }

    /// The rest of a UTF-8 sequence after its first byte `lead`: the well-formed sequences of
    /// the Unicode standard (table 3-7), so no overlong forms, surrogates or code points past
    /// U+10FFFF.
    fn utf8_sequence(&mut self, lead: u8) -> Result<(), Invalid> {
        // The range of the second byte, and how many bytes follow it.
        let (second, more) = match lead {
            0xC2..=0xDF => (0x80..=0xBF, 0),
            0xE0 => (0xA0..=0xBF, 1),
            0xE1..=0xEC | 0xEE..=0xEF => (0x80..=0xBF, 1),
            0xED => (0x80..=0x9F, 1),
            0xF0 => (0x90..=0xBF, 2),
            0xF1..=0xF3 => (0x80..=0xBF, 2),
            0xF4 => (0x80..=0x8F, 2),
            _ => return Err(Invalid),
        };
        match self.next() {
            Some(byte) if second.contains(&byte) => {}
            _ => return Err(Invalid),
        }
        for _ in 0..more {
            match self.next() {
                Some(0x80..=0xBF) => {}
                _ => return Err(Invalid),
            }
        }
        Ok(())
    }

    /// The rest of a number after its first byte (`-` or a digit).
    fn number(&mut self, first: u8) -> Result<(), Invalid> {
        let first_digit = match first {
            b'-' => self.next(),
            digit => Some(digit),
        };
        // The integer part: `0`, or digits that do not start with `0`.
        match first_digit {
            Some(b'0') => {}
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(Invalid),
        }
        if self.peek() == Some(b'.') {
            self.next();
            self.one_or_more_digits()?;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.next();
            if let Some(b'+' | b'-') = self.peek() {
                self.next();
            }
            self.one_or_more_digits()?;
        }
        Ok(())
    }

    /// Takes the digits up to the next other byte.
    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.next();
        }
    }

    /// Takes at least one digit, then every digit up to the next other byte.
    fn one_or_more_digits(&mut self) -> Result<(), Invalid> {
        match self.next() {
            Some(b'0'..=b'9') => {
                self.digits();
                Ok(())
            }
            _ => Err(Invalid),
        }
    }
}

/// The bytes a JSON string stands for, from its content as written between the quotes.
///
/// Invariant: the content is that of a string [`is_valid`] accepted, so every escape is
/// complete, and a `\u` escape of a high surrogate has one of a low surrogate after it. Were it
/// not so, each broken escape would stand for U+FFFD, the replacement character.
#[derive(Clone)]
pub struct Unescaped<'a> {
    /// The content not read yet.
    rest: &'a [u8],
    /// The UTF-8 bytes of the last escape read; `pending[next_pending..pending_len]` are not
    /// handed out yet.
    pending: [u8; 4],
    pending_len: usize,
    next_pending: usize,
}

impl<'a> Unescaped<'a> {
    /// The bytes `content`, a string's content as written, stands for.
    pub fn new(content: &'a [u8]) -> Self {
        Unescaped { rest: content, pending: [0; 4], pending_len: 0, next_pending: 0 }
    }

    /// Reads the escape at the start of `rest` (its backslash already taken) and returns the
    /// character it stands for.
    fn escape(&mut self) -> char {
        let Some((&letter, after)) = self.rest.split_first() else {
            return char::REPLACEMENT_CHARACTER;
        };
        self.rest = after;
        match letter {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => self.unicode_escape(),
            _ => char::REPLACEMENT_CHARACTER,
        }
    }

    /// Reads the four hex digits of a `\u` escape (and, for a high surrogate, the low
    /// surrogate's escape after it) and returns the character.
    fn unicode_escape(&mut self) -> char {
        let unit = self.hex4();
        let code_point = match unit {
            Some(high @ 0xD800..=0xDBFF) => match self.rest.strip_prefix(b"\\u") {
                Some(after) => {
                    self.rest = after;
                    match self.hex4() {
                        Some(low @ 0xDC00..=0xDFFF) => Some(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)),
                        _ => None,
                    }
                }
                None => None,
            },
            other => other,
        };
        code_point.and_then(char::from_u32).unwrap_or(char::REPLACEMENT_CHARACTER)
    }

    /// Reads four hex digits, as a UTF-16 code unit.
    fn hex4(&mut self) -> Option<u32> {
        let mut unit = 0;
        for _ in 0..4 {
            let (&byte, after) = self.rest.split_first()?;
            self.rest = after;
            unit = unit * 16 + char::from(byte).to_digit(16)?;
        }
        Some(unit)
    }
}

impl Iterator for Unescaped<'_> {
    type Item = u8;

    fn next(&mut self) -> Option<u8> {
        if self.next_pending < self.pending_len {
            let byte = self.pending.get(self.next_pending).copied();
            self.next_pending += 1;
            return byte;
        }
        let (&byte, after) = self.rest.split_first()?;
        self.rest = after;
        if byte != b'\\' {
            return Some(byte);
        }
        let character = self.escape();
        self.pending_len = character.encode_utf8(&mut self.pending).len();
        // The first byte is handed out now, the others by the next calls.
        self.next_pending = 1;
        self.pending.first().copied()
    }
}

/// `byte` as it is written in a JSON string's content: itself, or its escape (quote,
/// backslash and control characters), which `buf` holds if it is not a constant.
pub fn escape(byte: u8, buf: &mut [u8; 6]) -> &[u8] {
    match byte {
        b'"' => b"\\\"",
        b'\\' => b"\\\\",
        b'\n' => b"\\n",
        b'\r' => b"\\r",
        b'\t' => b"\\t",
        0x00..=0x1F => {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            *buf = [b'\\', b'u', b'0', b'0', HEX[usize::from(byte >> 4)], HEX[usize::from(byte & 0xF)]];
            buf
        }
        _ => {
            buf[0] = byte;
            &buf[..1]
        }
    }
}
