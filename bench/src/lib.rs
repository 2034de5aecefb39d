//! The benchmark harness of `cargo xtask bench`: plays the Lambda Runtime API on loopback
//! and measures bootstraps (see docs/BENCHMARKS.md for the method).
//!
//! * [`protocol`]: the events, the `/next` responses, the request parser;
//! * [`run`]: one run of one candidate, timed from the server's side;
//! * [`concurrency`]: one run of a candidate with N worker processes, one server thread per
//!   connection, N invocations in flight;
//! * [`concurrency_bench`]: the floor and the workers' runs, interleaved across repeats;
//! * [`strace`]: syscalls per warm invocation from an `strace -f` log;
//! * [`callgrind`]: instructions per warm invocation, counted by callgrind;
//! * [`stats`]: medians and percentiles;
//! * [`report`]: the markdown table, the JSON and the SVG chart;
//! * [`bench`]: every candidate, interleaved across repeats, summarised by medians.
//!
//! Timings are measured, never asserted: the tests check that the harness works, not how
//! fast anything is.

pub mod callgrind;
pub mod concurrency;
pub mod concurrency_bench;
pub mod protocol;
pub mod report;
pub mod run;
pub mod stats;
pub mod strace;

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use protocol::Framing;
use run::{Launch, Run, Workload};

/// A command-line `NAME=VALUE`, split at its first `=` (the binaries' `--ours`, `--env`,
/// `--meta`).
pub fn parse_pair(pair: &str) -> Result<(String, String), String> {
    let (name, value) = pair.split_once('=').ok_or("expected NAME=VALUE")?;
    Ok((name.to_owned(), value.to_owned()))
}

/// What a candidate is, for the ratios and the goals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// One of this project's bootstraps: the goals apply to it.
    Ours,
    /// The hand-written C loop the goals are relative to.
    Floor,
    /// The runtime users compare us with (`lambda_runtime`).
    Peer,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Ours => "ours",
            Role::Floor => "floor",
            Role::Peer => "peer",
        }
    }
}

/// A bootstrap to measure.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub name: String,
    pub role: Role,
    pub elf: PathBuf,
    /// Its deployment zip, if it has one.
    pub zip: Option<PathBuf>,
}

/// How much to measure.
#[derive(Debug, Clone)]
pub struct Options {
    /// Rounds over all candidates; every figure is the median of the rounds.
    pub repeats: usize,
    /// Invocations per run with the small event.
    pub invocations: usize,
    /// Invocations per run with the large event.
    pub large_invocations: usize,
    pub small_bytes: usize,
    pub large_bytes: usize,
    /// Chunk size of the large event's chunked encoding.
    pub chunk: usize,
    /// Extra runs of two invocations per candidate and round, for more samples of init and
    /// of the first invocation (each small run gives one as well).
    pub init_samples: usize,
    /// Invocations of the strace runs (0: no strace).
    pub strace_invocations: usize,
    /// Warm invocations counted by callgrind, with the small event (0: no callgrind).
    pub callgrind_invocations: usize,
    /// Where the candidates' logs (stdout, stderr) and strace outputs go.
    pub log_dir: PathBuf,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            repeats: 7,
            invocations: 5_000,
            large_invocations: 200,
            small_bytes: 100,
            large_bytes: 5 << 20,
            chunk: 32 * 1024,
            init_samples: 20,
            strace_invocations: 200,
            callgrind_invocations: 200,
            log_dir: std::env::temp_dir().join("lambda-libc-bench"),
        }
    }
}

/// All runs of one candidate with one event size.
#[derive(Debug, Clone, Default)]
pub struct Series {
    pub runs: Vec<Run>,
    /// Init and first-invocation samples: one per run, plus the extra short runs.
    pub init_us: Vec<f64>,
    pub first_us: Vec<f64>,
    pub syscalls: Option<strace::Count>,
    /// Instructions per warm invocation (small event only).
    pub instructions: Option<callgrind::Instructions>,
}

impl Series {
    fn push(&mut self, run: Run) {
        self.init_us.push(run.init_us);
        self.first_us.push(run.first_us);
        self.runs.push(run);
    }
}

/// A series' figures: medians over its runs.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub init_us: Option<f64>,
    pub first_us: Option<f64>,
    pub p50_us: Option<f64>,
    pub p99_us: Option<f64>,
    pub per_second: Option<f64>,
    pub vm_hwm_kib: Option<f64>,
    /// Connections per run (the largest seen; see `connections_vary`).
    pub connections: Option<usize>,
    pub connections_vary: bool,
    /// The smallest and largest per-run p50: the spread across repeats.
    pub p50_range: Option<(f64, f64)>,
}

impl Series {
    pub fn summary(&self) -> Summary {
        let med = |f: &dyn Fn(&Run) -> Option<f64>| stats::median(&self.runs.iter().filter_map(f).collect::<Vec<_>>());
        let p50s: Vec<f64> =
            self.runs.iter().filter_map(|r| stats::percentile(&stats::sorted(&r.warm_us), 50.0)).collect();
        let conns = self.runs.iter().map(|r| r.connections);
        Summary {
            init_us: stats::median(&self.init_us),
            first_us: stats::median(&self.first_us),
            p50_us: stats::median(&p50s),
            p99_us: med(&|r| stats::percentile(&stats::sorted(&r.warm_us), 99.0)),
            per_second: med(&|r| Some(r.per_second)),
            vm_hwm_kib: med(&|r| r.vm_hwm_kib.map(|k| k as f64)),
            connections: conns.clone().max(),
            connections_vary: conns.clone().min() != conns.max(),
            p50_range: p50s.iter().copied().reduce(f64::min).zip(p50s.iter().copied().reduce(f64::max)),
        }
    }
}

/// One candidate's results.
#[derive(Debug, Clone)]
pub struct Measured {
    pub candidate: Candidate,
    pub elf_bytes: u64,
    pub zip_bytes: Option<u64>,
    pub small: Series,
    pub large: Series,
    /// Why it was dropped, if a run failed: a failed candidate has no figures.
    pub failure: Option<String>,
}

/// Where and how the figures were taken.
#[derive(Debug, Clone, Default)]
pub struct Machine {
    pub cpu_model: String,
    pub kernel: String,
    pub cpus_online: usize,
    /// The CPUs this process (and so every candidate) may run on.
    pub pinned_to: Vec<usize>,
    /// `/proc/loadavg`'s 1, 5 and 15 minute averages before and after.
    pub load_before: [f64; 3],
    pub load_after: [f64; 3],
    /// How busy each CPU was during the bench (`/proc/stat`, 0..=1): the pinned one is
    /// busy with the bench itself; the others show what the rest of the machine did.
    pub cpu_busy: Vec<(usize, f64)>,
    /// Seconds since the Unix epoch when the bench started.
    pub started_unix: u64,
    pub duration_s: f64,
}

impl Machine {
    pub fn observe() -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu_model = cpuinfo
            .lines()
            .find(|l| l.starts_with("model name"))
            .and_then(|l| l.split_once(':'))
            .map_or_else(|| "unknown".to_owned(), |(_, v)| v.trim().to_owned());
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default().trim().to_owned();
        Machine {
            cpu_model,
            kernel,
            // SAFETY: sysconf has no preconditions.
            cpus_online: unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) }.max(0) as usize,
            pinned_to: pinned_cpus(),
            load_before: load_average(),
            load_after: [0.0; 3],
            cpu_busy: Vec::new(),
            started_unix: SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()),
            duration_s: 0.0,
        }
    }
}

/// The whole benchmark.
#[derive(Debug, Clone)]
pub struct Results {
    pub machine: Machine,
    pub options: Options,
    pub measured: Vec<Measured>,
    /// Free-form facts from the caller (tool versions, build notes), shown in the JSON.
    pub meta: Vec<(String, String)>,
}

/// Per-CPU `(busy, total)` jiffies from `/proc/stat` (busy: all but idle and iowait).
pub fn cpu_times() -> Vec<(usize, u64, u64)> {
    let text = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    text.lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let cpu: usize = f.next()?.strip_prefix("cpu")?.parse().ok()?;
            let v: Vec<u64> = f.filter_map(|x| x.parse().ok()).collect();
            let total: u64 = v.iter().take(8).sum();
            let idle = v.get(3).copied().unwrap_or(0) + v.get(4).copied().unwrap_or(0);
            Some((cpu, total - idle, total))
        })
        .collect()
}

/// The busy fraction of each CPU between two [`cpu_times`].
pub fn cpu_busy(before: &[(usize, u64, u64)], after: &[(usize, u64, u64)]) -> Vec<(usize, f64)> {
    after
        .iter()
        .filter_map(|&(cpu, busy, total)| {
            let &(_, b0, t0) = before.iter().find(|b| b.0 == cpu)?;
            let dt = total.saturating_sub(t0);
            (dt > 0).then(|| (cpu, busy.saturating_sub(b0) as f64 / dt as f64))
        })
        .collect()
}

/// `/proc/loadavg`'s three averages.
pub fn load_average() -> [f64; 3] {
    let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let mut v = text.split_whitespace().map(|f| f.parse().unwrap_or(f64::NAN));
    [v.next().unwrap_or(f64::NAN), v.next().unwrap_or(f64::NAN), v.next().unwrap_or(f64::NAN)]
}

/// The CPUs this process may run on (`sched_getaffinity`).
pub fn pinned_cpus() -> Vec<usize> {
    // SAFETY: cpu_set_t is plain data (a bit array), valid when zeroed.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: `set` is a live, writable cpu_set_t of the size given; the call writes at most
    // that many bytes.
    if unsafe { libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) } != 0 {
        return Vec::new();
    }
    // SAFETY: `c` is below CPU_SETSIZE, the number of CPUs a cpu_set_t holds.
    (0..libc::CPU_SETSIZE as usize).filter(|&c| unsafe { libc::CPU_ISSET(c, &set) }).collect()
}

fn workloads(o: &Options) -> (Workload, Workload) {
    let small = Workload {
        event: protocol::json_event(o.small_bytes),
        framing: Framing::ContentLength,
        invocations: o.invocations,
    };
    let large = Workload {
        event: protocol::json_event(o.large_bytes),
        framing: Framing::Chunked(o.chunk),
        invocations: o.large_invocations,
    };
    (small, large)
}

fn log_path(o: &Options, c: &Candidate, what: &str) -> PathBuf {
    o.log_dir.join(format!("{}.{what}", c.name))
}

/// What a wrapper (strace, valgrind) wrote.
fn read_log(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// The order of `n` candidates in one pass: a shuffle seeded by `seed` (xorshift,
/// Fisher-Yates), so that over the passes every candidate follows every other about
/// equally often. (A rotation would not do: it keeps who follows whom, and a candidate
/// spawned right after a heavier one that was just killed pays for its teardown.)
pub fn order(n: usize, seed: u64) -> Vec<usize> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03;
    let mut v: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v.swap(i, (x % (i as u64 + 1)) as usize);
    }
    v
}

/// Measures every candidate: a warm-up run each (discarded), then `repeats` rounds, each
/// running every candidate with the small event, then every candidate with the large one,
/// then `init_samples` passes of short runs, each pass in its own shuffled [`order`]; then
/// one strace run per candidate and size, and two callgrind runs per candidate with the small
/// event.
/// A candidate whose run fails is dropped with the reason; the others go on. `progress`
/// gets one line per step.
pub fn bench(candidates: &[Candidate], options: &Options, progress: &mut dyn FnMut(&str)) -> Results {
    let mut machine = Machine::observe();
    let cpu_before = cpu_times();
    let started = std::time::Instant::now();
    std::fs::create_dir_all(&options.log_dir).ok();
    let (small, large) = workloads(options);
    let mut measured: Vec<Measured> = candidates
        .iter()
        .map(|c| Candidate { elf: std::fs::canonicalize(&c.elf).unwrap_or_else(|_| c.elf.clone()), ..c.clone() })
        .map(|c| Measured {
            elf_bytes: std::fs::metadata(&c.elf).map_or(0, |m| m.len()),
            zip_bytes: c.zip.as_ref().and_then(|z| std::fs::metadata(z).ok()).map(|m| m.len()),
            candidate: c,
            small: Series::default(),
            large: Series::default(),
            failure: None,
        })
        .collect();
    for m in &mut measured {
        let _ = std::fs::remove_file(log_path(options, &m.candidate, "log"));
        if !m.candidate.elf.is_file() {
            m.failure = Some(format!("{} does not exist", m.candidate.elf.display()));
        }
    }

    let launch = |c: &Candidate| Launch::new(&c.elf, &log_path(options, c, "log"));
    let warm_up = Workload { invocations: 20.min(options.invocations).max(2), ..small.clone() };
    for m in measured.iter_mut().filter(|m| m.failure.is_none()) {
        progress(&format!("warm-up: {}", m.candidate.name));
        if let Err(e) = run::run(&launch(&m.candidate), &warm_up) {
            m.failure = Some(format!("warm-up run: {e}"));
        }
    }

    let n = measured.len();
    for round in 0..options.repeats {
        for (size, work) in [("small", &small), ("large", &large)] {
            if work.invocations < 2 {
                continue;
            }
            for k in order(n, (round as u64) << 32 | (size == "large") as u64) {
                let m = &mut measured[k];
                if m.failure.is_some() {
                    continue;
                }
                progress(&format!("round {}/{}: {} event: {}", round + 1, options.repeats, size, m.candidate.name));
                match run::run(&launch(&m.candidate), work) {
                    Ok(r) if size == "small" => m.small.push(r),
                    Ok(r) => m.large.push(r),
                    Err(e) => m.failure = Some(format!("{size} event, round {}: {e}", round + 1)),
                }
            }
        }
        let short = Workload { invocations: 2, ..small.clone() };
        progress(&format!("round {}/{}: {} init samples each", round + 1, options.repeats, options.init_samples));
        for j in 0..options.init_samples {
            for k in order(n, (round as u64) << 32 | (j as u64 + 2)) {
                let m = &mut measured[k];
                if m.failure.is_some() {
                    continue;
                }
                match run::run(&launch(&m.candidate), &short) {
                    Ok(r) => {
                        m.small.init_us.push(r.init_us);
                        m.small.first_us.push(r.first_us);
                    }
                    Err(e) => m.failure = Some(format!("init sample, round {}: {e}", round + 1)),
                }
            }
        }
    }

    let wrapped = |program: &str, args: Vec<String>, c: &Candidate| Launch {
        program: PathBuf::from(program),
        args: args.into_iter().chain([c.elf.to_string_lossy().into_owned()]).collect(),
        log: log_path(options, c, "log"),
        timeout: Duration::from_secs(300),
        env: Vec::new(),
    };
    if options.strace_invocations >= 2 && strace::available() {
        for m in measured.iter_mut().filter(|m| m.failure.is_none()) {
            for (size, work) in [("small", &small), ("large", &large)] {
                if work.invocations < 2 {
                    continue;
                }
                let n =
                    if size == "small" { options.strace_invocations } else { (options.strace_invocations / 10).max(2) };
                let work = Workload { invocations: n, ..work.clone() };
                progress(&format!("strace: {} event: {}", size, m.candidate.name));
                let output = log_path(options, &m.candidate, &format!("strace-{size}"));
                let count = run::run(&wrapped("strace", strace::args(&output), &m.candidate), &work)
                    .and_then(|_| strace::count(&read_log(&output)?, n));
                match count {
                    Ok(c) if size == "small" => m.small.syscalls = Some(c),
                    Ok(c) => m.large.syscalls = Some(c),
                    Err(e) => progress(&format!("strace of {} ({size}) failed: {e}", m.candidate.name)),
                }
            }
        }
    } else if options.strace_invocations >= 2 {
        progress("strace is not installed: no syscall counts");
    }

    if options.callgrind_invocations >= 1 && callgrind::available() {
        for m in measured.iter_mut().filter(|m| m.failure.is_none()) {
            progress(&format!("callgrind: small event: {}", m.candidate.name));
            let total = |n: usize| {
                let output = log_path(options, &m.candidate, &format!("callgrind-{n}"));
                let work = Workload { invocations: n, ..small.clone() };
                run::run(&wrapped("valgrind", callgrind::args(&output), &m.candidate), &work)?;
                callgrind::total(&read_log(&output)?)
            };
            let n = options.callgrind_invocations;
            let counted =
                total(callgrind::BASE).and_then(|base| callgrind::instructions(base, total(callgrind::BASE + n)?, n));
            match counted {
                Ok(i) => m.small.instructions = Some(i),
                Err(e) => progress(&format!("callgrind of {} failed: {e}", m.candidate.name)),
            }
        }
    } else if options.callgrind_invocations >= 1 {
        progress("valgrind is not installed: no instruction counts");
    }

    machine.load_after = load_average();
    machine.cpu_busy = cpu_busy(&cpu_before, &cpu_times());
    machine.duration_s = started.elapsed().as_secs_f64();
    Results { machine, options: options.clone(), measured, meta: Vec::new() }
}

impl Results {
    pub fn by_role(&self, role: Role) -> Option<&Measured> {
        self.measured.iter().find(|m| m.candidate.role == role && m.failure.is_none())
    }

    /// Writes `results.json`, `results.md` and `latency.svg` into `dir`.
    pub fn write(&self, dir: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        let json = serde_json::to_string_pretty(&report::json(self)).map_err(std::io::Error::other)?;
        std::fs::write(dir.join("results.json"), json + "\n")?;
        std::fs::write(dir.join("results.md"), report::markdown(self))?;
        std::fs::write(dir.join("latency.svg"), report::svg(self))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn orders_are_permutations_that_vary() {
        let mut firsts = [0; 4];
        for seed in 0..400 {
            let mut o = super::order(4, seed);
            firsts[o[0]] += 1;
            o.sort_unstable();
            assert_eq!(o, [0, 1, 2, 3]);
        }
        assert!(firsts.iter().all(|&f| f > 60), "each candidate comes first about a quarter of the time: {firsts:?}");
        assert_eq!(super::order(0, 1), Vec::<usize>::new());
    }

    #[test]
    fn cpu_busy_fractions() {
        let before = [(0, 10, 100), (1, 50, 100)];
        let after = [(0, 20, 200), (1, 150, 200), (2, 5, 10)];
        assert_eq!(super::cpu_busy(&before, &after), vec![(0, 0.1), (1, 1.0)]);
        assert!(super::cpu_times().iter().all(|&(_, busy, total)| busy <= total));
    }
}
