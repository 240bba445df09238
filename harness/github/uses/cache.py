"""The on-disk cache of resolved remote files, shared by every run (and process) of a user.

Under `$XDG_CACHE_HOME/flywheel-harness/uses/`:

- `OWNER/SHA256.json`: one remote file, `OWNER/REPO/PATH@REF`;
- `_refs/OWNER/REPO/SHA256.json`: the commit a tag or branch of a repository named;
- `_trees/1/OWNER/REPO/COMMIT/`: the files of a repository at a commit that the fleet's
  `OWNER/REPO@REF` lines check (`harness.rollout.snapshot`; `1` is the layout of the
  selection, so a future selection never reads an older one's folder).

`_` starts no GitHub owner name, so these never meet a file entry. An entry for a full
commit SHA never expires; a tag or branch moves, so its entry expires after the TTL.
Writes are atomic (a temporary file, or folder, renamed into place), so processes that
share the directory never read half an entry.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.github.uses.ref import UsesRef, is_full_sha
from harness.safe_read import MAX_WORKFLOW_BYTES, UnsafeFile, read_text

DEFAULT_TTL = 3600.0
"""Seconds a tag's or branch's entry stays fresh (`--uses-ttl`)."""


def default_cache_dir() -> Path:
    """`$XDG_CACHE_HOME/flywheel-harness/uses` (default `~/.cache/...`)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "flywheel-harness" / "uses"


@dataclass(frozen=True)
class CacheEntry:
    """A cached file: its text and the commit it was read at (None when not known)."""

    text: str
    commit: str | None
    fetched: float


class UsesCache:
    """Cached remote files in `directory`; tags and branches expire after `ttl` seconds."""

    def __init__(self, directory: Path, ttl: float = DEFAULT_TTL) -> None:
        self.directory = directory
        self.ttl = ttl

    def tree_dir(self, name: str, commit: str) -> Path:
        """The folder of repository `name`'s files at `commit` (it exists once complete)."""
        owner, _, repo = name.lower().partition("/")
        return self.directory / "_trees" / "1" / owner / repo / commit

    def _ref_path(self, name: str, ref: str) -> Path:
        owner, _, repo = name.lower().partition("/")
        digest = hashlib.sha256(ref.encode()).hexdigest()
        return self.directory / "_refs" / owner / repo / f"{digest}.json"

    def commit_of(self, name: str, ref: str, now: float | None = None) -> str | None:
        """The commit `ref` of repository `name` named when last asked, while fresh (a full
        SHA names itself), else None."""
        if is_full_sha(ref):
            return ref
        data = self._read(self._ref_path(name, ref), 4096)
        if data is None or data.get("ref") != ref or not self._fresh(ref, data, now):
            return None
        commit = data.get("commit")
        return commit if isinstance(commit, str) and is_full_sha(commit) else None

    def put_commit(self, name: str, ref: str, commit: str) -> None:
        """Remember that `ref` of `name` names `commit` (best effort)."""
        if not is_full_sha(ref):
            data = {"ref": ref, "commit": commit, "fetched": time.time()}
            self._write(self._ref_path(name, ref), data)

    def _fresh(self, ref: str, data: dict[str, Any], now: float | None) -> bool:
        """A SHA's entry is always fresh; a tag's or branch's for `ttl` seconds."""
        return is_full_sha(ref) or (now or time.time()) - _fetched(data) <= self.ttl

    @staticmethod
    def _read(path: Path, limit: int) -> dict[str, Any] | None:
        try:
            data = json.loads(read_text(path, limit))
        except (OSError, UnsafeFile, ValueError):
            return None
        return data if isinstance(data, dict) else None

    @staticmethod
    def _write(path: Path, data: dict[str, Any]) -> None:
        with contextlib.suppress(OSError):
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".entry-")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    json.dump(data, handle)
                Path(tmp).replace(path)
            except OSError:
                with contextlib.suppress(OSError):
                    Path(tmp).unlink()
                raise

    def _path(self, ref: UsesRef) -> Path:
        digest = hashlib.sha256(ref.display.encode()).hexdigest()
        return self.directory / ref.owner.lower() / f"{digest}.json"

    def get(self, ref: UsesRef, now: float | None = None) -> CacheEntry | None:
        """The fresh entry for `ref`, or None (absent, expired or unreadable)."""
        data = self._read(self._path(ref), MAX_WORKFLOW_BYTES * 2)
        if (
            data is None
            or data.get("uses") != ref.display
            or not isinstance(data.get("text"), str)
            or not self._fresh(ref.ref, data, now)
        ):
            return None
        commit = data.get("commit")
        return CacheEntry(data["text"], commit if isinstance(commit, str) else None, _fetched(data))

    def put(self, ref: UsesRef, text: str, commit: str | None) -> None:
        """Store `text` for `ref` (best effort: a read-only cache directory is not an error)."""
        data = {"uses": ref.display, "commit": commit, "fetched": time.time(), "text": text}
        self._write(self._path(ref), data)


def _fetched(data: dict[str, Any]) -> float:
    """When an entry was written (0 when it does not say)."""
    fetched = data.get("fetched")
    return float(fetched) if isinstance(fetched, int | float) else 0.0
