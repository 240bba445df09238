"""Which repositories a fleet run checks: a folder of checkouts, or a repo list.

A repo list has one repository per line: `OWNER/REPO=PATH` (a checkout; a relative PATH is
taken from the list's folder) or `OWNER/REPO@REF` (fetched at REF by the remote-uses
sources when the repository is checked: `harness.rollout.checkout`). Blank lines and `#`
comments are ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harness.errors import HarnessInputError, Problem
from harness.github.identity import origin_repo_name, valid_repo_name
from harness.github.uses.ref import parse_uses
from harness.safe_read import UnsafeFile, read_text

MAX_REPOS = 10_000
"""Repositories one fleet run takes at most (a bound on user input)."""
MAX_LIST_BYTES = 2 << 20


@dataclass(frozen=True)
class Target:
    """One repository of the fleet: its `OWNER/REPO` and its checkout, or (an
    `OWNER/REPO@REF` line) the ref to fetch and the line, `FILE:LINE`, that names it."""

    repo: str
    path: Path | None
    ref: str | None = None
    line: str = ""

    @property
    def where(self) -> str:
        """The checkout, or `OWNER/REPO@REF`."""
        return f"{self.repo}@{self.ref}" if self.path is None else str(self.path)


def from_folder(folder: Path) -> list[Target]:
    """Every git checkout directly under `folder`, named by its origin remote."""
    if not folder.is_dir():
        raise HarnessInputError(f"--repos {folder}: not a directory")
    targets: list[Target] = []
    problems: list[Problem] = []
    for path in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if not (path / ".git").exists():
            continue
        name = origin_repo_name(path)
        if name is None:
            problems.append(
                Problem(
                    str(path),
                    None,
                    "no origin remote names a GitHub "
                    "repository; list it as OWNER/REPO=PATH in --repo-list",
                )
            )
            continue
        targets.append(Target(name, path.resolve()))
        if len(targets) > MAX_REPOS:
            raise HarnessInputError(f"--repos {folder}: more than {MAX_REPOS} repositories")
    if problems:
        raise HarnessInputError(problems)
    if not targets:
        raise HarnessInputError(f"--repos {folder}: no git checkouts in this folder")
    return _unique(targets, str(folder))


def from_list(path: Path) -> list[Target]:
    """The repositories of a repo list; every bad line is reported at once. An
    `OWNER/REPO@REF` line is a target without a checkout, fetched when it is checked."""
    try:
        text = read_text(path, MAX_LIST_BYTES)
    except (UnsafeFile, OSError) as exc:
        raise HarnessInputError(Problem(str(path), None, f"cannot read repo list: {exc}")) from None
    targets: list[Target] = []
    problems: list[Problem] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if len(targets) >= MAX_REPOS:
            problems.append(Problem(str(path), number, f"more than {MAX_REPOS} repositories"))
            break
        name, sep, where = line.partition("=")
        name = name.strip()
        if not sep:
            at = parse_uses(line) if "@" in line else None
            if at is not None and not at.path:
                targets.append(Target(at.name, None, at.ref, f"{path}:{number}"))
            else:
                problems.append(
                    Problem(
                        str(path), number, f"{line!r}: expected OWNER/REPO=PATH or OWNER/REPO@REF"
                    )
                )
            continue
        if not valid_repo_name(name):
            problems.append(Problem(str(path), number, f"{name!r} is not OWNER/REPO"))
            continue
        checkout = Path(where.strip())
        if not checkout.is_absolute():
            checkout = path.parent / checkout
        if not checkout.is_dir():
            problems.append(
                Problem(str(path), number, f"{name}: {where.strip()} is not a directory")
            )
            continue
        targets.append(Target(name, checkout.resolve()))
    if problems:
        raise HarnessInputError(problems)
    if not targets:
        raise HarnessInputError(Problem(str(path), None, "the repo list names no repositories"))
    return _unique(targets, str(path))


def _unique(targets: list[Target], source: str) -> list[Target]:
    seen: dict[str, Target] = {}
    for target in targets:
        key = target.repo.lower()
        if key in seen:
            raise HarnessInputError(
                f"{source}: {target.repo} is listed twice ({seen[key].where} and {target.where})"
            )
        seen[key] = target
    return targets


def shard(targets: list[Target], index: int, count: int) -> list[Target]:
    """Shard `index` (1-based) of `count`: every count-th repository in name order."""
    ordered = sorted(targets, key=lambda t: t.repo.lower())
    return ordered[index - 1 :: count]


def parse_shard(text: str) -> tuple[int, int]:
    """`K/N` -> (K, N), 1 <= K <= N."""
    left, sep, right = text.partition("/")
    if sep and left.isdigit() and right.isdigit() and 1 <= int(left) <= int(right):
        return int(left), int(right)
    raise HarnessInputError(f"--shard must be K/N with 1 <= K <= N, got {text!r}")
