"""Building a run's report, and merging the reports of matrix jobs into one."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.errors import HarnessInputError, Problem
from harness.report.model import RepoInfo, Report
from harness.results import CaseResult, Status

if TYPE_CHECKING:
    from harness.checks.api import CheckContext

_RANK = {Status.ERROR: 0, Status.FAILED: 1, Status.PASSED: 2, Status.SKIPPED: 3}


def now_iso() -> str:
    """The current UTC time as ISO 8601 with a `Z`."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def build_report(ctx: CheckContext, results: list[CaseResult]) -> Report:
    """The report of a run against `ctx`."""
    report = Report(
        repo=RepoInfo.of(ctx.repo),
        contract_path=ctx.contract.path,
        contract_sha256=ctx.contract.sha256,
        results=results,
        created=now_iso(),
    )
    model = ctx.__dict__.get("workflows")  # only when a check built the workflow model
    if model is not None and model.reads_remote:
        report.extra["sources"] = [r.to_json() for r in model.resolved]
    return report


def _worse(a: CaseResult, b: CaseResult) -> CaseResult:
    return a if _RANK[a.status] <= _RANK[b.status] else b


def merge_reports(reports: list[tuple[Path, Report]]) -> Report:
    """One report from several made on the same commit against the same contract.

    A case present in several reports keeps its worst outcome (error, failed, passed,
    skipped); `created` is the oldest input's, so freshness is judged by the oldest proof.
    """
    first_path, first = reports[0]
    problems: list[Problem] = []
    for path, report in reports[1:]:
        if report.repo.commit != first.repo.commit:
            problems.append(
                Problem(
                    str(path),
                    None,
                    f"commit {report.repo.commit} differs from {first.repo.commit} in {first_path}",
                )
            )
        if report.repo.dirty != first.repo.dirty:
            problems.append(
                Problem(
                    str(path),
                    None,
                    f"dirty={report.repo.dirty} differs from "
                    f"dirty={first.repo.dirty} in {first_path}",
                )
            )
        if report.contract_sha256 != first.contract_sha256:
            problems.append(
                Problem(
                    str(path),
                    None,
                    "made against another contract (sha256 "
                    f"{report.contract_sha256[:12]} vs "
                    f"{first.contract_sha256[:12]})",
                )
            )
    if problems:
        raise HarnessInputError(problems)
    cases: dict[str, CaseResult] = {}
    for _, report in reports:
        for result in report.results:
            known = cases.get(result.node_id)
            cases[result.node_id] = result if known is None else _worse(known, result)
    created = [r.created for _, r in reports if r.created]
    extra: dict[str, Any] = {
        "merged_from": [
            {"file": str(p), "created": r.created, "cases": len(r.results)} for p, r in reports
        ]
    }
    return Report(
        repo=first.repo,
        contract_path=first.contract_path,
        contract_sha256=first.contract_sha256,
        results=list(cases.values()),
        created=min(created) if len(created) == len(reports) else None,
        extra=extra,
    )
