"""ARC scale-set readers (OpenTofu, Helm values, kubectl JSON) and ARC001-ARC004."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from harness.arc import read_arc
from harness.arc.tofu import MAX_FOR_EACH_INSTANCES
from harness.checks.api import Skip
from harness.checks.arc import check_capacity, check_envelope, check_lanes
from harness.engine import make_context
from harness.options import Options
from harness.quantity import parse_quantity
from harness.results import CheckOutput, Severity
from tests.helpers.cli import run_harness

FIXTURES = Path(__file__).parent / "fixtures" / "repos"
FLEET = FIXTURES / "tofu_fleet"
DRIFT = FIXTURES / "tofu_drift"
HELM = FIXTURES / "arc_helm"
LIVE = HELM / "live" / "autoscalingrunnersets.json"
RUNNERS = "tofu/stacks/arc-runners"
GI = parse_quantity("1Gi")


def summary(out: CheckOutput) -> list[tuple[str, str | None, int | None]]:
    return sorted((f.rule, f.file, f.line) for f in out.findings)


def test_tofu_scale_sets_resolve_with_origins() -> None:
    sets = {s.label_text: s for s in read_arc(FLEET).scale_sets}
    # count = var.deploy_experimental ? 1 : 0 with the flag false: not deployed
    assert set(sets) == {
        "tinyland-nix",
        "tinyland-nix-heavy",
        "tinyland-docker",
        "tinyland-nix-kvm",
        "tinyland-nix-gpu",
        "tinyland-dind",
    }
    nix = sets["tinyland-nix"]
    assert nix.memory_limit.value == 8 * GI  # tfvars over the 16Gi default
    assert nix.memory_limit.origin is not None
    assert nix.memory_limit.origin.file == f"{RUNNERS}/terraform.tfvars"
    heavy = sets["tinyland-nix-heavy"]
    assert heavy.max_runners.value == 2  # the auto.tfvars wins
    assert heavy.max_runners.origin is not None
    assert heavy.max_runners.origin.file == f"{RUNNERS}/zz-capacity.auto.tfvars"
    kvm = sets["tinyland-nix-kvm"]  # for_each entry `{}`
    assert (kvm.max_runners.value, kvm.memory_limit.value) == (1, 8 * GI)  # optional() defaults
    assert kvm.name == 'module.lanes["tinyland-nix-kvm"]'
    dind = sets["tinyland-dind"]
    assert dind.dind and dind.dind_memory_limit.value == 2 * GI
    docker = sets["tinyland-docker"]
    assert docker.memory_request.value is None  # module default null


def test_fleet_repository_passes_and_measures_capacity() -> None:
    ctx = make_context(FLEET)
    assert check_envelope(ctx, {}).findings == []
    assert check_lanes(ctx, {}).findings == []
    capacity = check_capacity(ctx, {})
    assert capacity.findings == []
    ratios = {m.name: m.value for m in capacity.measurements}
    # sting: 8x8 + 2x32 + 6x2 + 1x8 + 1x16 + 2x4 = 172Gi of 192Gi
    assert ratios["arc.capacity.sting.limits_bytes"] == 172 * GI
    assert ratios["arc.capacity.sting.limits_ratio"] == round(172 / 192, 4)


def test_drift_envelope_capacity_and_lanes() -> None:
    ctx = make_context(DRIFT)
    envelope = check_envelope(ctx, {})
    assert summary(envelope) == [
        ("ARC001", "infra/stacks/runners/main.tf", 29),  # 16Gi on tinyland-nix
        ("ARC004", "infra/stacks/runners/main.tf", 46),  # dind, no limit passed
    ]
    capacity = check_capacity(ctx, {})
    assert summary(capacity) == [
        ("ARC002", "bundled:honey.yaml", 10),  # namespace quota
        ("ARC002", "bundled:honey.yaml", 13),  # node sting
        ("ARC002", "infra/stacks/runners/main.tf", 42),  # maxRunners = null
    ]
    ratio = {m.name: m.value for m in capacity.measurements}["arc.capacity.sting.limits_ratio"]
    assert ratio == round((8 * 16 + 6 * 32 + 2 * 4) / 192, 4)
    lanes = check_lanes(ctx, {})
    messages = " ".join(f.message for f in lanes.findings)
    assert "tinyland-nix-kvm" in messages and "tinyland-nix-gpu" in messages
    assert "myapp-nix" in messages and len(lanes.findings) == 3


def test_helm_values_and_kubectl_json() -> None:
    config = read_arc(HELM, [LIVE])
    helm = {s.label_text: s for s in config.by_source("helm")}
    assert set(helm) == {"tinyland-nix", "tinyland-dind", "tinyland-docker", "myapp-nix"}
    assert helm["tinyland-nix"].memory_limit.value == 8 * GI
    assert helm["tinyland-nix"].memory_limit.origin is not None
    assert helm["tinyland-nix"].memory_limit.origin.line == 15
    assert helm["tinyland-docker"].dind and helm["tinyland-docker"].dind_memory_limit.value == GI
    assert helm["myapp-nix"].max_runners.value is None
    live = {s.label_text: s for s in config.by_source("kubectl")}
    assert set(live) == {"tinyland-nix", "tinyland-dind"}  # the Pod is ignored
    assert live["tinyland-nix"].memory_limit.value == 12 * GI
    assert config.declared == config.by_source("tofu", "helm")


def test_helm_and_live_findings() -> None:
    ctx = make_context(HELM, options=Options(kubectl_files=(LIVE,)))
    out = check_envelope(ctx, {})
    assert summary(out) == [
        ("ARC001", LIVE.relative_to(HELM).as_posix(), 14),  # live drift to 12Gi
        ("ARC004", "deploy/arc/tinyland-dind.values.yaml", 5),  # containerMode dind
        ("ARC004", LIVE.relative_to(HELM).as_posix(), 26),  # live dind without limits
    ]
    assert all(f.severity is Severity.ERROR for f in out.findings)
    assert "kubectl" in next(f for f in out.findings if f.rule == "ARC001").message


def test_kubectl_param_relative_to_repo(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(HELM, repo)
    shutil.rmtree(repo / "deploy")
    ctx = make_context(repo)
    out = check_lanes(ctx, {"kubectl": "live/autoscalingrunnersets.json"})
    missing = sorted(f.message.split()[1] for f in out.findings)
    assert missing == [
        "tinyland-docker",
        "tinyland-nix-gpu",
        "tinyland-nix-heavy",
        "tinyland-nix-kvm",
    ]


def test_skips_without_arc_configuration(tmp_path: Path) -> None:
    with pytest.raises(Skip, match="no ARC configuration"):
        check_envelope(make_context(tmp_path), {})


def test_shapes_it_does_not_model_never_crash(tmp_path: Path) -> None:
    (tmp_path / "stack").mkdir()
    (tmp_path / "mod").mkdir()
    (tmp_path / "mod" / "main.tf").write_text(
        'resource "helm_release" "r" {\n  chart = "gha-runner-scale-set"\n}\n'
    )
    (tmp_path / "stack" / "main.tf").write_text("""\
variable "names" {
  default = ["a"]
}
module "set" {
  source       = "../mod"
  for_each     = toset(var.names)
  runner_label = each.value
}
module "counted" {
  source       = "../mod"
  count        = length(var.names)
  runner_label = "tinyland-docker"
  memory_limit = 2147483648
}
""")
    (tmp_path / "v1.yaml").write_text(
        "runnerScaleSetName: tinyland-nix\nmaxRunners: lots\ntemplate: null\n"
    )
    (tmp_path / "v2.yaml").write_text(
        "githubConfigUrl: x\ntemplate:\n  spec:\n    containers: not-a-list\n"
    )
    (tmp_path / "v3.yaml").write_text("githubConfigUrl: [unclosed\n")
    live = tmp_path / "ars.json"
    live.write_text(
        '{"kind": "List", "items": [{"kind": "AutoscalingRunnerSet", '
        '"metadata": null, "spec": null}]}'
    )
    ctx = make_context(tmp_path, options=Options(kubectl_files=(live,)))
    envelope = check_envelope(ctx, {})
    docker = [f for f in envelope.findings if "tinyland-docker" in f.message]
    assert docker == []  # 2147483648 bytes is the lane's 2Gi
    nix = [f for f in envelope.findings if "tinyland-nix (helm" in f.message]
    assert [f.rule for f in nix] == ["ARC001"]  # no runner container: no limit
    lanes = check_lanes(ctx, {})
    unresolved = [f for f in lanes.findings if f.severity is Severity.WARNING]
    assert {f.file for f in unresolved} == {"stack/main.tf", "v2.yaml"}
    check_capacity(ctx, {})  # runs; a bad maxRunners is a note


def test_runner_type_dind_means_a_dind_sidecar(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(FLEET, repo)
    main = repo / RUNNERS / "main.tf"
    main.write_text(
        main.read_text().replace(
            '  runner_label = "tinyland-docker"\n',
            '  runner_label = "tinyland-docker"\n  runner_type  = "dind"\n',
        )
    )
    out = check_envelope(make_context(repo), {})
    assert [(f.rule, f.file) for f in out.findings] == [("ARC004", f"{RUNNERS}/main.tf")]


def test_for_each_values_point_at_their_own_tfvars_lines() -> None:
    sets = {s.label_text: s for s in read_arc(FLEET).scale_sets}
    limit = sets["tinyland-dind"].memory_limit.origin
    assert limit is not None
    assert (limit.file, limit.line) == (f"{RUNNERS}/terraform.tfvars", 10)
    assert limit.how == "terraform.tfvars [tinyland-dind.memory_limit]"


def test_chart_release_declared_in_a_stack(tmp_path: Path) -> None:
    (tmp_path / "runners").mkdir()
    (tmp_path / "runners" / "main.tf").write_text("""\
variable "heavy_max" {
  default = 2
}
resource "helm_release" "heavy" {
  name  = "gh-heavy"
  chart = "oci://ghcr.io/actions/actions-runner-controller-charts/gha-runner-scale-set"
  set {
    name  = "runnerScaleSetName"
    value = "tinyland-nix-heavy"
  }
  set {
    name  = "maxRunners"
    value = var.heavy_max
  }
  set {
    name  = "template.spec.containers[0].resources.limits.memory"
    value = "48Gi"
  }
}
resource "helm_release" "off" {
  count = 0
  chart = "gha-runner-scale-set"
}
""")
    sets = read_arc(tmp_path).scale_sets
    assert [(s.label_text, s.max_runners.value, s.memory_limit.value) for s in sets] == [
        ("tinyland-nix-heavy", 2, 48 * GI)
    ]
    out = check_envelope(make_context(tmp_path), {})
    assert summary(out) == [("ARC001", "runners/main.tf", 17)]  # the `value = "48Gi"` line


def test_a_for_each_over_100k_entries_is_capped_with_a_note(tmp_path: Path) -> None:
    """A 100,000-entry map expands `MAX_FOR_EACH_INSTANCES` scale sets, says so once per
    case naming the block's file and line and the value's, and ends in seconds (the
    subprocess timeout is a guard against hanging, not a speed check)."""
    repo = tmp_path / "repo"
    shutil.copytree(FLEET, repo)
    entries = "\n".join(f"l{i} = {{}}" for i in range(100_000))
    tfvars = repo / "tofu/stacks/arc-runners/lanes.auto.tfvars"
    tfvars.write_text(f"extra_lanes = {{\n{entries}\n}}\n")
    argv = ["check", "--suite", "arc", "--static", "--repo", str(repo), "--format", "json"]
    done = run_harness(*argv, cwd=repo)
    assert "Traceback" not in done.stderr
    results = {r["case"]: r for r in json.loads(done.stdout)["results"]}
    note = (
        "module.lanes (tofu/stacks/arc-runners/main.tf:42): for_each makes 100000 "
        "instances, the value from tofu/stacks/arc-runners/lanes.auto.tfvars:1"
    )
    for result in results.values():
        assert result["reason"].count(note) <= 1
    assert note in results["envelope-per-lane"]["reason"]
    assert (
        f"only the first {MAX_FOR_EACH_INSTANCES} are checked"
        in (results["envelope-per-lane"]["reason"])
    )
    lanes = [f for f in results["one-scale-set-per-lane"]["findings"] if "lanes[" in f["message"]]
    assert len(lanes) == MAX_FOR_EACH_INSTANCES
