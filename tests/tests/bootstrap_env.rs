//! `AWS_LAMBDA_RUNTIME_API`: missing, malformed, unknown or unreachable values end the
//! process with a clear line; IPv4, bracketed IPv6 and `localhost` work.

mod support;

use lambda_libc_mock::{Event, MockServer, Route, Script};
use support::{Bin, assert_responses, closed_port, echo_bootstraps, summary};

fn script() -> Script {
    Script::new()
        .events([Event::json(r#"{"where":"here"}"#).request_id("env-1"), Event::json(b"2").request_id("env-2")])
}

/// Runs `bin` against `server` with `api` as the variable's value: both events echoed, and
/// every request carried `Host: api`.
fn assert_works(bin: &Bin, server: &MockServer, api: &str) {
    let mut proc = bin.spawn(api);
    proc.wait_until(server, "answer both events and wait in /next", support::idle);
    let exit = proc.kill();
    exit.assert_quiet();
    assert_responses(
        bin,
        server,
        &[("env-1".into(), br#"{"where":"here"}"#.to_vec()), ("env-2".into(), b"2".to_vec())],
    );
    let reqs = server.requests();
    assert_eq!(reqs.len(), 5, "{bin}: {}", summary(&reqs));
    for r in &reqs {
        assert_eq!(r.header("Host"), Some(api), "{bin}: {:?}", r.route);
    }
}

#[test]
fn unset_is_fatal() {
    for bin in echo_bootstraps() {
        let exit = bin.spawn_env(&[]).wait();
        exit.assert_failed("AWS_LAMBDA_RUNTIME_API is not set");
        assert_eq!(exit.diagnostics().len(), 1, "{bin}: {}", exit.stderr);
    }
}

#[test]
fn malformed_values_are_fatal() {
    let long_host = format!("{}:9001", "h".repeat(300));
    let values = [
        "127.0.0.1",
        "127.0.0.1:0",
        "127.0.0.1:99999",
        "127.0.0.1:65536",
        "127.0.0.1:",
        "127.0.0.1:9x",
        "127.0.0.1:+80",
        "[::1]9001",
        "[::1:9001",
        "[]:9001",
        ":9001",
        "",
        long_host.as_str(),
    ];
    for bin in echo_bootstraps() {
        for value in values {
            let exit = bin.spawn_env(&[("AWS_LAMBDA_RUNTIME_API", value)]).wait();
            exit.assert_failed(&format!("AWS_LAMBDA_RUNTIME_API={value} is not host:port or [ipv6]:port"));
        }
    }
}

#[test]
fn an_unknown_host_is_fatal() {
    // No DNS: a resolver library allocates. `localhost` is the one name.
    for bin in echo_bootstraps() {
        for value in
            ["no-such-host.invalid:9001", "[not-an-address]:9001", "[127.0.0.1]:9001", "1.2.3:9001", "::1:9001"]
        {
            let exit = bin.spawn_env(&[("AWS_LAMBDA_RUNTIME_API", value)]).wait();
            exit.assert_failed(&format!(
                "AWS_LAMBDA_RUNTIME_API={value}: the host is neither an IP address nor localhost"
            ));
        }
    }
}

#[test]
fn a_refused_connection_is_fatal() {
    for bin in echo_bootstraps() {
        let api = format!("127.0.0.1:{}", closed_port());
        let exit = bin.spawn(&api).wait();
        exit.assert_failed("GET /2018-06-01/runtime/invocation/next: cannot connect");
    }
}

#[test]
fn an_ipv6_literal_works() {
    for bin in echo_bootstraps() {
        let server = MockServer::start_ipv6(script()).expect("bind the mock on [::1] (IPv6 loopback)");
        let api = server.runtime_api();
        assert!(api.starts_with("[::1]:"), "{api}");
        assert_works(&bin, &server, &api);
    }
}

#[test]
fn localhost_is_the_ipv4_loopback() {
    for bin in echo_bootstraps() {
        let server = MockServer::start(script()).expect("bind the mock on 127.0.0.1");
        let api = format!("localhost:{}", server.addr().port());
        assert_works(&bin, &server, &api);
    }
}

#[test]
fn other_variables_do_not_matter() {
    for bin in echo_bootstraps() {
        let server = MockServer::start(script()).unwrap();
        let api = server.runtime_api();
        let mut proc = bin.spawn_env(&[
            ("AWS_LAMBDA_RUNTIME_API", &api),
            ("_HANDLER", "handler.main"),
            ("LAMBDA_TASK_ROOT", "/var/task"),
            ("AWS_LAMBDA_FUNCTION_NAME", "f"),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"),
            ("AWS_LAMBDA_LOG_FORMAT", "JSON"),
            ("_X_AMZN_TRACE_ID", "Root=1-00000000-000000000000000000000000"),
            ("LANG", "C.UTF-8"),
        ]);
        proc.wait_until(&server, "answer both events", support::idle);
        proc.kill().assert_quiet();
        assert_eq!(server.answers().len(), 2, "{bin}");
        assert!(server.requests().iter().all(|r| r.route != Route::NotFound), "{bin}");
    }
}
