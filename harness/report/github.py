"""`--format github`: workflow-command annotations, within GitHub's per-step limits."""

from __future__ import annotations

from harness.report.model import Report
from harness.results import Finding, Severity, Status

MAX_PER_LEVEL = 10
"""GitHub shows at most 10 error, 10 warning and 10 notice annotations per step."""

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
    """Annotations (errored cases and failed cases without a finding, such as a live case
    skipped under --require-live, then findings, errors first), at most 10 per level.

    GitHub shows 10 error, 10 warning and 10 notice annotations per step (50 per job); what
    does not fit is counted in one closing notice, which keeps a notice slot for itself.
    """
    findings = sorted(
        (f for r in report.results for f in r.findings if not f.suppressed),
        key=lambda f: (f.severity is not Severity.ERROR, *f.sort_key()),
    )
    candidates: list[tuple[str, str]] = [
        ("error", f"::error title={_escape_property(r.node_id)}::{_escape_data(r.reason)}")
        for r in report.sorted_results()
        if r.status is Status.ERROR
        or (r.status is Status.FAILED and not any(f.fails for f in r.findings))
    ]
    candidates += [(_LEVEL[f.severity], annotation(f)) for f in findings]
    total_notices = sum(1 for level, _ in candidates if level == "notice")
    overflow = total_notices > MAX_PER_LEVEL or any(
        sum(1 for level, _ in candidates if level == name) > MAX_PER_LEVEL
        for name in ("error", "warning")
    )
    budget = {
        "error": MAX_PER_LEVEL,
        "warning": MAX_PER_LEVEL,
        "notice": MAX_PER_LEVEL - (1 if overflow else 0),
    }
    lines: list[str] = []
    left_out: dict[str, int] = {}
    for level, text in candidates:
        if budget[level] <= 0:
            left_out[level] = left_out.get(level, 0) + 1
            continue
        budget[level] -= 1
        lines.append(text)
    if left_out:
        counts = ", ".join(f"{count} {level}" for level, count in sorted(left_out.items()))
        lines.append(
            f"::notice title=flywheel-harness::{counts} annotation(s) left out "
            f"(GitHub shows {MAX_PER_LEVEL} per level per step); see the text, JSON "
            "or SARIF report"
        )
    summary = report.summary()
    lines.append(
        f"{summary['passed']} passed, {summary['failed']} failed, "
        f"{summary['skipped']} skipped, {summary['errors']} errors"
    )
    return "\n".join(lines) + "\n"
