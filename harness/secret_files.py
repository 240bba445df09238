"""Files holding a secret (a netrc with ATTIC_TOKEN) live in a private temp dir, never in artifacts.

The directory is `$TMPDIR/flywheel-harness-secret-<pid>-XXXX`, mode 0700; each file is
created 0600 and removed when its block ends (also after SIGTERM, see `harness.signals`),
and the directory when the process exits. A process killed with SIGKILL cannot clean up:
the next harness run removes the directories of processes that no longer exist.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

from harness.signals import pid_alive

PREFIX = "flywheel-harness-secret-"

_lock = threading.Lock()
_state: dict[str, Path] = {}


def sweep_stale(base: Path | None = None) -> list[Path]:
    """Remove the secret directories of harness processes that are gone; the ones removed."""
    base = Path(base or tempfile.gettempdir())
    removed = []
    with contextlib.suppress(OSError):
        for entry in base.glob(f"{PREFIX}*"):
            pid = entry.name[len(PREFIX) :].split("-", 1)[0]
            if (
                pid.isdigit()
                and int(pid) != os.getpid()
                and not pid_alive(int(pid))
                and entry.is_dir()
                and not entry.is_symlink()
            ):
                shutil.rmtree(entry, ignore_errors=True)
                removed.append(entry)
    return removed


def private_dir() -> Path:
    """This process's private directory for secret files (created on first use, 0700)."""
    with _lock:
        directory = _state.get("dir")
        if directory is None or not directory.is_dir():
            sweep_stale()
            directory = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-"))
            atexit.register(shutil.rmtree, directory, True)
            _state["dir"] = directory
        return directory


@contextlib.contextmanager
def secret_file(name: str, content: str) -> Iterator[Path]:
    """A 0600 file holding `content` in the private directory, removed when the block ends."""
    folder = Path(tempfile.mkdtemp(prefix="f-", dir=private_dir()))
    try:
        path = folder / name
        fd = os.open(
            path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600
        )
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(content)
        yield path
    finally:
        shutil.rmtree(folder, ignore_errors=True)
