//! The Extensions API, as far as graceful shutdown needs it: an internal extension that
//! subscribes to no event. Lambda sends `SIGTERM` to the runtime at shutdown only when an
//! extension is registered (docs/design.md, "Shutdown").
//!
//! [`register`] posts `/2020-01-01/extension/register` and parks the extension's
//! `GET /2020-01-01/extension/event/next` on a connection of its own, which stays open and
//! unread for the life of the process: init completes once every registered extension has
//! asked for its next event, and with no event subscribed the answer only comes at
//! shutdown, when the runtime has `SIGTERM` to act on instead.

use crate::ascii;
use crate::client::{self, Failure};
use crate::endpoint::Endpoint;
use crate::http::head::Names;
use crate::http::{self, Span};
use crate::sys::Socket;

/// The register request, up to the host.
const REGISTER: &[u8] = b"POST /2020-01-01/extension/register HTTP/1.1\r\nHost: ";
/// Its headers after the host, up to the body's length.
const REGISTER_HEADERS: &[u8] =
    b"\r\nLambda-Extension-Name: lambda-libc-shutdown\r\nContent-Type: application/json\r\nContent-Length: ";
/// Its body: no event.
const NO_EVENTS: &[u8] = br#"{"events":[]}"#;
/// The event request, up to the host.
const EVENT_NEXT: &[u8] = b"GET /2020-01-01/extension/event/next HTTP/1.1\r\nHost: ";
/// The name of the header before the identifier.
const IDENTIFIER_HEADER: &[u8] = b"\r\nLambda-Extension-Identifier: ";
/// The one header of the register response that is read.
const NAMES: Names<'static> = Names { prefix: b"lambda-extension-", suffixes: &[b"identifier"], others: &[] };
/// The longest identifier kept (Lambda's are UUIDs).
const MAX_IDENTIFIER: usize = 128;

/// What `register` logs a failure as.
pub const REQUEST: [&[u8]; 3] = [b"POST /2020-01-01/extension/register", b"", b""];

/// Registers the extension with the Extensions API at `endpoint` (the Runtime API's) and
/// parks its `/event/next`. A failure is one of the client's, with the status of a refusal;
/// a 200 without a valid `Lambda-Extension-Identifier` is [`Failure::Http`].
pub fn register(endpoint: &Endpoint) -> Result<(), Failure<'static>> {
    let mut digits = [0u8; ascii::MAX_DIGITS];
    let length = ascii::format_decimal(NO_EVENTS.len() as u64, &mut digits);
    let socket = Socket::connect(&endpoint.addr).map_err(Failure::Connect)?;
    let request: [&[u8]; 6] = [REGISTER, endpoint.host, REGISTER_HEADERS, length, b"\r\n\r\n", NO_EVENTS];
    socket.send(&request).map_err(Failure::Send)?;
    let mut buf = [0u8; 4096];
    let reply = client::read_response(&socket, &mut buf, 1024, &mut [])?;
    if reply.status != 200 {
        return Err(Failure::Status(reply.status, client::Snippet::of(b"")));
    }
    let mut id = [Span::default()];
    let head = reply.head(&buf);
    http::parse_head(head, &NAMES, &mut id).map_err(Failure::Http)?;
    let id = id[0].of(head);
    if id.is_empty() || id.len() > MAX_IDENTIFIER || !id.iter().all(u8::is_ascii_graphic) {
        return Err(Failure::Http(http::Error::HeaderLine));
    }
    let parked = Socket::connect(&endpoint.addr).map_err(Failure::Connect)?;
    parked.send(&[EVENT_NEXT, endpoint.host, IDENTIFIER_HEADER, id, b"\r\n\r\n"]).map_err(Failure::Send)?;
    // The connection stays open, unread, for the life of the process (see the module's doc).
    core::mem::forget(parked);
    Ok(())
}
