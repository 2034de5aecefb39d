//! The streaming echo bootstrap: streams every event back in chunks of at most 4 KiB, with
//! the event's content type (`application/octet-stream` when it has none). For a function
//! whose invoke mode is `RESPONSE_STREAM`.

#![no_std]
#![no_main]

use lambda_libc::Runtime;

/// The largest chunk written.
const CHUNK: usize = 4096;

lambda_libc::bootstrap!();

/// The entry point: a loop of its own, since a streaming handler answers as it goes.
#[unsafe(no_mangle)]
pub extern "C" fn main(_argc: i32, _argv: *const *const u8) -> i32 {
    let mut runtime = Runtime::from_env();
    loop {
        let next = runtime.next();
        let mut stream = next.responder.stream(next.invocation.context.content_type());
        for chunk in next.invocation.event.chunks(CHUNK) {
            // A failed write was logged and breaks the stream: finish then fails at once.
            if stream.write(chunk).is_err() {
                break;
            }
        }
        // A failure was logged; the next invocation goes on regardless.
        let _ = stream.finish();
    }
}
