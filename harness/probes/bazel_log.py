"""Reading what Bazel says about its spawns: the JSON execution log and the summary line.

`--execution_log_json_file` writes pretty-printed `SpawnExec` objects back to back (not a
JSON array, not one per line). A spawn was a remote-cache hit when `remoteCacheHit` (Bazel
<= 7) or `cacheHit` (newer) is true; it counts towards the hit ratio when it is
`remoteCacheable`.

The summary line comes in several shapes across versions:

    INFO: 0 processes.
    INFO: 1 process: 1 internal.
    INFO: 4 processes: 3 remote cache hit, 1 internal.
    INFO: 6 processes: 2 disk cache hit, 1 remote cache hit, 3 linux-sandbox.   (Bazel >= 5)
    INFO: 3 processes: 2 action cache hit, 1 internal, 2 linux-sandbox.          (Bazel >= 7)

The leading `action cache hit` of Bazel >= 7 is not part of N.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from harness.errors import DataError

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_SUMMARY = re.compile(r"^(?:INFO: )?(\d+) process(?:es)?(?:: (.*?))?\.?\s*$")
_ITEM = re.compile(r"^(\d+) (.+)$")
_ELAPSED = re.compile(r"Elapsed time: ([0-9.]+)s(?:, Critical Path: ([0-9.]+)s)?")
STRICT_PATH = "/bin:/usr/bin:/usr/local/bin"
NOT_IN_TOTAL = ("action cache hit",)


class ExecutionLogError(DataError):
    """The execution log is not a sequence of JSON objects."""


@dataclass(frozen=True)
class Spawn:
    """One spawn from the execution log, reduced to what the hit ratio needs."""

    mnemonic: str
    progress: str
    runner: str
    remote_cacheable: bool
    cache_hit: bool
    env: dict[str, str] = field(default_factory=dict)
    inputs: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """A human name for the spawn: its progress message or first output."""
        return self.progress or (self.outputs[0] if self.outputs else self.mnemonic)


@dataclass(frozen=True)
class Summary:
    """The `INFO: N processes: ...` line, as counts per kind."""

    total: int
    kinds: dict[str, int]
    line: str

    @property
    def remote_cache_hits(self) -> int:
        """Spawns answered by the remote cache."""
        return self.kinds.get("remote cache hit", 0)

    @property
    def disk_cache_hits(self) -> int:
        """Spawns answered by `--disk_cache` (Bazel >= 5 reports them apart)."""
        return self.kinds.get("disk cache hit", 0)

    @property
    def action_cache_hits(self) -> int:
        """Local action-cache hits (Bazel >= 7), not part of `total`."""
        return self.kinds.get("action cache hit", 0)

    def consistent(self) -> bool:
        """True when the kinds (other than action cache hits) add up to N."""
        counted = sum(v for k, v in self.kinds.items() if k not in NOT_IN_TOTAL)
        return not self.kinds or counted == self.total


def _spawn(obj: dict[str, Any]) -> Spawn:
    env = {
        str(e.get("name")): str(e.get("value", ""))
        for e in obj.get("environmentVariables", [])
        if isinstance(e, dict)
    }
    hit = bool(obj.get("remoteCacheHit", False)) or bool(obj.get("cacheHit", False))
    inputs = tuple(str(i.get("path", "")) for i in obj.get("inputs", []) if isinstance(i, dict))
    outputs = tuple(str(o) for o in obj.get("listedOutputs", []))
    return Spawn(
        mnemonic=str(obj.get("mnemonic", "")),
        progress=str(obj.get("progressMessage", "")),
        runner=str(obj.get("runner", "")),
        remote_cacheable=bool(obj.get("remoteCacheable", False)),
        cache_hit=hit,
        env=env,
        inputs=inputs,
        outputs=outputs,
    )


def parse_execution_log(text: str) -> list[Spawn]:
    """Every spawn of a JSON execution log (objects back to back, any whitespace between)."""
    decoder = json.JSONDecoder()
    spawns: list[Spawn] = []
    pos, end = 0, len(text)
    while True:
        while pos < end and text[pos].isspace():
            pos += 1
        if pos >= end:
            return spawns
        try:
            obj, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            line = text.count("\n", 0, exc.pos) + 1
            raise ExecutionLogError(f"line {line}: {exc.msg}") from None
        if not isinstance(obj, dict):
            raise ExecutionLogError(f"spawn {len(spawns) + 1} is not a JSON object")
        spawns.append(_spawn(obj))


def parse_summary(output: str) -> Summary | None:
    """The last `N processes` summary line of Bazel's output, if there is one."""
    found: Summary | None = None
    for raw in output.splitlines():
        line = _ANSI.sub("", raw).strip()
        match = _SUMMARY.match(line)
        if not match:
            continue
        kinds: dict[str, int] = {}
        for item in (match.group(2) or "").split(","):
            part = _ITEM.match(item.strip().rstrip("."))
            if part:
                kind = part.group(2).strip()
                kinds[kind] = kinds.get(kind, 0) + int(part.group(1))
        found = Summary(int(match.group(1)), kinds, line)
    return found


def parse_elapsed(output: str) -> tuple[float | None, float | None]:
    """Bazel's own `Elapsed time` and `Critical Path` seconds from its output."""
    found: tuple[float | None, float | None] = (None, None)
    for match in _ELAPSED.finditer(_ANSI.sub("", output)):
        critical = match.group(2)
        found = (float(match.group(1)), float(critical) if critical else None)
    return found


@dataclass(frozen=True)
class HitStats:
    """Remote hits over remote-cacheable spawns, and what missed."""

    spawns: int
    cacheable: int
    hits: int
    misses: tuple[Spawn, ...]
    not_cacheable: tuple[Spawn, ...]

    @property
    def ratio(self) -> float:
        """hits / cacheable (1.0 when nothing was cacheable: nothing could miss)."""
        return self.hits / self.cacheable if self.cacheable else 1.0

    def misses_by_mnemonic(self) -> dict[str, list[str]]:
        """Missed spawns grouped by mnemonic, each as its label."""
        grouped: dict[str, list[str]] = {}
        for spawn in self.misses:
            grouped.setdefault(spawn.mnemonic or "?", []).append(spawn.label)
        return dict(sorted(grouped.items()))


def hit_stats(spawns: list[Spawn]) -> HitStats:
    """Count hits among remote-cacheable spawns."""
    cacheable = [s for s in spawns if s.remote_cacheable]
    hits = [s for s in cacheable if s.cache_hit]
    return HitStats(
        spawns=len(spawns),
        cacheable=len(cacheable),
        hits=len(hits),
        misses=tuple(s for s in cacheable if not s.cache_hit),
        not_cacheable=tuple(s for s in spawns if not s.remote_cacheable),
    )


def leaked_path(spawns: list[Spawn]) -> str | None:
    """The PATH actions saw when it is not the strict-env default (so it is in action keys)."""
    paths = Counter(s.env["PATH"] for s in spawns if "PATH" in s.env)
    for path, _ in paths.most_common():
        if path != STRICT_PATH:
            return path
    return None


def stamped(spawns: list[Spawn]) -> list[Spawn]:
    """Spawns that read the workspace status files (`--stamp`): their keys change every build."""
    return [
        s
        for s in spawns
        if any(i.endswith(("volatile-status.txt", "stable-status.txt")) for i in s.inputs)
    ]
