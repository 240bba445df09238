"""GitHub Actions expressions (`${{ ... }}`), evaluated where their contexts are known.

Only what the harness can know statically is evaluated: literals, `matrix.*`, `inputs.*`
(and `github.event.inputs.*` where given), the operators, and the pure functions
(`fromJSON`, `toJSON`, `format`, `contains`, `startsWith`, `endsWith`, `join`). Anything
else raises `Unknown`, so a value is never guessed.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

_TOKEN = re.compile(
    r"\s*(?:(?P<num>-?(?:0x[0-9a-fA-F]+|\d+(?:\.\d+)?(?:[eE][+-]?\d+)?))"
    r"|(?P<str>'(?:[^']|'')*')"
    r"|(?P<op>==|!=|<=|>=|&&|\|\||[<>!().,\[\]*])"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_-]*))"
)
_EMBEDDED = re.compile(r"\$\{\{(.*?)\}\}", re.DOTALL)


class Unknown(Exception):
    """The expression depends on something not known statically."""


@lru_cache(maxsize=2048)
def _tokens(text: str) -> tuple[tuple[str, str], ...]:
    """The tokens of an expression (cached: the same expressions recur per matrix variant)."""
    out: list[tuple[str, str]] = []
    position = 0
    text = text.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            raise Unknown(f"cannot read expression at {text[position : position + 10]!r}")
        kind = match.lastgroup or ""
        out.append((kind, match.group(kind)))
        position = match.end()
        while position < len(text) and text[position].isspace():
            position += 1
    return tuple(out)


def _truthy(value: Any) -> bool:
    if isinstance(value, float) and math.isnan(value):
        return False
    return value not in (None, False, 0, "", 0.0)


def _coerce(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if value is None:
        return 0
    if isinstance(value, str):
        try:
            return float(value) if value.strip() else 0
        except ValueError:
            return float("nan")
    return value


def _equal(left: Any, right: Any) -> bool:
    if type(left) is type(right) or (isinstance(left, str) and isinstance(right, str)):
        if isinstance(left, str):
            return left.lower() == str(right).lower()
        same_type: bool = left == right
        return same_type
    same: bool = _coerce(left) == _coerce(right)
    return same


def _to_string(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


_FORMAT_PART = re.compile(r"\{\{|\}\}|\{(\d+)\}")


def _format(template: str, args: list[str]) -> str:
    """GitHub's `format()`: `{N}` is argument N, `{{` and `}}` are literal braces."""

    def part(match: re.Match[str]) -> str:
        if match.group(1) is None:
            return match.group(0)[0]
        index = int(match.group(1))
        if index >= len(args):
            raise Unknown(f"format() has no argument {index}")
        return args[index]

    return _FORMAT_PART.sub(part, template)


class _Maybe:
    """The unknown truth value of three-valued (Kleene) evaluation."""

    _instance: _Maybe | None = None

    def __new__(cls) -> _Maybe:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MAYBE"


MAYBE: Any = _Maybe()
"""A value that depends on something not known statically."""

STATUS_FUNCTIONS = frozenset({"success", "always", "failure", "cancelled"})


def kleene_and(left: Any, right: Any) -> Any:
    """`left && right` where either side may be MAYBE (`false && MAYBE` is false)."""
    if left is not MAYBE and not _truthy(left):
        return left
    if right is not MAYBE and not _truthy(right):
        return right if left is not MAYBE else False
    if left is MAYBE or right is MAYBE:
        return MAYBE
    return right


def kleene_or(left: Any, right: Any) -> Any:
    """`left || right` where either side may be MAYBE (`true || MAYBE` is true)."""
    if left is not MAYBE and _truthy(left):
        return left
    if right is not MAYBE and _truthy(right):
        return right
    if left is MAYBE or right is MAYBE:
        return MAYBE
    return right


Node = Callable[[Mapping[str, Any], bool], Any]
"""A compiled expression: its value in a context, read as an `if:` condition or not."""


def _constant(value: Any) -> Node:
    return lambda context, conditions: value


def _lookup(name: str) -> Node:
    return lambda context, conditions: context.get(name, MAYBE)


def _or(left: Node, right: Node) -> Node:
    return lambda context, conditions: kleene_or(
        left(context, conditions), right(context, conditions)
    )


def _and(left: Node, right: Node) -> Node:
    return lambda context, conditions: kleene_and(
        left(context, conditions), right(context, conditions)
    )


def _not(inner: Node) -> Node:
    def run(context: Mapping[str, Any], conditions: bool) -> Any:
        value = inner(context, conditions)
        return MAYBE if value is MAYBE else not _truthy(value)

    return run


def _compare(op: str, left: Node, right: Node) -> Node:
    def run(context: Mapping[str, Any], conditions: bool) -> Any:
        a, b = left(context, conditions), right(context, conditions)
        if a is MAYBE or b is MAYBE:
            return MAYBE
        if op == "==":
            return _equal(a, b)
        if op == "!=":
            return not _equal(a, b)
        a, b = _coerce(a), _coerce(b)
        return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]

    return run


def _index(value: Any, key: Any, conditions: bool) -> Any:
    if value is MAYBE or key is MAYBE:
        return MAYBE
    if key == "*":
        if conditions and isinstance(value, Mapping):
            return list(value.values())
        return MAYBE
    if conditions and isinstance(value, list) and not isinstance(key, int | float):
        return [_index(item, key, conditions) for item in value]
    if isinstance(value, Mapping):
        for candidate in value:
            if str(candidate).lower() == str(key).lower():
                return value[candidate]
        return MAYBE if conditions else None
    if isinstance(value, list) and isinstance(key, int | float) and 0 <= int(key) < len(value):
        return value[int(key)]
    return None


def _indexed(inner: Node, key: Node) -> Node:
    return lambda context, conditions: _index(
        inner(context, conditions), key(context, conditions), conditions
    )


def _call(name: str, arguments: tuple[Node, ...]) -> Node:
    fn = name.lower()

    def run(context: Mapping[str, Any], conditions: bool) -> Any:
        args = [argument(context, conditions) for argument in arguments]
        if fn in STATUS_FUNCTIONS:
            status = context.get("__status__", {})
            return status.get(fn, MAYBE) if isinstance(status, Mapping) else MAYBE
        if fn == "contains" and len(args) == 2 and isinstance(args[0], list):
            haystack, needle = args
            if needle is MAYBE:
                return MAYBE
            if any(item is not MAYBE and _equal(item, needle) for item in haystack):
                return True
            return MAYBE if any(item is MAYBE for item in haystack) else False
        if any(arg is MAYBE for arg in args):
            return MAYBE
        return _function(fn, args)

    return run


class _Compiler:
    """Recursive descent from tokens to a `Node`: an expression is read once and evaluated
    in every context it meets (matrix variants, callers' inputs)."""

    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.position = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token is None or (value is not None and token[1] != value):
            raise Unknown(f"expected {value or 'more'} in expression")
        self.position += 1
        return token

    def parse(self) -> Node:
        node = self.or_()
        if self.peek() is not None:
            raise Unknown("trailing tokens in expression")
        return node

    def or_(self) -> Node:
        node = self.and_()
        while self.peek() == ("op", "||"):
            self.take()
            node = _or(node, self.and_())
        return node

    def and_(self) -> Node:
        node = self.compare()
        while self.peek() == ("op", "&&"):
            self.take()
            node = _and(node, self.compare())
        return node

    def compare(self) -> Node:
        node = self.unary()
        while (token := self.peek()) and token[1] in ("==", "!=", "<", "<=", ">", ">="):
            self.take()
            node = _compare(token[1], node, self.unary())
        return node

    def unary(self) -> Node:
        if self.peek() == ("op", "!"):
            self.take()
            return _not(self.unary())
        return self.postfix(self.primary())

    def primary(self) -> Node:
        kind, value = self.take()
        if kind == "num":
            number = float.fromhex(value) if value.lower().startswith("0x") else float(value)
            return _constant(int(number) if number.is_integer() else number)
        if kind == "str":
            return _constant(value[1:-1].replace("''", "'"))
        if value == "(":
            inner = self.or_()
            self.take(")")
            return inner
        if kind != "name":
            raise Unknown(f"unexpected {value!r} in expression")
        lowered = value.lower()
        if lowered in ("true", "false"):
            return _constant(lowered == "true")
        if lowered == "null":
            return _constant(None)
        if self.peek() == ("op", "("):
            return self.call(value)
        return _lookup(value)

    def postfix(self, node: Node) -> Node:
        while (token := self.peek()) and token[1] in (".", "["):
            self.take()
            if token[1] == ".":
                key = _constant(self.take()[1])
            else:
                key = self.or_()
                self.take("]")
            node = _indexed(node, key)
        return node

    def call(self, name: str) -> Node:
        self.take("(")
        arguments: list[Node] = []
        while self.peek() != ("op", ")"):
            arguments.append(self.or_())
            if self.peek() == ("op", ","):
                self.take()
        self.take(")")
        return _call(name, tuple(arguments))


@lru_cache(maxsize=4096)
def compile_expression(text: str) -> Node:
    """The inside of one `${{ }}`, read once (cached: the same expressions recur per matrix
    variant and per caller); raises Unknown for text that is not an expression."""
    return _Compiler(text).parse()


def _function(fn: str, args: list[Any]) -> Any:
    """The pure functions, on known arguments; MAYBE for the others (`hashFiles`, ...)."""
    if fn == "fromjson":
        try:
            return json.loads(_to_string(args[0]))
        except (ValueError, IndexError) as exc:
            raise Unknown(f"fromJSON of a value that is not JSON: {exc}") from None
    if fn == "tojson":
        return json.dumps(args[0] if args else None)
    if fn == "format" and args:
        return _format(_to_string(args[0]), [_to_string(a) for a in args[1:]])
    if fn in ("contains", "startswith", "endswith") and len(args) == 2:
        h, n = _to_string(args[0]).lower(), _to_string(args[1]).lower()
        return (
            n in h if fn == "contains" else h.startswith(n) if fn == "startswith" else h.endswith(n)
        )
    if fn == "join" and args:
        separator = _to_string(args[1]) if len(args) > 1 else ","
        items = args[0] if isinstance(args[0], list) else [args[0]]
        return separator.join(_to_string(i) for i in items)
    return MAYBE


def evaluate_maybe(expression: str, context: Mapping[str, Any], *, conditions: bool = False) -> Any:
    """Evaluate the inside of one `${{ }}`, three-valued: MAYBE where it cannot be known.

    Raises Unknown only for text that is not an expression.
    """
    return compile_expression(expression)(context, conditions)


def evaluate(expression: str, context: Mapping[str, Any]) -> Any:
    """Evaluate the inside of one `${{ }}`; raise Unknown when it cannot be known."""
    value = compile_expression(expression)(context, False)
    if value is MAYBE:
        raise Unknown(f"`{expression.strip()}` is not known statically")
    return value


def has_expression(value: Any) -> bool:
    """True when `value` is a string holding at least one `${{ }}`."""
    return isinstance(value, str) and "${{" in value


def substitute(value: Any, context: Mapping[str, Any]) -> Any:
    """Resolve every `${{ }}` in `value`; a value that is one whole expression keeps its type."""
    if not isinstance(value, str) or "${{" not in value:
        return value
    whole = _EMBEDDED.fullmatch(value.strip())
    if whole and "${{" not in whole.group(1):  # not `${{ a }}-${{ b }}`
        return evaluate(whole.group(1), context)
    return _EMBEDDED.sub(lambda m: _to_string(evaluate(m.group(1), context)), value)
