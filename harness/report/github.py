"""`--format github`: workflow-command annotations, within GitHub's per-step limits."""

from __future__ import annotations

from harness.report.model import Report
from harness.results import Finding, Severity, Status

MAX_PER_LEVEL = 10
"""GitHub shows at most 10 error and 10 warning annotations per step."""

_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "notice"}


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(finding: Finding) -> str:
    """One `::error file=...,line=...,title=RULE::message` line."""
    level = _LEVEL[finding.severity]
    props = []
    if finding.file:
        props.append(f"file={_escape_property(finding.file)}")
    if finding.line:
        props.append(f"line={finding.line}")
    if finding.column:
        props.append(f"col={finding.column}")
    props.append(f"title={_escape_property(finding.rule)}")
    return f"::{level} {','.join(props)}::{_escape_data(finding.message)}"


def render(report: Report) -> str:
    """Annotations for unsuppressed findings (errors first), then a notice with the counts."""
    findings = sorted((f for r in report.results for f in r.findings if not f.suppressed),
                      key=lambda f: (f.severity is not Severity.ERROR, *f.sort_key()))
    lines: list[str] = []
    shown: dict[str, int] = {}
    left_out: dict[str, int] = {}
    for finding in findings:
        level = _LEVEL[finding.severity]
        if shown.get(level, 0) >= MAX_PER_LEVEL:
            left_out[level] = left_out.get(level, 0) + 1
            continue
        shown[level] = shown.get(level, 0) + 1
        lines.append(annotation(finding))
    for level, count in sorted(left_out.items()):
        lines.append(f"::notice title=flywheel-harness::{count} more {level} annotation(s) left "
                     "out (GitHub shows 10 per step); see the JSON or SARIF report")
    for result in report.sorted_results():
        if result.status is Status.ERROR:
            lines.append(f"::error title={_escape_property(result.node_id)}::"
                         f"{_escape_data(result.reason)}")
    summary = report.summary()
    lines.append(f"{summary['passed']} passed, {summary['failed']} failed, "
                 f"{summary['skipped']} skipped, {summary['errors']} errors")
    return "\n".join(lines) + "\n"
