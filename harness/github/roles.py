"""Job roles in the release path, and which jobs certainly ran (and passed) before another.

Roles, recognised from a job's effective steps (composite actions expanded):

- *bootstrap*: installs Nix (see `harness.github.nix.installs_nix`, rule BOOT001);
- *validate*: `nix flake check`, `nox -s validate`, `flywheel-harness check`
  (also `python -m harness check`);
- *gate*: `nox -s release_gate`, `flywheel-harness gate`;
- *publish*: `DeterminateSystems/flakehub-push`.

A job *certainly follows* another when it can only run after that one succeeded:

- through `needs:` (transitively). An edge does not count when the dependent job's `if:`
  can be true although that need failed or was cancelled (`always()`, `failure()`,
  `!cancelled()` ...), unless an earlier step of the dependent job fails on any
  non-success `needs.*.result` (the fail-first step of DeterminateSystems/ci:
  `if: contains(needs.*.result, 'failure') || contains(needs.*.result, 'cancelled')`
  with `run: exit 1`), or the `if:` itself requires `needs.<id>.result == 'success'`;
- through `on: workflow_run` when the job (or a job it certainly follows) has an `if:`
  that is false unless `github.event.workflow_run.conclusion == 'success'`: then every job
  of the triggering workflows certainly ran before;
- a caller job of a reusable workflow has the roles of every job the callee runs; a job
  of a called workflow also follows what its caller job `needs`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from harness.contract.model import Role
from harness.github.conditions import MAYBE, can_be_true, embedded_values, evaluate_condition
from harness.github.model import Job, Workflow
from harness.github.nix import action_name, installs_nix
from harness.github.repo import EffectiveStep, JobInstance, RepoModel
from harness.github.shell import Command

PUBLISH_ACTIONS = frozenset({"determinatesystems/flakehub-push"})


@dataclass(frozen=True)
class RoleStep:
    """Where a job takes a role: the job-level step index and a line."""

    role: Role
    job_step: int
    file: str
    line: int
    what: str


def _positionals(command: Command) -> list[str]:
    return [w for w in command.args if not w.startswith("-")]


def _nox_sessions(command: Command) -> list[str]:
    sessions: list[str] = []
    args = list(command.args)
    for index, word in enumerate(args):
        if word in ("-s", "--session", "--sessions", "-e") or (
            word.startswith("-")
            and not word.startswith("--")
            and word.endswith("s")
            and len(word) > 2
        ):
            for value in args[index + 1 :]:
                if value.startswith("-"):
                    break
                sessions.append(value)
        elif word.startswith(("--session=", "--sessions=")):
            sessions.append(word.split("=", 1)[1])
    return sessions


def _launched(command: Command) -> Command:
    """`pipx run X`, `uvx X`, `python -m nox` -> the command they launch."""
    args = command.args
    if command.name == "pipx" and args[:1] == ("run",) and len(args) > 1:
        return Command(args[1:], command.line)
    if command.name == "uvx" and args:
        return Command(args, command.line)
    if command.name.startswith("python") and args[:2] == ("-m", "nox"):
        return Command(("nox", *args[2:]), command.line)
    return command


def command_role(command: Command) -> Role | None:
    """The role one command gives its job (validate or gate), if any."""
    command = _launched(command)
    name, words = command.name, _positionals(command)
    if name == "nix" and words[:2] == ["flake", "check"]:
        return Role.VALIDATE
    if name == "nox":
        sessions = _nox_sessions(command)
        if "release_gate" in sessions or "release-gate" in sessions:
            return Role.GATE
        if "validate" in sessions:
            return Role.VALIDATE
    harness_cli = name == "flywheel-harness" or (
        name.startswith("python") and command.args[:2] == ("-m", "harness")
    )
    if harness_cli:
        sub = words[1:] if name.startswith("python") else words
        sub = [w for w in sub if w != "harness"]
        if sub[:1] == ["gate"]:
            return Role.GATE
        if sub[:1] == ["check"]:
            return Role.VALIDATE
    return None


def is_publish_step(step: EffectiveStep) -> bool:
    """True for a `DeterminateSystems/flakehub-push` step."""
    name = action_name(step.step.uses)
    return name is not None and "/".join(name.split("/")[:2]) in PUBLISH_ACTIONS


def step_roles(step: EffectiveStep) -> Iterator[RoleStep]:
    """Every role this step gives its job."""
    s = step.step
    if installs_nix(step):
        yield RoleStep(Role.BOOTSTRAP, step.job_step, s.file, s.line, f"installs Nix ({s.label})")
    if is_publish_step(step):
        yield RoleStep(Role.PUBLISH, step.job_step, s.file, s.line, f"uses {s.uses}")
    for command in step.commands():
        role = command_role(command)
        if role:
            yield RoleStep(role, step.job_step, s.file, command.line, f"runs `{command.text()}`")


def job_roles(model: RepoModel, job: Job, depth: int = 0) -> dict[Role, RoleStep]:
    """The first step of each role in a job (a caller job: the roles of its callee's jobs)."""
    roles: dict[Role, RoleStep] = {}
    if job.uses is not None:
        callee = model.callee(job)
        if callee is None or depth > 8:
            return roles
        for inner in callee.jobs.values():
            for role, where in job_roles(model, inner, depth + 1).items():
                roles.setdefault(role, where)
        return roles
    steps = model.effective_steps(job)
    for step in steps:
        for found in step_roles(step):
            roles.setdefault(found.role, found)
    if Role.BOOTSTRAP in roles:
        certain = _certain_bootstrap(model, job, steps)
        if certain is None:
            del roles[Role.BOOTSTRAP]
        else:
            s = certain.step
            roles[Role.BOOTSTRAP] = RoleStep(
                Role.BOOTSTRAP, certain.job_step, s.file, s.line, f"installs Nix ({s.label})"
            )
    return roles


def _certain_bootstrap(
    model: RepoModel, job: Job, steps: list[EffectiveStep]
) -> EffectiveStep | None:
    """The step that certainly installs Nix in every variant of the job, else None (an
    install under a run-time condition or `continue-on-error` is no bootstrap)."""
    from harness.github.guarantee import certain_install

    contexts = [
        {"matrix": v.matrix, "inputs": v.inputs}
        for instance in model.instances
        if instance.job is job
        for v in instance.variants
    ] or [{}]
    found = [certain_install(model, steps, context) for context in contexts]
    return found[0] if all(step is not None for step in found) else None


# -- what certainly ran before --------------------------------------------------------------

FAILED_NEED = ("failure", "cancelled")


def _needs_context(job: Job, failed: str, result: str) -> dict[str, Any]:
    needs = {n: {"result": "success"} for n in job.needs}
    needs[failed] = {"result": result}
    return {"needs": needs}


def _fail_first(model: RepoModel, job: Job, before_step: int | None, need: str) -> bool:
    """True when a step before `before_step` fails whenever `need` failed or was cancelled."""
    for result in FAILED_NEED:
        context: dict[str, Any] = {
            **_needs_context(job, need, result),
            "__status__": {"success": True, "always": True, "failure": False, "cancelled": False},
        }
        if not any(
            _fails_on(step, context)
            for step in model.effective_steps(job)
            if before_step is None or step.job_step < before_step
        ):
            return False
    return True


def _exits_nonzero(step: EffectiveStep) -> bool:
    for command in step.commands():
        if command.name == "false":
            return True
        if command.name == "exit" and command.args and command.args[0] not in ("0",):
            return True
    return False


def _fails_on(step: EffectiveStep, context: dict[str, Any]) -> bool:
    s = step.step
    if not s.run or "needs" not in f"{s.if_ or ''} {s.run}" or not _exits_nonzero(step):
        return False
    if s.if_ and "needs" in s.if_:
        return evaluate_condition(s.if_, context) is True
    if s.if_ is not None and evaluate_condition(s.if_, context) is not True:
        return False
    return any(v is True or v == "true" for v in embedded_values(s.run, context) if v is not MAYBE)


def edge_counts(model: RepoModel, job: Job, need: str, before_step: int | None = None) -> bool:
    """True when `job` cannot run (up to `before_step`) unless `need` succeeded."""
    for result in FAILED_NEED:
        context: dict[str, Any] = {
            **_needs_context(job, need, result),
            "__status__": {
                "success": False,
                "always": True,
                "failure": result == "failure",
                "cancelled": result == "cancelled",
            },
        }
        if can_be_true(job.if_, context):
            return _fail_first(model, job, before_step, need)
    return True


def workflow_run_gated(job: Job) -> bool:
    """True when the job's `if:` is false unless the triggering run concluded `success`."""
    for conclusion in ("failure", "cancelled", "skipped", "timed_out"):
        context = {
            "github": {
                "event_name": "workflow_run",
                "event": {"workflow_run": {"conclusion": conclusion}},
            },
            "__status__": {"success": True, "always": True, "failure": False, "cancelled": False},
        }
        if can_be_true(job.if_, context):
            return False
    return True


@dataclass(frozen=True)
class Predecessor:
    """A job that certainly succeeded before, and how that is known."""

    workflow: Workflow
    job: Job
    path: tuple[str, ...]
    """How it was reached: job ids and `workflow_run:` hops, nearest first."""


@dataclass
class Precedence:
    """Everything one job instance certainly follows, and the edges that did not count."""

    before: list[Predecessor] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)


def _workflow_names(workflow: Workflow) -> set[str]:
    names = {workflow.file, workflow.file.rsplit("/", 1)[-1]}
    if workflow.name:
        names.add(str(workflow.name))
    return names


def run_sources(model: RepoModel, workflow: Workflow) -> list[Workflow]:
    config = workflow.on.get("workflow_run")
    if not isinstance(config, dict):
        return []
    wanted = config.get("workflows") or []
    wanted = [wanted] if isinstance(wanted, str) else wanted
    return [
        w
        for w in model.workflows.values()
        if w.file != workflow.file and _workflow_names(w) & {str(x) for x in wanted}
    ]


def precedence(model: RepoModel, instance: JobInstance, before_step: int | None) -> Precedence:
    """Jobs that certainly succeeded before `instance` reaches step `before_step`."""
    result = Precedence()
    seen: set[tuple[str, str]] = set()
    frames: list[tuple[Workflow, Job, tuple[Job, ...], int | None, tuple[str, ...]]] = [
        (instance.workflow, instance.job, instance.chain, before_step, ())
    ]
    gated = False
    while frames:
        workflow, job, chain, step_bound, path = frames.pop()
        gated = gated or workflow_run_gated(job)
        for need in job.needs:
            target = workflow.jobs.get(need)
            if target is None:
                continue
            if not edge_counts(model, job, need, step_bound):
                result.ignored.append(
                    f"`{job.id}` needs `{need}` but its `if: {job.if_}` lets it run when "
                    f"`{need}` failed, and no earlier step fails on `needs.*.result`"
                )
                continue
            key = (workflow.file, need)
            if key in seen:
                continue
            seen.add(key)
            hop = (*path, need)
            result.before.append(Predecessor(workflow, target, hop))
            frames.append((workflow, target, chain, None, hop))
        if chain:
            caller = chain[-1]
            caller_workflow = model.workflows.get(caller.file)
            if caller_workflow is not None:
                frames.append((caller_workflow, caller, chain[:-1], None, path))
    entry = model.workflows.get(instance.entry_file)
    if gated and entry is not None:
        for source in run_sources(model, entry):
            for other in source.jobs.values():
                key = (source.file, other.id)
                if key not in seen:
                    seen.add(key)
                    result.before.append(
                        Predecessor(source, other, (f"workflow_run:{source.file}", other.id))
                    )
    return result
