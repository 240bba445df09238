"""Ending the process without tearing down its heap.

A `check` of a large repository holds hundreds of thousands of small objects (the workflow
model, parsed scripts, findings). Python's own shutdown frees every one of them before the
process ends: a tenth of a second and more for nothing the operating system would not do
at once. `exit_process` runs what shutdown must still run (the `atexit` handlers: caches
written, temporary folders removed), flushes the standard streams, and ends the process.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
from typing import NoReturn


def _threads_to_join() -> bool:
    """True when a non-daemon thread other than this one still runs: Python's shutdown
    waits for it, so must this exit."""
    current = threading.current_thread()
    return any(t is not current and t.is_alive() and not t.daemon for t in threading.enumerate())


def exit_process(code: int) -> NoReturn:
    """End the process with `code` after the `atexit` handlers and a flush of stdout and
    stderr; a normal shutdown (`SystemExit`) when a thread is still to be joined."""
    if _threads_to_join():
        raise SystemExit(code)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):  # a closed pipe or stream: nothing more can be said
            pass
    os._exit(code)
