"""Scenario suites: `scenarios/<area>.scenario.yaml`, each naming its cases and their checks.

```yaml
suite: bootstrap                 # defaults to the file name before .scenario.yaml
description: Nix is installed by the workflow itself, before first use
cases:
  - name: workflow-owned-nix     # unique within the suite; part of the node id
    check: bootstrap.workflow_owned_nix   # a registered check (harness/checks/registry.py)
    description: every job that runs nix installs it first
    marks: [static]              # extra pytest marks; the suite name is always a mark
    params: {}                   # validated against the check's schema (checks/registry.py)
```
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import HarnessInputError, Problem
from harness.schema_errors import document_problems
from harness.yamlnodes import LMap, YamlError, load

SUFFIX = ".scenario.yaml"
_NAME = r"^[a-z0-9][a-z0-9_.-]*$"
_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["cases"],
    "additionalProperties": False,
    "properties": {
        "suite": {"type": "string", "pattern": _NAME},
        "description": {"type": "string"},
        "marks": {"type": "array", "items": {"type": "string", "pattern": r"^[a-z_][a-z0-9_]*$"}},
        "cases": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["name", "check"],
                "additionalProperties": False,
                "properties": {
                    "name": {"type": "string", "pattern": _NAME},
                    "check": {"type": "string"},
                    "description": {"type": "string"},
                    "marks": {
                        "type": "array",
                        "items": {"type": "string", "pattern": r"^[a-z_][a-z0-9_]*$"},
                    },
                    "params": {"type": "object"},
                },
            },
        },
    },
}


@dataclass(frozen=True)
class Case:
    """One case of a suite: a check and its parameters."""

    name: str
    check: str
    line: int
    description: str = ""
    marks: tuple[str, ...] = ()
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Suite:
    """A scenario suite read from one file."""

    name: str
    path: Path
    cases: tuple[Case, ...]
    description: str = ""
    marks: tuple[str, ...] = ()
    sha256: str = ""
    """sha256 of the scenario file's bytes: the evidence records it per case."""


def file_sha256(path: Path) -> str:
    """sha256 of a scenario file (regular files within the contract size limit only)."""
    from harness.safe_read import MAX_CONTRACT_BYTES, UnsafeFile, read_bytes

    try:
        return hashlib.sha256(read_bytes(path, MAX_CONTRACT_BYTES)).hexdigest()
    except UnsafeFile as exc:
        raise HarnessInputError(Problem(str(path), None, exc.reason)) from None


def suite_name_of(path: Path) -> str:
    """The suite name a scenario file gets by default: its name before `.scenario.yaml`."""
    return path.name[: -len(SUFFIX)] if path.name.endswith(SUFFIX) else path.stem


def load_suite(path: Path, display: str | None = None) -> Suite:
    """Read and validate a scenario file; HarnessInputError lists every problem with its line."""
    from harness.checks.registry import CHECKS, params_problems

    name = display or str(path)
    try:
        raw = load(path, name)
    except YamlError as exc:
        raise HarnessInputError(Problem(name, exc.line, exc.message)) from None
    if not isinstance(raw, LMap):
        raise HarnessInputError(Problem(name, 1, "a scenario file must be a YAML mapping"))
    problems = document_problems(_SCHEMA, raw, name)
    if problems:
        raise HarnessInputError(problems)
    seen: dict[str, int] = {}
    cases = []
    for index, item in enumerate(raw["cases"]):
        line = raw["cases"].line_of(index)
        if item["name"] in seen:
            problems.append(
                Problem(
                    name,
                    line,
                    f"case {item['name']!r} is defined twice (first at line {seen[item['name']]})",
                )
            )
        seen[item["name"]] = line
        spec = CHECKS.get(item["check"])
        if spec is None:
            close = [c for c in CHECKS if c.split(".")[0] == item["check"].split(".")[0]]
            hint = f" (known in that area: {', '.join(sorted(close))})" if close else ""
            problems.append(
                Problem(name, item.line_of("check"), f"unknown check {item['check']!r}{hint}")
            )
        else:
            problems += params_problems(
                spec, item.get("params", {}), name, item["name"], item.line_of("params")
            )
        cases.append(
            Case(
                item["name"],
                item["check"],
                line,
                item.get("description", ""),
                tuple(item.get("marks", ())),
                dict(item.get("params", {})),
            )
        )
    if problems:
        raise HarnessInputError(problems)
    return Suite(
        raw.get("suite", suite_name_of(path)),
        path,
        tuple(cases),
        raw.get("description", ""),
        tuple(raw.get("marks", ())),
        file_sha256(path),
    )


def bundled_scenarios_dir() -> Path:
    """The harness's own suites: `scenarios/` of a source checkout, or the copy in the wheel."""
    package = Path(__file__).parent
    installed = package / "_scenarios"
    if installed.is_dir():
        return installed
    return package.parent / "scenarios"


def scenario_files(directory: Path) -> list[Path]:
    """Every `*.scenario.yaml` in `directory`, sorted by name."""
    return sorted(p for p in directory.glob(f"*{SUFFIX}") if p.is_file())


def valid_mark(mark: str) -> bool:
    """True when `mark` can be a pytest marker name."""
    return re.fullmatch(r"[a-z_][a-z0-9_]*", mark) is not None
