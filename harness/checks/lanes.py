"""LANE001-LANE004: every `runs-on` names a contract lane (alone) or a hosted label, and in an
enrolled repository Linux jobs run on lanes unless a hosted exception covers them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from harness.checks.api import CheckContext, Skip
from harness.github.labels import RESOLVED
from harness.github.repo import JobInstance
from harness.results import CheckOutput, Finding, Severity
from harness.rules import Rule

RULES = (
    Rule(
        "LANE001",
        "A `runs-on` label is neither a contract lane nor a known hosted label "
        "(GitHub's hosted labels, or the contract's `hosted_labels`).",
        example="runs-on: myapp-nix   # repo-shaped label, not a lane",
        fix="Use a lane of the contract (`tinyland-nix`, `tinyland-nix-heavy`, ...).",
    ),
    Rule(
        "LANE002",
        "A lane label is combined with other labels; ARC scale-set runners carry "
        "only their scale set's name, so the job is never picked up.",
        example="runs-on: [self-hosted, tinyland-nix]",
        fix="runs-on: tinyland-nix",
    ),
    Rule(
        "LANE003",
        "`runs-on` cannot be resolved statically (an expression from run-time "
        "context); its lane is not checked.",
        example="runs-on: ${{ needs.plan.outputs.lane }}",
        fix="Resolve the lane from a matrix or a workflow input with a default, or suppress "
        "with a reason.",
        severity=Severity.WARNING,
    ),
    Rule(
        "LANE004",
        "In an enrolled repository, a Linux job runs on a GitHub-hosted runner "
        "and no hosted exception in force covers it (an expired exception is a "
        "finding too). Only checked when the contract has an `enrollment` section.",
        example="runs-on: ubuntu-latest   # in a repository of tranche-1",
        fix="runs-on: tinyland-nix; or, with a reason and a date, "
        "enrollment.exceptions.OWNER/REPO: {reason: ..., allow: [ubuntu-latest], "
        "until: 2027-03-01}",
    ),
)

_SUGGESTIONS = (
    "ubuntu-latest",
    "ubuntu-24.04",
    "ubuntu-24.04-arm",
    "macos-latest",
    "windows-latest",
)
"""Hosted labels offered when a label is a near miss of one."""


_LANE_SUFFIXES = ("-nix", "-nix-heavy", "-docker", "-dind", "-kvm", "-gpu")


def label_origin(instance: JobInstance) -> tuple[str, int]:
    """Where a job's labels come from: the caller's `with:` when they come from inputs."""
    job = instance.job
    if instance.chain and "inputs." in str(job.runs_on):
        caller = instance.chain[-1]
        for name, line in caller.with_lines.items():
            if f"inputs.{name}" in str(job.runs_on):
                return caller.file, line
        return caller.file, caller.uses_line
    return job.file, job.runs_on_line


def _suggest(label: str, known: list[str]) -> str:
    import difflib  # only for a label that is not known

    close = difflib.get_close_matches(label, known, n=1, cutoff=0.75)
    return f" (did you mean `{close[0]}`?)" if close else ""


def _unknown_message(job: str, asked: str, unknown: tuple[str, ...], known: list[str]) -> str:
    names = ", ".join(f"`{label}`" for label in unknown)
    verb = "is" if len(unknown) == 1 else "are"
    hints = "".join(_suggest(label, known) for label in unknown)
    shaped = [label for label in unknown if label.endswith(_LANE_SUFFIXES)]
    residue = " (a repo-shaped label: lanes are capability classes)" if shaped and not hints else ""
    return (
        f"job `{job}` runs on `{asked}`: {names} {verb} neither a lane of the contract "
        f"nor a known hosted label{hints}{residue}"
    )


def _instances(ctx: CheckContext) -> list[JobInstance]:
    instances = ctx.workflows.instances
    if not ctx.workflows.workflows:
        raise Skip("no GitHub Actions workflows in this repository (.github/workflows)")
    return instances


def check_known_labels(ctx: CheckContext, params: Mapping[str, Any]) -> CheckOutput:
    """LANE001 and LANE003: labels are contract lanes or hosted labels; unresolved ones noted."""
    out = CheckOutput(examined=ctx.workflow_inputs())
    contract = ctx.contract
    known = sorted({*contract.lanes, *contract.hosted_labels, *_SUGGESTIONS})
    lanes = {lane.lower() for lane in contract.lanes}  # GitHub matches labels ignoring case
    catalogue = contract.hosted_catalogue
    for instance in _instances(ctx):
        seen: set[str] = set()
        for variant in instance.variants:
            labels = variant.labels
            if labels.certainty != RESOLVED:
                key = "?" + ",".join(labels.unresolved)
                if key not in seen:
                    seen.add(key)
                    file, line = label_origin(instance)
                    why = f" ({labels.reason})" if labels.reason else ""
                    out.add(
                        Finding(
                            "LANE003",
                            f"job `{instance.display_id}`: runs-on "
                            f"`{', '.join(labels.unresolved)}` cannot be "
                            f"resolved statically{why}",
                            Severity.WARNING,
                            file=file,
                            line=line,
                            job=instance.display_id,
                        )
                    )
            if any(label.lower() in lanes for label in labels.labels):
                continue  # a lane with extra labels is LANE002's finding
            unknown = tuple(label for label in labels.labels if catalogue.lookup(label) is None)
            if not unknown or ",".join(unknown) in seen:
                continue
            seen.add(",".join(unknown))
            file, line = label_origin(instance)
            out.add(
                Finding(
                    "LANE001",
                    _unknown_message(instance.display_id, labels.text(), unknown, known),
                    file=file,
                    line=line,
                    job=instance.display_id,
                )
            )
    return out


def check_label_alone(ctx: CheckContext, params: Mapping[str, Any]) -> CheckOutput:
    """LANE002: a lane label is the only label of its `runs-on`."""
    out = CheckOutput(examined=ctx.workflow_inputs())
    lanes = {lane.lower() for lane in ctx.contract.lanes}
    for instance in _instances(ctx):
        seen: set[tuple[str, ...]] = set()
        for variant in instance.variants:
            labels = variant.labels.labels
            lane_labels = [label for label in labels if label.lower() in lanes]
            # a runner group is not a label: `{group: g, labels: [lane]}` reaches the scale
            # set registered in that group
            if not lane_labels or len(labels) == 1 or labels in seen:
                continue
            seen.add(labels)
            file, line = label_origin(instance)
            out.add(
                Finding(
                    "LANE002",
                    f"job `{instance.display_id}` asks for "
                    f"`{variant.labels.text()}`: ARC scale-set runners are "
                    f"addressed by the scale set name alone; use "
                    f"`runs-on: {lane_labels[0]}`",
                    file=file,
                    line=line,
                    job=instance.display_id,
                )
            )
    return out


def _lane_for(ctx: CheckContext, platform: str) -> str | None:
    """The lane to suggest for a hosted job of `platform`: a light Nix lane first."""
    lanes = [lane for lane in ctx.contract.lanes.values() if lane.platform == platform]
    lanes.sort(key=lambda lane: (lane.heavy, lane.kind != "nix"))
    return lanes[0].name if lanes else None


def check_hosted_linux(ctx: CheckContext, params: Mapping[str, Any]) -> CheckOutput:
    """LANE004: in an enrolled repository, Linux jobs do not run on hosted runners unless a
    hosted exception in force covers them; expired exceptions are findings."""
    enrollment = ctx.contract.enrollment
    if enrollment is None:
        raise Skip("the contract has no `enrollment` section: hosted Linux jobs are allowed")
    out = CheckOutput(examined=ctx.workflow_inputs())
    catalogue = ctx.contract.hosted_catalogue
    lanes = {lane.lower() for lane in ctx.contract.lanes}
    exception = enrollment.exception_of(ctx.repo_name)
    expired = exception is not None and exception.expired(date.today())
    covered = hosted_jobs = 0
    for instance in _instances(ctx):
        seen: set[tuple[str, ...]] = set()
        for variant in instance.variants:
            labels = variant.labels.labels
            if not labels or any(label.lower() in lanes for label in labels):
                continue
            hosted = catalogue.hosted(labels)
            if hosted is None or hosted.os != "linux" or labels in seen:
                continue
            seen.add(labels)
            hosted_jobs += 1
            file, line = label_origin(instance)
            job = instance.display_id
            if exception is not None and exception.covers(labels):
                covered += 1
                if not expired:
                    continue
                message = (
                    f"job `{job}` runs on hosted `{variant.labels.text()}` under an "
                    f"expired hosted exception (until {exception.until}: "
                    f"{exception.reason})"
                )
            else:
                lane = _lane_for(ctx, hosted.platform)
                where = (
                    f"move it to the lane `{lane}`"
                    if lane
                    else f"no lane serves {hosted.platform}: record a hosted exception"
                )
                message = (
                    f"job `{job}` runs on the GitHub-hosted Linux runner "
                    f"`{variant.labels.text()}` ({hosted.platform}) in an enrolled "
                    f"repository: {where}"
                )
            out.add(Finding("LANE004", message, file=file, line=line, job=job))
    if expired and exception is not None and not covered:
        out.add(
            Finding(
                "LANE004",
                f"the hosted exception of {exception.repo} expired on "
                f"{exception.until} ({exception.reason})",
                file=ctx.contract.path,
                line=exception.line,
            )
        )
    out.measure("lanes.hosted_linux_variants", hosted_jobs, "variants")
    return out
