"""The repository's whole GitHub Actions model, with reusable workflows and composite actions
expanded and every job's `runs-on` resolved per matrix combination and caller input."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from harness.github.expressions import Unknown, has_expression, substitute
from harness.github.labels import UNKNOWN, LabelSet, resolve_runs_on, same_in_every_variant
from harness.github.loader import (
    parse_action,
    parse_action_text,
    parse_workflow,
    parse_workflow_text,
    problem_of,
)
from harness.github.matrix import expand_for
from harness.github.model import Action, Job, ParseProblem, Step, Workflow
from harness.github.shell import Command, commands
from harness.safe_read import inside

if TYPE_CHECKING:
    from harness.github.remote import UnresolvedUse
    from harness.github.uses import UsesRef, UsesResolver
    from harness.github.uses.resolver import Resolved

WORKFLOWS_DIR = ".github/workflows"
MAX_WORKFLOW_LEVELS = 10
"""GitHub runs at most ten levels of workflows: the caller and nine nested reusable ones."""
MAX_UNIQUE_REUSABLE = 50
"""GitHub calls at most 50 unique reusable workflows from one top-level workflow."""
MAX_CALL_DEPTH = MAX_WORKFLOW_LEVELS - 1
MAX_ACTION_DEPTH = 10
MAX_CALL_CONTEXTS = 1024
"""Distinct (caller matrix, inputs) pairs a reusable workflow is expanded for, at most."""
NON_BASH_SHELLS = ("python", "pwsh", "powershell", "cmd")


@lru_cache(maxsize=4096)
def local_path(uses: str | None) -> str | None:
    """The repository-relative path of a local `uses: ./x` reference, else None."""
    if not uses or not uses.startswith("./"):
        return None
    path = PurePosixPath(uses[2:].split("@", 1)[0])
    return str(path) if str(path) != "." else ""


@dataclass(frozen=True)
class Variant:
    """One concrete way a job runs: a matrix combination under given inputs."""

    matrix: dict[str, Any]
    inputs: dict[str, Any]
    labels: LabelSet
    caller_matrix: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class EffectiveStep:
    """A step as it runs in a job: composite actions expanded, with the job-level step index."""

    step: Step
    job_step: int
    via: tuple[str, ...] = ()
    """Action files passed through to reach this step (outermost first)."""
    outer: tuple[Step, ...] = ()
    """The `uses:` steps passed through to reach this step (outermost first)."""
    memo: dict[str, Any] = field(default_factory=dict, init=False, compare=False, repr=False)
    """What rules derived from this step alone (the same for every variant of its job)."""

    def commands(self) -> list[Command]:
        """Commands of the step's `run:` script (none for non-bash shells)."""
        if not self.step.run:
            return []
        shell = (self.step.shell or "bash").split()[0].rsplit("/", 1)[-1]
        if shell in NON_BASH_SHELLS:
            return []
        return commands(self.step.run, self.step.run_line or self.step.line)


@dataclass
class JobInstance:
    """A job as it runs: where it is defined, who called it, and its variants."""

    job: Job
    workflow: Workflow
    chain: tuple[Job, ...] = ()
    """Caller jobs for a job of a reusable workflow, outermost first."""
    variants: list[Variant] = field(default_factory=list)

    @property
    def display_id(self) -> str:
        """The caller's job id first: `caller/callee` (just `job` when not called)."""
        return "/".join([*(c.id for c in self.chain), self.job.id])

    @property
    def entry(self) -> Job:
        """The outermost job: the caller of a reusable workflow, or the job itself."""
        return self.chain[0] if self.chain else self.job

    @property
    def entry_file(self) -> str:
        """The workflow file that triggers this instance."""
        return self.entry.file


class RepoModel:
    """All workflows and local actions of one repository, and the jobs they really run."""

    def __init__(
        self,
        root: Path,
        resolver: UsesResolver | None = None,
        texts: Mapping[str, str] | None = None,
        make_resolver: Callable[[], UsesResolver] | None = None,
    ) -> None:
        self.root = root
        self._resolver = resolver
        self._make_resolver = make_resolver
        self.texts: Mapping[str, str] = texts or {}
        """Texts that stand in for local files on disk (repository-relative path -> text)."""
        self.workflows: dict[str, Workflow] = {}
        """Local workflows by path, remote ones by `OWNER/REPO/PATH@REF` (`remote` set)."""
        self.actions: dict[str, Action | None] = {}
        """Local actions by directory, remote ones by `OWNER/REPO/PATH@REF`."""
        self.origins: dict[str, UsesRef] = {}
        """The reference each remote file was read at, by its name."""
        self.unresolved: list[UnresolvedUse] = []
        """Remote references that could not be read (WF004)."""
        self.call_problems: list[ParseProblem] = []
        """Reusable-workflow calls beyond GitHub's nesting limits, or in a cycle (WF003)."""
        self.problems: list[ParseProblem] = []
        self.memo: dict[Any, Any] = {}
        """Results of analyses derived from this model, shared by the checks of one run."""
        self._effective: dict[int, tuple[Job, tuple[EffectiveStep, ...]]] = {}
        self._escapes: dict[str, bool] = {}
        self._exists: dict[str, bool] = {}
        self._load()

    def _load(self) -> None:
        directory = self.root / WORKFLOWS_DIR
        if directory.is_dir():
            # every *.yml entry, also a symlink to a device or a directory: WF001 says why
            # such a file is skipped, instead of leaving it out silently
            files = sorted(p for p in directory.iterdir() if p.suffix in (".yml", ".yaml"))
            for path in files:
                rel = path.relative_to(self.root).as_posix()
                try:
                    text = self.texts.get(rel)
                    self.workflows[rel] = (
                        parse_workflow(path, rel, self.root)
                        if text is None
                        else parse_workflow_text(text, rel)
                    )
                except Exception as exc:
                    self.problems.append(problem_of(rel, exc))
        actions_dir = self.root / ".github" / "actions"
        if actions_dir.is_dir():
            for path in sorted(actions_dir.rglob("action.y*ml")):
                self.action(path.parent.relative_to(self.root).as_posix())
        # local actions elsewhere in the repository, so that WF001 sees all of them up front
        pending = [
            step.uses
            for workflow in self.workflows.values()
            for job in workflow.jobs.values()
            for step in job.steps
        ]
        while pending:
            target = local_path(pending.pop())
            if target is None or target in self.actions:
                continue
            action = self.action(target)
            if action is not None:
                pending.extend(step.uses for step in action.steps)
        from harness.github.remote import load_remote

        load_remote(self)

    @property
    def resolver(self) -> UsesResolver | None:
        """Resolves remote `OWNER/REPO/PATH@REF` references (None: none are read); one made
        by `make_resolver` is made when first needed."""
        if self._resolver is None and self._make_resolver is not None:
            self._resolver, self._make_resolver = self._make_resolver(), None
        return self._resolver

    @property
    def reads_remote(self) -> bool:
        """True when remote references are read (a resolver was given, or can be made)."""
        return self._resolver is not None or self._make_resolver is not None

    @property
    def resolved(self) -> list[Resolved]:
        """The remote files the resolver read, none when it was never needed."""
        return list(self._resolver.resolved) if self._resolver is not None else []

    def action(self, directory: str) -> Action | None:
        """The local action in `directory` (repository-relative), parsed once; None if absent."""
        if directory in self.actions:
            return self.actions[directory]
        action = None
        for name in ("action.yml", "action.yaml") if not self.escapes(directory) else ():
            path = self.root / directory / name
            if os.path.lexists(path):
                rel = f"{directory}/{name}" if directory else name
                try:
                    text = self.texts.get(rel)
                    action = (
                        parse_action(path, rel, directory, self.root)
                        if text is None
                        else parse_action_text(text, rel, directory)
                    )
                except Exception as exc:
                    self.problems.append(problem_of(rel, exc))
                break
        self.actions[directory] = action
        return action

    def action_exists(self, directory: str) -> bool:
        """True when `directory` (inside the repository) holds an action file, readable or not
        (looked up once per directory)."""
        found = self._exists.get(directory)
        if found is None:
            found = self._exists[directory] = not self.escapes(directory) and any(
                os.path.lexists(self.root / directory / n) for n in ("action.yml", "action.yaml")
            )
        return found

    def escapes(self, path: str) -> bool:
        """True when the repository-relative `path` resolves (after symlinks) outside it
        (resolved once per path)."""
        found = self._escapes.get(path)
        if found is None:
            found = self._escapes[path] = not inside(self.root / path, self.root)
        return found

    def reusable(self, uses: str | None) -> Workflow | None:
        """The local reusable workflow a job-level `uses:` names, if it exists and parsed."""
        path = local_path(uses)
        return self.workflows.get(path) if path is not None else None

    def callee(self, job: Job) -> Workflow | None:
        """The reusable workflow a caller job runs, local or remote, if it was read.

        A `./` path inside a remote workflow names a file of that workflow's repository at
        the same ref, as on GitHub.
        """
        if job.uses is None:
            return None
        path = local_path(job.uses)
        base = self.origins.get(job.file)
        if path is not None:
            return self.workflows.get(base.at(path).display if base else path)
        from harness.github.uses.ref import parse_uses

        ref = parse_uses(job.uses)
        return self.workflows.get(ref.display) if ref is not None else None

    def step_action(self, step: Step) -> Action | None:
        """The action a step runs: a local one (in the workspace), or a remote one read."""
        directory = local_path(step.uses)
        if directory is not None:
            return self.action(directory)
        from harness.github.remote import remote_action_key

        key = remote_action_key(step.uses)
        return self.actions.get(key) if key is not None else None

    # -- steps ---------------------------------------------------------------------------

    def effective_steps(self, job: Job) -> list[EffectiveStep]:
        """The job's steps with local composite actions expanded recursively (depth-bounded)."""
        cached = self._effective.get(id(job))
        if cached is None or cached[0] is not job:
            out: list[EffectiveStep] = []
            for step in job.steps:
                out.append(EffectiveStep(step, step.index))
                self._expand_action(step, step.index, (), (), out)
            cached = self._effective[id(job)] = (job, tuple(out))
        return list(cached[1])

    def _expand_action(
        self,
        step: Step,
        job_step: int,
        via: tuple[str, ...],
        outer: tuple[Step, ...],
        out: list[EffectiveStep],
    ) -> None:
        if step.uses is None or len(via) >= MAX_ACTION_DEPTH:
            return
        action = self.step_action(step)
        if action is None or not action.composite or action.file in via:
            return
        for inner in action.steps:
            out.append(EffectiveStep(inner, job_step, (*via, action.file), (*outer, step)))
            self._expand_action(inner, job_step, (*via, action.file), (*outer, step), out)

    # -- jobs ------------------------------------------------------------------------------

    @cached_property
    def instances(self) -> list[JobInstance]:
        """Every job that runs steps, with its variants; reusable workflows expanded per caller."""
        out: list[JobInstance] = []
        called: set[str] = set()
        for workflow in self.workflows.values():
            for job in workflow.jobs.values():
                callee = self.callee(job)
                if callee is not None:
                    called.add(callee.file)
        for workflow in self.workflows.values():
            if workflow.callable_only and workflow.file in called:
                continue
            inputs = _default_inputs(workflow)
            for job in workflow.jobs.values():
                out.extend(self._instances(workflow, job, (), [({}, inputs)]))
        return out

    def _instances(
        self,
        workflow: Workflow,
        job: Job,
        chain: tuple[Job, ...],
        contexts: list[tuple[dict[str, Any], dict[str, Any]]],
    ) -> Iterator[JobInstance]:
        if job.uses is not None:
            callee = self.callee(job)
            if callee is None or not self._call_allowed(workflow, job, callee, chain):
                return
            callee_contexts: list[tuple[dict[str, Any], dict[str, Any]]] = []
            seen: set[str] = set()
            for caller_matrix, inputs in contexts:
                if statically_false(job.if_, inputs):
                    continue
                for combo in _combos(job, {"matrix": caller_matrix, "inputs": inputs}):
                    context = {"matrix": combo, "inputs": inputs}
                    call = (combo, _call_inputs(callee, job, context))
                    key = repr(call)
                    # matrices of nested callers multiply: keep distinct calls, and a bound
                    if key not in seen and len(callee_contexts) < MAX_CALL_CONTEXTS:
                        seen.add(key)
                        callee_contexts.append(call)
            for callee_job in callee.jobs.values():
                yield from self._instances(callee, callee_job, (*chain, job), callee_contexts)
            return
        instance = JobInstance(job, workflow, chain)
        fixed = resolve_runs_on(job.runs_on, {}) if same_in_every_variant(job.runs_on) else None
        for caller_matrix, inputs in contexts:
            if statically_false(job.if_, inputs):
                continue
            try:
                combos = expand_for(job.matrix, {"inputs": inputs}, job.runs_on)
            except Unknown as exc:
                unknown = LabelSet(
                    (),
                    None,
                    UNKNOWN,
                    (str(job.runs_on),),
                    reason=f"the matrix is not static: {exc}",
                )
                labels = (
                    resolve_runs_on(job.runs_on, {"inputs": inputs})
                    if not _mentions_matrix(job.runs_on)
                    else unknown
                )
                instance.variants.append(Variant({}, inputs, labels, caller_matrix))
                continue
            for combo in combos:
                labels = (
                    fixed
                    if fixed is not None
                    else resolve_runs_on(job.runs_on, {"matrix": combo, "inputs": inputs})
                )
                instance.variants.append(Variant(combo, inputs, labels, caller_matrix))
        if instance.variants or not contexts:
            yield instance

    def _call_allowed(
        self, workflow: Workflow, job: Job, callee: Workflow, chain: tuple[Job, ...]
    ) -> bool:
        """False (with a WF003 problem) for a call in a cycle or beyond GitHub's limits."""
        files = [c.file for c in chain] + [workflow.file]
        if callee.file in files:
            cycle = " -> ".join([*files[files.index(callee.file) :], callee.file])
            self._call_problem(job, f"reusable workflows call each other in a cycle: {cycle}")
            return False
        if len(chain) + 2 > MAX_WORKFLOW_LEVELS:
            self._call_problem(
                job,
                f"`{job.uses}` would be level {len(chain) + 2} of nested "
                f"workflows; GitHub runs at most {MAX_WORKFLOW_LEVELS} "
                "(the caller and nine reusable workflows)",
            )
            return False
        return True

    def _call_problem(self, job: Job, message: str) -> None:
        problem = ParseProblem(job.file, job.uses_line or job.line, message)
        if problem not in self.call_problems:
            self.call_problems.append(problem)

    def unique_callees(self, workflow: Workflow) -> set[str]:
        """The reusable workflows a workflow reaches, nested calls included (bounded)."""
        found: set[str] = set()
        todo = [workflow]
        while todo and len(found) <= MAX_UNIQUE_REUSABLE * 4:
            for job in todo.pop().jobs.values():
                callee = self.callee(job)
                if callee is not None and callee.file not in found:
                    found.add(callee.file)
                    todo.append(callee)
        return found

    def display_id(self, job: Job) -> str:
        """How findings name a job definition: as its first instance does (the caller's job
        id first for a job of a reusable workflow), else its own id."""
        key = ("display_ids",)
        if key not in self.memo:
            names: dict[int, str] = {}
            for instance in self.instances:
                names.setdefault(id(instance.job), instance.display_id)
            self.memo[key] = names
        shown: str = self.memo[key].get(id(job), job.id)
        return shown

    def jobs_with_steps(self) -> Iterator[tuple[Workflow, Job]]:
        """Every job definition that has steps (callers of reusable workflows have none) and
        can run: a job whose `if:` is statically false is left out, and so is a remote
        workflow's job that no caller reaches."""
        reached = {id(instance.job) for instance in self.instances}
        for workflow in self.workflows.values():
            for job in workflow.jobs.values():
                if job.uses is None and id(job) in reached:
                    yield workflow, job


def statically_false(condition: str | None, inputs: Mapping[str, Any]) -> bool:
    """True when a job's `if:` is false whatever happens at run time (given the inputs)."""
    if condition is None:
        return False
    from harness.github.conditions import evaluate_condition

    return evaluate_condition(condition, {"inputs": inputs}) is False


def _combos(job: Job, context: Mapping[str, Any]) -> list[dict[str, Any]]:
    try:
        return expand_for(job.matrix, context, job.with_)
    except Unknown:
        return [{}]


def _mentions_matrix(value: Any) -> bool:
    return "matrix" in str(value)


def _default_inputs(workflow: Workflow) -> dict[str, Any]:
    inputs = {
        name: spec.default
        for name, spec in workflow.call_inputs.items()
        if spec.default is not None
    }
    dispatch = workflow.on.get("workflow_dispatch")
    if isinstance(dispatch, dict) and isinstance(dispatch.get("inputs"), dict):
        for name, spec in dispatch["inputs"].items():
            if isinstance(spec, dict) and spec.get("default") is not None:
                inputs.setdefault(name, spec["default"])
    return inputs


def _call_inputs(callee: Workflow, caller: Job, context: Mapping[str, Any]) -> dict[str, Any]:
    """Inputs a caller passes: callee defaults, overridden by the caller's `with:`."""
    inputs = {
        name: spec.default for name, spec in callee.call_inputs.items() if spec.default is not None
    }
    for name, value in caller.with_.items():
        if has_expression(value):
            try:
                inputs[name] = substitute(value, context)
            except Unknown:
                inputs.pop(name, None)
        else:
            inputs[name] = value
    return inputs


def load_repo_model(
    root: Path,
    resolver: UsesResolver | None = None,
    make_resolver: Callable[[], UsesResolver] | None = None,
) -> RepoModel:
    """Build the model of the repository at `root` (remote references read with `resolver`,
    or with the one `make_resolver` makes when the first remote reference needs reading)."""
    return RepoModel(root, resolver, make_resolver=make_resolver)
