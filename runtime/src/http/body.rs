//! The body of a response, in any of its three framings, decoded in place as it arrives.

use super::{Error, Framing, MAX_BODY, is_value};

/// Where a [`BodyDecoder`] is in the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DecoderState {
    /// `Content-Length`: `remaining` bytes to go.
    Length,
    /// No framing: every byte until the connection closes.
    UntilClose,
    /// Chunked, at the start of a chunk-size line: a hex digit must come.
    SizeStart,
    /// In the hex digits of a chunk size (`remaining` is the size so far).
    Size,
    /// Spaces or tabs after the size.
    SizeSpace,
    /// A chunk extension (`;name=value`), ignored up to the CR.
    Extension,
    /// The CR of the size line was read: its LF must follow.
    SizeLf,
    /// Inside a chunk's data: `remaining` bytes to go.
    Data,
    /// After a chunk's data: its CR must follow.
    DataCr,
    /// After a chunk's data and CR: its LF must follow.
    DataLf,
    /// After the last chunk, at the start of a trailer line or of the final CRLF.
    TrailerStart,
    /// Inside a trailer line.
    Trailer,
    /// The CR of a trailer line was read: its LF must follow.
    TrailerLf,
    /// The CR of the final CRLF was read: its LF ends the body.
    LastLf,
    /// The body is complete.
    Done,
}

/// An incremental, in-place decoder for a response body of any [`Framing`].
///
/// Feed it the raw bytes as they arrive ([`decode`](Self::decode)); it moves the data bytes
/// down over the chunk framing, so that the decoded body ends up contiguous at the start of
/// the buffer (a `Content-Length` body is left where it is). It reads at most [`MAX_BODY`]
/// bytes of data (a `Content-Length` over it is refused by the head parser) and at most as
/// many bytes of chunk framing, and refuses a chunk size over it at its first digit too many:
/// a body costs a bounded number of reads, whatever the peer declares or sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyDecoder {
    state: DecoderState,
    /// The data bytes still to come in `Length` and `Data`; the chunk size read so far in
    /// the states of a size line.
    remaining: u64,
    /// Data bytes so far, announced (chunk sizes) or read (until close): at most
    /// [`MAX_BODY`].
    total: u64,
    /// Bytes of chunk framing read so far (size lines, extensions, trailers, CRLFs): at
    /// most [`MAX_BODY`].
    framing: u64,
}

/// What one call to [`BodyDecoder::decode`] achieved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// The end of the decoded data so far.
    pub out: usize,
    /// When the body is complete: the index just past its last raw byte.
    pub end: Option<usize>,
}

impl BodyDecoder {
    /// A decoder at the start of a body delimited by `framing`.
    pub const fn new(framing: Framing) -> Self {
        let (state, remaining) = match framing {
            Framing::Length(n) => (DecoderState::Length, n),
            Framing::Chunked => (DecoderState::SizeStart, 0),
            Framing::UntilClose => (DecoderState::UntilClose, 0),
        };
        BodyDecoder { state, remaining, total: 0, framing: 0 }
    }

    /// Whether the body ends only when the connection does.
    pub fn until_close(&self) -> bool {
        self.state == DecoderState::UntilClose
    }

    /// Decodes the raw bytes `buf[raw..end]`, appending their data at `buf[out..]`.
    ///
    /// Requires `out <= raw <= end <= buf.len()`; since framing is never shorter than the
    /// data it wraps, the output never overtakes the input. (Given other arguments it
    /// decodes nothing and returns `out`.) All input up to the end of the body is consumed;
    /// on completion [`Progress::end`] tells where the body ended.
    pub fn decode(&mut self, buf: &mut [u8], mut out: usize, mut raw: usize, end: usize) -> Result<Progress, Error> {
        if !(out <= raw && raw <= end && end <= buf.len()) {
            return Ok(Progress { out, end: None });
        }
        loop {
            match self.state {
                DecoderState::Done => return Ok(Progress { out, end: Some(raw) }),
                DecoderState::Length | DecoderState::Data | DecoderState::UntilClose => {
                    let n = self.take_data(buf, out, raw, end)?;
                    (out, raw) = (out + n, raw + n);
                    if raw == end && self.state != DecoderState::Done {
                        return Ok(Progress { out, end: None });
                    }
                }
                _ => {
                    let Some(&b) = buf.get(raw).filter(|_| raw < end) else {
                        return Ok(Progress { out, end: None });
                    };
                    raw += 1;
                    count(&mut self.framing, 1)?;
                    self.state = self.after(b)?;
                }
            }
        }
    }

    /// Moves the data bytes available in `buf[raw..end]` down to `out` (where they already
    /// are for a `Content-Length` body: `out == raw`), and returns how many.
    fn take_data(&mut self, buf: &mut [u8], out: usize, raw: usize, end: usize) -> Result<usize, Error> {
        let available = end.saturating_sub(raw);
        let n = match self.state {
            DecoderState::UntilClose => available,
            _ => available.min(usize::try_from(self.remaining).unwrap_or(usize::MAX)),
        };
        // The gap (framing already read) and the data after it: the data moves to the start
        // of the gap. Within that window the destination is 0, so `copy_within` cannot fail.
        let window = buf.get_mut(out..raw.saturating_add(n)).filter(|_| out < raw);
        if let Some(window) = window {
            let gap = raw - out;
            if gap <= window.len() {
                window.copy_within(gap.., 0);
            }
        }
        let n64 = n as u64;
        match self.state {
            DecoderState::UntilClose => count(&mut self.total, n64)?,
            _ => {
                self.remaining -= n64;
                if self.remaining == 0 {
                    self.state =
                        if self.state == DecoderState::Length { DecoderState::Done } else { DecoderState::DataCr };
                }
            }
        }
        Ok(n)
    }

    /// The state after framing byte `b`.
    fn after(&mut self, b: u8) -> Result<DecoderState, Error> {
        let next = match self.state {
            DecoderState::SizeStart => self.size_digit(b)?,
            DecoderState::Size => match b {
                b' ' | b'\t' => DecoderState::SizeSpace,
                b';' => DecoderState::Extension,
                b'\r' => DecoderState::SizeLf,
                _ => self.size_digit(b)?,
            },
            DecoderState::SizeSpace => match b {
                b' ' | b'\t' => DecoderState::SizeSpace,
                b';' => DecoderState::Extension,
                b'\r' => DecoderState::SizeLf,
                _ => return Err(Error::ChunkSize),
            },
            DecoderState::Extension => match b {
                b'\r' => DecoderState::SizeLf,
                _ if is_value(b) => DecoderState::Extension,
                _ => return Err(Error::ChunkSize),
            },
            DecoderState::SizeLf => match b {
                b'\n' if self.remaining == 0 => DecoderState::TrailerStart,
                b'\n' => {
                    count(&mut self.total, self.remaining)?;
                    DecoderState::Data
                }
                _ => return Err(Error::ChunkSize),
            },
            DecoderState::DataCr if b == b'\r' => DecoderState::DataLf,
            DecoderState::DataLf if b == b'\n' => DecoderState::SizeStart,
            DecoderState::TrailerStart if b == b'\r' => DecoderState::LastLf,
            DecoderState::Trailer if b == b'\r' => DecoderState::TrailerLf,
            DecoderState::TrailerStart | DecoderState::Trailer if is_value(b) => DecoderState::Trailer,
            DecoderState::TrailerLf if b == b'\n' => DecoderState::TrailerStart,
            DecoderState::LastLf if b == b'\n' => DecoderState::Done,
            _ => return Err(Error::ChunkFraming),
        };
        Ok(next)
    }

    /// A hex digit of a chunk size: the size grows by it (`Size`); anything else is a
    /// malformed size, and a size over [`MAX_BODY`] is refused at once.
    fn size_digit(&mut self, b: u8) -> Result<DecoderState, Error> {
        let digit = hex_digit(b).ok_or(Error::ChunkSize)?;
        // `remaining` is at most MAX_BODY here, so this cannot overflow.
        self.remaining = self.remaining * 16 + digit;
        if self.remaining > MAX_BODY {
            return Err(Error::BodyTooLarge);
        }
        Ok(DecoderState::Size)
    }
}

/// Adds `n` bytes to `counter`: a body's data or its framing, each bounded by
/// [`MAX_BODY`].
fn count(counter: &mut u64, n: u64) -> Result<(), Error> {
    *counter = counter.saturating_add(n);
    if *counter > MAX_BODY { Err(Error::BodyTooLarge) } else { Ok(()) }
}

/// The value of a hexadecimal digit (either case).
fn hex_digit(b: u8) -> Option<u64> {
    match b {
        b'0'..=b'9' => Some(u64::from(b - b'0')),
        b'a'..=b'f' => Some(u64::from(b - b'a' + 10)),
        b'A'..=b'F' => Some(u64::from(b - b'A' + 10)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decodes `raw` delivered in pieces of `step` bytes, the way the client does: each
    /// piece is appended after the decoded output, then decoded in place.
    fn dechunk(raw: &[u8], step: usize) -> Result<(std::vec::Vec<u8>, usize), Error> {
        let mut buf = std::vec![0u8; raw.len()];
        let (mut dec, mut out, mut fed) = (BodyDecoder::new(Framing::Chunked), 0, 0);
        while fed < raw.len() {
            let n = step.min(raw.len() - fed);
            buf[out..out + n].copy_from_slice(&raw[fed..fed + n]);
            fed += n;
            let p = dec.decode(&mut buf, out, out, out + n)?;
            if let Some(end) = p.end {
                let extra = out + n - end;
                return Ok((buf[..p.out].to_vec(), fed - extra));
            }
            out = p.out;
        }
        Err(Error::ChunkFraming)
    }

    #[test]
    fn chunked_golden_bytes_in_every_split() {
        let cases: [(&[u8], &[u8]); 6] = [
            (b"5\r\nhello\r\n0\r\n\r\n", b"hello"),
            (b"0\r\n\r\n", b""),
            (b"3\r\nabc\r\n2\r\nde\r\n1\r\nf\r\n0\r\n\r\n", b"abcdef"),
            (b"00A;ext=1;q=\"x\"\r\n0123456789\r\n000\r\n\r\n", b"0123456789"),
            (b"a \t; name=value\r\nABCDEFGHIJ\r\n0\r\nTrailer-One: x\r\nTrailer-Two: y\r\n\r\n", b"ABCDEFGHIJ"),
            (b"1\r\n\r\r\n0;last\r\nT: v\r\n\r\n", b"\r"),
        ];
        for (raw, data) in cases {
            for step in 1..=raw.len() {
                assert_eq!(dechunk(raw, step), Ok((data.to_vec(), raw.len())), "step {step}: {raw:?}");
            }
        }
    }

    #[test]
    fn chunked_stops_at_the_end_of_the_body() {
        let raw = b"2\r\nok\r\n0\r\n\r\nHTTP/1.1";
        let mut buf = raw.to_vec();
        let p = BodyDecoder::new(Framing::Chunked).decode(&mut buf, 0, 0, raw.len()).unwrap();
        assert_eq!(p, Progress { out: 2, end: Some(raw.len() - 8) });
        assert_eq!(&buf[..2], b"ok");
    }

    #[test]
    fn chunked_rejects_malformed_framing() {
        for (raw, want) in [
            (&b"\r\n"[..], Error::ChunkSize),
            (b"g\r\n", Error::ChunkSize),
            (b"-1\r\n", Error::ChunkSize),
            (b"1 2\r\n", Error::ChunkSize),
            (b"5\n", Error::ChunkSize),
            (b"5\r\r", Error::ChunkSize),
            (b"10000000000000000\r\n", Error::BodyTooLarge),
            (b"ffffffffffffffff0\r\n", Error::BodyTooLarge),
            (b"1;\x01\r\n", Error::ChunkSize),
            (b"2\r\nabc\r\n", Error::ChunkFraming),
            (b"2\r\nab\n", Error::ChunkFraming),
            (b"0\r\nT: v\n", Error::ChunkFraming),
            (b"0\r\n\r\r", Error::ChunkFraming),
            (b"0\r\nT\x00\r\n\r\n", Error::ChunkFraming),
        ] {
            let mut buf = raw.to_vec();
            let got = BodyDecoder::new(Framing::Chunked).decode(&mut buf, 0, 0, raw.len());
            assert_eq!(got, Err(want), "{raw:?}");
        }
    }

    #[test]
    fn chunk_sizes_over_the_limit_fail_before_their_data() {
        let at_limit = format!("{MAX_BODY:x}\r\n");
        let over = format!("{:x}\r\n", MAX_BODY + 1);
        let mut dec = BodyDecoder::new(Framing::Chunked);
        let mut buf = at_limit.clone().into_bytes();
        assert_eq!(dec.decode(&mut buf, 0, 0, at_limit.len()), Ok(Progress { out: 0, end: None }));
        let mut buf = over.clone().into_bytes();
        let got = BodyDecoder::new(Framing::Chunked).decode(&mut buf, 0, 0, over.len());
        assert_eq!(got, Err(Error::BodyTooLarge));
        // Every 16-hex-digit size is read (leading zeros too), and refused as too large.
        let mut buf = b"0000000000000000000000ffffffffffffffff\r\n".to_vec();
        let n = buf.len();
        assert_eq!(BodyDecoder::new(Framing::Chunked).decode(&mut buf, 0, 0, n), Err(Error::BodyTooLarge));
    }

    #[test]
    fn a_size_over_the_limit_fails_at_its_digit_without_its_line_end() {
        let over = format!("{:x}", MAX_BODY + 1);
        let mut buf = over.clone().into_bytes();
        let got = BodyDecoder::new(Framing::Chunked).decode(&mut buf, 0, 0, over.len());
        assert_eq!(got, Err(Error::BodyTooLarge));
    }

    #[test]
    fn framing_is_bounded_too() {
        // An extension, or trailers, that never end: refused once the framing passes
        // MAX_BODY bytes.
        for start in [&b"1;"[..], b"0\r\nT: "] {
            let mut dec = BodyDecoder::new(Framing::Chunked);
            let mut buf = start.to_vec();
            let n = buf.len();
            assert!(dec.decode(&mut buf, 0, 0, n).is_ok());
            dec.framing = MAX_BODY - 3;
            let mut more = *b"xxxx";
            assert_eq!(dec.decode(&mut more, 0, 0, 4), Err(Error::BodyTooLarge), "{start:?}");
        }
    }

    #[test]
    fn chunks_summing_over_the_limit_fail() {
        let half = MAX_BODY / 2 + 1;
        let mut dec = BodyDecoder::new(Framing::Chunked);
        let first = format!("{half:x}\r\n");
        let mut buf = first.clone().into_bytes();
        assert!(dec.decode(&mut buf, 0, 0, first.len()).is_ok());
        (dec.state, dec.remaining) = (DecoderState::DataCr, 0); // as if the data had been read
        let second = format!("\r\n{half:x}\r\n");
        let mut buf = second.clone().into_bytes();
        assert_eq!(dec.decode(&mut buf, 0, 0, second.len()), Err(Error::BodyTooLarge));
    }

    #[test]
    fn content_length_bodies_stay_in_place() {
        let mut buf = b"hello, world".to_vec();
        let mut dec = BodyDecoder::new(Framing::Length(5));
        assert_eq!(dec.decode(&mut buf, 0, 0, 3), Ok(Progress { out: 3, end: None }));
        assert_eq!(dec.decode(&mut buf, 3, 3, 12), Ok(Progress { out: 5, end: Some(5) }));
        assert_eq!(&buf, b"hello, world");
        let mut empty = BodyDecoder::new(Framing::Length(0));
        assert_eq!(empty.decode(&mut [], 0, 0, 0), Ok(Progress { out: 0, end: Some(0) }));
    }

    #[test]
    fn bodies_until_close_are_bounded() {
        let mut dec = BodyDecoder::new(Framing::UntilClose);
        assert!(dec.until_close());
        let mut buf = std::vec![7u8; 4096];
        assert_eq!(dec.decode(&mut buf, 0, 0, 4096), Ok(Progress { out: 4096, end: None }));
        dec.total = MAX_BODY - 10;
        assert_eq!(dec.decode(&mut buf, 0, 0, 10), Ok(Progress { out: 10, end: None }));
        assert_eq!(dec.decode(&mut buf, 0, 0, 1), Err(Error::BodyTooLarge));
    }

    #[test]
    fn broken_preconditions_decode_nothing() {
        let mut buf = b"5\r\nhello\r\n0\r\n\r\n".to_vec();
        let len = buf.len();
        for framing in [Framing::Chunked, Framing::Length(100), Framing::UntilClose] {
            for (out, raw, end) in [(1, 0, len), (0, 0, len + 64), (9, 3, len), (0, 5, 3)] {
                let got = BodyDecoder::new(framing).decode(&mut buf, out, raw, end);
                assert_eq!(got, Ok(Progress { out, end: None }), "{framing:?} {out} {raw} {end}");
            }
        }
    }
}
