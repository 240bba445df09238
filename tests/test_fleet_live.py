"""Live ARC state from recorded kubectl JSON and listener metrics; ARC006."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.arc.live import (
    parse_prometheus_text,
    read_kubectl_json,
    read_listener_metrics,
    read_live_state,
)
from harness.checks.api import CheckContext, Skip
from harness.checks.arc_scale import check_live_desired
from harness.contract import BUNDLED_CONTRACT, load_contract
from harness.errors import HarnessInputError
from harness.options import Options
from tests.helpers.paths import FIXTURES

LIVE = FIXTURES / "arc_live"
GI = 1 << 30


def _ctx(tmp_path: Path, **options: object) -> CheckContext:
    return CheckContext(
        repo=tmp_path,
        contract=load_contract(BUNDLED_CONTRACT, "honey.yaml"),
        options=Options(**options),  # type: ignore[arg-type]
    )


def test_scale_sets_and_ephemeral_runners() -> None:
    state = read_kubectl_json(LIVE / "autoscalingrunnersets_ephemeralrunners.json")
    assert [s.name for s in state.scale_sets] == [
        "tinyland-nix",
        "tinyland-nix-heavy",
        "tinyland-docker",
    ]
    nix = state.scale_set("tinyland-nix")
    assert nix is not None
    assert (nix.min_runners, nix.max_runners) == (1, 8)
    assert nix.memory_limit == 8 * GI and nix.memory_request == 4 * GI
    assert (nix.current_runners, nix.pending_runners, nix.running_runners) == (4, 1, 3)
    assert state.runner_phases("tinyland-nix") == {"Running": 3, "Pending": 1}
    assert state.runner_phases("tinyland-nix-heavy") == {"Running": 1}


def test_nodes_allocatable_memory() -> None:
    state = read_kubectl_json(LIVE / "nodes.json")
    nodes = {n.name: n for n in state.nodes}
    assert nodes["sting"].allocatable_memory == 131821156 * 1024
    assert nodes["sting"].capacity_memory == 131923556 * 1024
    assert nodes["sting"].ready and nodes["sting"].schedulable


def test_prometheus_text_parser() -> None:
    samples = parse_prometheus_text(
        '# HELP x y\nfoo{a="1",b="q\\"x"} 2.5\nbar 3 1700000000000\nbaz{le="+Inf"} +Inf\n'
    )
    assert samples[0] == ("foo", {"a": "1", "b": 'q"x'}, 2.5)
    assert samples[1] == ("bar", {}, 3.0)
    assert samples[2][2] == float("inf")


def test_prometheus_garbage_names_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "m.prom"
    bad.write_text("gha_desired_runners 1\nthis is not a sample\n")
    with pytest.raises(HarnessInputError) as err:
        read_listener_metrics(bad)
    assert f"{bad}:2:" in str(err.value)


def test_listener_gauges_by_scale_set() -> None:
    state = read_listener_metrics(LIVE / "listener_tinyland-nix.prom")
    [listener] = state.listeners
    assert (listener.name, listener.namespace) == ("tinyland-nix", "arc-runners")
    assert listener.get("desired_runners") == 4
    assert listener.get("assigned_jobs") == 3
    assert listener.get("completed_jobs_total") is None


def test_bad_json_is_input_error(tmp_path: Path) -> None:
    bad = tmp_path / "k.json"
    bad.write_text('{"kind": "List",\n "items": [}\n')
    with pytest.raises(HarnessInputError) as err:
        read_kubectl_json(bad)
    assert f"{bad}:2:" in str(err.value)


def test_arc006_consistent_listener_passes(tmp_path: Path) -> None:
    ctx = _ctx(
        tmp_path,
        metrics_files=(LIVE / "listener_tinyland-nix.prom",),
        kubectl_files=(LIVE / "autoscalingrunnersets_ephemeralrunners.json",),
    )
    output = check_live_desired(ctx, {})
    assert output.findings == []
    values = {m.name: m.value for m in output.measurements}
    assert values["arc.live.tinyland-nix.desired"] == values["arc.live.tinyland-nix.expected"] == 4


def test_arc006_desired_below_formula_and_drifted_max(tmp_path: Path) -> None:
    ctx = _ctx(
        tmp_path,
        metrics_files=(LIVE / "listener_tinyland-nix-heavy.prom",),
        kubectl_files=(LIVE / "autoscalingrunnersets_ephemeralrunners.json",),
    )
    findings = check_live_desired(ctx, {}).findings
    messages = sorted(f.message for f in findings)
    assert all(f.rule == "ARC006" and f.fails for f in findings)
    assert len(findings) == 2
    assert "gha_desired_runners is 1 but min(0 + 3, 4) = 3" in messages[1]
    assert "maxRunners is 2 but its listener runs with 4" in messages[0]


def test_arc006_files_from_scenario_params(tmp_path: Path) -> None:
    (tmp_path / "live").mkdir()
    (tmp_path / "live" / "m.prom").write_text(
        (LIVE / "listener_tinyland-nix-heavy.prom").read_text()
    )
    findings = check_live_desired(_ctx(tmp_path), {"metrics": "live/m.prom"}).findings
    assert [f.rule for f in findings] == ["ARC006"]


def test_arc006_idle_hold_is_not_a_finding(tmp_path: Path) -> None:
    metrics = tmp_path / "m.prom"
    labels = '{name="tinyland-docker",namespace="arc-runners"}'
    metrics.write_text(
        f"gha_assigned_jobs{labels} 0\ngha_desired_runners{labels} 2\n"
        f"gha_min_runners{labels} 0\ngha_max_runners{labels} 6\n"
    )
    output = check_live_desired(_ctx(tmp_path, metrics_files=(metrics,)), {})
    assert output.findings == []
    assert any("no assigned jobs" in note for note in output.notes)


def test_arc006_without_metrics_is_a_live_skip(tmp_path: Path) -> None:
    with pytest.raises(Skip) as skip:
        check_live_desired(_ctx(tmp_path), {})
    assert skip.value.live


def test_read_live_state_combines_files() -> None:
    state = read_live_state(
        [LIVE / "nodes.json", LIVE / "autoscalingrunnersets_ephemeralrunners.json"],
        [LIVE / "listener_tinyland-nix.prom"],
    )
    assert len(state.nodes) == 2 and len(state.scale_sets) == 3 and len(state.listeners) == 1
    assert len(state.sources) == 3


def test_null_objects_from_kubectl_are_read_as_empty(tmp_path: Path) -> None:
    listing = tmp_path / "ars.json"
    listing.write_text(
        '{"apiVersion": "v1", "kind": "List", "items": [{"apiVersion": '
        '"actions.github.com/v1alpha1", "kind": "AutoscalingRunnerSet", "metadata": '
        '{"name": "tinyland-nix", "namespace": "arc"}, "spec": null, "status": null}]}'
    )
    state = read_kubectl_json(listing)
    scale_set = state.scale_set("tinyland-nix")
    assert scale_set is not None
    assert (scale_set.max_runners, scale_set.memory_limit) == (None, None)
