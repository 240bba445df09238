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

`start_fed(work)` forks a helper that computes `work(item)` for items this process hands it
later, one by one, as it comes by them (`Fed.feed`): the helper works through them while
this process goes on, and `received()` hands over the results in the order fed. Its items
are advice: one the helper does not get to, or whose result is lost, has no result, and the
caller computes what it needs itself.

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
from typing import Any, Generic, NoReturn, Self, TypeVar

R = TypeVar("R")
T = TypeVar("T")
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
    from harness.cpus import usable_cpus

    return usable_cpus() >= 2


def _claims(fd: int) -> Iterator[int]:
    """Items taken from the claim pipe until it is empty (a read of two bytes from a pipe is
    atomic: each item goes to one process)."""
    while True:
        data = os.read(fd, _CLAIM.size)
        if len(data) < _CLAIM.size:
            return
        yield _CLAIM.unpack(data)[0]


class _Results(Generic[R]):
    """The results a forked helper sends back, by item index, as they arrive. Used as a
    context manager, a helper never outlives the block: one still working is killed."""

    def __init__(self, count: int) -> None:
        self._count = count  # items that can have a result (indices below it)
        self._pid = 0
        self._result_r = -1
        self._fds: list[int] = []  # this process's ends of the helper's pipes
        self._got: dict[int, R] = {}  # every result received from the helper
        self._new: dict[int, R] = {}  # those `received` has not handed out yet
        self._pending = b""  # the start of a frame not yet whole
        self._ended = False  # the helper closed its end: nothing more will come

    def _fork(self, serve: Callable[[int], object], mine: int, helpers: int) -> None:
        """Fork the helper, which runs `serve(result_w)` and exits. `mine` is a pipe end only
        this process keeps, `helpers` one only the helper keeps (-1: none)."""
        result_r, result_w = os.pipe()
        _widen(result_w)  # the helper sends each result as it is done
        sys.stdout.flush()
        sys.stderr.flush()
        gc.freeze()  # the helper never scans (so never copies) what both processes hold
        pid = os.fork()
        if pid == 0:
            _exit_after(serve, result_w, (result_r, mine))
        gc.unfreeze()
        for fd in (result_w, helpers):
            if fd >= 0:
                os.close(fd)
        self._pid, self._result_r = pid, result_r
        self._fds.extend(fd for fd in (result_r, mine) if fd >= 0)

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
        for fd in self._fds:
            os.close(fd)
        self._fds = []

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Helper(_Results[R]):
    """`work(i)` for every `i < count`, begun in a forked helper by `start`: this process does
    other work meanwhile, then `finish` computes here what the helper has not taken and
    collects the rest."""

    def __init__(self, count: int, work: Callable[[int], R]) -> None:
        super().__init__(count)
        self._work = work
        self._claim_r = -1

    def _start(self) -> None:
        claim_r, claim_w = os.pipe()
        os.write(claim_w, b"".join(_CLAIM.pack(index) for index in range(self._count)))
        os.close(claim_w)
        work = self._work
        # both processes take items from the claim pipe
        self._fork(lambda result_w: _serve(work, _claims(claim_r), result_w), -1, -1)
        self._claim_r = claim_r
        self._fds.append(claim_r)

    def finish(self) -> dict[int, R]:
        """Every item's result, by index: the items nobody took yet are computed here, and
        an item the helper took but did not send back (it died) is computed here too."""
        work = self._work
        if self._claim_r < 0:
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


def start(count: int, work: Callable[[int], R]) -> Helper[R]:
    """A helper forked now that begins computing `work(i)` for `i < count` (none is forked
    for fewer than two items, too many, or where `available()` says no: `finish` then
    computes every item here)."""
    helper = Helper(count, work)
    if 2 <= count <= MAX_ITEMS and available():
        helper._start()
    return helper


def fork_map(count: int, work: Callable[[int], R]) -> dict[int, R]:
    """`work(i)` for every `i` in `range(count)`, by index, shared with a forked helper."""
    with start(count, work) as helper:
        return helper.finish()


class Fed(_Results[R], Generic[T, R]):
    """`work(item)` for the items this process `feed`s, computed by a helper forked by
    `start_fed` as they come; their results, by the order they were fed, as `received`
    hands them over. `done_feeding` says that no more will come: the helper ends once it
    has sent the last result."""

    def __init__(self, work: Callable[[T], R], warm: Callable[[], object] | None = None) -> None:
        super().__init__(MAX_ITEMS)
        self._work = work
        self._warm = warm
        self._feed_w = -1
        self._fed = 0
        self._out = bytearray()  # fed items not yet in the pipe (it was full)

    def _start(self) -> None:
        feed_r, feed_w = os.pipe()
        _widen(feed_w)
        work, warm = self._work, self._warm
        self._fork(lambda result_w: _serve_fed(work, warm, feed_r, result_w), feed_w, feed_r)
        os.set_blocking(feed_w, False)  # a full pipe never holds this process up
        self._feed_w = feed_w

    def feed(self, item: T) -> None:
        """Hand `item` to the helper (nothing when it takes no more items, or has had
        `MAX_ITEMS`, or `item` does not pickle)."""
        if self._feed_w < 0 or self._fed >= self._count:
            return
        try:
            body = pickle.dumps(item, pickle.HIGHEST_PROTOCOL)
        except Exception:
            return
        self._out += _FRAME.pack(self._fed, len(body)) + body
        self._fed += 1
        self._flush()

    def _flush(self) -> None:
        try:
            written = os.write(self._feed_w, self._out)
        except BlockingIOError:  # the pipe is full: the rest goes with the next item
            return
        except OSError:  # the helper is gone: it takes no more
            self._out.clear()
            self._stop_feeding()
            return
        del self._out[:written]

    def done_feeding(self, timeout: float = 30.0) -> None:
        """No more items: what is still to go is sent (while results are read, so that
        neither process waits for the other), then the helper's end is closed. A helper that
        takes nothing for `timeout` seconds is stopped."""
        import select
        import time

        deadline = time.monotonic() + timeout
        while self._out and self._feed_w >= 0 and self.working:
            left = deadline - time.monotonic()
            if left <= 0:
                self.close()
                return
            readable, writable, _ = select.select([self._result_r], [self._feed_w], [], left)
            if readable:
                self._receive(block=True)
            if writable:
                self._flush()
        self._stop_feeding()

    def _stop_feeding(self) -> None:
        if self._feed_w >= 0:
            self._fds.remove(self._feed_w)
            os.close(self._feed_w)
            self._feed_w = -1

    def close(self) -> None:
        """Stop the helper (the results it has not sent are dropped) and close the pipes."""
        self._feed_w = -1
        self._out.clear()
        super().close()


def start_fed(work: Callable[[T], R], warm: Callable[[], object] | None = None) -> Fed[T, R] | None:
    """A helper forked now that computes `work(item)` for each item `Fed.feed` hands it
    (after `warm()`, which readies what every item needs, before the first item comes), or
    None where `available()` says no."""
    if not available():
        return None
    helper: Fed[T, R] = Fed(work, warm)
    helper._start()
    return helper


_FRAME = struct.Struct(">HI")
"""The head of one item or result: the item's index and the pickle's length."""
PIPE_BYTES = 1 << 20
"""The pipes' size asked for (Linux's limit for a process without privileges): each process
seldom waits for the other."""


def _widen(fd: int) -> None:
    """Ask for a pipe of `PIPE_BYTES` (a smaller one where that is refused)."""
    with contextlib.suppress(ImportError, AttributeError, OSError):
        import fcntl

        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_BYTES)


def _frames(data: bytes, count: int) -> tuple[dict[Any, Any], int]:
    """The items or results in the whole frames at the start of `data`, by index, and how
    many bytes they take; a frame that does not unpickle, or names no item, is left out."""
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


def _exit_after(serve: Callable[[int], object], result_w: int, closed: tuple[int, ...]) -> NoReturn:
    """The helper's life: `serve(result_w)`, then exit (no atexit handlers, no flushing of
    the caller's buffers); interrupted, the caller computes what was not sent."""
    code = 1
    try:
        for fd in closed:
            if fd >= 0:
                os.close(fd)
        serve(result_w)
        code = 0
    except BaseException:
        code = 1
    finally:
        os._exit(code)


def _send(index: int, result: object, result_w: int) -> None:
    """Send one result (nothing when it does not pickle: the caller computes it)."""
    try:
        body = pickle.dumps(result, pickle.HIGHEST_PROTOCOL)
    except Exception:
        return
    view = memoryview(_FRAME.pack(index, len(body)) + body)
    while view:
        view = view[os.write(result_w, view) :]


def _serve(work: Callable[[int], R], claims: Iterator[int], result_w: int) -> None:
    """Compute the items taken, sending each result as it is done. An item whose work fails
    is not sent: the caller computes it."""
    for index in claims:
        try:
            result = work(index)
        except Exception:
            continue
        _send(index, result, result_w)


def _serve_fed(
    work: Callable[[T], R], warm: Callable[[], object] | None, feed_r: int, result_w: int
) -> None:
    """Compute each item as it is fed, sending each result as it is done, until the feed
    ends. An item whose work fails is not sent."""
    if warm is not None:
        with contextlib.suppress(Exception):  # each item then does what it needs
            warm()
    pending = b""
    while chunk := os.read(feed_r, PIPE_BYTES):
        data = pending + chunk
        items, used = _frames(data, MAX_ITEMS)
        pending = data[used:]
        for index, item in items.items():
            try:
                result = work(item)
            except Exception:
                continue
            _send(index, result, result_w)
