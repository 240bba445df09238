"""Judge a measured workload against its lane's envelope: MEM001..MEM003 and the advice.

ARC scales the number of runner pods, never one pod's memory: a workload whose peak
working set does not fit its lane's `memory_limit` (or that the kernel OOM-killed) fails
at any scale and belongs on another lane, the smallest that fits with margin.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from harness.contract.model import Contract, Lane
from harness.memory.runner import WorkloadRun
from harness.quantity import format_bytes
from harness.results import Finding, Severity

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


def smallest_lane(contract: Contract, need: int, *, kind: str | None = None,
                  light_only: bool = False) -> Lane | None:
    """The lane with the smallest limit that holds `need` bytes (same kind when given)."""
    lanes = [lane for lane in contract.lanes.values()
             if lane.memory_limit >= need and (kind is None or lane.kind == kind)
             and not (light_only and lane.heavy)]
    return min(lanes, key=lambda lane: (lane.memory_limit, lane.heavy, lane.name), default=None)


def judge(run: WorkloadRun, contract: Contract, lane: Lane | None, *,
          margin: float | None = None, label: str = "") -> Verdict:
    """Apply MEM001 (over the envelope or OOM-killed), MEM002 (thin headroom), MEM003 (waste)."""
    margin = contract.memory_margin if margin is None else margin
    limit = lane.memory_limit if lane is not None else run.limit
    peak = run.peak_working_set
    oom = run.oom_kills > 0
    recommended = recommended_envelope(peak, margin, oom)
    kind = lane.kind if lane is not None else None
    fitting = smallest_lane(contract, recommended, kind=kind)
    where = f"lane {lane.name} ({format_bytes(lane.memory_limit)})" if lane is not None else (
        f"the {format_bytes(limit)} limit" if limit is not None else "no limit")
    what = f"{label}: " if label else ""
    headroom = None if not limit else (limit - peak) / limit
    verdict = Verdict(lane.name if lane else None, limit, headroom, recommended,
                      fitting.name if fitting else None, margin)
    advice = _advice(contract, recommended, fitting, kind, oom)
    if oom or (limit is not None and peak > limit):
        cause = (f"the kernel OOM-killed {run.oom_kills} process(es) at {where}"
                 if oom else f"peak working set {format_bytes(peak)} is over {where}")
        exit_note = " although the command exited 0" if oom and run.exit_code == 0 else ""
        verdict.findings.append(Finding(
            "MEM001", f"{what}{cause}{exit_note}; {advice}", Severity.ERROR))
    elif headroom is not None and headroom < margin:
        verdict.findings.append(Finding(
            "MEM002", f"{what}peak working set {format_bytes(peak)} leaves {headroom:.0%} "
            f"headroom in {where}, under the {margin:.0%} margin; {advice}", Severity.WARNING))
    if lane is not None and lane.heavy and not oom and peak <= lane.memory_limit:
        light = smallest_lane(contract, recommended, kind=lane.kind, light_only=True)
        if light is not None:
            verdict.findings.append(Finding(
                "MEM003", f"{what}peak working set {format_bytes(peak)} fits light lane "
                f"{light.name} ({format_bytes(light.memory_limit)}) with {margin:.0%} margin; "
                f"the scarce heavy lane {lane.name} is wasted on it", Severity.WARNING))
    return verdict


def _advice(contract: Contract, need: int, fitting: Lane | None, kind: str | None,
            oom: bool) -> str:
    needs = f"it needs at least {format_bytes(need)}" if oom else \
        f"it needs {format_bytes(need)} with margin"
    if fitting is not None:
        return f"{needs}: run it on {fitting.name} ({format_bytes(fitting.memory_limit)})"
    largest = max((lane for lane in contract.lanes.values()
                   if kind is None or lane.kind == kind),
                  key=lambda lane: lane.memory_limit, default=None)
    biggest = (f"; the largest{' ' + kind if kind else ''} lane is {largest.name} "
               f"({format_bytes(largest.memory_limit)})" if largest else "")
    return f"{needs} and no contract lane holds that{biggest}: split the work or add a lane"
