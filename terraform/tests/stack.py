"""The Terraform stack as python-hcl2 parses it, and the properties it must have.

Each ``check_*`` function takes a parsed stack and returns a list of problems, empty when the
property holds. test_stack.py asserts they are all empty for terraform/; test_checks_bite.py
breaks a copy of the stack and asserts the matching check reports it.

python-hcl2 8 gives expressions as strings, "${...}" around anything that is not a literal.
"""

import re
from pathlib import Path

import hcl2
from hcl2.utils import SerializationOptions

STACK = Path(__file__).resolve().parent.parent
OPTIONS = SerializationOptions(strip_string_quotes=True, explicit_blocks=False)

# The log group the function's role may write to, as main.tf refers to it.
LOG_GROUP = "aws_cloudwatch_log_group.function[each.key]"
XRAY_ACTIONS = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}


def parse(path):
    with open(path, encoding="utf-8") as f:
        return hcl2.load(f, serialization_options=OPTIONS)


class Stack:
    """Every block of the *.tf files of one directory."""

    def __init__(self, directory=STACK):
        self.dir = Path(directory)
        self.blocks = {}
        for tf in sorted(self.dir.glob("*.tf")):
            for kind, entries in parse(tf).items():
                if not kind.startswith("__"):
                    self.blocks.setdefault(kind, []).extend(entries)

    def _labelled(self, kind, *labels):
        for entry in self.blocks.get(kind, []):
            body = entry
            for label in labels:
                body = body.get(label) if isinstance(body, dict) else None
            if body is not None:
                return body
        raise KeyError(f"no {kind} {' '.join(labels)} in {self.dir}")

    def resource(self, kind, name):
        return self._labelled("resource", kind, name)

    def data(self, kind, name):
        return self._labelled("data", kind, name)

    def variable(self, name):
        return self._labelled("variable", name)

    def provider(self, name):
        return self._labelled("provider", name)

    def resources(self):
        """(type, name) of every resource."""
        return [(kind, name) for entry in self.blocks.get("resource", []) for kind, named in entry.items() for name in named]

    def terraform(self):
        return self.blocks["terraform"][0]

    def locals(self):
        merged = {}
        for entry in self.blocks.get("locals", []):
            merged.update(entry)
        return merged

    def function(self):
        return self.resource("aws_lambda_function", "function")


def inner(expression):
    """The expression inside "${...}", or None for a literal."""
    m = re.fullmatch(r"\$\{(.*)\}", expression, re.S) if isinstance(expression, str) else None
    return m.group(1) if m else None


def block(body, name):
    """The nested block `name` (logging_config, default_tags...) if it occurs once, else {}."""
    found = body.get(name)
    return found[0] if isinstance(found, list) and len(found) == 1 else {}


def validations(stack, variable):
    return [v["condition"] for v in stack.variable(variable).get("validation", [])]


def allowed_values(stack, variable, attribute):
    """The set a `contains([...], f.<attribute>)` validation allows, or None without one."""
    pattern = r"contains\(\[([^\]]*)\], f\." + re.escape(attribute) + r"\)"
    for condition in validations(stack, variable):
        m = re.search(pattern, condition)
        if m:
            return {item.strip().strip('"') for item in m.group(1).split(",")}
    return None


def bounds(stack, variable, attribute):
    """(low, high) of a `f.<a> >= low && f.<a> <= high` validation, or None without one."""
    a = re.escape(attribute)
    pattern = rf"f\.{a} >= (-?\d+) && f\.{a} <= (-?\d+)"
    for condition in validations(stack, variable):
        m = re.search(pattern, condition)
        if m:
            return int(m.group(1)), int(m.group(2))
    return None


def optional_defaults(stack, variable):
    """attribute -> default of every `optional(type, default)` in the variable's type."""
    found = re.findall(r"(\w+) = optional\(\w+, ([^)]+)\)", stack.variable(variable)["type"])
    return {name: default.strip('"') for name, default in found}


# ---------------------------------------------------------------------------------------
# The properties.


def check_runtime_and_handler(stack):
    fn = stack.function()
    problems = []
    if fn.get("runtime") != "provided.al2023":
        problems.append(f"runtime is {fn.get('runtime')!r}, not 'provided.al2023'")
    if fn.get("handler") != "bootstrap":
        problems.append(f"handler is {fn.get('handler')!r}, not 'bootstrap'")
    return problems


def check_code_hash_is_of_filename(stack):
    fn = stack.function()
    filename = inner(fn.get("filename", ""))
    if filename is None:
        return [f"filename is not an expression: {fn.get('filename')!r}"]
    expected = "${filebase64sha256(" + filename + ")}"
    if fn.get("source_code_hash") != expected:
        return [f"source_code_hash is {fn.get('source_code_hash')!r}, not {expected!r} (the hash of filename)"]
    return []


def check_zip_paths(stack):
    """Default zips: <dist_dir>/bootstrap-<bootstrap>-<architecture>.zip, dist_dir ../dist."""
    problems = []
    if stack.variable("dist_dir").get("default") != "../dist":
        problems.append(f"dist_dir defaults to {stack.variable('dist_dir').get('default')!r}, not '../dist'")
    zips = stack.locals().get("zips", "")
    wanted = 'coalesce(f.zip, "${var.dist_dir}/bootstrap-${f.bootstrap}-${f.architecture}.zip")'
    if wanted not in zips:
        problems.append(f"local.zips is {zips!r}; expected it to use {wanted}")
    if inner(stack.function().get("filename", "")) != "local.zips[each.key]":
        problems.append("the function's filename is not local.zips[each.key]")
    return problems


def check_architecture_validated(stack):
    fn = stack.function()
    problems = []
    if fn.get("for_each") != "${var.functions}":
        problems.append(f"the function's for_each is {fn.get('for_each')!r}, not var.functions")
    if fn.get("architectures") != ["${each.value.architecture}"]:
        problems.append(f"architectures is {fn.get('architectures')!r}, not [each.value.architecture]")
    allowed = allowed_values(stack, "functions", "architecture")
    if allowed != {"x86_64", "arm64"}:
        problems.append(f"the architecture validation allows {allowed}, not exactly x86_64 and arm64")
    if optional_defaults(stack, "functions").get("architecture") not in {"x86_64", "arm64"}:
        problems.append("the default architecture is not x86_64 or arm64")
    return problems


def check_memory_and_timeout_validated(stack):
    fn = stack.function()
    problems = []
    for attribute, variable_attribute, limits in [
        ("memory_size", "memory_size", (128, 10240)),
        ("timeout", "timeout", (1, 900)),
    ]:
        if fn.get(attribute) != "${each.value." + variable_attribute + "}":
            problems.append(f"{attribute} is {fn.get(attribute)!r}, not each.value.{variable_attribute}")
        found = bounds(stack, "functions", variable_attribute)
        if found != limits:
            problems.append(f"{variable_attribute} validation bounds are {found}, not {limits}")
        default = optional_defaults(stack, "functions").get(variable_attribute)
        if default is None or not limits[0] <= int(default) <= limits[1]:
            problems.append(f"{variable_attribute} default {default} is outside {limits}")
    return problems


def check_log_group_before_function(stack):
    fn = stack.function()
    group = stack.resource("aws_cloudwatch_log_group", "function")
    problems = []
    logging = block(fn, "logging_config")
    if logging.get("log_group") != "${" + LOG_GROUP + ".name}":
        problems.append(f"logging_config.log_group is {logging.get('log_group')!r}: the function must reference the log group, which orders it after the group")
    if group.get("name") != "/aws/lambda/${each.key}":
        problems.append(f"the log group is {group.get('name')!r}, not Lambda's /aws/lambda/<function name>")
    if group.get("retention_in_days") != "${var.log_retention_days}":
        problems.append(f"retention_in_days is {group.get('retention_in_days')!r}, not var.log_retention_days")
    retention = stack.variable("log_retention_days")
    allowed = re.search(r"contains\(\[([^\]]*)\], var\.log_retention_days\)", " ".join(validations(stack, "log_retention_days")))
    days = {int(d) for d in allowed.group(1).split(",")} if allowed else set()
    if not days or 0 in days:
        problems.append(f"log_retention_days validation allows {days or 'anything'}: it must exclude 0 (never expire)")
    if retention.get("default") not in days:
        problems.append(f"log_retention_days default {retention.get('default')} is not an allowed value")
    return problems


def _statements(document):
    """(statement, guard) pairs: guard is the dynamic block's for_each, None for static ones."""
    pairs = [(s, None) for s in document.get("statement", [])]
    for dynamic in document.get("dynamic", []):
        for name, body in dynamic.items():
            if name == "statement":
                pairs += [(s, body.get("for_each")) for s in body.get("content", [])]
    return pairs


def check_role_policy_scoped_to_log_group(stack):
    """The role may write to its own log group only; X-Ray's two write actions (no resource-
    level permissions exist for them) only when tracing is on."""
    problems = []
    policy = stack.resource("aws_iam_role_policy", "function")
    if policy.get("role") != "${aws_iam_role.function[each.key].id}":
        problems.append(f"the inline policy is attached to {policy.get('role')!r}, not the function's own role")
    if policy.get("policy") != "${data.aws_iam_policy_document.function[each.key].json}":
        problems.append(f"the inline policy is {policy.get('policy')!r}, not the function's policy document")
    if stack.function().get("role") != "${aws_iam_role.function[each.key].arn}":
        problems.append("the function does not run as aws_iam_role.function[each.key]")
    extra = [r for r in stack.resources() if r[0] in {"aws_iam_role_policy_attachment", "aws_iam_policy", "aws_iam_policy_attachment"}]
    if extra:
        problems.append(f"further IAM policies: {extra}")

    statements = _statements(stack.data("aws_iam_policy_document", "function"))
    if not statements:
        problems.append("the policy document has no statement")
    log_group_arn = "${" + LOG_GROUP + ".arn}"
    for statement, guard in statements:
        sid = statement.get("sid", "?")
        actions = set(statement.get("actions", []))
        resources = statement.get("resources", [])
        if statement.get("effect", "Allow") != "Allow" or "not_actions" in statement or "not_resources" in statement:
            problems.append(f"{sid}: only plain Allow statements are expected")
        if any("*" in a for a in actions):
            problems.append(f"{sid}: wildcard action in {sorted(actions)}")
        if actions <= {"logs:CreateLogStream", "logs:PutLogEvents"} and actions and guard is None:
            if not resources or any(r not in (log_group_arn, log_group_arn + ":*") for r in resources):
                problems.append(f"{sid}: log resources {resources} are not the function's log group ({log_group_arn}[:*])")
        elif actions == XRAY_ACTIONS and guard is not None:
            if "each.value.tracing" not in guard:
                problems.append(f"{sid}: the X-Ray statement is not conditional on tracing ({guard})")
            if resources != ["*"]:
                problems.append(f"{sid}: X-Ray resources {resources} (the actions accept only '*')")
        else:
            problems.append(f"{sid}: unexpected statement: actions {sorted(actions)}, resources {resources}, dynamic {guard}")
    return problems


def check_function_url(stack):
    problems = []
    url = stack.resource("aws_lambda_function_url", "function")
    if url.get("for_each") != "${local.urls}" or "if f.url != null" not in stack.locals().get("urls", ""):
        problems.append("function URLs are not limited to the functions that ask for one (url != null)")
    if url.get("authorization_type") != "${each.value.authorization_type}" or url.get("invoke_mode") != "${each.value.invoke_mode}":
        problems.append("the function URL does not take authorization_type and invoke_mode from the functions variable")
    defaults = optional_defaults(stack, "functions")
    if defaults.get("authorization_type") != "AWS_IAM":
        problems.append(f"url.authorization_type defaults to {defaults.get('authorization_type')!r}, not AWS_IAM")
    if defaults.get("invoke_mode") != "BUFFERED":
        problems.append(f"url.invoke_mode defaults to {defaults.get('invoke_mode')!r}, not BUFFERED")
    if allowed_values(stack, "functions", "url.authorization_type") != {"AWS_IAM", "NONE"}:
        problems.append("url.authorization_type is not validated to AWS_IAM | NONE")
    if allowed_values(stack, "functions", "url.invoke_mode") != {"BUFFERED", "RESPONSE_STREAM"}:
        problems.append("url.invoke_mode is not validated to BUFFERED | RESPONSE_STREAM")
    if stack.variable("functions").get("default", {}) and any(f.get("url") for f in stack.variable("functions")["default"].values()):
        problems.append("a default function has a function URL")
    return problems


def check_tracing_optional(stack):
    tracing = block(stack.function(), "tracing_config")
    problems = []
    if tracing.get("mode") != '${each.value.tracing ? "Active" : "PassThrough"}':
        problems.append(f"tracing_config.mode is {tracing.get('mode')!r}, not Active only when each.value.tracing")
    if optional_defaults(stack, "functions").get("tracing") != "false":
        problems.append("tracing is not off by default")
    return problems


def check_versions_and_tags(stack):
    problems = []
    terraform = stack.terraform()
    if terraform.get("required_version") != ">= 1.6":
        problems.append(f"required_version is {terraform.get('required_version')!r}, not '>= 1.6'")
    aws = block(terraform, "required_providers").get("aws", {})
    if aws.get("source") != "hashicorp/aws" or not re.fullmatch(r"~> 6(\.\d+)?", aws.get("version", "")):
        problems.append(f"the aws provider is {aws}, not hashicorp/aws ~> 6")
    tags = block(stack.provider("aws"), "default_tags").get("tags")
    if tags != "${var.tags}":
        problems.append(f"default_tags are {tags!r}, not var.tags")
    return problems


SKIP = re.compile(r"checkov:skip=(CKV2?_[A-Z]+_\d+):?(.*)")


def checkov_skips(directory=STACK):
    """(check id, reason) of every #checkov:skip comment in the *.tf files."""
    found = []
    for tf in sorted(Path(directory).glob("*.tf")):
        for line in tf.read_text(encoding="utf-8").splitlines():
            m = SKIP.search(line)
            if m:
                found.append((m.group(1), m.group(2).strip()))
    return found


def check_skips_have_reasons(stack):
    """Every checkov skip says why, in a sentence a reviewer can judge (8 words or more)."""
    return [f"{check}: reason {reason!r} is too short" for check, reason in checkov_skips(stack.dir) if len(reason.split()) < 8]


CHECKS = [
    check_runtime_and_handler,
    check_code_hash_is_of_filename,
    check_zip_paths,
    check_architecture_validated,
    check_memory_and_timeout_validated,
    check_log_group_before_function,
    check_role_policy_scoped_to_log_group,
    check_function_url,
    check_tracing_optional,
    check_versions_and_tags,
    check_skips_have_reasons,
]


def value_problems(stack, values):
    """What the stack's validations (as extracted above) reject in a tfvars-like dict."""
    problems = []
    name_rule = re.search(r'regex\("(.+?)", name\)', " ".join(validations(stack, "functions")))
    attributes = set(optional_defaults(stack, "functions")) | {"zip", "url"}
    for name, f in values.get("functions", {}).items():
        if not name_rule or not re.fullmatch(name_rule.group(1), name):
            problems.append(f"{name}: not a valid function name")
        unknown = set(f) - attributes - {"authorization_type", "invoke_mode"}
        if unknown:
            problems.append(f"{name}: unknown attributes {sorted(unknown)}")
        for attribute in ["bootstrap", "architecture"]:
            if attribute in f and f[attribute] not in (allowed_values(stack, "functions", attribute) or set()):
                problems.append(f"{name}: {attribute} {f[attribute]!r} is not allowed")
        for attribute in ["memory_size", "timeout"]:
            low, high = bounds(stack, "functions", attribute) or (None, None)
            if attribute in f and not (low is not None and low <= f[attribute] <= high):
                problems.append(f"{name}: {attribute} {f[attribute]} is outside {low}..{high}")
        for attribute, setting in (f.get("url") or {}).items():
            if setting not in (allowed_values(stack, "functions", "url." + attribute) or set()):
                problems.append(f"{name}: url.{attribute} {setting!r} is not allowed")
    if "log_retention_days" in values:
        rule = re.search(r"contains\(\[([^\]]*)\]", " ".join(validations(stack, "log_retention_days")))
        if not rule or values["log_retention_days"] not in {int(d) for d in rule.group(1).split(",")}:
            problems.append(f"log_retention_days {values['log_retention_days']} is not allowed")
    return problems
