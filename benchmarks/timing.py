"""Timing helpers shared by the benchmarks: interleaved whole-process runs, linear fits.

The machine's load changes from second to second, so a benchmark never compares numbers
from two moments: the commands it compares run interleaved (A, B, A, B, ...) and their
medians are compared.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def zizmor_command(repo: Path) -> list[str] | None:
    """`zizmor --offline REPO` when zizmor is installed (the `bench` dependency group)."""
    beside = Path(sys.executable).parent / "zizmor"
    found = str(beside) if beside.exists() else shutil.which("zizmor")
    return [found, "--offline", "--no-progress", str(repo)] if found else None


def _env(pycache: Path) -> dict[str, str]:
    """Bytecode cached (in `pycache`) as for an installed package."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONPYCACHEPREFIX=str(pycache))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def _summary(times: Sequence[float], cpu: Sequence[float]) -> dict[str, float]:
    return {
        "median": round(statistics.median(times), 4),
        "min": round(min(times), 4),
        "max": round(max(times), 4),
        "cpu_median": round(statistics.median(cpu), 4),
        "runs": len(times),
    }


def time_commands(
    commands: Mapping[str, list[str]], runs: int, pycache: Path, cwd: Path, timeout: float = 300
) -> dict[str, dict[str, float]]:
    """Run each command `runs` times, interleaved, after one uncounted warm-up run each;
    wall and CPU time (user + system of the process and its children) per command."""
    env = _env(pycache)
    walls: dict[str, list[float]] = {name: [] for name in commands}
    cpus: dict[str, list[float]] = {name: [] for name in commands}
    for round_ in range(runs + 1):
        for name, command in commands.items():
            before = os.times()
            started = time.perf_counter()
            done = subprocess.run(
                command, cwd=cwd, env=env, capture_output=True, timeout=timeout, check=False
            )
            wall = time.perf_counter() - started
            after = os.times()
            if done.returncode not in (0, 1, 10, 11, 12, 13, 14):  # findings are not crashes
                raise RuntimeError(
                    f"{name} exited {done.returncode}: "
                    f"{done.stderr.decode(errors='replace')[-2000:]}"
                )
            if round_:
                walls[name].append(wall)
                cpus[name].append(
                    after.children_user
                    - before.children_user
                    + after.children_system
                    - before.children_system
                )
    return {name: _summary(walls[name], cpus[name]) for name in commands}


def fit(points: Mapping[int, float]) -> dict[str, float]:
    """Least-squares line through (items, seconds): `ms_per_item`, intercept, `r_squared`."""
    xs, ys = list(points), list(points.values())
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    sxx = sum((x - mean_x) ** 2 for x in xs) or 1e-12
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / sxx
    intercept = mean_y - slope * mean_x
    total = sum((y - mean_y) ** 2 for y in ys) or 1e-12
    residual = sum((y - intercept - slope * x) ** 2 for x, y in zip(xs, ys, strict=True))
    return {
        "ms_per_item": round(slope * 1000, 4),
        "intercept_s": round(intercept, 4),
        "r_squared": round(1 - residual / total, 4),
    }


def load() -> dict[str, Any]:
    """The machine's load when the benchmark finished (for reading its numbers)."""
    return {"load_average": [round(x, 2) for x in os.getloadavg()], "cpus": os.cpu_count()}
