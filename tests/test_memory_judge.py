"""MEM001-MEM003 verdicts, the recommended envelope, the chart, and `flywheel-harness measure`."""

from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from harness.checks.memory import judge, recommended_envelope, smallest_lane
from harness.cli import main
from harness.contract import BUNDLED_CONTRACT, load_contract
from harness.contract.model import Contract
from harness.probes.cgroup import child_parent, own_memory_cgroup
from harness.probes.sampler import Sample
from harness.probes.workload import WorkloadRun
from harness.report.memory_chart import timeline_svg
from tests.helpers.tools import require

MI, GI = 1 << 20, 1 << 30
WORKLOAD = Path(__file__).parent.parent / "harness" / "data" / "memory_workload.py"


@pytest.fixture(scope="module")
def contract() -> Contract:
    """The bundled honey contract."""
    return load_contract(BUNDLED_CONTRACT, "bundled:honey.yaml")


def _run(peak: int, limit: int | None, *, oom: int = 0, exit_code: int = 0) -> WorkloadRun:
    samples = [
        Sample(0.0, 0, 0, 0, 0, 1),
        Sample(0.5, peak, peak, peak, peak, 1),
        Sample(1.0, peak // 2, peak // 2, peak // 2, peak // 2, 1),
    ]
    return WorkloadRun(
        command=["build"],
        mode="cgroup-v1",
        limit=limit,
        exit_code=exit_code,
        wall_seconds=1.0,
        timed_out=False,
        oom_kills=oom,
        peak_working_set=peak,
        peak_anon=peak,
        peak_rss_tree=peak,
        peak_usage=peak,
        samples=samples,
    )


def test_fits_with_margin(contract: Contract) -> None:
    verdict = judge(_run(3 * GI, 8 * GI), contract, contract.lanes["tinyland-nix"])
    assert verdict.findings == []
    assert verdict.headroom == pytest.approx(5 / 8)
    assert verdict.recommended == int(3 * GI * 1.15)


def test_over_the_envelope_names_the_smallest_lane_that_fits(contract: Contract) -> None:
    verdict = judge(_run(10 * GI, None), contract, contract.lanes["tinyland-nix"])
    [finding] = verdict.findings
    assert finding.rule == "MEM001" and finding.fails
    assert "tinyland-nix-heavy" in finding.message
    assert verdict.fitting_lane == "tinyland-nix-heavy"


def test_no_lane_fits(contract: Contract) -> None:
    verdict = judge(_run(40 * GI, 32 * GI, oom=1), contract, contract.lanes["tinyland-nix-heavy"])
    [finding] = verdict.findings
    assert finding.rule == "MEM001"
    assert "no contract lane holds that" in finding.message
    assert verdict.fitting_lane is None


def test_thin_headroom_is_a_warning(contract: Contract) -> None:
    verdict = judge(_run(int(7.5 * GI), 8 * GI), contract, contract.lanes["tinyland-nix"])
    [finding] = verdict.findings
    assert finding.rule == "MEM002" and not finding.fails
    assert not verdict.failed


def test_margin_comes_from_the_contract_or_the_case(contract: Contract) -> None:
    run = _run(int(6.5 * GI), 8 * GI)  # 19% headroom
    assert judge(run, contract, contract.lanes["tinyland-nix"]).findings == []
    [finding] = judge(run, contract, contract.lanes["tinyland-nix"], margin=0.25).findings
    assert finding.rule == "MEM002"


def test_light_workload_on_heavy_lane_is_waste(contract: Contract) -> None:
    verdict = judge(_run(600 * MI, 32 * GI), contract, contract.lanes["tinyland-nix-heavy"])
    [finding] = verdict.findings
    assert finding.rule == "MEM003" and not finding.fails
    assert "tinyland-nix " in finding.message or "tinyland-nix (" in finding.message


def test_heavy_workload_on_heavy_lane_is_fine(contract: Contract) -> None:
    verdict = judge(_run(12 * GI, 32 * GI), contract, contract.lanes["tinyland-nix-heavy"])
    assert verdict.findings == []


def test_recommended_envelope_after_an_oom() -> None:
    assert recommended_envelope(8 * GI, 0.15, oom_killed=False) == int(8 * GI * 1.15)
    assert recommended_envelope(8 * GI, 0.15, oom_killed=True) == int(8 * GI * 1.2)
    assert recommended_envelope(200 * MI, 0.15, oom_killed=True) == 300 * MI


def test_smallest_lane_respects_kind(contract: Contract) -> None:
    lane = smallest_lane(contract, 3 * GI, kind="nix")
    assert lane is not None and lane.name == "tinyland-nix"
    lane = smallest_lane(contract, 1 * GI)
    assert lane is not None and lane.name == "tinyland-docker"


def test_chart_has_both_series_and_the_limit_line() -> None:
    svg = timeline_svg(_run(3 * GI, 8 * GI), "tinyland-nix: build", "tinyland-nix limit")
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    assert len(root.findall(f"{ns}polyline")) == 3  # working set, usage, tree RSS
    texts = "".join(t.text or "" for t in root.iter(f"{ns}text"))
    assert "tinyland-nix limit 8.0Gi" in texts
    assert "peak working set 3.0Gi" in texts
    limit_lines = [e for e in root.findall(f"{ns}line") if e.get("stroke") == "#cf222e"]
    assert limit_lines, "the lane limit is drawn as a line"


def test_measure_bad_input_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["measure", "--lane", "no-such-lane", "--", "true"]) == 2
    assert "not a lane" in capsys.readouterr().err
    assert main(["measure", "--limit", "lots", "--", "true"]) == 2
    assert main(["measure", "--limit", "1Gi"]) == 2


def test_measure_fits_exits_0_with_json_report(tmp_path: Path) -> None:
    out = tmp_path / "mem.json"
    code = main(
        [
            "measure",
            "--lane",
            "tinyland-docker",
            "--format",
            "json",
            "--output",
            str(out),
            "--",
            sys.executable,
            str(WORKLOAD),
            "--anon",
            "64Mi",
            "--hold",
            "0.3",
        ]
    )
    assert code == 0
    report = json.loads(out.read_text())
    assert report["schema"] == "flywheel-harness/report@1"
    [result] = report["results"]
    assert result["status"] == "passed"
    values = {m["name"]: m["value"] for m in result["measurements"]}
    for name in (
        "memory.peak_working_set_bytes",
        "memory.peak_rss_tree_bytes",
        "memory.limit_bytes",
        "memory.oom_kills",
        "memory.wall_seconds",
    ):
        assert name in values
    assert values["memory.limit_bytes"] == 2 * GI
    assert values["memory.peak_rss_tree_bytes"] >= 60 * MI
    assert (tmp_path / "mem.svg").read_text().startswith("<svg")


@pytest.mark.needs_cgroup
def test_measure_oom_under_exit_0_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    parent, reason = child_parent(own_memory_cgroup())
    require(parent is not None, f"cannot create memory cgroups here: {reason}")
    script = f"{sys.executable} {WORKLOAD} --anon 300Mi; exit 0"
    code = main(
        [
            "measure",
            "--limit",
            "128Mi",
            "--chart",
            str(tmp_path / "c.svg"),
            "--",
            "/bin/sh",
            "-c",
            script,
        ]
    )
    text = capsys.readouterr().out
    assert code == 1
    assert "MEM001" in text and "OOM kills:         1" in text
    assert "result: FAIL" in text


def test_measure_timed_out_says_fail_in_the_text_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "measure",
            "--limit",
            "1Gi",
            "--timeout",
            "0.5",
            "--chart",
            str(tmp_path / "c.svg"),
            "--",
            "sleep",
            "30",
        ]
    )
    text = capsys.readouterr().out
    assert code == 1
    assert "timed out" in text
    assert "MEM001: 1.0Gi limit: the workload did not finish within 0.5s" in text
    assert text.splitlines()[-2] == "result: FAIL"
