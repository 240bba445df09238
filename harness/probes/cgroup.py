"""Memory cgroups: find the process's own, read v1 and v2 counters, make limited children.

A runner pod's memory envelope is its cgroup. `own_memory_cgroup()` finds it from
`/proc/self/cgroup`; `read_memory()` reads it on cgroup v1 (`memory.usage_in_bytes`,
`memory.max_usage_in_bytes`, `memory.limit_in_bytes`, `memory.oom_control`, `memory.stat`)
or v2 (`memory.current`, `memory.peak`, `memory.max`, `memory.events`, `memory.stat`).
`ChildCgroup` creates a fresh child with a limit (root on v1, a delegated subtree on v2)
and always removes it again, on errors and Ctrl-C too.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Literal

from harness.signals import pid_alive

Version = Literal["v1", "v2"]
V1_MOUNT = Path("/sys/fs/cgroup/memory")
V2_MOUNTS = (Path("/sys/fs/cgroup"), Path("/sys/fs/cgroup/unified"))
UNLIMITED_V1 = 1 << 62
"""v1 reports "no limit" as a page-aligned LONG_MAX; anything this large is unlimited."""


@dataclass(frozen=True)
class CgroupRef:
    """A memory cgroup: its version, hierarchy path (as in /proc) and directory."""

    version: Version
    path: str
    directory: Path


@dataclass(frozen=True)
class MemoryReading:
    """One read of a memory cgroup's counters, in bytes. `limit` None means unlimited."""

    version: Version
    usage: int
    peak: int | None
    limit: int | None
    oom_kills: int
    oom_events: int
    stat: dict[str, int] = field(default_factory=dict)

    @property
    def inactive_file(self) -> int:
        """Page cache the kernel would reclaim first (v1: total_inactive_file)."""
        key = "total_inactive_file" if self.version == "v1" else "inactive_file"
        return self.stat.get(key, self.stat.get("inactive_file", 0))

    @property
    def working_set(self) -> int:
        """Usage minus inactive file cache: what kubelet and cAdvisor call the working set."""
        return max(0, self.usage - self.inactive_file)

    @property
    def anon(self) -> int:
        """Anonymous memory (heap, stacks, tmpfs/shmem is not included)."""
        if self.version == "v1":
            return self.stat.get("total_rss", self.stat.get("rss", 0))
        return self.stat.get("anon", 0)


def parse_proc_cgroup(text: str) -> dict[str, str]:
    """Map controller name (and "" for the v2 unified line) to its cgroup path."""
    paths: dict[str, str] = {}
    for line in text.splitlines():
        parts = line.strip().split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, path = parts
        if controllers == "":
            paths[""] = path
        for controller in controllers.split(","):
            if controller:
                paths[controller] = path
    return paths


def own_memory_cgroup(
    proc_text: str | None = None,
    *,
    v1_mount: Path = V1_MOUNT,
    v2_mounts: tuple[Path, ...] = V2_MOUNTS,
) -> CgroupRef | None:
    """The memory cgroup this process is in, or None when no memory controller is mounted.

    In a container the path in /proc may not exist under the mount (cgroup namespaces
    make the container's own cgroup the root); the mount root is then the cgroup.
    """
    if proc_text is None:
        try:
            proc_text = Path("/proc/self/cgroup").read_text()
        except OSError:
            return None
    paths = parse_proc_cgroup(proc_text)
    if "memory" in paths and (v1_mount / "memory.stat").exists():
        return CgroupRef("v1", paths["memory"], _under(v1_mount, paths["memory"]))
    if "" in paths:
        for mount in v2_mounts:
            controllers = mount / "cgroup.controllers"
            if controllers.exists() and "memory" in controllers.read_text().split():
                return CgroupRef("v2", paths[""], _under(mount, paths[""]))
    return None


def _under(mount: Path, path: str) -> Path:
    candidate = mount / path.lstrip("/")
    return candidate if candidate.is_dir() else mount


def _read_int(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    if text == "max":
        return None
    try:
        return int(text)
    except ValueError:
        return None


def _read_keyed(path: Path) -> dict[str, int]:
    values: dict[str, int] = {}
    try:
        text = path.read_text()
    except OSError:
        return values
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        with contextlib.suppress(ValueError):
            values[key] = int(value.strip())
    return values


def read_memory(directory: Path, version: Version) -> MemoryReading:
    """Read a memory cgroup directory (a real one or a recorded file tree)."""
    stat = _read_keyed(directory / "memory.stat")
    if version == "v1":
        limit = _read_int(directory / "memory.limit_in_bytes")
        oom = _read_keyed(directory / "memory.oom_control")
        return MemoryReading(
            "v1",
            usage=_read_int(directory / "memory.usage_in_bytes") or 0,
            peak=_read_int(directory / "memory.max_usage_in_bytes"),
            limit=None if limit is None or limit >= UNLIMITED_V1 else limit,
            oom_kills=oom.get("oom_kill", 0),
            oom_events=oom.get("under_oom", 0),
            stat=stat,
        )
    events = _read_keyed(directory / "memory.events")
    return MemoryReading(
        "v2",
        usage=_read_int(directory / "memory.current") or 0,
        peak=_read_int(directory / "memory.peak"),
        limit=_read_int(directory / "memory.max"),
        oom_kills=events.get("oom_kill", 0),
        oom_events=events.get("oom", 0),
        stat=stat,
    )


def read_usage_fast(directory: Path, version: Version) -> tuple[int, int, int]:
    """(usage, inactive_file, anon) with as few reads as possible, for the sampler."""
    usage_file = "memory.usage_in_bytes" if version == "v1" else "memory.current"
    usage = _read_int(directory / usage_file) or 0
    inactive_key = b"total_inactive_file " if version == "v1" else b"inactive_file "
    anon_key = b"total_rss " if version == "v1" else b"anon "
    inactive = anon = 0
    try:
        data = (directory / "memory.stat").read_bytes()
    except OSError:
        return usage, 0, 0
    for line in data.splitlines():
        if line.startswith(inactive_key):
            inactive = int(line[len(inactive_key) :])
        elif line.startswith(anon_key):
            anon = int(line[len(anon_key) :])
    return usage, inactive, anon


def cgroup_pids(directory: Path) -> list[int]:
    """The processes in a cgroup (not its children)."""
    try:
        return [int(p) for p in (directory / "cgroup.procs").read_text().split()]
    except (OSError, ValueError):
        return []


def child_parent(own: CgroupRef | None = None) -> tuple[CgroupRef | None, str]:
    """Where a limited child cgroup can be made, or None and the reason it cannot.

    v1: the process's own memory cgroup when writable, else the hierarchy root.
    v2: a delegated subtree (the own cgroup or its parent) whose `cgroup.subtree_control`
    already enables `memory`; a cgroup with processes cannot enable it for its children.
    """
    own = own if own is not None else own_memory_cgroup()
    if own is None:
        return None, "no memory cgroup controller is mounted"
    if own.version == "v1":
        for candidate in (own.directory, V1_MOUNT):
            if os.access(candidate, os.W_OK) and (candidate / "memory.stat").exists():
                return CgroupRef("v1", own.path, candidate), ""
        return None, f"{own.directory} is not writable (run as root to measure in a child cgroup)"
    for candidate in (own.directory, own.directory.parent):
        control = candidate / "cgroup.subtree_control"
        try:
            enabled = control.read_text().split()
        except OSError:
            continue
        if "memory" in enabled and os.access(candidate, os.W_OK):
            return CgroupRef("v2", own.path, candidate), ""
    return None, (
        f"{own.directory}: no delegated cgroup v2 subtree with the memory controller enabled"
    )


class ChildCgroup:
    """A fresh memory cgroup with a limit; a context manager that always removes it.

    ```python
    with ChildCgroup(parent, limit=8 << 30) as child:
        child.add(pid)
        child.read()
    ```
    On exit every process still inside is killed and the directory is removed (retrying
    while the kernel finishes the kills), also after an exception or KeyboardInterrupt.
    """

    def __init__(
        self, parent: CgroupRef, limit: int | None, prefix: str = "flywheel-harness"
    ) -> None:
        self.parent = parent
        self.version: Version = parent.version
        self.limit = limit
        self.prefix = prefix
        self.directory = parent.directory / f"{prefix}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.removed = False

    def __enter__(self) -> ChildCgroup:
        self.create()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.destroy()

    def create(self) -> None:
        """Make the directory and set the limit (and no swap, like a Kubernetes pod).

        First, once per process and parent, the groups that harness processes killed
        with SIGKILL left behind are swept (`sweep_stale`).
        """
        if self.parent.directory not in _SWEPT:
            _SWEPT.add(self.parent.directory)
            sweep_stale(self.parent, self.prefix)
        self.directory.mkdir()
        try:
            if self.limit is not None:
                if self.version == "v1":
                    (self.directory / "memory.limit_in_bytes").write_text(str(self.limit))
                    with contextlib.suppress(OSError):
                        (self.directory / "memory.memsw.limit_in_bytes").write_text(str(self.limit))
                else:
                    (self.directory / "memory.max").write_text(str(self.limit))
                    with contextlib.suppress(OSError):
                        (self.directory / "memory.swap.max").write_text("0")
        except BaseException:
            self.destroy()
            raise

    @property
    def procs_file(self) -> Path:
        """The file a process writes its pid to in order to join."""
        return self.directory / "cgroup.procs"

    def add(self, pid: int) -> None:
        """Move a process into the cgroup."""
        self.procs_file.write_text(str(pid))

    def read(self) -> MemoryReading:
        """The cgroup's counters now."""
        return read_memory(self.directory, self.version)

    def effective_limit(self) -> int | None:
        """The smallest limit on the way up: an enclosing pod's envelope can be tighter."""
        if self.version == "v1":
            value = _read_keyed(self.directory / "memory.stat").get("hierarchical_memory_limit")
            return None if value is None or value >= UNLIMITED_V1 else value
        limits = []
        directory = self.directory
        while (directory / "memory.max").exists():
            value = _read_int(directory / "memory.max")
            if value is not None:
                limits.append(value)
            directory = directory.parent
        return min(limits, default=None)

    def pids(self) -> list[int]:
        """Processes inside the cgroup now."""
        return cgroup_pids(self.directory)

    def kill_all(self) -> None:
        """SIGKILL every process in the cgroup (v2: `cgroup.kill` when available)."""
        kill_file = self.directory / "cgroup.kill"
        if self.version == "v2" and kill_file.exists():
            with contextlib.suppress(OSError):
                kill_file.write_text("1")
        for pid in self.pids():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)

    def destroy(self, timeout: float = 10.0) -> None:
        """Kill what is left inside and remove the directory; idempotent."""
        if self.removed or not self.directory.exists():
            self.removed = True
            return
        deadline = time.monotonic() + timeout
        while True:
            self.kill_all()
            try:
                self.directory.rmdir()
                self.removed = True
                return
            except FileNotFoundError:
                self.removed = True
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)


_SWEPT: set[Path] = set()


def sweep_stale(parent: CgroupRef, prefix: str = "flywheel-harness") -> list[Path]:
    """Remove `<prefix>-<pid>-*` groups under `parent` whose harness process is gone.

    A `measure` or `check` killed with SIGKILL cannot remove its cgroup, and its workload
    keeps running inside: what is left is killed, then the group removed. Groups of live
    processes are left alone. Returns the groups removed.
    """
    removed = []
    with contextlib.suppress(OSError):
        for directory in sorted(parent.directory.glob(f"{prefix}-*-*")):
            pid = directory.name[len(prefix) + 1 :].split("-", 1)[0]
            if not pid.isdigit() or int(pid) == os.getpid() or pid_alive(int(pid)):
                continue
            stale = ChildCgroup(parent, None, prefix)
            stale.directory = directory
            with contextlib.suppress(OSError):
                stale.destroy()
                removed.append(directory)
    return removed
