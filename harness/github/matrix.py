"""`strategy.matrix` expansion with GitHub's semantics for `include` and `exclude`."""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from typing import Any

from harness.github.expressions import Unknown, has_expression, substitute

MAX_COMBINATIONS = 256  # GitHub's own limit per workflow run


def _resolve(value: Any, context: Mapping[str, Any]) -> Any:
    if has_expression(value):
        return substitute(value, context)
    if isinstance(value, list):
        return [_resolve(item, context) for item in value]
    if isinstance(value, dict):
        return {key: _resolve(item, context) for key, item in value.items()}
    return value


def _matches(combo: Mapping[str, Any], pattern: Mapping[str, Any]) -> bool:
    for key, expected in pattern.items():
        if key not in combo:
            return False
        actual = combo[key]
        if isinstance(expected, Mapping) and isinstance(actual, Mapping):
            if not _matches(actual, expected):
                return False
        elif actual != expected:
            return False
    return True


def expand_matrix(matrix: Any, context: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every combination a matrix produces; raises Unknown when it depends on run-time values."""
    if matrix is None:
        return [{}]
    matrix = _resolve(matrix, context)
    if not isinstance(matrix, dict):
        raise Unknown("the matrix is not a mapping once resolved")
    include = matrix.get("include") or []
    exclude = matrix.get("exclude") or []
    if not isinstance(include, list) or not isinstance(exclude, list):
        raise Unknown("matrix include/exclude are not lists once resolved")
    axes = {key: value for key, value in matrix.items() if key not in ("include", "exclude")}
    for key, value in axes.items():
        if not isinstance(value, list):
            raise Unknown(f"matrix axis {key!r} is not a list once resolved")
    if not axes:
        return [dict(entry) for entry in include if isinstance(entry, dict)] or [{}]
    combos = [
        dict(zip(axes, values, strict=True))
        for values in itertools.islice(itertools.product(*axes.values()), MAX_COMBINATIONS * 4)
    ]
    combos = [c for c in combos if not any(isinstance(e, dict) and _matches(c, e) for e in exclude)]
    # An include entry extends every combination whose original values it does not
    # overwrite (values added by earlier entries may be overwritten); an entry that extends
    # none becomes a combination of its own, which later entries never extend.
    originals = [dict(c) for c in combos]
    added: list[dict[str, Any]] = []
    for entry in include:
        if not isinstance(entry, dict):
            continue
        matched = False
        for original, combo in zip(originals, combos, strict=True):
            if all(original[k] == v for k, v in entry.items() if k in original):
                combo.update(entry)
                matched = True
        if not matched:
            added.append(dict(entry))
    return [*combos, *added][:MAX_COMBINATIONS]


_REFERENCE = re.compile(r"\bmatrix\s*(?:\.\s*([A-Za-z_][\w-]*)|\[\s*'([^']*)'\s*\])")


def matrix_size(matrix: Any, context: Mapping[str, Any]) -> int | None:
    """How many jobs a static matrix asks for before `exclude` (the product of its axes,
    plus `include` entries); None when that depends on run-time values."""
    if matrix is None:
        return 1
    try:
        matrix = _resolve(matrix, context)
    except Unknown:
        return None
    if not isinstance(matrix, dict):
        return None
    axes = [value for key, value in matrix.items() if key not in ("include", "exclude")]
    if not all(isinstance(axis, list) for axis in axes):
        return None
    include = matrix.get("include")
    extra = len(include) if isinstance(include, list) else 0
    product = 1
    for axis in axes:
        product *= len(axis)
    return product + extra if axes else max(extra, 1)


def matrix_references(value: Any) -> list[str]:
    """Matrix keys that `value` mentions (`matrix.os`, `matrix['os']`), in order."""
    return list(dict.fromkeys(a or b for a, b in _REFERENCE.findall(str(value))))


def expand_for(matrix: Any, context: Mapping[str, Any], value: Any) -> list[dict[str, Any]]:
    """The combinations `value` (a `runs-on`, a `with:`) can see.

    The whole matrix when it is static. Otherwise only the keys `value` mentions, when those
    are static axes: other axes and an `exclude` may depend on run-time values, but they only
    multiply or remove combinations, so every value found may run and no other can (an
    `include` must then be static). Raises Unknown when that does not hold either.
    """
    try:
        return expand_matrix(matrix, context)
    except Unknown as whole:
        keys = matrix_references(value)
        if not keys or not isinstance(matrix, dict):
            raise whole from None
        axes: dict[str, list[Any]] = {}
        for key in keys:
            values = _resolve(matrix[key], context) if key in matrix else None
            if not isinstance(values, list):
                raise Unknown(f"matrix.{key} is not a static axis ({whole})") from None
            axes[key] = values
        include = _resolve(matrix.get("include") or [], context)
        if not isinstance(include, list):
            raise Unknown("matrix include is not a list once resolved") from None
        combos = [
            dict(zip(axes, values, strict=True))
            for values in itertools.islice(itertools.product(*axes.values()), MAX_COMBINATIONS * 4)
        ]
        for entry in include:
            present = [key for key in keys if isinstance(entry, dict) and key in entry]
            if present and len(present) < len(keys):
                raise Unknown(f"a matrix include sets only some of {', '.join(keys)}") from None
            if present:
                combos.append({key: entry[key] for key in keys})
        unique: list[dict[str, Any]] = []
        for combo in combos:
            if combo not in unique:
                unique.append(combo)
        return unique[:MAX_COMBINATIONS]
