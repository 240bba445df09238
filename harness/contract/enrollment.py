"""The contract's `enrollment` section: tranches, hosted exceptions, ownership, promotion.

Repository names are `OWNER/REPO` and compared ignoring case, as GitHub does. Without an
`enrollment` section every repository counts as enrolled.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from fnmatch import fnmatchcase
from typing import Any

from harness.github.identity import valid_repo_name

REPO_OWNED = "repo-owned"
USER_OWNED = "user-owned"
DEFAULT_PROMOTION_SUITES = ("bootstrap", "placement", "workflows")


@dataclass(frozen=True)
class HostedException:
    """A repository allowed to keep some jobs on hosted runners, for a reason, until a date."""

    repo: str
    reason: str
    allow: tuple[str, ...]
    until: date
    line: int | None = None
    """Where the exception is written in the contract."""

    def covers(self, labels: tuple[str, ...]) -> bool:
        """True when a `runs-on` label set is allowed (any label matches an `allow` glob)."""
        lowered = [label.lower() for label in labels]
        return any(
            fnmatchcase(label, pattern.lower()) for pattern in self.allow for label in lowered
        )

    def expired(self, today: date) -> bool:
        """True once the `until` date has passed (the exception holds through that day)."""
        return today > self.until

    def to_json(self) -> dict[str, Any]:
        """The exception as reports show it."""
        return {"reason": self.reason, "allow": list(self.allow), "until": self.until.isoformat()}


@dataclass(frozen=True)
class Promotion:
    """What a repository outside a tranche must pass to be a promotion candidate."""

    suites: tuple[str, ...] = DEFAULT_PROMOTION_SUITES
    max_warnings: int = 0


@dataclass(frozen=True)
class Enrollment:
    """Which repositories are enrolled (in a tranche), and on what terms."""

    tranches: dict[str, tuple[str, ...]] = field(default_factory=dict)
    exceptions: dict[str, HostedException] = field(default_factory=dict)
    ownership: dict[str, str] = field(default_factory=dict)
    promotion: Promotion = field(default_factory=Promotion)

    def tranche_of(self, repo: str | None) -> str | None:
        """The tranche a repository is in, or None."""
        if repo is None:
            return None
        lowered = repo.lower()
        for name, repos in self.tranches.items():
            if any(r.lower() == lowered for r in repos):
                return name
        return None

    def exception_of(self, repo: str | None) -> HostedException | None:
        """The repository's hosted exception, or None."""
        if repo is None:
            return None
        lowered = repo.lower()
        return next((e for name, e in self.exceptions.items() if name.lower() == lowered), None)

    def ownership_of(self, repo: str | None) -> str:
        """`repo-owned` (the default) or `user-owned`."""
        lowered = (repo or "").lower()
        return next(
            (kind for name, kind in self.ownership.items() if name.lower() == lowered), REPO_OWNED
        )


def build_enrollment(
    spec: dict[str, Any],
    line_of: Callable[[list[str | int]], int | None],
    problem: Callable[[list[str | int], str], None],
) -> Enrollment:
    """An Enrollment from a schema-valid `enrollment` mapping; semantic problems reported."""
    tranches = {str(name): tuple(repos) for name, repos in spec.get("tranches", {}).items()}
    seen: dict[str, str] = {}
    for name, repos in tranches.items():
        for index, repo in enumerate(repos):
            other = seen.get(repo.lower())
            if other is not None:
                problem(
                    ["enrollment", "tranches", name, index],
                    f"{repo} is in two tranches ({other} and {name})",
                )
            seen[repo.lower()] = name
    for section in ("exceptions", "ownership"):
        for repo in spec.get(section, {}):
            if not valid_repo_name(repo):
                problem(["enrollment", section, repo], f"{repo!r} is not OWNER/REPO")
    exceptions = {}
    for repo, item in spec.get("exceptions", {}).items():
        path: list[str | int] = ["enrollment", "exceptions", repo, "until"]
        try:
            until = date.fromisoformat(str(item["until"]))
        except ValueError:
            problem(path, f"until {item['until']!r} is not a date (YYYY-MM-DD)")
            until = date.min
        exceptions[repo] = HostedException(
            repo,
            item["reason"],
            tuple(item["allow"]),
            until,
            line_of(["enrollment", "exceptions", repo]),
        )
    promotion = spec.get("promotion", {})
    return Enrollment(
        tranches=tranches,
        exceptions=exceptions,
        ownership=dict(spec.get("ownership", {})),
        promotion=Promotion(
            tuple(promotion.get("suites", DEFAULT_PROMOTION_SUITES)),
            int(promotion.get("max_warnings", 0)),
        ),
    )
