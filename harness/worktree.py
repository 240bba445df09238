"""Is the checkout exactly its commit? Commit, dirtiness, and changes hidden by index flags.

Dirtiness has three values: False (clean), True (changed) and None (unknown: `git status`
failed, for example on a corrupt index). Unknown is never read as clean. Files flagged
`--skip-worktree` or `--assume-unchanged` are invisible to `git status`; their content is
compared with HEAD here, so a flag cannot hide an edit.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harness.gitio import outside_any_repository, run_git

MAX_FLAGGED = 10_000
"""Flagged files compared with HEAD at most; more count as unknown (bounded work)."""


@dataclass(frozen=True)
class TreeState:
    """The commit checked out at a root and whether its tracked files differ from it."""

    commit: str | None
    dirty: bool | None
    why: str = ""
    """One line: what is dirty, or why dirtiness is unknown (empty when clean)."""


def _flagged(root: Path) -> tuple[list[str] | None, str]:
    """Paths whose index entry hides worktree changes (skip-worktree `S`, assume-unchanged
    lowercase tag); None and the reason when git cannot tell."""
    listed = run_git(root, "ls-files", "-v", "-z")
    if not listed.ok:
        return None, f"git ls-files failed: {_first(listed.stderr)}"
    paths = []
    for entry in listed.stdout.split("\0"):
        if len(entry) < 3:
            continue
        tag, path = entry[0], entry[2:]
        if tag == "S" or tag.islower():
            paths.append(path)
    return paths, ""


def _first(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[0] if lines else "no output"


def _head_blobs(root: Path, paths: list[str]) -> dict[str, str] | None:
    """Blob ids of `paths` in HEAD (paths absent there are left out); None when git fails."""
    listed = run_git(root, "ls-tree", "-z", "--full-tree", "HEAD", "--", *paths)
    if not listed.ok:
        return None
    blobs = {}
    for entry in listed.stdout.split("\0"):
        meta, _, path = entry.partition("\t")
        fields = meta.split()
        if len(fields) == 3 and fields[1] == "blob":
            blobs[path] = fields[2]
    return blobs


def _hidden_changes(root: Path, paths: list[str]) -> tuple[list[str] | None, str]:
    """Flagged paths whose worktree content differs from HEAD (a missing file differs)."""
    if not paths:
        return [], ""
    if len(paths) > MAX_FLAGGED:
        return None, f"{len(paths)} files carry skip-worktree/assume-unchanged flags"
    head = _head_blobs(root, paths)
    if head is None:
        return None, "git ls-tree HEAD failed"
    present = [p for p in paths if (root / p).is_file() and not (root / p).is_symlink()]
    changed = [p for p in paths if p not in present or p not in head]
    if present:
        hashed = run_git(root, "hash-object", "--stdin-paths", input_text="\n".join(present))
        ids = hashed.stdout.split()
        if not hashed.ok or len(ids) != len(present):
            return None, f"git hash-object failed: {_first(hashed.stderr)}"
        changed += [p for p, blob in zip(present, ids, strict=True) if head.get(p) != blob]
    return sorted(set(changed)), ""


def tree_state(root: Path) -> TreeState:
    """Commit and dirtiness of the checkout at `root` (commit None outside a git checkout)."""
    if outside_any_repository(root):
        return TreeState(None, None, "not a git checkout")
    head = run_git(root, "rev-parse", "HEAD")
    if not head.ok:
        return TreeState(None, None, "not a git checkout")
    commit = head.stdout.strip()
    status = run_git(root, "status", "--porcelain", "--untracked-files=no")
    if not status.ok:
        return TreeState(
            commit, None, f"git status failed (exit {status.returncode}): {_first(status.stderr)}"
        )
    if status.stdout.strip():
        first = status.stdout.splitlines()[0][3:]
        return TreeState(commit, True, f"uncommitted changes to tracked files (first: {first})")
    flagged, why = _flagged(root)
    if flagged is None:
        return TreeState(commit, None, why)
    changed, why = _hidden_changes(root, flagged)
    if changed is None:
        return TreeState(commit, None, why)
    if changed:
        return TreeState(
            commit,
            True,
            f"{len(changed)} file(s) flagged skip-worktree or "
            f"assume-unchanged differ from HEAD (first: {changed[0]})",
        )
    return TreeState(commit, False)
