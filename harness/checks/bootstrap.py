"""BOOT001 and BOOT002: every job that uses Nix installs it in the workflow itself, before
first use, certainly (see `harness.github.guarantee`), in every variant in which it runs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.checks._findings import step_finding
from harness.checks.api import CheckContext, Skip
from harness.contract.model import Contract
from harness.github.guarantee import Uncertain, Verdict, guard, verdict
from harness.github.repo import JobInstance, Variant
from harness.results import CheckOutput, Finding, Severity
from harness.rules import Rule

RULES = (
    Rule(
        "BOOT001",
        "A job uses Nix before, or without, a workflow-owned Nix install in that job.",
        example="steps:\n  - uses: actions/checkout@v4\n  - run: nix build .#default",
        fix="Install Nix first in the same job, e.g. `- uses: "
        "DeterminateSystems/nix-installer-action@<sha>` (or a local composite action "
        "that does), before the first Nix command. Each job starts on a bare runner.",
    ),
    Rule(
        "BOOT002",
        "A job's only Nix install before its first use is not certain: it runs "
        "under a run-time condition (detect-or-install: it reuses a preinstalled "
        "Nix) or with `continue-on-error`. Error on a self-hosted lane, warning "
        "elsewhere.",
        example="- id: detect\n  run: command -v nix && echo installed=true >> $GITHUB_OUTPUT"
        "\n- if: steps.detect.outputs.installed != 'true'\n"
        "  uses: DeterminateSystems/nix-installer-action@v16\n- run: nix build",
        fix="Install Nix unconditionally in the workflow (drop the detect step and the "
        "`if:`, and `continue-on-error`); the runner image must not provide Nix.",
    ),
)


def _self_hosted(variant: Variant, contract: Contract) -> bool:
    lanes = {lane.lower() for lane in contract.lanes}
    labels = {label.lower() for label in variant.labels.labels}
    return bool(labels & lanes) or "self-hosted" in labels or variant.labels.group is not None


def _variant_text(instance: JobInstance, variants: list[Variant]) -> str:
    """` (when a=1; when a=2)`: the variants a finding holds for, when not all."""
    texts = []
    for variant in variants[:4]:
        parts = [
            f"{k}={v}"
            for k, v in sorted({**variant.inputs, **variant.matrix}.items())
            if not isinstance(v, dict | list)
        ]
        texts.append("when " + ", ".join(parts) if parts else "in one variant")
    more = f"; {len(variants) - 4} more" if len(variants) > 4 else ""
    return f" ({'; '.join(texts)}{more})"


def _why(item: Uncertain) -> str:
    s = item.step
    where = f"{s.step.file}:{s.step.line}"
    if s.outer:
        what = f"`{s.outer[-1].uses}`, which installs Nix"
    else:
        what = f"step {s.job_step} ({s.step.label}), which installs Nix"
    if item.continue_on_error:
        return (
            f"{what} with `continue-on-error` ({where}): a failed install does not stop "
            "the job, so it is not a guarantee"
        )
    return (
        f"{what} only `if: {item.condition}` ({where}): on a runner where that is false "
        "(Nix preinstalled: detect-or-install) nothing installs Nix, which is not a "
        "workflow-owned bootstrap"
    )


def _finding(instance: JobInstance, found: Verdict, severity: Severity, when: str) -> Finding:
    assert found.use_step is not None and found.use is not None
    step = found.use_step
    job_id = instance.display_id
    where = f" (inside {step.via[-1]})" if step.via else ""
    head = f"job `{job_id}` step {step.job_step} {found.use.description}{where}"
    if found.fault == "BOOT002":
        whys = "; ".join(_why(u) for u in found.uncertain)
        message = f"{head} after {whys}{when}"
        rule = "BOOT002"
    else:
        rule, severity = "BOOT001", Severity.ERROR
        how = "before" if found.later_install else "without"
        message = f"{head} {how} a workflow-owned Nix install in this job{when}"
    return step_finding(
        rule,
        message,
        instance.job,
        step.step,
        step.job_step,
        line=found.use.line,
        severity=severity,
        job_id=job_id,
    )


def check_workflow_owned_nix(ctx: CheckContext, params: Mapping[str, Any]) -> CheckOutput:
    """BOOT001/BOOT002 over every job instance and variant (composite actions expanded)."""
    model = ctx.workflows
    if not model.workflows:
        raise Skip("no GitHub Actions workflows in this repository (.github/workflows)")
    out = CheckOutput(examined=ctx.workflow_inputs())
    checked = 0
    for instance in model.instances:
        steps = model.effective_steps(instance.job)
        checked += 1
        variants = instance.variants or [Variant({}, {}, _empty_labels())]
        faults: dict[tuple[str, int, str], list[tuple[Variant, Verdict, Severity]]] = {}
        # with no `if:` on the way to any step, every variant runs the same steps: one verdict
        shared = None if any(guard(step) for step in steps) else verdict(model, steps, {})
        for variant in variants:
            found = (
                shared
                if shared is not None
                else verdict(model, steps, {"matrix": variant.matrix, "inputs": variant.inputs})
            )
            if found.fault is None or found.use is None:
                continue
            severity = (
                Severity.ERROR
                if found.fault == "BOOT001" or _self_hosted(variant, ctx.contract)
                else Severity.WARNING
            )
            faults.setdefault((found.fault, found.use.line, str(severity)), []).append(
                (variant, found, severity)
            )
        for group in faults.values():
            variant, found, severity = group[0]
            when = (
                ""
                if len(group) == len(variants)
                else _variant_text(instance, [v for v, _f, _s in group])
            )
            out.add(_finding(instance, found, severity, when))
    out.measure("bootstrap.jobs_checked", checked, "jobs")
    return out


def _empty_labels() -> Any:
    from harness.github.labels import UNKNOWN, LabelSet

    return LabelSet((), None, UNKNOWN)
