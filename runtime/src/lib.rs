//! # lambda-libc
//!
//! The smallest AWS Lambda custom runtime: a client of the
//! [Lambda Runtime API](https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html) in
//! `no_std` Rust with no allocator, for `bootstrap` executables on `provided.al2023`.
//!
//! - One keep-alive TCP connection (`TCP_NODELAY`) to `AWS_LAMBDA_RUNTIME_API`, each
//!   request written with one `sendmsg`; reconnects when the server closes it, and retries
//!   a request once on a fresh connection when a reused one failed before any response byte.
//! - The event and every context header are borrowed slices into one receive buffer; events
//!   up to the platform maximum of 6,291,556 bytes, `Content-Length` or chunked, decoded in
//!   place. The buffers are one `mmap(MAP_NORESERVE)`: untouched pages cost nothing.
//! - Never allocates, never panics on bad input: every malformed response ends the process
//!   with a one-line message on stderr and status 1, before a body declared larger than
//!   32 MiB is read.
//!
//! ## Example: an echo function
//!
//! The whole of `example-rust/src/main.rs`, built and tested by the project (a doctest
//! cannot link a `no_main` executable):
//!
//! ```ignore
//! #![no_std]
//! #![no_main]
//!
//! use lambda_libc::{Invocation, Outcome, Writer};
//!
//! fn echo<'a>(invocation: &Invocation<'a>, _response: Writer<'a>) -> Outcome<'a> {
//!     Ok(invocation.event)
//! }
//!
//! lambda_libc::main!(echo);
//! ```
//!
//! A handler can also build its response in the bounded [`Writer`], and fail with an
//! [`Error`] that is posted to `/error`:
//!
//! ```
//! use lambda_libc::{Error, Invocation, Outcome, Writer};
//!
//! fn greet<'a>(invocation: &Invocation<'a>, mut out: Writer<'a>) -> Outcome<'a> {
//!     if invocation.event.is_empty() {
//!         return Err(Error::new("Function.EmptyEvent", "send a name"));
//!     }
//!     out.write(b"hello, ")?;
//!     out.write(invocation.event)?;
//!     Ok(out.finish())
//! }
//! # let mut buf = [0u8; 64];
//! # let inv = Invocation { event: b"Ada", context: Default::default() };
//! # assert_eq!(greet(&inv, Writer::new(&mut buf)), Ok(&b"hello, Ada"[..]));
//! ```
//!
//! For initialisation work that can fail, or a loop of your own, use [`Runtime`]:
//! [`Runtime::from_env`], then [`Runtime::init_error`] or [`Runtime::run`], or
//! [`Runtime::next`] with [`Responder::respond`] / [`Responder::fail`].
//!
//! ## Response streaming
//!
//! For a function whose invoke mode is `RESPONSE_STREAM`, [`Responder::stream`] (or
//! [`Responder::stream_http`] for an HTTP integration response) answers with a [`Stream`]:
//! each [`write`](Stream::write) is sent at once as one chunk, from the caller's buffer;
//! [`finish`](Stream::finish) ends it, [`fail`](Stream::fail) ends it with an error sent
//! as HTTP trailers. The whole of `example-rust/src/stream.rs`' loop:
//!
//! ```no_run
//! let mut runtime = lambda_libc::Runtime::from_env();
//! loop {
//!     let next = runtime.next();
//!     let mut stream = next.responder.stream(next.invocation.context.content_type());
//!     for chunk in next.invocation.event.chunks(4096) {
//!         if stream.write(chunk).is_err() {
//!             break; // logged; the stream is broken
//!         }
//!     }
//!     let _ = stream.finish();
//! }
//! ```
//!
//! ## Logging
//!
//! With the feature `log`, the runtime follows Lambda's logging controls
//! (`AWS_LAMBDA_LOG_FORMAT`, `AWS_LAMBDA_LOG_LEVEL`): its own lines become JSON records when
//! asked, and a handler logs with `lambda_libc::log!` (see the module `lambda_libc::log`).
//!
//! ## Features
//! `panic-handler` and `start` are for `no_std` executables and take effect through
//! [`main!`] or [`bootstrap!`], so the library itself never defines a lang item or a symbol
//! that could clash.
//! - `panic-handler`: a `#[panic_handler]` that calls `report_panic` (defined with this
//!   feature): the panic becomes a `Runtime.Panic` error of the current invocation.
//! - `start`: the process entry point `__lambda_libc_start`, for executables linked with
//!   `-Wl,-e,__lambda_libc_start` (and `-nostartfiles` where the linker driver honours it):
//!   glibc's startup code is left out, it calls `main` and exits with its result.
//! - `log`: Lambda's logging controls, above (and `lambda_log` in the C API).
//! - `concurrency`: with `AWS_LAMBDA_MAX_CONCURRENCY` above 1 (Lambda Managed Instances),
//!   [`Runtime::run`] serves that many invocations at once in worker processes
//!   ([`Runtime::start_workers`]).
//! - `shutdown`: [`Runtime::on_shutdown`], a callback at `SIGTERM`.
//!
//! Without `log`, `concurrency` and `shutdown` a bootstrap is byte for byte what it was
//! before they existed (docs/size.md).

#![cfg_attr(not(test), no_std)]
#![deny(missing_docs)]
// `unsafe` is fenced into `sys` and `capi`, which allow it.
#![deny(unsafe_code)]

// The modules, from the bottom layer up: each imports only modules earlier in this list
// (docs/design.md, "Layers"; tests/tests/layers.rs checks it).
mod ascii;
mod sys;
#[cfg(feature = "concurrency")]
mod slots;
mod endpoint;
#[doc(hidden)]
pub mod http;
pub mod context;
mod json;
#[cfg(feature = "log")]
pub mod log;
mod handler;
mod client;
mod policy;
#[cfg(feature = "shutdown")]
mod extension;
#[cfg(feature = "shutdown")]
mod shutdown;
#[cfg(feature = "concurrency")]
mod workers;
mod runtime;
mod stream;
#[cfg(feature = "c-api")]
pub mod capi;

pub use context::Context;
pub use handler::{Error, Handler, Invocation, Outcome, Overflow, Writer};
pub use runtime::{MAX_EVENT, MAX_RESPONSE, Next, Responder, Runtime};
pub use stream::{HTTP_INTEGRATION_RESPONSE, HttpPrelude, Stream, StreamError};

/// Runs `handler` for every invocation: [`Runtime::from_env`] then [`Runtime::run`].
pub fn run(handler: impl Handler) -> ! {
    Runtime::from_env().run(handler)
}

/// Logs a record of a [`log::Level`] (with the feature `log`), formatted as by
/// [`format_args!`] into a stack buffer (nothing allocates; a message longer than
/// [`log::MAX_RECORD`] is cut and marked), as `AWS_LAMBDA_LOG_FORMAT` asks: a JSON object with
/// the timestamp, the level and the current invocation's request id, or a line of text. Nothing
/// is formatted when the level is below `AWS_LAMBDA_LOG_LEVEL` ([`log::enabled`]).
///
/// ```
/// use lambda_libc::log::Level;
/// let name = "Ada";
/// lambda_libc::log!(Level::Info, "hello, {name}");
/// lambda_libc::log!(Level::Debug, "{} bytes", 42);
/// ```
#[cfg(feature = "log")]
#[macro_export]
macro_rules! log {
    ($level:expr, $($arg:tt)+) => {{
        let level: $crate::log::Level = $level;
        if $crate::log::enabled(level) {
            $crate::log::write_fmt(level, ::core::format_args!($($arg)+));
        }
    }};
}

/// Defines the executable's `main` to [`run`] the given handler, plus what [`bootstrap!`]
/// adds.
///
/// ```ignore
/// lambda_libc::main!(echo);
/// ```
#[macro_export]
macro_rules! main {
    ($handler:expr) => {
        $crate::bootstrap!();

        /// The bootstrap's entry point: runs the handler for every invocation.
        #[unsafe(no_mangle)]
        pub extern "C" fn main(_argc: i32, _argv: *const *const u8) -> i32 {
            $crate::run($handler)
        }
    };
}

/// For a `no_std`, `no_main` executable with a `main` of its own: defines the entry point
/// `__lambda_libc_start` (with the `start` feature) and the `#[panic_handler]` (with the `panic-handler` feature).
/// [`main!`] includes it.
#[macro_export]
macro_rules! bootstrap {
    () => {
        $crate::__start!();
        $crate::__panic_handler!();
    };
}

#[cfg(feature = "start")]
#[doc(hidden)]
#[macro_export]
macro_rules! __start {
    () => {
        #[cfg(target_arch = "x86_64")]
        ::core::arch::global_asm!(
            ".globl __lambda_libc_start",
            ".type __lambda_libc_start,@function",
            "__lambda_libc_start:",
            "xor ebp, ebp",
            "and rsp, -16",
            "call {entry}",
            "ud2",
            entry = sym $crate::__entry,
        );
        #[cfg(target_arch = "aarch64")]
        ::core::arch::global_asm!(
            ".globl __lambda_libc_start",
            ".type __lambda_libc_start,%function",
            "__lambda_libc_start:",
            "mov x29, xzr",
            "mov x30, xzr",
            "bl {entry}",
            "brk #0",
            entry = sym $crate::__entry,
        );
    };
}

#[cfg(not(feature = "start"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __start {
    () => {};
}

#[cfg(feature = "panic-handler")]
#[doc(hidden)]
#[macro_export]
macro_rules! __panic_handler {
    () => {
        #[panic_handler]
        fn panic(info: &::core::panic::PanicInfo<'_>) -> ! {
            $crate::report_panic(info)
        }
    };
}

#[cfg(not(feature = "panic-handler"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __panic_handler {
    () => {};
}

/// What the entry point calls (with the `start` feature): glibc's dynamic loader has
/// initialised libc (environment, stdio) before it jumps to the entry point, which aligns
/// the stack and calls this; it runs the executable's C `main` and exits with its result.
#[cfg(feature = "start")]
#[doc(hidden)]
pub extern "C" fn __entry() -> ! {
    sys::run_main()
}

/// Reports a panic and exits with status 1: as a `Runtime.Panic` error of the current
/// invocation while a handler runs, as an init error before the first invocation, and only
/// on stderr in between. The message is reported when it has no formatting arguments; the
/// location always. The report goes out on a connection of its own, with stack buffers, so
/// it does not depend on the state the panic interrupted.
#[cfg(feature = "panic-handler")]
pub fn report_panic(info: &core::panic::PanicInfo<'_>) -> ! {
    let message = info.message().as_str().unwrap_or("panic with a formatted message");
    let (file, line) = info.location().map_or(("?", 0), |l| (l.file(), l.line()));
    policy::report_panic(message.as_bytes(), file.as_bytes(), line)
}
