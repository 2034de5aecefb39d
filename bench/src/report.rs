//! The outputs: a markdown report (tables, ratios, goals), the JSON and an SVG bar chart of
//! init and warm latency per candidate.

use std::fmt::Write as _;

use serde_json::{Value, json};

use crate::concurrency_bench::ConcurrencyResults;
use crate::stats::ratio;
use crate::{Machine, Measured, Results, Role, Series, Summary};

/// A goal of issue 8, relative to the floor (or absolute, for syscalls).
#[derive(Debug, Clone, PartialEq)]
pub struct Goal {
    pub what: &'static str,
    /// The measured value: a ratio to the floor, or syscalls per invocation.
    pub value: Option<f64>,
    pub limit: f64,
    /// `None` when it could not be measured.
    pub met: Option<bool>,
}

/// The goals for one of our candidates: init <= 1.05x the floor, warm p50 <= 1.10x, 4
/// syscalls per invocation, VmHWM <= 1.10x (all with the small event).
pub fn goals(results: &Results, m: &Measured) -> Vec<Goal> {
    let ours = m.small.summary();
    let floor = results.by_role(Role::Floor).map(|f| f.small.summary()).unwrap_or_default();
    let syscalls = m.small.syscalls.as_ref().map(|c| c.per_invocation());
    let goal =
        |what, value: Option<f64>, limit: f64| Goal { what, value, limit, met: value.map(|v| v <= limit + 1e-9) };
    vec![
        goal("init <= 1.05x the floor", ratio(ours.init_us, floor.init_us), 1.05),
        goal("warm p50 <= 1.10x the floor", ratio(ours.p50_us, floor.p50_us), 1.10),
        Goal { what: "4 syscalls per invocation", value: syscalls, limit: 4.0, met: syscalls.map(|s| s == 4.0) },
        goal("VmHWM <= 1.10x the floor", ratio(ours.vm_hwm_kib, floor.vm_hwm_kib), 1.10),
    ]
}

/// `1234567` as `1,234,567`.
pub fn grouped(n: u64) -> String {
    thousands::Separable::separate_with_commas(&n)
}

/// A figure with about three significant digits (`31.2`, `412`, `30,512`), or `-`.
pub fn fig(v: Option<f64>) -> String {
    match v {
        None => "-".to_owned(),
        Some(v) if v.abs() >= 100.0 => grouped(v.round() as u64),
        Some(v) if v.abs() >= 10.0 => format!("{v:.1}"),
        Some(v) => format!("{v:.2}"),
    }
}

fn times(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_owned(), |v| format!("{v:.2}×"))
}

/// `YYYY-MM-DD HH:MM UTC` for seconds since the Unix epoch (or the seconds themselves, past
/// the year 9999, which jiff does not represent).
pub fn utc(secs: u64) -> String {
    i64::try_from(secs)
        .ok()
        .and_then(|s| jiff::Timestamp::from_second(s).ok())
        .map_or_else(|| format!("{secs} s after the Unix epoch"), |t| t.strftime("%Y-%m-%d %H:%M UTC").to_string())
}

/// ` (floor)` or ` (peer)` after a candidate's name, unless the name says it already.
fn role_suffix(m: &Measured) -> &'static str {
    match m.candidate.role {
        Role::Ours => "",
        role if m.candidate.name == role.as_str() => "",
        Role::Floor => " (floor)",
        Role::Peer => " (peer)",
    }
}

fn label(m: &Measured) -> String {
    format!("`{}`{}", m.candidate.name, role_suffix(m))
}

fn syscalls(s: &Series) -> String {
    s.syscalls.as_ref().map_or_else(|| "-".to_owned(), |c| count(c.per_invocation()))
}

/// A count that may be fractional (an average): `4`, `4.02`.
fn count(v: f64) -> String {
    if v.fract() == 0.0 { format!("{v}") } else { format!("{v:.2}") }
}

fn connections(s: &Summary) -> String {
    match s.connections {
        None => "-".to_owned(),
        Some(n) if s.connections_vary => format!("≤ {n}"),
        Some(n) => n.to_string(),
    }
}

/// The conditions line: when, where, under what load, how much.
pub fn conditions(r: &Results) -> String {
    let m = &r.machine;
    let o = &r.options;
    let cpus = m.pinned_to.iter().map(|c| c.to_string()).collect::<Vec<_>>().join(",");
    let others: Vec<String> = m
        .cpu_busy
        .iter()
        .filter(|(cpu, _)| !m.pinned_to.contains(cpu))
        .map(|(cpu, busy)| format!("CPU {cpu} {:.0} %", busy * 100.0))
        .collect();
    let others =
        if others.is_empty() { String::new() } else { format!(", the other CPUs busy: {}", others.join(", ")) };
    let large = if o.large_invocations >= 2 {
        format!(
            " and {} of a {} MiB chunked event ({} KiB chunks)",
            grouped(o.large_invocations as u64),
            o.large_bytes >> 20,
            o.chunk >> 10
        )
    } else {
        String::new()
    };
    let strace = if o.strace_invocations >= 2 {
        format!(
            "syscalls counted by strace over {} small and {} large invocations",
            o.strace_invocations,
            (o.strace_invocations / 10).max(2)
        )
    } else {
        "no syscall counts".to_owned()
    };
    let callgrind = if o.callgrind_invocations >= 1 {
        format!("; instructions counted by callgrind over {} warm invocations", o.callgrind_invocations)
    } else {
        String::new()
    };
    format!(
        "Measured {} on {} ({} CPUs online, Linux {}), harness and bootstraps pinned to CPU {cpus}; \
         load average (1 min, the bench itself adds about 1) {:.2} before and {:.2} after the {:.0} s run{others}. \
         {} rounds, candidates interleaved, medians of the rounds (init and first invocation: of {} samples each); \
         per run {} invocations of a {}-byte event{large}; {strace}{callgrind}.",
        utc(m.started_unix),
        m.cpu_model,
        m.cpus_online,
        m.kernel,
        m.load_before[0],
        m.load_after[0],
        m.duration_s,
        o.repeats,
        o.repeats * (1 + o.init_samples),
        grouped(o.invocations as u64),
        o.small_bytes,
    )
}

/// The markdown report: conditions, the two tables, ratios, syscall breakdowns, goals.
pub fn markdown(r: &Results) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{}\n", conditions(r));
    let _ = writeln!(s, "**{}-byte event** (`Content-Length`)\n", r.options.small_bytes);
    s.push_str(
        "| candidate | ELF bytes | zip bytes | init µs | 1st invocation µs | warm p50 µs | warm p99 µs | invocations/s \
         | VmHWM KiB | syscalls/invocation | connections |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for m in &r.measured {
        let zip = m.zip_bytes.map_or_else(|| "-".to_owned(), grouped);
        if let Some(why) = &m.failure {
            let _ =
                writeln!(s, "| {} | {} | {zip} | FAILED: {} |||||||||", label(m), grouped(m.elf_bytes), one_line(why));
            continue;
        }
        let x = m.small.summary();
        let _ = writeln!(
            s,
            "| {} | {} | {zip} | {} | {} | {} | {} | {} | {} | {} | {} |",
            label(m),
            grouped(m.elf_bytes),
            fig(x.init_us),
            fig(x.first_us),
            fig(x.p50_us),
            fig(x.p99_us),
            fig(x.per_second),
            fig(x.vm_hwm_kib),
            syscalls(&m.small),
            connections(&x),
        );
    }
    if r.options.large_invocations >= 2 {
        large_table(r, &mut s);
    }
    if r.options.callgrind_invocations >= 1 {
        instructions_table(r, &mut s);
    }
    ratios_and_goals(r, &mut s);
    s
}

fn large_table(r: &Results, s: &mut String) {
    let _ = writeln!(
        s,
        "\n**{} MiB event** (chunked, {} KiB chunks)\n",
        r.options.large_bytes >> 20,
        r.options.chunk >> 10
    );
    s.push_str(
        "| candidate | warm p50 ms | warm p99 ms | invocations/s | VmHWM KiB | syscalls/invocation | connections |\n\
         |---|---:|---:|---:|---:|---:|---:|\n",
    );
    for m in r.measured.iter().filter(|m| m.failure.is_none()) {
        let x = m.large.summary();
        let ms = |v: Option<f64>| fig(v.map(|v| v / 1000.0));
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} |",
            label(m),
            ms(x.p50_us),
            ms(x.p99_us),
            fig(x.per_second),
            fig(x.vm_hwm_kib),
            syscalls(&m.large),
            connections(&x),
        );
    }
}

fn instructions_table(r: &Results, s: &mut String) {
    let _ = writeln!(
        s,
        "\n**Instructions** (callgrind, {}-byte event: for a single-threaded candidate the same in every run, however busy \
         the machine)\n",
        r.options.small_bytes
    );
    s.push_str("| candidate | per warm invocation | / floor | start-up |\n|---|---:|---:|---:|\n");
    let floor = r.by_role(Role::Floor).and_then(|f| f.small.instructions).map(|i| i.per_invocation);
    for m in r.measured.iter().filter(|m| m.failure.is_none()) {
        let i = m.small.instructions;
        let per = i.map(|i| i.per_invocation);
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} |",
            label(m),
            per.map_or_else(|| "-".to_owned(), |v| grouped(v.round() as u64)),
            times(ratio(per, floor)),
            i.map_or_else(|| "-".to_owned(), |i| grouped(i.startup.round() as u64)),
        );
    }
}

fn ratios_and_goals(r: &Results, s: &mut String) {
    let floor = r.by_role(Role::Floor);
    let peer = r.by_role(Role::Peer);
    s.push_str("\n**Ratios** (100-byte event; below 1 is better for us)\n\n");
    s.push_str(
        "| candidate | init / floor | warm p50 / floor | VmHWM / floor | zip / peer | init / peer | warm p50 / peer \
         | VmHWM / peer |\n|---|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    let fs = floor.map(|f| f.small.summary()).unwrap_or_default();
    let ps = peer.map(|p| p.small.summary()).unwrap_or_default();
    let pzip = peer.and_then(|p| p.zip_bytes).map(|z| z as f64);
    for m in r.measured.iter().filter(|m| m.failure.is_none() && m.candidate.role == Role::Ours) {
        let x = m.small.summary();
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            label(m),
            times(ratio(x.init_us, fs.init_us)),
            times(ratio(x.p50_us, fs.p50_us)),
            times(ratio(x.vm_hwm_kib, fs.vm_hwm_kib)),
            times(ratio(m.zip_bytes.map(|z| z as f64), pzip)),
            times(ratio(x.init_us, ps.init_us)),
            times(ratio(x.p50_us, ps.p50_us)),
            times(ratio(x.vm_hwm_kib, ps.vm_hwm_kib)),
        );
    }

    s.push_str("\n**Syscalls per warm invocation**, by name (100-byte / 5 MiB event)\n\n");
    for m in r.measured.iter().filter(|m| m.failure.is_none()) {
        let b = |x: &Series| x.syscalls.as_ref().map_or_else(|| "not measured".to_owned(), |c| c.breakdown());
        let _ = writeln!(s, "- {}: {} / {}", label(m), b(&m.small), b(&m.large));
    }

    s.push_str("\n**Goals** (100-byte event)\n\n");
    for m in r.measured.iter().filter(|m| m.candidate.role == Role::Ours) {
        if m.failure.is_some() {
            let _ = writeln!(s, "- {}: not measured (failed)", label(m));
            continue;
        }
        let parts: Vec<String> = goals(r, m)
            .iter()
            .map(|g| {
                let verdict = match g.met {
                    Some(true) => "met",
                    Some(false) => "**not met**",
                    None => "not measured",
                };
                let value = g.value.map_or_else(String::new, |v| {
                    if g.what.starts_with('4') { format!(" ({})", count(v)) } else { format!(" ({v:.2}×)") }
                });
                format!("{}{value}: {verdict}", g.what)
            })
            .collect();
        let _ = writeln!(s, "- {}: {}", label(m), parts.join("; "));
    }
}

fn one_line(s: &str) -> String {
    let first = s.lines().next().unwrap_or_default().replace('|', "\\|");
    if first.len() > 200 { format!("{}…", &first[..first.floor_char_boundary(200)]) } else { first }
}

fn round1(v: Option<f64>) -> Value {
    v.map_or(Value::Null, |v| json!((v * 10.0).round() / 10.0))
}

fn series_json(s: &Series) -> Value {
    let x = s.summary();
    json!({
        "init_us": round1(x.init_us),
        "init_samples": s.init_us.len(),
        "first_invocation_us": round1(x.first_us),
        "warm_p50_us": round1(x.p50_us),
        "warm_p99_us": round1(x.p99_us),
        "warm_p50_us_range_over_rounds": x.p50_range.map(|(a, b)| json!([round1(Some(a)), round1(Some(b))])),
        "invocations_per_second": round1(x.per_second),
        "vm_hwm_kib": round1(x.vm_hwm_kib),
        "connections": x.connections,
        "syscalls_per_invocation": s.syscalls.as_ref().map(|c| round1(Some(c.per_invocation()))),
        "instructions": s.instructions.map(|i| json!({
            "invocations": i.invocations,
            "per_invocation": round1(Some(i.per_invocation)),
            "startup": i.startup.round(),
        })),
        "syscalls_by_name": s.syscalls.as_ref().map(|c| json!({
            "invocations": c.invocations,
            "total": c.total,
            "by_name": c.by_name,
        })),
        "rounds": s.runs.iter().map(|r| {
            let sorted = crate::stats::sorted(&r.warm_us);
            json!({
                "init_us": round1(Some(r.init_us)),
                "first_invocation_us": round1(Some(r.first_us)),
                "warm_p50_us": round1(crate::stats::percentile(&sorted, 50.0)),
                "warm_p99_us": round1(crate::stats::percentile(&sorted, 99.0)),
                "invocations_per_second": round1(Some(r.per_second)),
                "vm_hwm_kib": r.vm_hwm_kib,
                "connections": r.connections,
            })
        }).collect::<Vec<_>>(),
    })
}

/// The machine a run was measured on, as JSON; `cpus_key` names its CPUs (those the run
/// was pinned to, or those it was allowed).
fn machine_json(m: &Machine, cpus_key: &str) -> Value {
    let mut machine = json!({
        "started_utc": utc(m.started_unix),
        "started_unix": m.started_unix,
        "cpu_model": m.cpu_model,
        "cpus_online": m.cpus_online,
        "kernel": m.kernel,
        "load_average_before": m.load_before,
        "load_average_after": m.load_after,
        "cpu_busy_during_run": m.cpu_busy.iter().map(|(c, b)| json!({"cpu": c, "busy": (b * 1000.0).round() / 1000.0})).collect::<Vec<_>>(),
        "duration_s": round1(Some(m.duration_s)),
    });
    machine[cpus_key] = json!(m.pinned_to);
    machine
}

/// The whole result as JSON (figures rounded to 0.1).
pub fn json(r: &Results) -> Value {
    let m = &r.machine;
    let o = &r.options;
    json!({
        "machine": machine_json(m, "pinned_to_cpus"),
        "options": {
            "rounds": o.repeats,
            "invocations": o.invocations,
            "large_invocations": o.large_invocations,
            "small_event_bytes": o.small_bytes,
            "large_event_bytes": o.large_bytes,
            "large_event_chunk_bytes": o.chunk,
            "strace_invocations": o.strace_invocations,
            "callgrind_invocations": o.callgrind_invocations,
        },
        "meta": r.meta.iter().map(|(k, v)| (k.clone(), json!(v))).collect::<serde_json::Map<_, _>>(),
        "candidates": r.measured.iter().map(|c| json!({
            "name": c.candidate.name,
            "role": c.candidate.role.as_str(),
            "elf_bytes": c.elf_bytes,
            "zip_bytes": c.zip_bytes,
            "failure": c.failure,
            "small_event": if c.failure.is_none() { series_json(&c.small) } else { Value::Null },
            "large_event": if c.failure.is_none() { series_json(&c.large) } else { Value::Null },
            "goals": if c.candidate.role == Role::Ours && c.failure.is_none() {
                goals(r, c).iter().map(|g| json!({
                    "goal": g.what, "value": g.value.map(|v| (v * 1000.0).round() / 1000.0), "limit": g.limit, "met": g.met,
                })).collect::<Vec<_>>()
            } else { Vec::new() },
        })).collect::<Vec<_>>(),
    })
}

/// The concurrency bench's conditions line and table (docs/BENCHMARKS.md, "Concurrency").
pub fn concurrency_markdown(r: &ConcurrencyResults) -> String {
    let m = &r.machine;
    let o = &r.options;
    let cpus = m.pinned_to.iter().map(|c| c.to_string()).collect::<Vec<_>>().join(",");
    let busy: Vec<String> = m.cpu_busy.iter().map(|(cpu, busy)| format!("CPU {cpu} {:.0} %", busy * 100.0)).collect();
    let workers = o.workers.iter().map(|n| n.to_string()).collect::<Vec<_>>().join(", ");
    let mut s = format!(
        "Measured {} on {} ({} CPUs online, Linux {}), not pinned: harness and bootstraps may run on CPUs {cpus}, \
         so throughput cannot scale past {} workers here; load average (1 min) {:.2} before and {:.2} after the \
         {:.0} s run, CPUs busy during it: {}. {} rounds, runs interleaved, medians of the rounds; per run {} \
         invocations of a {}-byte event in a closed loop (every `GET /next` answered at once), with {workers} \
         workers (`AWS_LAMBDA_MAX_CONCURRENCY`; 1 is the single loop, no fork); the floor serves one invocation \
         at a time. `/ floor` is the median of the rounds' ratios, not the ratio of the medians shown.\n\n",
        utc(m.started_unix),
        m.cpu_model,
        m.cpus_online,
        m.kernel,
        m.pinned_to.len(),
        m.load_before[0],
        m.load_after[0],
        m.duration_s,
        busy.join(", "),
        o.repeats,
        grouped(o.invocations as u64),
        o.event_bytes,
    );
    s.push_str(
        "| candidate | workers | invocations/s | / floor | VmHWM per worker KiB, max | mean | supervisor VmHWM KiB \
         | all processes KiB | connections |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for p in &r.points {
        let name = format!("`{}`", p.candidate.name);
        if let Some(why) = &p.failure {
            let _ = writeln!(s, "| {name} | {} | FAILED: {} |||||||", p.workers, one_line(why));
            continue;
        }
        let x = r.summary(p);
        let _ = writeln!(
            s,
            "| {name} | {} | {} | {} | {} | {} | {} | {} | {} |",
            p.workers,
            fig(x.per_second),
            times(x.over_floor),
            fig(x.worker_max_kib),
            fig(x.worker_mean_kib),
            fig(x.supervisor_kib),
            fig(x.total_kib),
            x.connections.map_or_else(|| "-".to_owned(), |c| c.to_string()),
        );
    }
    s
}

/// The concurrency bench as JSON (figures rounded to 0.1), with every round's values.
pub fn concurrency_json(r: &ConcurrencyResults) -> Value {
    let m = &r.machine;
    let o = &r.options;
    json!({
        "machine": machine_json(m, "allowed_cpus"),
        "options": {
            "rounds": o.repeats,
            "invocations": o.invocations,
            "event_bytes": o.event_bytes,
            "workers": o.workers,
            "env": o.env.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>(),
        },
        "meta": r.meta.iter().map(|(k, v)| (k.clone(), json!(v))).collect::<serde_json::Map<_, _>>(),
        "points": r.points.iter().map(|p| {
            let x = r.summary(p);
            json!({
                "name": p.candidate.name,
                "role": p.candidate.role.as_str(),
                "workers": p.workers,
                "failure": p.failure,
                "invocations_per_second": round1(x.per_second),
                "over_floor": x.over_floor.map(|v| (v * 1000.0).round() / 1000.0),
                "worker_vm_hwm_kib_max": round1(x.worker_max_kib),
                "worker_vm_hwm_kib_mean": round1(x.worker_mean_kib),
                "supervisor_vm_hwm_kib": round1(x.supervisor_kib),
                "all_processes_vm_hwm_kib": round1(x.total_kib),
                "rounds": p.runs.iter().map(|run| json!({
                    "invocations_per_second": round1(Some(run.per_second)),
                    "process_vm_hwm_kib": run.process_vm_hwm_kib,
                    "children_vm_hwm_kib": run.children_vm_hwm_kib,
                    "connections": run.connections,
                })).collect::<Vec<_>>(),
            })
        }).collect::<Vec<_>>(),
    })
}

/// Picks one figure of a summary.
type Figure = fn(&Summary) -> Option<f64>;

fn xml(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A horizontal bar chart, two panels: init (spawn to the first `/next`) and warm p50 round
/// trip with the small event, one bar per candidate that has figures.
pub fn svg(r: &Results) -> String {
    let rows: Vec<(&Measured, Summary)> =
        r.measured.iter().filter(|m| m.failure.is_none()).map(|m| (m, m.small.summary())).collect();
    let (width, left, right, bar, gap) = (760.0, 230.0, 90.0, 18.0, 6.0);
    let panel_h = 30.0 + rows.len() as f64 * (bar + gap) + 14.0;
    let height = 40.0 + 2.0 * panel_h + 24.0;
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" \
         font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"12\" y=\"22\" font-size=\"15\" font-weight=\"bold\">lambda-libc bench: {}-byte event, medians of {} \
         rounds (shorter is better)</text>\n",
        r.options.small_bytes, r.options.repeats
    );
    let panels: [(&str, Figure); 2] =
        [("init: spawn to the first /next (µs)", |x| x.init_us), ("warm round trip p50 (µs)", |x| x.p50_us)];
    for (p, (title, value)) in panels.iter().enumerate() {
        let top = 40.0 + p as f64 * panel_h;
        let max = rows.iter().filter_map(|(_, x)| value(x)).fold(0.0, f64::max);
        let _ = writeln!(s, "<text x=\"12\" y=\"{}\" font-weight=\"bold\">{}</text>", top + 16.0, xml(title));
        for (i, (m, x)) in rows.iter().enumerate() {
            let y = top + 28.0 + i as f64 * (bar + gap);
            let v = value(x).unwrap_or(0.0);
            let w = if max > 0.0 { (width - left - right) * v / max } else { 0.0 };
            let color = match m.candidate.role {
                Role::Ours => "#2b7bb9",
                Role::Floor => "#8c8c8c",
                Role::Peer => "#d9822b",
            };
            let role = role_suffix(m);
            let _ = writeln!(
                s,
                "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}{role}</text>\n\
                 <rect x=\"{left}\" y=\"{y}\" width=\"{w:.1}\" height=\"{bar}\" fill=\"{color}\"/>\n\
                 <text x=\"{:.1}\" y=\"{}\">{}</text>",
                left - 8.0,
                y + 13.0,
                xml(&m.candidate.name),
                left + w + 6.0,
                y + 13.0,
                fig(value(x)),
            );
        }
    }
    let _ = writeln!(
        s,
        "<text x=\"12\" y=\"{}\" font-size=\"10\" fill=\"#555\">{}</text>\n</svg>",
        height - 10.0,
        xml(&format!(
            "{}, pinned to CPU {:?}, load average {:.2} → {:.2}; cargo xtask bench",
            utc(r.machine.started_unix),
            r.machine.pinned_to,
            r.machine.load_before[0],
            r.machine.load_after[0]
        ))
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::Run;
    use crate::{Candidate, Machine, Options};

    fn run(init: f64, warm: f64, hwm: u64) -> Run {
        Run {
            init_us: init,
            first_us: warm * 3.0,
            warm_us: vec![warm; 10],
            per_second: 1e6 / warm,
            vm_hwm_kib: Some(hwm),
            connections: 1,
            pid: 1,
        }
    }

    fn measured(name: &str, role: Role, init: f64, warm: f64, hwm: u64, syscalls: usize) -> Measured {
        let runs = vec![run(init, warm, hwm), run(init * 3.0, warm, hwm), run(init, warm * 2.0, hwm)];
        let series = Series {
            init_us: runs.iter().map(|r| r.init_us).collect(),
            first_us: runs.iter().map(|r| r.first_us).collect(),
            runs,
            syscalls: Some(crate::strace::Count {
                invocations: 10,
                total: syscalls * 10,
                by_name: [("read".to_owned(), syscalls * 10)].into(),
            }),
            instructions: Some(crate::callgrind::Instructions {
                invocations: 200,
                per_invocation: warm * 500.0,
                startup: init * 300.0,
            }),
        };
        Measured {
            candidate: Candidate { name: name.to_owned(), role, elf: "/x".into(), zip: None },
            elf_bytes: 12_000,
            zip_bytes: Some(6_500),
            small: series.clone(),
            large: series,
            failure: None,
        }
    }

    fn results() -> Results {
        let mut broken = measured("broken", Role::Ours, 1.0, 1.0, 1, 4);
        broken.failure = Some("answer 1 is not the event | x".to_owned());
        Results {
            machine: Machine {
                pinned_to: vec![1],
                started_unix: 1_795_478_400,
                cpu_busy: vec![(0, 0.031), (1, 0.998)],
                ..Machine::default()
            },
            options: Options::default(),
            measured: vec![
                measured("ours", Role::Ours, 400.0, 30.0, 800, 4),
                measured("floor", Role::Floor, 400.0, 25.0, 780, 4),
                measured("peer", Role::Peer, 1200.0, 60.0, 3000, 9),
                broken,
            ],
            meta: vec![("rustc".to_owned(), "1.95.0".to_owned())],
        }
    }

    #[test]
    fn goals_against_the_floor() {
        let r = results();
        let g = goals(&r, &r.measured[0]);
        assert_eq!(g[0].value, Some(1.0));
        assert_eq!(g[0].met, Some(true));
        assert_eq!(g[1].value, Some(1.2));
        assert_eq!(g[1].met, Some(false));
        assert_eq!((g[2].value, g[2].met), (Some(4.0), Some(true)));
        assert_eq!(g[3].met, Some(true));
    }

    #[test]
    fn markdown_has_every_candidate_and_the_goals() {
        let md = markdown(&results());
        assert!(md.contains("| `ours` | 12,000 | 6,500 | 400 | 90.0 | 30.0 | 30.0 |"), "{md}");
        assert!(md.contains("| `floor` |") && md.contains("| `peer` |"), "{md}");
        assert!(md.contains("FAILED: answer 1 is not the event \\| x"), "{md}");
        assert!(md.contains("| `ours` | 1.00× | 1.20× | 1.03× | 1.00× | 0.33× | 0.50× | 0.27× |"), "{md}");
        assert!(md.contains("warm p50 <= 1.10x the floor (1.20×): **not met**"), "{md}");
        assert!(md.contains("4 syscalls per invocation (4): met"), "{md}");
        assert!(md.contains("| `ours` | 15,000 | 1.20× | 120,000 |"), "{md}");
        assert!(md.contains("| `floor` | 12,500 | 1.00× | 120,000 |"), "{md}");
        assert!(md.contains("instructions counted by callgrind over 200 warm invocations."), "{md}");
        assert!(md.contains("Measured 2026-11-24 00:00 UTC"), "{md}");
        assert!(md.contains("the other CPUs busy: CPU 0 3 %."), "{md}");
    }

    #[test]
    fn json_and_svg() {
        let r = results();
        let j = json(&r);
        assert_eq!(j["candidates"][0]["small_event"]["warm_p50_us"], 30.0);
        assert_eq!(j["candidates"][0]["small_event"]["instructions"]["per_invocation"], 15_000.0);
        assert_eq!(j["options"]["callgrind_invocations"], 200);
        assert_eq!(j["candidates"][0]["small_event"]["rounds"].as_array().unwrap().len(), 3);
        assert_eq!(j["candidates"][0]["goals"][1]["met"], false);
        assert_eq!(j["candidates"][3]["small_event"], Value::Null);
        assert_eq!(j["meta"]["rustc"], "1.95.0");
        let svg = svg(&r);
        assert!(svg.starts_with("<svg ") && svg.trim_end().ends_with("</svg>"));
        assert_eq!(svg.matches("<rect ").count(), 1 + 2 * 3, "background + two panels of three bars");
        assert!(!svg.contains("broken"));
    }

    #[test]
    fn formatting() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(6_538), "6,538");
        assert_eq!(grouped(1_234_567), "1,234,567");
        assert_eq!(fig(Some(31.24)), "31.2");
        assert_eq!(fig(Some(4.0)), "4.00");
        assert_eq!(fig(Some(30_512.4)), "30,512");
        assert_eq!(fig(None), "-");
        assert_eq!(utc(0), "1970-01-01 00:00 UTC");
        assert_eq!(utc(951_782_400 + 3_660), "2000-02-29 01:01 UTC");
        assert_eq!(utc(1_796_611_680 + 59), "2026-12-07 02:48 UTC", "minutes, not rounded");
        assert_eq!(utc(u64::MAX), "18446744073709551615 s after the Unix epoch");
    }
}
