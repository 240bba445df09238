"""Remote reusable workflows and actions of a repository model, read at their refs.

`load_remote(model)` walks every `uses:` of the model's workflows and actions, resolves the
remote ones (`OWNER/REPO/PATH@REF`) with the model's resolver and adds what it finds to the
model under the name `OWNER/REPO/PATH@REF`, then walks those files in turn (bounded). As on
GitHub:

- a job-level `uses: ./.github/workflows/x.yml` inside a remote workflow names a file of
  that workflow's repository at the same ref;
- a step-level `uses: ./path` (an action) inside a remote workflow or action names a
  directory of the caller's workspace, that is of the checked repository.

Actions known by name (GitHub's own `actions/*`, the Nix installers and the Nix actions the
rules know) are not fetched: what they do is known without reading them. Every reference
that cannot be read is recorded with its reason (rule WF004).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, TypeGuard

from harness.github.loader import parse_action_text, parse_workflow_text, problem_of
from harness.github.uses.ref import UsesRef, parse_uses

if TYPE_CHECKING:
    from collections.abc import Iterable

    from harness.github.model import Job, Step
    from harness.github.repo import RepoModel
    from harness.github.uses.resolver import Resolved

MAX_REMOTE_FILES = 200
"""Remote files one model reads at most (a bound on what a repository can make us fetch)."""
KNOWN_OWNERS = frozenset({"actions", "github"})
"""Owners whose actions are known by name and never fetched."""
ACTION_FILES = ("action.yml", "action.yaml")


@dataclass(frozen=True)
class UnresolvedUse:
    """A remote reference that could not be read, where it is written, and why."""

    uses: str
    file: str
    line: int
    kind: str
    reason: str


@lru_cache(maxsize=1)
def _known_names() -> tuple[frozenset[str], frozenset[str]]:
    """(actions known by `OWNER/REPO`, the Nix ones of them also by `OWNER/REPO/PATH`)."""
    from harness.github.nix import INSTALLER_ACTIONS, NIX_ACTIONS
    from harness.github.roles import PUBLISH_ACTIONS

    nix = INSTALLER_ACTIONS | NIX_ACTIONS
    return nix | PUBLISH_ACTIONS, nix


def known_by_name(ref: UsesRef) -> bool:
    """True for an action whose behaviour the rules know without reading it."""
    names, nix = _known_names()
    name = ref.name.lower()
    return ref.owner.lower() in KNOWN_OWNERS or name in names or f"{name}/{ref.path}".lower() in nix


def _resolved(outcome: object) -> TypeGuard[Resolved]:
    """True when the resolver read the file (no outcome: nothing was asked)."""
    if outcome is None:
        return False
    from harness.github.uses.resolver import Resolved

    return isinstance(outcome, Resolved)


def remote_action_key(uses: str | None) -> str | None:
    """The model's key of a remote action reference (`OWNER/REPO/PATH@REF`), else None."""
    ref = parse_uses(uses)
    return ref.display if ref is not None else None


class RemoteLoader:
    """Breadth-first walk of the remote references reachable from a model."""

    def __init__(self, model: RepoModel) -> None:
        self.model = model
        self.queue: deque[tuple[str, str, str, int, UsesRef | None]] = deque()
        """(kind `workflow`|`action`, uses, site file, site line, remote file it is in)."""
        self.seen: set[tuple[str, str]] = set()
        self.local_seen: set[str] = set()
        self.failed: dict[str, object] = {}
        """Remote references already found unreadable: every further site is reported too."""
        self.read = 0

    def run(self) -> None:
        """Resolve everything reachable (bounded by MAX_REMOTE_FILES)."""
        model = self.model
        for workflow in list(model.workflows.values()):
            self._workflow_refs(workflow.jobs.values(), None)
        for action in list(model.actions.values()):
            if action is not None:
                self._step_refs(action.steps)
        while self.queue:
            kind, uses, file, line, base = self.queue.popleft()
            if kind == "workflow":
                self._workflow(uses, file, line, base)
            else:
                self._action(uses, file, line)

    def _workflow_refs(self, jobs: Iterable[Job], base: UsesRef | None) -> None:
        from harness.github.repo import local_path

        for job in jobs:
            if job.uses is not None:
                local = local_path(job.uses)
                if local is None or base is not None:
                    self._push("workflow", job.uses, job.file, job.uses_line or job.line, base)
            self._step_refs(job.steps)

    def _step_refs(self, steps: list[Step]) -> None:
        from harness.github.repo import local_path

        for step in steps:
            local = local_path(step.uses)
            if local is not None:
                action = self.model.action(local)
                if action is not None and action.file not in self.local_seen:
                    self.local_seen.add(action.file)
                    self._step_refs(action.steps)
                continue
            ref = parse_uses(step.uses)
            if ref is not None and not known_by_name(ref):
                line = step.raw.line_of("uses") if step.raw is not None else step.line
                self._push("action", step.uses or "", step.file, line, None)

    def _push(self, kind: str, uses: str, file: str, line: int, base: UsesRef | None) -> None:
        self.queue.append((kind, uses, file, line, base))

    def _target(self, uses: str, base: UsesRef | None) -> UsesRef | None:
        from harness.github.repo import local_path

        local = local_path(uses)
        if local is not None and base is not None:
            return base.at(local)
        return parse_uses(uses)

    def _workflow(self, uses: str, file: str, line: int, base: UsesRef | None) -> None:
        ref = self._target(uses, base)
        if ref is None or ref.display in self.model.workflows:
            return
        if ref.display in self.failed:
            self._unresolved(uses, file, line, self.failed[ref.display])
            return
        if ("workflow", ref.display) in self.seen:
            return
        self.seen.add(("workflow", ref.display))
        if not self._budget(uses, file, line):
            return
        outcome = self.model.resolver.resolve(ref) if self.model.resolver else None
        if not _resolved(outcome):
            self.failed[ref.display] = outcome
            self._unresolved(uses, file, line, outcome)
            return
        try:
            workflow = parse_workflow_text(outcome.text, ref.display)
        except Exception as exc:
            self.model.problems.append(problem_of(ref.display, exc))
            return
        workflow.remote = True
        self.model.workflows[ref.display] = workflow
        self.model.origins[ref.display] = ref
        self._workflow_refs(workflow.jobs.values(), ref)

    def _action(self, uses: str, file: str, line: int) -> None:
        ref = parse_uses(uses)
        if ref is not None and ref.display in self.failed:
            self._unresolved(uses, file, line, self.failed[ref.display])
            return
        if ref is None or ref.display in self.model.actions:
            return
        if not self._budget(uses, file, line):
            return
        self.model.actions[ref.display] = None
        resolver = self.model.resolver
        candidates = [ref.at(f"{ref.path}/{name}" if ref.path else name) for name in ACTION_FILES]
        outcome = resolver.resolve_first(candidates) if resolver else None
        if not _resolved(outcome):
            self.failed[ref.display] = outcome
            self._unresolved(uses, file, line, outcome)
            return
        try:
            action = parse_action_text(outcome.text, outcome.ref.display, ref.display)
        except Exception as exc:
            self.model.problems.append(problem_of(outcome.ref.display, exc))
            return
        action.remote = True
        self.model.actions[ref.display] = action
        self.model.origins[outcome.ref.display] = outcome.ref
        self._step_refs(action.steps)

    def _budget(self, uses: str, file: str, line: int) -> bool:
        self.read += 1
        if self.read <= MAX_REMOTE_FILES:
            return True
        self.model.unresolved.append(
            UnresolvedUse(
                uses,
                file,
                line,
                "limit",
                f"more than {MAX_REMOTE_FILES} remote files are "
                "reachable from this repository; not read",
            )
        )
        return False

    def _unresolved(self, uses: str, file: str, line: int, outcome: object) -> None:
        kind = getattr(outcome, "kind", "offline")
        reason = getattr(outcome, "reason", "remote references are not resolved in this run")
        self.model.unresolved.append(UnresolvedUse(uses, file, line, kind, reason))


def load_remote(model: RepoModel) -> None:
    """Add the remote workflows and actions reachable from `model` to it."""
    RemoteLoader(model).run()
