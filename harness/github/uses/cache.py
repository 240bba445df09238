"""The on-disk cache of resolved remote files, shared by every run (and process) of a user.

One JSON file per `OWNER/REPO/PATH@REF`, under `$XDG_CACHE_HOME/flywheel-harness/uses/`.
An entry for a full commit SHA never expires; a tag or branch moves, so its entry expires
after the TTL. Writes are atomic (a temporary file renamed into place), so processes that
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

    def _path(self, ref: UsesRef) -> Path:
        digest = hashlib.sha256(ref.display.encode()).hexdigest()
        return self.directory / ref.owner.lower() / f"{digest}.json"

    def get(self, ref: UsesRef, now: float | None = None) -> CacheEntry | None:
        """The fresh entry for `ref`, or None (absent, expired or unreadable)."""
        path = self._path(ref)
        try:
            data = json.loads(read_text(path, MAX_WORKFLOW_BYTES * 2))
        except (OSError, UnsafeFile, ValueError):
            return None
        if (
            not isinstance(data, dict)
            or data.get("uses") != ref.display
            or not isinstance(data.get("text"), str)
        ):
            return None
        fetched = float(data.get("fetched", 0))
        if not is_full_sha(ref.ref) and (now or time.time()) - fetched > self.ttl:
            return None
        commit = data.get("commit")
        return CacheEntry(data["text"], commit if isinstance(commit, str) else None, fetched)

    def put(self, ref: UsesRef, text: str, commit: str | None) -> None:
        """Store `text` for `ref` (best effort: a read-only cache directory is not an error)."""
        path = self._path(ref)
        data = {"uses": ref.display, "commit": commit, "fetched": time.time(), "text": text}
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
