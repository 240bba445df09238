"""Real workloads in real memory cgroups: fit, OOM kill under exit 0, page cache, a tree.

These need a writable memory cgroup hierarchy (root on cgroup v1, or a delegated v2
subtree): they skip locally without one and fail in CI, where .ci/run runs as root.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from harness.checks.memory import judge
from harness.contract import BUNDLED_CONTRACT, load_contract
from harness.contract.model import Contract
from harness.probes.cgroup import CgroupRef, ChildCgroup, child_parent, own_memory_cgroup
from harness.probes.workload import run_workload
from tests.helpers.tools import require

WORKLOAD = Path(__file__).parent.parent / "harness" / "data" / "memory_workload.py"
MI = 1 << 20

pytestmark = pytest.mark.needs_cgroup


@pytest.fixture
def parent() -> CgroupRef:
    """Where this test may create child memory cgroups."""
    ref, reason = child_parent(own_memory_cgroup())
    require(ref is not None, f"cannot create memory cgroups here: {reason}")
    assert ref is not None
    return ref


@pytest.fixture(scope="module")
def contract() -> Contract:
    """The bundled honey contract."""
    return load_contract(BUNDLED_CONTRACT, "bundled:honey.yaml")


def _children(parent: CgroupRef) -> set[str]:
    """This worker's child cgroups (other xdist workers make their own)."""
    return {
        p.name
        for p in parent.directory.iterdir()
        if p.is_dir() and p.name.startswith(f"flywheel-harness-{os.getpid()}-")
    }


def _workload(*args: str) -> list[str]:
    return [sys.executable, str(WORKLOAD), *args]


def test_workload_that_fits(parent: CgroupRef, contract: Contract) -> None:
    assert _children(parent) == set()
    run = run_workload(
        _workload("--anon", "200Mi", "--hold", "0.6"), 512 * MI, parent=parent, interval=0.05
    )
    assert run.mode == f"cgroup-{parent.version}"
    assert run.exit_code == 0
    assert run.oom_kills == 0
    assert 190 * MI < run.peak_working_set < 320 * MI
    assert run.peak_anon >= 190 * MI
    verdict = judge(run, contract, None)
    assert not verdict.failed
    assert _children(parent) == set()  # the child cgroup is gone again


def test_oom_kill_under_exit_zero_fails_mem001(parent: CgroupRef, contract: Contract) -> None:
    script = f"{sys.executable} {WORKLOAD} --anon 400Mi; echo killed=$?; exit 0"
    run = run_workload(["/bin/sh", "-c", script], 128 * MI, parent=parent, interval=0.05)
    assert run.exit_code == 0  # the parent shell hides the kill...
    assert run.oom_kills >= 1  # ...the kernel's counter does not
    assert run.peak_working_set >= 120 * MI
    verdict = judge(run, contract, None)
    assert verdict.failed
    [finding] = [f for f in verdict.findings if f.rule == "MEM001"]
    assert "OOM-killed" in finding.message and "exited 0" in finding.message
    assert verdict.recommended >= 228 * MI
    assert verdict.fitting_lane == "tinyland-docker"


def test_page_cache_alone_is_not_a_failure(
    parent: CgroupRef, contract: Contract, tmp_path: Path
) -> None:
    run = run_workload(
        _workload("--page-cache", "400Mi", "--dir", str(tmp_path)),
        128 * MI,
        parent=parent,
        interval=0.05,
    )
    assert run.exit_code == 0
    assert run.oom_kills == 0
    assert run.peak_usage is not None and run.peak_usage >= 100 * MI  # cache hit the limit
    assert run.peak_working_set < 128 * MI
    assert not judge(run, contract, None, margin=0.0).failed


def test_process_tree_counts_the_cgroup_peak(parent: CgroupRef) -> None:
    run = run_workload(
        _workload("--anon", "120Mi", "--children", "3", "--hold", "1.0"),
        1024 * MI,
        parent=parent,
        interval=0.05,
    )
    assert run.exit_code == 0
    largest = max(p.rss for p in run.top)
    assert largest < 200 * MI
    assert run.peak_working_set > 3 * 120 * MI  # the cgroup total, not the largest process
    assert len({p.pid for p in run.top}) == 4
    assert any(p.uss is not None for p in run.top)


def test_tree_that_overruns_together_is_oom_killed(parent: CgroupRef, contract: Contract) -> None:
    # Each process alone (100Mi) fits 256Mi; the four of them do not.
    run = run_workload(
        _workload("--anon", "100Mi", "--children", "3", "--hold", "1.0"),
        256 * MI,
        parent=parent,
        interval=0.05,
    )
    assert run.oom_kills >= 1
    assert judge(run, contract, None).failed


def test_cleanup_on_error_and_interrupt(parent: CgroupRef) -> None:
    with pytest.raises(KeyboardInterrupt), ChildCgroup(parent, 64 * MI) as child:
        assert child.directory.is_dir()
        raise KeyboardInterrupt
    assert not child.directory.exists()
    with pytest.raises(RuntimeError), ChildCgroup(parent, 64 * MI) as child:
        import subprocess

        proc = subprocess.Popen(["sleep", "30"])
        child.add(proc.pid)
        assert proc.pid in child.pids()
        raise RuntimeError("boom")
    assert proc.wait(timeout=10) != 0  # killed by the cleanup
    assert not child.directory.exists()
    assert _children(parent) == set()


def test_timeout_kills_the_workload(parent: CgroupRef) -> None:
    run = run_workload(["sleep", "30"], 64 * MI, parent=parent, timeout=0.5)
    assert run.timed_out
    assert run.wall_seconds < 10


def test_process_tree_mode_without_a_cgroup(contract: Contract) -> None:
    run = run_workload(
        _workload("--anon", "150Mi", "--hold", "0.6"), 1024 * MI, use_cgroup=False, interval=0.05
    )
    assert run.mode == "process-tree"
    assert run.peak_rss_tree >= 140 * MI
    assert run.peak_working_set == run.peak_rss_tree
    assert "process tree only" in run.note
    assert not judge(run, contract, None).failed


def test_enclosing_envelope_tighter_than_the_lane(parent: CgroupRef, contract: Contract) -> None:
    # A 256Mi "pod" measuring for a 1Gi lane: the pod's envelope wins, and the report says so.
    with ChildCgroup(parent, 256 * MI) as pod:
        inner = CgroupRef(parent.version, parent.path, pod.directory)
        run = run_workload(_workload("--anon", "400Mi"), 1024 * MI, parent=inner, interval=0.05)
        assert [p.name for p in pod.directory.iterdir() if p.is_dir()] == []
    assert "limits this run to 256.0Mi" in run.note
    assert run.oom_kills >= 1
    assert judge(run, contract, None).failed
