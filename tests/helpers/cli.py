"""The CLI in a fresh process, as a user runs it: `python -m harness ARGS`."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

from tests.helpers.paths import ROOT


def run_harness(
    *args: str,
    cwd: Path | str | None = None,
    env: Mapping[str, str] | None = None,
    drop: Iterable[str] = (),
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """Run `python -m harness ARGS` with this checkout first on PYTHONPATH; `env` adds to the
    environment and `drop` removes variables from it. Never raises for a non-zero exit."""
    environ = {**os.environ, **(env or {}), "PYTHONPATH": str(ROOT)}
    for name in drop:
        environ.pop(name, None)
    return subprocess.run(
        [sys.executable, "-m", "harness", *args],
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def python_output(program: str, timeout: float = 120) -> str:
    """What `python -c PROGRAM` prints, in a fresh process (it must exit 0)."""
    return subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True, timeout=timeout
    ).stdout
