"""Turn JSON Schema errors on a line-aware YAML document into located problems."""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from harness.errors import Problem
from harness.yamlnodes import line_of_path


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
