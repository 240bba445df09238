"""ARC005: ARC's runner count at a burst, pods on nodes, memory at the burst."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.arc.burst import arc_runner_count, model_burst
from harness.checks.api import CheckContext
from harness.checks.arc_scale import check_burst
from harness.contract import BUNDLED_CONTRACT, load_contract
from harness.contract.model import Contract
from harness.options import Options
from harness.results import Severity
from tests.helpers.paths import FIXTURES

LIVE = FIXTURES / "arc_live"
GI = 1 << 30


@pytest.fixture(scope="module")
def contract() -> Contract:
    """The bundled honey contract."""
    return load_contract(BUNDLED_CONTRACT, "honey.yaml")


def _write_contract(
    tmp_path: Path, lanes: str, sting: str = "64Gi", quota: str | None = None
) -> Contract:
    text = BUNDLED_CONTRACT.read_text().replace(
        "sting: {role: stateless-compute, allocatable_memory: 192Gi}",
        f"sting: {{role: stateless-compute, allocatable_memory: {sting}}}",
    )
    if "tinyland-nix-heavy:" not in lanes:  # the contract's heavy lane, without a burst
        lanes += (
            "  tinyland-nix-heavy:\n    kind: nix\n    heavy: true\n"
            "    memory_limit: 32Gi\n    max_runners: 1\n    nodes: [bumble]\n"
        )
    head, _, rest = text.partition("lanes:\n")
    _, _, tail = rest.partition("hosted_labels:")
    text = head + "lanes:\n" + lanes + "hosted_labels:" + tail
    if quota:
        text = text.replace("namespace_memory_quota: 192Gi", f"namespace_memory_quota: {quota}")
    path = tmp_path / "fleet.yaml"
    path.write_text(text)
    return load_contract(path, "fleet.yaml")


def test_arc_rule() -> None:
    assert arc_runner_count(0, 5, 8) == 5
    assert arc_runner_count(2, 5, 8) == 7
    assert arc_runner_count(2, 10, 8) == 8
    assert arc_runner_count(1, 0, 8) == 1
    assert arc_runner_count(0, 50, None) == 50


def test_bundled_contract_absorbs_its_bursts(contract: Contract, tmp_path: Path) -> None:
    output = check_burst(CheckContext(tmp_path, contract), {})
    assert output.findings == []
    values = {m.name: m.value for m in output.measurements}
    assert values["arc.burst.tinyland-nix.runners"] == 8
    assert values["arc.burst.tinyland-nix.queued"] == 0
    # 8 x 8Gi + 2 x 32Gi + 6 x 2Gi at their limits
    assert values["arc.burst.node.sting.burst_bytes"] == 140 * GI


def test_burst_beyond_max_runners_queues(contract: Contract) -> None:
    model = model_burst(contract, {"tinyland-nix": 12})
    [lane] = model.lanes
    assert (lane.runners, lane.busy, lane.queued, lane.capped) == (8, 8, 4, 4)


def test_contract_burst_that_queues_fails(tmp_path: Path) -> None:
    contract = _write_contract(
        tmp_path,
        "  tinyland-nix:\n    kind: nix\n    memory_limit: 8Gi\n"
        "    max_runners: 4\n    nodes: [sting]\n    burst: 6\n",
    )
    output = check_burst(CheckContext(tmp_path, contract), {})
    [finding] = output.findings
    assert finding.rule == "ARC005" and finding.severity is Severity.ERROR
    assert "min(0 + 6, 4) = 4 runners, 2 job(s) queue" in finding.message
    assert finding.file == "fleet.yaml" and finding.line is not None


def test_node_memory_at_burst_over_allocatable(tmp_path: Path) -> None:
    # Requests (2Gi) let 10 pods onto a 64Gi node; at the burst each job uses 8Gi.
    contract = _write_contract(
        tmp_path,
        "  tinyland-nix:\n    kind: nix\n    memory_limit: 8Gi\n"
        "    memory_request: 2Gi\n    max_runners: 10\n"
        "    nodes: [sting]\n    burst: 10\n",
    )
    output = check_burst(CheckContext(tmp_path, contract), {})
    [finding] = output.findings
    assert finding.rule == "ARC005" and finding.fails
    assert "node sting" in finding.message and "80.0Gi" in finding.message
    # With measured peaks of 5Gi the same burst fits.
    assert (
        check_burst(CheckContext(tmp_path, contract), {"peaks": {"tinyland-nix": "5Gi"}}).findings
        == []
    )


def test_pods_that_cannot_be_scheduled(tmp_path: Path) -> None:
    contract = _write_contract(
        tmp_path,
        "  tinyland-nix-heavy:\n    kind: nix\n    heavy: true\n"
        "    memory_limit: 32Gi\n    max_runners: 3\n"
        "    nodes: [sting]\n    burst: 3\n",
    )
    model = model_burst(contract, {"tinyland-nix-heavy": 3})
    [lane] = model.lanes
    assert (lane.runners, lane.started, lane.unschedulable, lane.queued) == (3, 2, 1, 1)
    [finding] = check_burst(CheckContext(tmp_path, contract), {}).findings
    assert (
        "1 of 3 runner pods cannot start (no node with the memory request free)" in finding.message
    )


def test_namespace_quota_blocks_pods(tmp_path: Path) -> None:
    contract = _write_contract(
        tmp_path,
        "  tinyland-docker:\n    kind: docker\n"
        "    memory_limit: 2Gi\n    max_runners: 6\n"
        "    nodes: [sting]\n    burst: 6\n",
        quota="8Gi",
    )
    [lane] = model_burst(contract, {"tinyland-docker": 6}).lanes
    assert (lane.started, lane.unschedulable) == (4, 2)
    assert lane.blocked_by == ["namespace memory quota"]


def test_beyond_the_contract_burst_is_a_warning(contract: Contract, tmp_path: Path) -> None:
    output = check_burst(CheckContext(tmp_path, contract), {"jobs": {"tinyland-nix": 20}})
    [finding] = output.findings
    assert finding.severity is Severity.WARNING
    assert "the contract's burst is 8" in finding.message


def test_min_runners_stay_idle_but_hold_requests(tmp_path: Path) -> None:
    contract = _write_contract(
        tmp_path,
        "  tinyland-nix:\n    kind: nix\n    memory_limit: 8Gi\n"
        "    memory_request: 4Gi\n    min_runners: 2\n"
        "    max_runners: 8\n    nodes: [sting]\n"
        "    burst: 3\n",
    )
    model = model_burst(contract, {"tinyland-nix": 3}, idle_memory=256 << 20)
    [lane] = model.lanes
    assert lane.runners == 5 and lane.busy == 3
    node = model.nodes["sting"]
    assert node.requested == 5 * 4 * GI
    assert node.burst_memory == 3 * 8 * GI + 2 * (256 << 20)


def test_live_nodes_and_scale_sets_override_the_contract(
    contract: Contract, tmp_path: Path
) -> None:
    # sting really has 125.7Gi allocatable, not the 192Gi the contract assumes: the
    # contract's own bursts (140Gi at their limits) no longer fit.
    ctx = CheckContext(
        tmp_path,
        contract,
        Options(
            kubectl_files=(
                LIVE / "nodes.json",
                LIVE / "autoscalingrunnersets_ephemeralrunners.json",
            )
        ),
    )
    output = check_burst(ctx, {})
    [finding] = output.findings
    assert finding.rule == "ARC005" and finding.fails
    assert "node sting" in finding.message and "125.7Gi" in finding.message
    assert any("live values from" in note for note in output.notes)


def test_peaks_measured_by_the_memory_cases_are_used(tmp_path: Path) -> None:
    """Reports of memory cases (`measure --format json`, evidence) give per-lane peaks."""
    from harness.evidence import write_evidence
    from harness.report.model import RepoInfo, Report
    from harness.results import CaseResult, Measurement, Status

    contract = _write_contract(
        tmp_path,
        "  tinyland-nix:\n    kind: nix\n    memory_limit: 8Gi\n"
        "    memory_request: 2Gi\n    max_runners: 10\n"
        "    nodes: [sting]\n    burst: 10\n",
    )
    measured = [
        CaseResult(
            "memory",
            f"run-{i}",
            Status.PASSED,
            measurements=[
                Measurement("memory.lane.tinyland-nix.peak_working_set_bytes", peak * GI, "bytes")
            ],
        )
        for i, peak in enumerate((3, 5))
    ]
    write_evidence(
        Report(RepoInfo(str(tmp_path), None, False), "fleet.yaml", contract.sha256, measured),
        tmp_path / "measured.json",
    )
    ctx = CheckContext(tmp_path, contract)
    output = check_burst(ctx, {"measured": "measured.json"})
    assert output.findings == []  # 10 x 5Gi (the largest measured peak) fits 64Gi
    values = {m.name: m.value for m in output.measurements}
    assert values["arc.burst.node.sting.burst_bytes"] == 50 * GI
    # an explicit declared peak still wins over a measured one
    declared = check_burst(ctx, {"measured": "measured.json", "peaks": {"tinyland-nix": "8Gi"}})
    assert [f.rule for f in declared.findings] == ["ARC005"]
