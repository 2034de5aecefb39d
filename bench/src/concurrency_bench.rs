//! The concurrency bench: the floor's single loop, and every other candidate at each number
//! of workers, each a [`concurrency::run`] per round, interleaved in a shuffled order in
//! every round; the figures are medians of the rounds, and the ratio to the floor is taken
//! within each round before its median.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::concurrency::{self, ConcurrentRun, Load};
use crate::run::Launch;
use crate::{Candidate, Machine, Role, cpu_busy, cpu_times, load_average, order, protocol, stats};

/// How much the concurrency bench measures.
#[derive(Debug, Clone)]
pub struct ConcurrencyOptions {
    /// Rounds over every candidate and number of workers.
    pub repeats: usize,
    /// Invocations per run.
    pub invocations: usize,
    /// The size of the (JSON) event.
    pub event_bytes: usize,
    /// The numbers of workers (`AWS_LAMBDA_MAX_CONCURRENCY`) each candidate but the floor
    /// runs with; the floor serves one invocation at a time and runs once per round.
    pub workers: Vec<usize>,
    /// Variables added to every candidate's environment (e.g. `FIXTURE_LOOP=run`).
    pub env: Vec<(String, String)>,
    /// Where the candidates' output goes.
    pub log_dir: PathBuf,
}

impl Default for ConcurrencyOptions {
    fn default() -> Self {
        ConcurrencyOptions {
            repeats: 5,
            invocations: 20_000,
            event_bytes: 100,
            workers: vec![1, 2, 4],
            env: Vec::new(),
            log_dir: std::env::temp_dir().join("lambda-libc-bench"),
        }
    }
}

/// One candidate at one number of workers, and its runs (one per round).
#[derive(Debug, Clone)]
pub struct Point {
    pub candidate: Candidate,
    pub workers: usize,
    pub runs: Vec<ConcurrentRun>,
    /// Why it was dropped, if a run failed: a failed point has no figures.
    pub failure: Option<String>,
}

/// A point's figures: medians over its rounds. Memory is in KiB.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PointSummary {
    pub per_second: Option<f64>,
    /// Invocations per second over the floor's in the same round.
    pub over_floor: Option<f64>,
    /// The largest and the mean `VmHWM` of the processes that served (the workers, or the
    /// single loop).
    pub worker_max_kib: Option<f64>,
    pub worker_mean_kib: Option<f64>,
    /// The supervisor's `VmHWM`, when there is one.
    pub supervisor_kib: Option<f64>,
    /// The sum of every process's `VmHWM` (pages shared between processes count in each).
    pub total_kib: Option<f64>,
    /// The processes that served in each run (the fewest seen).
    pub serving_processes: Option<usize>,
    /// TCP connections per run (the most seen).
    pub connections: Option<usize>,
}

/// The whole concurrency bench.
#[derive(Debug, Clone)]
pub struct ConcurrencyResults {
    pub machine: Machine,
    pub options: ConcurrencyOptions,
    pub points: Vec<Point>,
    /// Free-form facts from the caller (tool versions, build notes), shown in the JSON.
    pub meta: Vec<(String, String)>,
}

impl ConcurrencyResults {
    /// The floor's point, if it has figures.
    pub fn floor(&self) -> Option<&Point> {
        self.points.iter().find(|p| p.candidate.role == Role::Floor && p.failure.is_none())
    }

    /// The figures of `point`.
    pub fn summary(&self, point: &Point) -> PointSummary {
        let runs = &point.runs;
        let median =
            |f: &dyn Fn(&ConcurrentRun) -> Option<f64>| stats::median(&runs.iter().filter_map(f).collect::<Vec<f64>>());
        let mean = |v: &[u64]| (!v.is_empty()).then(|| v.iter().sum::<u64>() as f64 / v.len() as f64);
        let over_floor: Vec<f64> = match self.floor() {
            Some(floor) => runs.iter().zip(&floor.runs).map(|(r, f)| r.per_second / f.per_second).collect(),
            None => Vec::new(),
        };
        PointSummary {
            per_second: median(&|r| Some(r.per_second)),
            over_floor: stats::median(&over_floor),
            worker_max_kib: median(&|r| r.worker_vm_hwm_kib().into_iter().max().map(|k| k as f64)),
            worker_mean_kib: median(&|r| mean(&r.worker_vm_hwm_kib())),
            supervisor_kib: median(&|r| r.supervisor_vm_hwm_kib().map(|k| k as f64)),
            total_kib: median(&|r| {
                let workers = r.worker_vm_hwm_kib();
                (!workers.is_empty())
                    .then(|| (workers.iter().sum::<u64>() + r.supervisor_vm_hwm_kib().unwrap_or(0)) as f64)
            }),
            serving_processes: runs.iter().map(|r| r.worker_vm_hwm_kib().len()).min(),
            connections: runs.iter().map(|r| r.connections).max(),
        }
    }

    /// Writes `concurrency.json` and `concurrency.md` into `dir`.
    pub fn write(&self, dir: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        let json =
            serde_json::to_string_pretty(&crate::report::concurrency_json(self)).map_err(std::io::Error::other)?;
        std::fs::write(dir.join("concurrency.json"), json + "\n")?;
        std::fs::write(dir.join("concurrency.md"), crate::report::concurrency_markdown(self))?;
        Ok(())
    }
}

/// The points of `candidates`: the floor with one worker, each other candidate with each of
/// `workers`, in the order given.
pub fn points(candidates: &[Candidate], workers: &[usize]) -> Vec<Point> {
    let point = |c: &Candidate, workers| Point { candidate: c.clone(), workers, runs: Vec::new(), failure: None };
    candidates
        .iter()
        .flat_map(|c| match c.role {
            Role::Floor => vec![point(c, 1)],
            _ => workers.iter().map(|&n| point(c, n)).collect(),
        })
        .collect()
}

/// Measures every point: a short warm-up run each (discarded), then `repeats` rounds, each
/// running every point once in its own shuffled [`order`]. A point whose run fails is
/// dropped with the reason; the others go on. `progress` gets one line per step.
pub fn bench_concurrency(
    candidates: &[Candidate],
    options: &ConcurrencyOptions,
    progress: &mut dyn FnMut(&str),
) -> ConcurrencyResults {
    let mut machine = Machine::observe();
    let cpu_before = cpu_times();
    let started = std::time::Instant::now();
    std::fs::create_dir_all(&options.log_dir).ok();
    let event = protocol::json_event(options.event_bytes);
    let mut points = points(candidates, &options.workers);
    for p in &mut points {
        p.candidate.elf = std::fs::canonicalize(&p.candidate.elf).unwrap_or_else(|_| p.candidate.elf.clone());
        let _ = std::fs::remove_file(log_path(options, p));
        if !p.candidate.elf.is_file() {
            p.failure = Some(format!("{} does not exist", p.candidate.elf.display()));
        }
    }
    let launch = |p: &Point| Launch {
        env: options.env.clone(),
        timeout: Duration::from_secs(300),
        ..Launch::new(&p.candidate.elf, &log_path(options, p))
    };
    let load = |p: &Point, invocations: usize| Load { event: event.clone(), invocations, workers: p.workers };

    for p in points.iter_mut().filter(|p| p.failure.is_none()) {
        progress(&format!("concurrency warm-up: {} with {} workers", p.candidate.name, p.workers));
        let invocations = (options.invocations / 10).max(p.workers * 10);
        if let Err(e) = concurrency::run(&launch(p), &load(p, invocations)) {
            p.failure = Some(format!("warm-up run: {e}"));
        }
    }
    for round in 0..options.repeats {
        progress(&format!("concurrency round {}/{}", round + 1, options.repeats));
        for k in order(points.len(), (round as u64) << 32 | 0xC0) {
            let p = &mut points[k];
            if p.failure.is_some() {
                continue;
            }
            match concurrency::run(&launch(p), &load(p, options.invocations)) {
                Ok(run) => p.runs.push(run),
                Err(e) => p.failure = Some(format!("round {}: {e}", round + 1)),
            }
        }
    }

    machine.load_after = load_average();
    machine.cpu_busy = cpu_busy(&cpu_before, &cpu_times());
    machine.duration_s = started.elapsed().as_secs_f64();
    ConcurrencyResults { machine, options: options.clone(), points, meta: Vec::new() }
}

fn log_path(o: &ConcurrencyOptions, p: &Point) -> PathBuf {
    o.log_dir.join(format!("{}.concurrency-{}.log", p.candidate.name, p.workers))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(name: &str, role: Role) -> Candidate {
        Candidate { name: name.into(), role, elf: PathBuf::from(name), zip: None }
    }

    fn run(workers: usize, per_second: f64, process: u64, children: &[u64]) -> ConcurrentRun {
        ConcurrentRun {
            workers,
            per_second,
            process_vm_hwm_kib: Some(process),
            children_vm_hwm_kib: children.to_vec(),
            connections: workers,
        }
    }

    #[test]
    fn the_floor_runs_once_and_the_others_at_every_count() {
        let c = [candidate("fixture", Role::Ours), candidate("floor", Role::Floor)];
        let seen: Vec<(String, usize)> =
            points(&c, &[1, 2, 4]).into_iter().map(|p| (p.candidate.name, p.workers)).collect();
        let expected = [("fixture", 1), ("fixture", 2), ("fixture", 4), ("floor", 1)];
        assert_eq!(seen, expected.map(|(n, w)| (n.to_owned(), w)));
    }

    #[test]
    fn summaries_per_worker_and_over_the_floor_of_the_same_round() {
        let c = [candidate("fixture", Role::Ours), candidate("floor", Role::Floor)];
        let mut points = points(&c, &[1, 2]);
        points[0].runs = vec![run(1, 900.0, 1000, &[]), run(1, 1100.0, 1200, &[])];
        points[1].runs = vec![run(2, 1800.0, 500, &[1000, 1200]), run(2, 1600.0, 500, &[1100, 1100])];
        points[2].runs = vec![run(1, 1000.0, 1100, &[]), run(1, 800.0, 1100, &[])];
        let results = ConcurrencyResults {
            machine: Machine::default(),
            options: ConcurrencyOptions::default(),
            points,
            meta: Vec::new(),
        };
        let single = results.summary(&results.points[0]);
        assert_eq!(single.per_second, Some(1000.0));
        assert_eq!(single.over_floor, Some((0.9 + 1100.0 / 800.0) / 2.0));
        assert_eq!((single.worker_max_kib, single.worker_mean_kib), (Some(1100.0), Some(1100.0)));
        assert_eq!((single.supervisor_kib, single.serving_processes), (None, Some(1)));
        let two = results.summary(&results.points[1]);
        assert_eq!(two.over_floor, Some((1.8 + 2.0) / 2.0));
        assert_eq!((two.worker_max_kib, two.worker_mean_kib), (Some(1150.0), Some(1100.0)));
        assert_eq!((two.supervisor_kib, two.total_kib, two.serving_processes), (Some(500.0), Some(2700.0), Some(2)));
    }
}
