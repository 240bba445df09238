"""ARC001-ARC004, ARC007: scale sets keep their lane's envelope, fit the nodes, match the lanes.

Scale sets come from OpenTofu modules, Helm values and saved kubectl JSON (see
`harness/arc/`); every message names the source and the file:line a value came from.
Cases of the `arc` suite (ARC005/ARC006 live in `arc_scale.py`). Params (all cases):
`kubectl` — saved `kubectl get autoscalingrunnersets -A -o json` files, relative to the
repository (`--kubectl-file` adds more). Every case skips when no scale set is found.

- `arc.envelope` (ARC001, ARC004)
- `arc.capacity` (ARC002): measurements `arc.capacity.<node>.limits_ratio`,
  `arc.capacity.<node>.requests_ratio` (sum over lanes on the node of max_runners x memory,
  divided by allocatable), `arc.capacity.<node>.limits_bytes`, and
  `arc.capacity.namespace.limits_ratio` against `cluster.namespace_memory_quota`.
- `arc.lanes` (ARC003); a lane whose scale set is declared but switched off by `count`
  says so.
- `arc.runner_counts` (ARC007)
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from harness.arc import ArcConfig, ScaleSet, read_arc
from harness.checks.api import CheckContext, Skip
from harness.contract.model import Lane
from harness.errors import HarnessInputError
from harness.quantity import format_bytes
from harness.results import CheckOutput, Finding, Severity
from harness.rules import Rule
from harness.tofu import Resolved
from harness.yamlnodes import line_of_path

RULES = (
    Rule(
        "ARC001",
        "A scale set's runner memory limit differs from its lane's `memory_limit` "
        "(the envelope was grown or shrunk instead of using another lane), or is "
        "missing.",
        example='module "gh_nix" {\n  runner_label = "tinyland-nix"\n  memory_limit = "16Gi"'
        "   # lane: 8Gi\n}",
        fix="Set the lane's memory_limit; send bigger jobs to tinyland-nix-heavy.",
    ),
    Rule(
        "ARC002",
        "Fleet capacity: on a node, the sum over its lanes of maxRunners x memory "
        "limit (or request) exceeds allocatable memory, the namespace quota is "
        "exceeded, or maxRunners is unset (unbounded).",
        example="sting: 192Gi allocatable; tinyland-nix 8 x 8Gi + tinyland-nix-heavy "
        "6 x 32Gi = 256Gi",
        fix="Lower maxRunners, move a lane to another node, or add capacity; always set "
        "maxRunners.",
    ),
    Rule(
        "ARC003",
        "A contract lane has no scale set, or a scale set's label is not a "
        "contract lane (repo-shaped residue).",
        example='extra_runner_sets = { myapp = { runner_label = "myapp-nix" } }',
        fix="Declare one scale set per lane; remove repo-shaped scale sets and move their "
        "jobs to a lane.",
    ),
    Rule(
        "ARC007",
        "A scale set's maxRunners (or minRunners) disagrees with its lane's "
        "`max_runners` (`min_runners`) in the contract: ARC scales within what "
        "the scale set says, not what the contract promises.",
        example='module "gh_nix" {\n  runner_label = "tinyland-nix"\n  max_runners  = 5'
        "   # lane: max_runners 8\n}",
        fix="Make the scale set's max_runners/min_runners (module input, tfvars or Helm "
        "values) equal the lane's, or change the contract.",
    ),
    Rule(
        "ARC004",
        "A Docker-in-Docker sidecar has no memory limit, so the pod's envelope is unbounded.",
        example="containerMode:\n  type: dind    # the chart's dind container has no resources",
        fix="Declare the dind container in template.spec (initContainers for chart >= "
        "0.10) with resources.limits.memory.",
    ),
)


def arc_config(ctx: CheckContext, params: Mapping[str, Any]) -> ArcConfig:
    """The scale sets of this repository (and given kubectl files); Skip when none."""
    raw = params.get("kubectl", [])
    raw = [raw] if isinstance(raw, str) else raw
    if not isinstance(raw, list):
        raise HarnessInputError("arc: `kubectl` must be a file or a list of files")
    files: list[Path] = [ctx.repo / str(p) for p in raw]
    files += list(ctx.options.kubectl_files)
    config = read_arc(ctx.repo, files, ctx.tofu)
    if config.problems and config.scale_sets:
        names = ", ".join(sorted({p.file for p in config.problems})[:3])
        note = (
            f"{len(config.problems)} OpenTofu file(s) could not be parsed ({names}); "
            "scale sets they declare are not seen (STATE003)"
        )
        config.notes.append(note)
    if not config.scale_sets:
        raise Skip(
            "no ARC configuration in this repository (no ARC runner OpenTofu module, "
            "gha-runner-scale-set values file, or kubectl file)"
        )
    return config


def _at(value: Resolved, scale_set: ScaleSet) -> tuple[str, int]:
    origin = value.origin or scale_set.where
    return origin.file, origin.line


def _from(value: Resolved) -> str:
    return f" (from {value.origin.text()})" if value.origin else ""


def check_envelope(ctx: CheckContext, params: Mapping[str, Any]) -> CheckOutput:
    """ARC001 and ARC004 for every scale set of every source."""
    config = arc_config(ctx, params)
    out = CheckOutput(notes=list(config.notes), examined={"scale_sets": len(config.scale_sets)})
    for scale_set in config.scale_sets:
        lane = ctx.contract.lane(scale_set.label_text or "")
        limit = scale_set.memory_limit
        if lane is not None:
            file, line = _at(limit, scale_set)
            if not limit.known:
                out.add(
                    Finding(
                        "ARC001",
                        f"scale set {scale_set.describe()}: memory limit not "
                        f"resolved: {limit.problem}",
                        Severity.WARNING,
                        file=file,
                        line=line,
                    )
                )
            elif limit.value is None:
                out.add(
                    Finding(
                        "ARC001",
                        f"scale set {scale_set.describe()} has no runner "
                        f"memory limit; lane {lane.name} is "
                        f"{format_bytes(lane.memory_limit)}",
                        file=file,
                        line=line,
                    )
                )
            elif limit.value != lane.memory_limit:
                way = "grown" if limit.value > lane.memory_limit else "shrunk"
                out.add(
                    Finding(
                        "ARC001",
                        (
                            f"scale set {scale_set.describe()}: runner memory limit "
                            f"{format_bytes(limit.value)}{_from(limit)} but lane {lane.name} is "
                            f"{format_bytes(lane.memory_limit)} (envelope {way} vertically; use "
                            "another lane)"
                        ),
                        file=file,
                        line=line,
                    )
                )
        dind = scale_set.dind_memory_limit
        if scale_set.dind and (not dind.known or dind.value is None):
            file, line = _at(dind, scale_set)
            how = dind.origin.how if dind.origin else (dind.problem or "")
            out.add(
                Finding(
                    "ARC004",
                    (
                        f"scale set {scale_set.describe()} runs a Docker-in-Docker sidecar "
                        "without a "
                        f"memory limit ({how}): the pod's memory is unbounded"
                    ),
                    Severity.ERROR if dind.known else Severity.WARNING,
                    file=file,
                    line=line,
                )
            )
        for note in scale_set.notes:
            out.notes.append(f"{scale_set.describe()}: {note}")
    out.measure("arc.scale_sets", len(config.scale_sets), "scale sets")
    return out


def _per_label(config: ArcConfig) -> dict[str, list[ScaleSet]]:
    out: dict[str, list[ScaleSet]] = {}
    for scale_set in config.declared:
        if scale_set.label_text:
            out.setdefault(scale_set.label_text, []).append(scale_set)
    return out


def _bytes(value: Resolved, fallback: int | None) -> int | None:
    return value.value if value.known and isinstance(value.value, int) else fallback


def _lane_load(lane: Lane, sets: list[ScaleSet], out: CheckOutput) -> tuple[int, int, str] | None:
    """(limits, requests, text) at maxRunners for the largest scale set of a lane."""
    best: tuple[int, int, str] | None = None
    for scale_set in sets:
        maximum = scale_set.max_runners
        if not maximum.known:
            out.notes.append(f"{scale_set.describe()}: maxRunners not resolved ({maximum.problem})")
            continue
        if maximum.value is None:
            file, line = _at(maximum, scale_set)
            out.add(
                Finding(
                    "ARC002",
                    f"scale set {scale_set.describe()} sets no maxRunners: "
                    "ARC may start runners without bound",
                    file=file,
                    line=line,
                )
            )
            continue
        limit = _bytes(scale_set.memory_limit, lane.memory_limit) or 0
        request = _bytes(scale_set.memory_request, lane.memory_request) or 0
        text = (
            f"{lane.name} {maximum.value} x {format_bytes(limit)}"
            f"{_from(maximum) if maximum.origin else ''}"
        )
        load = (int(maximum.value) * limit, int(maximum.value) * request, text)
        if best is None or load[0] > best[0]:
            best = load
    return best


def check_capacity(ctx: CheckContext, params: Mapping[str, Any]) -> CheckOutput:
    """ARC002: per node, maxRunners x memory of its lanes fits allocatable memory."""
    config = arc_config(ctx, params)
    contract = ctx.contract
    out = CheckOutput(notes=list(config.notes), examined={"scale_sets": len(config.scale_sets)})
    loads: dict[str, tuple[int, int, str]] = {}
    for label, sets in sorted(_per_label(config).items()):
        lane = contract.lane(label)
        if lane is None:
            continue  # not a lane: ARC003
        load = _lane_load(lane, sets, out)
        if load is not None:
            loads[label] = load
    for node in sorted(contract.cluster.nodes.values(), key=lambda n: n.name):
        lanes = [name for name in loads if node.name in contract.lanes[name].nodes]
        if not lanes:
            continue
        limits = sum(loads[n][0] for n in lanes)
        requests = sum(loads[n][1] for n in lanes)
        prefix = f"arc.capacity.{node.name}"
        out.measure(f"{prefix}.limits_bytes", limits, "bytes")
        out.measure(f"{prefix}.limits_ratio", round(limits / node.allocatable_memory, 4), "ratio")
        out.measure(
            f"{prefix}.requests_ratio", round(requests / node.allocatable_memory, 4), "ratio"
        )
        parts = "; ".join(loads[n][2] for n in lanes)
        line = line_of_path(contract.raw, ["cluster", "nodes", node.name])
        for what, amount in (("limits", limits), ("requests", requests)):
            if amount > node.allocatable_memory:
                out.add(
                    Finding(
                        "ARC002",
                        (
                            f"node {node.name}: maxRunners x memory {what} of its lanes is "
                            f"{format_bytes(amount)}, {amount / node.allocatable_memory:.2f}x its "
                            f"{format_bytes(node.allocatable_memory)} allocatable ({parts})"
                        ),
                        file=contract.path,
                        line=line,
                    )
                )
    total = sum(load[0] for load in loads.values())
    quota = contract.cluster.namespace_memory_quota
    if quota:
        out.measure("arc.capacity.namespace.limits_ratio", round(total / quota, 4), "ratio")
        if total > quota:
            out.add(
                Finding(
                    "ARC002",
                    (
                        f"namespace {contract.cluster.namespace or '?'}: "
                        "maxRunners x memory limits of "
                        f"all lanes is {format_bytes(total)}, above the quota {format_bytes(quota)}"
                    ),
                    file=contract.path,
                    line=line_of_path(contract.raw, ["cluster", "namespace_memory_quota"]),
                )
            )
    for name in sorted(set(loads) - {n for n in loads if contract.lanes[n].nodes}):
        out.notes.append(f"lane {name} names no nodes in the contract; not placed")
    return out


def check_lanes(ctx: CheckContext, params: Mapping[str, Any]) -> CheckOutput:
    """ARC003: one scale set per contract lane, and no scale set outside the lanes."""
    config = arc_config(ctx, params)
    contract = ctx.contract
    out = CheckOutput(notes=list(config.notes), examined={"scale_sets": len(config.scale_sets)})
    declared = config.declared
    labels = _per_label(config)
    for scale_set in declared:
        if not scale_set.label.known:
            file, line = scale_set.where.file, scale_set.where.line
            out.add(
                Finding(
                    "ARC003",
                    f"scale set {scale_set.name}: label not resolved ({scale_set.label.problem})",
                    Severity.WARNING,
                    file=file,
                    line=line,
                )
            )
    for label, sets in sorted(labels.items()):
        if label in contract.lanes:
            continue
        for scale_set in sets:
            file, line = _at(scale_set.label, scale_set)
            out.add(
                Finding(
                    "ARC003",
                    f"scale set {scale_set.describe()} serves `{label}`, "
                    "which is not a lane of the contract (repo-shaped "
                    "residue?)",
                    file=file,
                    line=line,
                )
            )
    sources = sorted({s.source for s in declared})
    switched_off = {s.label_text: s for s in config.disabled if s.label_text}
    for name in sorted(set(contract.lanes) - set(labels)):
        off = switched_off.get(name)
        if off is not None:
            message = (
                f"lane {name}: its scale set {off.name} ({off.where.file}:"
                f"{off.where.line}) is declared but switched off by default: "
                f"{off.disabled}"
            )
        else:
            message = f"lane {name} has no scale set in {', '.join(sources)}"
        out.add(
            Finding(
                "ARC003",
                message,
                file=contract.path,
                line=line_of_path(contract.raw, ["lanes", name]),
            )
        )
    return out


def check_runner_counts(ctx: CheckContext, params: Mapping[str, Any]) -> CheckOutput:
    """ARC007: each scale set's minRunners and maxRunners are its lane's."""
    config = arc_config(ctx, params)
    out = CheckOutput(notes=list(config.notes))
    for scale_set in config.declared:
        lane = ctx.contract.lane(scale_set.label_text or "")
        if lane is None:
            continue  # not a lane: ARC003
        for key, value, wanted in (
            ("maxRunners", scale_set.max_runners, lane.max_runners),
            ("minRunners", scale_set.min_runners, lane.min_runners),
        ):
            contract_key = "max_runners" if key == "maxRunners" else "min_runners"
            if not value.known or wanted is None:
                continue
            got = value.value if value.value is not None else (0 if key == "minRunners" else None)
            if got == wanted:
                continue
            file, line = _at(value, scale_set)
            shown = "unset" if got is None else str(got)
            where = line_of_path(ctx.contract.raw, ["lanes", lane.name, contract_key])
            out.add(
                Finding(
                    "ARC007",
                    (
                        f"scale set {scale_set.describe()}: {key} {shown}{_from(value)} but lane "
                        f"{lane.name} has {contract_key} {wanted} in the contract "
                        f"({ctx.contract.path}:{where})"
                    ),
                    file=file,
                    line=line,
                )
            )
    return out
