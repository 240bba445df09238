"""PUB001-PUB004: FlakeHub is post-bootstrap publication, never on the bootstrap or runtime path.

Job roles and the "certainly ran before" relation live in `harness/github/roles.py`.
Cases of the `publication` suite (no params):

- `publication.order`: PUB001 (bootstrap + validate before publish) and PUB002 (the release
  gate before publish); what must precede is the contract's `publication.flakehub.after`.
- `publication.not_runtime`: PUB003.
- `publication.permissions`: PUB004.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from harness.checks._findings import step_finding
from harness.checks.api import CheckContext, Skip
from harness.contract.model import PREREQUISITES, Role
from harness.github.conditions import (
    MAYBE,
    can_be_true,
    evaluate_condition,
    names_status_function,
)
from harness.github.model import Job
from harness.github.nix import action_name, nix_use
from harness.github.repo import EffectiveStep, JobInstance, RepoModel
from harness.github.roles import (
    is_publish_step,
    job_roles,
    precedence,
    run_sources,
    step_roles,
)
from harness.results import CheckOutput, Finding, Severity
from harness.rules import Rule
from harness.safe_read import MAX_CONTRACT_BYTES, UnsafeFile, read_text

RULES = (
    Rule(
        "PUB001",
        "A FlakeHub publish job is not preceded (through `needs:`, or a "
        "`workflow_run` gated on `conclusion == 'success'`) by a job that "
        "bootstrapped Nix and validated.",
        example="publish:\n  needs: [build]          # build never runs `nix flake check`\n"
        "  steps: [{uses: DeterminateSystems/flakehub-push@v5}]",
        fix="Add `needs: [validate]` where `validate` installs Nix and runs `nix flake "
        "check` (or `nox -s validate`); with `if: always()` add a first step that "
        "fails on `contains(needs.*.result, 'failure') || "
        "contains(needs.*.result, 'cancelled')`.",
    ),
    Rule(
        "PUB002",
        "A FlakeHub publish job is not preceded by the release gate "
        "(`nox -s release_gate` or `flywheel-harness gate`).",
        example="publish:\n  needs: [validate]\n"
        "  steps: [{uses: DeterminateSystems/flakehub-push@v5}]",
        fix="Add a `gate` job running `nox -s release_gate` and make publish need it.",
    ),
    Rule(
        "PUB003",
        "FlakeHub on the bootstrap or runtime path: a non-publish job uses "
        "flakehub-cache-action, a FlakeHub cache substituter, FlakeHub login at "
        "install (`flakehub: true`, or determinate-nix-action / "
        "nix-installer-action `determinate: true` in a job holding `id-token: "
        "write`), or resolves flakes from FlakeHub. Jobs whose `if:` is "
        "statically false are not judged.",
        example="build:\n  steps:\n    - uses: DeterminateSystems/nix-installer-action@v16\n"
        "      with: {flakehub: true}\n"
        "    - uses: DeterminateSystems/flakehub-cache-action@v1",
        fix="Use the Attic substituter for builds; keep FlakeHub to the publish job.",
    ),
    Rule(
        "PUB004",
        "A publish job lacks `permissions: id-token: write`, or can run on a "
        "`pull_request` / `pull_request_target` event.",
        example="on: [push, pull_request]\njobs:\n  publish:\n    permissions: {contents: read}",
        fix="Trigger publication on tags/pushes (or a gated workflow_run) only and grant "
        "`id-token: write` to the publish job.",
    ),
)

FLAKEHUB_CACHE_ACTIONS = frozenset({"determinatesystems/flakehub-cache-action"})
INSTALLERS_WITH_FLAKEHUB = frozenset(
    {"determinatesystems/nix-installer-action", "determinatesystems/determinate-nix-action"}
)
FLAKEHUB_HOSTS = ("cache.flakehub.com", "flakehub.com/f/", "api.flakehub.com")
"""Every one holds `flakehub.com` (`_flakehub_text` looks for that first)."""
PR_EVENTS = ("pull_request", "pull_request_target")


@dataclass(frozen=True)
class PublishSite:
    """One publish job instance and its first flakehub-push step."""

    instance: JobInstance
    step: EffectiveStep


def publish_sites(model: RepoModel) -> list[PublishSite]:
    """Every job instance that runs `flakehub-push`."""
    sites = []
    for instance in model.instances:
        for step in model.effective_steps(instance.job):
            if is_publish_step(step):
                sites.append(PublishSite(instance, step))
                break
    return sites


def _require_sites(ctx: CheckContext) -> list[PublishSite]:
    if not ctx.workflows.workflows:
        raise Skip("no GitHub Actions workflows in this repository (.github/workflows)")
    sites = publish_sites(ctx.workflows)
    if not sites:
        raise Skip(
            "no FlakeHub publish job (DeterminateSystems/flakehub-push) in this "
            "repository's workflows"
        )
    return sites


def _required(ctx: CheckContext) -> tuple[Role, ...]:
    flakehub = ctx.contract.flakehub
    return flakehub.after if flakehub else PREREQUISITES


def _own_roles(ctx: CheckContext, site: PublishSite) -> set[Role]:
    """Roles taken by earlier steps of the publish job itself (they stop the job if they fail)."""
    if names_status_function(site.step.step.if_):
        return set()
    roles: set[Role] = set()
    for step in ctx.workflows.effective_steps(site.instance.job):
        if step.job_step < site.step.job_step:
            roles |= {r.role for r in step_roles(step)}
    return roles


def check_order(ctx: CheckContext, params: Mapping[str, Any]) -> CheckOutput:
    """PUB001 and PUB002: bootstrap, validation and the gate certainly passed before publish."""
    out = CheckOutput(examined=ctx.workflow_inputs())
    model = ctx.workflows
    required = _required(ctx)
    for site in _require_sites(ctx):
        instance, step = site.instance, site.step
        found = precedence(model, instance, step.job_step)
        own = _own_roles(ctx, site)
        groups = [(p.path, set(job_roles(model, p.job))) for p in found.before]
        groups.append((("(earlier steps of this job)",), own))
        why = ("; ignored: " + "; ".join(found.ignored)) if found.ignored else ""
        names = ", ".join(sorted({p.job.id for p in found.before})) or "no job"
        needed = [r for r in (Role.BOOTSTRAP, Role.VALIDATE) if r in required]
        if needed and not any(set(needed) <= roles for _path, roles in groups):
            out.add(
                step_finding(
                    "PUB001",
                    f"job `{instance.display_id}` publishes to FlakeHub but no job that "
                    f"certainly passed before it did {' + '.join(needed)} "
                    f"(certainly before: {names}){why}",
                    instance.job,
                    step.step,
                    step.job_step,
                    job_id=instance.display_id,
                )
            )
        if Role.GATE in required and not any(Role.GATE in roles for _path, roles in groups):
            out.add(
                step_finding(
                    "PUB002",
                    f"job `{instance.display_id}` publishes to FlakeHub without the "
                    f"release gate (`nox -s release_gate` / `flywheel-harness gate`) "
                    f"certainly passing before it (certainly before: {names}){why}",
                    instance.job,
                    step.step,
                    step.job_step,
                    job_id=instance.display_id,
                )
            )
    return out


def _flakehub_text(value: Any) -> str | None:
    text = str(value)
    if "flakehub.com" not in text:  # every host names it: most texts stop here
        return None
    return next((host for host in FLAKEHUB_HOSTS if host in text), None)


def _runtime_use(step: EffectiveStep) -> str | None:
    s = step.step
    name = action_name(s.uses)
    if name and "/".join(name.split("/")[:2]) in FLAKEHUB_CACHE_ACTIONS:
        return f"uses {s.uses} (FlakeHub cache)"
    if name and "/".join(name.split("/")[:2]) in INSTALLERS_WITH_FLAKEHUB:
        if str(s.with_.get("flakehub", "")).lower() == "true":
            return f"installs Nix with `flakehub: true` ({s.uses}): FlakeHub login at bootstrap"
        extra = s.with_.get("extra-conf") or s.with_.get("extra_nix_config")
        if extra is not None and (host := _flakehub_text(extra)):
            return f"configures Nix with a FlakeHub substituter ({host})"
    for key, value in {**s.with_, **s.env}.items():
        if host := _flakehub_text(value):
            return f"passes `{key}` pointing at FlakeHub ({host})"
    for command in step.commands():
        if command.name == "fh":
            return f"runs the FlakeHub CLI `{command.text()[:80]}`"
        text = command.text()
        if host := _flakehub_text(text):
            return f"runs `{text[:80]}` against FlakeHub ({host})"
    return None


def _installer_login(step: EffectiveStep) -> str | None:
    """An installer that logs in to FlakeHub by itself when the job may mint an OIDC token:
    determinate-nix-action always, nix-installer-action when it installs Determinate Nix."""
    s = step.step
    name = action_name(s.uses)
    if not name:
        return None
    repo = "/".join(name.split("/")[:2])
    determinate = str(s.with_.get("determinate", "")).lower() == "true"
    if repo == "determinatesystems/determinate-nix-action" or (
        repo == "determinatesystems/nix-installer-action" and determinate
    ):
        return (
            f"installs Nix with {s.uses} while the job holds `id-token: write`: the "
            "installer logs in to FlakeHub (FlakeHub on the runtime path)"
        )
    return None


def _flake_inputs(ctx: CheckContext) -> list[tuple[int, str]]:
    path = ctx.repo / "flake.nix"
    if not path.is_file():
        return []
    try:
        text = read_text(path, MAX_CONTRACT_BYTES, ctx.repo, errors="replace")
    except UnsafeFile:
        return []  # a flake.nix out of the repository or too big is not the repo's input
    hits = []
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith("#"):
            continue
        if "flakehub.com/f/" in stripped:
            hits.append((number, stripped[:100]))
    return hits


def check_not_runtime(ctx: CheckContext, params: Mapping[str, Any]) -> CheckOutput:
    """PUB003: no FlakeHub cache, login or flake resolution outside the publish job."""
    model = ctx.workflows
    if not model.workflows:
        raise Skip("no GitHub Actions workflows in this repository (.github/workflows)")
    out = CheckOutput(examined=ctx.workflow_inputs())
    publishers = {id(site.instance.job) for site in publish_sites(model)}
    nix_jobs: list[Job] = []
    status = {"__status__": {"success": True, "always": True, "failure": False, "cancelled": False}}
    for workflow, job in model.jobs_with_steps():
        if id(job) in publishers or not can_be_true(job.if_, status):
            continue  # a job whose `if:` is statically false never runs
        steps = model.effective_steps(job)
        if any(nix_use(s) is not None for s in steps):
            nix_jobs.append(job)
        id_token = _grants_id_token(
            job.permissions if job.permissions is not None else workflow.permissions
        )
        for step in steps:
            use = _runtime_use(step) or (_installer_login(step) if id_token else None)
            if use:
                job_id = model.display_id(job)
                out.add(
                    step_finding(
                        "PUB003",
                        f"job `{job_id}` step {step.job_step} {use}; "
                        "FlakeHub is for publication only",
                        job,
                        step.step,
                        step.job_step,
                        job_id=job_id,
                    )
                )
    if nix_jobs:
        for line, text in _flake_inputs(ctx):
            out.add(
                Finding(
                    "PUB003",
                    f"flake.nix resolves an input from FlakeHub (`{text}`), "
                    f"so every Nix job ({nix_jobs[0].id}, ...) fetches from "
                    "FlakeHub while bootstrapping",
                    file="flake.nix",
                    line=line,
                )
            )
    return out


def _grants_id_token(permissions: Any) -> bool | None:
    if permissions is None:
        return None
    if isinstance(permissions, str):
        return permissions == "write-all"
    if isinstance(permissions, Mapping):
        return str(permissions.get("id-token", "none")) == "write"
    return False


def _permission_levels(ctx: CheckContext, instance: JobInstance) -> list[tuple[Job, Any, int]]:
    """(job, permissions in force, line) from the outermost caller to the publish job; None
    where a level sets nothing (the outermost then runs with the default token, which never
    has `id-token: write`; an inner level inherits its caller's)."""
    levels = []
    for job in (*instance.chain, instance.job):
        workflow = ctx.workflows.workflows.get(job.file)
        if job.permissions is not None:
            levels.append((job, job.permissions, job.permissions_line))
        elif workflow is not None and workflow.permissions is not None:
            levels.append((job, workflow.permissions, job.line))
        else:
            levels.append((job, None, job.line))
    return levels


def _pr_contexts(ctx: CheckContext, instance: JobInstance) -> list[tuple[str, dict[str, Any]]]:
    entry = ctx.workflows.workflows.get(instance.entry_file)
    if entry is None:
        return []
    status = {"success": True, "always": True, "failure": False, "cancelled": False}
    out = []
    for event in PR_EVENTS:
        if event in entry.on:
            out.append(
                (
                    f"`on: {event}`",
                    {
                        "github": {
                            "event_name": event,
                            "ref": "refs/pull/1/merge",
                            "ref_type": "branch",
                            "ref_name": "1/merge",
                            "head_ref": "feature",
                            "base_ref": "main",
                            "event": {"pull_request": MAYBE},
                        },
                        "__status__": status,
                    },
                )
            )
    for source in run_sources(ctx.workflows, entry):
        for event in PR_EVENTS:
            if event in source.on:
                out.append(
                    (
                        f"`workflow_run` of {source.file}, which runs on `{event}`",
                        {
                            "github": {
                                "event_name": "workflow_run",
                                "event": {
                                    "workflow_run": {
                                        "event": event,
                                        "conclusion": "success",
                                        "head_branch": MAYBE,
                                    }
                                },
                            },
                            "__status__": status,
                        },
                    )
                )
    return out


def check_permissions(ctx: CheckContext, params: Mapping[str, Any]) -> CheckOutput:
    """PUB004: the publish job has `id-token: write` and cannot run for a pull request."""
    out = CheckOutput(examined=ctx.workflow_inputs())
    for site in _require_sites(ctx):
        instance = site.instance
        levels = _permission_levels(ctx, instance)
        denied = [
            (job, line, perms is None)
            for index, (job, perms, line) in enumerate(levels)
            if _grants_id_token(perms) is False or (perms is None and index == 0)
        ]
        if denied:
            job, line, unset = denied[0]
            where = "has no `permissions:` granting" if unset else "sets permissions without"
            out.add(
                Finding(
                    "PUB004",
                    f"job `{instance.display_id}` publishes to FlakeHub but "
                    f"`{job.id}` {where} `id-token: write` (flakehub-push "
                    "authenticates with the OIDC token)",
                    file=job.file,
                    line=line,
                    job=instance.display_id,
                )
            )
        conditions = [*(j.if_ for j in instance.chain), instance.job.if_, site.step.step.if_]
        for how, context in _pr_contexts(ctx, instance):
            values = [evaluate_condition(c, context) for c in conditions]
            if any(v is False for v in values):
                continue
            certain = all(v is True for v in values)
            out.add(
                Finding(
                    "PUB004",
                    (
                        f"job `{instance.display_id}` can publish to FlakeHub from a pull request "
                        f"({how}); "
                        + (
                            "nothing excludes it"
                            if certain
                            else "its `if:` conditions do not exclude it statically"
                        )
                    ),
                    Severity.ERROR if certain else Severity.WARNING,
                    file=instance.entry_file,
                    line=ctx.workflows.workflows[instance.entry_file].on_line,
                    job=instance.display_id,
                )
            )
    return out
