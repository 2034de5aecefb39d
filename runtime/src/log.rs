//! Lambda's logging controls (feature `log`): the runtime's own lines and the handlers'
//! records, as text or as JSON objects, filtered by level.
//!
//! Lambda sets `AWS_LAMBDA_LOG_FORMAT` (`JSON` or `Text`) and `AWS_LAMBDA_LOG_LEVEL`
//! (`TRACE`, `DEBUG`, `INFO`, `WARN`, `ERROR`, `FATAL`) from the function's logging
//! configuration. Both are read once, on the first record, in any case; a format other
//! than `JSON` is text, and a level that is unset or none of those is `INFO` (the level
//! Lambda gives a JSON line without a valid one).
//!
//! - With `JSON`, every line is one object: `timestamp` (RFC 3339, UTC, milliseconds),
//!   `level`, `requestId` while a handler runs, `errorType` where there is one (`Runtime.Panic`
//!   for a panic, the type of an init error), then `message`:
//!   `{"timestamp":"2026-12-07T17:01:02.345Z","level":"INFO","requestId":"8476a536-…","message":"started"}`.
//!   Any bytes are escaped into a valid JSON string; a byte that is not part of valid UTF-8
//!   reads as `\ufffd` (U+FFFD).
//! - With text, the runtime's own lines are as without the feature
//!   (`lambda-libc: GET …: …`), and a handler's record is
//!   `<timestamp>\t<requestId>\t<LEVEL>\t<message>` (the layout of the Node.js runtime),
//!   its newlines turned into carriage returns so that it stays one CloudWatch event.
//!
//! The runtime's own lines are `FATAL` when the process ends after them (a malformed
//! response, a 5xx, a panic, an init error), so that no level hides why it ended, and
//! `WARN` when it goes on (a 4xx to an answer, a worker replaced). Records below the level
//! are not written, in either format.
//!
//! Each record is built in a stack buffer of [`MAX_RECORD`] bytes and written with one
//! `write` (the text lines of the runtime with one `writev`, as without the feature):
//! processes that share stderr never interleave inside a line. A message too long for it is
//! cut at a character boundary and marked ` [truncated]`. Nothing allocates or panics.

use core::fmt;
use core::sync::atomic::{AtomicU8, Ordering};

use crate::ascii;
use crate::json::{self, Cursor, TRUNCATED};
use crate::sys;

/// The most bytes of one record, its newline included; a longer message is cut. It is
/// Linux's `PIPE_BUF`: a write of at most that many bytes to a pipe is never interleaved with
/// another process's.
pub const MAX_RECORD: usize = 4096;

/// The severity of a record, lowest first (the levels of `AWS_LAMBDA_LOG_LEVEL`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub enum Level {
    /// Finer than debugging detail.
    Trace = 1,
    /// Debugging detail.
    Debug = 2,
    /// Normal operation: the level when `AWS_LAMBDA_LOG_LEVEL` is unset or invalid.
    Info = 3,
    /// Something unexpected the function goes on after.
    Warn = 4,
    /// A failure.
    Error = 5,
    /// A failure that ends the process.
    Fatal = 6,
}

impl Level {
    /// Every level, lowest first.
    pub const ALL: [Level; 6] = [Level::Trace, Level::Debug, Level::Info, Level::Warn, Level::Error, Level::Fatal];

    /// The level's name as `AWS_LAMBDA_LOG_LEVEL` and the JSON records write it: `"INFO"`.
    pub const fn name(self) -> &'static str {
        match self {
            Level::Trace => "TRACE",
            Level::Debug => "DEBUG",
            Level::Info => "INFO",
            Level::Warn => "WARN",
            Level::Error => "ERROR",
            Level::Fatal => "FATAL",
        }
    }

    /// The level of number `n` (`Level::Trace as u8` … `Level::Fatal as u8`, 1 to 6), the
    /// C API's `LAMBDA_LOG_*`.
    pub const fn from_number(n: i32) -> Option<Level> {
        match n {
            1 => Some(Level::Trace),
            2 => Some(Level::Debug),
            3 => Some(Level::Info),
            4 => Some(Level::Warn),
            5 => Some(Level::Error),
            6 => Some(Level::Fatal),
            _ => None,
        }
    }

    /// The level `AWS_LAMBDA_LOG_LEVEL` names, in any case.
    fn parse(value: &[u8]) -> Option<Level> {
        Level::ALL.into_iter().find(|level| ascii::eq_ignore_case(value, level.lower_name()))
    }

    /// The name in lower case, for [`ascii::eq_ignore_case`].
    fn lower_name(self) -> &'static [u8] {
        match self {
            Level::Trace => b"trace",
            Level::Debug => b"debug",
            Level::Info => b"info",
            Level::Warn => b"warn",
            Level::Error => b"error",
            Level::Fatal => b"fatal",
        }
    }
}

/// What the environment asks for: the lowest level written, and whether as JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Config {
    threshold: Level,
    json: bool,
}

/// [`Config`] as one byte: the threshold's number, plus [`JSON`] for the JSON format;
/// [`UNREAD`] until the environment is read. One atomic, so that no reader sees the level of
/// one reading and the format of another. Relaxed: every reading of the environment stores
/// the same value (the variables are never changed), so which one a reader sees is
/// irrelevant.
static CONFIG: AtomicU8 = AtomicU8::new(UNREAD);
const UNREAD: u8 = 0;
const JSON: u8 = 0x80;

impl Config {
    /// From the environment: `AWS_LAMBDA_LOG_FORMAT` and `AWS_LAMBDA_LOG_LEVEL`.
    fn from_env() -> Config {
        let value = |name| sys::getenv(name).map_or(&b""[..], |(_, value)| value);
        Config::parse(value(c"AWS_LAMBDA_LOG_FORMAT"), value(c"AWS_LAMBDA_LOG_LEVEL"))
    }

    /// From the variables' values (empty when unset).
    fn parse(format: &[u8], level: &[u8]) -> Config {
        Config { threshold: Level::parse(level).unwrap_or(Level::Info), json: ascii::eq_ignore_case(format, b"json") }
    }

    fn to_bits(self) -> u8 {
        self.threshold as u8 | if self.json { JSON } else { 0 }
    }

    /// The config of bits other than [`UNREAD`] that [`Config::to_bits`] made.
    fn from_bits(bits: u8) -> Config {
        Config { threshold: Level::from_number(i32::from(bits & !JSON)).unwrap_or(Level::Info), json: bits & JSON != 0 }
    }
}

/// The config, read from the environment by the first call.
fn config() -> Config {
    match CONFIG.load(Ordering::Relaxed) {
        UNREAD => {
            let config = Config::from_env();
            CONFIG.store(config.to_bits(), Ordering::Relaxed);
            config
        }
        bits => Config::from_bits(bits),
    }
}

/// Whether a record of `level` is written (it is at least `AWS_LAMBDA_LOG_LEVEL`). Cheap
/// after the first call: one load and one comparison.
pub fn enabled(level: Level) -> bool {
    level >= config().threshold
}

/// Writes a handler's record of `level`, if [`enabled`]: `message` (any bytes) as the
/// format asks, with the current invocation's request id. Prefer [`log!`](crate::log!),
/// which formats without allocating.
pub fn write(level: Level, message: &[u8]) {
    let config = config();
    if level < config.threshold {
        return;
    }
    let mut buf = [0u8; MAX_RECORD];
    let (now, request_id) = (sys::now_ms(), request_id());
    let len = if config.json {
        json_record(&mut buf, now, level, request_id, b"", &[message])
    } else {
        text_record(&mut buf, now, level, request_id, message)
    };
    sys::write_stderr(buf.get(..len).unwrap_or_default());
}

/// Formats `args` into a stack buffer of [`MAX_RECORD`] bytes and [`write`](fn@write)s it: what the
/// [`log!`](crate::log!) macro calls. A message that does not fit is cut and marked.
pub fn write_fmt(level: Level, args: fmt::Arguments<'_>) {
    if !enabled(level) {
        return;
    }
    // As large as a whole record: a message that filled it cannot fit in a record with
    // its fields, so `write` cuts and marks it even when formatting stopped early.
    let mut buf = [0u8; MAX_RECORD];
    let mut message = Message { buf: &mut buf, len: 0 };
    // An error only means the message was cut.
    let _ = fmt::Write::write_fmt(&mut message, args);
    let len = message.len;
    write(level, buf.get(..len).unwrap_or_default());
}

/// Writes one of the runtime's own lines, of `level` and `error_type` (empty for none), if
/// [`enabled`]: `lambda-libc: <parts…>` in text, as without the feature; a JSON record
/// with the parts as its message otherwise.
pub(crate) fn runtime_line(level: Level, error_type: &[u8], parts: &[&[u8]]) {
    let config = config();
    if level < config.threshold {
        return;
    }
    if !config.json {
        sys::log(parts);
        return;
    }
    let mut buf = [0u8; MAX_RECORD];
    let len = json_record(&mut buf, sys::now_ms(), level, request_id(), error_type, parts);
    sys::write_stderr(buf.get(..len).unwrap_or_default());
}

/// The request id of the invocation whose handler runs (empty when none does), for the
/// records. `policy::set_phase` writes it beside the phase it records for the panic path,
/// a layer above. Its invariant (see [`sys::Marker`]): the id lives in the receive buffer,
/// which the runtime overwrites only after recording an empty one.
static REQUEST_ID: sys::Marker = sys::Marker::new();

/// Records the request id of the invocation whose handler runs; empty: none runs.
pub(crate) fn set_request_id(request_id: &[u8]) {
    REQUEST_ID.record(0, request_id, b"");
}

/// The request id of the invocation whose handler runs, or empty; always empty on a thread
/// other than the main one, which runs the runtime and alone writes the record: another
/// thread could read it while it changes.
fn request_id() -> &'static [u8] {
    if !sys::on_main_thread() {
        return b"";
    }
    REQUEST_ID.read().1
}

/// A bounded [`fmt::Write`]: keeps the whole characters that fit, then fails.
struct Message<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl fmt::Write for Message<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for c in s.chars() {
            let mut utf8 = [0u8; 4];
            let bytes = c.encode_utf8(&mut utf8).as_bytes();
            let Some(dst) = self.buf.get_mut(self.len..self.len + bytes.len()) else {
                return Err(fmt::Error);
            };
            dst.copy_from_slice(bytes);
            self.len += bytes.len();
        }
        Ok(())
    }
}

/// Writes the JSON record
/// `{"timestamp":…,"level":…,"requestId":…,"errorType":…,"message":…}` and a newline into
/// `dst` (of [`MAX_RECORD`] bytes); returns its length. `requestId` and `errorType` are
/// left out when empty. The message is last, so that cutting it is all the bound needs.
fn json_record(
    dst: &mut [u8],
    now_ms: i64,
    level: Level,
    request_id: &[u8],
    error_type: &[u8],
    message: &[&[u8]],
) -> usize {
    const END: &[u8] = b"\"}\n";
    // The request id and the error type take at most a quarter of the record each, so
    // that the message always has room.
    let field_end = dst.len() / 4;
    let message_end = dst.len() - END.len();
    let mut w = Cursor { dst, len: 0 };
    w.put(b"{\"timestamp\":\"");
    put_timestamp(&mut w, now_ms);
    w.put(b"\",\"level\":\"");
    w.put(level.name().as_bytes());
    w.put(b"\"");
    for (name, value) in [(&b"requestId"[..], request_id), (b"errorType", error_type)] {
        if !value.is_empty() {
            w.put(b",\"");
            w.put(name);
            w.put(b"\":\"");
            let end = w.len + field_end;
            put_json_string(&mut w, &[value], end);
            w.put(b"\"");
        }
    }
    w.put(b",\"message\":\"");
    put_json_string(&mut w, message, message_end);
    w.put(END);
    w.len
}

/// Writes a handler's text record `<timestamp>\t<requestId>\t<LEVEL>\t<message>` and a
/// newline into `dst` (of [`MAX_RECORD`] bytes); returns its length. The message is copied
/// as it is, but for its newlines, which become carriage returns (one record, one line).
fn text_record(dst: &mut [u8], now_ms: i64, level: Level, request_id: &[u8], message: &[u8]) -> usize {
    // Room for the newline, and a request id of at most a quarter of the record.
    let message_end = dst.len() - 1;
    let request_id = request_id.get(..dst.len() / 4).unwrap_or(request_id);
    let mut w = Cursor { dst, len: 0 };
    put_timestamp(&mut w, now_ms);
    w.put(b"\t");
    w.put(request_id);
    w.put(b"\t");
    w.put(level.name().as_bytes());
    w.put(b"\t");
    let room = message_end.saturating_sub(w.len);
    let (kept, cut) = if message.len() <= room {
        (message, false)
    } else {
        (cut_at_char_boundary(message, room.saturating_sub(TRUNCATED.len())), true)
    };
    for &b in kept {
        w.put(&[if b == b'\n' { b'\r' } else { b }]);
    }
    if cut {
        w.put(TRUNCATED);
    }
    w.put(b"\n");
    w.len
}

/// The first `len` bytes of `s` (or all of it), less the start of a UTF-8 character they
/// would split.
fn cut_at_char_boundary(s: &[u8], len: usize) -> &[u8] {
    let mut len = len.min(s.len());
    // A continuation byte (`10xxxxxx`) at the cut means a character is split there.
    while len > 0 && s.get(len).is_some_and(|b| b & 0xc0 == 0x80) {
        len -= 1;
    }
    s.get(..len).unwrap_or_default()
}

/// Writes `parts`, one after another, escaped as the inside of a JSON string, into `w`
/// up to position `end`; if they do not all fit, the characters that fit before
/// ` [truncated]` and the marker. A byte that is not part of valid UTF-8 is written as
/// `\ufffd` (a part is decoded on its own: a character split between two is invalid).
fn put_json_string(w: &mut Cursor<'_>, parts: &[&[u8]], end: usize) {
    let whole: usize = parts.iter().map(|part| escaped_len(part)).sum();
    let fits = w.len + whole <= end;
    let limit = if fits { end } else { end.saturating_sub(TRUNCATED.len()) };
    for part in parts {
        for chunk in part.utf8_chunks() {
            for c in chunk.valid().chars() {
                let mut utf8 = [0u8; 4];
                let bytes = c.encode_utf8(&mut utf8).as_bytes();
                if w.len + escaped_char_len(bytes) > limit {
                    w.put(TRUNCATED);
                    return;
                }
                match bytes {
                    [ascii] => w.put_escaped(*ascii),
                    _ => w.put(bytes),
                }
            }
            if !chunk.invalid().is_empty() {
                if w.len + REPLACEMENT.len() > limit {
                    w.put(TRUNCATED);
                    return;
                }
                w.put(REPLACEMENT);
            }
        }
    }
}

/// What an invalid UTF-8 sequence becomes in a JSON string: U+FFFD.
const REPLACEMENT: &[u8] = b"\\ufffd";

/// The length of `part` as [`put_json_string`] escapes it.
fn escaped_len(part: &[u8]) -> usize {
    let mut len = 0;
    for chunk in part.utf8_chunks() {
        for c in chunk.valid().chars() {
            let mut utf8 = [0u8; 4];
            len += escaped_char_len(c.encode_utf8(&mut utf8).as_bytes());
        }
        if !chunk.invalid().is_empty() {
            len += REPLACEMENT.len();
        }
    }
    len
}

/// The length of one character (its UTF-8 bytes) as [`put_json_string`] writes it: an ASCII
/// one escaped by [`Cursor::put_escaped`], any other as it is.
fn escaped_char_len(utf8: &[u8]) -> usize {
    match utf8 {
        [ascii] => json::escaped_len(*ascii),
        bytes => bytes.len(),
    }
}

/// Writes `ms` (milliseconds since the Unix epoch) as RFC 3339 in UTC with milliseconds:
/// `2026-12-07T17:01:02.345Z`. The year is written with four digits: the realtime clock of
/// a Lambda reads between 1970 and 9999.
fn put_timestamp(w: &mut Cursor<'_>, ms: i64) {
    const MS_PER_DAY: i64 = 86_400_000;
    let (year, month, day) = civil_from_days(ms.div_euclid(MS_PER_DAY));
    let ms_of_day = ms.rem_euclid(MS_PER_DAY);
    let (hour, minute) = (ms_of_day / 3_600_000, ms_of_day / 60_000 % 60);
    let (second, milli) = (ms_of_day / 1000 % 60, ms_of_day % 1000);
    put_digits(w, year, 4);
    w.put(b"-");
    put_digits(w, month.into(), 2);
    w.put(b"-");
    put_digits(w, day.into(), 2);
    w.put(b"T");
    put_digits(w, hour, 2);
    w.put(b":");
    put_digits(w, minute, 2);
    w.put(b":");
    put_digits(w, second, 2);
    w.put(b".");
    put_digits(w, milli, 3);
    w.put(b"Z");
}

/// Writes the last `width` decimal digits of `n` (not negative), with leading zeros.
fn put_digits(w: &mut Cursor<'_>, n: i64, width: u32) {
    for place in (0..width).rev() {
        let digit = n / 10_i64.pow(place) % 10;
        w.put(&[b'0' + digit as u8]);
    }
}

/// The proleptic Gregorian date `(year, month, day)` of `days` since 1970-01-01: Howard
/// Hinnant's `civil_from_days` (<https://howardhinnant.github.io/date_algorithms.html>).
/// It counts in 400-year eras of 146,097 days, each starting on a March 1st, so that the
/// leap day is the last day of its year.
fn civil_from_days(days: i64) -> (i64, u8, u8) {
    // Days since 0000-03-01.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097); // 0 to 146,096
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365; // 0 to 399
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100); // 0 to 365, from March 1st
    let month_from_march = (5 * day_of_year + 2) / 153; // 0 (March) to 11 (February)
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1; // 1 to 31
    let month = if month_from_march < 10 { month_from_march + 3 } else { month_from_march - 9 }; // 1 to 12
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month as u8, day as u8)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::String;
    use std::vec;

    fn json(cap: usize, request_id: &str, error_type: &str, message: &[&[u8]]) -> String {
        let mut buf = vec![0u8; cap];
        let n = json_record(
            &mut buf,
            1_796_662_862_345,
            Level::Error,
            request_id.as_bytes(),
            error_type.as_bytes(),
            message,
        );
        String::from_utf8(buf[..n].to_vec()).unwrap()
    }

    fn text(cap: usize, request_id: &str, message: &[u8]) -> String {
        let mut buf = vec![0u8; cap];
        let n = text_record(&mut buf, 1_796_662_862_345, Level::Info, request_id.as_bytes(), message);
        String::from_utf8_lossy(&buf[..n]).into_owned()
    }

    #[test]
    fn golden_json_records() {
        assert_eq!(
            json(MAX_RECORD, "id-1", "Runtime.Panic", &[b"panic: ", b"boom"]),
            "{\"timestamp\":\"2026-12-07T17:01:02.345Z\",\"level\":\"ERROR\",\"requestId\":\"id-1\",\
             \"errorType\":\"Runtime.Panic\",\"message\":\"panic: boom\"}\n"
        );
        assert_eq!(
            json(MAX_RECORD, "", "", &[b"x"]),
            "{\"timestamp\":\"2026-12-07T17:01:02.345Z\",\"level\":\"ERROR\",\"message\":\"x\"}\n"
        );
    }

    #[test]
    fn json_escapes_any_bytes() {
        let record = json(MAX_RECORD, "a\"b", "", &[b"say \"hi\"\\\n\r\t\x01\x7f \xc3\xa9 \xff\xfe end", b"\xc3"]);
        assert!(
            record
                .ends_with("\"message\":\"say \\\"hi\\\"\\\\\\n\\r\\t\\u0001\\u007f é \\ufffd\\ufffd end\\ufffd\"}\n"),
            "{record}"
        );
        assert!(record.contains(r#""requestId":"a\"b""#), "{record}");
        assert_eq!(record.matches('\n').count(), 1, "one line: {record}");
    }

    #[test]
    fn long_messages_are_cut_at_a_character_boundary_and_marked() {
        for cap in [200, 201, 202, MAX_RECORD] {
            let message = "é".repeat(cap);
            let record = json(cap, "id", "", &[message.as_bytes()]);
            assert!(record.len() <= cap, "{cap}: {record}");
            assert!(record.ends_with("é [truncated]\"}\n"), "{cap}: {record}");
            let record = text(cap, "id", message.as_bytes());
            assert!(record.len() <= cap, "{cap}: {record}");
            assert!(record.ends_with("é [truncated]\n"), "{cap}: {record}");
        }
    }

    #[test]
    fn a_message_that_just_fits_is_not_cut() {
        let head = json(MAX_RECORD, "id", "", &[b""]).len();
        let message = "x".repeat(MAX_RECORD - head);
        let record = json(MAX_RECORD, "id", "", &[message.as_bytes()]);
        assert_eq!(record.len(), MAX_RECORD);
        assert!(record.ends_with("xx\"}\n"), "{record}");
        let message = "x".repeat(MAX_RECORD - head + 1);
        assert!(json(MAX_RECORD, "id", "", &[message.as_bytes()]).ends_with(" [truncated]\"}\n"));
    }

    #[test]
    fn escapes_are_never_split() {
        // Every cut falls between two escapes.
        for cap in 100..120 {
            let record = json(cap, "", "", &[b"\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01"]);
            let message = record.split("\"message\":\"").nth(1).unwrap();
            let escapes = message.trim_end_matches(" [truncated]\"}\n");
            assert_eq!(escapes.len() % 6, 0, "{cap}: {record}");
        }
    }

    #[test]
    fn huge_fields_leave_room_for_the_message() {
        let id = "i".repeat(MAX_RECORD);
        let record = json(MAX_RECORD, &id, &id, &[b"message"]);
        assert!(record.len() <= MAX_RECORD);
        assert!(record.ends_with("\"message\":\"message\"}\n"), "{record}");
        let record = text(MAX_RECORD, &id, b"message");
        assert!(record.ends_with("\tINFO\tmessage\n"), "{record}");
    }

    #[test]
    fn golden_text_record() {
        assert_eq!(text(MAX_RECORD, "id-1", b"two\nlines"), "2026-12-07T17:01:02.345Z\tid-1\tINFO\ttwo\rlines\n");
        assert_eq!(text(MAX_RECORD, "", b"x"), "2026-12-07T17:01:02.345Z\t\tINFO\tx\n");
    }

    #[test]
    fn civil_dates() {
        for (days, date) in [
            (0, (1970, 1, 1)),
            (-1, (1969, 12, 31)),
            (59, (1970, 3, 1)),
            (11_016, (2000, 2, 29)),
            (11_017, (2000, 3, 1)),
            (19_782, (2024, 2, 29)),
            (20_794, (2026, 12, 7)),
            (47_541, (2100, 3, 1)), // 2100 is not a leap year
            (2_932_896, (9999, 12, 31)),
            (-719_468, (0, 3, 1)),
        ] {
            assert_eq!(civil_from_days(days), date, "{days}");
        }
        // Every day of four centuries follows the one before.
        let mut previous = civil_from_days(-1);
        for days in 0..146_097 {
            let (y, m, d) = civil_from_days(days);
            let next_day = (y, m, d) == (previous.0, previous.1, previous.2 + 1);
            let next_month = d == 1 && ((y, m) == (previous.0, previous.1 + 1) || (y, m) == (previous.0 + 1, 1));
            assert!(next_day || next_month, "{days}: {previous:?} then {:?}", (y, m, d));
            previous = (y, m, d);
        }
    }

    #[test]
    fn timestamps() {
        let stamp = |ms| {
            let mut buf = [0u8; 32];
            let mut w = Cursor { dst: &mut buf, len: 0 };
            put_timestamp(&mut w, ms);
            let n = w.len;
            String::from_utf8(buf[..n].to_vec()).unwrap()
        };
        assert_eq!(stamp(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(stamp(951_782_399_999), "2000-02-28T23:59:59.999Z");
        assert_eq!(stamp(1_796_662_862_345), "2026-12-07T17:01:02.345Z");
    }

    #[test]
    fn levels_parse_in_any_case() {
        for level in Level::ALL {
            assert_eq!(Level::parse(level.name().as_bytes()), Some(level));
            assert_eq!(Level::parse(level.lower_name()), Some(level));
            assert_eq!(Level::from_number(level as i32), Some(level));
        }
        assert_eq!(Level::parse(b"Warn"), Some(Level::Warn));
        for bad in [&b""[..], b"WARNING", b"inf", b"3", b" INFO"] {
            assert_eq!(Level::parse(bad), None, "{bad:?}");
        }
        assert_eq!(Level::from_number(0), None);
        assert_eq!(Level::from_number(7), None);
    }

    #[test]
    fn configs() {
        assert_eq!(Config::parse(b"", b""), Config { threshold: Level::Info, json: false });
        assert_eq!(Config::parse(b"JSON", b"debug"), Config { threshold: Level::Debug, json: true });
        assert_eq!(Config::parse(b"Text", b"FATAL"), Config { threshold: Level::Fatal, json: false });
        assert_eq!(Config::parse(b"yaml", b"loud"), Config { threshold: Level::Info, json: false });
        for level in Level::ALL {
            for json in [false, true] {
                let config = Config { threshold: level, json };
                assert_ne!(config.to_bits(), UNREAD);
                assert_eq!(Config::from_bits(config.to_bits()), config);
            }
        }
    }

    #[test]
    fn formatted_messages_keep_whole_characters() {
        let mut buf = [0u8; 5];
        let mut m = Message { buf: &mut buf, len: 0 };
        assert!(fmt::Write::write_fmt(&mut m, format_args!("{}é{}", "abc", 1)).is_err());
        assert_eq!(&buf[..], b"abc\xc3\xa9");
        let mut buf = [0u8; 4];
        let mut m = Message { buf: &mut buf, len: 0 };
        assert!(fmt::Write::write_fmt(&mut m, format_args!("abcé")).is_err());
        assert_eq!(m.len, 3);
    }
}
