//! The soak test: 100,000 invocations of each native echo bootstrap on one run, with mixed
//! event sizes (empty to 6 MB) and random, seeded fault injection on the wire: chunked
//! bodies with random chunk sizes, split and byte-by-byte delivery, connections closed or
//! reset after an answer, `Connection: close` and HTTP/1.0 replies, and a dropped stale
//! connection (closed before the `/next` reply, which the runtime retries once on a fresh
//! connection). Nothing is lost (every event handed out whole is answered once, in order,
//! with exactly its bytes), nothing extra is sent, and VmHWM stays flat.
//!
//! `LAMBDA_LIBC_SOAK_SEED` replays a run (the seed is printed); `LAMBDA_LIBC_SOAK_N` changes
//! the number of invocations (default 100,000). arm64 builds are left out: under qemu this
//! would measure the emulator, and the same code is soaked natively here.

mod support;

use std::time::{Duration, Instant};

use lambda_libc_mock::{Event, Fault, Script};
use support::{Bin, echo_bootstraps, noise, summary};

/// A small, seeded generator (xorshift64*): the run is reproducible from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// What the script did to one event, for the report.
#[derive(Default, Debug)]
struct Counts {
    chunked: usize,
    split: usize,
    byte_by_byte: usize,
    close_after_answer: usize,
    reset_after_answer: usize,
    connection_close: usize,
    http10: usize,
    dropped_stale: usize,
    bytes: usize,
}

/// The events, the id and body each answered event must echo (`None`: a dropped one,
/// consumed with no answer), and what was injected. The largest events come first, so the memory
/// high-water mark is reached before it is first measured.
/// An answered event's request id and body, or `None` for a dropped one.
type Expected = Option<(String, Vec<u8>)>;

fn script(n: usize, rng: &mut Rng) -> (Vec<Event>, Vec<Expected>, Counts) {
    let mut c = Counts::default();
    let (mut events, mut expected) = (Vec::with_capacity(n), Vec::with_capacity(n));
    // The connection the next `/next` goes out on is a reused one (a stale-connection drop
    // is only retried then; on a fresh connection it is fatal, as it must be).
    let mut reused = false;
    for i in 0..n {
        let size = match i {
            0..3 => 6_000_000 - i * 1000,
            3..23 => 1 << 20,
            _ => match rng.below(10_000) {
                0..5 => 256 * 1024 + rng.below(4096) as usize,
                5..100 => 64 * 1024 - rng.below(4096) as usize,
                100..500 => 0,
                _ => rng.below(3000) as usize,
            },
        };
        let id = format!("soak-{i:06}");
        if reused && i > 23 && rng.below(500) == 0 {
            // A sacrificial event: its `/next` reply never comes; the runtime retries on a
            // fresh connection and gets the next event.
            events.push(
                Event::json(b"dropped".to_vec()).request_id(format!("{id}-dropped")).fault(Fault::CloseBeforeResponse),
            );
            expected.push(None);
            c.dropped_stale += 1;
        }
        let body = noise(size, i as u64);
        c.bytes += size;
        let mut e = Event::json(body.clone()).request_id(id.clone());
        reused = true;
        match rng.below(100) {
            0..20 => {
                let chunk = 1 + rng.below(if size > 65536 { 65536 } else { 4096 }) as usize;
                e = e.chunked([chunk]);
                c.chunked += 1;
            }
            20..21 if size < 4096 && rng.below(10) == 0 => {
                e = e.fault(Fault::SplitAt(vec![1 + rng.below(60) as usize]));
                c.split += 1;
            }
            21..23 if size < 512 => {
                e = e.fault(Fault::ByteByByte);
                c.byte_by_byte += 1;
            }
            23..26 => {
                e = e.answer_fault(Fault::CloseAfterResponse);
                c.close_after_answer += 1;
                reused = false;
            }
            26..28 => {
                e = e.answer_fault(Fault::ResetAfterResponse);
                c.reset_after_answer += 1;
                reused = false;
            }
            28..30 => {
                e = e.fault(Fault::ConnectionClose);
                c.connection_close += 1;
                reused = false;
            }
            30..31 => {
                e = e.fault(Fault::Http10);
                c.http10 += 1;
                reused = false;
            }
            _ => {}
        }
        events.push(e);
        expected.push(Some((id, body)));
    }
    (events, expected, c)
}

/// `VmHWM` of a process, in KiB.
fn vm_hwm_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("read /proc/<pid>/status");
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).expect("VmHWM in /proc/<pid>/status");
    line.trim_start_matches("VmHWM:").trim().trim_end_matches("kB").trim().parse().expect("VmHWM value")
}

fn soak(bin: &Bin, n: usize, seed: u64) {
    let mut rng = Rng(seed | 1);
    let (events, expected, counts) = script(n, &mut rng);
    let answered: usize = expected.iter().flatten().count();
    let server = lambda_libc_mock::MockServer::start(Script::new().events(events)).expect("start the mock");
    let started = Instant::now();
    let mut proc = bin.spawn(&server.runtime_api());
    let warm_after = 10_000.min(answered);
    proc.wait_for_answers_within(&server, warm_after, Duration::from_secs(120));
    let warm = vm_hwm_kib(proc.pid());
    proc.wait_for_answers_within(&server, answered, Duration::from_secs(600));
    let end = vm_hwm_kib(proc.pid());
    let elapsed = started.elapsed();
    let exit = proc.kill();
    exit.assert_quiet();

    let answers = server.answers();
    assert_eq!(answers.len(), answered, "{bin}: seed {seed}: {} answers for {answered} events", answers.len());
    let mut a = answers.iter();
    for (id, body) in expected.iter().flatten() {
        let answer = a.next().expect("counted above");
        assert_eq!(&answer.request_id, id, "{bin}: seed {seed}: answers out of order");
        assert!(answer.body() == &body[..], "{bin}: seed {seed}: {id}: the response is not its event");
        assert_eq!(answer.request.status, Some(202), "{bin}: seed {seed}: {id}");
    }
    let requests = server.requests();
    let posts = requests.iter().filter(|r| r.method == "POST").count();
    assert_eq!(posts, answered, "{bin}: seed {seed}: every event answered once, nothing else posted");
    eprintln!(
        "soak {bin}: seed {seed}: {answered} invocations ({:.1} MB of events) in {:.1?} ({:.0}/s) on {} connections; \
         injected {counts:?}; VmHWM {warm} KiB after {warm_after}, {end} KiB after {answered}",
        counts.bytes as f64 / 1e6,
        elapsed,
        answered as f64 / elapsed.as_secs_f64(),
        server.connections(),
    );
    assert!(
        end.saturating_sub(warm) < 128,
        "{bin}: seed {seed}: VmHWM grew from {warm} KiB to {end} KiB\n{}",
        summary(&requests[requests.len().saturating_sub(4)..])
    );
}

#[test]
fn a_hundred_thousand_invocations_with_faults_lose_nothing() {
    let n = std::env::var("LAMBDA_LIBC_SOAK_N").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let seed = std::env::var("LAMBDA_LIBC_SOAK_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(1, |d| d.as_nanos() as u64)
    });
    eprintln!("soak: seed {seed} (LAMBDA_LIBC_SOAK_SEED={seed} replays it), {n} invocations");
    let bins: Vec<Bin> = echo_bootstraps().into_iter().filter(|b| !b.is_emulated()).collect();
    assert!(!bins.is_empty(), "no native echo bootstrap to soak");
    // One thread per bootstrap: they share nothing but the machine's two cores.
    std::thread::scope(|s| {
        for bin in &bins {
            s.spawn(move || soak(bin, n, seed));
        }
    });
}
