"""Verification: run the static cases of the suites a fix can touch on edited texts, in memory,
and compare their findings with those before the edit."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

from harness.checks.api import CheckContext
from harness.engine import run_case
from harness.results import Finding
from harness.scenario import Case, Suite

STATIC_MARK = "static"
_NUMBER = re.compile(r"\d+")

FindingKey = tuple[str, str, str, str]


def static_cases(suites: Iterable[Suite], names: Iterable[str]) -> list[tuple[str, Case]]:
    """(suite, case) for every static case of the suites named (a fix edits workflow and
    action files only, so no other suite's result can change)."""
    wanted = set(names)
    return [
        (suite.name, case)
        for suite in suites
        if suite.name in wanted
        for case in suite.cases
        if STATIC_MARK in (*suite.marks, *case.marks)
    ]


def run_static(ctx: CheckContext, cases: list[tuple[str, Case]]) -> list[Finding]:
    """Every finding of the cases on `ctx` (suppressed ones included), in report order.

    A case that errors (a file that no longer reads, a crash) counts as a finding of its
    own, so that an edit which breaks a check is never taken for one that fixed it.
    """
    found: list[Finding] = []
    for suite, case in cases:
        result = run_case(ctx, suite, case)
        found.extend(result.findings)
        if result.status.value == "error":
            found.append(Finding("ERROR", f"{suite}::{case.name}: {result.reason}"))
    return sorted(found, key=Finding.sort_key)


def finding_key(finding: Finding) -> FindingKey:
    """What identifies a finding across an edit: rule, file and job (an edit may change
    what its message says: lines, step numbers, the jobs that ran before); for a finding
    on no job, the message with its numbers blanked."""
    return (
        finding.rule,
        finding.file or "",
        finding.job or "",
        "" if finding.job else _NUMBER.sub("#", finding.message),
    )


def judge(target: Finding, before: list[Finding], after: list[Finding]) -> str | None:
    """None when the edit removed `target` and added no finding; else why it is refused."""
    was = Counter(finding_key(f) for f in before)
    now = Counter(finding_key(f) for f in after)
    new = now - was
    if new:
        added = [f for f in after if finding_key(f) in new]
        shown = "; ".join(f"{f.rule} {f.file or ''}:{f.line or ''} {f.message}" for f in added[:2])
        more = f" (and {len(added) - 2} more)" if len(added) > 2 else ""
        return f"verification failed: the edit adds a finding: {shown}{more}"
    key = finding_key(target)
    if now[key] >= was[key]:
        return f"verification failed: {target.rule} is still reported after the edit"
    return None


def gone(before: list[Finding], after: list[Finding]) -> list[Finding]:
    """Findings of `before` that `after` no longer has."""
    left = Counter(finding_key(f) for f in after)
    out = []
    for finding in before:
        key = finding_key(finding)
        if left[key] > 0:
            left[key] -= 1
        else:
            out.append(finding)
    return out
