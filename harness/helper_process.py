"""Work split between this process and a forked helper, item by item.

`fork_map(count, work)` computes `work(i)` for every `i < count`: the caller and a helper
forked from it (which inherits everything read so far) take the next item from one pipe
until none is left, and the helper sends each result back (pickled) as soon as it is done.
`start(count, work)` forks the helper and returns at once, so that the caller can do other
work first; its `finish()` then takes the items left, as `fork_map` does, or `received()`
hands over what the helper has sent so far. An item
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
from typing import Any, Generic, NoReturn, TypeVar

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


class Helper(Generic[R]):
    """`work(i)` for every `i < count`, begun in a forked helper by `start`: this process does
    other work meanwhile, then `finish` computes here what the helper has not taken and
    collects the rest. Used as a context manager, a helper never outlives the block: one not
    finished (the block raised) is killed."""

    def __init__(self, count: int, work: Callable[[int], R]) -> None:
        self._count = count
        self._work = work
        self._pid = 0
        self._claim_r = self._result_r = -1
        self._got: dict[int, R] = {}  # every result received from the helper
        self._new: dict[int, R] = {}  # those `received` has not handed out yet
        self._pending = b""  # the start of a frame not yet whole
        self._ended = False  # the helper closed its end: nothing more will come

    def _fork(self) -> None:
        claim_r, claim_w = os.pipe()
        os.write(claim_w, b"".join(_CLAIM.pack(index) for index in range(self._count)))
        os.close(claim_w)
        result_r, result_w = os.pipe()
        with contextlib.suppress(ImportError, AttributeError, OSError):
            import fcntl  # a larger pipe: the helper sends each result as it is done

            fcntl.fcntl(result_w, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
        sys.stdout.flush()
        sys.stderr.flush()
        gc.freeze()  # the helper never scans (so never copies) what both processes hold
        pid = os.fork()
        if pid == 0:
            os.close(result_r)
            _serve(self._work, claim_r, result_w)
        gc.unfreeze()
        os.close(result_w)
        self._pid, self._claim_r, self._result_r = pid, claim_r, result_r

    def finish(self) -> dict[int, R]:
        """Every item's result, by index: the items nobody took yet are computed here, and
        an item the helper took but did not send back (it died) is computed here too."""
        work = self._work
        if not self._pid:
            return {index: work(index) for index in range(self._count)}
        done: dict[int, R] = {}
        try:
            for index in _claims(self._claim_r):
                done[index] = work(index)
            while not self._ended:
                self._receive(block=True)
            os.waitpid(self._pid, 0)
            self._pid = 0
        finally:
            self.close()
        done.update(self._got)
        for index in range(self._count):
            if index not in done:
                done[index] = work(index)
        return done

    @property
    def working(self) -> bool:
        """True while the helper may still send results."""
        return self._pid != 0 and not self._ended

    def received(self, block: bool = False) -> dict[int, R]:
        """The results the helper has sent since the last call, without waiting (or, with
        `block`, waiting until at least one more arrives or the helper is done)."""
        before = len(self._got)
        self._receive(block=False)
        while block and self.working and len(self._got) == before:
            self._receive(block=True)
        new, self._new = self._new, {}
        return new

    def _receive(self, block: bool) -> None:
        """Read what the helper has sent so far (with `block`, wait for some) into the
        results; a frame cut short waits for the rest."""
        if not self.working:
            return
        if not block:
            import select

            if not select.select([self._result_r], [], [], 0)[0]:
                return
        chunk = os.read(self._result_r, PIPE_BYTES)
        if not chunk:
            self._ended = True
            return
        data = self._pending + chunk
        found, used = _frames(data, self._count)
        self._pending = data[used:]
        self._got.update(found)
        self._new.update(found)

    def close(self) -> None:
        """Stop a helper that is still working (its results are dropped), and close the
        pipes."""
        if self._pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._pid, signal.SIGKILL)
            os.waitpid(self._pid, 0)
            self._pid = 0
        for fd in (self._claim_r, self._result_r):
            if fd >= 0:
                os.close(fd)
        self._claim_r = self._result_r = -1

    def __enter__(self) -> Helper[R]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def start(count: int, work: Callable[[int], R]) -> Helper[R]:
    """A helper forked now that begins computing `work(i)` for `i < count` (none is forked
    for fewer than two items, too many, or where `available()` says no: `finish` then
    computes every item here)."""
    helper = Helper(count, work)
    if 2 <= count <= MAX_ITEMS and available():
        helper._fork()
    return helper


def fork_map(count: int, work: Callable[[int], R]) -> dict[int, R]:
    """`work(i)` for every `i` in `range(count)`, by index, shared with a forked helper."""
    with start(count, work) as helper:
        return helper.finish()


_FRAME = struct.Struct(">HI")
"""The head of one result the helper sends: the item's index and the pickle's length."""
PIPE_BYTES = 1 << 20
"""The result pipe's size asked for (Linux's limit for a process without privileges): the
helper seldom waits for the caller to read."""


def _frames(data: bytes, count: int) -> tuple[dict[Any, Any], int]:
    """The results in the whole frames at the start of `data`, by index, and how many bytes
    they take; a frame that does not unpickle, or names no item, is left out."""
    found: dict[int, Any] = {}
    view = memoryview(data)
    at = 0
    while at + _FRAME.size <= len(view):
        index, size = _FRAME.unpack_from(view, at)
        if at + _FRAME.size + size > len(view):
            break
        at += _FRAME.size
        if index < count:
            with contextlib.suppress(Exception):
                found[index] = pickle.loads(view[at : at + size])
        at += size
    return found, at


def _serve(work: Callable[[int], R], claim_r: int, result_w: int) -> NoReturn:
    """The helper's life: compute the items it takes, sending each result as it is done,
    then exit (no atexit handlers, no flushing of the caller's buffers). An item whose work
    fails, or whose result does not pickle, is not sent: the caller computes it."""
    code = 1
    try:
        for index in _claims(claim_r):
            try:
                body = pickle.dumps(work(index), pickle.HIGHEST_PROTOCOL)
            except Exception:
                continue
            view = memoryview(_FRAME.pack(index, len(body)) + body)
            while view:
                view = view[os.write(result_w, view) :]
        code = 0
    except BaseException:  # interrupted: the caller computes what was not sent
        code = 1
    finally:
        os._exit(code)
