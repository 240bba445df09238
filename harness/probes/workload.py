"""Run a workload inside a fresh memory cgroup with the lane's limit and sample it.

Where a child cgroup can be made (root on cgroup v1, a delegated v2 subtree) the command
runs inside one whose limit is the envelope, exactly as in a runner pod: the kernel's
counters (usage, inactive file cache, anon, `oom_kill`) then judge it. Elsewhere it runs in
the current cgroup and only the process tree's RSS is known (mode `process-tree`).
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from harness.probes.cgroup import CgroupRef, ChildCgroup, child_parent, own_memory_cgroup
from harness.probes.sampler import ProcessPeak, Sample, Sampler
from harness.quantity import format_bytes

_JOIN = 'echo $$ > "$FLYWHEEL_HARNESS_CGROUP_PROCS" && exec "$@"'
"""The child joins its cgroup before exec, so nothing it starts is ever outside it."""


@dataclass
class WorkloadRun:
    """What one workload did, as the kernel and the sampler saw it. Bytes and seconds."""

    command: list[str]
    mode: str
    """`cgroup-v1` or `cgroup-v2` (judged by kernel counters) or `process-tree`."""
    limit: int | None
    exit_code: int | None
    wall_seconds: float
    timed_out: bool
    oom_kills: int
    peak_working_set: int
    peak_anon: int
    peak_rss_tree: int
    peak_usage: int | None
    """The kernel's peak usage, page cache included (v1 max_usage_in_bytes, v2 memory.peak)."""
    samples: list[Sample] = field(default_factory=list)
    top: list[ProcessPeak] = field(default_factory=list)
    sampler_cpu_seconds: float = 0.0
    note: str = ""

    @property
    def kernel_judged(self) -> bool:
        """True when the numbers come from a cgroup of the workload's own."""
        return self.mode.startswith("cgroup")


def run_workload(
    command: Sequence[str] | str,
    limit: int | None,
    *,
    interval: float = 0.1,
    timeout: float = 3600.0,
    cwd: Path | None = None,
    parent: CgroupRef | None = None,
    use_cgroup: bool = True,
) -> WorkloadRun:
    """Run `command` (argv, or a string for `sh -c`) under `limit` bytes and sample it.

    `parent` overrides where the child cgroup is made (tests); `use_cgroup=False` forces
    the process-tree mode.
    """
    argv = ["/bin/sh", "-c", command] if isinstance(command, str) else list(command)
    if not argv:
        raise ValueError("no command to run")
    reason = "child cgroups disabled"
    if use_cgroup:
        if parent is None:
            parent, reason = child_parent(own_memory_cgroup())
        if parent is not None:
            with ChildCgroup(parent, limit) as child:
                run = _run(argv, limit, interval, timeout, cwd=cwd, child=child)
                effective = child.effective_limit()
                if limit is not None and effective is not None and effective < limit:
                    run.note = (
                        f"the enclosing cgroup limits this run to {format_bytes(effective)}"
                        f", below the {format_bytes(limit)} asked for"
                    )
                return run
    run = _run(argv, limit, interval, timeout, cwd=cwd, child=None)
    run.note = f"measured the process tree only: {reason}"
    return run


def _run(
    argv: list[str],
    limit: int | None,
    interval: float,
    timeout: float,
    *,
    cwd: Path | None,
    child: ChildCgroup | None,
) -> WorkloadRun:
    env = dict(os.environ)
    full = argv
    if child is not None:
        env["FLYWHEEL_HARNESS_CGROUP_PROCS"] = str(child.procs_file)
        full = ["/bin/sh", "-c", _JOIN, "sh", *argv]
    started = time.monotonic()
    try:
        proc = subprocess.Popen(
            full, cwd=cwd, env=env, start_new_session=True, stdin=subprocess.DEVNULL
        )
    except OSError as exc:
        raise ValueError(f"cannot start {shlex.join(argv)}: {exc.strerror}") from None
    sampler = Sampler(
        proc.pid,
        interval=interval,
        cgroup_dir=child.directory if child else None,
        version=child.version if child else "v1",
    )
    sampler.start()
    timed_out = False
    try:
        try:
            exit_code: int | None = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            _kill_group(proc.pid)
            exit_code = proc.wait(timeout=30)
    except BaseException:
        _kill_group(proc.pid)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=30)
        raise
    finally:
        sampler.stop()
    wall = time.monotonic() - started
    if child is not None:
        child.kill_all()  # stragglers that left the session stay inside the cgroup
    reading = child.read() if child is not None else None
    samples = sampler.samples
    rss_peak = max((s.tree_rss for s in samples), default=0)
    if reading is not None:
        working = max((s.working_set or 0 for s in samples), default=0)
        anon = max((s.anon or 0 for s in samples), default=0)
        mode, oom, peak_usage = f"cgroup-{reading.version}", reading.oom_kills, reading.peak
        if oom and limit is not None:
            # The kernel OOM-kills only when nothing is left to reclaim: the working set
            # reached the limit, however briefly, even if no sample caught it there.
            working = max(working, min(peak_usage or limit, limit))
    else:
        working, anon, mode, oom, peak_usage = rss_peak, 0, "process-tree", 0, None
    return WorkloadRun(
        command=argv,
        mode=mode,
        limit=limit,
        exit_code=exit_code,
        wall_seconds=round(wall, 3),
        timed_out=timed_out,
        oom_kills=oom,
        peak_working_set=working,
        peak_anon=anon,
        peak_rss_tree=rss_peak,
        peak_usage=peak_usage,
        samples=samples,
        top=sampler.top(),
        sampler_cpu_seconds=round(sampler.cpu_seconds, 4),
    )


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
