"""One fleet row: a repository checked by the normal pipeline, with its verdict explained.

Verdicts:
- `not-enrolled`: the contract has an `enrollment` section and no tranche names the
  repository; its lane and placement findings are guidance (notes).
- `blocked`: a case failed (an error finding) or errored, or nothing was examined.
- `excepted`: enrolled, nothing failed, and a hosted exception in force covers some of its
  hosted jobs.
- `ready`: enrolled and nothing failed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

from harness.checks.api import CheckContext
from harness.contract.enrollment import HostedException
from harness.contract.model import Contract
from harness.github.uses.api import ContentsApi
from harness.options import Options
from harness.results import CaseResult, Finding, Severity, Status
from harness.rollout.guidance import is_guidance_rule
from harness.rollout.targets import Target
from harness.scenario import Suite

AREAS = {
    "BOOT": "bootstrap",
    "PLACE": "placement",
    "LANE": "lanes",
    "PUB": "publication",
    "WF": "workflows",
}
"""Rule prefix -> the area a fleet row counts its findings under (else `other`)."""
AREA_NAMES = (*AREAS.values(), "other")
READY, BLOCKED, EXCEPTED, NOT_ENROLLED = "ready", "blocked", "excepted", "not-enrolled"
VERDICTS = (READY, BLOCKED, EXCEPTED, NOT_ENROLLED)


@dataclass(frozen=True)
class FleetSetup:
    """What every repository of one fleet run is checked against."""

    contract: Contract
    suites: tuple[Suite, ...]
    options: Options
    today: date
    patches: Path | None = None
    """`--patches DIR`: write each repository's fixes there as a patch."""
    unsafe: bool = False
    """Unsafe fixes go into the patches too."""
    api: ContentsApi | None = None
    """The GitHub API client that fetches `OWNER/REPO@REF` lines (one per worker process, so
    its connections are reused); None: one per repository."""


def area_of(rule: str) -> str:
    """The area a rule's findings count under."""
    return AREAS.get(rule.rstrip("0123456789"), "other")


def _rule_severity(rule: str) -> Severity | None:
    from harness.checks import lanes, placement

    for item in (*lanes.RULES, *placement.RULES):
        if item.id == rule:
            return item.severity
    return None


def as_enrolled(finding: Finding, enrolled: bool) -> Severity:
    """The severity a finding has once its repository is enrolled (guidance notes of a
    repository outside the tranches get their rule's severity back)."""
    if not enrolled and finding.severity is Severity.NOTE and is_guidance_rule(finding.rule):
        return _rule_severity(finding.rule) or finding.severity
    return finding.severity


def _counts(results: list[CaseResult]) -> dict[str, int]:
    counts = dict.fromkeys((*AREA_NAMES, "error", "warning", "note"), 0)
    for result in results:
        for finding in result.findings:
            if finding.suppressed:
                continue
            counts[area_of(finding.rule)] += 1
            counts[str(finding.severity)] += 1
    return counts


def _runner_facts(ctx: CheckContext) -> tuple[list[str], dict[str, list[str]]]:
    """Lanes the repository's jobs use, and its GitHub-hosted jobs by platform."""
    lanes = {name.lower(): name for name in ctx.contract.lanes}
    catalogue = ctx.contract.hosted_catalogue
    used: set[str] = set()
    hosted: dict[str, set[str]] = {}
    try:
        instances = ctx.workflows.instances
    except Exception:  # the workflows suite reports what could not be read
        return [], {}
    for instance in instances:
        for variant in instance.variants:
            labels = variant.labels.labels
            on_lanes = [lanes[label.lower()] for label in labels if label.lower() in lanes]
            used.update(on_lanes)
            entry = None if on_lanes else catalogue.hosted(labels)
            if entry is not None:
                hosted.setdefault(entry.platform, set()).add(
                    f"{instance.display_id} ({entry.label})"
                )
    return sorted(used), {platform: sorted(jobs) for platform, jobs in sorted(hosted.items())}


def _exception_json(exception: HostedException | None, today: date) -> list[dict[str, Any]]:
    if exception is None:
        return []
    state = "expired" if exception.expired(today) else "in force"
    return [{**exception.to_json(), "state": state}]


def _failures(results: list[CaseResult]) -> list[str]:
    """Why the repository is blocked: its error findings by rule, and errored cases."""
    rules = Counter(f.rule for r in results for f in r.findings if f.fails)
    reasons = [
        f"{count} error finding(s) of {rule} ({area_of(rule)})"
        for rule, count in sorted(rules.items())
    ]
    reasons += [f"{r.node_id} errored: {r.reason}" for r in results if r.status is Status.ERROR]
    reasons += [
        f"{r.node_id} failed: {r.reason}"
        for r in results
        if r.status is Status.FAILED and not any(f.fails for f in r.findings)
    ]
    return reasons


def _promotion(setup: FleetSetup, results: list[CaseResult], enrolled: bool) -> dict[str, Any]:
    """Whether the repository passes `enrollment.promotion`, judged as if it were enrolled."""
    enrollment = setup.contract.enrollment
    if enrollment is None:
        return {"passes": False, "reasons": ["the contract has no enrollment section"]}
    rule = enrollment.promotion
    chosen = [r for r in results if r.suite in rule.suites]
    reasons = []
    passed = [r for r in chosen if r.status is Status.PASSED]
    if not passed:
        reasons.append(f"no case of {', '.join(rule.suites)} passed (nothing examined)")
    errors = Counter(
        f.rule
        for r in chosen
        for f in r.findings
        if not f.suppressed and as_enrolled(f, enrolled) is Severity.ERROR
    )
    reasons += [f"{count} error finding(s) of {name}" for name, count in sorted(errors.items())]
    reasons += [f"{r.node_id} errored" for r in chosen if r.status is Status.ERROR]
    warnings = sum(
        1
        for r in chosen
        for f in r.findings
        if not f.suppressed and as_enrolled(f, enrolled) is Severity.WARNING
    )
    if warnings > rule.max_warnings:
        reasons.append(f"{warnings} warning(s), more than max_warnings {rule.max_warnings}")
    return {"passes": not reasons, "reasons": reasons}


def _verdict(
    ctx: CheckContext,
    results: list[CaseResult],
    hosted: dict[str, list[str]],
    exception: list[dict[str, Any]],
) -> tuple[str, list[str]]:
    examined = [r for r in results if r.status is not Status.SKIPPED]
    notes = sum(
        1
        for r in results
        for f in r.findings
        if f.severity is Severity.NOTE and is_guidance_rule(f.rule) and not f.suppressed
    )
    if not ctx.enrolled:
        if not examined:
            return NOT_ENROLLED, ["in no tranche; nothing was examined (no workflows?)"]
        first = (
            f"in no tranche; {notes} lane/placement finding(s) shown as guidance"
            if notes
            else "in no tranche; no lane or placement findings"
        )
        return NOT_ENROLLED, [first, *_failures(results)]
    failures = _failures(results)
    if not examined:
        failures.append("nothing was examined: every case skipped (no workflows?)")
    if failures:
        return BLOCKED, failures + [
            f"hosted exception expired on {e['until']} ({e['reason']})"
            for e in exception
            if e["state"] == "expired"
        ]
    in_force = [e for e in exception if e["state"] == "in force"]
    covered = sorted(
        job
        for jobs in hosted.values()
        for job in jobs
        if any(_glob_covers(label_of(job), e["allow"]) for e in in_force)
    )
    passed = sum(1 for r in results if r.status is Status.PASSED)
    if covered:
        e = in_force[0]
        return EXCEPTED, [
            f"hosted exception until {e['until']} ({e['reason']}) covers "
            f"{', '.join(covered)}; {passed} case(s) passed"
        ]
    linux = sum(len(jobs) for platform, jobs in hosted.items() if platform.startswith("linux"))
    tail = "" if not hosted else f"; hosted jobs on {', '.join(hosted)}"
    return READY, [f"{passed} case(s) passed, {linux} hosted Linux job(s){tail}"]


def label_of(job: str) -> str:
    """The label of a `job (label)` entry of a row's hosted jobs."""
    return job.rsplit("(", 1)[-1].rstrip(")")


def _glob_covers(label: str, patterns: list[str]) -> bool:
    from fnmatch import fnmatchcase

    return any(fnmatchcase(label.lower(), p.lower()) for p in patterns)


def check_repo(setup: FleetSetup, target: Target) -> dict[str, Any]:
    """The fleet row of one repository (an `OWNER/REPO@REF` line is fetched first); a
    repository that cannot be fetched or checked is a blocked row saying why, never a lost
    fleet run."""
    fetched: dict[str, Any] | None = None
    if target.path is None:
        from harness.rollout.checkout import FetchError, fetch

        try:
            snapshot = fetch(target.repo, target.ref or "", setup.options, setup.api)
        except Exception as exc:  # FetchError says why in one line; anything else too
            text = str(exc) if isinstance(exc, FetchError) else f"{type(exc).__name__}: {exc}"
            why = f"not checked: {target.line}: {target.where}: {text}".splitlines()[0]
            return unchecked_row(setup, target, why, {"ref": target.ref, "error": why})
        fetched = snapshot.to_json(target.ref or "")
        target = replace(target, path=snapshot.path)
    try:
        row = _check_repo(setup, target)
    except Exception as exc:
        reason = f"could not be checked: {type(exc).__name__}: {exc}".splitlines()[0]
        return unchecked_row(setup, target, reason, fetched)
    if fetched is not None:
        row["fetched"] = fetched
    return row


def unchecked_row(
    setup: FleetSetup, target: Target, reason: str, fetched: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The blocked row of a repository that was not checked, with the one-line `reason`."""
    enrollment = setup.contract.enrollment
    row: dict[str, Any] = {
        "repo": target.repo,
        "path": None if target.path is None else str(target.path),
        "tranche": enrollment.tranche_of(target.repo) if enrollment else None,
        "ownership": enrollment.ownership_of(target.repo) if enrollment else "repo-owned",
        "enrolled": setup.contract.enrolled(target.repo),
        "verdict": BLOCKED,
        "reasons": [reason],
        "lanes": [],
        "hosted": {},
        "exceptions": [],
        "counts": dict.fromkeys((*AREA_NAMES, "error", "warning", "note"), 0),
        "promotion": {"passes": False, "reasons": [reason]},
        "report": {},
    }
    if fetched is not None:
        row["fetched"] = fetched
    if setup.patches is not None:
        from harness.rollout.patches import failed

        row["patch"] = failed(reason)
    return row


def _check_repo(setup: FleetSetup, target: Target) -> dict[str, Any]:
    """Run the suites on one repository and return its fleet row (JSON-ready)."""
    from harness.report.build import build_report
    from harness.scheduler import run_suites

    assert target.path is not None, "fetched before it is checked"
    ctx = CheckContext(
        repo=target.path,
        contract=setup.contract,
        options=replace(setup.options, repo_name=target.repo),
    )
    results = run_suites(ctx, setup.suites)
    report = build_report(ctx, results)
    enrollment = setup.contract.enrollment
    lanes, hosted = _runner_facts(ctx)
    exception = _exception_json(
        enrollment.exception_of(target.repo) if enrollment else None, setup.today
    )
    verdict, reasons = _verdict(ctx, results, hosted, exception)
    row = {
        "repo": target.repo,
        "path": str(target.path),
        "tranche": enrollment.tranche_of(target.repo) if enrollment else None,
        "ownership": enrollment.ownership_of(target.repo) if enrollment else "repo-owned",
        "enrolled": ctx.enrolled,
        "verdict": verdict,
        "reasons": reasons,
        "lanes": lanes,
        "hosted": hosted,
        "exceptions": exception,
        "counts": _counts(results),
        "promotion": _promotion(setup, results, ctx.enrolled),
        "report": report.to_json(),
    }
    if setup.patches is not None:
        from harness.rollout.patches import repo_patch

        row["patch"] = repo_patch(ctx, setup.patches, target.repo, setup.unsafe)
    return row
