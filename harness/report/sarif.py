"""`--format sarif`: SARIF 2.1.0 for GitHub code scanning.

`tool.driver.rules` is the whole rule catalogue (with help text: the example violation and
its fix); each finding is a result with `ruleId`, `ruleIndex`, `level` and a physical location
(repository-relative URI under `%SRCROOT%`, start line and column). Suppressed findings stay in
the log with an `inSource` or `external` suppression. Cases that errored become tool
execution notifications, so a crash is visible in code scanning too.
"""

from __future__ import annotations

import json
from typing import Any

from harness import __version__
from harness.report.model import Report
from harness.results import Finding, Severity, Status

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
INFORMATION_URI = "https://github.com/tinyland-inc/flywheel-harness"
_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "note"}


def _rules() -> tuple[list[dict[str, Any]], dict[str, int]]:
    from harness.rules import all_rules

    descriptors: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    for rule in all_rules():
        index[rule.id] = len(descriptors)
        help_text = f"{rule.summary}\n\nViolation:\n{rule.example}\n\nFix: {rule.fix}"
        help_markdown = (
            f"{rule.summary}\n\nViolation:\n\n```yaml\n{rule.example}\n```\n\nFix: {rule.fix}"
        )
        descriptors.append(
            {
                "id": rule.id,
                "name": rule.id,
                "shortDescription": {"text": rule.summary},
                "fullDescription": {"text": rule.summary},
                "help": {"text": help_text, "markdown": help_markdown},
                "defaultConfiguration": {"level": _LEVEL[rule.severity]},
                "properties": {"suite": rule.suite, "module": rule.module},
            }
        )
    return descriptors, index


def _result(finding: Finding, index: dict[str, int]) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": finding.rule,
        "level": _LEVEL[finding.severity],
        "message": {"text": finding.message},
    }
    if finding.rule in index:
        result["ruleIndex"] = index[finding.rule]
    if finding.file:
        physical: dict[str, Any] = {
            "artifactLocation": {"uri": finding.file, "uriBaseId": "%SRCROOT%"},
        }
        if finding.line:
            physical["region"] = {"startLine": finding.line, "startColumn": finding.column or 1}
        location: dict[str, Any] = {"physicalLocation": physical}
        if finding.job:
            location["logicalLocations"] = [
                {"name": finding.job, "kind": "function", "fullyQualifiedName": finding.job}
            ]
        result["locations"] = [location]
    if finding.suppressed:
        kind = (
            "external"
            if (finding.suppression or "").startswith("ignored by contract")
            else "inSource"
        )
        result["suppressions"] = [
            {"kind": kind, "justification": finding.suppression or "suppressed"}
        ]
    props = {k: v for k, v in (("job", finding.job), ("step", finding.step)) if v is not None}
    if props:
        result["properties"] = props
    return result


def sarif_log(report: Report) -> dict[str, Any]:
    """The SARIF log object of a report."""
    rules, index = _rules()
    results = [
        _result(f, index)
        for r in report.sorted_results()
        for f in sorted(r.findings, key=Finding.sort_key)
    ]
    notifications = [
        {"level": "error", "message": {"text": f"{r.node_id}: {r.reason}"}}
        for r in report.sorted_results()
        if r.status is Status.ERROR
    ]
    invocation: dict[str, Any] = {"executionSuccessful": not notifications}
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "flywheel-harness",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": INFORMATION_URI,
                "rules": rules,
            }
        },
        "originalUriBaseIds": {"%SRCROOT%": {"description": {"text": "repository root"}}},
        "invocations": [invocation],
        "results": results,
        "properties": {
            "contract": {"path": report.contract_path, "sha256": report.contract_sha256},
            "summary": report.summary(),
        },
    }
    if report.repo.commit:
        run["properties"]["commit"] = report.repo.commit
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


def render(report: Report) -> str:
    """The report as a SARIF 2.1.0 log (JSON)."""
    return json.dumps(sarif_log(report), indent=2) + "\n"
