"""What a check receives and how it says it could not run.

A check is a plain function `check(ctx: CheckContext, params: Mapping[str, Any]) -> CheckOutput`.
It never imports pytest. It raises `Skip` when the case does not apply here (no endpoint,
no Nix, no OpenTofu stacks) and `HarnessInputError` for bad parameters.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.contract.model import Contract
from harness.demand import Demands
from harness.errors import HarnessError
from harness.options import Options
from harness.results import CheckOutput

if TYPE_CHECKING:
    from harness.github.repo import RepoModel
    from harness.github.uses import UsesResolver
    from harness.tofu import TofuRepo


class Skip(HarnessError):
    """The case does not apply here. `live=True` marks skips that `--require-live` fails."""

    def __init__(self, reason: str, *, live: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.live = live


@dataclass
class CheckContext:
    """The repository, contract and options one run checks against."""

    repo: Path
    contract: Contract
    options: Options = field(default_factory=Options)
    demands: Demands = field(default_factory=Demands)
    """The endpoints the user named: one verdict each per run (see harness.demand)."""

    @cached_property
    def workflows(self) -> RepoModel:
        """The repository's GitHub Actions model, built once per context."""
        from harness.github.repo import load_repo_model

        def make_resolver() -> UsesResolver:  # when the first remote reference needs reading
            from harness.github.uses.setup import resolver_for

            return resolver_for(self.repo, self.contract, self.options)

        return load_repo_model(self.repo, make_resolver=make_resolver)

    @cached_property
    def tofu(self) -> TofuRepo:
        """The repository's OpenTofu stacks and modules, read once per context."""
        from harness.tofu import load_tofu

        return load_tofu(self.repo)

    def workflow_inputs(self) -> dict[str, int]:
        """What a check of the workflow model examines: workflow and action files, jobs."""
        model = self.workflows
        return {
            "files": len(model.workflows)
            + len(model.problems)
            + sum(1 for action in model.actions.values() if action is not None),
            "jobs": sum(len(w.jobs) for w in model.workflows.values()),
        }

    @cached_property
    def repo_name(self) -> str | None:
        """The checkout's `OWNER/REPO`: `--repo-name`, else its origin remote (None if neither)."""
        from harness.github.identity import repo_identity

        return repo_identity(self.repo, self.options.repo_name, self.contract.forge_repository)

    @property
    def enrolled(self) -> bool:
        """True when the contract counts this repository as enrolled (see `Contract.enrolled`);
        the identity is looked up only when the contract has an `enrollment` section."""
        if self.contract.enrollment is None:
            return True
        return self.contract.enrolled(self.repo_name)

    def artifacts_dir(self) -> Path:
        """A directory for this run's artifacts, created on demand."""
        path = self.options.artifacts
        if not path.is_absolute():
            path = Path.cwd() / path
        path.mkdir(parents=True, exist_ok=True)
        return path


CheckFn = Callable[[CheckContext, Mapping[str, Any]], CheckOutput]
