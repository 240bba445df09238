"""Fixes of PUB001 and PUB002 (rules in harness/checks/publication.py): the publish job
needs the validating job and the release gate job of its own workflow."""

from __future__ import annotations

from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from harness.checks.publication import publish_sites
from harness.fixes.context import FixContext
from harness.fixes.model import Candidate, Edit, Fix, FixKind, NoFix
from harness.fixes.sites import job_mapping
from harness.fixes.yamledit import Document, render_flow, render_scalar
from harness.github.model import Job, Workflow
from harness.github.roles import job_roles
from harness.results import Finding


def _publish_job(ctx: FixContext, finding: Finding) -> tuple[Job, Workflow]:
    for site in publish_sites(ctx.model):
        step = site.step.step
        if (site.instance.display_id, step.file, step.line) == (
            finding.job,
            finding.file,
            finding.line,
        ):
            job = site.instance.job
            return job, ctx.model.workflows[job.file]
    raise NoFix(f"job `{finding.job}` no longer publishes at step {finding.step}")


def _depends_on(workflow: Workflow, job_id: str, target: str) -> bool:
    """True when `job_id` needs `target`, directly or not."""
    stack, seen = [job_id], set()
    while stack:
        current = stack.pop()
        if current == target:
            return True
        if current in seen or current not in workflow.jobs:
            continue
        seen.add(current)
        stack.extend(workflow.jobs[current].needs)
    return False


def _provider(ctx: FixContext, workflow: Workflow, job: Job, roles: set[str]) -> str:
    """The first job of the workflow that takes all of `roles` and does not need `job`."""
    for other in workflow.jobs.values():
        if other.id == job.id or _depends_on(workflow, other.id, job.id):
            continue
        if roles <= set(job_roles(ctx.model, other)):
            if other.id in job.needs:
                raise NoFix(
                    f"`{job.id}` already needs `{other.id}`, which does "
                    f"{' + '.join(sorted(roles))}, but not certainly before it "
                    "(its `if:`?); fix the condition by hand"
                )
            return other.id
    raise NoFix(f"no job of {workflow.file} does {' + '.join(sorted(roles))}; add one first")


def add_need(doc: Document, job_map: MappingNode, need: str) -> Edit:
    """An edit that adds `need` to the job's `needs:`, in the style it is written in."""
    entry = doc.entry(job_map, "needs")
    if entry is None:
        return _new_needs(doc, job_map, need)
    key_node, value = entry
    if doc.is_alias(key_node, value):
        raise NoFix(f"{doc.file}: `needs` is an alias; edit its anchor")
    if isinstance(value, ScalarNode):
        return doc.replace_node(value, render_flow([str(value.value), need]))
    if not isinstance(value, SequenceNode):
        raise NoFix(f"{doc.file}: `needs` is neither a job id nor a list")
    if not value.value:
        return doc.replace_node(value, render_flow([need]))
    last_end = doc.own_end(value.value[-1])
    if value.flow_style:
        return Edit(doc.file, last_end, last_end, ", " + render_scalar(need))
    first = doc.own_start(value.value[-1])
    prefix = doc.text[doc.line_start(first) : first]
    return doc.insert_after_line(last_end, [prefix + render_scalar(need)])


def _new_needs(doc: Document, job_map: MappingNode, need: str) -> Edit:
    line = f"needs: {render_flow([need])}"
    if job_map.flow_style:
        at = doc.own_start(job_map.value[0][0])
        return Edit(doc.file, at, at, line + ", ")
    steps = doc.entry(job_map, "steps")
    anchor = (
        steps[0]
        if steps is not None and steps[0] in (k for k, _ in job_map.value)
        else job_map.value[0][0]
    )
    start = doc.own_start(anchor)
    indent = doc.text[doc.line_start(start) : start]
    if indent.strip():
        raise NoFix(
            f"{doc.file}:{anchor.start_mark.line + 1}: the job's keys do not start their lines"
        )
    at = doc.above_comments(start, indent)
    return Edit(doc.file, at, at, indent + line + doc.newline)


def _fix_needs(ctx: FixContext, finding: Finding, roles: set[str]) -> Candidate:
    job, workflow = _publish_job(ctx, finding)
    provider = _provider(ctx, workflow, job, roles)
    doc, job_map = job_mapping(ctx, job)
    return Candidate(
        f"job `{job.id}` needs `{provider}` ({' + '.join(sorted(roles))})",
        (add_need(doc, job_map, provider),),
    )


def fix_validated_before(ctx: FixContext, finding: Finding) -> Candidate:
    """PUB001: the publish job needs the job that installs Nix and validates."""
    flakehub = ctx.contract.flakehub
    after = flakehub.after if flakehub else ("bootstrap", "validate", "gate")
    return _fix_needs(ctx, finding, {r for r in ("bootstrap", "validate") if r in after})


def fix_gate_before(ctx: FixContext, finding: Finding) -> Candidate:
    """PUB002: the publish job needs the release gate job."""
    return _fix_needs(ctx, finding, {"gate"})


FIXES = (
    Fix(
        "PUB001",
        FixKind.UNSAFE,
        fix_validated_before,
        "add `needs:` on the job of the same workflow that installs Nix and validates",
    ),
    Fix(
        "PUB002",
        FixKind.UNSAFE,
        fix_gate_before,
        "add `needs:` on the release gate job of the same workflow",
    ),
)
