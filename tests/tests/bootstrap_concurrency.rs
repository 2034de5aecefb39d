//! Lambda Managed Instances: with `AWS_LAMBDA_MAX_CONCURRENCY` = N > 1 the fixtures (built
//! with the feature `concurrency`, run with `FIXTURE_LOOP=run`) serve N invocations at once
//! in N worker processes, answer in any order, replace a worker that dies or overruns its
//! deadline, take a 410 for a late answer in their stride, and refuse an invalid N.

mod support;

use std::time::{Duration, Instant};

use lambda_libc_mock::{AnswerKind, Event, Exhausted, MockServer, Reply, Route, Script};
use support::{Bin, Proc, fixtures, rust_fixtures, workers_of};

/// Starts `bin` against a mock of `script` with `n` workers asked for (`None`: the
/// variable unset) and the `FIXTURE_LOOP=run` handler.
fn start(bin: &Bin, script: Script, n: Option<&str>) -> (MockServer, Proc) {
    match n {
        Some(n) => bin.start_env(script, &[("FIXTURE_LOOP", "run"), ("AWS_LAMBDA_MAX_CONCURRENCY", n)]),
        None => bin.start_env(script, &[("FIXTURE_LOOP", "run")]),
    }
}

fn ev(id: &str, body: &str) -> Event {
    Event::json(body.as_bytes()).request_id(id)
}

#[test]
fn four_workers_serve_four_slow_events_at_once() {
    const SLEEP: Duration = Duration::from_millis(1500);
    for bin in fixtures() {
        let (server, mut proc) = start(&bin, Script::new(), Some("4"));
        proc.wait_parked(&server, 4);
        let pushed = Instant::now();
        for i in 0..4 {
            server.push_event(ev(&format!("slow-{i}"), &format!("sleep:{}", SLEEP.as_millis())));
        }
        proc.wait_for_answers(&server, 4);
        let took = pushed.elapsed();
        // One at a time would take four sleeps; at once, one and the exchanges.
        assert!(took < SLEEP * 2, "{bin}: 4 events of {SLEEP:?} took {took:?}");
        for answer in server.answers() {
            assert_eq!(answer.kind, AnswerKind::Response, "{bin}: {answer:?}");
            assert_eq!(answer.body_str(), "slept:1500", "{bin}");
        }
        proc.wait_parked(&server, 4);
        assert!(server.max_outstanding_next() >= 4, "{bin}");
        let exit = proc.kill();
        assert!(exit.diagnostics().is_empty(), "{bin}: {}", exit.stderr);
    }
}

#[test]
fn answers_come_in_any_order_matched_by_request_id() {
    for bin in fixtures() {
        let (server, mut proc) = start(&bin, Script::new(), Some("2"));
        proc.wait_parked(&server, 2);
        server.push_event(ev("slow", "sleep:800"));
        server.push_event(ev("fast", "sleep:10"));
        proc.wait_for_answers(&server, 2);
        let answers = server.answers();
        let order: Vec<&str> = answers.iter().map(|a| a.request_id.as_str()).collect();
        assert_eq!(order, ["fast", "slow"], "{bin}");
        assert_eq!(answers[0].body_str(), "slept:10", "{bin}");
        assert_eq!(answers[1].body_str(), "slept:800", "{bin}");
        proc.kill();
    }
}

#[test]
fn each_worker_is_a_process_of_its_own_and_one_is_the_single_loop() {
    for bin in fixtures() {
        for n in [None, Some("1")] {
            let (server, mut proc) = start(&bin, Script::new().event(ev("p", "pid")), n);
            proc.wait_for_answers(&server, 1);
            assert_eq!(server.answers()[0].body_str(), proc.pid().to_string(), "{bin} {n:?}: the process itself");
            proc.wait_parked(&server, 1);
            assert_eq!(server.max_outstanding_next(), 1, "{bin} {n:?}: one /next at a time");
            proc.kill();
        }
        let (server, mut proc) = start(&bin, Script::new(), Some("3"));
        proc.wait_parked(&server, 3);
        for i in 0..3 {
            server.push_event(ev(&format!("p{i}"), "pid"));
        }
        proc.wait_for_answers(&server, 3);
        let pids: std::collections::BTreeSet<String> =
            server.answers().iter().map(|a| a.body_str().into_owned()).collect();
        assert_eq!(pids.len(), 3, "{bin}: three workers, three processes: {pids:?}");
        assert!(!pids.contains(&proc.pid().to_string()), "{bin}: the supervisor serves nothing");
        proc.kill();
    }
}

#[test]
fn a_crashed_worker_is_reported_and_replaced() {
    for bin in fixtures() {
        let (server, mut proc) = start(&bin, Script::new(), Some("2"));
        proc.wait_parked(&server, 2);
        server.push_event(ev("crash", "crash"));
        proc.wait_for_answers(&server, 1);
        let answer = &server.answers()[0];
        assert_eq!((answer.request_id.as_str(), answer.kind), ("crash", AnswerKind::Error), "{bin}");
        assert_eq!(answer.header("lambda-runtime-function-error-type"), Some("Runtime.WorkerDied"), "{bin}");
        assert!(answer.body_str().contains("killed by signal 11"), "{bin}: {}", answer.body_str());
        // The replacement parks a /next beside the other worker's; both serve.
        proc.wait_parked(&server, 2);
        server.push_event(ev("a", "one"));
        server.push_event(ev("b", "two"));
        proc.wait_for_answers(&server, 3);
        let exit = proc.kill();
        exit.assert_diagnostic(": killed by signal 11; replaced");
    }
}

#[test]
fn a_worker_past_its_deadline_and_margin_is_stopped_and_replaced() {
    for bin in fixtures() {
        let (server, mut proc) = start(&bin, Script::new(), Some("2"));
        proc.wait_parked(&server, 2);
        let pushed = Instant::now();
        server.push_event(ev("runaway", "spin").timeout(Duration::from_millis(300)));
        // The runaway worker's slot comes back: two /next parked again.
        proc.wait_for(&server, "replace the runaway worker", || {
            server.served() == 1 && server.outstanding_next() == 2 && pushed.elapsed() > Duration::from_millis(300)
        });
        let took = pushed.elapsed();
        assert!(took >= Duration::from_millis(2300), "{bin}: stopped after {took:?}, before the margin");
        server.push_event(ev("after", "still serving"));
        proc.wait_for_answers(&server, 1);
        assert_eq!(server.answers()[0].request_id, "after", "{bin}: the runaway invocation is not answered");
        let exit = proc.kill();
        exit.assert_diagnostic("stopped, its handler still ran past the deadline and margin; replaced");
    }
}

#[test]
fn a_late_answer_gets_410_which_is_logged_and_passed_over() {
    for bin in fixtures() {
        let (server, mut proc) = start(&bin, Script::new().enforce_deadlines(), Some("2"));
        proc.wait_parked(&server, 2);
        server.push_event(ev("late", "sleep:1000").timeout(Duration::from_millis(200)));
        proc.wait_for_answers(&server, 1);
        let late = server.requests().into_iter().find(|r| r.route == Route::Response("late".into())).unwrap();
        assert_eq!(late.status, Some(410), "{bin}");
        proc.wait_parked(&server, 2);
        server.push_event(ev("next", "on time"));
        proc.wait_for_answers(&server, 2);
        let exit = proc.kill();
        let lines: Vec<_> = exit.diagnostics().into_iter().filter(|l| l.contains("410")).collect();
        assert_eq!(lines.len(), 1, "{bin}: one line for the 410; stderr:\n{}", exit.stderr);
        assert!(lines[0].contains("/late/response"), "{bin}: {}", lines[0]);
    }
}

#[test]
fn an_invalid_concurrency_is_an_init_error() {
    for bin in fixtures() {
        for value in ["0", "abc", "-1", "+2", "1601", "", "4 "] {
            let (server, proc) = start(&bin, Script::new().event(ev("never", "x")), Some(value));
            let exit = proc.wait();
            exit.assert_failed(&format!(
                "init error: Runtime.InvalidConcurrency: AWS_LAMBDA_MAX_CONCURRENCY={value}: not a whole number from 1 to 1600"
            ));
            let reqs = server.requests();
            assert_eq!(reqs.len(), 1, "{bin} {value:?}: only the init error");
            assert_eq!(reqs[0].route, Route::InitError, "{bin} {value:?}");
            assert_eq!(
                reqs[0].header("lambda-runtime-function-error-type"),
                Some("Runtime.InvalidConcurrency"),
                "{bin} {value:?}"
            );
        }
    }
}

#[test]
fn workers_that_cannot_serve_take_the_environment_down() {
    for bin in fixtures() {
        let script = Script::new().when_exhausted(Exhausted::Reply(Reply::error(500, "Fatal", "down")));
        let (_server, proc) = start(&bin, script, Some("2"));
        let exit = proc.wait();
        exit.assert_failed("the Runtime API cannot be served: exiting");
        exit.assert_diagnostic("before its first invocation");
    }
}

#[test]
fn a_worker_killed_before_its_first_invocation_takes_the_environment_down() {
    for bin in fixtures() {
        let (server, mut proc) = start(&bin, Script::new(), Some("2"));
        proc.wait_parked(&server, 2);
        let workers = workers_of(proc.pid());
        assert_eq!(workers.len(), 2, "{bin}: {workers:?}");
        // SAFETY: `kill` takes integers only; the pid is a child of the bootstrap this test runs.
        assert_eq!(unsafe { libc::kill(workers[0] as i32, libc::SIGKILL) }, 0, "{bin}");
        let exit = proc.wait();
        exit.assert_failed("the workers cannot run: exiting");
        exit.assert_diagnostic(": killed by signal 9 before its first invocation");
    }
}

#[test]
fn a_worker_that_exits_in_its_handler_has_the_invocation_reported() {
    for bin in fixtures() {
        let (server, mut proc) = start(&bin, Script::new(), Some("2"));
        proc.wait_parked(&server, 2);
        server.push_event(ev("gone", "exit"));
        proc.wait_for_answers(&server, 1);
        let answer = &server.answers()[0];
        assert_eq!((answer.request_id.as_str(), answer.kind), ("gone", AnswerKind::Error), "{bin}");
        assert_eq!(answer.header("lambda-runtime-function-error-type"), Some("Runtime.WorkerExited"), "{bin}");
        assert!(answer.body_str().contains("exited with status 3"), "{bin}: {}", answer.body_str());
        proc.wait_parked(&server, 2);
        let exit = proc.kill();
        exit.assert_diagnostic(": exited with status 3; replaced");
    }
}

#[test]
fn workers_started_before_run_are_not_started_again() {
    for bin in rust_fixtures() {
        let env = [("FIXTURE_LOOP", "start-then-run"), ("AWS_LAMBDA_MAX_CONCURRENCY", "2")];
        let (server, mut proc) = bin.start_env(Script::new(), &env);
        proc.wait_parked(&server, 2);
        // Room for more to park, if any worker forked again.
        std::thread::sleep(Duration::from_millis(300));
        assert_eq!(server.outstanding_next(), 2, "{bin}");
        assert_eq!(workers_of(proc.pid()).len(), 2, "{bin}");
        proc.kill();
    }
}
