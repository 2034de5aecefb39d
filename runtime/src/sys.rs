//! Typed wrappers over the system calls and the few C library functions the runtime uses.
//!
//! The socket, `mmap` and `writev` calls go to the kernel directly ([`syscall3`],
//! [`syscall6`]); glibc is called for what it does beyond a system call: the environment,
//! `inet_pton`, the clock and `exit` (which flushes a C program's stdio). Nothing here knows
//! HTTP, endpoints or Lambda: every function takes and returns plain Rust types, and every
//! error is an [`Errno`] value.
//!
//! This module (with `capi.rs`, which turns C's pointers into slices) holds the crate's
//! `unsafe` code; what it exports is safe to call.

// The crate denies `unsafe_code` (lib.rs); this module is one of its two exceptions.
#![allow(unsafe_code)]

use core::cell::UnsafeCell;
use core::ffi::CStr;
use core::mem::{MaybeUninit, size_of, zeroed};
use core::net::SocketAddr;
#[cfg(feature = "concurrency")]
use core::sync::atomic::AtomicU64;
use core::sync::atomic::{AtomicU8, AtomicUsize, Ordering};

/// The most slices one [`Socket::send`] or [`log`] call takes.
pub const MAX_PARTS: usize = 16;

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
compile_error!("lambda-libc makes its system calls itself, for Lambda's architectures: x86_64 and aarch64 only");

/// An OS error number (`errno`), always positive.
pub type Errno = i32;

/// System call `n` with six arguments: the kernel's result, or `-errno`. System calls go
/// to the kernel directly, not through glibc's wrappers: each wrapper is one more import.
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

/// [`syscall6`] with three arguments.
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

/// A system call retried while it is interrupted by a signal (`EINTR`).
fn retry(mut call: impl FnMut() -> isize) -> Result<usize, Errno> {
    loop {
        match check(call()) {
            Err(libc::EINTR) => {}
            result => return result,
        }
    }
}

fn iovec(p: &[u8]) -> libc::iovec {
    libc::iovec { iov_base: p.as_ptr() as *mut _, iov_len: p.len() }
}

/// Up to [`MAX_PARTS`] slices as the iovecs of one gather write; later parts are left out.
struct IoVecs {
    slots: [MaybeUninit<libc::iovec>; MAX_PARTS],
    len: usize,
}

impl IoVecs {
    /// No iovecs yet.
    fn new() -> Self {
        IoVecs { slots: [const { MaybeUninit::uninit() }; MAX_PARTS], len: 0 }
    }

    /// Appends the iovec of `part`, if there is room.
    fn push(&mut self, part: &[u8]) {
        if let Some(slot) = self.slots.get_mut(self.len) {
            slot.write(iovec(part));
            self.len += 1;
        }
    }

    /// The iovecs [`push`](Self::push)ed.
    fn as_mut_slice(&mut self) -> &mut [libc::iovec] {
        let first = self.slots.as_mut_ptr().cast::<libc::iovec>();
        // SAFETY: the first `len` slots are initialised (`push`), and MaybeUninit<T> has T's
        // layout.
        unsafe { core::slice::from_raw_parts_mut(first, self.len) }
    }
}

/// Writes `lambda-libc: <parts…>\n` to stderr with one `writev`, so that concurrent
/// writers never interleave inside a line. At most `MAX_PARTS - 2` parts are written. A
/// failed write to stderr has nowhere to be reported, so its result is ignored.
pub fn log(parts: &[&[u8]]) {
    let mut iov = IoVecs::new();
    iov.push(b"lambda-libc: ");
    for part in parts.iter().take(MAX_PARTS - 2) {
        iov.push(part);
    }
    iov.push(b"\n");
    let iov = iov.as_mut_slice();
    // SAFETY: `iov` holds initialised iovecs for slices alive for the call; the kernel only
    // reads them.
    unsafe { syscall3(libc::SYS_writev, 2, iov.as_ptr() as usize, iov.len()) };
}

/// Writes `line` to stderr with one `write` (of at most `PIPE_BUF` bytes, a pipe takes it
/// whole, never interleaved with another writer's). A failed write to stderr has nowhere to
/// be reported, so its result is ignored.
#[cfg(feature = "log")]
pub fn write_stderr(line: &[u8]) {
    // SAFETY: `line` is readable for its length; the kernel only reads it.
    unsafe { syscall3(libc::SYS_write, 2, line.as_ptr() as usize, line.len()) };
}

/// Whether the calling thread is the process's main thread (its thread id is the process
/// id), the one a bootstrap runs the runtime on.
#[cfg(feature = "log")]
pub fn on_main_thread() -> bool {
    // SAFETY: `gettid` takes no arguments and cannot fail.
    let tid = unsafe { syscall3(libc::SYS_gettid, 0, 0, 0) };
    tid as Pid == process_id()
}

/// Exits the process (running `atexit` handlers and flushing stdio).
#[inline(always)]
pub fn exit(code: i32) -> ! {
    // SAFETY: exit never returns; no Rust state needs dropping under panic=abort.
    unsafe { libc::exit(code) }
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

/// An environment variable, if set: its whole `NAME=value` entry and the value. Both live
/// as long as the process: the runtime never unsets or replaces the variables it reads.
pub fn getenv(name: &CStr) -> Option<(&'static [u8], &'static [u8])> {
    // SAFETY: `name` is a NUL-terminated string, alive for the call.
    let p = unsafe { libc::getenv(name.as_ptr()) }.cast::<u8>();
    if p.is_null() {
        return None;
    }
    // SAFETY: a non-NULL result points just past the `=` of a NUL-terminated `NAME=value`
    // string in the environment block.
    let n = unsafe { libc::strlen(p.cast()) };
    let lead = name.count_bytes() + 1;
    // SAFETY: `p` is `lead` bytes (`NAME=`) past the start of its entry, in the same string.
    let entry = unsafe { p.sub(lead) };
    // SAFETY: the entry is `lead + n` initialised bytes before its NUL, never written for
    // the life of the process (glibc's setenv of another name leaves it in place).
    let entry = unsafe { core::slice::from_raw_parts(entry, lead + n) };
    // SAFETY: the value is the last `n` of those bytes.
    let value = unsafe { core::slice::from_raw_parts(p, n) };
    Some((entry, value))
}

/// Sets the environment variable `name` to `value`, or unsets it for an empty value;
/// `false` if it could not: the value is 1,024 bytes or longer, holds a NUL byte, or glibc
/// failed. glibc's `setenv` allocates: only opt-in features call this.
pub fn setenv(name: &CStr, value: &[u8]) -> bool {
    let mut buf = [0u8; 1024];
    let Some(value) = c_string(value, &mut buf) else {
        return false;
    };
    if value.is_empty() {
        // SAFETY: the name is NUL-terminated and lives for the call.
        (unsafe { libc::unsetenv(name.as_ptr()) }) == 0
    } else {
        // SAFETY: both strings are NUL-terminated and live for the call; setenv copies them.
        (unsafe { libc::setenv(name.as_ptr(), value.as_ptr(), 1) }) == 0
    }
}

/// Milliseconds since the Unix epoch by `CLOCK_REALTIME`.
pub fn now_ms() -> i64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_REALTIME, &mut ts) };
    ts.tv_sec.saturating_mul(1000).saturating_add(ts.tv_nsec / 1_000_000)
}

/// `mmap` of `len` bytes of zeroed, readable and writable anonymous memory, `MAP_NORESERVE`,
/// shared with forked children or private to the process (`sharing`): its address.
#[inline(always)]
fn map_anonymous(len: usize, sharing: libc::c_int) -> Result<usize, Errno> {
    let flags = sharing | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE;
    let prot = (libc::PROT_READ | libc::PROT_WRITE) as usize;
    // SAFETY: an anonymous mapping at an address the kernel chooses (`0`, no `MAP_FIXED`)
    // replaces and aliases no existing memory; the call reads no memory of ours.
    check(unsafe { syscall6(libc::SYS_mmap, 0, len, prot, flags as usize, usize::MAX, 0) })
}

/// Maps `len` bytes of zeroed, private memory that is never unmapped. Pages cost nothing
/// until touched (`MAP_NORESERVE`).
pub fn map(len: usize) -> Result<&'static mut [u8], Errno> {
    let p = map_anonymous(len, libc::MAP_PRIVATE)?;
    // SAFETY: on success `p` is `len` readable, writable, zeroed bytes that nothing else points
    // at and that stay mapped for the life of the process.
    Ok(unsafe { core::slice::from_raw_parts_mut(p as *mut u8, len) })
}

unsafe extern "C" {
    // Not in the `libc` crate: POSIX, in glibc since 2.2.5.
    fn inet_pton(af: libc::c_int, src: *const libc::c_char, dst: *mut libc::c_void) -> libc::c_int;
}

/// `text` as a NUL-terminated string in `buf`, if it is shorter than `buf` and holds no NUL.
/// (NULs are looked for while copying, not with `contains` or `CStr::from_bytes_until_nul`,
/// which link a `memchr`.)
fn c_string<'b, const N: usize>(text: &[u8], buf: &'b mut [u8; N]) -> Option<&'b CStr> {
    let with_nul = buf.get_mut(..=text.len())?;
    let (nul, dst) = with_nul.split_last_mut()?;
    for (d, &s) in dst.iter_mut().zip(text) {
        if s == 0 {
            return None;
        }
        *d = s;
    }
    *nul = 0;
    // SAFETY: `with_nul` is `text`, which holds no NUL, then a NUL.
    Some(unsafe { CStr::from_bytes_with_nul_unchecked(with_nul) })
}

/// An IP address of `family` (`AF_INET` or `AF_INET6`) in its text form, by `inet_pton`: its
/// octets at the start of the sixteen (all sixteen for IPv6, the first four for IPv4). One
/// function for both families, so the program has one call to `inet_pton`.
#[inline(never)]
fn parse_ip(family: libc::c_int, text: &[u8]) -> Option<[u8; 16]> {
    let mut buf = [0u8; 64];
    let text = c_string(text, &mut buf)?;
    let mut octets = [0u8; 16];
    // SAFETY: `text` is NUL-terminated; `octets` has room for an address of either family.
    let ok = unsafe { inet_pton(family, text.as_ptr(), octets.as_mut_ptr().cast()) };
    (ok == 1).then_some(octets)
}

/// An IPv4 address in dotted-decimal (`inet_pton(AF_INET)`), as its four octets.
pub fn parse_ipv4(text: &[u8]) -> Option<[u8; 4]> {
    let [a, b, c, d, ..] = parse_ip(libc::AF_INET, text)?;
    Some([a, b, c, d])
}

/// An IPv6 address in its text form (`inet_pton(AF_INET6)`), as its sixteen octets.
pub fn parse_ipv6(text: &[u8]) -> Option<[u8; 16]> {
    parse_ip(libc::AF_INET6, text)
}

/// An open file descriptor, closed on drop.
struct Fd(libc::c_int);

impl Fd {
    /// Reads what is available into `buf`; `Ok(0)` is end of file.
    fn read(&self, buf: &mut [u8]) -> Result<usize, Errno> {
        // SAFETY: `buf` is writable for its whole length.
        retry(|| unsafe { syscall3(libc::SYS_read, self.0 as usize, buf.as_mut_ptr() as usize, buf.len()) })
    }
}

impl Drop for Fd {
    fn drop(&mut self) {
        // SAFETY: the Fd owns this descriptor and closes it once.
        unsafe { syscall3(libc::SYS_close, self.0 as usize, 0, 0) };
    }
}

/// A connected TCP socket with `TCP_NODELAY`, closed on drop.
pub struct Socket(Fd);

impl Socket {
    /// Opens a connection to `addr`.
    pub fn connect(addr: &SocketAddr) -> Result<Socket, Errno> {
        // SAFETY: sockaddr_in is plain data, valid when zeroed.
        let mut v4: libc::sockaddr_in = unsafe { zeroed() };
        // SAFETY: as is sockaddr_in6.
        let mut v6: libc::sockaddr_in6 = unsafe { zeroed() };
        let (family, raw, len) = match addr {
            SocketAddr::V4(a) => {
                v4.sin_family = libc::AF_INET as libc::sa_family_t;
                v4.sin_port = a.port().to_be();
                v4.sin_addr.s_addr = u32::from_ne_bytes(a.ip().octets());
                (libc::AF_INET, (&raw const v4) as usize, size_of::<libc::sockaddr_in>())
            }
            SocketAddr::V6(a) => {
                v6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
                v6.sin6_port = a.port().to_be();
                v6.sin6_addr.s6_addr = a.ip().octets();
                (libc::AF_INET6, (&raw const v6) as usize, size_of::<libc::sockaddr_in6>())
            }
        };
        let kind = (libc::SOCK_STREAM | libc::SOCK_CLOEXEC) as usize;
        // SAFETY: `socket` takes integers only.
        let fd = check(unsafe { syscall3(libc::SYS_socket, family as usize, kind, 0) })?;
        let sock = Socket(Fd(fd as libc::c_int));
        let one: libc::c_int = 1;
        let (tcp, nodelay) = (libc::IPPROTO_TCP as usize, libc::TCP_NODELAY as usize);
        // SAFETY: the option value points at `one`, a live c_int, with its size; the kernel
        // only reads it. Without `TCP_NODELAY` only latency suffers, so its result is ignored.
        unsafe {
            syscall6(libc::SYS_setsockopt, fd, tcp, nodelay, (&raw const one) as usize, size_of::<libc::c_int>(), 0)
        };
        // Not retried on EINTR: an interrupted connect goes on in the kernel, and a second
        // call would fail with EALREADY.
        // SAFETY: `raw` points at the live sockaddr of `len` bytes built above; the kernel only
        // reads it.
        check(unsafe { syscall3(libc::SYS_connect, fd, raw, len) })?;
        Ok(sock)
    }

    /// Sends every slice (at most [`MAX_PARTS`]), in order, with as few `sendmsg` calls as
    /// the kernel allows (one unless the socket buffer fills). `MSG_NOSIGNAL`: a closed peer
    /// is an error, never a `SIGPIPE`.
    #[inline(never)]
    pub fn send(&self, parts: &[&[u8]]) -> Result<(), Errno> {
        let mut iov = IoVecs::new();
        for part in parts {
            iov.push(part);
        }
        let mut iov = iov.as_mut_slice();
        // SAFETY: msghdr is plain data, valid when zeroed.
        let mut msg: libc::msghdr = unsafe { zeroed() };
        while !iov.is_empty() {
            msg.msg_iov = iov.as_mut_ptr();
            msg.msg_iovlen = iov.len() as _;
            let flags = libc::MSG_NOSIGNAL as usize;
            // SAFETY: `msg` points at `iov`'s initialised iovecs, for slices that outlive the
            // call; the kernel only reads them.
            let mut sent =
                retry(|| unsafe { syscall3(libc::SYS_sendmsg, self.fd(), (&raw const msg) as usize, flags) })?;
            // Drops what was sent: whole iovecs, then the start of the next one.
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
        self.0.read(buf)
    }

    fn fd(&self) -> usize {
        self.0.0 as usize
    }
}

/// A process id.
#[cfg(any(feature = "log", feature = "concurrency"))]
pub type Pid = libc::pid_t;

/// How a child process ended, as `waitpid` reports it.
#[cfg(feature = "concurrency")]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ended {
    /// It exited with this status.
    Exited(i32),
    /// A signal ended it.
    Signaled(i32),
}

/// Forks the process (glibc's `fork`, which runs the `pthread_atfork` handlers and resets
/// stdio's locks in the child): the child's id in the parent, `0` in the child. C stdio's
/// buffers are flushed first, so that what a C program printed during init is written once,
/// not once by every process that inherits the buffer.
#[cfg(feature = "concurrency")]
pub fn fork() -> Result<Pid, Errno> {
    // SAFETY: `fflush(NULL)` flushes every open output stream; it reads no memory of ours.
    unsafe { libc::fflush(core::ptr::null_mut()) };
    // SAFETY: `fork` takes no arguments; this runtime has one thread, so the child's copy of
    // its memory is consistent.
    let pid = unsafe { libc::fork() };
    if pid < 0 { Err(errno()) } else { Ok(pid) }
}

/// The calling thread's `errno`, after a glibc function failed.
#[cfg(feature = "concurrency")]
fn errno() -> Errno {
    // SAFETY: glibc's `__errno_location` takes no arguments.
    let errno = unsafe { libc::__errno_location() };
    // SAFETY: it points at the calling thread's errno, valid for the thread's life.
    unsafe { *errno }
}

/// The calling process's id.
#[cfg(any(feature = "log", feature = "concurrency"))]
pub fn process_id() -> Pid {
    // SAFETY: `getpid` takes no arguments and cannot fail.
    (unsafe { syscall3(libc::SYS_getpid, 0, 0, 0) }) as Pid
}

/// The id of the calling process's parent.
#[cfg(feature = "concurrency")]
pub fn parent_id() -> Pid {
    // SAFETY: `getppid` takes no arguments and cannot fail.
    (unsafe { syscall3(libc::SYS_getppid, 0, 0, 0) }) as Pid
}

/// Gives `signal` its default action (for `SIGCHLD`: children stay to be reaped).
#[cfg(feature = "concurrency")]
pub fn default_action(signal: i32) {
    // SAFETY: sigaction is plain data, valid when zeroed; `SIG_DFL` is 0.
    let action: libc::sigaction = unsafe { zeroed() };
    // SAFETY: `action` is valid; the old action is not asked for.
    unsafe { libc::sigaction(signal, &action, core::ptr::null_mut()) };
}

/// Asks the kernel to send `SIGKILL` to the calling process when its parent dies
/// (`PR_SET_PDEATHSIG`), so that no worker outlives the runtime's supervisor.
#[cfg(feature = "concurrency")]
pub fn die_with_parent() {
    let (option, signal) = (libc::PR_SET_PDEATHSIG as usize, libc::SIGKILL as usize);
    // SAFETY: `prctl` with these arguments reads no memory.
    unsafe { syscall3(libc::SYS_prctl, option, signal, 0) };
}

/// Sends `signal` to the process `pid`.
#[cfg(feature = "concurrency")]
pub fn kill(pid: Pid, signal: i32) -> Result<(), Errno> {
    // SAFETY: `kill` takes integers only.
    check(unsafe { syscall3(libc::SYS_kill, pid as usize, signal as usize, 0) }).map(drop)
}

/// Reaps one child that has ended, without waiting: `None` when none has.
#[cfg(feature = "concurrency")]
pub fn reap() -> Option<(Pid, Ended)> {
    let mut status: libc::c_int = 0;
    // SAFETY: `status` is a valid, writable c_int.
    let pid = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
    if pid <= 0 {
        return None;
    }
    let ended = if libc::WIFSIGNALED(status) {
        Ended::Signaled(libc::WTERMSIG(status))
    } else {
        Ended::Exited(libc::WEXITSTATUS(status))
    };
    Some((pid, ended))
}

/// A set of signals.
#[cfg(feature = "concurrency")]
pub struct SignalSet(libc::sigset_t);

#[cfg(feature = "concurrency")]
impl SignalSet {
    /// The set of `signals`.
    pub fn of(signals: &[i32]) -> SignalSet {
        // SAFETY: sigset_t is plain data; `sigemptyset` initialises it.
        let mut set: libc::sigset_t = unsafe { zeroed() };
        // SAFETY: `set` is a valid, writable sigset_t.
        unsafe { libc::sigemptyset(&mut set) };
        for &signal in signals {
            // SAFETY: as above; an invalid signal number is refused (EINVAL), not undefined.
            unsafe { libc::sigaddset(&mut set, signal) };
        }
        SignalSet(set)
    }

    /// Blocks the set's signals for the calling thread (they stay pending until taken with
    /// [`wait`](Self::wait)); returns the mask it replaced.
    pub fn block(&self) -> SignalSet {
        // SAFETY: sigset_t is plain data, overwritten by the call.
        let mut old: libc::sigset_t = unsafe { zeroed() };
        // SAFETY: both sets are valid; SIG_BLOCK cannot fail with them.
        unsafe { libc::sigprocmask(libc::SIG_BLOCK, &self.0, &mut old) };
        SignalSet(old)
    }

    /// Makes the set the calling thread's signal mask.
    pub fn set_mask(&self) {
        // SAFETY: the set is valid; the old mask is not asked for.
        unsafe { libc::sigprocmask(libc::SIG_SETMASK, &self.0, core::ptr::null_mut()) };
    }

    /// Waits at most `timeout_ms` (none: without limit) for one of the set's signals, which
    /// must be blocked, and takes it: its number, or `None` when the time ran out.
    pub fn wait(&self, timeout_ms: Option<u64>) -> Option<i32> {
        let timeout = timeout_ms.map(|ms| libc::timespec {
            tv_sec: (ms / 1000).min(i64::MAX as u64) as libc::time_t,
            tv_nsec: ((ms % 1000) * 1_000_000) as libc::c_long,
        });
        let timeout = timeout.as_ref().map_or(core::ptr::null(), |t| t as *const libc::timespec);
        // SAFETY: the set is valid; `timeout` is NULL or points at a live timespec; no
        // siginfo is asked for.
        let signal = unsafe { libc::sigtimedwait(&self.0, core::ptr::null_mut(), timeout) };
        (signal > 0).then_some(signal)
    }
}

/// Maps `n` zeroed words of memory shared with the child processes forked after the call
/// (`MAP_SHARED`), never unmapped; pages cost nothing until touched.
#[cfg(feature = "concurrency")]
pub fn map_shared_words(n: usize) -> Result<&'static [AtomicU64], Errno> {
    let len = n.checked_mul(size_of::<AtomicU64>()).ok_or(libc::ENOMEM)?;
    let p = map_anonymous(len, libc::MAP_SHARED)?;
    // SAFETY: `len` zeroed bytes, page-aligned, mapped for the life of the process; a zero
    // AtomicU64 is a valid value, and atomics may be shared (also across processes, whose
    // accesses to the same physical words are atomic too).
    Ok(unsafe { core::slice::from_raw_parts(p as *const AtomicU64, n) })
}

/// Makes `handler` the handler of `signal` (`SA_RESTART`: an interrupted system call is
/// resumed, not failed with `EINTR`). Only async-signal-safe work may be done in a handler.
#[cfg(feature = "shutdown")]
pub fn on_signal(signal: i32, handler: extern "C" fn(i32)) {
    // SAFETY: sigaction is plain data, valid when zeroed (an empty mask).
    let mut action: libc::sigaction = unsafe { zeroed() };
    action.sa_sigaction = handler as usize;
    action.sa_flags = libc::SA_RESTART;
    // SAFETY: `action` is valid and `handler` is an `extern "C" fn(i32)`, what a handler
    // without SA_SIGINFO is called as; the old action is not asked for.
    unsafe { libc::sigaction(signal, &action, core::ptr::null_mut()) };
}

/// Arms the real-time interval timer to raise `SIGALRM` once, in `ms` milliseconds.
#[cfg(feature = "shutdown")]
pub fn alarm_ms(ms: u64) {
    let value = libc::timeval { tv_sec: (ms / 1000) as libc::time_t, tv_usec: ((ms % 1000) * 1000) as _ };
    let timer = libc::itimerval { it_interval: libc::timeval { tv_sec: 0, tv_usec: 0 }, it_value: value };
    // SAFETY: `timer` is a valid itimerval; the old value is not asked for.
    unsafe { libc::setitimer(libc::ITIMER_REAL, &timer, core::ptr::null_mut()) };
}

/// Ends the process at once with `code`, without `atexit` handlers or flushing stdio:
/// what a signal handler, or a child that must not flush its parent's buffers, may call.
#[cfg(any(feature = "shutdown", feature = "concurrency"))]
pub fn exit_now(code: i32) -> ! {
    // SAFETY: `_exit` never returns and is async-signal-safe.
    unsafe { libc::_exit(code) }
}

/// A value set once and then read for the life of the process, from any thread: the
/// runtime's endpoint, which the panic handler reads.
pub struct Once<T> {
    /// [`EMPTY`], [`SETTING`] or [`SET`].
    state: AtomicU8,
    value: UnsafeCell<MaybeUninit<T>>,
}

const EMPTY: u8 = 0;
const SETTING: u8 = 1;
const SET: u8 = 2;

// SAFETY: the value is written once, by the one caller that moved the state from EMPTY to
// SETTING, and only read (as `&T`) after the state is SET, so sharing a `Once<T>` shares
// only `&T`s.
unsafe impl<T: Sync + Send> Sync for Once<T> {}

impl<T> Once<T> {
    /// An empty cell.
    pub const fn new() -> Self {
        Once { state: AtomicU8::new(EMPTY), value: UnsafeCell::new(MaybeUninit::uninit()) }
    }

    /// Stores `value` if the cell is empty; gives it back otherwise.
    pub fn set(&self, value: T) -> Result<(), T> {
        if self.state.compare_exchange(EMPTY, SETTING, Ordering::Acquire, Ordering::Relaxed).is_err() {
            return Err(value);
        }
        // SAFETY: the state moved from EMPTY to SETTING above, so this caller is the only
        // one to reach the value, and no `&T` to it exists yet.
        unsafe { (*self.value.get()).write(value) };
        self.state.store(SET, Ordering::Release);
        Ok(())
    }

    /// The value, once [`set`](Self::set).
    #[cfg(any(test, feature = "panic-handler", feature = "shutdown", feature = "concurrency"))]
    pub fn get(&self) -> Option<&T> {
        if self.state.load(Ordering::Acquire) != SET {
            return None;
        }
        let value = self.value.get().cast_const();
        // SAFETY: SET is stored after the value is written, and the value is never written
        // again, so a shared reference to it is sound for as long as `self` lives.
        let value = unsafe { &*value };
        // SAFETY: SET means the value was written.
        Some(unsafe { value.assume_init_ref() })
    }
}

/// A tag and two byte strings recorded for the panic handler, which reads them after a
/// panic interrupted the code that recorded them (on the same thread: a panic aborts).
///
/// The recorder's invariant, which makes [`read`](Marker::read) sound: the recorded slices
/// stay alive and unmodified until the next [`record`](Marker::record).
pub struct Marker {
    tag: AtomicUsize,
    first: [AtomicUsize; 2],
    second: [AtomicUsize; 2],
}

impl Marker {
    /// A marker with tag 0 and two empty strings.
    pub const fn new() -> Self {
        Marker {
            tag: AtomicUsize::new(0),
            first: [const { AtomicUsize::new(0) }; 2],
            second: [const { AtomicUsize::new(0) }; 2],
        }
    }

    /// Records `tag`, `first` and `second` (see the invariant on [`Marker`]).
    pub fn record(&self, tag: usize, first: &[u8], second: &[u8]) {
        self.tag.store(tag, Ordering::Relaxed);
        for (slot, s) in [(&self.first, first), (&self.second, second)] {
            slot[0].store(s.as_ptr() as usize, Ordering::Relaxed);
            slot[1].store(s.len(), Ordering::Relaxed);
        }
    }

    /// What was recorded last.
    #[cfg(any(feature = "panic-handler", feature = "log"))]
    pub fn read(&self) -> (usize, &[u8], &[u8]) {
        let slice = |slot: &[AtomicUsize; 2]| {
            let (ptr, len) = (slot[0].load(Ordering::Relaxed), slot[1].load(Ordering::Relaxed));
            if len == 0 {
                return &[][..];
            }
            // SAFETY: `record` stored the pointer and length of a live slice, which the
            // recorder keeps alive and unmodified until it records again (the invariant).
            unsafe { core::slice::from_raw_parts(ptr as *const u8, len) }
        };
        (self.tag.load(Ordering::Relaxed), slice(&self.first), slice(&self.second))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn once_is_set_once() {
        let cell: Once<u32> = Once::new();
        assert_eq!(cell.state.load(Ordering::Relaxed), EMPTY);
        assert_eq!(cell.get(), None);
        assert_eq!(cell.set(7), Ok(()));
        assert_eq!(cell.set(8), Err(8), "a second value is given back");
        assert_eq!(cell.state.load(Ordering::Relaxed), SET);
        assert_eq!(cell.get(), Some(&7), "the first value stays");
    }

    #[test]
    fn c_strings_fit_and_hold_no_nul() {
        let mut buf = [0u8; 8];
        assert_eq!(c_string(b"1234567", &mut buf).map(CStr::to_bytes), Some(&b"1234567"[..]));
        assert_eq!(c_string(b"12345678", &mut [0u8; 8]), None, "no room for the NUL");
        assert_eq!(c_string(b"a\0b", &mut [0u8; 8]), None, "a NUL inside");
        assert_eq!(c_string(b"", &mut [0u8; 8]).map(CStr::to_bytes), Some(&b""[..]));
    }

    #[test]
    fn addresses_parse_as_inet_pton_reads_them() {
        assert_eq!(parse_ipv4(b"127.0.0.1"), Some([127, 0, 0, 1]));
        assert_eq!(parse_ipv6(b"::1"), Some([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]));
        for bad in [&b""[..], b"1.2.3", b"1.2.3.256", b"localhost", b"127.0.0.1\0"] {
            assert_eq!(parse_ipv4(bad), None, "{bad:?}");
        }
        assert_eq!(parse_ipv6(b"127.0.0.1"), None);
    }
}
