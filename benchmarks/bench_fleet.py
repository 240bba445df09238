"""Whole-process speed of `flywheel-harness fleet` on generated repositories.

Repositories of 10 workflow files each (the `check` benchmark's generator, one seed per
repository) are listed in a repo list, half of them enrolled in two tranches, and the whole
process

    python -m harness fleet --repo-list FILE --contract C --format json --jobs 2

is timed (median) at 50, 100 and 200 repositories. Target: under 5 s for 200 on 2 cores,
growing linearly with the repositories. The baseline is what a fleet costs without `fleet`:
one `check` process per repository with the same suites, timed on a sample and multiplied
out to 200 (run one after another, and two at a time on 2 cores).

    python -m benchmarks fleet
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.bench_check import write_corpus
from benchmarks.timing import ROOT, fit

TARGET_SECONDS = 5.0
SIZES = (50, 100, 200)
WORKFLOWS = 10
RUNS = 3
SAMPLE = 10
SUITES = ("workflows", "placement", "bootstrap", "publication")
ORG = "bench-org"


def write_fleet(root: Path, count: int) -> tuple[Path, Path]:
    """`count` repositories under `root`, a repo list naming them and a contract."""
    lines = []
    for index in range(count):
        repo = write_corpus(root / f"r{index:03d}", WORKFLOWS, seed=index)
        lines.append(f"{ORG}/r{index:03d}={repo}")
    listing = root / "repos.txt"
    listing.write_text("\n".join(lines) + "\n", encoding="utf-8")
    from harness.contract import BUNDLED_CONTRACT

    half = [f"{ORG}/r{index:03d}" for index in range(0, count, 2)]
    contract = root / "contract.yaml"
    contract.write_text(
        BUNDLED_CONTRACT.read_text(encoding="utf-8")
        + (
            "\nenrollment:\n  tranches:\n"
            f"    tranche-1: [{', '.join(half[: len(half) // 2])}]\n"
            f"    tranche-2: [{', '.join(half[len(half) // 2 :])}]\n"
        ),
        encoding="utf-8",
    )
    return listing, contract


def _env(pycache: Path) -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONPYCACHEPREFIX=str(pycache))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def _time(args: list[str], env: dict[str, str], runs: int) -> dict[str, float]:
    """Median, min and max wall time, and median CPU time (the process and its workers)."""
    times = []
    cpu = []
    for _ in range(runs + 1):  # the first run warms the caches and is not counted
        before = os.times()
        started = time.perf_counter()
        done = subprocess.run(args, env=env, capture_output=True, timeout=600, check=False)
        times.append(time.perf_counter() - started)
        after = os.times()
        cpu.append(
            after.children_user
            - before.children_user
            + after.children_system
            - before.children_system
        )
        if done.returncode not in (0, 1):
            raise RuntimeError(
                f"{args[3]} exited {done.returncode}: {done.stderr.decode()[-2000:]}"
            )
    counted = times[1:]
    return {
        "median": round(statistics.median(counted), 4),
        "min": round(min(counted), 4),
        "max": round(max(counted), 4),
        "cpu_median": round(statistics.median(cpu[1:]), 4),
    }


def main() -> dict[str, Any]:
    """Run the benchmark and return its JSON result."""
    fleet: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="harness-bench-fleet-") as tmp:
        pycache = Path(tmp) / "pycache"
        env = _env(pycache)
        for size in SIZES:
            listing, contract = write_fleet(Path(tmp) / f"fleet{size}", size)
            fleet[str(size)] = _time(
                [
                    sys.executable,
                    "-m",
                    "harness",
                    "fleet",
                    "--repo-list",
                    str(listing),
                    "--contract",
                    str(contract),
                    "--format",
                    "json",
                    "--output",
                    str(Path(tmp) / "out.json"),
                    "--jobs",
                    "2",
                ],
                env,
                RUNS,
            )
        largest = Path(tmp) / f"fleet{SIZES[-1]}"
        checks = []
        for index in range(SAMPLE):
            args = [
                sys.executable,
                "-m",
                "harness",
                "check",
                "--repo",
                str(largest / f"r{index * (SIZES[-1] // SAMPLE):03d}"),
                "--contract",
                str(largest / "contract.yaml"),
                "--format",
                "json",
            ]
            for suite in SUITES:
                args += ["--suite", suite]
            checks.append(_time(args, env, 1))
    per_check = statistics.median(c["median"] for c in checks)
    per_check_cpu = statistics.median(c["cpu_median"] for c in checks)
    whole = fleet[str(SIZES[-1])]["median"]
    serial = per_check * SIZES[-1]
    return {
        "benchmark": "fleet",
        "command": "python -m harness fleet --repo-list FILE --contract C --format json --jobs 2",
        "workflows_per_repo": WORKFLOWS,
        "runs_per_size": RUNS,
        "target_seconds": TARGET_SECONDS,
        "seconds": fleet,
        "growth": {
            k.replace("item", "repo"): v
            for k, v in fit({size: fleet[str(size)]["median"] for size in SIZES}).items()
        },
        "cpu_growth": {
            k.replace("item", "repo"): v
            for k, v in fit({size: fleet[str(size)]["cpu_median"] for size in SIZES}).items()
        },
        "baseline": {
            "what": f"one `check` process per repository (suites {', '.join(SUITES)}), "
            f"median of {SAMPLE} sampled repositories, times {SIZES[-1]}",
            "check_seconds_median": round(per_check, 4),
            "check_cpu_seconds_median": round(per_check_cpu, 4),
            "ratio_fleet_cpu_to_serial_cpu": round(
                fleet[str(SIZES[-1])]["cpu_median"] / (per_check_cpu * SIZES[-1]), 4
            ),
            "serial_seconds": round(serial, 2),
            "two_at_a_time_seconds": round(serial / 2, 2),
            "ratio_fleet_to_serial": round(whole / serial, 4),
            "ratio_fleet_to_two_at_a_time": round(whole / (serial / 2), 4),
        },
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "cpus": os.cpu_count(),
        "passed": whole < TARGET_SECONDS,
    }


if __name__ == "__main__":
    import json

    print(json.dumps(main(), indent=2))
