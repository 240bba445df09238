"""Running real Bazel: bounded in time, in batch mode (no server left behind), with its own
output root, and measuring cold -> warm builds against a remote cache.

Every build runs `bazel --batch --output_user_root=ROOT build ...` with `HOME` pointed at a
scratch directory and convenience symlinks off, so the workspace is not written to.
`Bazel.beside` gives a second Bazel with its own output base under the same root (and so
the same install base): two of them build one workspace at the same time without waiting
for each other's output-base lock.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import HarnessEnvironmentError
from harness.probes.bazel_log import (
    HitStats,
    Spawn,
    Summary,
    hit_stats,
    parse_elapsed,
    parse_execution_log,
    parse_summary,
)

QUIET_FLAGS = (
    "--color=no",
    "--curses=no",
    "--noshow_progress",
    "--symlink_prefix=/",
    "--show_result=0",
)
SILO_PROPERTY = "cache-silo-key"
SHORT_BUILD_JVM = (
    "--host_jvm_args=-XX:TieredStopAtLevel=1",
    "--host_jvm_args=-XX:+UseSerialGC",
)
"""Startup flags for builds of a few seconds (the bundled sample workspace): the JVM's
quick compiler only and one GC thread, about half the CPU of Bazel's defaults there."""
_USERINFO = re.compile(r"//[^/@\s]+@")
_OUTPUT_BASE_NAME = re.compile(r"[0-9a-f]{32}")
"""A default output base: the MD5 of the workspace path, under the output root."""
STRICT_ENV_FLAG = "--incompatible_strict_action_env"


class BazelError(HarnessEnvironmentError):
    """Bazel is missing, or a build that had to succeed did not."""


def bazel_binary() -> str | None:
    """Path of the bazel (or bazelisk) executable, if installed."""
    return shutil.which("bazel") or shutil.which("bazelisk")


@dataclass
class BazelRun:
    """One finished (or killed) Bazel invocation."""

    args: list[str]
    returncode: int
    output: str
    seconds: float
    timed_out: bool = False
    spawns: list[Spawn] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when Bazel exited 0 within its time."""
        return self.returncode == 0 and not self.timed_out

    @property
    def summary(self) -> Summary | None:
        """The `N processes` line, if Bazel printed one."""
        return parse_summary(self.output)

    @property
    def critical_path(self) -> float | None:
        """Bazel's reported critical-path seconds."""
        return parse_elapsed(self.output)[1]

    def tail(self, lines: int = 5) -> str:
        """The last meaningful lines of Bazel's output (sandbox debug noise dropped)."""
        kept = [
            ln
            for ln in self.output.splitlines()
            if ln.strip() and "linux-sandbox" not in ln.split(" ", 1)[-1][:40]
        ]
        return _USERINFO.sub("//", "\n".join(kept[-lines:]))


@dataclass
class Bazel:
    """A Bazel binary with a private output root and HOME (and, when set, its own output
    base under that root)."""

    output_user_root: Path
    binary: str = ""
    home: Path | None = None
    env: dict[str, str] = field(default_factory=dict)
    output_base: Path | None = None
    startup_flags: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.binary:
            found = bazel_binary()
            if found is None:
                raise BazelError("bazel is not installed (apt-get install bazel-bootstrap)")
            self.binary = found
        self.output_user_root.mkdir(parents=True, exist_ok=True)
        if self.home is None:
            self.home = self.output_user_root / "home"
        self.home.mkdir(parents=True, exist_ok=True)

    def run(
        self,
        workspace: Path,
        args: Sequence[str],
        *,
        timeout: float,
        env: Mapping[str, str] | None = None,
    ) -> BazelRun:
        """Run `bazel ARGS` in `workspace`; the whole process group is killed at `timeout`."""
        startup = [f"--output_user_root={self.output_user_root}"]
        if self.output_base is not None:
            startup.append(f"--output_base={self.output_base}")
        startup += self.startup_flags
        argv = [self.binary, "--batch", *startup, *args]
        environ = {**os.environ, **self.env, **(env or {}), "HOME": str(self.home)}
        started = time.perf_counter()
        proc = subprocess.Popen(
            argv,
            cwd=workspace,
            env=environ,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        timed_out = False
        try:
            out, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            try:
                out, _ = proc.communicate(timeout=30)
            except subprocess.TimeoutExpired:  # a child left the group and holds the pipe
                proc.kill()
                out = b""
        return BazelRun(
            argv,
            proc.returncode,
            out.decode("utf-8", errors="replace"),
            time.perf_counter() - started,
            timed_out,
        )

    def build(
        self,
        workspace: Path,
        targets: Sequence[str],
        flags: Sequence[str],
        *,
        log: Path,
        timeout: float,
        env: Mapping[str, str] | None = None,
    ) -> BazelRun:
        """`bazel build` with a JSON execution log; the log's spawns are parsed into the run."""
        log.unlink(missing_ok=True)
        args = ["build", *QUIET_FLAGS, f"--execution_log_json_file={log}", *flags, "--", *targets]
        run = self.run(workspace, args, timeout=timeout, env=env)
        if log.exists():
            run.spawns = parse_execution_log(log.read_text(encoding="utf-8", errors="replace"))
        return run

    def beside(self, name: str) -> Bazel:
        """The same Bazel with its own output base `ROOT/NAME` (install base shared)."""
        return dataclasses.replace(
            self, env=dict(self.env), output_base=self.output_user_root / name
        )

    def has_built(self) -> bool:
        """True when an output base exists for this Bazel: something may need cleaning."""
        if self.output_base is not None:
            return self.output_base.exists()
        return any(
            _OUTPUT_BASE_NAME.fullmatch(child.name) and child.is_dir()
            for child in self.output_user_root.iterdir()
        )

    def clean(self, workspace: Path, *, timeout: float) -> BazelRun:
        """`bazel clean`: drop outputs and the local action cache, keep the install base.

        Under an output root where nothing was ever built there is nothing to drop: no
        Bazel is started (a JVM start saved)."""
        args = ["clean", *QUIET_FLAGS[:2]]
        if not self.has_built():
            return BazelRun([self.binary, *args], 0, "nothing built here yet: clean skipped", 0.0)
        return self.run(workspace, args, timeout=timeout)

    def version(self, *, timeout: float = 60.0) -> str:
        """`bazel --version` (Debian's bazel-bootstrap prints `bazel no_version`)."""
        try:
            done = subprocess.run(
                [self.binary, "--version"],
                capture_output=True,
                timeout=timeout,
                check=False,
                env={**os.environ, "HOME": str(self.home)},
            )
        except subprocess.TimeoutExpired:
            return "unknown"
        return done.stdout.decode(errors="replace").strip() or "unknown"


def silo_flag(silo: str) -> str:
    """A flag that puts every action key into its own cache key space."""
    return f"--remote_default_exec_properties={SILO_PROPERTY}={silo}"


def new_silo() -> str:
    """A fresh key-space name."""
    return uuid.uuid4().hex


@dataclass
class WarmResult:
    """A cold build that fills the cache and the warm build that should hit it."""

    cold: BazelRun
    warm: BazelRun | None
    stats: HitStats | None
    flags: list[str]

    @property
    def acceleration(self) -> float | None:
        """cold wall seconds / warm wall seconds."""
        if self.warm is None or self.warm.seconds <= 0:
            return None
        return self.cold.seconds / self.warm.seconds


def cache_flags(cache_url: str, *, silo: str | None, extra: Sequence[str] = ()) -> list[str]:
    """`--remote_cache` (and no disk cache, so every hit is a remote one) and, when `silo`
    is given, a fresh key space."""
    flags = [f"--remote_cache={cache_url}", "--disk_cache="]
    if silo:
        flags.append(silo_flag(silo))
    return [*flags, *extra]


def warm_build(
    bazel: Bazel,
    workspace: Path,
    targets: Sequence[str],
    cache_url: str,
    *,
    scratch: Path,
    timeout: float,
    silo: str | None = None,
    extra_flags: Sequence[str] = (),
    between: Callable[[], None] | None = None,
    cold_env: Mapping[str, str] | None = None,
    warm_env: Mapping[str, str] | None = None,
) -> WarmResult:
    """Cold build into the cache, `bazel clean`, warm build; hit ratio from the warm log.

    `between` runs after the clean (change an input to see a partial hit); `warm_env`
    changes the client environment of the warm build (PATH leakage).
    """
    scratch.mkdir(parents=True, exist_ok=True)
    flags = cache_flags(cache_url, silo=silo if silo is not None else new_silo(), extra=extra_flags)
    bazel.clean(workspace, timeout=timeout)
    cold = bazel.build(
        workspace, targets, flags, log=scratch / "cold.exec.json", timeout=timeout, env=cold_env
    )
    if not cold.ok:
        return WarmResult(cold, None, None, flags)
    bazel.clean(workspace, timeout=timeout)
    if between is not None:
        between()
    warm = bazel.build(
        workspace, targets, flags, log=scratch / "warm.exec.json", timeout=timeout, env=warm_env
    )
    stats = hit_stats(warm.spawns) if warm.ok else None
    return WarmResult(cold, warm, stats, flags)


def copy_workspace(source: Path, dest: Path) -> Path:
    """A private copy of a workspace (bundled workspaces may live on a read-only path)."""
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(
        source, dest, symlinks=True, ignore=shutil.ignore_patterns("bazel-*", "__pycache__")
    )
    for path in [dest, *dest.rglob("*")]:
        with contextlib.suppress(OSError):
            path.chmod(path.stat().st_mode | 0o200)
    return dest
