"""The time budget of a case and the deadline of a request, shared by every HTTP probe.

The engine runs each case inside `case_budget(seconds)` (case parameter `budget`,
default `CASE_BUDGET`); the HTTP clients of `http_bounds` and the pipelined reader shorten
every socket operation to what is left of it and of the current request's deadline. Kept
free of httpx so that importing the engine stays cheap.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator

CASE_BUDGET = 1200.0
"""Seconds all requests of one case may take together (case parameter `budget`)."""


class BudgetExceeded(RuntimeError):
    """The case's budget ran out while it talked to an endpoint."""


class _Deadlines(threading.local):
    def __init__(self) -> None:
        self.request: float | None = None
        self.endpoint = ""


local_deadlines = _Deadlines()
_case: dict[str, float] = {}


@contextlib.contextmanager
def case_budget(seconds: float) -> Iterator[None]:
    """Within the block, all requests together (on every thread) end within `seconds`."""
    previous = dict(_case)
    _case.update(deadline=time.monotonic() + seconds, seconds=seconds)
    try:
        yield
    finally:
        _case.clear()
        _case.update(previous)


@contextlib.contextmanager
def request_deadline(seconds: float) -> Iterator[None]:
    """Within the block, requests on this thread end within `seconds` in total (an inner
    block never outlasts an outer one)."""
    previous = local_deadlines.request
    deadline = time.monotonic() + seconds
    local_deadlines.request = deadline if previous is None else min(previous, deadline)
    try:
        yield
    finally:
        local_deadlines.request = previous


def check_budget() -> None:
    """BudgetExceeded, naming the endpoint, once the current case's budget is spent."""
    case = _case.get("deadline")
    if case is not None and time.monotonic() >= case:
        raise BudgetExceeded(
            f"{local_deadlines.endpoint or 'the endpoint'}: the case's budget "
            f"of {_case['seconds']:g}s is spent (a slow or endless answer)"
        )


def remaining(timeout: float | None, error: type[Exception]) -> float | None:
    """The socket timeout for the next operation: the smallest of `timeout` and both deadlines."""
    check_budget()
    now = time.monotonic()
    case = _case.get("deadline")
    bounds = [b - now for b in (local_deadlines.request, case) if b is not None]
    if timeout is not None:
        bounds.append(timeout)
    if not bounds:
        return None
    left = min(bounds)
    if left <= 0:
        raise error("timed out: the request's total deadline passed")
    return left


def socket_timeout(timeout: float | None) -> float | None:
    """For raw sockets: `timeout` shortened to the deadlines; TimeoutError once one passed."""
    return remaining(timeout, TimeoutError)


def seconds_left() -> float | None:
    """Seconds left of the current case's budget (None outside a case)."""
    deadline = _case.get("deadline")
    return None if deadline is None else max(0.0, deadline - time.monotonic())


def request_deadline_passed() -> bool:
    """True once the deadline of the current `request_deadline` block (this thread) passed,
    or is less than 50 ms away (a socket's timeout may end a little early)."""
    deadline = local_deadlines.request
    return deadline is not None and time.monotonic() >= deadline - 0.05
