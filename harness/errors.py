"""Project exceptions: every user-facing input problem is a `HarnessInputError`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

INPUT = "<input>"
"""The `file` of a problem with flags or arguments rather than with a file."""


@dataclass(frozen=True)
class Problem:
    """One problem with an input file, located by file and line (1-based)."""

    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        if self.file == INPUT:
            return self.message
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.message}"


class HarnessInputError(ValueError):
    """Bad input (contract, scenario, repository, flags): one line per problem."""

    def __init__(self, problems: Iterable[Problem] | Problem | str) -> None:
        if isinstance(problems, str):
            problems = [Problem(INPUT, None, problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class ToolMissing(RuntimeError):
    """An external tool (nix, bazel, nginx, ...) is not installed."""
