"""Cleanup after signals: no workload, cgroup or secret outlives a cancelled harness.

SIGTERM (a CI cancel or timeout) during `check`'s memory suite, or during the pytest
plugin's memory case, kills the workload and removes its cgroup. A harness killed with
SIGKILL cannot clean up: the next one sweeps `flywheel-harness-<pid>-*` groups whose
process is gone, killing what still runs inside. Real memory cgroups (cgroup v1 at
/sys/fs/cgroup/memory as root, or a delegated v2 subtree).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from harness.probes.cgroup import CgroupRef, cgroup_pids, child_parent, own_memory_cgroup
from harness.signals import pid_alive
from tests.helpers.paths import ROOT
from tests.helpers.tools import require

pytestmark = pytest.mark.needs_cgroup
MARKER = "flywheel-harness-cleanup-workload"
SCENARIO = {
    "suite": "memory",
    "cases": [
        {
            "name": "held",
            "check": "memory.workload",
            "params": {
                "limit": "512Mi",
                "timeout": 300,
                "command": ["{python}", "-c", "import time, sys; time.sleep(300)", MARKER],
            },
        }
    ],
}


@pytest.fixture
def parent() -> CgroupRef:
    """Where child memory cgroups are made."""
    ref, reason = child_parent(own_memory_cgroup())
    require(ref is not None, f"cannot create memory cgroups here: {reason}")
    assert ref is not None
    return ref


def _groups_of(parent: CgroupRef, pid: int) -> list[Path]:
    return sorted(parent.directory.glob(f"flywheel-harness-{pid}-*"))


def _wait(
    what: str,
    found: Callable[[], list[int] | list[Path]],
    proc: subprocess.Popen[str] | None = None,
    limit: float = 120.0,
) -> None:
    """Poll until `found()` is non-empty (the harness must still run meanwhile)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if found():
            return
        if proc is not None and proc.poll() is not None:
            pytest.fail(f"the harness ended before {what}: {proc.communicate()}")
        time.sleep(0.05)
    pytest.fail(f"{what} never happened")


def _start(argv: list[str], cwd: Path, pipes: bool = True) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.PIPE if pipes else subprocess.DEVNULL
    return subprocess.Popen(argv, cwd=cwd, env=env, stdout=out, stderr=out, text=True)


def _held_workload(parent: CgroupRef, proc: subprocess.Popen[str]) -> tuple[Path, list[int]]:
    """The harness's cgroup once the workload runs inside it, and the pids inside."""
    _wait(
        "the workload joined its cgroup",
        lambda: [p for g in _groups_of(parent, proc.pid) for p in cgroup_pids(g)],
        proc,
    )
    [group] = _groups_of(parent, proc.pid)
    return group, cgroup_pids(group)


def _scenarios(tmp_path: Path) -> Path:
    directory = tmp_path / "scenarios"
    directory.mkdir()
    (directory / "memory.scenario.yaml").write_text(json.dumps(SCENARIO))
    return directory


def _assert_gone(group: Path, pids: list[int]) -> None:
    assert not group.exists(), f"{group} outlived the harness"
    for pid in pids:
        _wait(f"workload {pid} ended", _ended(pid))


def _ended(pid: int) -> Callable[[], list[int]]:
    """A probe for `_wait`: non-empty once process `pid` is gone."""
    return lambda: [] if pid_alive(pid) else [pid]


def test_sigterm_during_check_kills_the_workload_and_removes_the_cgroup(
    parent: CgroupRef, tmp_path: Path
) -> None:
    proc = _start(
        [
            sys.executable,
            "-m",
            "harness",
            "check",
            "--repo",
            str(tmp_path),
            "--scenarios",
            str(_scenarios(tmp_path)),
            "--format",
            "json",
        ],
        tmp_path,
    )
    try:
        group, pids = _held_workload(parent, proc)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 143, err
    assert "terminated" in err
    _assert_gone(group, pids)


def test_sigterm_during_pytest_plugin_case_cleans_up(parent: CgroupRef, tmp_path: Path) -> None:
    scenarios = _scenarios(tmp_path)
    proc = _start(
        [
            sys.executable,
            "-m",
            "pytest",
            str(scenarios),
            "--harness-repo",
            str(tmp_path),
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:randomly",
            "--rootdir",
            str(tmp_path),
        ],
        tmp_path,
    )
    try:
        group, pids = _held_workload(parent, proc)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == pytest.ExitCode.INTERRUPTED, out + err
    _assert_gone(group, pids)


def test_groups_left_by_sigkill_are_swept_by_the_next_run(
    parent: CgroupRef, tmp_path: Path
) -> None:
    killed = _start(
        [
            sys.executable,
            "-m",
            "harness",
            "measure",
            "--limit",
            "512Mi",
            "--",
            sys.executable,
            "-c",
            "import time; time.sleep(300)",
            MARKER,
        ],
        tmp_path,
        pipes=False,
    )  # the orphaned workload would hold pipes open
    try:
        group, pids = _held_workload(parent, killed)
        killed.kill()  # SIGKILL: no handler runs, the group and the workload stay
        killed.wait(timeout=60)
    finally:
        if killed.poll() is None:
            killed.kill()
    try:
        assert group.exists()
        assert all(pid_alive(p) for p in pids)
        nxt = _start(
            [sys.executable, "-m", "harness", "measure", "--limit", "512Mi", "--", "true"], tmp_path
        )
        out, err = nxt.communicate(timeout=120)
        assert nxt.returncode == 0, out + err
        _assert_gone(group, pids)
    finally:
        for pid in pids:  # a failed sweep must not leave the workload behind
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
