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

    fn line(&mut self, raw: &mut Vec<u8>) -> io::Result<String> {
        let mut line = Vec::new();
        let n = self.reader.read_until(b'\n', &mut line)?;
        raw.extend_from_slice(&line);
        if n == 0 || !line.ends_with(b"\r\n") {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("incomplete line {:?}", String::from_utf8_lossy(&line)),
            ));
        }
        line.truncate(line.len() - 2);
        Ok(String::from_utf8_lossy(&line).into_owned())
    }

    fn fields(&mut self, raw: &mut Vec<u8>) -> io::Result<Vec<(String, String)>> {
        let mut out = Vec::new();
        loop {
            let l = self.line(raw)?;
            if l.is_empty() {
                return Ok(out);
            }
            let (n, v) = l.split_once(':').expect("header with a colon");
            out.push((n.to_owned(), v.trim().to_owned()));
        }
    }

    /// Reads one response (skipping `100 Continue`), honouring Content-Length, chunked and
    /// close-delimited bodies.
    pub fn read_response(&mut self) -> io::Result<Resp> {
        let mut r = Resp::default();
        loop {
            let status_line = self.line(&mut r.raw)?;
            let mut parts = status_line.splitn(3, ' ');
            r.version = parts.next().unwrap_or("").to_owned();
            r.status = parts.next().and_then(|s| s.parse().ok()).ok_or_else(|| {
                io::Error::new(io::ErrorKind::InvalidData, format!("bad status line {status_line:?}"))
            })?;
            r.headers = self.fields(&mut r.raw)?;
            if r.status != 100 {
                break;
            }
        }
        r.body_start = r.raw.len();
        let chunked = r.header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked"));
        if chunked {
            loop {
                let l = self.line(&mut r.raw)?;
                let hex = l.split(';').next().unwrap().trim();
                let n = usize::from_str_radix(hex, 16)
                    .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, format!("bad chunk line {l:?}")))?;
                if n == 0 {
                    break;
                }
                let mut buf = vec![0; n + 2];
                self.reader.read_exact(&mut buf)?;
                r.raw.extend_from_slice(&buf);
                assert_eq!(&buf[n..], b"\r\n", "chunk data must end with CRLF");
                r.body.extend_from_slice(&buf[..n]);
                r.chunks.push(n);
            }
            r.trailers = self.fields(&mut r.raw)?;
        } else if let Some(len) = r.header("content-length") {
            let n: usize = len.parse().unwrap();
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
