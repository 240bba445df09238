"""Memory sampler overhead: CPU the sampler uses while a workload runs (target: under 2%).

The workload is a tree of four processes (the sample workload with three children) that
each hold 100Mi and keep a core busy for a few seconds, run the way `measure` runs it:
in a child cgroup when one can be made, else in process-tree mode. It runs once at the
default interval (contract `memory.sample_interval`, 0.1 s) with the sampler, and once
without, to show the workload's own slowdown next to the sampler's CPU share.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from typing import Any

from harness.probes.cgroup import child_parent, own_memory_cgroup
from harness.probes.workload import run_workload

TARGET = 0.02
INTERVAL = 0.1
SECONDS = 4.0
_BUSY = (
    "import sys, time\n"
    "block = bytearray(b'\\x01') * (100 << 20)\n"
    "end = time.monotonic() + float(sys.argv[1])\n"
    "while time.monotonic() < end:\n"
    "    sum(range(1000))\n"
)


def _tree_command() -> list[str]:
    child = f"{sys.executable} -c {_quote(_BUSY)} {SECONDS}"
    script = f"{child} & {child} & {child} & {child}; wait"
    return ["/bin/sh", "-c", script]


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\"'\"'") + "'"


def _unsampled() -> float:
    started = time.monotonic()
    subprocess.run(_tree_command(), check=True, timeout=120)
    return time.monotonic() - started


def main() -> dict[str, Any]:
    """Measure; return the result JSON (`passed` when the sampler stays under 2%)."""
    parent, reason = child_parent(own_memory_cgroup())
    modes = [("cgroup", True)] if parent is not None else []
    modes.append(("process-tree", False))
    runs: list[dict[str, Any]] = []
    for label, use_cgroup in modes:
        run = run_workload(
            _tree_command(), 2 << 30, interval=INTERVAL, timeout=120, use_cgroup=use_cgroup
        )
        fraction = run.sampler_cpu_seconds / run.wall_seconds if run.wall_seconds else 0.0
        runs.append(
            {
                "mode": run.mode,
                "label": label,
                "wall_seconds": run.wall_seconds,
                "samples": len(run.samples),
                "sampler_cpu_seconds": run.sampler_cpu_seconds,
                "sampler_cpu_fraction": round(fraction, 5),
                "peak_working_set_bytes": run.peak_working_set,
                "peak_rss_tree_bytes": run.peak_rss_tree,
            }
        )
    baseline = _unsampled()
    worst = max(float(r["sampler_cpu_fraction"]) for r in runs)
    return {
        "benchmark": "sampler",
        "description": "CPU share of the memory sampler thread on a 4-process workload",
        "interval_seconds": INTERVAL,
        "target_cpu_fraction": TARGET,
        "runs": runs,
        "unsampled_wall_seconds": round(baseline, 3),
        "sampled_wall_seconds": runs[0]["wall_seconds"],
        "worst_cpu_fraction": worst,
        "cgroup": "available" if parent is not None else f"unavailable: {reason}",
        "machine": {
            "python": platform.python_version(),
            "cpus": _cpus(),
            "kernel": platform.release(),
        },
        "passed": worst < TARGET,
    }


def _cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 0


if __name__ == "__main__":
    import json

    print(json.dumps(main(), indent=2))
