"""The state a fixer sees: the repository's files as the fixes so far left them, in memory."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from harness.checks.api import CheckContext
from harness.contract.model import Contract
from harness.fixes.model import NoFix
from harness.fixes.yamledit import Document
from harness.safe_read import MAX_WORKFLOW_BYTES, UnsafeFile, read_text

if TYPE_CHECKING:
    from harness.github.repo import RepoModel
    from harness.github.uses.resolver import UsesResolver


@dataclass
class OverlayContext(CheckContext):
    """A check context whose workflow model reads `texts` instead of the files on disk."""

    texts: Mapping[str, str] = field(default_factory=dict)
    resolver: UsesResolver | None = None
    """The resolver of remote `uses:` (built once per plan: it is the same for every text)."""

    @cached_property
    def workflows(self) -> RepoModel:
        """The workflow model of the repository with `texts` standing in for its files."""
        from harness.github.repo import RepoModel
        from harness.github.uses.setup import resolver_for

        if self.resolver is None:
            self.resolver = resolver_for(self.repo, self.contract, self.options)
        return RepoModel(self.repo, self.resolver, texts=self.texts)


class Texts:
    """Repository files read once (regular files in the repository, size-capped), and the
    edited texts that replace them."""

    def __init__(self, repo: Path) -> None:
        self.repo = repo
        self.original: dict[str, str] = {}
        self.current: dict[str, str] = {}

    def get(self, file: str) -> str:
        """The current text of `file` (repository-relative)."""
        if file not in self.current:
            try:
                text = read_text(self.repo / file, MAX_WORKFLOW_BYTES, root=self.repo)
            except UnsafeFile as exc:
                raise NoFix(f"{file}: {exc.reason}") from None
            self.original[file] = text
            self.current[file] = text
        return self.current[file]

    def with_changes(self, changes: Mapping[str, str]) -> dict[str, str]:
        """The current texts with `changes` laid over them."""
        return {**self.current, **changes}


@dataclass
class FixContext:
    """What a fixer reads: the contract, the current texts and their workflow model."""

    check: OverlayContext
    texts: Texts

    @property
    def repo(self) -> Path:
        """The repository root."""
        return self.check.repo

    @property
    def contract(self) -> Contract:
        """The fleet contract in force."""
        return self.check.contract

    @property
    def model(self) -> RepoModel:
        """The workflow model of the current texts."""
        return self.check.workflows

    def doc(self, file: str) -> Document:
        """The composed document of `file` as it is now."""
        return Document.of(file, self.texts.get(file))


def overlay_context(base: CheckContext, texts: Mapping[str, str]) -> OverlayContext:
    """A context like `base` that reads `texts` for the workflow and action files."""
    given = {
        f.name: getattr(base, f.name)
        for f in fields(base)
        if f.init and f.name not in ("texts", "resolver")
    }
    resolver = base.resolver if isinstance(base, OverlayContext) else None
    return OverlayContext(**given, texts=dict(texts), resolver=resolver)
