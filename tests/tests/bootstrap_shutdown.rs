//! Graceful shutdown: a fixture started with `FIXTURE_SHUTDOWN` registers an internal
//! extension before its first `/next`; at `SIGTERM` (sent by the mock as Lambda does) its
//! callback runs and it exits 0; a callback past the budget ends in status 1 before
//! Lambda's `SIGKILL`; a `SIGTERM` during an invocation lets it be answered first. Without
//! the opt-in, no extension is registered.

mod support;

use std::os::unix::process::ExitStatusExt;
use std::time::Duration;

use lambda_libc_mock::{Event, MockServer, Route, Script, ShutdownOutcome};
use support::{Proc, echo_bootstraps, fixtures, idle, workers_of};

/// Lambda's grace period for a runtime with an internal extension.
const GRACE: Duration = Duration::from_millis(500);
const CALLBACK_RAN: &str = "fixture: shutdown callback ran";

/// Whether the process `pid` (its main thread) sleeps in `nanosleep` (as the fixture's
/// `sleep:MS` handler does; under qemu-user too, which makes the host's call).
fn in_nanosleep(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/wchan")).is_ok_and(|w| w.contains("nanosleep"))
}

/// The extension is registered before the first `/next`, and its `/event/next` is parked
/// (sent on a connection of its own, before the first `/next`, though the mock's threads
/// may record the two in either order).
fn assert_registered_first(proc: &mut Proc, server: &MockServer) {
    let bin = proc.bin.clone();
    proc.wait_for(server, "park the extension's /event/next", || server.outstanding_extension_next() == 1);
    let routes: Vec<Route> = server.requests().into_iter().map(|r| r.route).collect();
    assert_eq!(routes.first(), Some(&Route::ExtensionRegister), "{bin}: {routes:?}");
    assert_eq!(routes.iter().filter(|r| **r == Route::ExtensionNext).count(), 1, "{bin}: {routes:?}");
    assert_eq!(server.extensions_registered(), 1, "{bin}");
}

#[test]
fn sigterm_runs_the_callback_and_exits_0() {
    for bin in fixtures() {
        let (server, mut proc) = bin.start_env(Script::new().event(Event::json(b"{}")), &[("FIXTURE_SHUTDOWN", "ok")]);
        proc.wait_until(&server, "wait in its second /next", idle);
        assert_registered_first(&mut proc, &server);
        assert_eq!(server.shutdown(proc.pid(), GRACE).unwrap(), ShutdownOutcome::Sigterm, "{bin}");
        let exit = proc.wait();
        assert_eq!(exit.status.code(), Some(0), "{bin}: {:?}; stderr:\n{}", exit.status, exit.stderr);
        assert_eq!(exit.stderr.lines().collect::<Vec<_>>(), [CALLBACK_RAN], "{bin}");
    }
}

#[test]
fn a_callback_past_the_budget_exits_1_before_lambda_kills_it() {
    for bin in fixtures() {
        let (server, mut proc) = bin.start_env(Script::new(), &[("FIXTURE_SHUTDOWN", "slow")]);
        proc.wait_until(&server, "wait in its first /next", idle);
        assert_eq!(server.shutdown(proc.pid(), GRACE).unwrap(), ShutdownOutcome::Sigterm, "{bin}");
        let exit = proc.wait();
        exit.assert_failed(
            "shutdown: not done within 400 ms of SIGTERM (the invocation running then, or the callback): exiting",
        );
        assert!(!exit.stderr.contains(CALLBACK_RAN), "{bin}: the callback was cut short");
    }
}

#[test]
fn sigterm_during_an_invocation_lets_it_be_answered_first() {
    for bin in fixtures() {
        let env = [("FIXTURE_SHUTDOWN", "ok"), ("FIXTURE_LOOP", "run")];
        let (server, mut proc) = bin.start_env(Script::new().event(Event::json(b"sleep:300").request_id("busy")), &env);
        // In the handler's sleep, not only handed the event: a SIGTERM while the runtime still
        // reads the `/next` response would find it waiting (docs/design.md, "Shutdown").
        let pid = proc.pid();
        proc.wait_for(&server, "sleep in its handler", || in_nanosleep(pid));
        assert_eq!(server.shutdown(proc.pid(), GRACE).unwrap(), ShutdownOutcome::Sigterm, "{bin}");
        let exit = proc.wait();
        assert_eq!(exit.status.code(), Some(0), "{bin}: {:?}; stderr:\n{}", exit.status, exit.stderr);
        let answers = server.answers();
        assert_eq!(answers.len(), 1, "{bin}");
        assert_eq!((answers[0].request_id.as_str(), &*answers[0].body_str()), ("busy", "slept:300"), "{bin}");
        assert!(exit.stderr.contains(CALLBACK_RAN), "{bin}: {}", exit.stderr);
    }
}

#[test]
fn every_worker_runs_the_callback() {
    for bin in fixtures() {
        let env = [("FIXTURE_SHUTDOWN", "ok"), ("FIXTURE_LOOP", "run"), ("AWS_LAMBDA_MAX_CONCURRENCY", "3")];
        let (server, mut proc) = bin.start_env(Script::new(), &env);
        proc.wait_parked(&server, 3);
        assert_eq!(server.extensions_registered(), 1, "{bin}: one extension for the environment");
        assert_eq!(server.shutdown(proc.pid(), GRACE).unwrap(), ShutdownOutcome::Sigterm, "{bin}");
        let exit = proc.wait();
        assert_eq!(exit.status.code(), Some(0), "{bin}: {:?}; stderr:\n{}", exit.status, exit.stderr);
        assert_eq!(exit.stderr.matches(CALLBACK_RAN).count(), 3, "{bin}: {}", exit.stderr);
    }
}

#[test]
fn without_the_opt_in_no_extension_and_lambda_kills() {
    for bin in echo_bootstraps().into_iter().chain(fixtures()) {
        let (server, mut proc) = bin.start_env(Script::new(), &[]);
        proc.wait_until(&server, "wait in its first /next", idle);
        assert_eq!(server.extensions_registered(), 0, "{bin}");
        assert_eq!(server.shutdown(proc.pid(), GRACE).unwrap(), ShutdownOutcome::Sigkill, "{bin}");
        let exit = proc.wait();
        assert_eq!(exit.status.signal(), Some(9), "{bin}: {:?}", exit.status);
    }
}

#[test]
fn with_workers_sigterm_during_an_invocation_lets_it_be_answered_first() {
    for bin in fixtures() {
        let env = [("FIXTURE_SHUTDOWN", "ok"), ("FIXTURE_LOOP", "run"), ("AWS_LAMBDA_MAX_CONCURRENCY", "2")];
        let (server, mut proc) = bin.start_env(Script::new(), &env);
        proc.wait_parked(&server, 2);
        server.push_event(Event::json(b"sleep:300").request_id("busy"));
        let pid = proc.pid();
        proc.wait_for(&server, "have a worker sleep in its handler", || workers_of(pid).into_iter().any(in_nanosleep));
        assert_eq!(server.shutdown(pid, GRACE).unwrap(), ShutdownOutcome::Sigterm, "{bin}");
        let exit = proc.wait();
        assert_eq!(exit.status.code(), Some(0), "{bin}: {:?}; stderr:\n{}", exit.status, exit.stderr);
        let answers = server.answers();
        assert_eq!(answers.len(), 1, "{bin}");
        assert_eq!((answers[0].request_id.as_str(), &*answers[0].body_str()), ("busy", "slept:300"), "{bin}");
        assert_eq!(exit.stderr.matches(CALLBACK_RAN).count(), 2, "{bin}: {}", exit.stderr);
    }
}

#[test]
fn with_workers_callbacks_past_the_budget_end_the_supervisor_with_1() {
    for bin in fixtures() {
        let env = [("FIXTURE_SHUTDOWN", "slow"), ("FIXTURE_LOOP", "run"), ("AWS_LAMBDA_MAX_CONCURRENCY", "2")];
        let (server, mut proc) = bin.start_env(Script::new(), &env);
        proc.wait_parked(&server, 2);
        assert_eq!(server.shutdown(proc.pid(), GRACE).unwrap(), ShutdownOutcome::Sigterm, "{bin}");
        let exit = proc.wait();
        exit.assert_exit_1();
        let overran =
            exit.diagnostics().into_iter().filter(|l| l.starts_with("shutdown: not done within 400 ms")).count();
        assert_eq!(overran, 2, "{bin}: each worker's budget ran out; stderr:\n{}", exit.stderr);
    }
}
