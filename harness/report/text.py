"""`--format text`: one line per finding (`path:line:col: message [RULE]`), then a summary."""

from __future__ import annotations

from harness.report.model import Report
from harness.results import Finding, Status

LOOPBACK = "loopback cache built here; not the fleet's cache"
"""The label of a result measured against a loopback cache this run built."""


def finding_line(finding: Finding) -> str:
    """The problem-matcher line of a finding: `path:line:col: severity: message [RULE]`."""
    where = finding.file or "<repo>"
    if finding.line:
        where += f":{finding.line}:{finding.column or 1}"
    note = f" (suppressed: {finding.suppression})" if finding.suppressed else ""
    return f"{where}: {finding.severity}: {finding.message} [{finding.rule}]{note}"


def finding_lines(report: Report) -> list[str]:
    """Every finding's problem-matcher line, case by case."""
    lines: list[str] = []
    for result in report.sorted_results():
        lines.extend(finding_line(f) for f in sorted(result.findings, key=Finding.sort_key))
    return lines


def counts_line(report: Report) -> str:
    """`N passed, N failed, N skipped, N errors`."""
    summary = report.summary()
    return (
        f"{summary['passed']} passed, {summary['failed']} failed, "
        f"{summary['skipped']} skipped, {summary['errors']} errors"
    )


def render(report: Report) -> str:
    """Findings first, then one line per case that did not pass (or passed against a
    loopback cache), then the counts."""
    lines = finding_lines(report)
    for result in report.sorted_results():
        if result.status is not Status.PASSED:
            reason = f": {result.reason}" if result.reason else ""
            lines.append(f"{result.status.upper()} {result.node_id}{reason}")
        elif result.loopback:
            lines.append(f"PASSED {result.node_id}: {LOOPBACK}")
    lines.append(counts_line(report))
    return "\n".join(lines) + "\n"
