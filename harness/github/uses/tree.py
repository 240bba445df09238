"""A repository's files at a commit, listed then read: the shape every tree source has.

Two sources have it: a local clone (`GitTree`, with git) and GitHub's git database API
(`harness.github.uses.apitree.GitHubTree`). Only regular files are listed: symbolic links
and submodules are left out. What is read of a listing, and its limits, is decided once for
both (`harness.rollout.snapshot`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from harness.github.uses.sources import LocalSource
from harness.gitio import run_git

REGULAR_MODES = frozenset({"100644", "100755"})
"""Git modes of regular files (120000 is a symbolic link, 160000 a submodule)."""
GIT_READ_TIMEOUT = 120.0
"""Seconds `git ls-tree` or `git cat-file` may take in a local clone."""
MAX_TREE_ENTRIES = 100_000
"""Most entries a listing may have, from either source (GitHub's own limit for a
recursive tree)."""
MAX_LISTING_BYTES = 32 << 20
"""Most bytes of `git ls-tree -r -l -z` read from a local clone (100,000 entries of paths
up to about 250 bytes)."""


class TreeError(Exception):
    """A tree source could not list or read a repository; the message is one line."""


@dataclass(frozen=True)
class TreeEntry:
    """A regular file of a tree: its path, size in bytes and blob SHA."""

    path: str
    size: int
    blob: str


class TreeSource(Protocol):
    """Where a repository's files at a commit come from."""

    def commit(self, ref: str) -> str:
        """The full commit SHA `ref` names; TreeError (or ApiFailure) when none."""

    def entries(self, commit: str) -> list[TreeEntry]:
        """Every regular file of the commit's tree."""

    def read(self, entries: Sequence[TreeEntry]) -> Iterator[tuple[TreeEntry, bytes]]:
        """The content of each of `entries`, in order."""


@dataclass
class GitTree:
    """A local clone (`--uses-source OWNER/REPO=DIR`): `git ls-tree` and `git cat-file`."""

    clone: Path

    def commit(self, ref: str) -> str:
        """The commit of a tag, branch, `origin/` branch or SHA in the clone."""
        found = LocalSource("", self.clone).commit(ref)
        if found is None:
            raise TreeError(f"{ref} is not a commit, tag or branch of {self.clone}")
        return found

    def entries(self, commit: str) -> list[TreeEntry]:
        """`git ls-tree -r -l -z COMMIT`, regular files only."""
        done = run_git(
            self.clone,
            "ls-tree",
            "-r",
            "-l",
            "-z",
            "--full-tree",
            commit,
            timeout=GIT_READ_TIMEOUT,
            text=False,
            max_output=MAX_LISTING_BYTES,
        )
        if not done.ok:
            raise TreeError(f"git cannot list {commit[:12]} in {self.clone}: {_first(done.stderr)}")
        raw = done.stdout if isinstance(done.stdout, bytes) else str(done.stdout).encode()
        if raw.count(b"\0") > MAX_TREE_ENTRIES:
            raise TreeError(f"{commit[:12]} in {self.clone} has over {MAX_TREE_ENTRIES} entries")
        out = []
        for record in raw.split(b"\0"):
            head, tab, name = record.partition(b"\t")
            fields = head.split()
            if not tab or len(fields) != 4 or fields[0].decode() not in REGULAR_MODES:
                continue
            try:
                out.append(TreeEntry(name.decode("utf-8"), int(fields[3]), fields[2].decode()))
            except (UnicodeDecodeError, ValueError):
                continue
        return out

    def read(self, entries: Sequence[TreeEntry]) -> Iterator[tuple[TreeEntry, bytes]]:
        """The blobs in one `git cat-file --batch` (their total size was checked before)."""
        if not entries:
            return
        done = run_git(
            self.clone,
            "cat-file",
            "--batch",
            timeout=GIT_READ_TIMEOUT,
            text=False,
            input_text="".join(f"{entry.blob}\n" for entry in entries),
        )
        raw = done.stdout if isinstance(done.stdout, bytes) else b""
        if not done.ok:
            raise TreeError(f"git cannot read blobs in {self.clone}: {_first(done.stderr)}")
        at = 0
        for entry in entries:
            end = raw.find(b"\n", at)
            header = raw[at:end].split()
            if end < 0 or len(header) != 3 or header[1] != b"blob" or not header[2].isdigit():
                raise TreeError(f"git cannot read {entry.path} in {self.clone}")
            size = int(header[2])
            yield entry, raw[end + 1 : end + 1 + size]
            at = end + 1 + size + 1


def _first(stderr: str | bytes) -> str:
    text = stderr.decode(errors="replace") if isinstance(stderr, bytes) else stderr
    return (text.strip().splitlines() or ["git failed"])[0]
