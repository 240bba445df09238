"""Helpers for rule tests: write a small repository and run one check on it."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

from harness.engine import make_context, run_case
from harness.results import CaseResult, Finding
from harness.scenario import Case


def write_repo(root: Path, files: dict[str, str]) -> Path:
    """Write `files` (path -> text, dedented) under `root` and return `root`."""
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


def run_check(root: Path, check: str, suite: str = "test") -> CaseResult:
    """Run the registered check `check` on the repository at `root` (bundled contract)."""
    ctx = make_context(root)
    return run_case(ctx, suite, Case(name="case", check=check, line=1))


def findings(root: Path, check: str, rule: str | None = None) -> list[Finding]:
    """Findings of `check` on `root`, only those of `rule` when given."""
    result = run_check(root, check)
    assert result.status.value in ("passed", "failed"), result.reason
    return [f for f in result.findings if rule is None or f.rule == rule]


def workflow(body: str, name: str = "ci.yml") -> dict[str, str]:
    """A one-workflow repository: `body` is the workflow text."""
    return {f".github/workflows/{name}": body}


def plain(value: Any) -> Any:
    """A YAML document as plain dicts and lists (line-aware types dropped)."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key/index path in a document, the document itself first."""
    out = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            out += paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            out += paths(item, (*prefix, index))
    return out
