"""ARC rules read from the scale sets a repository really declares: ARC003 (switched-off
scale sets), ARC005 (declared min/max runners), ARC007 (counts against the contract), and
the exact chart match (the controller chart is not a scale set)."""

from __future__ import annotations

import textwrap
from pathlib import Path

from harness.arc import read_arc
from harness.arc.tofu import is_scale_set_chart
from harness.checks.arc import check_lanes, check_runner_counts
from harness.checks.arc_scale import check_burst
from harness.engine import make_context

STACK = "infra/stacks/arc"
MODULE = """\
variable "runner_label" { type = string }
variable "max_runners" {
  type    = number
  default = 8
}
variable "min_runners" {
  type    = number
  default = 0
}
variable "memory_limit" {
  type    = string
  default = "8Gi"
}
resource "helm_release" "this" {
  name  = var.runner_label
  chart = "oci://ghcr.io/actions/actions-runner-controller-charts/gha-runner-scale-set"
}
"""
CONTROLLER = """\
resource "helm_release" "controller" {
  name  = "arc"
  chart = "gha-runner-scale-set-controller"
}
"""


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def stack(root: Path, nix_max: str = "var.nix_max_runners", tfvars: str = "") -> Path:
    """An infra repo shaped like the fleet's: an arc-runner module per lane, a controller
    module, tfvars capping tinyland-nix, and a heavy lane switched off by a flag."""
    return write(
        root,
        {
            "infra/modules/arc-runner/main.tf": MODULE,
            "infra/modules/arc-controller/main.tf": CONTROLLER,
            f"{STACK}/variables.tf": """\
            variable "nix_max_runners" {
              type    = number
              default = 8
            }
            variable "deploy_heavy" {
              type    = bool
              default = false
            }
            """,
            f"{STACK}/terraform.tfvars": tfvars,
            f"{STACK}/main.tf": f"""\
            module "controller" {{
              source = "../../modules/arc-controller"
            }}
            module "gh_nix" {{
              source       = "../../modules/arc-runner"
              runner_label = "tinyland-nix"
              max_runners  = {nix_max}
              memory_limit = "8Gi"
            }}
            module "gh_heavy" {{
              source       = "../../modules/arc-runner"
              count        = var.deploy_heavy ? 1 : 0
              runner_label = "tinyland-nix-heavy"
              max_runners  = 2
              memory_limit = "32Gi"
            }}
            module "gh_docker" {{
              source       = "../../modules/arc-runner"
              runner_label = "tinyland-docker"
              max_runners  = 6
              memory_limit = "2Gi"
            }}
            """,
        },
    )


def test_the_controller_chart_is_not_a_scale_set(tmp_path: Path) -> None:
    config = read_arc(stack(tmp_path))
    assert sorted(s.name for s in config.scale_sets) == ["module.gh_docker", "module.gh_nix"]
    assert [s.name for s in config.disabled] == ["module.gh_heavy"]
    assert is_scale_set_chart("gha-runner-scale-set")
    assert is_scale_set_chart(
        "oci://ghcr.io/actions/actions-runner-controller-charts/gha-runner-scale-set:0.10.1"
    )
    assert not is_scale_set_chart("gha-runner-scale-set-controller")
    assert not is_scale_set_chart("oci://ghcr.io/x/gha-runner-scale-set-controller")


def test_arc003_says_a_lane_is_switched_off_by_default(tmp_path: Path) -> None:
    out = check_lanes(make_context(stack(tmp_path)), {})
    messages = {" ".join(f.message.split()[:2]).rstrip(":"): f.message for f in out.findings}
    heavy = messages["lane tinyland-nix-heavy"]
    assert "module.gh_heavy" in heavy and "switched off by default" in heavy
    assert "var.deploy_heavy = false" in heavy
    assert f"{STACK}/variables.tf" in heavy  # where the flag's value came from
    assert messages["lane tinyland-nix-kvm"].endswith("has no scale set in tofu")


def test_arc005_takes_max_runners_from_the_declared_scale_set(tmp_path: Path) -> None:
    # the contract's tinyland-nix burst is 8; the stack caps the scale set at 5 in tfvars
    repo = stack(tmp_path, tfvars="nix_max_runners = 5\n")
    out = check_burst(make_context(repo), {})
    nix = [f for f in out.findings if "on tinyland-nix " in f.message]
    assert len(nix) == 1, [f.message for f in out.findings]
    assert "min(0 + 8, 5) = 5 runners" in nix[0].message
    assert f"{STACK}/terraform.tfvars:1" in nix[0].message
    assert "3 job(s) queue" in nix[0].message


def test_arc005_with_a_cap_of_two(tmp_path: Path) -> None:
    out = check_burst(make_context(stack(tmp_path, nix_max="2")), {})
    assert any("min(0 + 8, 2) = 2 runners" in f.message for f in out.findings)


def test_arc005_passes_when_the_declared_scale_set_holds_the_burst(tmp_path: Path) -> None:
    out = check_burst(make_context(stack(tmp_path)), {})
    assert not [f for f in out.findings if "on tinyland-nix " in f.message]


def test_arc007_names_the_scale_set_its_source_and_the_contract(tmp_path: Path) -> None:
    out = check_runner_counts(make_context(stack(tmp_path, tfvars="nix_max_runners = 5\n")), {})
    assert [(f.rule, f.file, f.line) for f in out.findings] == [
        ("ARC007", f"{STACK}/terraform.tfvars", 1)
    ]
    message = out.findings[0].message
    assert "maxRunners 5" in message and "max_runners 8" in message
    assert "bundled:honey.yaml" in message


def test_arc007_passes_when_counts_match(tmp_path: Path) -> None:
    assert check_runner_counts(make_context(stack(tmp_path)), {}).findings == []
