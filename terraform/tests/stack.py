"""The Terraform code as python-hcl2 parses it, a model of what Terraform would do with it,
and the properties it must have.

Two directories: MODULE, terraform/modules/function (one function: its log group, role,
policy, function and optional URL), and ROOT, terraform/ (the provider, and the module called
for this repository's examples). `Stack(directory)` holds the blocks of one directory's *.tf
files. expr.py evaluates their expressions, so the model below can

* resolve a module's inputs as Terraform does (defaults, `nullable = false`, optional object
  attributes) and run its validations: `inputs`, `rejected`;
* plan the module's resources and outputs for given inputs: `plan` (attributes the provider
  computes, such as ARNs, are placeholders "<computed ...>");
* expand the root for a tfvars file into the module calls it makes: `module_calls`.

Each ``check_*`` function takes a parsed directory and returns a list of problems, empty when
the property holds: MODULE_CHECKS for the module, ROOT_CHECKS for the root. test_stack.py
asserts they are all empty; test_checks_bite.py breaks a copy and asserts the matching check
reports it.

python-hcl2 8 gives expressions as strings, "${...}" around anything that is not a literal.
"""

import re
import tempfile
import zipfile
from pathlib import Path

import hcl2
from hcl2.utils import SerializationOptions

import expr

ROOT = Path(__file__).resolve().parent.parent
MODULE = ROOT / "modules" / "function"
OPTIONS = SerializationOptions(strip_string_quotes=True, explicit_blocks=False)

XRAY_ACTIONS = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}
# The module's outputs, as the brief of issue 19 lists them, and the zip's hash.
MODULE_OUTPUTS = {"function_arn", "function_name", "invoke_arn", "function_url", "role_arn", "role_name", "log_group_name", "code_sha256"}
# Arguments of a module block that are not the module's inputs.
META_ARGUMENTS = {"source", "version", "count", "for_each", "providers", "depends_on"}


def parse(path):
    with open(path, encoding="utf-8") as f:
        return hcl2.load(f, serialization_options=OPTIONS)


class Stack:
    """Every block of the *.tf files of one directory (not of its subdirectories)."""

    def __init__(self, directory=ROOT):
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

    def variables(self):
        return {name: body for entry in self.blocks.get("variable", []) for name, body in entry.items()}

    def outputs(self):
        return {name: body for entry in self.blocks.get("output", []) for name, body in entry.items()}

    def modules(self):
        return {name: body for entry in self.blocks.get("module", []) for name, body in entry.items()}

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
            merged.update({k: v for k, v in entry.items() if not k.startswith("__")})
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


# ---------------------------------------------------------------------------------------
# The model: inputs, validations, plan, module calls.


class Invalid(Exception):
    """Terraform would refuse the values: a type error, a missing input or a validation."""


def inputs(stack, given):
    """The variables' values for `given` (name -> value; an absent name is unset), as the
    validations and expressions see them."""
    values = expr.Obj()
    for name, body in stack.variables().items():
        has_default = "default" in body
        v = given.get(name)
        if v is None and (name not in given or body.get("nullable", True) is False):
            if not has_default:
                raise Invalid(f"{name}: required, and not set")
            v = body["default"]
        try:
            values[name] = expr.convert(expr.parse_type(body.get("type", "any")), v, name)
        except TypeError as e:
            raise Invalid(str(e)) from None
    unknown = set(given) - set(values)
    if unknown:
        raise Invalid(f"unknown variables {sorted(unknown)}")
    return values


def validation_errors(stack, values):
    """The error_message of every validation that fails for `values` (from `inputs`)."""
    errors = []
    for name, body in stack.variables().items():
        for rule in body.get("validation", []):
            try:
                ok = expr.evaluate(inner(rule["condition"]), {"var": values})
            except Exception as e:  # noqa: BLE001 - Terraform reports a condition that errors as invalid
                errors.append(f"{name}: the condition fails to evaluate ({e})")
                continue
            if ok is not True:
                errors.append(rule["error_message"])
    return errors


def rejected(stack, given):
    """Why Terraform would refuse `given` for this directory's variables; [] if it accepts."""
    try:
        return validation_errors(stack, inputs(stack, given))
    except Invalid as e:
        return [str(e)]


class Resource(expr.Obj):
    """A planned resource: its arguments, evaluated when read; a placeholder for what only
    the provider knows."""

    def __init__(self, address, body, scope):
        super().__init__()
        self.address, self.body, self.scope = address, body, scope

    def __getattr__(self, name):
        if name in self.body and not name.startswith("__") and name not in ("dynamic", "count", "depends_on"):
            return expr.value(self.body[name], self.scope)
        return f"<computed {self.address}.{name}>"

    def blocks(self, name):
        """The nested blocks `name`, static or dynamic, each as a dict of evaluated arguments."""
        found = [expr.value(b, self.scope) for b in self.body.get(name, [])]
        for dynamic in self.body.get("dynamic", []):
            for label, spec in dynamic.items():
                if label == name:
                    for item in expr.value(spec["for_each"], self.scope):
                        scope = {**self.scope, label: expr.Obj(value=item)}
                        found += [expr.value(content, scope) for content in spec["content"]]
        return found


def plan(stack, given):
    """(resources, outputs) Terraform would plan for the module in `stack` with inputs
    `given`: resources by address ("aws_lambda_function.function", "...url.function[0]")."""
    values = inputs(stack, given)
    errors = validation_errors(stack, values)
    if errors:
        raise Invalid("; ".join(errors))
    scope = {"var": values, "data": expr.Obj(), "path": expr.Obj(module=str(stack.dir), root=str(stack.dir))}
    planned = {}
    for kind in ("data", "resource"):
        for entry in stack.blocks.get(kind, []):
            for rtype, named in entry.items():
                for name, body in named.items():
                    prefix = "data." if kind == "data" else ""
                    address = f"{prefix}{rtype}.{name}"
                    count = expr.value(body["count"], scope) if "count" in body else None
                    if count is None:
                        instance = Resource(address, body, scope)
                        planned[address] = instance
                    else:
                        instance = expr.Instances(Resource(f"{address}[{n}]", body, scope) for n in range(count))
                        planned.update({f"{address}[{n}]": r for n, r in enumerate(instance)})
                    target = scope["data"] if kind == "data" else scope
                    target.setdefault(rtype, expr.Obj())[name] = instance
    outputs = {name: expr.value(body["value"], scope) for name, body in stack.outputs().items()}
    return planned, outputs


def root_inputs(root, tfvars):
    """The root's variables for a tfvars dict (python-hcl2's parse of the file)."""
    given = {k: v for k, v in tfvars.items() if not k.startswith("__")}
    values = inputs(root, given)
    errors = validation_errors(root, values)
    if errors:
        raise Invalid("; ".join(errors))
    return values


def root_locals(root, values):
    scope = {"var": values, "path": expr.Obj(module=str(root.dir), root=str(root.dir))}
    pending = dict(root.locals())
    scope["local"] = expr.Obj()
    while pending:
        done = {}
        for name, node in pending.items():
            try:
                done[name] = expr.value(node, scope)
            except AttributeError:
                continue  # refers to a local not evaluated yet
        if not done:
            raise Invalid(f"locals that cannot be evaluated: {sorted(pending)}")
        scope["local"].update(done)
        pending = {k: v for k, v in pending.items() if k not in done}
    return scope["local"]


def module_calls(root, tfvars):
    """address -> (module block name, the inputs it passes) for every module instance the
    root plans with `tfvars`."""
    try:
        return _module_calls(root, tfvars)
    except (AttributeError, KeyError, TypeError, ValueError) as e:
        raise Invalid(f"the root cannot be evaluated with {tfvars}: {e!r}") from None


def _module_calls(root, tfvars):
    values = root_inputs(root, tfvars)
    scope = {"var": values, "local": root_locals(root, values)}
    calls = {}
    for name, body in root.modules().items():
        arguments = {k: v for k, v in body.items() if k not in META_ARGUMENTS and not k.startswith("__")}
        if "for_each" in body:
            for key, item in sorted(expr.value(body["for_each"], scope).items()):
                each = {**scope, "each": expr.Obj(key=key, value=item)}
                calls[f'module.{name}["{key}"]'] = (name, {k: expr.value(v, each) for k, v in arguments.items()})
        else:
            count = expr.value(body["count"], scope) if "count" in body else None
            for n in range(1 if count is None else count):
                address = f"module.{name}" if count is None else f"module.{name}[{n}]"
                calls[address] = (name, {k: expr.value(v, {**scope, "count": expr.Obj(index=n)}) for k, v in arguments.items()})
    return calls


def module_dir(root, name):
    source = root.modules()[name]["source"]
    if not source.startswith("./") and not source.startswith("../"):
        raise KeyError(f"module {name} is not local: {source}")
    return (root.dir / source).resolve()


# ---------------------------------------------------------------------------------------
# The module's properties.

def _fixture_zip():
    """A small zip to plan with: filebase64sha256 reads the file."""
    path = Path(tempfile.mkdtemp(prefix="lambda-libc-tf-")) / "bootstrap-arm64.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("bootstrap", "#!/bin/sh\n")
    return str(path)


ZIP = _fixture_zip()


def minimal(**settings):
    """The module's required inputs (a zip that exists, a name) and `settings`."""
    return {"filename": ZIP, "function_name": "fn", **settings}


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
    problems = []
    if fn.get("filename") != "${var.filename}":
        problems.append(f"filename is {fn.get('filename')!r}, not var.filename")
    if fn.get("source_code_hash") != "${filebase64sha256(var.filename)}":
        problems.append(f"source_code_hash is {fn.get('source_code_hash')!r}, not filebase64sha256(var.filename) (the hash of filename)")
    planned, outputs = plan(stack, minimal())
    function = planned["aws_lambda_function.function"]
    if function.source_code_hash != expr.FUNCTIONS["filebase64sha256"](ZIP) or function.filename != ZIP:
        problems.append("the planned function does not upload the zip with that zip's hash")
    for name in ("foo", "bootstrap", "bootstrap.zip.sha256"):
        if not rejected(stack, minimal(filename=name)):
            problems.append(f"filename {name!r} (not a .zip) is accepted")
    return problems


def required_inputs(stack):
    """The variables without a default: the inputs a caller must set."""
    return {name for name, body in stack.variables().items() if "default" not in body}


def check_required_inputs(stack):
    required = required_inputs(stack)
    if required != {"filename", "function_name"}:
        return [f"the required inputs are {sorted(required)}, not filename and function_name"]
    return []


def check_function_name_validated(stack):
    problems = []
    for good in ("a", "lambda-libc-echo", "x" * 59, "A_b-9"):
        if rejected(stack, minimal(function_name=good)):
            problems.append(f"function_name {good!r} is refused")
    # 60: "<name>-role" would pass IAM's 64 characters.
    for bad in ("", "x" * 60, "my function", "fn:1", "ünï"):
        if not rejected(stack, minimal(function_name=bad)):
            problems.append(f"function_name {bad!r} is accepted")
    planned, outputs = plan(stack, minimal(function_name="lambda-libc-echo"))
    if planned["aws_iam_role.function"].name != "lambda-libc-echo-role":
        problems.append(f"the role is {planned['aws_iam_role.function'].name!r}, not <function_name>-role")
    return problems


def check_architecture_validated(stack):
    problems = []
    fn = stack.function()
    if fn.get("architectures") != ["${var.architecture}"]:
        problems.append(f"architectures is {fn.get('architectures')!r}, not [var.architecture]")
    for arch in ("x86_64", "arm64"):
        try:
            planned, _ = plan(stack, minimal(architecture=arch))
            if planned["aws_lambda_function.function"].architectures != [arch]:
                problems.append(f"architecture {arch}: the function gets {planned['aws_lambda_function.function'].architectures}")
        except Invalid as e:
            problems.append(f"architecture {arch} is refused: {e}")
    for bad in ("i386", "amd64", "aarch64", "ARM64", ""):
        if not rejected(stack, minimal(architecture=bad)):
            problems.append(f"architecture {bad!r} is accepted")
    if inputs(stack, minimal())["architecture"] not in ("x86_64", "arm64"):
        problems.append("the default architecture is not x86_64 or arm64")
    return problems


def check_memory_and_timeout_validated(stack):
    problems = []
    for attribute, variable, (low, high), default in [("memory_size", "memory_size", (128, 10240), 128), ("timeout", "timeout", (1, 900), 3)]:
        fn = stack.function()
        if fn.get(attribute) != "${var." + variable + "}":
            problems.append(f"{attribute} is {fn.get(attribute)!r}, not var.{variable}")
        for good in (low, high):
            if rejected(stack, minimal(**{variable: good})):
                problems.append(f"{variable} {good} is refused")
        for bad in (low - 1, high + 1, low + 0.5):
            if not rejected(stack, minimal(**{variable: bad})):
                problems.append(f"{variable} {bad} is accepted (allowed: whole numbers {low}..{high})")
        if inputs(stack, minimal())[variable] != default:
            problems.append(f"{variable} defaults to {inputs(stack, minimal())[variable]}, not {default}")
    return problems


def check_reserved_concurrency(stack):
    problems = []
    if stack.function().get("reserved_concurrent_executions") != "${var.reserved_concurrency}":
        problems.append("reserved_concurrent_executions is not var.reserved_concurrency")
    for good in (-1, 0, 10):
        if rejected(stack, minimal(reserved_concurrency=good)):
            problems.append(f"reserved_concurrency {good} is refused")
    for bad in (-2, 1.5):
        if not rejected(stack, minimal(reserved_concurrency=bad)):
            problems.append(f"reserved_concurrency {bad} is accepted")
    if inputs(stack, minimal())["reserved_concurrency"] != -1:
        problems.append("reserved_concurrency does not default to -1 (unreserved)")
    return problems


def check_environment(stack):
    problems = []
    planned, _ = plan(stack, minimal())
    if planned["aws_lambda_function.function"].blocks("environment"):
        problems.append("a function without environment variables gets an environment block")
    planned, _ = plan(stack, minimal(environment_variables={"GREETING": "hello"}))
    if planned["aws_lambda_function.function"].blocks("environment") != [{"variables": {"GREETING": "hello"}}]:
        problems.append("environment_variables do not reach the function's environment block")
    for bad in ("A", "1ABC", "MY-KEY", "_HANDLER", "AWS_REGION", "AWS_LAMBDA_RUNTIME_API"):
        if not rejected(stack, minimal(environment_variables={bad: "x"})):
            problems.append(f"environment variable {bad!r} is accepted")
    for good in ("RUST_LOG", "ab", "TZ"):
        if rejected(stack, minimal(environment_variables={good: "x"})):
            problems.append(f"environment variable {good!r} is refused")
    return problems


KEY = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def check_kms_keys(stack):
    problems = []
    planned, _ = plan(stack, minimal(log_kms_key_arn=KEY, environment_kms_key_arn=KEY))
    if planned["aws_cloudwatch_log_group.function"].kms_key_id != KEY:
        problems.append("log_kms_key_arn does not reach the log group")
    if planned["aws_lambda_function.function"].kms_key_arn != KEY:
        problems.append("environment_kms_key_arn does not reach the function")
    for variable in ("log_kms_key_arn", "environment_kms_key_arn"):
        for bad in ("alias/aws/lambda", "1234abcd-12ab-34cd-56ef-1234567890ab", ""):
            if not rejected(stack, minimal(**{variable: bad})):
                problems.append(f"{variable} {bad!r} is accepted")
    return problems


def check_log_group_before_function(stack):
    fn = stack.function()
    group = stack.resource("aws_cloudwatch_log_group", "function")
    problems = []
    logging = block(fn, "logging_config")
    if logging.get("log_group") != "${aws_cloudwatch_log_group.function.name}":
        problems.append(f"logging_config.log_group is {logging.get('log_group')!r}: the function must reference the log group, which orders it after the group")
    if group.get("retention_in_days") != "${var.log_retention_days}":
        problems.append(f"retention_in_days is {group.get('retention_in_days')!r}, not var.log_retention_days")
    planned, outputs = plan(stack, minimal(function_name="lambda-libc-echo"))
    if planned["aws_cloudwatch_log_group.function"].name != "/aws/lambda/lambda-libc-echo":
        problems.append(f"the log group is {planned['aws_cloudwatch_log_group.function'].name!r}, not Lambda's /aws/lambda/<function name>")
    if planned["aws_cloudwatch_log_group.function"].retention_in_days != 30:
        problems.append("log retention does not default to 30 days")
    for bad in (0, 2, 366):
        if not rejected(stack, minimal(log_retention_days=bad)):
            problems.append(f"log_retention_days {bad} is accepted (0 never expires)")
    for good in (1, 14, 365, 3653):
        if rejected(stack, minimal(log_retention_days=good)):
            problems.append(f"log_retention_days {good} is refused")
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
    if policy.get("role") != "${aws_iam_role.function.id}":
        problems.append(f"the inline policy is attached to {policy.get('role')!r}, not the function's own role")
    if policy.get("policy") != "${data.aws_iam_policy_document.function.json}":
        problems.append(f"the inline policy is {policy.get('policy')!r}, not the function's policy document")
    if stack.function().get("role") != "${aws_iam_role.function.arn}":
        problems.append("the function does not run as aws_iam_role.function")
    extra = [r for r in stack.resources() if r[0] in {"aws_iam_role_policy_attachment", "aws_iam_policy", "aws_iam_policy_attachment"}]
    if extra:
        problems.append(f"further IAM policies: {extra}")

    statements = _statements(stack.data("aws_iam_policy_document", "function"))
    if not statements:
        problems.append("the policy document has no statement")
    log_group_arn = "${aws_cloudwatch_log_group.function.arn}"
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
            if guard != "${var.tracing ? [true] : []}":
                problems.append(f"{sid}: the X-Ray statement is not conditional on tracing ({guard})")
            if resources != ["*"]:
                problems.append(f"{sid}: X-Ray resources {resources} (the actions accept only '*')")
        else:
            problems.append(f"{sid}: unexpected statement: actions {sorted(actions)}, resources {resources}, dynamic {guard}")
    return problems


def check_function_url(stack):
    problems = []
    url = stack.resource("aws_lambda_function_url", "function")
    if url.get("authorization_type") != "${var.url.authorization_type}" or url.get("invoke_mode") != "${var.url.invoke_mode}":
        problems.append("the function URL does not take authorization_type and invoke_mode from var.url")
    planned, outputs = plan(stack, minimal())
    if any(a.startswith("aws_lambda_function_url.") for a in planned) or outputs["function_url"] is not None:
        problems.append("the module makes a function URL by default (url = null)")
    planned, outputs = plan(stack, minimal(url={}))
    urls = [r for a, r in planned.items() if a.startswith("aws_lambda_function_url.")]
    if len(urls) != 1:
        problems.append(f"url = {{}} plans {len(urls)} function URLs, not 1")
    else:
        if (urls[0].authorization_type, urls[0].invoke_mode) != ("AWS_IAM", "BUFFERED"):
            problems.append(f"url = {{}} gives {urls[0].authorization_type} {urls[0].invoke_mode}, not AWS_IAM BUFFERED")
        if urls[0].blocks("cors"):
            problems.append("url = {} has CORS settings")
        if outputs["function_url"] != urls[0].function_url:
            problems.append("the function_url output is not the URL's function_url")
        try:
            planned, _ = plan(stack, minimal(url={"invoke_mode": "RESPONSE_STREAM", "authorization_type": "NONE", "cors": {"allow_origins": ["https://example.com"], "allow_methods": ["GET", "POST"]}}))
        except Invalid as e:
            return problems + [f"a public streaming URL with CORS is refused: {e}"]
        stream = planned["aws_lambda_function_url.function[0]"]
        if (stream.authorization_type, stream.invoke_mode) != ("NONE", "RESPONSE_STREAM"):
            problems.append("url settings do not reach the function URL")
        cors = stream.blocks("cors")
        if len(cors) != 1 or cors[0]["allow_methods"] != ["GET", "POST"] or cors[0]["max_age"] != 0 or cors[0]["allow_credentials"] is not False:
            problems.append(f"url.cors gives the CORS block {cors}")
    for bad in ({"authorization_type": "PUBLIC"}, {"invoke_mode": "STREAM"}, {"cors": {"allow_methods": ["OPTIONS"]}}, {"cors": {"max_age": 86401}}, {"cors": {"max_age": -1}}, {"invoke": "BUFFERED"}):
        if not rejected(stack, minimal(url=bad)):
            problems.append(f"url {bad} is accepted")
    return problems


def check_tracing_optional(stack):
    problems = []
    for setting, mode in ((None, "PassThrough"), (False, "PassThrough"), (True, "Active")):
        planned, _ = plan(stack, minimal(tracing=setting))
        found = planned["aws_lambda_function.function"].blocks("tracing_config")
        if found != [{"mode": mode}]:
            problems.append(f"tracing {setting}: tracing_config {found}, not mode {mode}")
    return problems


def check_outputs(stack):
    problems = []
    outputs = stack.outputs()
    if set(outputs) != MODULE_OUTPUTS:
        problems.append(f"the outputs are {sorted(outputs)}, not {sorted(MODULE_OUTPUTS)}")
    problems += [f"output {name} has no description" for name, body in outputs.items() if not body.get("description")]
    _, values = plan(stack, minimal(function_name="lambda-libc-echo"))
    expected = {
        "function_name": "lambda-libc-echo",
        "log_group_name": "/aws/lambda/lambda-libc-echo",
        "role_name": "lambda-libc-echo-role",
        "function_arn": "<computed aws_lambda_function.function.arn>",
        "invoke_arn": "<computed aws_lambda_function.function.invoke_arn>",
        "role_arn": "<computed aws_iam_role.function.arn>",
        "code_sha256": "<computed aws_lambda_function.function.code_sha256>",
        "function_url": None,
    }
    problems += [f"output {k} is {values.get(k)!r}, not {v!r}" for k, v in expected.items() if values.get(k) != v]
    return problems


def check_null_inputs_take_defaults(stack):
    """A caller passing null gets the default (`nullable = false`) for every variable whose
    default is not null: the root passes null for what a function leaves unset."""
    defaults = inputs(stack, minimal())
    nulls = inputs(stack, minimal(**{name: None for name in defaults if name not in ("filename", "function_name")}))
    return [f"{name}: null stays null instead of the default {v!r}" for name, v in defaults.items() if v is not None and nulls[name] != v]


def check_variables_documented(stack):
    return [f"variable {name} has no description" for name, body in stack.variables().items() if not body.get("description")]


def check_no_provider_block(stack):
    """A module with a provider block cannot be called with for_each or count, and overrides
    the caller's region and tags."""
    return [f"the module configures providers: {stack.blocks['provider']}"] if "provider" in stack.blocks else []


def check_versions(stack):
    problems = []
    terraform = stack.terraform()
    if terraform.get("required_version") != ">= 1.6":
        problems.append(f"required_version is {terraform.get('required_version')!r}, not '>= 1.6'")
    aws = block(terraform, "required_providers").get("aws", {})
    if aws.get("source") != "hashicorp/aws" or not re.fullmatch(r"~> 6\.(2[89]|[3-9]\d)", aws.get("version", "")):
        problems.append(f"the aws provider is {aws}, not hashicorp/aws ~> 6.28 or later 6.x")
    return problems


SKIP = re.compile(r"checkov:skip=(CKV2?_[A-Z]+_\d+):?(.*)")


def checkov_skips(directory=MODULE):
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


MODULE_CHECKS = [
    check_runtime_and_handler,
    check_code_hash_is_of_filename,
    check_required_inputs,
    check_function_name_validated,
    check_architecture_validated,
    check_memory_and_timeout_validated,
    check_reserved_concurrency,
    check_environment,
    check_kms_keys,
    check_log_group_before_function,
    check_role_policy_scoped_to_log_group,
    check_function_url,
    check_tracing_optional,
    check_outputs,
    check_null_inputs_take_defaults,
    check_variables_documented,
    check_no_provider_block,
    check_versions,
    check_skips_have_reasons,
]

# ---------------------------------------------------------------------------------------
# The root's properties.


def check_root_provider_and_tags(root):
    problems = check_versions(root)
    tags = block(root.provider("aws"), "default_tags").get("tags")
    if tags != "${var.tags}":
        problems.append(f"default_tags are {tags!r}, not var.tags")
    if root.resources():
        problems.append(f"resources outside the module: {root.resources()}")
    return problems


def check_root_calls_module(root):
    """Each module block passes every input the module requires and only inputs it declares,
    and each module output the root reads exists."""
    problems = []
    for name, body in root.modules().items():
        module = Stack(module_dir(root, name))
        declared = set(module.variables())
        passed = {k for k in body if k not in META_ARGUMENTS and not k.startswith("__")}
        if passed - declared:
            problems.append(f"module.{name} passes undeclared inputs {sorted(passed - declared)}")
        missing = required_inputs(module) - passed
        if missing:
            problems.append(f"module.{name} does not pass the required inputs {sorted(missing)}")
    texts = [str(body.get("value")) for body in root.outputs().values()]
    module_outputs = {name: set(Stack(module_dir(root, name)).outputs()) for name in root.modules()}
    for text in texts:
        read = re.findall(r"module\.(\w+)(?:\[[^\]]*\])?\.(\w+)", text)
        # `for name, f in module.function : ... f.<output>`
        for variable, name in re.findall(r"for \w+, (\w+) in module\.(\w+)", text):
            read += [(name, attribute) for attribute in re.findall(rf"\b{variable}\.(\w+)", text)]
        problems += [f"an output reads module.{m}.{o}, which the module does not declare" for m, o in read if o not in module_outputs.get(m, set())]
    return problems


def check_zip_paths(root):
    """Default zips: <dist_dir>/bootstrap-<bootstrap>-<architecture>.zip, dist_dir ../dist;
    the API example's bootstrap-rust-api-<architecture>.zip."""
    problems = []
    if root.variable("dist_dir").get("default") != "../dist":
        problems.append(f"dist_dir defaults to {root.variable('dist_dir').get('default')!r}, not '../dist'")
    tfvars = {"functions": {"a": {}, "b": {"architecture": "arm64", "bootstrap": "c-stream"}, "c": {"zip": "x.zip"}}, "api": {"architecture": "arm64"}}
    calls = module_calls(root, tfvars)
    wanted = {
        'module.function["a"]': "../dist/bootstrap-rust-x86_64.zip",
        'module.function["b"]': "../dist/bootstrap-c-stream-arm64.zip",
        'module.function["c"]': "x.zip",
        "module.api[0]": "../dist/bootstrap-rust-api-arm64.zip",
    }
    for address, filename in wanted.items():
        got = calls.get(address, (None, {}))[1].get("filename")
        if got != filename:
            problems.append(f"{address} deploys {got!r}, not {filename!r}")
    dist = module_calls(root, {"dist_dir": "../result", "functions": {"a": {}}})
    if dist['module.function["a"]'][1]["filename"] != "../result/bootstrap-rust-x86_64.zip":
        problems.append("dist_dir does not choose the directory of the zips")
    return problems


def check_root_api(root):
    """The JSON API example is deployed by default, behind a BUFFERED function URL, and not
    with api = null."""
    problems = []
    calls = module_calls(root, {})
    api = [arguments for address, (name, arguments) in calls.items() if name == "api"]
    if len(api) != 1:
        return [f"the defaults deploy {len(api)} API functions, not 1"]
    url = api[0].get("url") or {}
    if url.get("invoke_mode") != "BUFFERED":
        problems.append(f"the API's function URL is {url}, not BUFFERED")
    if not api[0]["filename"].endswith("/bootstrap-rust-api-x86_64.zip"):
        problems.append(f"the API deploys {api[0]['filename']}")
    try:
        if any(name == "api" for name, _ in module_calls(root, {"api": None}).values()):
            problems.append("api = null still deploys the API")
    except Invalid as e:
        problems.append(f"api = null: {e}")
    return problems


def check_root_defaults_reach_module(root):
    """A setting the root leaves unset is null in the call, so the module's default applies:
    the two agree, and one copy of each default lives in the module."""
    problems = []
    module = Stack(module_dir(root, "function"))
    (address, (_, arguments)), = [c for c in module_calls(root, {"api": None}).items()]
    resolved = inputs(module, arguments)
    defaults = inputs(module, minimal())
    for name in ("architecture", "memory_size", "timeout", "reserved_concurrency", "tracing", "environment_variables", "url", "log_retention_days"):
        if resolved[name] != defaults[name]:
            problems.append(f"{address}: {name} is {resolved[name]!r} by default, the module's default is {defaults[name]!r}")
    return problems


def check_moved(root):
    """The moved blocks lead from the layout before the module (resources at the root, keyed
    by function name) to resources the module declares, for the functions of the defaults
    and of example.tfvars."""
    problems = []
    module = Stack(module_dir(root, "function"))
    kinds = {kind for kind, _ in module.resources()}
    moves = [(inner(m["from"]), inner(m["to"])) for m in root.blocks.get("moved", [])]
    covered = set()
    for source, target in moves:
        m = re.fullmatch(r'(\w+)\.function\["([\w-]+)"\]', source or "")
        t = re.fullmatch(r'module\.function\["([\w-]+)"\]\.(\w+)\.function(\[0\])?', target or "")
        if not m or not t or m.group(2) != t.group(1) or m.group(1) != t.group(2) or t.group(2) not in kinds:
            problems.append(f"moved {source} -> {target} is not <type>.function[name] -> module.function[name].<type>.function")
            continue
        if (t.group(3) is not None) != (t.group(2) == "aws_lambda_function_url"):
            problems.append(f"moved {source} -> {target}: only the URL has count, [0]")
        covered.add((m.group(2), m.group(1)))
    example = parse(root.dir / "example.tfvars")
    functions = {**root.variable("functions")["default"], **example["functions"]}
    for name, f in functions.items():
        for kind in kinds - {"aws_lambda_function_url"} | ({"aws_lambda_function_url"} if f.get("url") is not None else set()):
            if (name, kind) not in covered:
                problems.append(f"no moved block for {kind} of {name}")
    return problems


ROOT_CHECKS = [
    check_root_provider_and_tags,
    check_root_calls_module,
    check_zip_paths,
    check_root_api,
    check_root_defaults_reach_module,
    check_moved,
    check_variables_documented,
]
