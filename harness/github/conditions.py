"""Three-valued evaluation of `if:` conditions: True, False, or MAYBE when it depends on
something not known statically.

The plain evaluator in `expressions.py` gives up at the first unknown value. Rules that ask
"can this job run when its `needs` failed?" or "can this job run on a pull request?" need
more: `always() && github.ref == 'refs/heads/main'` is False on a pull request whatever
the rest of the context holds. Here unknown operands become MAYBE and the logic is Kleene's:
`False && MAYBE` is False, `True || MAYBE` is True, everything else with a MAYBE is MAYBE.

Status functions (`success()`, `always()`, `failure()`, `cancelled()`) take their values
from the context key `__status__`; a condition that names none of them is, as on GitHub,
`success() && (condition)` (see `implicit_success`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.github.expressions import (
    _EMBEDDED,
    Unknown,
    _coerce,
    _equal,
    _to_string,
    _tokens,
    _truthy,
)

STATUS_FUNCTIONS = frozenset({"success", "always", "failure", "cancelled"})


class _Maybe:
    """The unknown truth value."""

    _instance: _Maybe | None = None

    def __new__(cls) -> _Maybe:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MAYBE"


MAYBE: Any = _Maybe()


def _and(left: Any, right: Any) -> Any:
    if left is not MAYBE and not _truthy(left):
        return left
    if right is not MAYBE and not _truthy(right):
        return right if left is not MAYBE else False
    if left is MAYBE or right is MAYBE:
        return MAYBE
    return right


def _or(left: Any, right: Any) -> Any:
    if left is not MAYBE and _truthy(left):
        return left
    if right is not MAYBE and _truthy(right):
        return right
    if left is MAYBE or right is MAYBE:
        return MAYBE
    return right


class _Kleene:
    def __init__(self, text: str, context: Mapping[str, Any]) -> None:
        self.tokens = _tokens(text)
        self.position = 0
        self.context = context

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token is None or (value is not None and token[1] != value):
            raise Unknown(f"expected {value or 'more'} in expression")
        self.position += 1
        return token

    def parse(self) -> Any:
        value = self.or_()
        if self.peek() is not None:
            raise Unknown("trailing tokens in expression")
        return value

    def or_(self) -> Any:
        value = self.and_()
        while self.peek() == ("op", "||"):
            self.take()
            value = _or(value, self.and_())
        return value

    def and_(self) -> Any:
        value = self.compare()
        while self.peek() == ("op", "&&"):
            self.take()
            value = _and(value, self.compare())
        return value

    def compare(self) -> Any:
        value = self.unary()
        while (token := self.peek()) and token[1] in ("==", "!=", "<", "<=", ">", ">="):
            self.take()
            right = self.unary()
            if value is MAYBE or right is MAYBE:
                value = MAYBE
                continue
            op = token[1]
            if op == "==":
                value = _equal(value, right)
            elif op == "!=":
                value = not _equal(value, right)
            else:
                a, b = _coerce(value), _coerce(right)
                value = {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]
        return value

    def unary(self) -> Any:
        if self.peek() == ("op", "!"):
            self.take()
            inner = self.unary()
            return MAYBE if inner is MAYBE else not _truthy(inner)
        return self.postfix(self.primary())

    def primary(self) -> Any:
        kind, value = self.take()
        if kind == "num":
            number = float.fromhex(value) if value.lower().startswith("0x") else float(value)
            return int(number) if number.is_integer() else number
        if kind == "str":
            return value[1:-1].replace("''", "'")
        if value == "(":
            inner = self.or_()
            self.take(")")
            return inner
        if kind != "name":
            raise Unknown(f"unexpected {value!r} in expression")
        lowered = value.lower()
        if lowered in ("true", "false"):
            return lowered == "true"
        if lowered == "null":
            return None
        if self.peek() == ("op", "("):
            return self.call(value)
        return self.context.get(value, MAYBE)

    def postfix(self, value: Any) -> Any:
        while (token := self.peek()) and token[1] in (".", "["):
            self.take()
            if token[1] == ".":
                _, key = self.take()
            else:
                key = self.or_()
                self.take("]")
            value = self.index(value, key)
        return value

    @staticmethod
    def index(value: Any, key: Any) -> Any:
        if value is MAYBE or key is MAYBE:
            return MAYBE
        if key == "*":
            if isinstance(value, Mapping):
                return list(value.values())
            return MAYBE
        if isinstance(value, list) and not isinstance(key, int | float):
            return [_Kleene.index(item, key) for item in value]
        if isinstance(value, Mapping):
            for candidate in value:
                if str(candidate).lower() == str(key).lower():
                    return value[candidate]
            return MAYBE
        if isinstance(value, list) and isinstance(key, int | float) and 0 <= int(key) < len(value):
            return value[int(key)]
        return None

    def call(self, name: str) -> Any:
        self.take("(")
        args: list[Any] = []
        while self.peek() != ("op", ")"):
            args.append(self.or_())
            if self.peek() == ("op", ","):
                self.take()
        self.take(")")
        fn = name.lower()
        if fn in STATUS_FUNCTIONS:
            status = self.context.get("__status__", {})
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
        if fn in ("contains", "startswith", "endswith") and len(args) == 2:
            h, n = _to_string(args[0]).lower(), _to_string(args[1]).lower()
            return n in h if fn == "contains" else h.startswith(n) if fn == "startswith" \
                else h.endswith(n)
        if fn == "format" and args:
            text = _to_string(args[0])
            for position, arg in enumerate(args[1:]):
                text = text.replace("{" + str(position) + "}", _to_string(arg))
            return text
        return MAYBE


def _inner(condition: str) -> str:
    """The expression of an `if:` value, with or without its `${{ }}` wrapper."""
    text = condition.strip()
    whole = _EMBEDDED.fullmatch(text)
    return whole.group(1) if whole else text


def names_status_function(condition: str | None) -> bool:
    """True when the condition calls `success()`, `always()`, `failure()` or `cancelled()`."""
    if not condition:
        return False
    try:
        tokens = _tokens(_inner(condition))
    except Unknown:
        return any(f"{fn}(" in condition.lower() for fn in STATUS_FUNCTIONS)
    return any(kind == "name" and value.lower() in STATUS_FUNCTIONS and index + 1 < len(tokens)
               and tokens[index + 1][1] == "("
               for index, (kind, value) in enumerate(tokens))


def evaluate_condition(condition: str | None, context: Mapping[str, Any]) -> Any:
    """True, False or MAYBE for an `if:` (absent means true), with GitHub's implicit
    `success()` when no status function is named."""
    if condition is None or not str(condition).strip():
        value: Any = True
    else:
        text = str(condition)
        try:
            if "${{" in text and not _EMBEDDED.fullmatch(text.strip()):
                parts = [_Kleene(m.group(1), context).parse() for m in _EMBEDDED.finditer(text)]
                value = MAYBE if any(p is MAYBE for p in parts) else True
            else:
                value = _Kleene(_inner(text), context).parse()
        except Unknown:
            value = MAYBE
    if value is not MAYBE:
        value = _truthy(value)
    if condition is None or not names_status_function(condition):
        status = context.get("__status__", {})
        success = status.get("success", MAYBE) if isinstance(status, Mapping) else MAYBE
        value = _and(success, value)
        if value is not MAYBE:
            value = _truthy(value)
    return value


def embedded_values(text: str, context: Mapping[str, Any]) -> list[Any]:
    """The values of every `${{ }}` in a string (e.g. a `run:` script), three-valued."""
    out = []
    for match in _EMBEDDED.finditer(text):
        try:
            out.append(_Kleene(match.group(1), context).parse())
        except Unknown:
            out.append(MAYBE)
    return out


def can_be_true(condition: str | None, context: Mapping[str, Any]) -> bool:
    """False only when the condition is certainly false in this context."""
    return evaluate_condition(condition, context) is not False


def certainly_true(condition: str | None, context: Mapping[str, Any]) -> bool:
    """True only when the condition is certainly true in this context."""
    return evaluate_condition(condition, context) is True
