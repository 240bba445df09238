"""Live ARC state from recorded files: kubectl JSON and the listeners' Prometheus text.

- `kubectl get autoscalingrunnersets,ephemeralrunners -A -o json` and
  `kubectl get nodes -o json` (a `List` of items, or a single object) give the scale sets
  (min/max runners, the runner container's memory), their ephemeral runners (phase) and
  the nodes (allocatable memory).
- The listener's metrics endpoint (`gha_desired_runners`, `gha_assigned_jobs`,
  `gha_min_runners`, `gha_max_runners`, ...; labels `name` and `namespace` name the scale set).

No cluster is needed: the files are what `kubectl` and `curl` saved.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import HarnessInputError, Problem
from harness.quantity import parse_quantity


@dataclass(frozen=True)
class LiveScaleSet:
    """An `AutoscalingRunnerSet` as the cluster has it."""

    name: str
    """`spec.runnerScaleSetName` (the `runs-on` label), else `metadata.name`."""
    namespace: str
    min_runners: int | None
    max_runners: int | None
    memory_limit: int | None
    memory_request: int | None
    current_runners: int | None
    pending_runners: int | None
    running_runners: int | None
    failed_runners: int | None
    source: str


@dataclass(frozen=True)
class LiveRunner:
    """An `EphemeralRunner`: one runner pod's lifecycle."""

    name: str
    namespace: str
    scale_set: str
    phase: str
    ready: bool
    job_repository: str | None
    source: str


@dataclass(frozen=True)
class LiveNode:
    """A Kubernetes node with the memory the scheduler may hand out."""

    name: str
    allocatable_memory: int
    capacity_memory: int | None
    schedulable: bool
    ready: bool
    source: str


@dataclass(frozen=True)
class ListenerMetrics:
    """The gauges one scale set's listener publishes."""

    name: str
    namespace: str
    values: dict[str, float]
    source: str

    def get(self, metric: str) -> float | None:
        """A gauge by its short name (`desired_runners`), None when not published."""
        return self.values.get(metric)


@dataclass
class LiveState:
    """Everything read from the recorded files."""

    scale_sets: list[LiveScaleSet] = field(default_factory=list)
    runners: list[LiveRunner] = field(default_factory=list)
    nodes: list[LiveNode] = field(default_factory=list)
    listeners: list[ListenerMetrics] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)

    def scale_set(self, name: str) -> LiveScaleSet | None:
        """The scale set with this runner label."""
        return next((s for s in self.scale_sets if s.name == name), None)

    def runner_phases(self, scale_set: str) -> dict[str, int]:
        """How many ephemeral runners of a scale set are in each phase."""
        counts: dict[str, int] = {}
        for runner in self.runners:
            if runner.scale_set == scale_set:
                counts[runner.phase] = counts.get(runner.phase, 0) + 1
        return counts


def _quantity(value: Any, where: str) -> int | None:
    if value is None:
        return None
    try:
        return parse_quantity(value)
    except ValueError as exc:
        raise HarnessInputError(Problem(where, None, str(exc))) from None


def _map(value: Any) -> Mapping[str, Any]:
    """`value` when it is a mapping, else empty (kubectl writes `null` for unset objects)."""
    return value if isinstance(value, Mapping) else {}


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _runner_resources(spec: Mapping[str, Any], where: str) -> tuple[int | None, int | None]:
    pod = _map(_map(spec.get("template")).get("spec"))
    containers = [_map(c) for c in pod.get("containers") or [] if isinstance(c, Mapping)]
    runner = next(
        (c for c in containers if c.get("name") == "runner"), containers[0] if containers else {}
    )
    resources = _map(runner.get("resources"))
    limits, requests = _map(resources.get("limits")), _map(resources.get("requests"))
    return _quantity(limits.get("memory"), where), _quantity(requests.get("memory"), where)


def _scale_set(item: Mapping[str, Any], where: str) -> LiveScaleSet:
    meta, spec = _map(item.get("metadata")), _map(item.get("spec"))
    status = _map(item.get("status"))
    limit, request = _runner_resources(spec, where)
    return LiveScaleSet(
        name=str(spec.get("runnerScaleSetName") or meta.get("name", "")),
        namespace=str(meta.get("namespace", "")),
        min_runners=_int(spec.get("minRunners")),
        max_runners=_int(spec.get("maxRunners")),
        memory_limit=limit,
        memory_request=request,
        current_runners=_int(status.get("currentRunners")),
        pending_runners=_int(status.get("pendingEphemeralRunners")),
        running_runners=_int(status.get("runningEphemeralRunners")),
        failed_runners=_int(status.get("failedEphemeralRunners")),
        source=where,
    )


def _runner(item: Mapping[str, Any], where: str) -> LiveRunner:
    meta, status = _map(item.get("metadata")), _map(item.get("status"))
    labels = _map(meta.get("labels"))
    return LiveRunner(
        name=str(meta.get("name", "")),
        namespace=str(meta.get("namespace", "")),
        scale_set=str(labels.get("actions.github.com/scale-set-name", "")),
        phase=str(status.get("phase") or "Unknown"),
        ready=bool(status.get("ready", False)),
        job_repository=status.get("jobRepositoryName"),
        source=where,
    )


def _node(item: Mapping[str, Any], where: str) -> LiveNode:
    meta, spec = _map(item.get("metadata")), _map(item.get("spec"))
    status = _map(item.get("status"))
    name = str(meta.get("name", ""))
    allocatable = _quantity(_map(status.get("allocatable")).get("memory"), where)
    if allocatable is None:
        raise HarnessInputError(
            Problem(where, None, f"node {name!r} has no status.allocatable.memory")
        )
    conditions = [_map(c) for c in status.get("conditions") or []]
    ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)
    return LiveNode(
        name,
        allocatable,
        _quantity(_map(status.get("capacity")).get("memory"), where),
        schedulable=not spec.get("unschedulable", False),
        ready=ready,
        source=where,
    )


def read_kubectl_json(path: Path, state: LiveState | None = None) -> LiveState:
    """Add what a saved `kubectl get ... -o json` holds to `state` (a new one by default)."""
    state = state if state is not None else LiveState()
    where = str(path)
    try:
        data = json.loads(path.read_text())
    except OSError as exc:
        raise HarnessInputError(Problem(where, None, f"cannot read: {exc.strerror}")) from None
    except json.JSONDecodeError as exc:
        raise HarnessInputError(Problem(where, exc.lineno, f"not JSON: {exc.msg}")) from None
    if not isinstance(data, dict):
        raise HarnessInputError(Problem(where, 1, "expected a kubectl JSON object or List"))
    items = data.get("items", []) if data.get("kind", "").endswith("List") else [data]
    for item in items:
        kind = item.get("kind") if isinstance(item, dict) else None
        if kind == "AutoscalingRunnerSet":
            state.scale_sets.append(_scale_set(item, where))
        elif kind == "EphemeralRunner":
            state.runners.append(_runner(item, where))
        elif kind == "Node":
            state.nodes.append(_node(item, where))
    state.sources.append(where)
    return state


_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?\s*$")
_LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*,?')


def parse_prometheus_text(
    text: str, where: str = "<metrics>"
) -> list[tuple[str, dict[str, str], float]]:
    """Samples of the Prometheus text exposition format: (name, labels, value)."""
    samples = []
    for number, raw_line in enumerate(text.splitlines(), 1):
        line = raw_line.strip()
        if not line or line.startswith("#"):
            continue
        match = _SAMPLE.match(line)
        if match is None:
            raise HarnessInputError(Problem(where, number, "not a Prometheus text sample"))
        name, raw_labels, raw_value = match.groups()
        labels: dict[str, str] = {}
        for label in _LABEL.finditer(raw_labels or ""):
            labels[label.group(1)] = (
                label.group(2).replace(r"\"", '"').replace(r"\n", "\n").replace("\\\\", "\\")
            )
        try:
            value = float(raw_value)
        except ValueError:
            raise HarnessInputError(
                Problem(where, number, f"bad sample value {raw_value!r}")
            ) from None
        samples.append((name, labels, value))
    return samples


def read_listener_metrics(path: Path, state: LiveState | None = None) -> LiveState:
    """Add the `gha_*` scale-set gauges of a saved listener metrics page to `state`."""
    state = state if state is not None else LiveState()
    where = str(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise HarnessInputError(Problem(where, None, f"cannot read: {exc.strerror}")) from None
    by_set: dict[tuple[str, str], dict[str, float]] = {}
    for name, labels, value in parse_prometheus_text(text, where):
        if not name.startswith("gha_") or "name" not in labels:
            continue
        if name.endswith(("_total", "_bucket", "_sum", "_count")):
            continue
        key = (labels.get("namespace", ""), labels["name"])
        by_set.setdefault(key, {})[name[len("gha_") :]] = value
    for (namespace, name), values in sorted(by_set.items()):
        state.listeners.append(ListenerMetrics(name, namespace, values, where))
    state.sources.append(where)
    return state


def read_live_state(
    kubectl_files: Iterable[Path] = (), metrics_files: Iterable[Path] = ()
) -> LiveState:
    """Read every given file into one state; HarnessInputError names the bad file."""
    state = LiveState()
    for path in kubectl_files:
        read_kubectl_json(path, state)
    for path in metrics_files:
        read_listener_metrics(path, state)
    return state
