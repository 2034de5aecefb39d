//! The concurrent fixtures under the AWS Runtime Interface Emulator's managed-instances
//! mode, where a machine has the emulator (`aws-lambda-rie` on PATH, or its path in
//! `LAMBDA_LIBC_RIE`): optional in CI, which cannot download it, so without it the test
//! records `SKIPPED: …` even under `LAMBDA_LIBC_REQUIRE_TOOLS=1`.
//!
//! The emulator runs its managed-instances mode when `AWS_LAMBDA_MAX_CONCURRENCY` is set in
//! its environment (which the bootstrap inherits): it initialises at once, answers an
//! invoke with 400 `Runtime.Unavailable` while no `/next` is parked, and treats any exit of
//! the bootstrap as fatal. The test starts it with a fixture and 4 workers, waits until an
//! invoke succeeds, then sends 4 slow invokes at once: all four must come back, together
//! in less than two of their durations.

mod support;
mod tools;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::fixtures;

/// The emulator's invoke path.
const INVOKE: &str = "/2015-03-31/functions/function/invocations";

fn emulator() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("LAMBDA_LIBC_RIE") {
        return Some(path.into());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join("aws-lambda-rie")).find(|p| p.is_file())
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

/// Posts `body` to the emulator's invoke endpoint on `port`: the status and the body.
fn invoke(port: u16, body: &str) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let request = format!(
        "POST {INVOKE} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes())?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let status = response.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = response.split_once("\r\n\r\n").map_or("", |(_, b)| b).to_owned();
    Ok((status, body))
}

struct Emulator(Child);

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn four_workers_under_the_emulator() {
    let Some(rie) = emulator() else {
        tools::skip_optional("the Runtime Interface Emulator (aws-lambda-rie, or LAMBDA_LIBC_RIE)");
        return;
    };
    for bin in fixtures().into_iter().filter(|b| !b.is_emulated()) {
        let (api, port) = (free_port(), free_port());
        let child = Command::new(&rie)
            .arg("--runtime-api-address")
            .arg(format!("127.0.0.1:{api}"))
            .arg("--runtime-interface-emulator-address")
            .arg(format!("127.0.0.1:{port}"))
            .arg(&bin.path)
            .env("AWS_LAMBDA_MAX_CONCURRENCY", "4")
            .env("FIXTURE_LOOP", "run")
            .stdin(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", rie.display()));
        let _emulator = Emulator(child);
        let ready = Instant::now() + Duration::from_secs(10);
        while !matches!(invoke(port, "\"warm\""), Ok((200, _))) {
            assert!(Instant::now() < ready, "{bin}: no successful invoke within 10 s");
            std::thread::sleep(Duration::from_millis(50));
        }
        let started = Instant::now();
        let answers: Vec<_> = (0..4)
            .map(|_| std::thread::spawn(move || invoke(port, "sleep:700")))
            .collect::<Vec<_>>()
            .into_iter()
            .map(|h| h.join().expect("the invoke thread"))
            .collect();
        let took = started.elapsed();
        for answer in answers {
            let (status, body) = answer.expect("an invoke");
            assert_eq!((status, body.as_str()), (200, "slept:700"), "{bin}");
        }
        assert!(took < Duration::from_millis(1400), "{bin}: 4 invokes of 700 ms took {took:?}");
    }
}
