"""What a check produces: findings, measurements, and the result of one case."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    """How bad a finding is; only errors fail a case."""

    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"


class Status(StrEnum):
    """Outcome of one scenario case."""

    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"
    ERROR = "error"


@dataclass
class Finding:
    """One rule violation, located in the repository (paths relative to its root)."""

    rule: str
    message: str
    severity: Severity = Severity.ERROR
    file: str | None = None
    line: int | None = None
    column: int | None = None
    job: str | None = None
    step: int | None = None
    suppressed: bool = False
    suppression: str | None = None
    callers: list[str] | None = None
    """The jobs that reach this place, when more than one does (a shared reusable workflow
    or action reports each finding once)."""

    def to_json(self) -> dict[str, Any]:
        """The finding as the report's JSON object."""
        data: dict[str, Any] = {
            "rule": self.rule,
            "message": self.message,
            "severity": str(self.severity),
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "job": self.job,
            "step": self.step,
        }
        if self.suppressed:
            data["suppressed"] = self.suppressed
            data["suppression"] = self.suppression
        if self.callers is not None:
            data["callers"] = list(self.callers)
        return data

    @property
    def fails(self) -> bool:
        """True when this finding fails its case."""
        return self.severity is Severity.ERROR and not self.suppressed

    def sort_key(self) -> tuple[str, int, int, str, str]:
        """Stable order: file, line, column, rule, message."""
        return (self.file or "", self.line or 0, self.column or 0, self.rule, self.message)


@dataclass(frozen=True)
class Measurement:
    """A number a case measured, with its unit (`ratio`, `bytes`, `seconds`, ...)."""

    name: str
    value: float
    unit: str = ""

    def to_json(self) -> dict[str, Any]:
        """The measurement as the report's JSON object."""
        return {"name": self.name, "value": self.value, "unit": self.unit}


@dataclass
class CheckOutput:
    """Everything one check run returns to the engine."""

    findings: list[Finding] = field(default_factory=list)
    measurements: list[Measurement] = field(default_factory=list)
    artifacts: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    loopback: bool = False
    """True when the case measured a loopback cache it built, not the fleet's cache."""
    examined: dict[str, int] = field(default_factory=dict)
    """What the check looked at, by kind (`files`, `jobs`, `stacks`, `endpoints`, ...)."""

    def add(self, finding: Finding) -> None:
        """Record a finding."""
        self.findings.append(finding)

    def measure(self, name: str, value: float, unit: str = "") -> None:
        """Record a measurement."""
        self.measurements.append(Measurement(name, value, unit))

    def examine(self, kind: str, count: int) -> None:
        """Record that the check examined `count` inputs of `kind` (added up per kind)."""
        self.examined[kind] = self.examined.get(kind, 0) + max(0, int(count))

    def extend(self, other: CheckOutput) -> None:
        """Fold another check's output into this one."""
        for kind, count in other.examined.items():
            self.examine(kind, count)
        self.findings.extend(other.findings)
        self.measurements.extend(other.measurements)
        self.artifacts.extend(other.artifacts)
        self.notes.extend(other.notes)
        self.loopback = self.loopback or other.loopback


@dataclass
class CaseResult:
    """The result of one scenario case, as reported in JSON and to pytest."""

    suite: str
    case: str
    status: Status
    reason: str = ""
    findings: list[Finding] = field(default_factory=list)
    measurements: list[Measurement] = field(default_factory=list)
    artifacts: list[str] = field(default_factory=list)
    live: bool = False
    duration: float = 0.0
    loopback: bool = False
    """Measured against a loopback cache built by this run (reported only when true)."""
    examined: dict[str, int] = field(default_factory=dict)
    """What the case looked at, by kind; empty when it examined nothing."""
    scenario_sha256: str | None = None
    """sha256 of the scenario file the case came from (None: not recorded)."""

    @property
    def examined_anything(self) -> bool:
        """True when the case looked at one input or more."""
        return any(count > 0 for count in self.examined.values())

    @property
    def node_id(self) -> str:
        """`suite::case`, the stable identity of a case."""
        return f"{self.suite}::{self.case}"

    def to_json(self) -> dict[str, Any]:
        """The result as the report's JSON object."""
        data: dict[str, Any] = {
            "suite": self.suite,
            "case": self.case,
            "status": str(self.status),
            "reason": self.reason,
            "live": self.live,
            "duration": round(self.duration, 4),
            "findings": [f.to_json() for f in sorted(self.findings, key=Finding.sort_key)],
            "measurements": [m.to_json() for m in self.measurements],
            "artifacts": list(self.artifacts),
            "examined": dict(sorted(self.examined.items())),
            "scenario_sha256": self.scenario_sha256,
        }
        if self.loopback:
            data["loopback"] = True
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CaseResult:
        """Rebuild a result from its JSON object (evidence files, xdist workers)."""
        findings = []
        for raw in data.get("findings", []):
            item = dict(raw)
            item["severity"] = Severity(item.get("severity", "error"))
            findings.append(Finding(**item))
        return cls(
            suite=data["suite"],
            case=data["case"],
            status=Status(data["status"]),
            reason=data.get("reason", ""),
            findings=findings,
            measurements=[
                Measurement(m["name"], m["value"], m.get("unit", ""))
                for m in data.get("measurements", [])
            ],
            artifacts=list(data.get("artifacts", [])),
            live=bool(data.get("live", False)),
            duration=float(data.get("duration", 0.0)),
            loopback=bool(data.get("loopback", False)),
            examined={str(k): int(v) for k, v in dict(data.get("examined") or {}).items()},
            scenario_sha256=data.get("scenario_sha256"),
        )
