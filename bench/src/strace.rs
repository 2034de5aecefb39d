//! Syscalls per warm invocation, from an `strace -f` log of a run of `n` invocations.
//!
//! Every syscall of every thread is one line (`PID name(args) = result`; a syscall that
//! another thread's output interrupts is an `<unfinished ...>` line plus a `<... resumed>`
//! line, counted once). The marker is the write that sends `GET …/invocation/next` (its
//! first 64 bytes are shown): the warm invocations 2..=n lie between the second marker and
//! the (n + 1)th, which the candidate sends after answering the last event.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

/// The `strace` arguments before the bootstrap (the output file follows `-o`).
pub fn args(output: &Path) -> Vec<String> {
    ["-f", "-qq", "-e", "signal=none", "-s", "64", "-o"]
        .into_iter()
        .map(str::to_owned)
        .chain([output.to_string_lossy().into_owned(), "--".to_owned()])
        .collect()
}

/// Whether `strace` runs here.
pub fn available() -> bool {
    Command::new("strace").arg("-V").output().is_ok_and(|o| o.status.success())
}

/// The syscalls of the warm invocations.
#[derive(Debug, Clone, PartialEq)]
pub struct Count {
    /// Warm invocations counted (n - 1).
    pub invocations: usize,
    /// Syscalls in them, all threads.
    pub total: usize,
    /// By syscall name.
    pub by_name: BTreeMap<String, usize>,
}

impl Count {
    pub fn per_invocation(&self) -> f64 {
        self.total as f64 / self.invocations.max(1) as f64
    }

    /// `sendmsg 1, read 2, …` per invocation, most frequent first.
    pub fn breakdown(&self) -> String {
        let mut v: Vec<(&String, &usize)> = self.by_name.iter().collect();
        v.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        v.iter()
            .map(|&(name, &n)| {
                let per = n as f64 / self.invocations.max(1) as f64;
                if per.fract() == 0.0 { format!("{name} {per}") } else { format!("{name} {per:.2}") }
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Counts the syscalls of invocations 2..=n in `log` (see the module comment).
pub fn count(log: &str, n: usize) -> Result<Count, String> {
    let calls: Vec<&str> = log
        .lines()
        .map(|l| l.trim_start_matches(|c: char| c.is_ascii_digit()).trim_start())
        .filter(|l| !l.is_empty() && !l.starts_with("<...") && !l.starts_with("+++") && !l.starts_with("---"))
        .collect();
    let markers: Vec<usize> = calls
        .iter()
        .enumerate()
        .filter(|(_, l)| l.contains("\"GET /2018-06-01/runtime/invocation/next"))
        .map(|(i, _)| i)
        .collect();
    if n < 2 || markers.len() < n + 1 {
        return Err(format!("the strace log has {} GET /next writes, expected {}", markers.len(), n + 1));
    }
    let window = &calls[markers[1]..markers[n]];
    let mut by_name = BTreeMap::new();
    for call in window {
        let name = call.split('(').next().unwrap_or(call).trim();
        *by_name.entry(name.to_owned()).or_insert(0) += 1;
    }
    Ok(Count { invocations: n - 1, total: window.len(), by_name })
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str = r#"4100 execve("./bootstrap", ["./bootstrap"], 0x7ffd /* 16 vars */) = 0
4100 mmap(NULL, 12718084, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS|MAP_NORESERVE, -1, 0) = 0x7f
4100 socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_IP) = 3
4100 sendmsg(3, {msg_name=NULL, msg_iov=[{iov_base="GET /2018-06-01/runtime/invocation/next", iov_len=39}, {iov_base=" HTTP/1.1\r\nHost: ", iov_len=17}], msg_iovlen=7}, MSG_NOSIGNAL) = 120
4100 read(3, "HTTP/1.1 200 OK\r\n"..., 6361092) = 500
4100 sendmsg(3, {msg_iov=[{iov_base="POST /2018-06-01/runtime/", iov_len=25}]}, MSG_NOSIGNAL) = 300
4100 read(3, "HTTP/1.1 202 Accepted\r\n"..., 70656) = 100
4100 sendmsg(3, {msg_name=NULL, msg_iov=[{iov_base="GET /2018-06-01/runtime/invocation/next", iov_len=39}]}, MSG_NOSIGNAL) = 120
4100 read(3,  <unfinished ...>
4101 futex(0x7f, FUTEX_WAKE_PRIVATE, 1) = 0
4100 <... read resumed>"HTTP/1.1 200 OK\r\n"..., 6361092) = 500
4100 sendmsg(3, {msg_iov=[{iov_base="POST /2018-06-01/runtime/", iov_len=25}]}, MSG_NOSIGNAL) = 300
4100 read(3, "HTTP/1.1 202 Accepted\r\n"..., 70656) = 100
4100 --- SIGCHLD {si_signo=SIGCHLD} ---
4100 writev(3, [{iov_base="GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: 127.0.0.1:1"..., iov_len=60}], 1) = 60
4100 read(3, "HTTP/1.1 200 OK\r\n"..., 6361092) = 500
4100 sendmsg(3, {msg_iov=[{iov_base="POST /2018-06-01/runtime/", iov_len=25}]}, MSG_NOSIGNAL) = 300
4100 read(3, "HTTP/1.1 202 Accepted\r\n"..., 70656) = 100
4100 sendmsg(3, {msg_name=NULL, msg_iov=[{iov_base="GET /2018-06-01/runtime/invocation/next", iov_len=39}]}, MSG_NOSIGNAL) = 120
4100 read(3,  <unfinished ...>
4100 +++ killed by SIGKILL +++
"#;

    #[test]
    fn counts_the_warm_window() {
        // Three invocations: warm ones are 2 and 3, between the 2nd and the 4th GET /next.
        let c = count(LOG, 3).unwrap();
        assert_eq!(c.invocations, 2);
        assert_eq!(c.total, 9, "{c:?}");
        assert_eq!(c.by_name["read"], 4);
        assert_eq!(c.by_name["sendmsg"], 3);
        assert_eq!(c.by_name["futex"], 1);
        assert_eq!(c.by_name["writev"], 1);
        assert_eq!(c.per_invocation(), 4.5);
        assert_eq!(c.breakdown(), "read 2, sendmsg 1.50, futex 0.50, writev 0.50");
    }

    #[test]
    fn too_few_markers() {
        assert!(count(LOG, 4).unwrap_err().contains("has 4 GET /next writes, expected 5"));
        assert!(count("", 2).is_err());
    }

    #[test]
    fn arguments() {
        let a = args(Path::new("/tmp/s.log"));
        assert_eq!(a.first().map(String::as_str), Some("-f"));
        assert_eq!(&a[a.len() - 2..], ["/tmp/s.log", "--"]);
    }
}
