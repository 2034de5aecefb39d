"""The stack in terraform/ has the properties issue 7 asks for (see stack.py)."""

import os
import re
from pathlib import Path

import pytest

import stack


@pytest.fixture(scope="module")
def parsed():
    return stack.Stack()


@pytest.mark.parametrize("check", stack.CHECKS, ids=lambda c: c.__name__.removeprefix("check_"))
def test_property(parsed, check):
    assert check(parsed) == []


def test_default_functions_pass_the_validations(parsed):
    default = parsed.variable("functions")["default"]
    assert default, "the stack deploys nothing by default"
    assert stack.value_problems(parsed, {"functions": default}) == []


def test_example_tfvars_pass_the_validations(parsed):
    example = stack.parse(stack.STACK / "example.tfvars")
    variables = {name for entry in parsed.blocks["variable"] for name in entry}
    assert set(k for k in example if not k.startswith("__")) <= variables
    assert {f.get("architecture", "x86_64") for f in example["functions"].values()} == {"x86_64", "arm64"}
    assert any((f.get("url") or {}).get("invoke_mode") == "RESPONSE_STREAM" for f in example["functions"].values())
    assert stack.value_problems(parsed, example) == []


def test_readme_explains_every_checkov_skip():
    readme = (stack.STACK / "README.md").read_text(encoding="utf-8")
    skips = stack.checkov_skips()
    assert skips, "no checkov skip found: the README's list would be stale"
    assert [check for check, _ in skips if check not in readme] == []


def test_every_built_zip_is_deployable(parsed):
    """Each zip `cargo xtask dist` wrote is bootstrap-<bootstrap>-<architecture>.zip with values
    the validations accept, and the default function's zip is among them."""
    dist = Path(os.environ.get("LAMBDA_LIBC_DIST_DIR") or stack.STACK.parent / "dist")
    zips = sorted(p.name for p in dist.glob("*.zip"))
    if not zips:
        pytest.skip(f"no zip in {dist}: run cargo xtask dist")
    bootstraps = stack.allowed_values(parsed, "functions", "bootstrap")
    architectures = stack.allowed_values(parsed, "functions", "architecture")
    for name in zips:
        m = re.fullmatch(r"bootstrap-(.+)-(x86_64|arm64)\.zip", name)
        assert m and m.group(1) in bootstraps and m.group(2) in architectures, f"{dist / name} cannot be deployed by name"
    defaults = stack.optional_defaults(parsed, "functions")
    assert f"bootstrap-{defaults['bootstrap']}-{defaults['architecture']}.zip" in zips
