"""Bundled cases under a user's own contract: a honey lane the contract lacks becomes the
contract's lane of the same kind, or the case skips; it never errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.contract import load_contract
from harness.contract.substitute import LaneMissing, lane_or_substitute
from harness.engine import make_context, run_case
from harness.results import Status
from harness.scenario import Case
from harness.suites import load_suites

ONLY_NIX = """\
version: 1
fleet: small
cluster:
  name: honey
  nodes: {sting: {role: stateless-compute, allocatable_memory: 64Gi}}
forge: {primary: github}
lanes:
  tinyland-nix: {kind: nix, memory_limit: 8Gi, max_runners: 4, nodes: [sting]}
"""
WITH_DOCKER = ONLY_NIX + (
    "  ci-containers: {kind: docker, memory_limit: 3Gi, max_runners: 2, nodes: [sting]}\n"
    "  ci-containers-big: {kind: docker, memory_limit: 6Gi, max_runners: 1, nodes: [sting]}\n"
)


def contract(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "fleet.yaml"
    path.write_text(text)
    return path


def test_a_missing_lane_of_a_known_kind_is_substituted(tmp_path: Path) -> None:
    own = load_contract(contract(tmp_path, WITH_DOCKER), "fleet.yaml")
    lane, note = lane_or_substitute(own, "tinyland-docker")
    assert lane.name == "ci-containers"  # the lightest of that kind
    assert note is not None and "same kind (docker): ci-containers" in note


def test_no_lane_of_that_kind_means_the_case_does_not_apply(tmp_path: Path) -> None:
    own = load_contract(contract(tmp_path, ONLY_NIX), "fleet.yaml")
    with pytest.raises(LaneMissing, match="no lane tinyland-docker and no lane of its kind"):
        lane_or_substitute(own, "tinyland-docker")
    with pytest.raises(KeyError):
        lane_or_substitute(own, "tinyland-dokcer")


def test_bundled_lane_cases_skip_under_a_contract_without_the_lane(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, contract(tmp_path, ONLY_NIX))
    suites = load_suites()
    lane_cases = [
        (suite, case)
        for suite in suites
        for case in suite.cases
        if "lane" in case.params and case.params["lane"] not in ctx.contract.lanes
    ]
    assert lane_cases, "the bundled suites name honey lanes"
    for suite, case in lane_cases:
        result = run_case(ctx, suite, case)
        assert result.status is Status.SKIPPED, (case.name, result.reason)
        assert "no lane tinyland-docker" in (result.reason or "")


def test_a_lane_that_is_nowhere_is_still_bad_input(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, contract(tmp_path, ONLY_NIX))
    case = Case("typo", "memory.workload", 1, params={"lane": "tinyland-dokcer", "command": "true"})
    result = run_case(ctx, "memory", case)
    assert result.status is Status.ERROR
    assert "lane 'tinyland-dokcer' is not in the contract" in (result.reason or "")


@pytest.mark.needs_cgroup
def test_the_bundled_docker_case_runs_on_the_contracts_docker_lane(tmp_path: Path) -> None:
    from harness.probes.cgroup import child_parent, own_memory_cgroup
    from tests.helpers.tools import require

    ref, reason = child_parent(own_memory_cgroup())
    require(ref is not None, f"cannot create memory cgroups here: {reason}")
    ctx = make_context(tmp_path, contract(tmp_path, WITH_DOCKER))
    memory = next(s for s in load_suites() if s.name == "memory")
    case = next(c for c in memory.cases if c.params.get("lane") == "tinyland-docker")
    result = run_case(ctx, memory, case)
    assert result.status is Status.PASSED, result.reason
    assert "same kind (docker): ci-containers" in (result.reason or "")
    limits = {m.name: m.value for m in result.measurements}
    assert limits.get("memory.limit_bytes") == 3 * 1024**3
