//! Every system call and call into the C library, and the process-wide state the panic
//! handler reads.
//!
//! The socket, `mmap` and `writev` calls go to the kernel directly ([`syscall3`],
//! [`syscall6`]); glibc is called for what it does beyond a system call: the environment,
//! name resolution, `memmove` and `exit` (which flushes a C program's stdio).
//!
//! This module (with `capi.rs`, which turns C's pointers into slices) holds all of the
//! crate's `unsafe` code; what it exports is safe to call.

// The crate denies `unsafe_code` (lib.rs); this module is one of its two exceptions.
#![allow(unsafe_code)]

use core::mem::{MaybeUninit, size_of, zeroed};
use core::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};

use crate::client::Endpoint;
use crate::endpoint::Host;

/// The most slices one `send`/`log` call takes.
const MAX_PARTS: usize = 16;

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
compile_error!("lambda-libc makes its system calls itself, for Lambda's architectures: x86_64 and aarch64 only");

/// An OS error number.
pub type Errno = i32;

/// System call `n` with six arguments: the kernel's result, or `-errno`. System calls go
/// to the kernel directly, not through glibc's wrappers: each wrapper is an import (a
/// symbol, a relocation, a GOT slot), and the errno they set is one more.
///
/// # Safety
/// The arguments must be valid for the call: pointers to memory it may read or write.
#[inline(always)]
unsafe fn syscall6(n: libc::c_long, a: usize, b: usize, c: usize, d: usize, e: usize, f: usize) -> isize {
    let ret: isize;
    // SAFETY: the caller's; the kernel preserves every register but the result and, on
    // x86_64, rcx and r11.
    #[cfg(target_arch = "x86_64")]
    unsafe {
        core::arch::asm!("syscall", inlateout("rax") n as isize => ret, in("rdi") a, in("rsi") b, in("rdx") c,
            in("r10") d, in("r8") e, in("r9") f, lateout("rcx") _, lateout("r11") _, options(nostack));
    }
    // SAFETY: as above.
    #[cfg(target_arch = "aarch64")]
    unsafe {
        core::arch::asm!("svc 0", in("x8") n, inlateout("x0") a => ret, in("x1") b, in("x2") c, in("x3") d,
            in("x4") e, in("x5") f, options(nostack));
    }
    ret
}

/// [`syscall6`] with three arguments: no registers loaded for the other three.
///
/// # Safety
/// As for [`syscall6`].
#[inline(always)]
unsafe fn syscall3(n: libc::c_long, a: usize, b: usize, c: usize) -> isize {
    let ret: isize;
    // SAFETY: as for syscall6.
    #[cfg(target_arch = "x86_64")]
    unsafe {
        core::arch::asm!("syscall", inlateout("rax") n as isize => ret, in("rdi") a, in("rsi") b, in("rdx") c,
            lateout("rcx") _, lateout("r11") _, options(nostack));
    }
    // SAFETY: as above.
    #[cfg(target_arch = "aarch64")]
    unsafe {
        core::arch::asm!("svc 0", in("x8") n, inlateout("x0") a => ret, in("x1") b, in("x2") c, options(nostack));
    }
    ret
}

/// A system call's result: `Ok` if not negative, else `Err(errno)`.
fn check(ret: isize) -> Result<usize, Errno> {
    if ret < 0 { Err(-ret as Errno) } else { Ok(ret as usize) }
}

fn iovec(p: &[u8]) -> libc::iovec {
    libc::iovec { iov_base: p.as_ptr() as *mut _, iov_len: p.len() }
}

/// Writes `lambda-libc: <parts…>\n` (at most 14 parts) to stderr with one `writev`.
pub fn log(parts: &[&[u8]]) {
    // Only the slots written are passed: no array to fill first.
    let mut iov = [const { MaybeUninit::<libc::iovec>::uninit() }; MAX_PARTS];
    iov[0].write(iovec(b"lambda-libc: "));
    let mut n = 1;
    for (v, p) in iov[1..MAX_PARTS - 1].iter_mut().zip(parts) {
        v.write(iovec(p));
        n += 1;
    }
    if let Some(v) = iov.get_mut(n) {
        v.write(iovec(b"\n"));
    }
    // SAFETY: the first n + 1 iovecs (n at most 15) are initialised, pointing into `parts`'
    // slices, alive for the call. A failed write to stderr has nowhere to be reported, so its
    // result is ignored.
    unsafe { syscall3(libc::SYS_writev, 2, iov.as_ptr() as usize, n + 1) };
}

/// Logs the message and exits with status 1.
pub fn fatal(parts: &[&[u8]]) -> ! {
    log(parts);
    exit(1)
}

/// [`fatal`] with a one-part message.
pub fn die(message: &[u8]) -> ! {
    fatal(&[message])
}

/// Exits the process (running `atexit` handlers and flushing stdio).
#[inline(always)]
pub fn exit(code: i32) -> ! {
    // SAFETY: exit never returns; no Rust state needs dropping under panic=abort.
    unsafe { libc::exit(code) }
}

/// Moves `n` bytes within `buf` from `src` down to `dst` (overlap allowed), like
/// `copy_within` but without its panics: does nothing unless `dst < src` and
/// `src + n <= buf.len()`. Bytes already in place (`dst == src`, every read of a
/// `Content-Length` body) are not touched: no `memmove` over a 6 MB body.
pub fn move_down(buf: &mut [u8], src: usize, dst: usize, n: usize) {
    if dst < src && src.checked_add(n).is_some_and(|end| end <= buf.len()) {
        // SAFETY: `src + n <= buf.len()` (checked above), so `src` is inside `buf` or one past its
        // end.
        let from = unsafe { buf.as_ptr().add(src) };
        // SAFETY: `dst < src <= buf.len()`, so `dst` is inside `buf`.
        let to = unsafe { buf.as_mut_ptr().add(dst) };
        // SAFETY: both `n`-byte ranges lie inside `buf` (`dst + n < src + n <= buf.len()`), and
        // ptr::copy allows them to overlap.
        unsafe { core::ptr::copy(from, to, n) }
    }
}

/// Runs the executable's C `main` and exits with its result.
#[cfg(feature = "start")]
pub fn run_main() -> ! {
    unsafe extern "C" {
        fn main(argc: libc::c_int, argv: *const *const libc::c_char) -> libc::c_int;
    }
    // SAFETY: `main` is the executable's C entry point (from `lambda_libc::main!` or C
    // code); this runtime's mains ignore their arguments.
    exit(unsafe { main(0, core::ptr::null()) })
}

/// An environment variable, if set: its whole `NAME=value` entry and the value.
pub fn getenv(name: &core::ffi::CStr) -> Option<(&'static [u8], &'static [u8])> {
    // getenv returns NULL or a pointer just past the `=` of a NUL-terminated `NAME=value`
    // string in the environment block (glibc finds it by comparing `NAME=`), which lives as
    // long as the process: the runtime never unsets or replaces the variables it reads
    // (setenv of `_X_AMZN_TRACE_ID` leaks the old value and never frees other variables).
    // SAFETY: `name` is a NUL-terminated string, alive for the call.
    let p = unsafe { libc::getenv(name.as_ptr()) }.cast::<u8>();
    if p.is_null() {
        return None;
    }
    // SAFETY: a non-NULL `p` points at the value, a NUL-terminated string.
    let n = unsafe { libc::strlen(p.cast()) };
    let lead = name.count_bytes() + 1;
    // SAFETY: `p` is `lead` bytes (`NAME=`) past the start of its entry, in the same string.
    let entry = unsafe { p.sub(lead) };
    // SAFETY: the entry is `lead + n` initialised bytes (`NAME=value`, before its NUL), in
    // the environment block, alive and never written for the life of the process.
    let entry = unsafe { core::slice::from_raw_parts(entry, lead + n) };
    // SAFETY: the value is the `n` bytes at `p` (before its NUL), alive and never written for
    // the life of the process, as the entry.
    let value = unsafe { core::slice::from_raw_parts(p, n) };
    Some((entry, value))
}

/// Milliseconds since the Unix epoch by `CLOCK_REALTIME`.
pub fn now_ms() -> i64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_REALTIME, &mut ts) };
    ts.tv_sec.saturating_mul(1000).saturating_add(ts.tv_nsec / 1_000_000)
}

/// Maps `len` bytes of zeroed, private memory that is never unmapped. Pages cost nothing
/// until touched (`MAP_NORESERVE`).
fn map(len: usize) -> Option<&'static mut [u8]> {
    let flags = libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE;
    let prot = (libc::PROT_READ | libc::PROT_WRITE) as usize;
    // SAFETY: an anonymous mapping at an address the kernel chooses (`0`, no `MAP_FIXED`)
    // replaces and aliases no existing memory; the call reads no memory of ours.
    let ret = unsafe { syscall6(libc::SYS_mmap, 0, len, prot, flags as usize, usize::MAX, 0) };
    let p = check(ret).ok()?;
    // SAFETY: on success `p` is `len` readable, writable, zeroed bytes that nothing else points
    // at and that stay mapped for the life of the process, so a `'static` exclusive slice over
    // them is sound.
    Some(unsafe { core::slice::from_raw_parts_mut(p as *mut u8, len) })
}

unsafe extern "C" {
    // Not in the `libc` crate: POSIX, in glibc since 2.2.5.
    fn inet_pton(af: libc::c_int, src: *const libc::c_char, dst: *mut libc::c_void) -> libc::c_int;
}

/// A socket address: an IPv4 or IPv6 one, passed to `connect` with the whole storage's
/// length (Linux's `connect` only requires at least the family's own).
#[derive(Clone, Copy)]
pub struct Addr {
    storage: libc::sockaddr_storage,
}

/// What the endpoint is resolved with, at the start of the mapping: all zeros on entry to
/// [`resolve`].
#[repr(C)]
struct Head {
    /// The address, then the host.
    ep: Endpoint,
    /// getaddrinfo's hints: any family, any socket type (the first address is the same as
    /// for `SOCK_STREAM` only), no flags.
    hints: libc::addrinfo,
    /// The list getaddrinfo returns.
    list: *mut libc::addrinfo,
    /// The host, NUL-terminated.
    name: [u8; 256],
}

/// The bytes of the mapping before the buffers.
const HEAD: usize = size_of::<Head>().next_multiple_of(64);

/// Resolves the endpoint host into `head.ep.addr`; `false` if it cannot. IPv4 and bracketed
/// IPv6 literals are converted without DNS; only a plain host that is not an IPv4 literal
/// goes to `getaddrinfo`. The host must not contain NUL bytes (it comes from the environment).
///
/// # Safety
/// `head` points to a zeroed `Head`, writable, alive for the life of the process.
unsafe fn resolve(host: Host<'_>, port: u16, head: *mut Head) -> bool {
    let (text, bracketed) = match host {
        Host::Bracketed(h) => (h, true),
        Host::Plain(h) => (h, false),
    };
    // A literal's family, and where inet_pton writes its address.
    let (family, offset) = match bracketed {
        false => (libc::AF_INET, 4),
        true => (libc::AF_INET6, 8),
    };
    // The caller's `Head` is zeroed, and zeros are valid for each field read or borrowed here
    // (not `ep.host`, which is neither). Both families have the family at offset 0 and the
    // port at offset 2.
    // SAFETY: `head` points at a live, writable `Head` (the caller's contract) that nothing
    // else borrows; zeros are a valid `Addr`.
    let addr = unsafe { &mut (*head).ep.addr };
    // SAFETY: as for `addr`, a field disjoint from it; zeros are valid bytes.
    let name = unsafe { &mut (*head).name };
    if text.len() >= name.len() {
        return false;
    }
    // SAFETY: `text` is shorter than `name` (checked above), so it fits, with room for the
    // NUL the zeroed `name` keeps after it; ptr::copy allows overlap.
    unsafe { core::ptr::copy(text.as_ptr(), name.as_mut_ptr(), text.len()) };
    let cname = name.as_ptr().cast::<libc::c_char>();
    let storage = (&raw mut addr.storage).cast::<u8>();
    // SAFETY: `offset` (4 or 8) is where the address of a sockaddr_in or sockaddr_in6
    // starts, inside sockaddr_storage's 128 bytes.
    let dst = unsafe { storage.add(offset) };
    // SAFETY: `cname` is NUL-terminated (above), and `dst` has room for the family's address
    // (4 or 16 bytes) inside the sockaddr_storage.
    if unsafe { inet_pton(family, cname, dst.cast()) } == 1 {
        addr.storage.ss_family = family as libc::sa_family_t;
    } else {
        // SAFETY: as for `addr`, a field disjoint from it and `name`; zeros are a NULL pointer.
        let list = unsafe { &mut (*head).list };
        // SAFETY: `head` points at a live `Head` (the caller's contract): only the address of
        // a field is taken.
        let hints = unsafe { &raw const (*head).hints };
        // SAFETY: `cname` is NUL-terminated, `hints` a valid addrinfo (zeros: no flags, any
        // family and type), and `list` a writable pointer slot.
        if bracketed || unsafe { libc::getaddrinfo(cname, core::ptr::null(), hints, list) } != 0 || list.is_null() {
            return false;
        }
        // The list is never freed: it is one small allocation per Runtime, like the
        // mapping, and freeaddrinfo would be one more import.
        // SAFETY: getaddrinfo succeeded and the list is not NULL, so it points at its first
        // addrinfo, never freed or written again.
        let ai = unsafe { &**list };
        // An address too short for IPv4 cannot be resolved.
        let len = (ai.ai_addrlen as usize).min(size_of::<libc::sockaddr_storage>());
        // SAFETY: `ai_addr` points at `ai_addrlen` bytes, of which `len` are read, and
        // `storage` has room for `len` (at most its size); ptr::copy allows overlap.
        unsafe { core::ptr::copy(ai.ai_addr.cast::<u8>(), storage, len) };
        if len < size_of::<libc::sockaddr_in>() {
            return false;
        }
    }
    // SAFETY: the port of both families is at offset 2, inside the sockaddr_storage.
    let port_at = unsafe { storage.add(2) }.cast::<u16>();
    // SAFETY: `port_at` points at 2 writable bytes of the storage; `write_unaligned` needs no
    // alignment.
    unsafe { port_at.write_unaligned(port.to_be()) };
    true
}

/// A connected TCP socket with `TCP_NODELAY`, closed on drop.
pub struct Socket(libc::c_int);

impl Socket {
    /// Opens a connection to `addr`.
    pub fn connect(addr: &Addr) -> Result<Socket, Errno> {
        // The fd is owned by the returned Socket (or closed by its drop on failure).
        let family = addr.storage.ss_family as usize;
        let kind = (libc::SOCK_STREAM | libc::SOCK_CLOEXEC) as usize;
        // SAFETY: `socket` takes integers only.
        let fd = unsafe { syscall3(libc::SYS_socket, family, kind, 0) };
        let sock = Socket(check(fd)? as libc::c_int);
        let one: libc::c_int = 1;
        let (tcp, nodelay) = (libc::IPPROTO_TCP as usize, libc::TCP_NODELAY as usize);
        // SAFETY: the option value points at `one`, a live c_int, with its size; the kernel
        // only reads it.
        unsafe {
            syscall6(
                libc::SYS_setsockopt,
                sock.0 as usize,
                tcp,
                nodelay,
                (&raw const one) as usize,
                size_of::<libc::c_int>(),
                0,
            )
        };
        let len = size_of::<libc::sockaddr_storage>();
        // SAFETY: the address points at `addr.storage`, a live sockaddr_storage of `len`
        // bytes; the kernel only reads it.
        let ret = unsafe { syscall3(libc::SYS_connect, sock.0 as usize, (&raw const addr.storage) as usize, len) };
        check(ret)?;
        Ok(sock)
    }

    /// Sends every slice, in order, with as few `sendmsg` calls as the kernel allows (one
    /// unless the socket buffer fills). `MSG_NOSIGNAL`: a closed peer is an error, never a
    /// SIGPIPE.
    #[inline(never)]
    pub fn send(&self, parts: &[&[u8]]) -> Result<(), Errno> {
        let mut slots = [const { MaybeUninit::<libc::iovec>::uninit() }; MAX_PARTS];
        let mut n = 0;
        for (v, p) in slots.iter_mut().zip(parts) {
            v.write(iovec(p));
            n += 1;
        }
        // SAFETY: the first `n` slots are initialised (above), and MaybeUninit<T> has T's
        // layout.
        let mut iov = unsafe { core::slice::from_raw_parts_mut(slots.as_mut_ptr().cast::<libc::iovec>(), n) };
        // SAFETY: msghdr is plain data, valid when zeroed.
        let mut msg: libc::msghdr = unsafe { zeroed() };
        while !iov.is_empty() {
            msg.msg_iov = iov.as_mut_ptr();
            msg.msg_iovlen = iov.len() as _;
            let flags = libc::MSG_NOSIGNAL as usize;
            // SAFETY: `msg` points at `iov`'s initialised iovecs, for slices that outlive the
            // call; the kernel only reads them.
            let sent = unsafe { syscall3(libc::SYS_sendmsg, self.0 as usize, (&raw const msg) as usize, flags) };
            // Drops what was sent: whole iovecs, then the start of the next one.
            let mut sent = match check(sent) {
                Ok(n) => n,
                Err(libc::EINTR) => continue,
                Err(e) => return Err(e),
            };
            while let Some(v) = iov.first_mut() {
                if sent < v.iov_len {
                    // SAFETY: `sent` is less than this iovec's length, so the pointer stays
                    // inside the slice it was made from.
                    v.iov_base = unsafe { v.iov_base.cast::<u8>().add(sent) }.cast();
                    v.iov_len -= sent;
                    break;
                }
                sent -= v.iov_len;
                iov = core::mem::take(&mut iov).get_mut(1..).unwrap_or_default();
            }
        }
        Ok(())
    }

    /// Reads what is available into `buf` (non-empty); `Ok(0)` is end of stream.
    pub fn recv(&self, buf: &mut [u8]) -> Result<usize, Errno> {
        loop {
            // SAFETY: `buf` is writable for its whole length.
            let n = unsafe { syscall3(libc::SYS_read, self.0 as usize, buf.as_mut_ptr() as usize, buf.len()) };
            match check(n) {
                Err(libc::EINTR) => {}
                r => return r,
            }
        }
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        // SAFETY: the Socket owns this fd and closes it once.
        unsafe { syscall3(libc::SYS_close, self.0 as usize, 0, 0) };
    }
}

/// Sets `_X_AMZN_TRACE_ID` (or unsets it for an empty value). Header values never contain
/// NUL bytes: the parser rejects control characters.
pub fn set_trace_env(value: &[u8]) -> bool {
    let mut buf = [0u8; 1024];
    if value.len() >= buf.len() || value.contains(&0) {
        return false;
    }
    for (d, s) in buf.iter_mut().zip(value) {
        *d = *s;
    }
    if value.is_empty() {
        // SAFETY: the name is a NUL-terminated literal.
        (unsafe { libc::unsetenv(c"_X_AMZN_TRACE_ID".as_ptr()) }) == 0
    } else {
        // SAFETY: both strings are NUL-terminated (`buf` is zeroed past `value`, which is
        // shorter than it) and live for the call; setenv copies them.
        (unsafe { libc::setenv(c"_X_AMZN_TRACE_ID".as_ptr(), buf.as_ptr().cast(), 1) }) == 0
    }
}

/// The endpoint of the last Runtime created, for the panic handler to reach the Runtime
/// API on a connection of its own. Null until one is.
static ENDPOINT: AtomicPtr<Endpoint> = AtomicPtr::new(core::ptr::null_mut());

/// Maps `len` bytes of zeroed memory that is never unmapped (pages cost nothing until
/// touched: `MAP_NORESERVE`), resolves the endpoint (see [`resolve`]) into the mapping's
/// first bytes with `text` as its `Host` header value, and publishes it for the panic
/// handler. Returns the endpoint and the `len` bytes, or `None` if the host cannot be
/// resolved; exits if the memory cannot be mapped.
#[allow(clippy::mut_from_ref)] // the buffers are a fresh mapping, not borrowed from `text`
pub fn publish(
    host: Host<'_>,
    port: u16,
    text: &'static [u8],
    len: usize,
) -> Option<(&'static Endpoint, &'static mut [u8])> {
    let Some(m) = map(HEAD + len) else {
        die(b"cannot map the buffers");
    };
    // The head and the buffers both derive from this one pointer.
    let base = m.as_mut_ptr();
    let head = base.cast::<Head>();
    // SAFETY: `head` points at a zeroed, writable `Head`, alive for the life of the process:
    // the mapping is zeroed, page-aligned (enough for `Head`), at least HEAD bytes long and
    // never unmapped.
    if !unsafe { resolve(host, port, head) } {
        return None;
    }
    // SAFETY: `head` points at a live `Head` (above): only the address of a field is taken.
    let ep = unsafe { &raw mut (*head).ep };
    // SAFETY: `ep` points at a live `Endpoint`: only the address of a field is taken (the
    // zeroed `host` is not a valid value, so no reference to it is made).
    let ep_host = unsafe { &raw mut (*ep).host };
    // SAFETY: `ep_host` is valid for writes and aligned (in the page-aligned `Head`); `write`
    // neither reads nor drops the zeros it replaces.
    unsafe { ep_host.write(text) };
    ENDPOINT.store(ep, Ordering::Release);
    // SAFETY: both fields of the endpoint are written (the address by `resolve`, the host
    // above) and never written again, in memory never unmapped: a `'static` shared borrow.
    let ep = unsafe { &*ep };
    // SAFETY: the mapping is `HEAD + len` bytes from `base`, so `base + HEAD` is inside it
    // (or at its end when `len` is 0).
    let buffers = unsafe { base.add(HEAD) };
    // SAFETY: the `len` bytes after the head are in the mapping, zeroed, never unmapped, and
    // reached through no other pointer: a `'static` exclusive slice.
    Some((ep, unsafe { core::slice::from_raw_parts_mut(buffers, len) }))
}

/// The endpoint, once published.
#[cfg(feature = "panic-handler")]
pub fn endpoint() -> Option<&'static Endpoint> {
    // SAFETY: a non-null pointer is to an endpoint [`publish`] wrote in full before storing
    // it, in memory never unmapped and never written again.
    unsafe { ENDPOINT.load(Ordering::Acquire).as_ref() }
}

/// What the runtime is doing, for the panic handler.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Phase<'a> {
    /// Before the first invocation: a panic is an init error.
    #[cfg_attr(not(feature = "panic-handler"), allow(dead_code))]
    Init,
    /// Inside the runtime, between invocations: a panic is only logged.
    Busy,
    /// A handler is running for this request id and invocation id.
    Invoking(&'a [u8], &'a [u8]),
}

static PHASE: [AtomicUsize; 5] = [const { AtomicUsize::new(0) }; 5];

/// Records the phase. The ids of `Invoking` must stay valid until the next call: they live
/// in the receive buffer, which the runtime only overwrites after setting `Busy`.
pub fn set_phase(phase: Phase<'_>) {
    let v = match phase {
        Phase::Init => [0, 0, 0, 0, 0],
        Phase::Busy => [1, 0, 0, 0, 0],
        Phase::Invoking(r, i) => [2, r.as_ptr() as usize, r.len(), i.as_ptr() as usize, i.len()],
    };
    // One store per slot, not a loop over the array: in a program that cannot panic
    // nothing reads PHASE, and then the optimiser deletes the stores and every call.
    let [p, a, b, c, d] = &PHASE;
    let [vp, va, vb, vc, vd] = v;
    p.store(vp, Ordering::Relaxed);
    a.store(va, Ordering::Relaxed);
    b.store(vb, Ordering::Relaxed);
    c.store(vc, Ordering::Relaxed);
    d.store(vd, Ordering::Relaxed);
}

/// The phase last recorded.
#[cfg(feature = "panic-handler")]
pub fn phase() -> Phase<'static> {
    let [p, a, b, c, d] = &PHASE;
    let [p, a, b, c, d] = [p, a, b, c, d].map(|v| v.load(Ordering::Relaxed));
    match p {
        0 => Phase::Init,
        2 => {
            // SAFETY: set_phase stored `a` and `b` from a live slice (the request id), and the
            // runtime keeps it unmodified until it sets another phase; the panic handler reads
            // it last.
            let request_id = unsafe { core::slice::from_raw_parts(a as *const u8, b) };
            // SAFETY: as for the request id, `c` and `d` are the invocation id's slice.
            let invocation_id = unsafe { core::slice::from_raw_parts(c as *const u8, d) };
            Phase::Invoking(request_id, invocation_id)
        }
        _ => Phase::Busy,
    }
}
