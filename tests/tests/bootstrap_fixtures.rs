//! The fixture bootstraps (`tests/fixtures`): handler errors, panics, init errors, the
//! response buffer's limits, the invocation context and unanswered invocations; and the C
//! API's answers to misuse (`fixture-c`).

mod support;

use std::collections::BTreeMap;

use lambda_libc_mock::{
    AnswerKind, EXAMPLE_CLIENT_CONTEXT, EXAMPLE_COGNITO_IDENTITY, EXAMPLE_TENANT_ID, Event, MAX_PAYLOAD_SIZE,
    MockServer, Route, Script,
};
use support::{
    Bin, LAMBDA_E_NULL, LAMBDA_E_STATE, LAMBDA_OK, assert_error, assert_error_document, assert_response,
    assert_responses, assert_routes, c_fixtures, fixtures, rust_fixtures, statuses, summary,
};

fn ev(id: &str, body: impl Into<Vec<u8>>) -> Event {
    Event::json(body).request_id(id)
}

/// The header names and values of a request, names lower-cased, sorted.
fn header_names(r: &lambda_libc_mock::Request) -> Vec<String> {
    let mut h: Vec<String> = r.headers.iter().map(|(n, _)| n.to_ascii_lowercase()).collect();
    h.sort();
    h
}

#[test]
fn error_is_posted_with_an_escaped_message() {
    for bin in fixtures() {
        let (server, _) = bin.echo_run(Script::new().events([
            ev("e1", "error").invocation_id("inv-e1"),
            ev("e2", "error"),
            ev("after", "fine"),
        ]));
        let answers = server.answers();
        assert_eq!(answers.len(), 3, "{bin}: {}", summary(&server.requests()));
        for (a, id) in answers.iter().zip(["e1", "e2"]) {
            let v = assert_error(&bin, a, id, "Function.Failed");
            assert_eq!(v["errorMessage"], "bad \"input\"\n\ttab \\ é \u{1}", "{bin}: {}", a.body_str());
            assert_eq!(a.status(), Some(202), "{bin}");
        }
        assert_eq!(answers[0].header("Lambda-Runtime-Invocation-Id"), Some("inv-e1"), "{bin}");
        assert_eq!(answers[1].header("Lambda-Runtime-Invocation-Id"), None, "{bin}");
        assert_eq!(
            header_names(&answers[0].request),
            [
                "content-length",
                "content-type",
                "host",
                "lambda-runtime-function-error-type",
                "lambda-runtime-invocation-id",
                "user-agent"
            ],
            "{bin}: the /error headers, exactly"
        );
        assert_eq!(answers[0].request.header("Host"), Some(server.runtime_api().as_str()), "{bin}");
        assert_response(&bin, &answers[2], "after", b"fine", "the event after the errors");
    }
}

#[test]
fn an_invalid_error_type_is_reported_as_function_unknown() {
    for bin in fixtures() {
        let (server, _) = bin.echo_run(Script::new().events([ev("b1", "badtype"), ev("after", "x")]));
        let answers = server.answers();
        assert_eq!(answers.len(), 2, "{bin}: {}", summary(&server.requests()));
        let v = assert_error(&bin, &answers[0], "b1", "Function.Unknown");
        assert_eq!(v["errorMessage"], "x", "{bin}");
        assert_response(&bin, &answers[1], "after", b"x", "after badtype");
    }
}

#[test]
fn a_handler_panic_is_reported_then_the_process_exits() {
    for bin in rust_fixtures() {
        let (server, exit) = bin.run_to_exit(Script::new().events([
            ev("ok", "fine"),
            ev("p1", "panic").invocation_id("inv-p1"),
            ev("never", "x"),
        ]));
        exit.assert_failed("panic: handler panicked");
        let answers = server.answers();
        assert_eq!(answers.len(), 2, "{bin}: {}", summary(&server.requests()));
        assert_response(&bin, &answers[0], "ok", b"fine", "before the panic");
        let v = assert_error(&bin, &answers[1], "p1", "Runtime.Panic");
        let msg = v["errorMessage"].as_str().unwrap();
        assert!(msg.contains("handler panicked") && msg.contains("src/main.rs"), "{bin}: {msg}");
        assert_eq!(answers[1].header("Lambda-Runtime-Invocation-Id"), Some("inv-p1"), "{bin}");
        assert_eq!(answers[1].status(), Some(202), "{bin}");
        let reqs = server.requests();
        assert_eq!(reqs.len(), 4, "{bin}: nothing after the panic report:\n{}", summary(&reqs));
        assert_eq!(reqs.last().unwrap().route, Route::Error("p1".into()), "{bin}");
    }
}

fn init_run(bin: &Bin, mode: &str) -> (MockServer, support::Exit) {
    let server = MockServer::start(Script::new().event(ev("never", "x"))).unwrap();
    let exit = bin.spawn_env(&[("AWS_LAMBDA_RUNTIME_API", &server.runtime_api()), ("FIXTURE_INIT", mode)]).wait();
    (server, exit)
}

fn the_init_error(bin: &Bin, server: &MockServer) -> lambda_libc_mock::Request {
    let reqs = server.requests();
    assert_eq!(reqs.len(), 1, "{bin}: one /init/error and no /next:\n{}", summary(&reqs));
    let r = reqs[0].clone();
    assert_eq!(r.route, Route::InitError, "{bin}");
    assert_eq!((r.method.as_str(), r.target.as_str()), ("POST", "/2018-06-01/runtime/init/error"), "{bin}");
    assert_eq!(r.status, Some(202), "{bin}");
    assert_eq!(r.header("Lambda-Runtime-Invocation-Id"), None, "{bin}");
    r
}

#[test]
fn an_init_error_is_posted_to_init_error_then_the_process_exits() {
    for bin in fixtures() {
        let (server, exit) = init_run(&bin, "error");
        exit.assert_failed("init error: Function.InitFailed");
        let r = the_init_error(&bin, &server);
        let v = assert_error_document(&bin, &r, "Function.InitFailed");
        assert_eq!(v["errorMessage"], "cannot start: \"config\" missing", "{bin}");
    }
}

#[test]
fn an_init_panic_is_posted_to_init_error_then_the_process_exits() {
    for bin in rust_fixtures() {
        let (server, exit) = init_run(&bin, "panic");
        exit.assert_failed("panic: init panicked");
        let r = the_init_error(&bin, &server);
        let v = assert_error_document(&bin, &r, "Runtime.Panic");
        let msg = v["errorMessage"].as_str().unwrap();
        assert!(msg.contains("init panicked") && msg.contains("src/main.rs"), "{bin}: {msg}");
    }
}

#[test]
fn writing_past_the_response_buffer_is_a_response_size_error() {
    for bin in fixtures() {
        let (server, _) = bin.echo_run(Script::new().events([ev("o1", "overflow"), ev("after", "x")]));
        let answers = server.answers();
        assert_eq!(answers.len(), 2, "{bin}: {}", summary(&server.requests()));
        assert_error(&bin, &answers[0], "o1", "Function.ResponseSizeTooLarge");
        assert_response(&bin, &answers[1], "after", b"x", "after overflow");
    }
}

#[test]
fn a_response_filling_the_buffer_exactly_is_accepted() {
    for bin in fixtures() {
        let (server, _) = bin.echo_run(Script::new().events([ev("f1", "fill"), ev("after", "x")]));
        assert_responses(
            &bin,
            &server,
            &[("f1".into(), vec![b'f'; MAX_PAYLOAD_SIZE]), ("after".into(), b"x".to_vec())],
        );
    }
}

/// The fixture's `context` answer as name → value.
fn context_lines(bin: &Bin, body: &[u8]) -> BTreeMap<String, String> {
    let text = std::str::from_utf8(body).unwrap_or_else(|_| panic!("{bin}: context answer is not UTF-8"));
    text.lines()
        .map(|l| {
            let (n, v) = l.split_once('=').unwrap_or_else(|| panic!("{bin}: not name=value: {l:?}"));
            (n.to_owned(), v.to_owned())
        })
        .collect()
}

#[test]
fn the_context_has_every_header_as_sent() {
    for bin in fixtures() {
        let (server, _) = bin.echo_run(Script::new().events([
            ev("ctx-all", "context").with_all_context().content_type("application/vnd.test+json"),
            ev("ctx-min", "context").remove_header("Lambda-Runtime-Trace-Id"),
            ev("ctx-past", "context").deadline_ms(1_000_000_000_000),
            ev("ctx-none", "context").remove_header("Lambda-Runtime-Deadline-Ms"),
        ]));
        let reqs = server.requests();
        let answers = server.answers();
        assert_eq!(answers.len(), 4, "{bin}: {}", summary(&reqs));
        let served = |i: usize| reqs.iter().find(|r| r.route == Route::Next && r.event == Some(i)).expect("served");
        let header = |i: usize, name: &str| served(i).response_header(name).unwrap_or("").to_owned();
        for (i, a) in answers.iter().enumerate() {
            assert_eq!(a.kind, AnswerKind::Response, "{bin}: {}", a.body_str());
            let got = context_lines(&bin, a.body());
            let mut want = BTreeMap::new();
            for (field, name) in [
                ("request_id", "Lambda-Runtime-Aws-Request-Id"),
                ("invoked_function_arn", "Lambda-Runtime-Invoked-Function-Arn"),
                ("trace_id", "Lambda-Runtime-Trace-Id"),
                ("client_context", "Lambda-Runtime-Client-Context"),
                ("cognito_identity", "Lambda-Runtime-Cognito-Identity"),
                ("tenant_id", "Lambda-Runtime-Aws-Tenant-Id"),
                ("invocation_id", "Lambda-Runtime-Invocation-Id"),
                ("content_type", "Content-Type"),
            ] {
                want.insert(field.to_owned(), header(i, name));
            }
            let deadline = header(i, "Lambda-Runtime-Deadline-Ms");
            want.insert("deadline_ms".to_owned(), if deadline.is_empty() { "0".to_owned() } else { deadline });
            want.insert("remaining_positive".to_owned(), (i == 0 || i == 1).to_string());
            assert_eq!(got, want, "{bin}: event {i}");
        }
        // The example values really were sent (the comparison above is against the mock's record).
        let all = context_lines(&bin, answers[0].body());
        assert_eq!(all["client_context"], EXAMPLE_CLIENT_CONTEXT, "{bin}");
        assert_eq!(all["cognito_identity"], EXAMPLE_COGNITO_IDENTITY, "{bin}");
        assert_eq!(all["tenant_id"], EXAMPLE_TENANT_ID, "{bin}");
        assert_eq!(all["invocation_id"], "inv-ctx-all", "{bin}");
        assert_eq!(all["content_type"], "application/vnd.test+json", "{bin}");
        assert_eq!(context_lines(&bin, answers[1].body())["trace_id"], "", "{bin}");
        assert_eq!(context_lines(&bin, answers[3].body())["deadline_ms"], "0", "{bin}");
    }
}

#[test]
fn the_trace_id_is_exported_per_invocation() {
    const TRACE: &str = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";
    for bin in fixtures() {
        let (server, _) = bin.echo_run(Script::new().events([
            ev("t1", "trace").trace_id(TRACE),
            ev("t2", "trace").remove_header("Lambda-Runtime-Trace-Id"),
            ev("t3", "trace"),
        ]));
        let default = server
            .requests()
            .iter()
            .find(|r| r.event == Some(2))
            .unwrap()
            .response_header("Lambda-Runtime-Trace-Id")
            .unwrap()
            .to_owned();
        assert_responses(
            &bin,
            &server,
            &[("t1".into(), TRACE.as_bytes().to_vec()), ("t2".into(), Vec::new()), ("t3".into(), default.into_bytes())],
        );
    }
}

#[test]
fn an_unanswered_invocation_is_reported_before_the_next_one() {
    for bin in fixtures() {
        let (server, _) = bin.echo_run(Script::new().events([
            ev("n1", "noanswer").invocation_id("inv-n1"),
            ev("n2", "noanswer"),
            ev("after", "answered"),
        ]));
        assert_routes(
            &bin,
            &server,
            &[
                Route::Next,
                Route::Error("n1".into()),
                Route::Next,
                Route::Error("n2".into()),
                Route::Next,
                Route::Response("after".into()),
                Route::Next,
            ],
            "each unanswered invocation is reported before the next /next",
        );
        let answers = server.answers();
        for (a, id) in answers.iter().zip(["n1", "n2"]) {
            let v = assert_error(&bin, a, id, "Runtime.NoResponse");
            assert!(!v["errorMessage"].as_str().unwrap().is_empty(), "{bin}");
        }
        assert_eq!(answers[0].header("Lambda-Runtime-Invocation-Id"), Some("inv-n1"), "{bin}");
        assert_eq!(answers[1].header("Lambda-Runtime-Invocation-Id"), None, "{bin}");
        assert_response(&bin, &answers[2], "after", b"answered", "after noanswer");
    }
}

#[test]
fn run_reports_what_next_left_unanswered_first() {
    for bin in rust_fixtures() {
        let (server, _) = bin.echo_run(Script::new().events([
            ev("r1", "run").invocation_id("inv-r1"),
            ev("r2", "by run"),
            ev("r3", "run"),
        ]));
        assert_routes(
            &bin,
            &server,
            &[
                Route::Next,
                Route::Error("r1".into()),
                Route::Next,
                Route::Response("r2".into()),
                Route::Next,
                Route::Response("r3".into()),
                Route::Next,
            ],
            "the invocation `next` handed out is reported once, then `run` answers",
        );
        let answers = server.answers();
        assert_error(&bin, &answers[0], "r1", "Runtime.NoResponse");
        assert_eq!(answers[0].header("Lambda-Runtime-Invocation-Id"), Some("inv-r1"), "{bin}");
        assert_response(&bin, &answers[1], "r2", b"by run", "answered by run");
        assert_response(&bin, &answers[2], "r3", b"run", "run's echo");
    }
}

#[test]
fn other_events_are_echoed() {
    for bin in fixtures() {
        let bodies: [&[u8]; 6] = [b"hello", b"", b"errors", b"Error", br#"{"command":"panic"}"#, b"panic\n"];
        let expected: Vec<(String, Vec<u8>)> =
            bodies.iter().enumerate().map(|(i, b)| (format!("u{i}"), b.to_vec())).collect();
        let (server, _) = bin.echo_run(Script::new().events(expected.iter().map(|(id, b)| ev(id, b.clone()))));
        assert_responses(&bin, &server, &expected);
    }
}

#[test]
fn c_api_misuse_returns_error_codes_and_changes_nothing() {
    let bins = c_fixtures();
    assert!(!bins.is_empty(), "fixture-c was not built: run `cargo xtask test`");
    for bin in bins {
        let (server, _) =
            bin.echo_run(Script::new().events([ev("m1", "misuse"), ev("m2", "misuse-after"), ev("after", "x")]));
        let answers = server.answers();
        assert_eq!(answers.len(), 3, "{bin}: one answer each, nothing extra:\n{}", summary(&server.requests()));
        assert_eq!(answers[0].kind, AnswerKind::Response, "{bin}");
        let before = statuses(&bin, answers[0].body());
        let want_before = [
            ("next_inside_handler", LAMBDA_E_STATE),
            ("next_null", LAMBDA_E_NULL),
            ("run_null", LAMBDA_E_NULL),
            ("run_inside_handler", LAMBDA_E_STATE),
            ("write_null", LAMBDA_E_NULL),
            ("write_empty_null", LAMBDA_OK),
            ("respond_null", LAMBDA_E_NULL),
            ("fail_null_type", LAMBDA_E_NULL),
            ("fail_null_message", LAMBDA_E_NULL),
            ("export_trace_null", LAMBDA_E_NULL),
            ("remaining_null_is_max", 1),
            ("deadline_null", 0),
        ];
        assert_eq!(before, want_before.iter().map(|&(n, v)| (n.to_owned(), v)).collect(), "{bin}");
        let after = statuses(&bin, answers[1].body());
        let want_after = [
            ("respond", LAMBDA_OK),
            ("respond_again", LAMBDA_E_STATE),
            ("write_after", LAMBDA_E_STATE),
            ("written_after", LAMBDA_E_STATE),
            ("fail_after", LAMBDA_E_STATE),
        ];
        assert_eq!(after, want_after.iter().map(|&(n, v)| (n.to_owned(), v)).collect(), "{bin}");
        assert_response(&bin, &answers[2], "after", b"x", "after the misuse");
    }
}
