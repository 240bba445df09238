"""Turn JSON Schema errors on a line-aware YAML document into located problems."""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from harness.errors import Problem
from harness.yamlnodes import line_of_path


def _describe(error: ValidationError) -> str:
    where = ".".join(str(p) for p in error.absolute_path) or "top level"
    if error.validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        allowed = ", ".join(sorted(error.schema.get("properties", {})))
        return f"unknown key {', '.join(map(repr, extra))} in {where} (allowed: {allowed})"
    if error.validator == "required":
        return f"{where}: {error.message}"
    return f"{where}: {error.message}"


def schema_problems(validator: Draft202012Validator, document: Any, file: str) -> list[Problem]:
    """Every schema violation of `document`, with the line of the offending key."""
    problems = []
    for error in validator.iter_errors(document):
        path = list(error.absolute_path)
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
            path = [*path, extra[0]] if extra else path
        problems.append(Problem(file, line_of_path(document, path), _describe(error)))
    problems.sort(key=lambda p: (p.line or 0, p.message))
    return problems
