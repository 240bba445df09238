"""Resolving module inputs the way `tofu plan` would, for the values the rules need.

Supported: literals; references `var.NAME[.key...]`, `each.key`, `each.value[.key...]`,
`local.NAME[.key...]` (literal locals); templates whose interpolations are such references.
Anything else (conditionals, function calls, resources) is *unresolved* with the reason,
never guessed. Every resolved value records where it came from.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from harness.tofu.hcl import Expr, Template

_REFERENCE = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z_][A-Za-z0-9_-]*|\[\"[^\"]*\"\])*$")
_INTERPOLATION = re.compile(r"\$\{([^{}]*)\}")
_PART = re.compile(r"\.([A-Za-z_][A-Za-z0-9_-]*)|\[\"([^\"]*)\"\]")


@dataclass(frozen=True)
class Origin:
    """Where a value was set: file, line and how (`default of var.x`, `terraform.tfvars`)."""

    file: str
    line: int
    how: str

    def text(self) -> str:
        """`file:line (how)` for messages."""
        return f"{self.file}:{self.line} ({self.how})"


@dataclass(frozen=True)
class Resolved:
    """A value and where it came from, or why it could not be resolved."""

    value: Any = None
    origin: Origin | None = None
    problem: str | None = None
    lines: Mapping[tuple[str, ...], int] | None = field(default=None, compare=False)
    """Lines of nested keys of an object value (relative to `value`), when known."""

    def child(self, key: str, value: Any) -> Resolved:
        """The value under `key`, its origin narrowed to the key's own line when known."""
        lines = self.lines or {}
        origin = self.origin
        if origin is not None and (key,) in lines:
            how = (
                origin.how[:-1] + f".{key}]"
                if origin.how.endswith("]")
                else f"{origin.how} [{key}]"
            )
            origin = Origin(origin.file, lines[(key,)], how)
        return Resolved(value, origin, lines=self._lines_under.get(key))

    @cached_property
    def _lines_under(self) -> dict[str, dict[tuple[str, ...], int]]:
        """`lines` grouped by their first key, each without it: built once, so that the
        children of a map with many keys cost one pass, not one pass each."""
        grouped: dict[str, dict[tuple[str, ...], int]] = {}
        for path, line in (self.lines or {}).items():
            if len(path) > 1:
                grouped.setdefault(path[0], {})[path[1:]] = line
        return grouped

    @property
    def known(self) -> bool:
        """True when the value was resolved."""
        return self.problem is None


@dataclass
class Scope:
    """What references resolve against: variables, literal locals and one `each`."""

    variables: dict[str, Resolved] = field(default_factory=dict)
    locals: dict[str, Resolved] = field(default_factory=dict)
    each_key: str | None = None
    each_value: Resolved | None = None


def contains_expression(value: Any) -> bool:
    """True when a value holds an Expr or Template anywhere."""
    if isinstance(value, Expr | Template):
        return True
    if isinstance(value, Mapping):
        return any(contains_expression(v) for v in value.values())
    if isinstance(value, list):
        return any(contains_expression(v) for v in value)
    return False


def _walk(base: Resolved, parts: list[str], text: str) -> Resolved:
    current = base
    for part in parts:
        if isinstance(current.value, Mapping) and part in current.value:
            current = current.child(part, current.value[part])
        else:
            return Resolved(
                problem=f"`{text}`: no key `{part}` in the value from "
                f"{base.origin.text() if base.origin else 'its source'}"
            )
    return current


def resolve_reference(text: str, scope: Scope) -> Resolved:
    """Resolve one reference expression (`var.x.y`, `each.value.z`, `local.k`)."""
    text = text.strip()
    if not _REFERENCE.match(text):
        return Resolved(problem=f"expression `{text}` is not evaluated statically")
    head = text.split(".", 1)[0].split("[", 1)[0]
    parts = [a or b for a, b in _PART.findall(text[len(head) :])]
    if head == "var" and parts:
        base = scope.variables.get(parts[0])
        if base is None:
            return Resolved(problem=f"`var.{parts[0]}` is not declared")
        if not base.known:
            return base
        return _walk(base, parts[1:], text)
    if head == "local" and parts:
        base = scope.locals.get(parts[0])
        if base is None or not base.known:
            return Resolved(problem=f"`local.{parts[0]}` is not a literal local")
        return _walk(base, parts[1:], text)
    if head == "each" and parts:
        if parts[0] == "key" and scope.each_key is not None:
            return Resolved(scope.each_key, scope.each_value.origin if scope.each_value else None)
        if parts[0] == "value" and scope.each_value is not None:
            return _walk(scope.each_value, parts[1:], text)
    return Resolved(problem=f"`{text}` is not known statically")


def resolve(value: Any, origin: Origin, scope: Scope) -> Resolved:
    """Resolve an attribute value (literal, Expr or Template) in `scope`."""
    if isinstance(value, Expr):
        return resolve_reference(value.text, scope)
    if isinstance(value, Template):
        pieces: list[str] = []
        last = 0
        source: Origin | None = origin
        for match in _INTERPOLATION.finditer(value.text):
            got = resolve_reference(match.group(1), scope)
            if not got.known:
                return got
            pieces.append(value.text[last : match.start()])
            pieces.append(str(got.value))
            source = got.origin or source
            last = match.end()
        pieces.append(value.text[last:])
        return Resolved("".join(pieces), source)
    if contains_expression(value):
        return Resolved(problem="a collection holding expressions is not evaluated")
    return Resolved(value, origin)
