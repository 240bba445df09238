"""The caches suite's wall time against its slowest case run alone.

`check --suite caches` runs its live cases side by side (loopback Attic caches built with
real Nix, loopback Bazel caches on a real nginx, outage builds). This benchmark times

    python -m harness check --repo DIR --suite caches --format json

then the case that took longest in that run, alone (a scenario directory holding only that
case), and compares: the suite may take at most 1.2 times its slowest case. The rounds are
interleaved (suite, slowest alone, suite, ...).

    python -m benchmarks live
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.timing import ROOT, load

TARGET_RATIO = 1.2
ROUNDS = 3
SUITE_FILE = ROOT / "scenarios" / "caches.scenario.yaml"


def _check(
    repo: Path, artifacts: Path, scenarios: Path | None = None
) -> tuple[float, dict[str, Any]]:
    command = [
        sys.executable,
        "-m",
        "harness",
        "check",
        "--repo",
        str(repo),
        "--suite",
        "caches",
        "--format",
        "json",
        "--artifacts-dir",
        str(artifacts),
    ]
    if scenarios is not None:
        command += ["--scenarios", str(scenarios)]
    started = time.perf_counter()
    done = subprocess.run(
        command,
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    wall = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise RuntimeError(f"check exited {done.returncode}: {done.stderr[-2000:]}")
    report: dict[str, Any] = json.loads(done.stdout)
    return wall, report


def _one_case_suite(directory: Path, case: str) -> Path:
    """A scenario directory whose caches suite holds only `case` (as the bundled one has it)."""
    import yaml

    data = yaml.safe_load(SUITE_FILE.read_text())
    data["cases"] = [c for c in data["cases"] if c["name"] == case]
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "caches.scenario.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    return directory


def main() -> dict[str, Any]:
    """Time the suite and its slowest case alone; judge the ratio."""
    with tempfile.TemporaryDirectory(prefix="harness-bench-live-") as tmp:
        repo = Path(tmp) / "repo"
        repo.mkdir()
        suite_times: list[float] = []
        alone_times: list[float] = []
        slowest = ""
        cases: dict[str, float] = {}
        skipped: list[str] = []
        for index in range(ROUNDS):
            wall, report = _check(repo, Path(tmp) / f"art-suite-{index}")
            suite_times.append(wall)
            cases = {r["case"]: r["duration"] for r in report["results"]}
            skipped = [r["case"] for r in report["results"] if r["status"] == "skipped"]
            if not slowest:
                slowest = max(cases, key=lambda name: cases[name])
            one = _one_case_suite(Path(tmp) / "one", slowest)
            alone, _ = _check(repo, Path(tmp) / f"art-alone-{index}", one)
            alone_times.append(alone)
    suite = statistics.median(suite_times)
    alone = statistics.median(alone_times)
    ratio = round(suite / alone, 3) if alone else None
    return {
        "benchmark": "live",
        "command": "python -m harness check --repo DIR --suite caches --format json",
        "target": f"caches suite wall <= {TARGET_RATIO} x its slowest case alone",
        "target_ratio": TARGET_RATIO,
        "suite_seconds": [round(t, 2) for t in suite_times],
        "slowest_case": slowest,
        "slowest_case_alone_seconds": [round(t, 2) for t in alone_times],
        "case_seconds_in_last_suite_run": {k: round(v, 2) for k, v in cases.items()},
        "skipped_cases": skipped,
        "ratio": ratio,
        **load(),
        "passed": ratio is not None and ratio <= TARGET_RATIO and not skipped,
    }


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
