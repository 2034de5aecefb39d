"""The checks of stack.py can fail: each breaks a copy of terraform/ in one way and asserts
that the check responsible for that property reports it."""

import re
import shutil

import pytest

import stack

M = "modules/function/"
LOG_RESOURCE = '"${aws_cloudwatch_log_group.function.arn}:*"'
MANAGED_POLICY = """
resource "aws_iam_role_policy_attachment" "basic" {
  role       = aws_iam_role.function.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
}
"""
PROVIDER = """
provider "aws" {
  region = "eu-west-1"
}
"""

# (id, file, regular expression, replacement, the check that must object)
BREAKAGES = [
    # The module.
    ("policy-on-any-resource", M + "main.tf", re.escape(LOG_RESOURCE), '"*"', stack.check_role_policy_scoped_to_log_group),
    ("policy-on-all-log-groups", M + "main.tf", re.escape(LOG_RESOURCE), '"arn:aws:logs:*:*:*"', stack.check_role_policy_scoped_to_log_group),
    ("xray-without-tracing", M + "main.tf", r"for_each = var\.tracing \? \[true\] : \[\]", "for_each = [true]", stack.check_role_policy_scoped_to_log_group),
    ("managed-policy-added", M + "main.tf", r"\Z", MANAGED_POLICY, stack.check_role_policy_scoped_to_log_group),
    ("hash-of-another-file", M + "main.tf", r"filebase64sha256\(var\.filename\)", 'filebase64sha256("${path.module}/main.tf")', stack.check_code_hash_is_of_filename),
    ("filename-unvalidated", M + "variables.tf", r'regex\("\\\\\.zip\$", var\.filename\)', 'regex("", var.filename)', stack.check_code_hash_is_of_filename),
    ("runtime-al2", M + "main.tf", r'"provided\.al2023"', '"provided.al2"', stack.check_runtime_and_handler),
    ("handler-renamed", M + "main.tf", r'handler       = "bootstrap"', 'handler       = "main"', stack.check_runtime_and_handler),
    ("name-required-default", M + "variables.tf", r'(variable "function_name" \{\n)', r'\1  default = "fn"\n', stack.check_required_inputs),
    ("name-too-long-for-role", M + "variables.tf", r"\{1,59\}", "{1,64}", stack.check_function_name_validated),
    ("role-named-like-function", M + "main.tf", r'"\$\{var\.function_name\}-role"', "var.function_name", stack.check_function_name_validated),
    ("architecture-i386-allowed", M + "variables.tf", r'\["x86_64", "arm64"\], var\.architecture', '["x86_64", "arm64", "i386"], var.architecture', stack.check_architecture_validated),
    ("architecture-fixed", M + "main.tf", r"architectures = \[var\.architecture\]", 'architectures = ["x86_64"]', stack.check_architecture_validated),
    ("memory-above-10240", M + "variables.tf", r"var\.memory_size <= 10240", "var.memory_size <= 10241", stack.check_memory_and_timeout_validated),
    ("memory-fractional", M + "variables.tf", r" && floor\(var\.memory_size\) == var\.memory_size", "", stack.check_memory_and_timeout_validated),
    ("timeout-above-900", M + "variables.tf", r"var\.timeout <= 900", "var.timeout <= 3600", stack.check_memory_and_timeout_validated),
    ("timeout-default-null", M + "variables.tf", r'(default     = 3\n)  nullable    = false\n', r"\1", stack.check_null_inputs_take_defaults),
    ("concurrency-below-minus-1", M + "variables.tf", r"var\.reserved_concurrency >= -1", "var.reserved_concurrency >= -2", stack.check_reserved_concurrency),
    ("environment-reserved-key", M + "variables.tf", r'"AWS_REGION", ', "", stack.check_environment),
    ("environment-always", M + "main.tf", r"length\(var\.environment_variables\) > 0 \? \[true\] : \[\]", "[true]", stack.check_environment),
    ("log-kms-any-string", M + "variables.tf", r'regex\("\^arn:[^"]*", var\.log_kms_key_arn\)', 'regex(".*", var.log_kms_key_arn)', stack.check_kms_keys),
    ("log-group-by-name-only", M + "main.tf", r"log_group  = aws_cloudwatch_log_group\.function\.name", 'log_group  = "/aws/lambda/${var.function_name}"', stack.check_log_group_before_function),
    ("retention-never-expires", M + "variables.tf", r"contains\(\[1, ", "contains([0, 1, ", stack.check_log_group_before_function),
    ("url-public-by-default", M + "variables.tf", r'optional\(string, "AWS_IAM"\)', 'optional(string, "NONE")', stack.check_function_url),
    ("url-always", M + "main.tf", r"count = var\.url == null \? 0 : 1", "count = 1", stack.check_function_url),
    ("invoke-mode-unvalidated", M + "variables.tf", r'\["BUFFERED", "RESPONSE_STREAM"\]', '["BUFFERED", "STREAM"]', stack.check_function_url),
    ("cors-dropped", M + "main.tf", r"for_each = var\.url\.cors == null \? \[\] : \[var\.url\.cors\]", "for_each = []", stack.check_function_url),
    ("cors-max-age-unbounded", M + "variables.tf", r"var\.url\.cors\.max_age <= 86400", "var.url.cors.max_age <= 864000", stack.check_function_url),
    ("tracing-on-by-default", M + "variables.tf", r"(variable \"tracing\" \{\n(?:.*\n)*?  default     = )false", r"\1true", stack.check_tracing_optional),
    ("output-url-missing", M + "outputs.tf", r'output "function_url"', 'output "url"', stack.check_outputs),
    ("output-log-group-arn", M + "outputs.tf", r"aws_cloudwatch_log_group\.function\.name", "aws_cloudwatch_log_group.function.arn", stack.check_outputs),
    ("variable-undocumented", M + "variables.tf", r'  description = "Memory in MB[^\n]*\n', "", stack.check_variables_documented),
    ("module-provider-block", M + "versions.tf", r"\Z", PROVIDER, stack.check_no_provider_block),
    ("provider-5", M + "versions.tf", r'"~> 6\.\d+"', '">= 5.0"', stack.check_versions),
    ("skip-without-reason", M + "main.tf", r"(CKV_AWS_117:).*", r"\1not needed", stack.check_skips_have_reasons),
    # The root.
    ("root-without-default-tags", "main.tf", r"tags = var\.tags", "tags = {}", stack.check_root_provider_and_tags),
    ("root-resource-outside-module", "main.tf", r"\Z", '\nresource "aws_sqs_queue" "dlq" {}\n', stack.check_root_provider_and_tags),
    ("root-misses-required-input", "main.tf", r"  function_name         = each\.key\n", "", stack.check_root_calls_module),
    ("root-passes-undeclared-input", "main.tf", r"(  tracing               = each\.value\.tracing\n)", r'\1  handler = "main"\n', stack.check_root_calls_module),
    ("root-reads-missing-output", "outputs.tf", r"f\.log_group_name", "f.log_group", stack.check_root_calls_module),
    ("zip-path-without-architecture", "main.tf", r"-\$\{f\.architecture\}\.zip", ".zip", stack.check_zip_paths),
    ("zip-ignores-dist-dir", "main.tf", r'"\$\{var\.dist_dir\}/bootstrap-\$\{f', '"../dist/bootstrap-${f', stack.check_zip_paths),
    ("api-streams", "main.tf", r'invoke_mode        = "BUFFERED"', 'invoke_mode        = "RESPONSE_STREAM"', stack.check_root_api),
    ("api-not-optional", "main.tf", r"count  = var\.api == null \? 0 : 1", "count  = 1", stack.check_root_api),
    ("root-default-differs", "variables.tf", r"memory_size           = optional\(number\)", "memory_size           = optional(number, 256)", stack.check_root_defaults_reach_module),
    ("moved-to-wrong-type", "moved.tf", r'to   = module\.function\["lambda-libc-echo"\]\.aws_iam_role\.function', 'to   = module.function["lambda-libc-echo"].aws_iam_policy.function', stack.check_moved),
    ("moved-block-missing", "moved.tf", r'moved \{\n  from = aws_lambda_function_url\.function\["lambda-libc-stream"\]\n.*\n\}\n', "", stack.check_moved),
]


@pytest.fixture
def copy(tmp_path):
    """terraform/'s configuration (*.tf, example.tfvars), in the same layout."""
    for path in stack.ROOT.rglob("*"):
        if path.suffix in (".tf", ".tfvars") and "tests" not in path.relative_to(stack.ROOT).parts:
            target = tmp_path / path.relative_to(stack.ROOT)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, target)
    return tmp_path


def checks_of(copy):
    return [(check, stack.Stack(copy / M)) for check in stack.MODULE_CHECKS] + [(check, stack.Stack(copy)) for check in stack.ROOT_CHECKS]


def test_unbroken_copy_passes(copy):
    assert [(check.__name__, problem) for check, parsed in checks_of(copy) for problem in check(parsed)] == []


@pytest.mark.parametrize("file, pattern, replacement, check", [b[1:] for b in BREAKAGES], ids=[b[0] for b in BREAKAGES])
def test_check_catches(copy, file, pattern, replacement, check):
    path = copy / file
    text, count = re.subn(pattern, replacement, path.read_text(encoding="utf-8"), count=1)
    assert count == 1, f"{pattern!r} not found in {file}: the breakage no longer applies"
    path.write_text(text, encoding="utf-8")
    parsed = stack.Stack(copy / M) if file.startswith(M) else stack.Stack(copy)
    assert check(parsed) != []
