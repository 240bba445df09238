"""Project exceptions: one tree under `HarnessError`.

- `HarnessInputError` (also a ValueError): bad input (contract, scenario, repository, flags),
  one line per problem; exit code 2.
- `HarnessEnvironmentError` (also a RuntimeError): the environment a check needs is missing
  or broken (`ToolMissing`, a Nix, Bazel or nginx that fails, a cache that misbehaves).
- `DataError` (also a ValueError): data read from a tool or an endpoint does not parse
  (a narinfo, an ActionResult, an execution log).

The engine reports a HarnessError as the case's error in its own words; any other exception
out of a check is a bug in that check, and is reported as one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

INPUT = "<input>"
"""The `file` of a problem with flags or arguments rather than with a file."""


class HarnessError(Exception):
    """The root of every exception the harness raises on purpose."""


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


class HarnessInputError(HarnessError, ValueError):
    """Bad input (contract, scenario, repository, flags): one line per problem."""

    def __init__(self, problems: Iterable[Problem] | Problem | str) -> None:
        if isinstance(problems, str):
            problems = [Problem(INPUT, None, problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class HarnessEnvironmentError(HarnessError, RuntimeError):
    """What a check needs here is missing or broken (not the input, not the harness)."""


class ToolMissing(HarnessEnvironmentError):
    """An external tool (nix, bazel, nginx, ...) is not installed."""


class DataError(HarnessError, ValueError):
    """Data from a tool or an endpoint does not parse as it must."""
