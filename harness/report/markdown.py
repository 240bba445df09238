"""`--format markdown`: a job summary for `$GITHUB_STEP_SUMMARY`.

Sections: the verdict and counts, a table of suites, a table of cases that did not pass (all
cases when there are few), the key measurements (cache hit ratios, peak memory against the
lane envelope), every measurement, and the top findings.
"""

from __future__ import annotations

from collections import defaultdict

from harness.quantity import format_bytes
from harness.report.model import Report
from harness.results import CaseResult, Measurement, Severity, Status

TOP_FINDINGS = 15
MAX_MEASUREMENTS = 60
ALL_CASES_UP_TO = 40
_ICON = {
    Status.PASSED: "✅ passed",
    Status.FAILED: "❌ failed",
    Status.SKIPPED: "⏭️ skipped",
    Status.ERROR: "💥 error",
}


def cell(text: object) -> str:
    """Text made safe for one Markdown table cell."""
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").strip()


def value_text(m: Measurement) -> str:
    """A measurement as a reader wants it: bytes in Ki/Mi/Gi, ratios in percent, speed-ups
    (`*acceleration`, cold over warm) as a factor."""
    if m.unit == "bytes":
        return format_bytes(m.value)
    if m.unit == "ratio" and m.name.endswith("acceleration"):
        return f"{m.value:.2f}x"
    if m.unit == "ratio":
        return f"{m.value * 100:.1f}%"
    if m.unit == "seconds":
        return f"{m.value:.3f} s"
    number = f"{m.value:g}"
    return f"{number} {m.unit}".strip()


def _suite_table(report: Report) -> list[str]:
    counts: dict[str, dict[Status, int]] = defaultdict(lambda: dict.fromkeys(Status, 0))
    for result in report.results:
        counts[result.suite][result.status] += 1
    lines = [
        "| suite | passed | failed | skipped | errors |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for suite in sorted(counts):
        c = counts[suite]
        lines.append(
            f"| {cell(suite)} | {c[Status.PASSED]} | {c[Status.FAILED]} | "
            f"{c[Status.SKIPPED]} | {c[Status.ERROR]} |"
        )
    return lines


def _case_table(results: list[CaseResult]) -> list[str]:
    lines = ["| suite | case | status | reason |", "| --- | --- | --- | --- |"]
    for r in results:
        live = " (live)" if r.live and r.status is Status.SKIPPED else ""
        lines.append(
            f"| {cell(r.suite)} | {cell(r.case)} | {_ICON[r.status]}{live} | {cell(r.reason)} |"
        )
    return lines


def _key_measurements(report: Report) -> list[str]:
    lines: list[str] = []
    for r in report.sorted_results():
        by_name = {m.name: m for m in r.measurements}
        for m in r.measurements:
            if m.name.endswith("hit_ratio"):
                lines.append(f"- **{cell(m.name)}** ({cell(r.node_id)}): {value_text(m)}")
        peak = by_name.get("memory.peak_working_set_bytes")
        limit = by_name.get("memory.limit_bytes")
        if peak is not None and limit is not None and limit.value:
            share = peak.value / limit.value * 100
            lines.append(
                f"- **peak memory** ({cell(r.node_id)}): {format_bytes(peak.value)} "
                f"of the {format_bytes(limit.value)} envelope ({share:.0f}%)"
            )
    return lines


def _measurement_table(report: Report) -> list[str]:
    rows = [(r, m) for r in report.sorted_results() for m in r.measurements]
    if not rows:
        return []
    lines = ["| case | measurement | value |", "| --- | --- | ---: |"]
    for r, m in rows[:MAX_MEASUREMENTS]:
        lines.append(f"| {cell(r.node_id)} | {cell(m.name)} | {cell(value_text(m))} |")
    if len(rows) > MAX_MEASUREMENTS:
        lines.append(f"\n{len(rows) - MAX_MEASUREMENTS} more measurement(s) in the JSON report.")
    return lines


def _top_findings(report: Report) -> list[str]:
    findings = [f for r in report.results for f in r.findings if not f.suppressed]
    order = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.NOTE: 2}
    findings.sort(key=lambda f: (order[f.severity], *f.sort_key()))
    suppressed = sum(1 for r in report.results for f in r.findings if f.suppressed)
    lines: list[str] = []
    for f in findings[:TOP_FINDINGS]:
        where = f"{f.file}:{f.line}" if f.file and f.line else (f.file or "repository")
        lines.append(f"- **{f.rule}** {f.severity} `{cell(where)}`: {cell(f.message)}")
    if len(findings) > TOP_FINDINGS:
        lines.append(f"- … and {len(findings) - TOP_FINDINGS} more")
    if suppressed:
        lines.append(f"- {suppressed} suppressed finding(s) not shown")
    return lines


def render(report: Report) -> str:
    """The report as GitHub-flavoured Markdown."""
    summary = report.summary()
    verdict = "❌ failed" if report.failed else "✅ passed"
    commit = (report.repo.commit or "no commit")[:12]
    dirty = " (dirty tree)" if report.repo.dirty else ""
    if report.repo.dirty is None and report.repo.commit:
        dirty = " (tree state unknown)"
    out = [
        f"## flywheel-harness: {verdict}",
        "",
        f"{summary['passed']} passed, {summary['failed']} failed, {summary['skipped']} "
        f"skipped, {summary['errors']} errors — commit `{commit}`{dirty}, contract "
        f"`{cell(report.contract_path)}` (sha256 `{report.contract_sha256[:12]}`)",
        "",
    ]
    if report.results:
        out += ["### Suites", "", *_suite_table(report), ""]
        results = report.sorted_results()
        if len(results) > ALL_CASES_UP_TO:
            results = [r for r in results if r.status is not Status.PASSED]
            title = "### Cases that did not pass"
        else:
            title = "### Cases"
        if results:
            out += [title, "", *_case_table(results), ""]
    key = _key_measurements(report)
    if key:
        out += ["### Key measurements", "", *key, ""]
    table = _measurement_table(report)
    if table:
        out += ["<details><summary>All measurements</summary>", "", *table, "", "</details>", ""]
    findings = _top_findings(report)
    if findings:
        out += ["### Top findings", "", *findings, ""]
    return "\n".join(out).rstrip() + "\n"
