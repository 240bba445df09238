"""The report: what a run proved, in the stable JSON schema `flywheel-harness/report@1`."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness import __version__
from harness.results import CaseResult, Status

SCHEMA = "flywheel-harness/report@1"


@dataclass(frozen=True)
class RepoInfo:
    """The repository a run checked: its path, commit and whether the tree was dirty."""

    path: str
    commit: str | None
    dirty: bool

    @classmethod
    def of(cls, root: Path) -> RepoInfo:
        """Read commit and dirtiness with git (None/False outside a git checkout)."""
        commit = _git(root, "rev-parse", "HEAD")
        dirty = bool(_git(root, "status", "--porcelain", "--untracked-files=no")) \
            if commit else False
        return cls(str(root), commit, dirty)


def _git(root: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                              timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


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
        known = {"schema", "tool", "repo", "contract", "results", "summary", "created"}
        return cls(
            repo=RepoInfo(repo.get("path", ""), repo.get("commit"), bool(repo.get("dirty"))),
            contract_path=contract.get("path", ""),
            contract_sha256=contract.get("sha256", ""),
            results=[CaseResult.from_json(r) for r in data.get("results", [])],
            created=data.get("created"),
            extra={k: v for k, v in data.items() if k not in known},
        )
