"""`runs-on` in every form, resolved against a job's matrix and inputs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from harness.github.expressions import Unknown, has_expression, substitute

RESOLVED = "resolved"
PARTIAL = "partial"
UNKNOWN = "unknown"


@dataclass(frozen=True)
class LabelSet:
    """The labels one job variant asks for, and how certain that is."""

    labels: tuple[str, ...]
    group: str | None = None
    certainty: str = RESOLVED
    unresolved: tuple[str, ...] = ()
    """Parts of `runs-on` that could not be resolved statically, as written."""
    reason: str = ""
    """Why they could not be, when it is not the parts themselves (e.g. a run-time matrix)."""

    def text(self) -> str:
        """The labels as a reader would write them."""
        parts = list(self.labels) + list(self.unresolved)
        body = parts[0] if len(parts) == 1 else "[" + ", ".join(parts) + "]"
        return f"group {self.group}: {body}" if self.group else body


def _one(value: Any, context: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """(resolved labels, unresolved parts) of one runs-on value."""
    if isinstance(value, list):
        labels: list[str] = []
        unresolved: list[str] = []
        for item in value:
            got, missing = _one(item, context)
            labels += got
            unresolved += missing
        return labels, unresolved
    if value is None or isinstance(value, dict):
        return [], [str(value)]
    if not isinstance(value, str):
        return [str(value)], []
    if not has_expression(value):
        return [value], []
    try:
        resolved = substitute(value, context)
    except Unknown:
        return [], [value]
    if resolved in (None, ""):
        return [], [value]
    if isinstance(resolved, list | str) and not has_expression(resolved):
        return _one(resolved, context)
    return [], [value]


def same_in_every_variant(raw: Any) -> bool:
    """True when `runs-on` holds no `${{ }}` anywhere: every variant resolves it alike."""
    if isinstance(raw, str):
        return not has_expression(raw)
    if isinstance(raw, list):
        return all(same_in_every_variant(item) for item in raw)
    if isinstance(raw, dict):
        return all(same_in_every_variant(item) for item in raw.values())
    return True


def resolve_runs_on(raw: Any, context: Mapping[str, Any]) -> LabelSet:
    """Resolve `runs-on` (string, list, `{group, labels}`, expressions) for one variant."""
    group = None
    value = raw
    if has_expression(raw):
        try:
            value = substitute(raw, context)
        except Unknown:
            return LabelSet((), None, UNKNOWN, (str(raw),))
        if value is None or value in ("", []):
            # e.g. an input the caller fills from run-time context: never guess a label
            return LabelSet((), None, UNKNOWN, (str(raw),))
    if isinstance(value, dict):
        group_value = value.get("group")
        if group_value is not None:
            try:
                group = str(substitute(group_value, context))
            except Unknown:
                group = str(group_value)
        value = value.get("labels", [])
        if value == [] and group:
            return LabelSet((), group, RESOLVED)
    labels, unresolved = _one(value, context)
    if not labels and not unresolved:
        return LabelSet((), group, UNKNOWN, (str(raw),))
    certainty = RESOLVED if not unresolved else (PARTIAL if labels else UNKNOWN)
    return LabelSet(tuple(labels), group, certainty, tuple(unresolved))
