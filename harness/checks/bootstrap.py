"""BOOT001: every job that uses Nix installs it in the workflow itself, before first use."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.checks._findings import step_finding
from harness.checks.api import CheckContext, Skip
from harness.github.nix import installs_first, installs_nix, nix_use
from harness.results import CheckOutput
from harness.rules import Rule

RULES = (
    Rule("BOOT001", "A job uses Nix before, or without, a workflow-owned Nix install in that job.",
         example="steps:\n  - uses: actions/checkout@v4\n  - run: nix build .#default",
         fix="Install Nix first in the same job, e.g. `- uses: "
             "DeterminateSystems/nix-installer-action@<sha>` (or a local composite action "
             "that does), before the first Nix command. Each job starts on a bare runner.",
         suite="bootstrap"),
)


def check_workflow_owned_nix(ctx: CheckContext, params: Mapping[str, Any]) -> CheckOutput:
    """BOOT001 over every job that runs steps (composite actions expanded)."""
    model = ctx.workflows
    if not model.workflows:
        raise Skip("no GitHub Actions workflows in this repository (.github/workflows)")
    out = CheckOutput()
    for _workflow, job in model.jobs_with_steps():
        installed_at: int | None = None
        steps = model.effective_steps(job)
        for position, effective in enumerate(steps):
            if installed_at is None and installs_first(effective):
                installed_at = effective.job_step
                continue
            use = nix_use(effective)
            if use is not None and installed_at is None:
                later = any(installs_nix(s) for s in steps[position + 1:])
                when = "before" if later else "without"
                where = f" (inside {effective.via[-1]})" if effective.via else ""
                job_id = model.display_id(job)
                message = (f"job `{job_id}` step {effective.job_step} {use.description}{where} "
                           f"{when} a workflow-owned Nix install in this job")
                out.add(step_finding("BOOT001", message, job, effective.step,
                                     effective.job_step, line=use.line, job_id=job_id))
                break
            if installs_nix(effective):
                installed_at = effective.job_step
    out.measure("bootstrap.jobs_checked", sum(1 for _ in model.jobs_with_steps()), "jobs")
    return out

