"""What a fix is: edits to file texts, and the outcome of offering one for a finding."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from harness.results import Finding

if TYPE_CHECKING:
    from harness.fixes.context import FixContext


class FixKind(StrEnum):
    """Safe fixes keep what runs and only follow the contract's intent; unsafe ones change it."""

    SAFE = "safe"
    UNSAFE = "unsafe"


class NoFix(Exception):
    """A fixer cannot offer an edit for this finding; `reason` says why, in one line."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Edit:
    """Replace `text[start:end]` of `file` (repository-relative) with `new`."""

    file: str
    start: int
    end: int
    new: str


@dataclass(frozen=True)
class Candidate:
    """The edits one fix proposes, and what they do in a reader's words."""

    description: str
    edits: tuple[Edit, ...]


Fixer = Callable[["FixContext", Finding], Candidate]
"""Proposes the edit for one finding, or raises NoFix."""


@dataclass(frozen=True)
class Fix:
    """The fix of one rule: its kind and the function that proposes edits."""

    rule: str
    kind: FixKind
    fixer: Fixer
    summary: str


@dataclass
class Outcome:
    """What happened to one finding: offered (verified) or not, applied or not, and why."""

    finding: Finding
    kind: FixKind | None
    offered: bool = False
    applied: bool = False
    why: str = ""
    description: str = ""
    files: tuple[str, ...] = ()
    also_fixed: list[Finding] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The outcome as the JSON object of `fix --format json`."""
        return {
            "rule": self.finding.rule,
            "file": self.finding.file,
            "line": self.finding.line,
            "job": self.finding.job,
            "message": self.finding.message,
            "kind": None if self.kind is None else str(self.kind),
            "offered": self.offered,
            "applied": self.applied,
            "why": self.why,
            "fix": self.description,
            "files": list(self.files),
            "also_fixed": [
                {"rule": f.rule, "file": f.file, "line": f.line, "job": f.job}
                for f in self.also_fixed
            ],
        }


@dataclass
class FixPlan:
    """Every outcome of one run, and the file texts before and after the applied fixes."""

    repo: str
    unsafe: bool
    outcomes: list[Outcome] = field(default_factory=list)
    before: dict[str, str] = field(default_factory=dict)
    after: dict[str, str] = field(default_factory=dict)
    remaining: list[Finding] = field(default_factory=list)
    """Failing or warning findings still reported once the applied fixes are in."""

    @property
    def changed(self) -> dict[str, str]:
        """Files whose text the applied fixes change: path -> new text."""
        return {path: text for path, text in self.after.items() if text != self.before[path]}

    @property
    def applied(self) -> list[Outcome]:
        """Outcomes whose fix is part of the change."""
        return [o for o in self.outcomes if o.applied]
