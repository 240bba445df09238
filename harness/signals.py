"""SIGTERM unwinds like Ctrl-C, so every `finally` runs: cgroups, workloads, secrets go.

A CI cancellation or a job timeout sends SIGTERM. Python's default for it is to die at
once, skipping every cleanup. `terminate_unwinds()` turns the first SIGTERM into a
`Terminated` exception (a `KeyboardInterrupt`, so code that cleans up after Ctrl-C cleans
up after it too) and ignores further ones while that cleanup runs.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator
from types import FrameType

EXIT_TERMINATED = 128 + signal.SIGTERM
"""The exit code after SIGTERM (143), as a shell reports a process killed by it."""


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived; raised in the main thread where it was running."""


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # the cleanup itself is not cut short
    raise Terminated


@contextlib.contextmanager
def terminate_unwinds() -> Iterator[None]:
    """Within the block, SIGTERM raises `Terminated` (outside the main thread: no change)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def pid_alive(pid: int) -> bool:
    """True when a process with this id exists (also one of another user)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
