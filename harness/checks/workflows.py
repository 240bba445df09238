"""WF001-WF004: workflow and action files that can be read, local references that resolve,
`needs` graphs and reusable-workflow calls without dangling edges, cycles or excess nesting,
and remote references that could be read at their refs."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from harness.checks._findings import job_finding, step_finding
from harness.checks.api import CheckContext, Skip
from harness.github.matrix import MAX_COMBINATIONS, matrix_size
from harness.github.model import Job, Workflow
from harness.github.repo import MAX_UNIQUE_REUSABLE, local_path
from harness.nearmiss import did_you_mean
from harness.results import CheckOutput, Finding, Severity
from harness.rules import Rule

RULES = (
    Rule(
        "WF001",
        "A workflow or action file cannot be read (YAML error, duplicate key, wrong shape).",
        example="jobs:\n  build:\n    runs-on: tinyland-nix\n    runs-on: tinyland-nix-heavy",
        fix="Remove the duplicate key; each workflow must be a mapping with `on:` and `jobs:`.",
    ),
    Rule(
        "WF002",
        "A local `uses:` points at an action or reusable workflow that does not exist.",
        example="- uses: ./.github/actions/nix-jbo",
        fix="Point `uses:` at a directory holding action.yml (or an existing workflow file).",
    ),
    Rule(
        "WF003",
        "`needs` names a job that does not exist, the needs graph has a cycle, or "
        "reusable workflows call each other in a cycle or nest beyond GitHub's "
        "limits (10 levels, 50 unique reusable workflows).",
        example="publish:\n  needs: [biuld]",
        fix="Name existing job ids in `needs:` and remove cycles; flatten deep call chains.",
    ),
    Rule(
        "WF004",
        "A remote `uses: OWNER/REPO/PATH@REF` could not be read at its ref (not at "
        "that ref, offline, HTTP 401/403/404, rate limited), so what it runs is not "
        "checked.",
        example="jobs:\n  ci:\n    uses: octo/templates/.github/workflows/ci.yml@v9",
        fix="Give a local clone (`--uses-source OWNER/REPO=DIR` or the contract's "
        "`sources:`), set GITHUB_TOKEN, or fix the reference.",
        severity=Severity.WARNING,
    ),
    Rule(
        "WF005",
        f"A job's matrix makes more than {MAX_COMBINATIONS} combinations: GitHub "
        f"runs at most {MAX_COMBINATIONS} jobs of a matrix per workflow run, and the "
        f"harness evaluates only the first {MAX_COMBINATIONS}.",
        example="strategy:\n  matrix: {a: [1..60], b: [1..60], c: [1..60]}  # 216,000",
        fix="Split the matrix, or move an axis into steps of one job.",
    ),
)


def _require_workflows(ctx: CheckContext) -> None:
    model = ctx.workflows
    if not model.workflows and not model.problems and not model.actions:
        raise Skip("no GitHub Actions workflows in this repository (.github/workflows)")


def check_readable(ctx: CheckContext, params: Mapping[str, Any]) -> CheckOutput:
    """WF001: every workflow and action file parses into the model; having none is WF001."""
    out = CheckOutput(examined=ctx.workflow_inputs())
    model = ctx.workflows
    if not model.workflows and not model.problems:
        out.add(
            Finding(
                "WF001",
                "no GitHub Actions workflows in this repository: "
                ".github/workflows holds no *.yml or *.yaml file, so nothing "
                "the fleet runs can be checked",
                file=".github/workflows",
            )
        )
        return out
    for problem in model.problems:
        out.add(Finding("WF001", problem.message, file=problem.file, line=problem.line))
    for workflow in model.workflows.values():
        for job in workflow.jobs.values():
            size = matrix_size(job.matrix, {})
            if size is not None and size > MAX_COMBINATIONS:
                out.add(
                    job_finding(
                        "WF005",
                        f"job `{job.id}`'s matrix makes {size:,} combinations; GitHub "
                        f"runs at most {MAX_COMBINATIONS} per workflow run, and only the "
                        f"first {MAX_COMBINATIONS} are checked",
                        job,
                        line=job.matrix_line or None,
                    )
                )
    out.measure("workflows.files", len(model.workflows) + len(model.problems), "files")
    out.measure("workflows.jobs", sum(len(w.jobs) for w in model.workflows.values()), "jobs")
    return out


_SKIP_DIRS = frozenset({".git", "node_modules", ".nox", ".venv", "__pycache__"})
_MAX_DIRS = 5000


def action_directories(ctx: CheckContext) -> list[str]:
    """Every directory of the repository holding an action file (a bounded walk)."""
    key = ("workflows.action_directories",)
    memo = ctx.workflows.memo
    if key not in memo:
        found: list[str] = []
        root = str(ctx.repo)
        for seen, (path, dirs, files) in enumerate(os.walk(root)):
            if seen >= _MAX_DIRS:
                break
            dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS)
            if "action.yml" in files or "action.yaml" in files:
                found.append(os.path.relpath(path, root).replace(os.sep, "/"))
        memo[key] = found
    directories: list[str] = memo[key]
    return directories


def _action_hint(ctx: CheckContext, directory: str) -> str:
    return did_you_mean(f"./{directory}", (f"./{d}" for d in action_directories(ctx)))


def _local_step_refs(ctx: CheckContext, out: CheckOutput, job: Job) -> None:
    for step in job.steps:
        directory = local_path(step.uses)
        if directory is None:
            continue
        if ctx.workflows.escapes(directory):
            out.add(
                step_finding(
                    "WF002",
                    f"step `uses: {step.uses}` resolves outside the repository",
                    job,
                    step,
                    step.index,
                    line=step.raw.line_of("uses") if step.raw is not None else step.line,
                )
            )
        elif not ctx.workflows.action_exists(directory):
            out.add(
                step_finding(
                    "WF002",
                    f"step `uses: {step.uses}` names no action: {directory}/action.yml "
                    f"does not exist{_action_hint(ctx, directory)}",
                    job,
                    step,
                    step.index,
                    line=step.raw.line_of("uses") if step.raw is not None else step.line,
                )
            )


def check_local_uses(ctx: CheckContext, params: Mapping[str, Any]) -> CheckOutput:
    """WF002: local actions and reusable workflows that `uses:` names exist."""
    _require_workflows(ctx)
    out = CheckOutput(examined=ctx.workflow_inputs())
    model = ctx.workflows
    for workflow in model.workflows.values():
        for job in workflow.jobs.values():
            if job.uses is not None:
                path = local_path(job.uses)
                # in a remote workflow a `./` workflow is of that repository: WF004's business
                if path is not None and not workflow.remote and model.escapes(path):
                    out.add(
                        job_finding(
                            "WF002",
                            f"job calls `{job.uses}`, which resolves outside the repository",
                            job,
                            line=job.uses_line,
                        )
                    )
                elif path is not None and not workflow.remote and not (ctx.repo / path).is_file():
                    files = (ctx.repo / ".github" / "workflows").glob("*.y*ml")
                    hint = did_you_mean(
                        f"./{path}", (f"./.github/workflows/{f.name}" for f in files)
                    )
                    out.add(
                        job_finding(
                            "WF002",
                            f"job calls `{job.uses}`, which does not exist{hint}",
                            job,
                            line=job.uses_line,
                        )
                    )
                continue
            _local_step_refs(ctx, out, job)
    for action in list(model.actions.values()):
        if action is None:
            continue
        for step in action.steps:
            directory = local_path(step.uses)
            if directory is not None and model.escapes(directory):
                out.add(
                    Finding(
                        "WF002",
                        f"step `uses: {step.uses}` resolves outside the repository",
                        file=step.file,
                        line=step.line,
                    )
                )
            elif directory is not None and not model.action_exists(directory):
                out.add(
                    Finding(
                        "WF002",
                        f"step `uses: {step.uses}` names no action: "
                        f"{directory}/action.yml does not exist"
                        f"{_action_hint(ctx, directory)}",
                        file=step.file,
                        line=step.line,
                    )
                )
    return out


def _cycles(workflow: Workflow) -> list[list[str]]:
    graph = {
        job_id: [n for n in job.needs if n in workflow.jobs]
        for job_id, job in workflow.jobs.items()
    }
    state: dict[str, int] = {}
    found: list[list[str]] = []
    for start in graph:
        if state.get(start):
            continue
        path: list[str] = []
        stack: list[tuple[str, int]] = [(start, 0)]
        while stack:
            node, index = stack.pop()
            if index == 0:
                state[node] = 1
                path.append(node)
            if index < len(graph[node]):
                stack.append((node, index + 1))
                nxt = graph[node][index]
                if state.get(nxt) == 1:
                    found.append([*path[path.index(nxt) :], nxt])
                elif not state.get(nxt):
                    stack.append((nxt, 0))
            else:
                state[node] = 2
                path.pop()
    return found


def check_needs(ctx: CheckContext, params: Mapping[str, Any]) -> CheckOutput:
    """WF003: `needs` targets exist and the graph is acyclic."""
    _require_workflows(ctx)
    out = CheckOutput(examined=ctx.workflow_inputs())
    for workflow in ctx.workflows.workflows.values():
        for job in workflow.jobs.values():
            for target in job.needs:
                if target not in workflow.jobs:
                    out.add(
                        job_finding(
                            "WF003",
                            f"job `{job.id}` needs `{target}`, which is not "
                            f"a job of {workflow.file}",
                            job,
                            line=job.needs_line,
                        )
                    )
        for cycle in _cycles(workflow):
            first = workflow.jobs[cycle[0]]
            out.add(
                job_finding(
                    "WF003", "needs cycle: " + " -> ".join(cycle), first, line=first.needs_line
                )
            )
    model = ctx.workflows
    model.instances  # noqa: B018  (expanding the calls records their cycles and depth)
    for problem in model.call_problems:
        out.add(Finding("WF003", problem.message, file=problem.file, line=problem.line))
    for workflow in model.workflows.values():
        if workflow.callable_only:
            continue
        callees = model.unique_callees(workflow)
        if len(callees) > MAX_UNIQUE_REUSABLE:
            out.add(
                Finding(
                    "WF003",
                    f"{workflow.file} reaches {len(callees)} unique reusable "
                    f"workflows; GitHub calls at most {MAX_UNIQUE_REUSABLE} "
                    "from one workflow",
                    file=workflow.file,
                    line=1,
                )
            )
    return out


def check_remote_uses(ctx: CheckContext, params: Mapping[str, Any]) -> CheckOutput:
    """WF004: every remote reusable workflow and action could be read at its ref."""
    _require_workflows(ctx)
    out = CheckOutput()
    model = ctx.workflows
    for item in model.unresolved:
        out.add(
            Finding(
                "WF004",
                f"`uses: {item.uses}` was not read, so what it runs is not checked: {item.reason}",
                Severity.WARNING,
                file=item.file,
                line=item.line,
            )
        )
    resolved = model.resolved
    out.measure("workflows.remote_resolved", len(resolved), "files")
    out.measure("workflows.remote_unresolved", len(model.unresolved), "references")
    out.notes.extend(f"{r.ref.display}: {r.note}" for r in resolved if r.note)
    return out
