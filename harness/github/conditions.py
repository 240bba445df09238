"""Three-valued evaluation of `if:` conditions: True, False, or MAYBE when it depends on
something not known statically.

`expressions.evaluate` refuses any value that is not known (it raises Unknown). Rules that ask
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
    MAYBE,
    STATUS_FUNCTIONS,
    Unknown,
    _tokens,
    _truthy,
    evaluate_maybe,
    kleene_and,
)

__all__ = [
    "MAYBE",
    "can_be_true",
    "certainly_true",
    "embedded_values",
    "evaluate_condition",
    "names_status_function",
]


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
    return any(
        kind == "name"
        and value.lower() in STATUS_FUNCTIONS
        and index + 1 < len(tokens)
        and tokens[index + 1][1] == "("
        for index, (kind, value) in enumerate(tokens)
    )


def evaluate_condition(condition: str | None, context: Mapping[str, Any]) -> Any:
    """True, False or MAYBE for an `if:` (absent means true), with GitHub's implicit
    `success()` when no status function is named."""
    if condition is None or not str(condition).strip():
        return _after_success(True, context)
    text = str(condition)
    value: Any
    try:
        if "${{" in text and not _EMBEDDED.fullmatch(text.strip()):
            parts = [
                evaluate_maybe(m.group(1), context, conditions=True)
                for m in _EMBEDDED.finditer(text)
            ]
            value = MAYBE if any(p is MAYBE for p in parts) else True
        else:
            value = evaluate_maybe(_inner(text), context, conditions=True)
    except Unknown:
        value = MAYBE
    if value is not MAYBE:
        value = _truthy(value)
    if not names_status_function(condition):
        value = _after_success(value, context)
    return value


def _after_success(value: Any, context: Mapping[str, Any]) -> Any:
    """`success() && value`: GitHub's implicit status check."""
    status = context.get("__status__", {})
    success = status.get("success", MAYBE) if isinstance(status, Mapping) else MAYBE
    value = kleene_and(success, value)
    return value if value is MAYBE else _truthy(value)


def embedded_values(text: str, context: Mapping[str, Any]) -> list[Any]:
    """The values of every `${{ }}` in a string (e.g. a `run:` script), three-valued."""
    out = []
    for match in _EMBEDDED.finditer(text):
        try:
            out.append(evaluate_maybe(match.group(1), context, conditions=True))
        except Unknown:
            out.append(MAYBE)
    return out


def can_be_true(condition: str | None, context: Mapping[str, Any]) -> bool:
    """False only when the condition is certainly false in this context."""
    return evaluate_condition(condition, context) is not False


def certainly_true(condition: str | None, context: Mapping[str, Any]) -> bool:
    """True only when the condition is certainly true in this context."""
    return evaluate_condition(condition, context) is True
