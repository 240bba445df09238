"""Resolve a remote reference: the first source that has the file at the ref wins.

Order: the checked repository itself (`self`), local clones (`dir`), the on-disk cache
(`cache`), GitHub's contents API (`api`, skipped when offline). Outcomes are remembered for
the resolver's life, so a file called from many places is read once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.github.uses.api import ContentsApi
from harness.github.uses.cache import UsesCache
from harness.github.uses.failures import ApiFailure
from harness.github.uses.ref import UsesRef
from harness.github.uses.sources import SELF, LocalSource, SourceRead


@dataclass(frozen=True)
class Resolved:
    """A reference's file: text, the commit it was read at, where from (`self`, `dir`,
    `cache`, `api`) and a note when it was not read at the exact ref."""

    ref: UsesRef
    text: str
    commit: str | None
    origin: str
    note: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The report's `sources` entry."""
        data: dict[str, Any] = {
            "uses": self.ref.display,
            "resolved_commit": self.commit,
            "from": self.origin,
        }
        if self.note:
            data["note"] = self.note
        return data


@dataclass(frozen=True)
class Unresolved:
    """Why a reference could not be read: `kind` (not-at-ref, offline, not-found,
    unauthorized, forbidden, rate-limited, error) and a one-line reason."""

    ref: UsesRef
    kind: str
    reason: str


@dataclass
class UsesResolver:
    """Resolves references against local sources, a shared cache and a shared API client.

    `sources` are tried in order (put the checked repository first, as `self`). `cache`
    and `api` may be shared by the resolvers of many repositories (see `for_repository`).
    """

    sources: Sequence[LocalSource] = ()
    cache: UsesCache | None = None
    api: ContentsApi | None = None
    offline: bool = False
    _memo: dict[str, Resolved | Unresolved] = field(default_factory=dict, repr=False)

    def for_repository(
        self, name: str | None, root: Path | None, sources: Iterable[LocalSource] = ()
    ) -> UsesResolver:
        """A resolver for one checked repository sharing this one's cache and API client."""
        own = [LocalSource(name, root, SELF)] if name and root is not None else []
        return UsesResolver([*own, *sources, *self.sources], self.cache, self.api, self.offline)

    @property
    def resolved(self) -> list[Resolved]:
        """Every reference resolved so far, in the order first asked for."""
        return [r for r in self._memo.values() if isinstance(r, Resolved)]

    def resolve(self, ref: UsesRef) -> Resolved | Unresolved:
        """The file `ref` names, or why it could not be read."""
        key = ref.display
        if key not in self._memo:
            self._memo[key] = self._resolve(ref)
        return self._memo[key]

    def resolve_first(self, refs: Sequence[UsesRef]) -> Resolved | Unresolved:
        """The first of `refs` that resolves (`action.yml`, then `action.yaml`); else the
        first one's failure."""
        outcomes = []
        for ref in refs:
            outcome = self.resolve(ref)
            if isinstance(outcome, Resolved):
                return outcome
            outcomes.append(outcome)
            if outcome.kind not in ("not-found", "not-at-ref"):
                break
        return outcomes[0]

    def _resolve(self, ref: UsesRef) -> Resolved | Unresolved:
        reasons: list[str] = []
        for source in self.sources:
            if not source.holds(ref):
                continue
            found = source.read(ref)
            if isinstance(found, SourceRead):
                return Resolved(ref, found.text, found.commit, source.origin, found.note)
            reasons.append(found)
        if self.cache is not None:
            entry = self.cache.get(ref)
            if entry is not None:
                return Resolved(ref, entry.text, entry.commit, "cache")
        if self.offline or self.api is None:
            why = (
                "offline (--offline): the GitHub API was not asked"
                if self.offline
                else "no GitHub API configured"
            )
            return Unresolved(
                ref, "offline" if self.offline else "not-at-ref", "; ".join([*reasons, why])
            )
        try:
            text, commit = self.api.fetch(ref)
        except ApiFailure as exc:
            return Unresolved(ref, exc.kind, "; ".join([*reasons, exc.message]))
        if self.cache is not None:
            self.cache.put(ref, text, commit)
        return Resolved(ref, text, commit, "api")
