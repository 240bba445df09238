"""Cgroup readers on recorded v1 and v2 file trees, and /proc/self/cgroup parsing."""

from __future__ import annotations

from pathlib import Path

from harness.probes.cgroup import (
    CgroupRef,
    child_parent,
    own_memory_cgroup,
    parse_proc_cgroup,
    read_memory,
    read_usage_fast,
)
from tests.helpers.paths import FIXTURES

V1_PROC = """9:name=systemd:/
8:pids:/
4:memory:/process_api/cd9ce1dcdb579cf8467414b220697f4c
2:cpuacct,cpu:/
0::/
"""


def test_parse_proc_cgroup_v1_and_unified() -> None:
    paths = parse_proc_cgroup(V1_PROC)
    assert paths["memory"] == "/process_api/cd9ce1dcdb579cf8467414b220697f4c"
    assert paths["cpu"] == paths["cpuacct"] == "/"
    assert paths[""] == "/"


def test_v2_reader_on_recorded_pod_cgroup() -> None:
    reading = read_memory(FIXTURES / "cgroup_v2" / "kubepods-burstable-pod1", "v2")
    assert reading.version == "v2"
    assert reading.usage == 6871375872
    assert reading.limit == 8 << 30
    assert reading.peak == 8 << 30
    assert reading.oom_kills == 2
    assert reading.oom_events == 3
    assert reading.inactive_file == 1 << 30
    assert reading.working_set == 6871375872 - (1 << 30)
    assert reading.anon == 5 << 30


def test_v2_unlimited_reads_as_unlimited() -> None:
    reading = read_memory(FIXTURES / "cgroup_v2" / "unlimited", "v2")
    assert reading.limit is None
    assert reading.oom_kills == 0


def test_v1_reader_on_recorded_cgroup() -> None:
    directory = FIXTURES / "cgroup_v1" / "kubepods-pod2"
    reading = read_memory(directory, "v1")
    stat = dict(line.split() for line in (directory / "memory.stat").read_text().splitlines())
    assert reading.limit == 2 << 30
    assert reading.oom_kills == 1
    assert reading.inactive_file == int(stat["total_inactive_file"])
    assert reading.anon == int(stat["total_rss"])
    assert reading.working_set == reading.usage - int(stat["total_inactive_file"])
    usage, inactive, anon = read_usage_fast(directory, "v1")
    assert (usage, inactive, anon) == (reading.usage, reading.inactive_file, reading.anon)


def test_v1_unlimited_limit_is_none(tmp_path: Path) -> None:
    (tmp_path / "memory.limit_in_bytes").write_text("9223372036854771712\n")
    (tmp_path / "memory.usage_in_bytes").write_text("4096\n")
    assert read_memory(tmp_path, "v1").limit is None


def test_own_cgroup_from_recorded_v2_mount() -> None:
    mount = FIXTURES / "cgroup_v2"
    ref = own_memory_cgroup(
        "0::/kubepods-burstable-pod1\n", v1_mount=Path("/nonexistent"), v2_mounts=(mount,)
    )
    assert ref == CgroupRef("v2", "/kubepods-burstable-pod1", mount / "kubepods-burstable-pod1")


def test_own_cgroup_in_a_namespace_falls_back_to_the_mount_root() -> None:
    mount = FIXTURES / "cgroup_v2"
    ref = own_memory_cgroup(
        "0::/some/host/path\n", v1_mount=Path("/nonexistent"), v2_mounts=(mount,)
    )
    assert ref is not None and ref.directory == mount


def test_no_memory_controller() -> None:
    assert (
        own_memory_cgroup(
            "0::/\n", v1_mount=Path("/nonexistent"), v2_mounts=(Path("/nonexistent"),)
        )
        is None
    )


def test_v2_without_delegation_cannot_make_children() -> None:
    ref = CgroupRef(
        "v2", "/kubepods-burstable-pod1", FIXTURES / "cgroup_v2" / "kubepods-burstable-pod1"
    )
    parent, reason = child_parent(ref)
    assert parent is None
    assert "delegated" in reason
