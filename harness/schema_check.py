"""A fast yes/no check of a document against the harness's own JSON Schemas.

Importing `jsonschema` costs more than the rest of a `check` run's start-up, and almost
every contract and scenario file is valid. So documents are first checked here, with the
few keywords our schemas use; only a document that fails (or a schema using a keyword this
module does not know) goes to `jsonschema`, which then words every problem. This check may
say "invalid" too eagerly, never "valid" wrongly: unknown keywords count as invalid.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

_ANNOTATIONS = frozenset({"description", "title", "$schema", "$id", "default", "examples"})


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


_TYPES: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: (
        (isinstance(v, int) and not isinstance(v, bool))
        or (isinstance(v, float) and v.is_integer())
    ),
    "number": _number,
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
}


def _equal(left: Any, right: Any) -> bool:
    """JSON equality: booleans are not numbers."""
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(_equal(left[k], right[k]) for k in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(map(_equal, left, right))
    if _number(left) and _number(right):
        return bool(left == right)
    return type(left) is type(right) and bool(left == right)


@lru_cache(maxsize=64)
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _type(value: Any, instance: Any, schema: Mapping[str, Any]) -> bool:
    names = value if isinstance(value, list) else [value]
    return any(_TYPES[name](instance) for name in names if name in _TYPES)


def _properties(value: Any, instance: Any, schema: Mapping[str, Any]) -> bool:
    if not isinstance(instance, dict):
        return True
    return all(is_valid(sub, instance[key]) for key, sub in value.items() if key in instance)


def _additional(value: Any, instance: Any, schema: Mapping[str, Any]) -> bool:
    if not isinstance(instance, dict):
        return True
    known = schema.get("properties", {})
    extra = [key for key in instance if key not in known]
    if value is False:
        return not extra
    if value is True:
        return True
    return all(is_valid(value, instance[key]) for key in extra)


def _items(value: Any, instance: Any, schema: Mapping[str, Any]) -> bool:
    return not isinstance(instance, list) or all(is_valid(value, item) for item in instance)


_KEYWORDS: dict[str, Callable[[Any, Any, Mapping[str, Any]], bool]] = {
    "type": _type,
    "properties": _properties,
    "additionalProperties": _additional,
    "items": _items,
    "required": lambda v, i, s: not isinstance(i, dict) or all(key in i for key in v),
    "enum": lambda v, i, s: any(_equal(i, option) for option in v),
    "const": lambda v, i, s: _equal(i, v),
    "minimum": lambda v, i, s: not _number(i) or i >= v,
    "maximum": lambda v, i, s: not _number(i) or i <= v,
    "exclusiveMinimum": lambda v, i, s: not _number(i) or i > v,
    "minProperties": lambda v, i, s: not isinstance(i, dict) or len(i) >= v,
    "minItems": lambda v, i, s: not isinstance(i, list) or len(i) >= v,
    "pattern": lambda v, i, s: not isinstance(i, str) or _regex(v).search(i) is not None,
}


def is_valid(schema: Mapping[str, Any] | bool, instance: Any) -> bool:
    """True only when `instance` is valid against `schema` (keywords unknown here: False)."""
    if isinstance(schema, bool):
        return schema
    for keyword, value in schema.items():
        if keyword in _ANNOTATIONS:
            continue
        check = _KEYWORDS.get(keyword)
        if check is None or not check(value, instance, schema):
            return False
    return True
