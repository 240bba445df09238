"""ARC005-ARC006: the fleet at scale. ARC adds runner pods; the nodes must hold them.

Cases of the `arc` suite:

- `arc.burst` (ARC005) models a job burst per lane (see harness/arc/burst.py). A job's
  peak is `peaks` for its lane, else the largest `memory.lane.<lane>.peak_working_set_bytes`
  measured in the `measured` reports, else the lane's `memory_limit`; recorded `kubectl`
  files (and `--kubectl-file`) override the contract's allocatable memory and min/max runners.
- `arc.live_desired` (ARC006) checks every listener's `gha_desired_runners` against
  `min(gha_min_runners + gha_assigned_jobs, gha_max_runners)` (files from `metrics`,
  `kubectl`, `--metrics-file` and `--kubectl-file`).

Their params are declared in harness/checks/registry.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from harness.arc.burst import BurstModel, arc_runner_count, model_burst
from harness.arc.live import ListenerMetrics, LiveState, read_live_state
from harness.checks.api import CheckContext, Skip
from harness.errors import HarnessInputError
from harness.quantity import format_bytes, parse_quantity
from harness.results import CheckOutput, Finding, Severity
from harness.rules import Rule
from harness.yamlnodes import line_of_path

RULES = (
    Rule(
        "ARC005",
        "At a job burst the contract says the fleet must absorb (`lanes.X.burst`), "
        "ARC's runner count `min(minRunners + jobs, maxRunners)` leaves jobs "
        "queued, runner pods cannot be placed, or a node's memory at the burst "
        "exceeds its allocatable memory.",
        example="lanes: {tinyland-nix: {memory_limit: 8Gi, max_runners: 8, burst: 12}}",
        fix="Raise max_runners where nodes have room, add a node to the lane, or lower "
        "the burst the contract promises.",
    ),
    Rule(
        "ARC006",
        "A listener's desired runner count disagrees with ARC's rule "
        "`min(minRunners + assignedJobs, maxRunners)` (stale listener, patched "
        "EphemeralRunnerSet, or min/max drift between the scale set and its "
        "listener).",
        example="gha_desired_runners 3 with gha_assigned_jobs 5, gha_min_runners 0, "
        "gha_max_runners 8",
        fix="Restart the scale set's listener pod and compare the AutoscalingRunnerSet's "
        "minRunners/maxRunners with the listener's.",
    ),
)


def _files(
    ctx: CheckContext, params: Mapping[str, Any], key: str, extra: tuple[Path, ...]
) -> list[Path]:
    raw = params.get(key, [])
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list):
        raise HarnessInputError(f"{key}: expected a file or a list of files")
    return [*(ctx.repo / str(p) for p in raw), *extra]


def _quantities(raw: Any, key: str) -> dict[str, int]:
    if not isinstance(raw, Mapping):
        raise HarnessInputError(f"arc.burst: `{key}` must map lanes to quantities")
    try:
        return {str(k): parse_quantity(v) for k, v in raw.items()}
    except ValueError as exc:
        raise HarnessInputError(f"arc.burst: {key}: {exc}") from None


def _measured_peaks(files: list[Path]) -> dict[str, int]:
    """The largest measured peak per lane in these reports (`measure --format json`, evidence)."""
    from harness.evidence import load_report, read_evidence

    peaks: dict[str, int] = {}
    for path in files:
        for result in load_report(read_evidence(path), path).results:
            for measurement in result.measurements:
                parts = measurement.name.split(".")
                if (
                    len(parts) == 4
                    and parts[:2] == ["memory", "lane"]
                    and parts[3] == "peak_working_set_bytes"
                ):
                    peaks[parts[2]] = max(peaks.get(parts[2], 0), int(measurement.value))
    return peaks


def _lane_line(ctx: CheckContext, lane: str, key: str) -> int | None:
    return line_of_path(ctx.contract.raw, ["lanes", lane, key])


def check_burst(ctx: CheckContext, params: Mapping[str, Any]) -> CheckOutput:
    """ARC005: the burst fits: no queue, every runner pod placed, nodes within allocatable."""
    contract = ctx.contract
    jobs_raw = params.get("jobs")
    if jobs_raw is None:
        jobs = {name: lane.burst for name, lane in contract.lanes.items() if lane.burst}
    elif isinstance(jobs_raw, Mapping):
        jobs = {str(k): int(v) for k, v in jobs_raw.items()}
    else:
        raise HarnessInputError("arc.burst: `jobs` must map lanes to job counts")
    unknown = sorted(set(jobs) - set(contract.lanes))
    if unknown:
        raise HarnessInputError(f"arc.burst: not contract lanes: {', '.join(unknown)}")
    if not jobs:
        raise Skip("the contract sets no `burst` for any lane and the case names no jobs")
    peaks = {
        **_measured_peaks(_files(ctx, params, "measured", ())),
        **_quantities(params.get("peaks", {}), "peaks"),
    }
    idle = parse_quantity(params.get("idle_memory", "256Mi"))
    live = read_live_state(_files(ctx, params, "kubectl", ctx.options.kubectl_files))
    allocatable = {n.name: n.allocatable_memory for n in live.nodes if n.schedulable}
    declared, provenance = _declared_counts(ctx)
    scale = {
        **declared,
        **{
            s.name: (s.min_runners, s.max_runners)
            for s in live.scale_sets
            if s.name in contract.lanes
        },
    }
    for name in {s.name for s in live.scale_sets} & set(provenance):
        provenance[name] = "the live AutoscalingRunnerSet"
    model = model_burst(
        contract, jobs, peaks=peaks, allocatable=allocatable, scale=scale, idle_memory=idle
    )
    output = CheckOutput(examined={"lanes": len(jobs)})
    if live.sources:
        output.notes.append(f"live values from {', '.join(live.sources)}")
    _lane_findings(ctx, model, output, provenance)
    _node_findings(ctx, model, output)
    return output


def _declared_counts(
    ctx: CheckContext,
) -> tuple[dict[str, tuple[int | None, int | None]], dict[str, str]]:
    """min/max runners per lane from the scale sets the repository declares (OpenTofu,
    Helm values), with where the maximum came from."""
    from harness.arc import read_arc

    counts: dict[str, tuple[int | None, int | None]] = {}
    provenance: dict[str, str] = {}
    for scale_set in read_arc(ctx.repo, tofu=ctx.tofu).by_source("tofu", "helm"):
        lane = scale_set.label_text
        if lane not in ctx.contract.lanes or not scale_set.max_runners.known:
            continue
        low = scale_set.min_runners.value if scale_set.min_runners.known else None
        high = scale_set.max_runners.value
        if lane in counts:
            old_low, old_high = counts[lane]
            low = low if old_low is None else old_low if low is None else min(low, old_low)
            high = None if high is None or old_high is None else max(high, old_high)
        counts[lane] = (None if low is None else int(low), None if high is None else int(high))
        origin = scale_set.max_runners.origin
        provenance[lane] = f"{scale_set.describe()}" + (
            f", maxRunners from {origin.text()}" if origin else ""
        )
    return counts, provenance


def _lane_findings(
    ctx: CheckContext, model: BurstModel, output: CheckOutput, provenance: Mapping[str, str]
) -> None:
    for state in model.lanes:
        prefix = f"arc.burst.{state.lane}"
        output.measure(f"{prefix}.runners", state.runners, "count")
        output.measure(f"{prefix}.queued", state.queued, "count")
        output.measure(f"{prefix}.unschedulable", state.unschedulable, "count")
        severity = Severity.ERROR if state.within_contract else Severity.WARNING
        promise = (
            f" (the contract's burst is {state.contract_burst})"
            if state.contract_burst is not None
            else " (no contract burst)"
        )
        line = _lane_line(ctx, state.lane, "burst") or _lane_line(ctx, state.lane, "max_runners")
        source = f" (scale set {provenance[state.lane]})" if state.lane in provenance else ""
        if state.capped:
            output.add(
                Finding(
                    "ARC005",
                    (
                        f"{state.jobs} jobs on {state.lane}{promise}: ARC starts "
                        f"min({state.min_runners} + {state.jobs}, {state.max_runners}) = "
                        f"{state.runners} runners{source}, {state.capped} job(s) queue"
                    ),
                    severity,
                    file=ctx.contract.path,
                    line=line,
                )
            )
        if state.unschedulable:
            output.add(
                Finding(
                    "ARC005",
                    (
                        f"{state.jobs} jobs on {state.lane}{promise}: {state.unschedulable} of "
                        f"{state.runners} runner pods cannot start "
                        f"({', '.join(state.blocked_by)}); {state.queued} job(s) queue"
                    ),
                    severity,
                    file=ctx.contract.path,
                    line=line,
                )
            )


def _node_findings(ctx: CheckContext, model: BurstModel, output: CheckOutput) -> None:
    within = {s.lane: s.within_contract for s in model.lanes}
    for node in sorted(model.nodes.values(), key=lambda n: n.name):
        if not node.pods:
            continue
        output.measure(f"arc.burst.node.{node.name}.burst_bytes", node.burst_memory, "bytes")
        output.measure(f"arc.burst.node.{node.name}.ratio", round(node.ratio, 4), "ratio")
        pods = ", ".join(f"{count} x {lane}" for lane, count in sorted(node.pods.items()))
        output.notes.append(
            f"{node.name}: {format_bytes(node.burst_memory)} of "
            f"{format_bytes(node.allocatable)} at the burst ({pods})"
        )
        if node.burst_memory > node.allocatable:
            contracted = all(within.get(lane, False) for lane in node.pods)
            output.add(
                Finding(
                    "ARC005",
                    (
                        f"node {node.name}: the burst needs {format_bytes(node.burst_memory)} "
                        f"({pods}) but only {format_bytes(node.allocatable)} is allocatable "
                        f"({node.ratio:.0%}); pods will be OOM-killed or evicted"
                    ),
                    Severity.ERROR if contracted else Severity.WARNING,
                    file=ctx.contract.path,
                    line=line_of_path(ctx.contract.raw, ["cluster", "nodes", node.name]),
                )
            )


def check_live_desired(ctx: CheckContext, params: Mapping[str, Any]) -> CheckOutput:
    """ARC006: each listener's desired count follows min(min + assigned, max)."""
    live = read_live_state(
        _files(ctx, params, "kubectl", ctx.options.kubectl_files),
        _files(ctx, params, "metrics", ctx.options.metrics_files),
    )
    if not live.listeners:
        raise Skip("no listener metrics given (scenario `metrics:` or --metrics-file)", live=True)
    output = CheckOutput(examined={"listeners": len(live.listeners)})
    for listener in live.listeners:
        _check_listener(live, listener, output)
    return output


def _check_listener(live: LiveState, listener: ListenerMetrics, output: CheckOutput) -> None:
    name, namespace, values = listener.name, listener.namespace, listener.values
    source = listener.source
    desired, assigned = values.get("desired_runners"), values.get("assigned_jobs")
    minimum, maximum = values.get("min_runners"), values.get("max_runners")
    label = f"{namespace}/{name}" if namespace else name
    if desired is None or assigned is None or minimum is None:
        output.notes.append(f"{label}: listener publishes no desired/assigned/min gauges")
        return
    expected = arc_runner_count(
        int(minimum), int(assigned), None if maximum is None else int(maximum)
    )
    output.measure(f"arc.live.{name}.desired", desired, "count")
    output.measure(f"arc.live.{name}.expected", expected, "count")
    formula = (
        f"min({int(minimum)} + {int(assigned)}, "
        f"{'unbounded' if maximum is None else int(maximum)}) = {expected}"
    )
    if int(desired) != expected and not (assigned == 0 and desired > expected):
        output.add(
            Finding(
                "ARC006",
                f"scale set {label}: gha_desired_runners is {int(desired)} but {formula}",
                file=source,
            )
        )
    elif int(desired) != expected:
        output.notes.append(
            f"{label}: desired {int(desired)} above {formula} with no "
            "assigned jobs (ARC keeps its last count until runners finish)"
        )
    scale_set = live.scale_set(name)
    if scale_set is not None:
        for key, live_value, metric in (
            ("minRunners", scale_set.min_runners, minimum),
            ("maxRunners", scale_set.max_runners, maximum),
        ):
            if live_value is not None and metric is not None and live_value != int(metric):
                output.add(
                    Finding(
                        "ARC006",
                        (
                            f"scale set {label}: AutoscalingRunnerSet {key} is {live_value} "
                            "but its "
                            f"listener runs with {int(metric)} (listener not restarted after a "
                            "change)"
                        ),
                        file=source,
                    )
                )
