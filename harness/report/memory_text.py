"""A measured workload as the text a platform engineer reads (`flywheel-harness measure`)."""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING

from harness.probes.workload import WorkloadRun
from harness.quantity import format_bytes

if TYPE_CHECKING:
    from harness.checks.memory import Verdict


def render_text(run: WorkloadRun, verdict: Verdict) -> str:
    """The human summary of one measured run."""
    limit = "unlimited" if verdict.limit is None else format_bytes(verdict.limit)
    lane = f" (lane {verdict.lane})" if verdict.lane else ""
    exit_text = "timed out" if run.timed_out else f"exit {run.exit_code}"
    lines = [
        f"command:           {shlex.join(run.command)}",
        f"measured in:       {run.mode}, {exit_text}, {run.wall_seconds:g}s wall",
        f"limit:             {limit}{lane}",
        f"peak working set:  {format_bytes(run.peak_working_set)}"
        + ("" if run.kernel_judged else " (tree RSS: no cgroup of its own)"),
        f"peak anon:         {format_bytes(run.peak_anon)}",
        f"peak tree RSS:     {format_bytes(run.peak_rss_tree)}",
    ]
    if run.peak_usage is not None:
        lines.append(f"kernel peak usage: {format_bytes(run.peak_usage)} (page cache included)")
    if verdict.headroom is not None:
        lines.append(f"headroom:          {verdict.headroom:.0%} (margin {verdict.margin:.0%})")
    lines.append(f"OOM kills:         {run.oom_kills}")
    fit = (
        f", smallest lane that fits: {verdict.fitting_lane}"
        if verdict.fitting_lane
        else ", no contract lane fits"
    )
    lines.append(f"recommended:       {format_bytes(verdict.recommended)}{fit}")
    if run.top:
        lines.append("top processes (peak RSS / USS / PSS):")
        for proc in run.top:
            uss = format_bytes(proc.uss) if proc.uss is not None else "-"
            pss = format_bytes(proc.pss) if proc.pss is not None else "-"
            lines.append(
                f"  {proc.pid:>7}  {format_bytes(proc.rss):>8}  {uss:>8}  {pss:>8}  "
                f"{proc.cmdline or proc.name}"
            )
    if run.note:
        lines.append(f"note: {run.note}")
    for finding in verdict.findings:
        lines.append(f"{finding.severity}: {finding.rule}: {finding.message}")
    lines.append("result: " + ("FAIL" if verdict.failed else "ok"))
    return "\n".join(lines) + "\n"
