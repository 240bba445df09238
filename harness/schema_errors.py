"""Turn JSON Schema errors on a line-aware YAML document into located problems."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

from harness.errors import Problem
from harness.schema_check import is_valid
from harness.yamlnodes import line_of_path

if TYPE_CHECKING:  # jsonschema is imported only when a document has problems (slow import)
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError


def _properties(error: ValidationError) -> dict[str, Any]:
    schema = error.schema
    return dict(schema.get("properties", {})) if isinstance(schema, dict) else {}


def _describe(error: ValidationError) -> str:
    where = ".".join(str(p) for p in error.absolute_path) or "top level"
    if error.validator == "additionalProperties":
        instance: Any = error.instance
        extra = sorted(set(instance) - set(_properties(error)))
        allowed = ", ".join(sorted(_properties(error)))
        return f"unknown key {', '.join(map(repr, extra))} in {where} (allowed: {allowed})"
    return f"{where}: {error.message}"


def schema_problems(validator: Draft202012Validator, document: Any, file: str) -> list[Problem]:
    """Every schema violation of `document`, with the line of the offending key."""
    problems = []
    for error in validator.iter_errors(document):
        path = list(error.absolute_path)
        found: Any = error.instance
        if error.validator == "additionalProperties" and isinstance(found, dict):
            extra = sorted(set(found) - set(_properties(error)))
            path = [*path, extra[0]] if extra else path
        problems.append(Problem(file, line_of_path(document, path), _describe(error)))
    problems.sort(key=lambda p: (p.line or 0, p.message))
    return problems


_SCHEMAS: dict[int, dict[str, Any]] = {}


@lru_cache(maxsize=16)
def _validator(key: int) -> Draft202012Validator:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(_SCHEMAS[key])


def document_problems(schema: dict[str, Any], document: Any, file: str) -> list[Problem]:
    """Every violation of `schema` by `document`, located; fast when there are none."""
    if is_valid(schema, document):
        return []
    _SCHEMAS[id(schema)] = schema
    return schema_problems(_validator(id(schema)), document, file)
