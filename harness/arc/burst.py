"""The fleet at a job burst: ARC's runner count per lane, pods on nodes, memory at the peak.

ARC's listener sets a scale set's runner count to `min(minRunners + assigned jobs,
maxRunners)` and never changes a pod's resources. For a burst (N jobs per lane) this
model applies that rule, places the pods on the lane's nodes the way the scheduler does
(by memory request, least-allocated node first, within the namespace's memory quota),
and adds up what the pods use at the burst: each busy runner its job's peak (measured or
declared; the lane's limit when unknown), each idle one an idle footprint.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from harness.contract.model import Contract, Lane

IDLE_RUNNER_MEMORY = 256 << 20
"""What an idle runner pod (the runner process waiting for a job) is taken to use."""


def arc_runner_count(min_runners: int, assigned_jobs: int, max_runners: int | None) -> int:
    """ARC's rule: `min(minRunners + assigned, maxRunners)`; unset max is unbounded."""
    wanted = min_runners + assigned_jobs
    return wanted if max_runners is None else min(wanted, max_runners)


@dataclass
class NodeLoad:
    """One node at the burst."""

    name: str
    allocatable: int
    requested: int = 0
    """Sum of the memory requests of the pods placed on it (the scheduler's view)."""
    burst_memory: int = 0
    """Sum of what those pods use at the burst (the kernel's view)."""
    pods: dict[str, int] = field(default_factory=dict)

    @property
    def ratio(self) -> float:
        """Burst memory over allocatable memory (over 1.0: OOM kills and evictions)."""
        return self.burst_memory / self.allocatable if self.allocatable else float("inf")


@dataclass
class LaneBurst:
    """One lane at the burst."""

    lane: str
    jobs: int
    job_peak: int
    min_runners: int
    max_runners: int | None
    contract_burst: int | None
    runners: int = 0
    """ARC's runner count for this burst."""
    started: int = 0
    """Runner pods that got a node (and quota)."""
    unschedulable: int = 0
    """Runner pods that cannot start: no node has the memory, or the quota is used up."""
    blocked_by: list[str] = field(default_factory=list)

    @property
    def busy(self) -> int:
        """Runners that run a job."""
        return min(self.jobs, self.started)

    @property
    def queued(self) -> int:
        """Jobs that wait for a runner."""
        return self.jobs - self.busy

    @property
    def capped(self) -> int:
        """Jobs beyond `maxRunners`: ARC never starts runners for them during this burst."""
        return max(0, self.jobs - self.runners)

    @property
    def within_contract(self) -> bool:
        """True when the contract says the fleet must absorb this many jobs on this lane."""
        return self.contract_burst is not None and self.jobs <= self.contract_burst


@dataclass
class BurstModel:
    """The whole fleet at one burst."""

    lanes: list[LaneBurst]
    nodes: dict[str, NodeLoad]
    quota: int | None
    quota_used: int = 0


def _request(lane: Lane) -> int:
    # Kubernetes defaults a missing request to the limit.
    return lane.memory_request if lane.memory_request is not None else lane.memory_limit


def model_burst(
    contract: Contract,
    jobs: Mapping[str, int],
    *,
    peaks: Mapping[str, int] | None = None,
    allocatable: Mapping[str, int] | None = None,
    scale: Mapping[str, tuple[int | None, int | None]] | None = None,
    idle_memory: int = IDLE_RUNNER_MEMORY,
) -> BurstModel:
    """Model `jobs` (lane -> count) arriving at once.

    `peaks` (lane -> bytes) are the jobs' peak working sets, `allocatable` (node -> bytes)
    and `scale` (lane -> (min, max)) override the contract with live values.
    """
    peaks = peaks or {}
    allocatable = allocatable or {}
    scale = scale or {}
    nodes = {
        name: NodeLoad(name, allocatable.get(name, node.allocatable_memory))
        for name, node in contract.cluster.nodes.items()
    }
    for name, value in allocatable.items():
        nodes.setdefault(name, NodeLoad(name, value))
    model = BurstModel([], nodes, contract.cluster.namespace_memory_quota)
    for lane_name in sorted(jobs):
        lane = contract.lanes[lane_name]
        min_runners, max_runners = scale.get(lane_name, (lane.min_runners, lane.max_runners))
        state = LaneBurst(
            lane_name,
            jobs[lane_name],
            min(peaks.get(lane_name, lane.memory_limit), lane.memory_limit),
            min_runners or 0,
            max_runners,
            lane.burst,
        )
        state.runners = arc_runner_count(state.min_runners, state.jobs, max_runners)
        _place(model, lane, state, idle_memory)
        model.lanes.append(state)
    return model


def _place(model: BurstModel, lane: Lane, state: LaneBurst, idle_memory: int) -> None:
    request = _request(lane)
    candidates = [model.nodes[n] for n in (lane.nodes or tuple(model.nodes)) if n in model.nodes]
    for index in range(state.runners):
        if model.quota is not None and model.quota_used + lane.memory_limit > model.quota:
            state.unschedulable += 1
            _note(state, "namespace memory quota")
            continue
        fitting = [n for n in candidates if n.allocatable - n.requested >= request]
        if not fitting:
            state.unschedulable += 1
            _note(state, "no node with the memory request free")
            continue
        node = max(fitting, key=lambda n: (n.allocatable - n.requested, n.name))
        node.requested += request
        busy = index < state.jobs
        node.burst_memory += state.job_peak if busy else min(idle_memory, request)
        node.pods[lane.name] = node.pods.get(lane.name, 0) + 1
        model.quota_used += lane.memory_limit
        state.started += 1


def _note(state: LaneBurst, reason: str) -> None:
    if reason not in state.blocked_by:
        state.blocked_by.append(reason)
