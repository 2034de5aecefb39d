"""terraform/modules/function and the root example in terraform/ have the properties issues 7
and 19 ask for (see stack.py)."""

import os
import re
from pathlib import Path

import pytest

import stack


@pytest.fixture(scope="module")
def module():
    return stack.Stack(stack.MODULE)


@pytest.fixture(scope="module")
def root():
    return stack.Stack(stack.ROOT)


def name(check):
    return check.__name__.removeprefix("check_")


@pytest.mark.parametrize("check", stack.MODULE_CHECKS, ids=name)
def test_module_property(module, check):
    assert check(module) == []


@pytest.mark.parametrize("check", stack.ROOT_CHECKS, ids=name)
def test_root_property(root, check):
    assert check(root) == []


# The module's inputs, one bad value at a time: each is refused at plan time.
BAD_INPUTS = [
    ("filename", "bootstrap"),
    ("function_name", ""),
    ("function_name", "f" * 60),
    ("function_name", "my function"),
    ("architecture", "aarch64"),
    ("architecture", "x86"),
    ("memory_size", 64),
    ("memory_size", 10241),
    ("memory_size", 128.5),
    ("timeout", 0),
    ("timeout", 901),
    ("reserved_concurrency", -2),
    ("environment_variables", {"A": "one letter"}),
    ("environment_variables", {"AWS_REGION": "reserved"}),
    ("environment_kms_key_arn", "alias/mine"),
    ("log_retention_days", 0),
    ("log_retention_days", 10),
    ("log_kms_key_arn", "arn:aws:kms:eu-west-1:123456789012:alias/mine"),
    ("tracing", "yes"),
    ("url", {"authorization_type": "IAM"}),
    ("url", {"invoke_mode": "STREAMING"}),
    ("url", {"cors": {"allow_methods": ["OPTIONS"]}}),
    ("url", {"cors": {"max_age": 90000}}),
    ("tags", ["project"]),
]


@pytest.mark.parametrize("variable, bad", BAD_INPUTS, ids=[f"{v}={b!r}" for v, b in BAD_INPUTS])
def test_module_refuses(module, variable, bad):
    assert stack.rejected(module, stack.minimal(**{variable: bad})) != []


def test_module_requires_zip_and_name(module):
    assert stack.rejected(module, {"function_name": "fn"}) == ["filename: required, and not set"]
    assert stack.rejected(module, {"filename": stack.ZIP}) == ["function_name: required, and not set"]
    assert stack.rejected(module, stack.minimal(memory=256)) == ["unknown variables ['memory']"]


def test_module_defaults(module):
    """With only the zip and a name: the settings issue 7 chose for the echo."""
    values = stack.inputs(module, stack.minimal())
    assert {k: v for k, v in values.items() if k not in ("filename", "function_name")} == {
        "architecture": "x86_64",
        "memory_size": 128,
        "timeout": 3,
        "reserved_concurrency": -1,
        "environment_variables": {},
        "environment_kms_key_arn": None,
        "log_retention_days": 30,
        "log_kms_key_arn": None,
        "tracing": False,
        "url": None,
        "tags": {},
    }
    # null from a caller (an unset attribute of its own) is the same as not passing it.
    nulls = {k: None for k in values if k not in ("filename", "function_name")}
    assert stack.inputs(module, stack.minimal(**nulls)) == values


@pytest.mark.parametrize("architecture", ["x86_64", "arm64"])
@pytest.mark.parametrize("url", [None, {}, {"invoke_mode": "RESPONSE_STREAM"}], ids=["no-url", "url", "stream-url"])
def test_module_plan(module, architecture, url):
    resources, outputs = stack.plan(module, stack.minimal(function_name="lambda-libc-echo", architecture=architecture, url=url))
    base = {
        "aws_cloudwatch_log_group.function",
        "aws_iam_role.function",
        "aws_iam_role_policy.function",
        "aws_lambda_function.function",
    }
    expected = base | ({"aws_lambda_function_url.function[0]"} if url is not None else set())
    assert {a for a in resources if not a.startswith("data.")} == expected
    function = resources["aws_lambda_function.function"]
    assert function.architectures == [architecture]
    assert function.function_name == "lambda-libc-echo"
    assert set(outputs) == stack.MODULE_OUTPUTS
    if url is None:
        assert outputs["function_url"] is None
    else:
        assert outputs["function_url"] == "<computed aws_lambda_function_url.function[0].function_url>"
        assert resources["aws_lambda_function_url.function[0]"].invoke_mode == url.get("invoke_mode", "BUFFERED")


def test_module_outputs_name_existing_resources(module):
    """Every output reads a resource the module declares (a typo would only fail in a real
    plan otherwise)."""
    declared = {f"{kind}.{name}" for kind, name in module.resources()}
    for output, body in module.outputs().items():
        read = set(re.findall(r"\b(aws_\w+\.\w+)", body["value"]))
        assert read and read <= declared, f"output {output} reads {read}"


def test_default_deployment(root):
    """terraform apply with no variables: the Rust echo on x86_64, no URL, and the JSON API
    example behind a BUFFERED URL; the module accepts both calls."""
    calls = stack.module_calls(root, {})
    assert sorted(calls) == ['module.api[0]', 'module.function["lambda-libc-echo"]']
    for address, (name, arguments) in calls.items():
        module = stack.Stack(stack.module_dir(root, name))
        assert stack.rejected(module, {**arguments, "filename": stack.ZIP}) == [], address
    assert calls['module.function["lambda-libc-echo"]'][1]["url"] is None
    assert calls["module.api[0]"][1]["url"] == {"authorization_type": None, "invoke_mode": "BUFFERED"}


def test_example_tfvars(root):
    """example.tfvars sets only variables the root declares, deploys both architectures and
    a streaming URL, and every module call it makes passes the module's validations."""
    example = stack.parse(stack.ROOT / "example.tfvars")
    assert {k for k in example if not k.startswith("__")} <= set(root.variables())
    calls = stack.module_calls(root, example)
    planned = {}
    for address, (name, arguments) in calls.items():
        module = stack.Stack(stack.module_dir(root, name))
        assert stack.rejected(module, {**arguments, "filename": stack.ZIP}) == [], address
        planned[address] = stack.inputs(module, {**arguments, "filename": stack.ZIP})
    assert {v["architecture"] for v in planned.values()} == {"x86_64", "arm64"}
    assert any((v["url"] or {}).get("invoke_mode") == "RESPONSE_STREAM" for v in planned.values())
    assert planned["module.api[0]"]["url"]["invoke_mode"] == "BUFFERED"


def test_root_refuses_unknown_bootstrap(root):
    with pytest.raises(stack.Invalid, match="bootstrap must be"):
        stack.module_calls(root, {"functions": {"f": {"bootstrap": "python"}}})


def test_readme_explains_every_checkov_skip():
    readme = (stack.ROOT / "README.md").read_text(encoding="utf-8")
    skips = stack.checkov_skips(stack.MODULE)
    assert skips, "no checkov skip found: the README's list would be stale"
    assert [check for check, _ in skips if check not in readme] == []
    assert stack.checkov_skips(stack.ROOT) == [], "the root has no resource of its own to skip checks on"


def test_readme_module_call_passes(root):
    """The module call README.md shows for your own function sets only declared inputs, all
    the required ones, and values the module accepts."""
    readme = (stack.ROOT / "README.md").read_text(encoding="utf-8")
    calls = [
        call
        for text in re.findall(r"```hcl\n(.*?)```", readme, re.S)
        for call in stack.hcl2.loads(text, serialization_options=stack.OPTIONS).get("module", [])
    ]
    assert calls, "README.md shows no module call"
    module = stack.Stack(stack.MODULE)
    for call in calls:
        (label, body), = call.items()
        assert body["source"] in ("./modules/function", "../modules/function") or body["source"].startswith(
            "github.com/aws-lambda-libc/aws-lambda-libc//terraform/modules/function?ref="
        ), body["source"]
        arguments = {k: v for k, v in body.items() if k not in stack.META_ARGUMENTS and not k.startswith("__")}
        # The zip path is the reader's, relative to their configuration: plan with ours.
        assert re.search(r"(target/lambda|result)/bootstrap-(x86_64|arm64)\.zip", arguments["filename"]), arguments["filename"]
        arguments["filename"] = stack.ZIP
        assert stack.rejected(module, arguments) == [], label


def test_every_built_zip_is_deployable(root):
    """Each zip `cargo xtask dist` wrote is bootstrap-<bootstrap>-<architecture>.zip with a
    bootstrap the root accepts, and the default deployment's zips are among them (the API's
    once dist/ has been built with it)."""
    dist = Path(os.environ.get("LAMBDA_LIBC_DIST_DIR") or stack.ROOT.parent / "dist")
    zips = sorted(p.name for p in dist.glob("*.zip"))
    if not zips:
        pytest.skip(f"no zip in {dist}: run cargo xtask dist")
    for zip_name in zips:
        m = re.fullmatch(r"bootstrap-(.+)-(x86_64|arm64)\.zip", zip_name)
        assert m, f"{dist / zip_name} is not named bootstrap-<bootstrap>-<architecture>.zip"
        calls = stack.module_calls(root, {"api": None, "functions": {"f": {"bootstrap": m.group(1), "architecture": m.group(2)}}})
        assert calls['module.function["f"]'][1]["filename"] == f"../dist/{zip_name}"
    for address, (_, arguments) in stack.module_calls(root, {}).items():
        zip_name = Path(arguments["filename"]).name
        if address.startswith("module.api") and not any(z.startswith("bootstrap-rust-api-") for z in zips):
            continue
        assert zip_name in zips, f"{address} deploys {zip_name}, which is not in {dist}"
