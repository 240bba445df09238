"""Sample a workload's memory at a fixed interval: cgroup counters and the process tree.

The kernel's counters judge a workload; the process samples attribute its memory to
processes. Each tick reads `cgroup.procs` (or walks the tree when there is no cgroup of
its own), one `statm` per process for RSS and, every few ticks for the largest processes
only, `smaps_rollup` for USS and PSS, so the sampler stays well under 2% of a core.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from harness.probes.cgroup import Version, cgroup_pids, read_usage_fast


@dataclass(frozen=True)
class Sample:
    """One tick: seconds since start, cgroup counters (None without a cgroup), tree RSS."""

    t: float
    usage: int | None
    working_set: int | None
    anon: int | None
    tree_rss: int
    processes: int


@dataclass
class ProcessPeak:
    """The largest a single process got while it was sampled."""

    pid: int
    name: str
    cmdline: str
    rss: int = 0
    uss: int | None = None
    pss: int | None = None

    def to_json(self) -> dict[str, object]:
        """The process as a JSON object."""
        return {
            "pid": self.pid,
            "name": self.name,
            "cmdline": self.cmdline,
            "rss": self.rss,
            "uss": self.uss,
            "pss": self.pss,
        }


@dataclass
class Sampler:
    """Samples `root_pid` and its descendants (or everything in `cgroup_dir`) every `interval`.

    Use `start()`/`stop()` around the workload, or `tick()` directly.
    """

    root_pid: int
    interval: float = 0.1
    cgroup_dir: Path | None = None
    version: Version = "v1"
    full_every: int = 20
    """USS/PSS come from `smaps_rollup`, which costs the kernel a page-table walk (about
    10 ms for a 100Mi process): read it for the two largest processes at most every this
    many ticks, when the tree has grown 25% past its size at the last read, and every five
    times this many ticks regardless."""
    samples: list[Sample] = field(default_factory=list)
    peaks: dict[int, ProcessPeak] = field(default_factory=dict)
    cpu_seconds: float = 0.0
    """CPU time the sampler thread itself used: its overhead."""
    _procs: dict[int, psutil.Process] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _started: float = 0.0
    _ticks: int = 0
    _full_total: int = 0
    _full_tick: int = -(10**9)

    def start(self) -> None:
        """Start sampling in a background thread."""
        self._started = time.monotonic()
        self._thread = threading.Thread(target=self._run, name="memory-sampler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread and take one last sample (the cgroup outlives the workload)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.tick()

    def _run(self) -> None:
        cpu_start = time.thread_time()
        next_at = time.monotonic()
        while not self._stop.is_set():
            self.tick()
            next_at += self.interval
            delay = next_at - time.monotonic()
            if delay < 0:  # a slow tick: skip missed slots instead of bursting
                next_at = time.monotonic()
                delay = 0
            self._stop.wait(delay)
        self.cpu_seconds += time.thread_time() - cpu_start

    def _pids(self) -> list[int]:
        if self.cgroup_dir is not None:
            return cgroup_pids(self.cgroup_dir)
        tree = _descendants(self.root_pid)
        if tree is not None:
            return tree
        try:  # no /proc/PID/task/TID/children (CONFIG_PROC_CHILDREN): scan every process
            root = self._process(self.root_pid)
            if root is None:
                return []
            return [self.root_pid, *(c.pid for c in root.children(recursive=True))]
        except psutil.Error:
            return []

    def _process(self, pid: int) -> psutil.Process | None:
        proc = self._procs.get(pid)
        if proc is None:
            try:
                proc = psutil.Process(pid)
            except psutil.Error:
                return None
            self._procs[pid] = proc
        return proc

    def tick(self) -> Sample:
        """Take one sample now and record it."""
        if not self._started:
            self._started = time.monotonic()
        now = time.monotonic() - self._started
        usage = working_set = anon = None
        if self.cgroup_dir is not None:
            usage, inactive, anon = read_usage_fast(self.cgroup_dir, self.version)
            working_set = max(0, usage - inactive)
        pids = self._pids()
        total = 0
        sizes: list[tuple[int, int]] = []
        for pid in pids:
            proc = self._process(pid)
            if proc is None:
                continue
            try:
                rss = proc.memory_info().rss
            except psutil.Error:
                self._procs.pop(pid, None)
                continue
            total += rss
            sizes.append((rss, pid))
            peak = self.peaks.get(pid)
            if peak is None:
                peak = self.peaks[pid] = _describe(proc)
            peak.rss = max(peak.rss, rss)
        since = self._ticks - self._full_tick
        if since >= self.full_every * 5 or (
            since >= self.full_every and total > self._full_total * 1.25
        ):
            self._full_total = max(self._full_total, total)
            self._full_tick = self._ticks
            for _, pid in sorted(sizes, reverse=True)[:2]:
                self._read_full(pid)
        self._ticks += 1
        for gone in set(self._procs) - set(pids):
            del self._procs[gone]
        sample = Sample(round(now, 4), usage, working_set, anon, total, len(sizes))
        self.samples.append(sample)
        return sample

    def _read_full(self, pid: int) -> None:
        proc = self._procs.get(pid)
        peak = self.peaks.get(pid)
        if proc is None or peak is None:
            return
        fresh = _describe(proc)  # the process may have exec'd since it was first seen
        if fresh.cmdline:
            peak.name, peak.cmdline = fresh.name, fresh.cmdline
        with contextlib.suppress(psutil.Error, OSError):
            full = proc.memory_full_info()
            peak.uss = max(peak.uss or 0, int(full.uss))
            pss = getattr(full, "pss", None)
            if pss is not None:
                peak.pss = max(peak.pss or 0, int(pss))

    def top(self, count: int = 5) -> list[ProcessPeak]:
        """The processes with the largest peak RSS, largest first."""
        return sorted(self.peaks.values(), key=lambda p: (-p.rss, p.pid))[:count]


def _descendants(root: int) -> list[int] | None:
    """`root` and its descendants from the kernel's per-thread `children` lists (no scan of
    every process); None when the kernel does not provide them (no CONFIG_PROC_CHILDREN)."""
    if not _HAS_CHILDREN_LISTS:
        return None
    pids, todo = [], [root]
    while todo:
        pid = todo.pop()
        pids.append(pid)
        try:
            tasks = os.listdir(f"/proc/{pid}/task")  # noqa: PTH208 - hot path, no Path objects
        except OSError:  # gone since its parent listed it
            continue
        for tid in tasks:
            with (
                contextlib.suppress(OSError, ValueError),
                open(f"/proc/{pid}/task/{tid}/children", "rb") as handle,  # noqa: PTH123 - hot path
            ):
                todo.extend(int(c) for c in handle.read().split())
    return pids


_HAS_CHILDREN_LISTS = Path(f"/proc/self/task/{os.getpid()}/children").exists()


def _describe(proc: psutil.Process) -> ProcessPeak:
    name = cmdline = ""
    with contextlib.suppress(psutil.Error):
        name = proc.name()
    with contextlib.suppress(psutil.Error):
        cmdline = " ".join(proc.cmdline())
    if len(cmdline) > 120:
        cmdline = cmdline[:117] + "..."
    return ProcessPeak(proc.pid, name, cmdline)
