//! A tiny raw HTTP/1.1 client over `std::net::TcpStream`, for talking to the mock.
#![allow(dead_code)]

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

/// Bound on every blocking read in the tests.
pub const IO_TIMEOUT: Duration = Duration::from_secs(10);

#[allow(unused_imports)] // each test file uses a different subset
pub use lambda_libc_mock::{NEXT_PATH as NEXT, error_path, response_path};

/// A response as the client read it, plus every byte it consumed for it.
#[derive(Debug, Default)]
pub struct Resp {
    pub version: String,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub chunks: Vec<usize>,
    pub trailers: Vec<(String, String)>,
    /// The raw bytes of the whole response.
    pub raw: Vec<u8>,
    /// Byte offset in `raw` where the body starts.
    pub body_start: usize,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn header_count(&self, name: &str) -> usize {
        self.headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case(name)).count()
    }

    pub fn body_str(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The raw body section (chunk framing included).
    pub fn raw_body(&self) -> &[u8] {
        &self.raw[self.body_start..]
    }
}

pub struct Client {
    pub stream: TcpStream,
    reader: BufReader<TcpStream>,
    host: String,
}

impl Client {
    pub fn connect(addr: impl ToSocketAddrs) -> Self {
        let addr: SocketAddr = addr.to_socket_addrs().unwrap().next().unwrap();
        let stream = TcpStream::connect_timeout(&addr, IO_TIMEOUT).expect("connect to the mock");
        stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        stream.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
        stream.set_nodelay(true).unwrap();
        let reader = BufReader::new(stream.try_clone().unwrap());
        Self { stream, reader, host: addr.to_string() }
    }

    pub fn send(&mut self, raw: &[u8]) -> io::Result<()> {
        self.stream.write_all(raw)
    }

    /// Sends a request with `Host`, the given headers and (if non-empty or POST) a
    /// `Content-Length` body.
    pub fn send_request(&mut self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> io::Result<()> {
        let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {}\r\n", self.host);
        for (n, v) in headers {
            req.push_str(&format!("{n}: {v}\r\n"));
        }
        if method == "POST" || !body.is_empty() {
            req.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        req.push_str("\r\n");
        let mut bytes = req.into_bytes();
        bytes.extend_from_slice(body);
        self.send(&bytes)
    }

    pub fn request(&mut self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> io::Result<Resp> {
        self.send_request(method, path, headers, body)?;
        self.read_response()
    }

    pub fn next(&mut self) -> Resp {
        self.request("GET", NEXT, &[], b"").expect("GET /next")
    }

    pub fn post(&mut self, path: &str, body: &[u8]) -> Resp {
        self.request("POST", path, &[], body).expect("POST")
    }

    /// Reads one line, its CRLF included, onto the end of `raw`. The mock ends every line in
    /// CRLF: a line that does not (a bare LF, or EOF first) is an error.
    fn line(&mut self, raw: &mut Vec<u8>) -> io::Result<()> {
        let start = raw.len();
        let n = self.reader.read_until(b'\n', raw)?;
        if n == 0 || !raw.ends_with(b"\r\n") {
            let line = String::from_utf8_lossy(&raw[start..]);
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, format!("incomplete line {line:?}")));
        }
        Ok(())
    }

    /// Reads lines onto the end of `raw` up to the empty one that ends a head or the
    /// trailers, and returns how many there were, that one included.
    fn lines_to_empty(&mut self, raw: &mut Vec<u8>) -> io::Result<usize> {
        let mut lines = 0;
        loop {
            let start = raw.len();
            self.line(raw)?;
            lines += 1;
            if raw.len() - start == 2 {
                return Ok(lines);
            }
        }
    }

    /// Reads one response (skipping `100 Continue`), honouring Content-Length, chunked and
    /// close-delimited bodies. Heads, chunk sizes and trailers are parsed by httparse.
    pub fn read_response(&mut self) -> io::Result<Resp> {
        let mut r = Resp::default();
        loop {
            let start = r.raw.len();
            let lines = self.lines_to_empty(&mut r.raw)?;
            (r.version, r.status, r.headers) = parse_head(&r.raw[start..], lines)?;
            if r.status != 100 {
                break;
            }
        }
        r.body_start = r.raw.len();
        let chunked = r.header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked"));
        if chunked {
            loop {
                let start = r.raw.len();
                self.line(&mut r.raw)?;
                let size_line = &r.raw[start..];
                let n = match httparse::parse_chunk_size(size_line) {
                    Ok(httparse::Status::Complete((used, n))) if used == size_line.len() => n,
                    _ => return Err(invalid(format!("bad chunk line {:?}", String::from_utf8_lossy(size_line)))),
                };
                if n == 0 {
                    break;
                }
                let n = usize::try_from(n).map_err(|_| invalid(format!("chunk of {n} bytes")))?;
                let mut buf = vec![0; n + 2];
                self.reader.read_exact(&mut buf)?;
                r.raw.extend_from_slice(&buf);
                assert_eq!(&buf[n..], b"\r\n", "chunk data must end with CRLF");
                r.body.extend_from_slice(&buf[..n]);
                r.chunks.push(n);
            }
            let start = r.raw.len();
            let lines = self.lines_to_empty(&mut r.raw)?;
            r.trailers = parse_fields(&r.raw[start..], lines)?;
        } else if let Some(len) = r.header("content-length") {
            let n: usize = len.parse().map_err(|_| invalid(format!("bad Content-Length {len:?}")))?;
            let mut buf = vec![0; n];
            self.reader.read_exact(&mut buf)?;
            r.raw.extend_from_slice(&buf);
            r.body = buf;
        } else if r.status >= 200 && r.status != 204 && r.status != 304 {
            self.reader.read_to_end(&mut r.body)?;
            r.raw.extend_from_slice(&r.body);
        }
        Ok(r)
    }

    /// Reads until EOF (or an error, returned with what was read).
    pub fn read_to_end(&mut self) -> (Vec<u8>, Option<io::Error>) {
        let mut out = Vec::new();
        let mut buf = [0u8; 65536];
        loop {
            match self.reader.read(&mut buf) {
                Ok(0) => return (out, None),
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(e) => return (out, Some(e)),
            }
        }
    }

    /// Reads until EOF, returning the size of every successful read.
    pub fn read_sizes_to_end(&mut self) -> (Vec<u8>, Vec<usize>) {
        let mut out = Vec::new();
        let mut sizes = Vec::new();
        let mut buf = [0u8; 65536];
        loop {
            match self.reader.read(&mut buf) {
                Ok(0) | Err(_) => return (out, sizes),
                Ok(n) => {
                    sizes.push(n);
                    out.extend_from_slice(&buf[..n]);
                }
            }
        }
    }

    /// True when the peer has closed: a read returns EOF (or a reset).
    pub fn is_closed(&mut self) -> bool {
        let mut b = [0u8; 1];
        matches!(self.reader.read(&mut b), Ok(0) | Err(_))
    }
}

/// Header or trailer fields, in order: (name, value).
type Fields = Vec<(String, String)>;

fn invalid(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

/// A header or trailer field as the tests see it: the name as sent, the value (trimmed of
/// spaces and tabs by httparse) as text.
fn field(f: &httparse::Header<'_>) -> (String, String) {
    (f.name.to_owned(), String::from_utf8_lossy(f.value).into_owned())
}

/// The version, status and fields of `head`, a whole response head of `lines` lines (its
/// empty line included, so at most `lines - 2` fields), by httparse.
fn parse_head(head: &[u8], lines: usize) -> io::Result<(String, u16, Fields)> {
    let mut fields = vec![httparse::EMPTY_HEADER; lines.saturating_sub(2)];
    let mut resp = httparse::Response::new(&mut fields);
    match resp.parse(head) {
        Ok(httparse::Status::Complete(n)) if n == head.len() => {}
        other => return Err(invalid(format!("bad response head {:?}: {other:?}", String::from_utf8_lossy(head)))),
    }
    let (Some(minor), Some(status)) = (resp.version, resp.code) else {
        unreachable!("a complete head has a status line")
    };
    Ok((format!("HTTP/1.{minor}"), status, resp.headers.iter().map(field).collect()))
}

/// The trailer fields of `trailers`, `lines` lines ending in the empty one, by httparse.
fn parse_fields(trailers: &[u8], lines: usize) -> io::Result<Fields> {
    let mut fields = vec![httparse::EMPTY_HEADER; lines - 1];
    match httparse::parse_headers(trailers, &mut fields) {
        Ok(httparse::Status::Complete((n, parsed))) if n == trailers.len() => Ok(parsed.iter().map(field).collect()),
        other => Err(invalid(format!("bad trailers {:?}: {other:?}", String::from_utf8_lossy(trailers)))),
    }
}
