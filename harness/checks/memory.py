"""MEM001-MEM003: a workload's real memory, as its pod sees it, against its lane's envelope.

Cases of the `memory` suite:

- `memory.workload` runs a command inside a fresh child cgroup whose limit is the lane's
  `memory_limit` and judges it by the kernel's counters (see harness/memory/).
  params: `command` (string for `sh -c`, or a list), `lane` or `limit` (quantity),
  `timeout` (seconds, default 600), `margin` (default contract `memory.margin`),
  `chart` (SVG file name under the artifacts directory). `{python}` and `{data}` in the
  command stand for this Python and the bundled sample workloads directory.
- `memory.pod_envelope` reads the cgroup this process runs in (on a runner pod: the pod's
  envelope) and records it (unlimited reads as unlimited); params: `lane` to compare with.
"""

from __future__ import annotations

import re
import shlex
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from harness.checks.api import CheckContext, Skip
from harness.contract.model import Contract, Lane
from harness.contract.substitute import LaneMissing, lane_or_substitute
from harness.errors import HarnessInputError
from harness.memory.chart import short_command, timeline_svg
from harness.memory.judge import Verdict, judge
from harness.memory.runner import WorkloadRun, run_workload
from harness.memory.summary import record
from harness.probes.cgroup import own_memory_cgroup, read_memory
from harness.quantity import format_bytes, parse_quantity
from harness.results import CheckOutput, Finding, Severity
from harness.rules import Rule
from harness.runid import RUN_ID, run_unique

DATA_DIR = Path(__file__).resolve().parent.parent / "data"

RULES = (
    Rule("MEM001", "A workload's peak working set is over its lane's memory envelope, or the "
                   "kernel OOM-killed one of its processes (even when the command exited 0). "
                   "ARC adds pods, never memory: it fails at any scale.",
         example="flywheel-harness measure --lane tinyland-nix -- nix build .#big  "
                 "# OOM kill at 8Gi",
         fix="Run the job on the smallest lane that fits with margin (named in the message, "
             "e.g. `runs-on: tinyland-nix-heavy`), or make the build smaller.",
         suite="memory"),
    Rule("MEM002", "A workload's headroom under its lane's envelope is below the margin "
                   "(contract `memory.margin`, default 15%).",
         example="peak working set 7.5Gi on tinyland-nix (8Gi): 6% headroom",
         fix="Move it to a bigger lane before growth turns it into an OOM kill.",
         severity=Severity.WARNING, suite="memory"),
    Rule("MEM003", "A workload on a heavy lane would fit a light lane with margin: the scarce "
                   "heavy lane is wasted.",
         example="peak working set 600Mi on tinyland-nix-heavy (32Gi)",
         fix="runs-on: tinyland-nix", severity=Severity.WARNING, suite="memory"),
    Rule("MEM004", "The measured command itself failed: it exited non-zero or could not start "
                   "(a measurement of a failed build proves nothing about the build). "
                   "Reported beside the memory verdict, not instead of it.",
         example="flywheel-harness measure --limit 1Gi -- /no/such/cmd  # exit 127",
         fix="Fix the command, or pass `--allow-failure` (case param `allow_failure: true`) "
             "when only its memory matters.",
         suite="memory"),
)


def _command(raw: Any) -> str | list[str]:
    def expand(text: str) -> str:
        return (text.replace("{python}", shlex.quote(sys.executable))
                .replace("{data}", shlex.quote(str(DATA_DIR))))

    if isinstance(raw, str) and raw.strip():
        return expand(raw)
    if isinstance(raw, list) and raw and all(isinstance(x, str) for x in raw):
        return [x.replace("{python}", sys.executable).replace("{data}", str(DATA_DIR))
                for x in raw]
    raise HarnessInputError("memory.workload: `command` must be a string or a list of strings")


def check_workload(ctx: CheckContext, params: Mapping[str, Any]) -> CheckOutput:
    """Run a workload under its lane's limit; MEM001 on OOM kill or overrun, MEM002/MEM003."""
    command = _command(params.get("command"))
    lane, note = _lane(ctx, params.get("lane"), "memory.workload")
    try:
        limit = lane.memory_limit if lane else parse_quantity(params["limit"])
    except KeyError:
        raise HarnessInputError("memory.workload: give `lane` or `limit`") from None
    except ValueError as exc:
        raise HarnessInputError(f"memory.workload: limit: {exc}") from None
    margin = params.get("margin")
    chart = params.get("chart")
    _, _, output = measure_workload(
        ctx.contract, command, lane=lane, limit=limit, timeout=float(params.get("timeout", 600)),
        margin=None if margin is None else float(margin), cwd=ctx.repo,
        chart=ctx.artifacts_dir() / run_unique(str(chart)) if chart else None,
        chart_dir=ctx.artifacts_dir(), allow_failure=bool(params.get("allow_failure", False)))
    if note:
        output.notes.insert(0, note)
    return output


def _lane(ctx: CheckContext, name: object, check: str) -> tuple[Lane | None, str | None]:
    """The lane a case names; a honey lane the contract lacks becomes the contract's lane of
    the same kind, or the case skips. A name that is no lane anywhere is bad input."""
    if name is None:
        return None, None
    try:
        return lane_or_substitute(ctx.contract, str(name))
    except LaneMissing as exc:
        raise Skip(str(exc)) from None
    except KeyError:
        raise HarnessInputError(f"{check}: lane {name!r} is not in the contract "
                                f"({', '.join(sorted(ctx.contract.lanes))})") from None


def command_failure(exit_code: int | None) -> str:
    """How a command ended, in words: `exited 2`, `was killed by signal 9`, `could not
    start (exit 127: not found)`."""
    if exit_code is None:
        return "did not report an exit status"
    if exit_code < 0:
        return f"was killed by signal {-exit_code}"
    if exit_code == 127:
        return "could not start (exit 127: command not found)"
    if exit_code == 126:
        return "could not start (exit 126: not executable)"
    return f"exited {exit_code}"


def measure_workload(contract: Contract, command: str | list[str], *, lane: Lane | None,
                     limit: int | None, timeout: float, margin: float | None = None,
                     cwd: Path | None = None, chart: Path | None = None,
                     chart_dir: Path | None = None, interval: float | None = None,
                     allow_failure: bool = False,
                     ) -> tuple[WorkloadRun, Verdict, CheckOutput]:
    """Run, judge and chart one workload; the engine of `memory.workload` and `measure`.

    A command that exits non-zero is MEM004 unless `allow_failure`. Charts named here get
    this run's id, so concurrent runs never overwrite each other's charts.
    """
    limit = lane.memory_limit if lane is not None else limit
    run = run_workload(command, limit, timeout=timeout, cwd=cwd,
                       interval=interval or contract.sample_interval)
    label = lane.name if lane is not None else (
        f"{format_bytes(limit)} limit" if limit else "no limit")
    verdict = judge(run, contract, lane, label=label, margin=margin)
    output = CheckOutput(examined={"workloads": 1})
    record(run, verdict, output)
    if run.timed_out:
        timed_out = Finding("MEM001", f"{label}: the workload did not finish within "
                                      f"{timeout:g}s; its peak is unknown")
        verdict.findings.append(timed_out)  # the text summary reads the verdict
        output.add(timed_out)
    elif run.exit_code != 0 and not allow_failure:
        failed = Finding("MEM004", f"{label}: the command {command_failure(run.exit_code)}; "
                                   "its measurement proves nothing (--allow-failure to accept)")
        verdict.findings.append(failed)
        output.add(failed)
    text = short_command(command)
    if chart is None:
        slug = re.sub(r"[^a-z0-9]+", "-", f"{label}-{text}".lower()).strip("-")[:60]
        chart = (chart_dir or Path(".harness")) / f"memory-{slug}-{RUN_ID}.svg"
    chart.parent.mkdir(parents=True, exist_ok=True)
    chart.write_text(timeline_svg(run, f"{label}: {text}"[:90],
                                  f"{lane.name} limit" if lane is not None else "limit"))
    output.artifacts.append(str(chart))
    return run, verdict, output


def check_pod_envelope(ctx: CheckContext, params: Mapping[str, Any]) -> CheckOutput:
    """Record the memory envelope of the cgroup this process runs in (a runner pod's)."""
    own = own_memory_cgroup()
    if own is None:
        raise Skip("no memory cgroup controller is visible here", live=True)
    reading = read_memory(own.directory, own.version)
    output = CheckOutput(examined={"cgroups": 1})
    output.measure("memory.envelope_usage_bytes", reading.usage, "bytes")
    output.measure("memory.envelope_working_set_bytes", reading.working_set, "bytes")
    output.measure("memory.oom_kills", reading.oom_kills, "count")
    if reading.limit is None:
        output.notes.append(f"cgroup {own.version} {own.path}: unlimited "
                            f"(working set {format_bytes(reading.working_set)})")
        return output
    output.measure("memory.limit_bytes", reading.limit, "bytes")
    lane, note = _lane(ctx, params.get("lane"), "memory.pod_envelope")
    if note:
        output.notes.append(note)
    if lane is not None and reading.limit != lane.memory_limit:
        output.notes.append(f"lane {lane.name} promises {format_bytes(lane.memory_limit)}")
    output.notes.append(f"cgroup {own.version} {own.path}: limit {format_bytes(reading.limit)}")
    return output
