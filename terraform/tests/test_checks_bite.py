"""The checks of stack.py can fail: each breaks a copy of the stack in one way and asserts
that the check responsible for that property reports it."""

import re
import shutil

import pytest

import stack

LOG_RESOURCE = '"${aws_cloudwatch_log_group.function[each.key].arn}:*"'
MANAGED_POLICY = """
resource "aws_iam_role_policy_attachment" "basic" {
  for_each   = var.functions
  role       = aws_iam_role.function[each.key].name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
}
"""

# (id, file, regular expression, replacement, the check that must object)
BREAKAGES = [
    ("policy-on-any-resource", "main.tf", re.escape(LOG_RESOURCE), '"*"', stack.check_role_policy_scoped_to_log_group),
    ("policy-on-all-log-groups", "main.tf", re.escape(LOG_RESOURCE), '"arn:aws:logs:*:*:*"', stack.check_role_policy_scoped_to_log_group),
    ("xray-without-tracing", "main.tf", r"for_each = each\.value\.tracing \? \[true\] : \[\]", "for_each = [true]", stack.check_role_policy_scoped_to_log_group),
    ("managed-policy-added", "main.tf", r"\Z", MANAGED_POLICY, stack.check_role_policy_scoped_to_log_group),
    ("hash-of-another-file", "main.tf", r"filebase64sha256\(local\.zips\[each\.key\]\)", 'filebase64sha256("other.zip")', stack.check_code_hash_is_of_filename),
    ("zip-path-without-architecture", "main.tf", r"-\$\{f\.architecture\}\.zip", ".zip", stack.check_zip_paths),
    ("runtime-al2", "main.tf", r'"provided\.al2023"', '"provided.al2"', stack.check_runtime_and_handler),
    ("handler-renamed", "main.tf", r'handler       = "bootstrap"', 'handler       = "main"', stack.check_runtime_and_handler),
    ("architecture-i386-allowed", "variables.tf", r'\["x86_64", "arm64"\], f\.architecture', '["x86_64", "arm64", "i386"], f.architecture', stack.check_architecture_validated),
    ("architecture-fixed", "main.tf", r"architectures = \[each\.value\.architecture\]", 'architectures = ["x86_64"]', stack.check_architecture_validated),
    ("memory-above-10240", "variables.tf", r"f\.memory_size <= 10240", "f.memory_size <= 10241", stack.check_memory_and_timeout_validated),
    ("timeout-above-900", "variables.tf", r"f\.timeout <= 900", "f.timeout <= 3600", stack.check_memory_and_timeout_validated),
    ("log-group-by-name-only", "main.tf", r"log_group  = aws_cloudwatch_log_group\.function\[each\.key\]\.name", 'log_group  = "/aws/lambda/${each.key}"', stack.check_log_group_before_function),
    ("retention-never-expires", "variables.tf", r"contains\(\[1, ", "contains([0, 1, ", stack.check_log_group_before_function),
    ("url-public-by-default", "variables.tf", r'optional\(string, "AWS_IAM"\)', 'optional(string, "NONE")', stack.check_function_url),
    ("invoke-mode-unvalidated", "variables.tf", r'\["BUFFERED", "RESPONSE_STREAM"\]', '["BUFFERED"]', stack.check_function_url),
    ("tracing-on-by-default", "variables.tf", r"optional\(bool, false\)", "optional(bool, true)", stack.check_tracing_optional),
    ("provider-5", "versions.tf", r'"~> 6\.\d+"', '">= 5.0"', stack.check_versions_and_tags),
    ("skip-without-reason", "main.tf", r"(CKV_AWS_117:).*", r"\1not needed", stack.check_skips_have_reasons),
]


@pytest.fixture
def copy(tmp_path):
    for tf in stack.STACK.glob("*.tf"):
        shutil.copy(tf, tmp_path)
    return tmp_path


def test_unbroken_copy_passes(copy):
    parsed = stack.Stack(copy)
    assert [problem for check in stack.CHECKS for problem in check(parsed)] == []


@pytest.mark.parametrize("file, pattern, replacement, check", [b[1:] for b in BREAKAGES], ids=[b[0] for b in BREAKAGES])
def test_check_catches(copy, file, pattern, replacement, check):
    path = copy / file
    text, count = re.subn(pattern, replacement, path.read_text(encoding="utf-8"), count=1)
    assert count == 1, f"{pattern!r} not found in {file}: the breakage no longer applies"
    path.write_text(text, encoding="utf-8")
    assert check(stack.Stack(copy)) != []
