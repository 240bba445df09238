"""Work split between this process and a forked helper, item by item.

`fork_map(count, work)` computes `work(i)` for every `i < count`: the caller and a helper
forked from it (which inherits everything read so far) take the next item from one pipe
until none is left, and the helper sends its results back (pickled) when it is done. An item
the helper took and did not finish (it died, or its result could not be sent) is computed by
the caller, so every item has its result whatever happens to the helper. `work` must be a
pure function of what both processes hold: the caller keeps no side effect of the
helper's calls.

Linux only (fork), only from a process that runs one thread, and only where two CPUs can
run at once; elsewhere `fork_map` computes every item here.
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import signal
import struct
import sys
from collections.abc import Callable, Iterator
from typing import NoReturn, TypeVar

R = TypeVar("R")
_CLAIM = struct.Struct(">H")
MAX_ITEMS = 30_000
"""Most items one pipe hands out (their claims fit in a pipe's buffer)."""


def _alone() -> bool:
    """True when this process runs one thread: a fork never copies a lock another thread
    holds (the helper could wait for it forever)."""
    import threading

    return threading.active_count() == 1


def available() -> bool:
    """True when a helper can be forked and can run beside this process."""
    if sys.platform != "linux" or not hasattr(os, "fork") or not _alone():
        return False
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    return cpus >= 2


def _claims(fd: int) -> Iterator[int]:
    """Items taken from the claim pipe until it is empty (a read of two bytes from a pipe is
    atomic: each item goes to one process)."""
    while True:
        data = os.read(fd, _CLAIM.size)
        if len(data) < _CLAIM.size:
            return
        yield _CLAIM.unpack(data)[0]


def fork_map(count: int, work: Callable[[int], R]) -> dict[int, R]:
    """`work(i)` for every `i` in `range(count)`, by index, shared with a forked helper."""
    if count < 2 or count > MAX_ITEMS or not available():
        return {index: work(index) for index in range(count)}
    claim_r, claim_w = os.pipe()
    os.write(claim_w, b"".join(_CLAIM.pack(index) for index in range(count)))
    os.close(claim_w)
    result_r, result_w = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    gc.freeze()  # the helper never scans (so never copies) what both processes hold
    pid = os.fork()
    if pid == 0:
        os.close(result_r)
        _serve(work, claim_r, result_w)
    gc.unfreeze()
    os.close(result_w)
    done: dict[int, R] = {}
    pipe = os.fdopen(result_r, "rb")
    try:
        for index in _claims(claim_r):
            done[index] = work(index)
        data = pipe.read()
        os.waitpid(pid, 0)
    except BaseException:  # interrupted: the helper goes too
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        raise
    finally:
        pipe.close()
        os.close(claim_r)
    try:
        theirs: dict[int, R] = pickle.loads(data) if data else {}
    except Exception:  # a helper that died while writing: its items are computed here
        theirs = {}
    done.update(theirs)
    for index in range(count):
        if index not in done:
            done[index] = work(index)
    return done


def _serve(work: Callable[[int], R], claim_r: int, result_w: int) -> NoReturn:
    """The helper's life: compute the items it takes, send the results, exit (no atexit
    handlers, no flushing of the caller's buffers)."""
    code = 1
    try:
        done = {index: work(index) for index in _claims(claim_r)}
        view = memoryview(pickle.dumps(done, pickle.HIGHEST_PROTOCOL))
        while view:
            view = view[os.write(result_w, view) :]
        code = 0
    except BaseException:  # interrupted, or results that do not pickle: the caller redoes
        code = 1
    finally:
        os._exit(code)
