"""Fix of BOOT001 (rule in harness/checks/bootstrap.py): insert the contract's Nix install
step before the job's first Nix use."""

from __future__ import annotations

import io
import re
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.scalarstring import LiteralScalarString
from yaml.nodes import SequenceNode

from harness.contract.model import Contract
from harness.fixes.context import FixContext
from harness.fixes.model import Candidate, Edit, Fix, FixKind, NoFix
from harness.fixes.sites import job_mapping
from harness.fixes.yamledit import Document, render_flow
from harness.github.model import Job
from harness.github.nix import action_name, installs_nix
from harness.results import Finding

INSTALLER = "DeterminateSystems/nix-installer-action"
INSTALLER_PIN = "ef8a148080ab6020fd15196c2084a2eea5ff2d25"
"""The installer commit this project's own workflows pin (v22); a repository that already
pins the installer by commit keeps its own pin."""
_SHA = re.compile(r"^[0-9a-f]{40}$")


def _repo_pin(ctx: FixContext) -> str | None:
    """The commit the repository's workflows already pin the installer to, if one."""
    pins = sorted(
        {
            step.uses.split("@", 1)[1]
            for workflow in ctx.model.workflows.values()
            for job in workflow.jobs.values()
            for step in job.steps
            if step.uses
            and "@" in step.uses
            and action_name(step.uses) == INSTALLER.lower()
            and _SHA.match(step.uses.split("@", 1)[1])
        }
    )
    return pins[0] if len(pins) == 1 else None


def default_install_step(contract: Contract, pin: str = INSTALLER_PIN) -> dict[str, Any]:
    """The installer pinned by commit, with the contract's Attic cache as a substituter."""
    step: dict[str, Any] = {"name": "Install Nix", "uses": f"{INSTALLER}@{pin}"}
    attic = contract.attic
    if attic is not None and attic.url:
        lines = [f"extra-substituters = {attic.url.rstrip('/')}/{attic.cache}"]
        if attic.public_keys:
            lines.append(f"extra-trusted-public-keys = {' '.join(attic.public_keys)}")
        step["with"] = {"extra-conf": "\n".join(lines) + "\n"}
    return step


def install_step(ctx: FixContext) -> dict[str, Any]:
    """`bootstrap.install_step` of the contract, else the default step."""
    if ctx.contract.install_step is not None:
        return ctx.contract.install_step
    return default_install_step(ctx.contract, _repo_pin(ctx) or INSTALLER_PIN)


def _literal_blocks(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _literal_blocks(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_literal_blocks(v) for v in value]
    if isinstance(value, str) and "\n" in value:
        return LiteralScalarString(value)
    return value


def block_lines(step: dict[str, Any]) -> list[str]:
    """The step as block YAML lines of a mapping (new text only; nothing is re-dumped)."""
    yaml = YAML(typ="rt", pure=True)
    yaml.default_flow_style = False
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    out = io.StringIO()
    yaml.dump(_literal_blocks(step), out)
    return out.getvalue().rstrip("\n").split("\n")


def _find_job(ctx: FixContext, finding: Finding) -> Job:
    """The job definition of a BOOT001 finding: its display id, a step of its `step`
    number in the finding's file, and no Nix install before that step yet."""
    model = ctx.model
    for _workflow, job in model.jobs_with_steps():
        if model.display_id(job) != finding.job or finding.step is None:
            continue
        steps = model.effective_steps(job)
        at_step = [s for s in steps if s.job_step == finding.step]
        if not any(s.step.file == finding.file for s in at_step):
            continue
        if any(installs_nix(s) for s in steps if s.job_step < finding.step):
            continue
        return job
    raise NoFix(f"job `{finding.job}` (step {finding.step}) is no longer in the workflows")


def insert_step(doc: Document, steps: SequenceNode, position: int, step: dict[str, Any]) -> Edit:
    """Insert `step` as item `position` (0-based) of a steps sequence, in its style."""
    item = steps.value[position]
    start = doc.own_start(item)
    if steps.flow_style:
        return Edit(doc.file, start, start, render_flow(step) + ", ")
    prefix = doc.text[doc.line_start(start) : start]
    dash_indent = prefix[: prefix.find("-")] if "-" in prefix else ""
    if not re.fullmatch(r"[ ]*-[ ]+", prefix):
        raise NoFix(
            f"{doc.file}:{item.start_mark.line + 1}: the step does not start its line "
            "as `- key: value`"
        )
    lines = block_lines(step)
    pad = " " * len(prefix)
    body = [prefix + lines[0], *(pad + line if line else line for line in lines[1:])]
    at = doc.above_comments(start, dash_indent)
    return Edit(doc.file, at, at, "".join(line + doc.newline for line in body))


def fix_workflow_owned_nix(ctx: FixContext, finding: Finding) -> Candidate:
    """BOOT001: the install step goes right before the job step that first needs Nix."""
    job = _find_job(ctx, finding)
    doc, job_map = job_mapping(ctx, job)
    steps = doc.get(job_map, "steps")
    assert finding.step is not None  # _find_job checked it
    if not isinstance(steps, SequenceNode) or len(steps.value) < finding.step:
        raise NoFix(f"{job.file}: the steps of job `{job.id}` are not written as a list")
    step = install_step(ctx)
    edit = insert_step(doc, steps, finding.step - 1, step)
    what = step.get("uses") or str(step.get("run", "")).splitlines()[0]
    return Candidate(f"insert `{what}` before step {finding.step} of job `{job.id}`", (edit,))


FIXES = (
    Fix(
        "BOOT001",
        FixKind.UNSAFE,
        fix_workflow_owned_nix,
        "insert the contract's `bootstrap.install_step` (default: the Nix installer pinned by "
        "commit, with the Attic substituter) before the first Nix use",
    ),
)
