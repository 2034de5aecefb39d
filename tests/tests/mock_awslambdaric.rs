//! Faithfulness: AWS's own Python runtime interface client (`awslambdaric`, whose native
//! part is aws-lambda-cpp over libcurl) runs a whole session against the mock.
//!
//! Needs `python3` on PATH with `awslambdaric` importable (`python3 -m pip install
//! awslambdaric`). Without it the test prints `SKIPPED: awslambdaric not installed`, or
//! fails when `LAMBDA_LIBC_REQUIRE_TOOLS=1`.

mod tools;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lambda_libc_mock::{AnswerKind, Event, MockServer, Route, Script};
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(20);

const HANDLER: &str = r#"import os


def handler(event, context):
    if isinstance(event, dict) and "raise" in event:
        raise ValueError(event["raise"])
    if isinstance(event, dict) and event.get("probe"):
        return {
            "aws_request_id": context.aws_request_id,
            "invoked_function_arn": context.invoked_function_arn,
            "tenant_id": context.tenant_id,
            "cognito_identity_id": context.identity.cognito_identity_id,
            "cognito_identity_pool_id": context.identity.cognito_identity_pool_id,
            "client_custom": context.client_context.custom,
            "client_installation_id": context.client_context.client.installation_id,
            "remaining_positive": context.get_remaining_time_in_millis() > 0,
            "trace_env": os.environ.get("_X_AMZN_TRACE_ID"),
        }
    return event
"#;

/// Kills and reaps the runtime, and removes the temp dir, also when the test fails.
struct Runtime {
    child: Child,
    dir: PathBuf,
}

impl Drop for Runtime {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Runtime {
    fn output(&self) -> String {
        std::fs::read_to_string(self.dir.join("runtime.log")).unwrap_or_default()
    }
}

fn start_runtime(api: &str) -> Runtime {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().subsec_nanos();
    let dir = std::env::temp_dir().join(format!("mock-ric-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("echo_handler.py"), HANDLER).unwrap();
    let log = File::create(dir.join("runtime.log")).unwrap();
    let child = Command::new("python3")
        .args(["-m", "awslambdaric", "echo_handler.handler"])
        .current_dir(&dir)
        .env("AWS_LAMBDA_RUNTIME_API", api)
        .env("PYTHONPATH", &dir)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("LAMBDA_DISABLE_PREVIEW_WARN", "1")
        .env_remove("AWS_LAMBDA_MAX_CONCURRENCY")
        .env_remove("AWS_EXECUTION_ENV")
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("spawn python3 -m awslambdaric");
    Runtime { child, dir }
}

fn json(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(bytes)))
}

fn dir_is_gone(p: &Path) -> bool {
    !p.exists()
}

#[test]
fn awslambdaric_runs_a_session_against_the_mock() {
    if tools::in_sandbox("awslambdaric 4.2.2 comes from PyPI, which the sandbox cannot reach") {
        return;
    }
    if !tools::python_imports(&["awslambdaric"]) {
        tools::skip("awslambdaric not installed (python3 -m pip install awslambdaric)");
        return;
    }

    let big: Vec<Value> = (0..300).map(|i| serde_json::json!({"i": i, "text": "chunked ünïcode payload"})).collect();
    let big = serde_json::to_vec(&serde_json::json!({"kind": "chunked", "items": big})).unwrap();
    assert!(big.len() > 4096 + 8);
    let arn = "arn:aws:lambda:us-east-1:123456789012:function:mock:live";
    let events = [
        Event::json(r#"{"kind":"content-length","n":1,"s":"h\u00e9llo","list":[1,2.5,null,true]}"#)
            .request_id("ric-cl"),
        Event::json(big).request_id("ric-chunked").chunked([1, 7, 4096]),
        Event::json(r#"{"kind":"all-context"}"#).request_id("ric-ctx").with_all_context(),
        Event::json(r#"{"probe":true}"#)
            .request_id("ric-probe")
            .with_all_context()
            .function_arn(arn)
            .trace_id("Root=1-65f1c0de-0123456789abcdef01234567;Parent=1122334455667788;Sampled=1"),
        Event::json(r#"{"raise":"boom"}"#).request_id("ric-raise"),
    ];
    let bodies: Vec<Vec<u8>> = events.iter().map(|e| e.body().to_vec()).collect();
    let server = MockServer::start(Script::new().events(events)).unwrap();
    let runtime = start_runtime(&server.runtime_api());
    let dir = runtime.dir.clone();

    if !server.wait_for_answers(5, WAIT) {
        panic!(
            "awslambdaric gave {} answers in {WAIT:?}.\nrequests: {:#?}\nruntime output:\n{}",
            server.answers().len(),
            server.requests(),
            runtime.output()
        );
    }
    // The runtime comes back for a sixth event (which hangs).
    assert!(
        server.wait_until(WAIT, |r| r.iter().filter(|r| r.route == Route::Next).count() == 6),
        "no sixth /next: {:#?}",
        server.requests()
    );

    let answers = server.answers();
    let ids: Vec<&str> = answers.iter().map(|a| a.request_id.as_str()).collect();
    assert_eq!(ids, ["ric-cl", "ric-chunked", "ric-ctx", "ric-probe", "ric-raise"]);
    for (i, a) in answers.iter().enumerate() {
        assert_eq!(a.event, Some(i));
        assert_eq!(a.status(), Some(202), "{a:#?}");
        let kind = if i == 4 { "error" } else { "response" };
        assert_eq!(a.request.path(), format!("/2018-06-01/runtime/invocation/{}/{kind}", a.request_id));
    }

    // Echoed events (awslambdaric re-serialises JSON, so compare values).
    for i in [0, 1, 2] {
        assert_eq!(answers[i].kind, AnswerKind::Response);
        assert_eq!(json(answers[i].body()), json(&bodies[i]), "event {i}");
    }
    // The invocation id is echoed where the mock sent one.
    assert_eq!(answers[2].header("Lambda-Runtime-Invocation-Id"), Some("inv-ric-ctx"));
    assert_eq!(answers[0].header("Lambda-Runtime-Invocation-Id"), None);

    // The context headers reached the handler's context object.
    let probe = json(answers[3].body());
    assert_eq!(probe["aws_request_id"], "ric-probe");
    assert_eq!(probe["invoked_function_arn"], arn);
    assert_eq!(probe["tenant_id"], lambda_libc_mock::EXAMPLE_TENANT_ID);
    assert_eq!(probe["cognito_identity_id"], "us-east-1:11111111-2222-3333-4444-555555555555");
    assert_eq!(probe["cognito_identity_pool_id"], "us-east-1:66666666-7777-8888-9999-000000000000");
    assert_eq!(probe["client_custom"], serde_json::json!({"source": "mock"}));
    assert_eq!(probe["client_installation_id"], "mock-installation");
    assert_eq!(probe["remaining_positive"], true);
    assert_eq!(probe["trace_env"], "Root=1-65f1c0de-0123456789abcdef01234567;Parent=1122334455667788;Sampled=1");

    // The raising handler becomes a /error in the standard format. awslambdaric 4.x
    // (aws-lambda-cpp) labels it `application/json` and reports the type in the X-Ray
    // cause header rather than in `Lambda-Runtime-Function-Error-Type`; accept both forms.
    let err = &answers[4];
    assert_eq!(err.kind, AnswerKind::Error);
    let content_type = err.header("Content-Type").unwrap_or_default();
    assert!(["application/json", "application/vnd.aws.lambda.error+json"].contains(&content_type), "{content_type:?}");
    if let Some(t) = err.header("Lambda-Runtime-Function-Error-Type") {
        assert!(t.contains("ValueError") || t.starts_with("Function."), "{t:?}");
    }
    let body = json(err.body());
    assert_eq!(body["errorMessage"], "boom");
    assert_eq!(body["errorType"], "ValueError");
    assert_eq!(body["requestId"], "ric-raise");
    assert!(body["stackTrace"].is_array());
    let cause =
        json(err.header("Lambda-Runtime-Function-XRay-Error-Cause").expect("X-Ray error cause header").as_bytes());
    assert_eq!(cause["exceptions"][0]["type"], "ValueError");
    assert_eq!(cause["exceptions"][0]["message"], "boom");

    // Every request was well-formed HTTP the mock could parse.
    let reqs = server.requests();
    assert!(reqs.iter().all(|r| r.route != Route::Malformed && r.route != Route::NotFound));
    assert!(reqs.iter().all(|r| r.header("User-Agent").is_some()));

    drop(server);
    drop(runtime);
    assert!(dir_is_gone(&dir));
}
