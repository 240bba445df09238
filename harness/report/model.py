"""The report: what a run proved, in the stable JSON schema `flywheel-harness/report@1`."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness import __version__
from harness.results import CaseResult, Status

SCHEMA = "flywheel-harness/report@1"


@dataclass(frozen=True)
class RepoInfo:
    """The repository a run checked: its path, commit and whether the tree was dirty.

    `dirty` is None when it could not be told (not a checkout, or git failed): unknown,
    which the release gate refuses like dirty.
    """

    path: str
    commit: str | None
    dirty: bool | None

    @classmethod
    def of(cls, root: Path) -> RepoInfo:
        """Read commit and dirtiness with git (see `harness.worktree`)."""
        from harness.worktree import tree_state

        state = tree_state(root)
        return cls(str(root), state.commit, state.dirty)


def scenario_set(results: list[CaseResult]) -> dict[str, Any]:
    """The scenario files the results came from: sha256 per suite and one digest of the set.

    The digest is the sha256 of the canonical JSON of the per-suite map, so a contract can
    name the digest of a scenario set it accepts besides the harness's bundled one.
    """
    suites: dict[str, str | None] = {}
    for result in sorted(results, key=lambda r: (r.suite, r.case)):
        if suites.get(result.suite) is None:
            suites[result.suite] = result.scenario_sha256
    return {"sha256": scenario_set_digest(suites), "suites": suites}


def scenario_set_digest(suites: dict[str, str | None]) -> str:
    """sha256 of a suite -> scenario sha256 map (canonical JSON, sorted keys)."""
    body = json.dumps(suites, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


@dataclass
class Report:
    """Results of one run, with where and against what they were made."""

    repo: RepoInfo
    contract_path: str
    contract_sha256: str
    results: list[CaseResult] = field(default_factory=list)
    created: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, int]:
        """Counts of passed, failed, skipped and errored cases."""
        counts = {"passed": 0, "failed": 0, "skipped": 0, "errors": 0}
        for result in self.results:
            key = "errors" if result.status is Status.ERROR else str(result.status)
            counts[key] += 1
        return counts

    def sorted_results(self) -> list[CaseResult]:
        """Results in a stable order: suite, then case."""
        return sorted(self.results, key=lambda r: (r.suite, r.case))

    @property
    def failed(self) -> bool:
        """True when any case failed or errored."""
        return any(r.status in (Status.FAILED, Status.ERROR) for r in self.results)

    def to_json(self) -> dict[str, Any]:
        """The whole report as the documented JSON object."""
        data: dict[str, Any] = {
            "schema": SCHEMA,
            "tool": {"name": "flywheel-harness", "version": __version__},
            "repo": {"path": self.repo.path, "commit": self.repo.commit, "dirty": self.repo.dirty},
            "contract": {"path": self.contract_path, "sha256": self.contract_sha256},
            "results": [r.to_json() for r in self.sorted_results()],
            "summary": self.summary(),
            "scenarios": scenario_set(self.results),
        }
        if self.created:
            data["created"] = self.created
        data.update(self.extra)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Report:
        """Rebuild a report from its JSON object."""
        repo = data.get("repo", {})
        contract = data.get("contract", {})
        known = {"schema", "tool", "repo", "contract", "results", "summary", "created", "scenarios"}
        return cls(
            repo=RepoInfo(repo.get("path", ""), repo.get("commit"), _dirty(repo.get("dirty"))),
            contract_path=contract.get("path", ""),
            contract_sha256=contract.get("sha256", ""),
            results=[CaseResult.from_json(r) for r in data.get("results", [])],
            created=data.get("created"),
            extra={k: v for k, v in data.items() if k not in known},
        )


def _dirty(value: Any) -> bool | None:
    """A recorded `dirty`: true, false, or anything else (null, missing) as unknown."""
    return value if isinstance(value, bool) else None
