"""Progress of a long run on stderr: one line per case as it finishes, then what was proven.

    PASSED  caches::attic-hit-ratio  4.1s  hit_ratio=1 ratio  [loopback cache built here; ...]

In GitHub Actions (`GITHUB_ACTIONS=true`) each line opens a `::group::` holding the case's
reason and findings, so the log shows one collapsed line per case. The closing summary
names the suites whose cases all passed, the cases that proved nothing (skipped, failed,
errors) and the results that came from a cache built on this machine.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import TextIO

from harness.report.text import LOOPBACK, finding_line
from harness.results import CaseResult, Status


def wanted(flag: bool, stream: TextIO | None = None) -> bool:
    """Progress is shown with `--progress`, or when stderr is a terminal."""
    stream = stream or sys.stderr
    return flag or (hasattr(stream, "isatty") and stream.isatty())


KEY_MEASUREMENTS = (
    "hit_ratio",
    "acceleration",
    "peak_working_set_bytes",
    "headroom_ratio",
    "outage_build_seconds",
    "outage_hang_build_seconds",
    "bound_seconds",
    "paths_substituted",
    "narinfos_trusted",
)
"""Names (last part) of the measurement a progress line shows first, best first."""


def key_measurement(result: CaseResult) -> str:
    """`name=value unit` of the case's most telling measurement ("" when it has none)."""
    if not result.measurements:
        return ""
    ranked = sorted(
        result.measurements,
        key=lambda m: next(
            (i for i, key in enumerate(KEY_MEASUREMENTS) if m.name.endswith(key)),
            len(KEY_MEASUREMENTS),
        ),
    )
    first = ranked[0]
    if first.unit == "bytes" and first.value >= 1 << 20:
        return f"{first.name}={first.value / (1 << 20):.0f}Mi"
    value = f"{first.value:.3g}" if isinstance(first.value, float) else str(first.value)
    return f"{first.name}={value}{' ' + first.unit if first.unit else ''}"


class Progress:
    """Writes case lines and the closing summary (thread-safe through the scheduler)."""

    def __init__(
        self, total: int, stream: TextIO | None = None, github: bool | None = None
    ) -> None:
        self.total = total
        self.done = 0
        self.stream = stream or sys.stderr
        self.github = os.environ.get("GITHUB_ACTIONS") == "true" if github is None else github

    def line(self, result: CaseResult) -> str:
        """The one-line account of a finished case."""
        parts = [f"{str(result.status).upper():7}", result.node_id, f"{result.duration:.1f}s"]
        measure = key_measurement(result)
        if measure:
            parts.append(measure)
        if result.status is not Status.PASSED and result.reason:
            parts.append(f"({result.reason[:120]})")
        if result.loopback:
            parts.append(f"[{LOOPBACK}]")
        width = len(str(self.total))
        return f"[{self.done:>{width}}/{self.total}] " + "  ".join(parts)

    def case_done(self, result: CaseResult) -> None:
        """Report one finished case."""
        self.done += 1
        text = self.line(result)
        if not self.github:
            self.stream.write(text + "\n")
        else:
            self.stream.write(f"::group::{text}\n")
            if result.reason:
                self.stream.write(f"{result.reason}\n")
            for finding in result.findings:
                self.stream.write(finding_line(finding) + "\n")
            self.stream.write("::endgroup::\n")
        self.stream.flush()

    def summary(self, results: Sequence[CaseResult], seconds: float) -> None:
        """What the run proved, what it did not, and what a loopback cache stood in for."""
        self.stream.write(summary_text(results, seconds))
        self.stream.flush()


def summary_text(results: Sequence[CaseResult], seconds: float) -> str:
    """The closing summary: proven suites and cases, unproven cases, loopback results."""
    counts = {status: sum(1 for r in results if r.status is status) for status in Status}
    lines = [
        f"{len(results)} cases in {seconds:.1f}s: {counts[Status.PASSED]} passed, "
        f"{counts[Status.FAILED]} failed, {counts[Status.SKIPPED]} skipped, "
        f"{counts[Status.ERROR]} errors"
    ]
    suites: dict[str, list[CaseResult]] = {}
    for result in results:
        suites.setdefault(result.suite, []).append(result)
    whole = [
        name
        for name, cases in suites.items()
        if all(r.status is Status.PASSED and not r.loopback for r in cases)
    ]
    if whole:
        lines.append(f"proven: {', '.join(whole)} (every case passed)")
    partly = [
        r
        for name, cases in suites.items()
        if name not in whole
        for r in cases
        if r.status is Status.PASSED and not r.loopback
    ]
    if partly:
        lines.append("also proven: " + ", ".join(r.node_id for r in partly))
    loopback = [r for r in results if r.status is Status.PASSED and r.loopback]
    if loopback:
        lines.append(f"passed against a {LOOPBACK}: " + ", ".join(r.node_id for r in loopback))
    unproven = [r for r in results if r.status is not Status.PASSED]
    if unproven:
        lines.append("not proven: " + ", ".join(f"{r.node_id} ({r.status})" for r in unproven))
    if not whole and not partly:
        lines.append("proven: nothing about the fleet itself")
    return "\n".join(lines) + "\n"
