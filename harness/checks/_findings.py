"""Helpers that turn model objects into located findings."""

from __future__ import annotations

from harness.github.model import Job, Step
from harness.results import Finding, Severity


def job_finding(
    rule: str,
    message: str,
    job: Job,
    *,
    line: int | None = None,
    severity: Severity = Severity.ERROR,
    job_id: str | None = None,
) -> Finding:
    """A finding on a job, at `line` (default: the job's own line)."""
    return Finding(
        rule=rule,
        message=message,
        severity=severity,
        file=job.file,
        line=line or job.line,
        job=job_id or job.id,
    )


def step_finding(
    rule: str,
    message: str,
    job: Job,
    step: Step,
    job_step: int,
    *,
    line: int | None = None,
    severity: Severity = Severity.ERROR,
    job_id: str | None = None,
) -> Finding:
    """A finding on a step (which may live in a composite action file)."""
    return Finding(
        rule=rule,
        message=message,
        severity=severity,
        file=step.file,
        line=line or step.line,
        job=job_id or job.id,
        step=job_step,
    )
