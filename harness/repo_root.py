"""Which directory is the repository: a subfolder of a git checkout means its top level."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harness.gitio import GitResult, outside_any_repository, run_git

PROJECT_MARKERS = (".github", "fleet.yaml")
"""What makes a subfolder of a checkout a project of its own."""


@dataclass(frozen=True)
class RepoRoot:
    """The directory a run checks, whether it is a git checkout, and what was changed."""

    path: Path
    is_git: bool
    note: str | None = None
    """Set when the directory given was a subfolder and its top level is used instead."""


def find_repo_root(given: Path) -> RepoRoot:
    """`given`, or the top level of the git checkout it lies in (`git rev-parse
    --show-toplevel`), so that a run from `docs/` still reads `.github/workflows`.

    A subfolder with its own `.github/` or `fleet.yaml` is a project of its own and is
    checked as given.
    """
    given = given.resolve()
    top = (
        GitResult(128, "", "not a git repository")
        if outside_any_repository(given)
        else run_git(given, "rev-parse", "--show-toplevel")
    )
    if not top.ok or not top.stdout.strip():
        return RepoRoot(given, False)
    root = Path(top.stdout.strip()).resolve()
    if root == given or any((given / marker).exists() for marker in PROJECT_MARKERS):
        return RepoRoot(given, True)
    return RepoRoot(
        root, True, f"{given} is inside the git checkout {root}: checking its top level"
    )
