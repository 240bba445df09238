"""Running the cases of a run: static cases one after another, live cases side by side.

A *static* case (its case or suite carries the `static` mark) reads the repository and
nothing else. Every other case is *live*: it talks to a cache, builds with Nix or Bazel, or
measures memory, and spends most of its time waiting on a subprocess or a socket. Live cases
are independent (each makes its own scratch directory under the artifacts directory and
takes its own free ports), so they run concurrently on threads while the static cases run
on the calling thread. Results come back in the suites' order, whatever order they finish
in; `on_result` hears of each one as it finishes.

A live case marked `long` is the run's critical path (the caches suite's Bazel outage
builds): long cases start first, at the process's priority, and every other live case runs
on a thread that lowered its own priority (`nice` +10, inherited by the Nix, Bazel and
nginx processes it starts). The short cases then fill the time the long one spends waiting
instead of slowing it down. Without a `long` case nothing is reprioritised.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import os
import threading
from collections.abc import Callable, Iterable

from harness.checks.api import CheckContext
from harness.results import CaseResult
from harness.scenario import Case, Suite

STATIC_MARK = "static"
LONG_MARK = "long"
YIELDING_NICENESS = 10
"""How much a live case beside a `long` one lowers its priority."""
MAX_LIVE_WORKERS = 8
"""Live cases running at once, at most, however many CPUs there are."""


def live_workers_for(cpus: int | None = None) -> int:
    """How many live cases run at once: one more than the CPUs this process may use (`cpus`,
    else found), at most `MAX_LIVE_WORKERS`. A live case waits on its subprocesses, but
    they work: Nix, Bazel's JVMs, nginx. On 2 CPUs the caches suite took 1.08 to 1.21 times
    its slowest case with eight at once (each case slowed the others), 1.05 to 1.10 with
    three."""
    if cpus is None:
        from harness.cpus import usable_cpus

        cpus = usable_cpus()
    return max(2, min(MAX_LIVE_WORKERS, cpus + 1))


def is_static(suite: Suite, case: Case) -> bool:
    """True when the case reads the repository only: no network, tools or cgroups."""
    return STATIC_MARK in case.marks or STATIC_MARK in suite.marks


def is_long(suite: Suite, case: Case) -> bool:
    """True when the case is marked as the run's critical path (see the module's text)."""
    return LONG_MARK in case.marks or LONG_MARK in suite.marks


def yield_priority() -> None:
    """Lower this thread's scheduling priority, and so that of the processes it starts
    (Linux keeps a nice value per thread); nothing where that cannot be done."""
    if not hasattr(os, "setpriority"):  # not a Unix
        return
    with contextlib.suppress(OSError):
        tid = threading.get_native_id()
        current = os.getpriority(os.PRIO_PROCESS, tid)
        os.setpriority(os.PRIO_PROCESS, tid, max(current, YIELDING_NICENESS))


def static_only(suites: Iterable[Suite]) -> list[Suite]:
    """The suites with their static cases only (`check --static`); suites left empty go."""
    kept = []
    for suite in suites:
        cases = tuple(case for case in suite.cases if is_static(suite, case))
        if cases:
            kept.append(dataclasses.replace(suite, cases=cases))  # keeps the file's sha256
    return kept


def run_suites(
    ctx: CheckContext,
    suites: Iterable[Suite],
    on_result: Callable[[CaseResult], None] | None = None,
    live_workers: int | None = None,
) -> list[CaseResult]:
    """Run every case of every suite; results in the suites' order.

    Live cases run on up to `live_workers` threads (default `live_workers_for()`; 1: one
    after another, as the static cases always do). `on_result` is called once per case as
    it finishes, never from two threads at once.
    """
    from harness.engine import run_case

    order = [(suite, case) for suite in suites for case in suite.cases]
    ctx.demands.plan(case.check for _, case in order)
    lock = threading.Lock()

    def run(suite: Suite, case: Case) -> CaseResult:
        result = run_case(ctx, suite, case)
        if on_result is not None:
            with lock:
                on_result(result)
        return result

    live = [index for index, (suite, case) in enumerate(order) if not is_static(suite, case)]
    live.sort(key=lambda index: not is_long(*order[index]))  # the critical path first
    if live_workers is None:
        live_workers = live_workers_for()
    if live_workers <= 1 or len(live) <= 1:
        return [run(suite, case) for suite, case in order]
    yielding = any(is_long(*order[index]) for index in live)  # the rest yield to it
    return _side_by_side(order, live, run, min(live_workers, len(live)), yielding=yielding)


def _side_by_side(
    order: list[tuple[Suite, Case]],
    live: list[int],
    run: Callable[[Suite, Case], CaseResult],
    workers: int,
    *,
    yielding: bool = False,
) -> list[CaseResult]:
    """Live cases (indexes into `order`, in the order they start) on `workers` threads, the
    static ones on this one; results in order. With `yielding`, a thread lowers its priority
    before its first case that is not `long`. An exception a case raised is raised here, the
    first in order; once this thread is interrupted, no further live case starts."""
    results: dict[int, CaseResult] = {}
    raised: dict[int, BaseException] = {}
    pending = collections.deque(live)
    take = threading.Lock()
    stop = threading.Event()

    def work() -> None:
        while not stop.is_set():
            with take:
                if not pending:
                    return
                index = pending.popleft()
            if yielding and not is_long(*order[index]):
                yield_priority()
            try:
                results[index] = run(*order[index])
            except BaseException as exc:  # handed to the calling thread, as a future would
                raised[index] = exc

    threads = [
        threading.Thread(target=work, name=f"live-case_{number}") for number in range(workers)
    ]
    for thread in threads:
        thread.start()
    try:
        for index, (suite, case) in enumerate(order):
            if is_static(suite, case):
                results[index] = run(suite, case)
        for thread in threads:
            thread.join()
    except BaseException:  # interrupted: start no further case
        stop.set()
        raise
    for index in sorted(raised):
        raise raised[index]
    return [results[index] for index in range(len(order))]
