"""MEM001-MEM003: a workload's real memory, as its pod sees it, against its lane's envelope.

Cases of the `memory` suite:

- `memory.workload` runs a command inside a fresh child cgroup whose limit is the lane's
  `memory_limit` (the run: harness/probes/workload.py) and judges it by the kernel's counters;
  the judgement (MEM001-MEM003 and the lane advice) is here. `{python}` and `{data}` in the
  command stand for this Python and the bundled sample workloads directory.
- `memory.pod_envelope` reads the cgroup this process runs in (on a runner pod: the pod's
  envelope) and records it (unlimited reads as unlimited).

Their params are declared in harness/checks/registry.py.
"""

from __future__ import annotations

import re
import shlex
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.checks.api import CheckContext, Skip
from harness.contract.model import Contract, Lane
from harness.contract.substitute import LaneMissing, lane_or_substitute
from harness.errors import HarnessInputError
from harness.probes.cgroup import own_memory_cgroup, read_memory
from harness.probes.workload import WorkloadRun, run_workload
from harness.quantity import format_bytes, parse_quantity
from harness.report.memory_chart import short_command, timeline_svg
from harness.results import CheckOutput, Finding, Severity
from harness.rules import Rule
from harness.runid import RUN_ID, run_unique

DATA_DIR = Path(__file__).resolve().parent.parent / "data"

RULES = (
    Rule(
        "MEM001",
        "A workload's peak working set is over its lane's memory envelope, or the "
        "kernel OOM-killed one of its processes (even when the command exited 0). "
        "ARC adds pods, never memory: it fails at any scale.",
        example="flywheel-harness measure --lane tinyland-nix -- nix build .#big  "
        "# OOM kill at 8Gi",
        fix="Run the job on the smallest lane that fits with margin (named in the message, "
        "e.g. `runs-on: tinyland-nix-heavy`), or make the build smaller.",
    ),
    Rule(
        "MEM002",
        "A workload's headroom under its lane's envelope is below the margin "
        "(contract `memory.margin`, default 15%).",
        example="peak working set 7.5Gi on tinyland-nix (8Gi): 6% headroom",
        fix="Move it to a bigger lane before growth turns it into an OOM kill.",
        severity=Severity.WARNING,
    ),
    Rule(
        "MEM003",
        "A workload on a heavy lane would fit a light lane with margin: the scarce "
        "heavy lane is wasted.",
        example="peak working set 600Mi on tinyland-nix-heavy (32Gi)",
        fix="runs-on: tinyland-nix",
        severity=Severity.WARNING,
    ),
    Rule(
        "MEM004",
        "The measured command itself failed: it exited non-zero or could not start "
        "(a measurement of a failed build proves nothing about the build). "
        "Reported beside the memory verdict, not instead of it.",
        example="flywheel-harness measure --limit 1Gi -- /no/such/cmd  # exit 127",
        fix="Fix the command, or pass `--allow-failure` (case param `allow_failure: true`) "
        "when only its memory matters.",
    ),
)

MI = 1 << 20


@dataclass
class Verdict:
    """What a run means for its lane: findings, headroom and the envelope it needs."""

    lane: str | None
    limit: int | None
    headroom: float | None
    """(limit - peak working set) / limit; None when unlimited."""
    recommended: int
    """peak * (1 + margin); after an OOM kill max(peak + 100Mi, peak * 1.2)."""
    fitting_lane: str | None
    """The smallest contract lane whose limit holds the recommended envelope."""
    margin: float
    findings: list[Finding] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        """True when MEM001 (or another error) fired."""
        return any(f.fails for f in self.findings)


def recommended_envelope(peak: int, margin: float, oom_killed: bool) -> int:
    """The memory limit a workload with this peak should run under."""
    if oom_killed:
        return int(max(peak + 100 * MI, peak * 1.2))
    return int(peak * (1 + margin))


def smallest_lane(
    contract: Contract, need: int, *, kind: str | None = None, light_only: bool = False
) -> Lane | None:
    """The lane with the smallest limit that holds `need` bytes (same kind when given)."""
    lanes = [
        lane
        for lane in contract.lanes.values()
        if lane.memory_limit >= need
        and (kind is None or lane.kind == kind)
        and not (light_only and lane.heavy)
    ]
    return min(lanes, key=lambda lane: (lane.memory_limit, lane.heavy, lane.name), default=None)


def judge(
    run: WorkloadRun,
    contract: Contract,
    lane: Lane | None,
    *,
    margin: float | None = None,
    label: str = "",
) -> Verdict:
    """Apply MEM001 (over the envelope or OOM-killed), MEM002 (thin headroom), MEM003 (waste)."""
    margin = contract.memory_margin if margin is None else margin
    limit = lane.memory_limit if lane is not None else run.limit
    peak = run.peak_working_set
    oom = run.oom_kills > 0
    recommended = recommended_envelope(peak, margin, oom)
    kind = lane.kind if lane is not None else None
    fitting = smallest_lane(contract, recommended, kind=kind)
    where = (
        f"lane {lane.name} ({format_bytes(lane.memory_limit)})"
        if lane is not None
        else (f"the {format_bytes(limit)} limit" if limit is not None else "no limit")
    )
    what = f"{label}: " if label else ""
    headroom = None if not limit else (limit - peak) / limit
    verdict = Verdict(
        lane.name if lane else None,
        limit,
        headroom,
        recommended,
        fitting.name if fitting else None,
        margin,
    )
    advice = _advice(contract, recommended, fitting, kind, oom)
    if oom or (limit is not None and peak > limit):
        cause = (
            f"the kernel OOM-killed {run.oom_kills} process(es) at {where}"
            if oom
            else f"peak working set {format_bytes(peak)} is over {where}"
        )
        exit_note = " although the command exited 0" if oom and run.exit_code == 0 else ""
        verdict.findings.append(
            Finding("MEM001", f"{what}{cause}{exit_note}; {advice}", Severity.ERROR)
        )
    elif headroom is not None and headroom < margin:
        verdict.findings.append(
            Finding(
                "MEM002",
                f"{what}peak working set {format_bytes(peak)} leaves {headroom:.0%} "
                f"headroom in {where}, under the {margin:.0%} margin; {advice}",
                Severity.WARNING,
            )
        )
    if lane is not None and lane.heavy and not oom and peak <= lane.memory_limit:
        light = smallest_lane(contract, recommended, kind=lane.kind, light_only=True)
        if light is not None:
            verdict.findings.append(
                Finding(
                    "MEM003",
                    f"{what}peak working set {format_bytes(peak)} fits light lane "
                    f"{light.name} ({format_bytes(light.memory_limit)}) with {margin:.0%} margin; "
                    f"the scarce heavy lane {lane.name} is wasted on it",
                    Severity.WARNING,
                )
            )
    return verdict


def _advice(
    contract: Contract, need: int, fitting: Lane | None, kind: str | None, oom: bool
) -> str:
    needs = (
        f"it needs at least {format_bytes(need)}"
        if oom
        else f"it needs {format_bytes(need)} with margin"
    )
    if fitting is not None:
        return f"{needs}: run it on {fitting.name} ({format_bytes(fitting.memory_limit)})"
    largest = max(
        (lane for lane in contract.lanes.values() if kind is None or lane.kind == kind),
        key=lambda lane: lane.memory_limit,
        default=None,
    )
    biggest = (
        f"; the largest{' ' + kind if kind else ''} lane is {largest.name} "
        f"({format_bytes(largest.memory_limit)})"
        if largest
        else ""
    )
    return f"{needs} and no contract lane holds that{biggest}: split the work or add a lane"


def lane_peak_measurement(lane: str) -> str:
    """The name of the measurement that carries a workload's peak on `lane`."""
    return f"memory.lane.{lane}.peak_working_set_bytes"


def record(run: WorkloadRun, verdict: Verdict, output: CheckOutput) -> None:
    """Add the run's measurements and findings to a check output."""
    output.measure("memory.peak_working_set_bytes", run.peak_working_set, "bytes")
    if verdict.lane:
        # Attributed to its lane, so the fleet model (ARC005) can take measured peaks.
        output.measure(lane_peak_measurement(verdict.lane), run.peak_working_set, "bytes")
    output.measure("memory.peak_rss_tree_bytes", run.peak_rss_tree, "bytes")
    output.measure("memory.peak_anon_bytes", run.peak_anon, "bytes")
    if verdict.limit is not None:
        output.measure("memory.limit_bytes", verdict.limit, "bytes")
    if verdict.headroom is not None:
        output.measure("memory.headroom_ratio", round(verdict.headroom, 4), "ratio")
    output.measure("memory.recommended_bytes", verdict.recommended, "bytes")
    output.measure("memory.oom_kills", run.oom_kills, "count")
    output.measure("memory.wall_seconds", run.wall_seconds, "seconds")
    for finding in verdict.findings:
        output.add(finding)
    if run.note:
        output.notes.append(run.note)


def _command(raw: Any) -> str | list[str]:
    def expand(text: str) -> str:
        return text.replace("{python}", shlex.quote(sys.executable)).replace(
            "{data}", shlex.quote(str(DATA_DIR))
        )

    if isinstance(raw, str) and raw.strip():
        return expand(raw)
    if isinstance(raw, list) and raw and all(isinstance(x, str) for x in raw):
        return [x.replace("{python}", sys.executable).replace("{data}", str(DATA_DIR)) for x in raw]
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
        ctx.contract,
        command,
        lane=lane,
        limit=limit,
        timeout=float(params.get("timeout", 600)),
        margin=None if margin is None else float(margin),
        cwd=ctx.repo,
        chart=ctx.artifacts_dir() / run_unique(str(chart)) if chart else None,
        chart_dir=ctx.artifacts_dir(),
        allow_failure=bool(params.get("allow_failure", False)),
    )
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
        raise HarnessInputError(
            f"{check}: lane {name!r} is not in the contract "
            f"({', '.join(sorted(ctx.contract.lanes))})"
        ) from None


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


def measure_workload(
    contract: Contract,
    command: str | list[str],
    *,
    lane: Lane | None,
    limit: int | None,
    timeout: float,
    margin: float | None = None,
    cwd: Path | None = None,
    chart: Path | None = None,
    chart_dir: Path | None = None,
    interval: float | None = None,
    allow_failure: bool = False,
) -> tuple[WorkloadRun, Verdict, CheckOutput]:
    """Run, judge and chart one workload; the engine of `memory.workload` and `measure`.

    A command that exits non-zero is MEM004 unless `allow_failure`. Charts named here get
    this run's id, so concurrent runs never overwrite each other's charts.
    """
    limit = lane.memory_limit if lane is not None else limit
    run = run_workload(
        command, limit, timeout=timeout, cwd=cwd, interval=interval or contract.sample_interval
    )
    label = (
        lane.name if lane is not None else (f"{format_bytes(limit)} limit" if limit else "no limit")
    )
    verdict = judge(run, contract, lane, label=label, margin=margin)
    output = CheckOutput(examined={"workloads": 1})
    record(run, verdict, output)
    if run.timed_out:
        timed_out = Finding(
            "MEM001",
            f"{label}: the workload did not finish within {timeout:g}s; its peak is unknown",
        )
        verdict.findings.append(timed_out)  # the text summary reads the verdict
        output.add(timed_out)
    elif run.exit_code != 0 and not allow_failure:
        failed = Finding(
            "MEM004",
            f"{label}: the command {command_failure(run.exit_code)}; "
            "its measurement proves nothing (--allow-failure to accept)",
        )
        verdict.findings.append(failed)
        output.add(failed)
    text = short_command(command)
    if chart is None:
        slug = re.sub(r"[^a-z0-9]+", "-", f"{label}-{text}".lower()).strip("-")[:60]
        chart = (chart_dir or Path(".harness")) / f"memory-{slug}-{RUN_ID}.svg"
    chart.parent.mkdir(parents=True, exist_ok=True)
    chart.write_text(
        timeline_svg(
            run, f"{label}: {text}"[:90], f"{lane.name} limit" if lane is not None else "limit"
        )
    )
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
        output.notes.append(
            f"cgroup {own.version} {own.path}: unlimited "
            f"(working set {format_bytes(reading.working_set)})"
        )
        return output
    output.measure("memory.limit_bytes", reading.limit, "bytes")
    lane, note = _lane(ctx, params.get("lane"), "memory.pod_envelope")
    if note:
        output.notes.append(note)
    if lane is not None and reading.limit != lane.memory_limit:
        output.notes.append(f"lane {lane.name} promises {format_bytes(lane.memory_limit)}")
    output.notes.append(f"cgroup {own.version} {own.path}: limit {format_bytes(reading.limit)}")
    return output
