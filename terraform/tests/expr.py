"""Just enough of Terraform's expression language and type system to evaluate this stack's
validations, module arguments, counts, locals and outputs without a Terraform binary.

An expression, as python-hcl2 8 prints it (the text inside "${...}"), is translated to a
Python expression and evaluated with the functions below. The subset: literals, lists and
objects, var./each./local./module./resource references, indexes and [*] splats, comparison
and arithmetic operators, && || ! (both sides always evaluated, as Terraform before 1.12 does,
so a condition that would need short-circuiting fails here too), `c ? a : b` (only the branch
taken is evaluated), [for ...] and {for ...} expressions, "${...}" templates, and the
functions the stack calls. Anything else raises an error instead of guessing.
"""

import ast
import base64
import hashlib
import json
import math
import re
from pathlib import Path


class Obj(dict):
    """An object or map value: attributes are its keys (var.url.invoke_mode)."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"no attribute {name!r} in {dict(self)}") from None


class Instances(list):
    """The instances of a resource with count, indexable with [*] (a splat)."""

    def __getitem__(self, index):
        if index is STAR:
            return Splat(self)
        return list.__getitem__(self, index)


class Splat(list):
    def __getattr__(self, name):
        return Splat(getattr(item, name) for item in self)


STAR = object()

# ---------------------------------------------------------------------------------------
# Functions.


def _can(thunk):
    try:
        thunk()
        return True
    except Exception:  # noqa: BLE001 - can() turns every error into false
        return False


def _regex(pattern, string):
    if not isinstance(string, str):
        raise TypeError(f"regex on {string!r}")
    m = re.search(pattern, string)
    if not m:
        raise ValueError(f"{pattern!r} does not match {string!r}")
    return m.group(0)


def _contains(collection, value):
    return value in list(collection)


def _alltrue(values):
    values = list(values)
    if not all(isinstance(v, bool) for v in values):
        raise TypeError(f"alltrue of {values!r}")
    return all(values)


def _coalesce(*values):
    for v in values:
        if v is not None and v != "":
            return v
    raise ValueError("coalesce: no non-null, non-empty argument")


def _one(values):
    values = list(values)
    if len(values) > 1:
        raise ValueError("one: more than one element")
    return values[0] if values else None


def _filebase64sha256(path):
    return base64.b64encode(hashlib.sha256(Path(path).read_bytes()).digest()).decode()


def _bool(value):
    if not isinstance(value, bool):
        raise TypeError(f"{value!r} is not a bool")
    return value


def _and(*values):
    return all([_bool(v) for v in values])


def _or(*values):
    return any([_bool(v) for v in values])


def _keys(m):
    return sorted(m)


def _iter1(collection):
    """[for v in c : ...]: a map gives its values in key order, a list its elements."""
    return [collection[k] for k in sorted(collection)] if isinstance(collection, dict) else list(collection)


def _iter2(collection):
    """[for k, v in c : ...]: (key, value) of a map in key order, (index, element) of a list."""
    return [(k, collection[k]) for k in sorted(collection)] if isinstance(collection, dict) else list(enumerate(collection))


FUNCTIONS = {
    "_can": _can,
    "_and": _and,
    "_or": _or,
    "_iter1": _iter1,
    "_iter2": _iter2,
    "_Obj": Obj,
    "_STAR": STAR,
    "contains": _contains,
    "regex": _regex,
    "alltrue": _alltrue,
    "anytrue": lambda values: any(_bool(v) for v in values),
    "coalesce": _coalesce,
    "one": _one,
    "floor": math.floor,
    "length": len,
    "keys": _keys,
    "values": _iter1,
    "setintersection": lambda *sets: sorted(set.intersection(*(set(s) for s in sets))),
    "filebase64sha256": _filebase64sha256,
    "merge": lambda *maps: Obj({k: v for m in maps for k, v in m.items()}),
}

# ---------------------------------------------------------------------------------------
# Translation to Python.

TOKEN = re.compile(
    r"\s*(?:(?P<number>\d+(?:\.\d+)?)|(?P<name>[A-Za-z_][A-Za-z0-9_-]*)"
    r"|(?P<op>==|!=|>=|<=|&&|\|\||=>|\.\.\.|[-+*/%<>!?:.,=()\[\]{}])|(?P<quote>\"))"
)


def _string(text, i):
    """The template starting after the quote at text[i-1]: (parts, index after the closing
    quote); parts are literal strings and ("expr", source) pairs."""
    parts, literal = [], ""
    while True:
        c = text[i]
        if c == '"':
            parts.append(literal)
            return parts, i + 1
        if c == "\\":
            literal += json.loads('"' + text[i : i + 2] + '"') if text[i + 1] != "u" else json.loads('"' + text[i : i + 6] + '"')
            i += 2 if text[i + 1] != "u" else 6
        elif text.startswith("$${", i):
            literal += "${"
            i += 3
        elif text.startswith("${", i):
            depth, j = 1, i + 2
            while depth:
                if text[j] == '"':
                    _, j = _string(text, j + 1)
                    continue
                depth += {"{": 1, "}": -1}.get(text[j], 0)
                j += 1
            parts += [literal, ("expr", text[i + 2 : j - 1])]
            literal, i = "", j
        else:
            literal += c
            i += 1


def tokenize(text):
    tokens, i = [], 0
    while i < len(text):
        if text[i:].strip() == "":
            break
        m = TOKEN.match(text, i)
        if not m:
            raise SyntaxError(f"cannot read {text[i:]!r}")
        if m.group("quote"):
            parts, i = _string(text, m.end())
            tokens.append(("string", parts))
            continue
        kind = m.lastgroup
        tokens.append((kind, m.group(kind)))
        i = m.end()
    return tokens


CLOSE = {"(": ")", "[": "]", "{": "}"}


def _group(tokens, i):
    """Nest brackets: a list of tokens and ("group", opener, [tokens]) items."""
    out = []
    while i < len(tokens):
        kind, value = tokens[i]
        if kind == "op" and value in CLOSE:
            inner, i = _group(tokens, i + 1)
            out.append(("group", value, inner))
            continue
        if kind == "op" and value in CLOSE.values():
            return out, i + 1
        out.append(tokens[i])
        i += 1
    return out, i


def _split(items, separator):
    parts, current = [], []
    for item in items:
        if item == ("op", separator):
            parts.append(current)
            current = []
        else:
            current.append(item)
    if current:
        parts.append(current)
    return parts


def _index(items, token):
    return next((n for n, item in enumerate(items) if item == token), None)


def _render(items):
    """One expression: a conditional splits at its first top-level `?` and the `:` that
    pairs with it."""
    q = _index(items, ("op", "?"))
    if q is not None:
        depth = 0
        for n in range(q + 1, len(items)):
            if items[n] == ("op", "?"):
                depth += 1
            elif items[n] == ("op", ":"):
                if depth == 0:
                    cond, yes, no = items[:q], items[q + 1 : n], items[n + 1 :]
                    return f"(({_render(yes)}) if _bool({_render(cond)}) else ({_render(no)}))"
                depth -= 1
        raise SyntaxError("? without :")
    return " ".join(_atom(items, n) for n in range(len(items)))


WORDS = {"null": "None", "true": "True", "false": "False"}
OPS = {"&&": "and", "||": "or", "!": "not"}


def _atom(items, n):
    kind, value = items[n][0], items[n][1]
    if kind == "number":
        return value
    if kind == "name":
        previous = items[n - 1] if n else None
        if previous == ("op", "."):
            return value  # an attribute
        if value in WORDS:
            return WORDS[value]
        if value == "can":
            return "_can"
        if value.replace("-", "_") != value:
            raise SyntaxError(f"name {value!r}")
        return value
    if kind == "string":
        pieces = [repr(p) if isinstance(p, str) else f"_str({_render(_group(tokenize(p[1]), 0)[0])})" for p in value]
        return "(" + " + ".join(pieces) + ")"
    if kind == "op":
        if value == ".":
            return "."
        return OPS.get(value, value)
    if kind == "group":
        opener, inner = value, items[n][2]
        previous = items[n - 1] if n else None
        if opener == "(":
            if previous == ("name", "can"):
                return f"(lambda: {_render(inner)})"
            return "(" + ", ".join(_render(part) for part in _split(inner, ",")) + ")"
        if opener == "[":
            if inner and inner[0] == ("name", "for"):
                return "[" + _for(inner[1:], False) + "]"
            if inner == [("op", "*")]:
                return "[_STAR]"
            return "[" + ", ".join(_render(part) for part in _split(inner, ",")) + "]"
        if inner and inner[0] == ("name", "for"):
            return "_Obj({" + _for(inner[1:], True) + "})"
        pairs = []
        for part in _split(inner, ","):
            eq = _index(part, ("op", "="))
            key = part[0][1] if eq == 1 and part[0][0] == "name" else _render(part[:eq])
            pairs.append(f"{key!r}: {_render(part[eq + 1:])}" if eq == 1 and part[0][0] == "name" else f"{key}: {_render(part[eq + 1:])}")
        return "_Obj({" + ", ".join(pairs) + "})"
    raise SyntaxError(f"token {items[n]!r}")


def _for(items, is_object):
    """`k, v in coll : body [if cond]` (after `for`), as a comprehension's inside."""
    inside = _index(items, ("name", "in"))
    names = [t[1] for t in items[:inside] if t[0] == "name"]
    colon = _index(items, ("op", ":"))
    collection, body = items[inside + 1 : colon], items[colon + 1 :]
    guard = _index(body, ("name", "if"))
    condition = ""
    if guard is not None:
        body, condition = body[:guard], f" if _bool({_render(body[guard + 1:])})"
    iterate = f"_iter2({_render(collection)})" if len(names) == 2 else f"_iter1({_render(collection)})"
    if is_object:
        arrow = _index(body, ("op", "=>"))
        result = f"{_render(body[:arrow])}: {_render(body[arrow + 1:])}"
    else:
        result = _render(body)
    return f"{result} for {', '.join(names)} in {iterate}{condition}"


class _Eager(ast.NodeTransformer):
    """`a and b` -> _and(a, b): evaluate both sides, as Terraform does."""

    def visit_BoolOp(self, node):
        self.generic_visit(node)
        name = "_and" if isinstance(node.op, ast.And) else "_or"
        return ast.copy_location(ast.Call(func=ast.Name(name, ast.Load()), args=node.values, keywords=[]), node)


def translate(expression):
    return _compile(_render(_group(tokenize(expression), 0)[0]), expression)


def _compile(source, name):
    tree = ast.fix_missing_locations(_Eager().visit(ast.parse(source, mode="eval")))
    return compile(tree, name, "eval")


def _str(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, str)):
        return str(value)
    raise TypeError(f"cannot interpolate {value!r}")


def evaluate(expression, scope):
    """The value of one expression (without "${...}") with `scope` (var, each, local...)."""
    return _run(translate(expression), scope)


def _run(code, scope):
    # The scope goes into the globals: a comprehension (Python 3.11) does not see eval's locals.
    return eval(code, {"__builtins__": {}, "_bool": _bool, "_str": _str, **FUNCTIONS, **scope})  # noqa: S307


def value(node, scope):
    """The value of an attribute as python-hcl2 gives it: "${...}" expressions, templates,
    literals, and lists and objects of them."""
    if isinstance(node, str):
        m = re.fullmatch(r"\$\{(.*)\}", node, re.S)
        if m:
            return evaluate(m.group(1), scope)
        if "${" in node:
            return evaluate('"' + node.replace('"', '\\"') + '"', scope)
        return node
    if isinstance(node, list):
        return [value(v, scope) for v in node]
    if isinstance(node, dict):
        return Obj({k: value(v, scope) for k, v in node.items() if not k.startswith("__")})
    return node


# ---------------------------------------------------------------------------------------
# Types: the constraint of a variable, and converting a value to it (optional attributes
# and their defaults), as Terraform does before the validations run.


def parse_type(text):
    m = re.fullmatch(r"\$\{(.*)\}", text, re.S)
    items = _group(tokenize(m.group(1) if m else text), 0)[0]
    return _type(items)


def _type(items):
    kind = items[0][1]
    if kind in ("string", "number", "bool", "any"):
        return (kind,)
    inner = items[1][2]
    if kind in ("list", "set", "map"):
        return (kind, _type(inner))
    if kind == "object":
        attributes = {}
        for part in _split(inner[0][2], ","):
            name, spec = part[0][1], part[2:]
            if spec[0] == ("name", "optional"):
                arguments = _split(spec[1][2], ",")
                default = _run(_compile(_render(arguments[1]), "default"), {}) if len(arguments) > 1 else None
                attributes[name] = (_type(arguments[0]), True, default)
            else:
                attributes[name] = (_type(spec), False, None)
        return ("object", attributes)
    raise SyntaxError(f"type {items!r}")


def convert(constraint, v, where="value"):
    if v is None:
        return None
    kind = constraint[0]
    if kind == "any":
        return v
    if kind == "string":
        if isinstance(v, bool) or not isinstance(v, (str, int, float)):
            raise TypeError(f"{where}: a string is required, not {v!r}")
        return str(v)
    if kind == "number":
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise TypeError(f"{where}: a number is required, not {v!r}")
        return v
    if kind == "bool":
        if not isinstance(v, bool):
            raise TypeError(f"{where}: a bool is required, not {v!r}")
        return v
    if kind in ("list", "set"):
        if not isinstance(v, list):
            raise TypeError(f"{where}: a list is required, not {v!r}")
        return [convert(constraint[1], item, f"{where}[{n}]") for n, item in enumerate(v)]
    if kind == "map":
        if not isinstance(v, dict):
            raise TypeError(f"{where}: a map is required, not {v!r}")
        return Obj({k: convert(constraint[1], item, f"{where}[{k!r}]") for k, item in v.items()})
    attributes = constraint[1]
    if not isinstance(v, dict):
        raise TypeError(f"{where}: an object is required, not {v!r}")
    unexpected = set(v) - set(attributes)
    if unexpected:
        raise TypeError(f"{where}: unexpected attributes {sorted(unexpected)}")
    out = Obj()
    for name, (attribute_type, optional, default) in attributes.items():
        given = v.get(name)
        if given is None and not optional:
            raise TypeError(f"{where}: attribute {name!r} is required")
        out[name] = convert(attribute_type, default if given is None else given, f"{where}.{name}")
    return out
