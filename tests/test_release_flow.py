"""This repository's own CI and release workflows, flake.nix, and the matrix and graph commands."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness import __version__
from harness.cli import main
from harness.contract import BUNDLED_CONTRACT
from harness.engine import make_context
from harness.github.graph import build_graph, to_dot
from harness.github.labels import PARTIAL, RESOLVED, UNKNOWN
from tests.helpers.paths import ROOT
from tests.helpers.tools import require_tool

WORKFLOWS = ROOT / ".github" / "workflows"
SHA_PIN = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+@[0-9a-f]{40}$")


def _load(name: str) -> dict[Any, Any]:
    data: dict[Any, Any] = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    return data


def _uses(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [str(node["uses"])] if "uses" in node else []
        return found + [u for value in node.values() for u in _uses(value)]
    if isinstance(node, list):
        return [u for item in node for u in _uses(item)]
    return []


def test_own_workflows_pass_the_harness_rules(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "check",
            "--repo",
            str(ROOT),
            "--suite",
            "workflows",
            "--suite",
            "placement",
            "--suite",
            "bootstrap",
            "--format",
            "json",
        ]
    )
    report = json.loads(capsys.readouterr().out)
    errors = [
        f
        for r in report["results"]
        for f in r["findings"]
        if f["severity"] == "error" and not f.get("suppressed")
    ]
    assert errors == []
    assert code == 0
    statuses = {r["case"]: r["status"] for r in report["results"]}
    assert statuses["workflow-owned-nix"] == "passed"
    static = {r["case"]: r["status"] for r in report["results"] if r["suite"] != "bootstrap"}
    # LANE004 applies only under a contract with an `enrollment` section (the bundled has none)
    assert static.pop("hosted-linux-in-enrolled-repos") == "skipped"
    assert static and set(static.values()) == {"passed"}


def test_every_action_is_pinned_by_commit_sha() -> None:
    uses = [u for name in ("ci.yml", "release.yml") for u in _uses(_load(name))]
    remote = [u for u in uses if not u.startswith("./")]
    assert remote, "the workflows use actions"
    assert [u for u in remote if not SHA_PIN.match(u)] == []
    names = {u.split("@")[0] for u in remote}
    assert {
        "actions/checkout",
        "actions/upload-artifact",
        "actions/download-artifact",
        "DeterminateSystems/nix-installer-action",
        "DeterminateSystems/flakehub-push",
    } <= names


def test_only_the_publish_job_may_request_an_oidc_token() -> None:
    for name in ("ci.yml", "release.yml"):
        workflow = _load(name)
        assert workflow["permissions"] == {"contents": "read"}
        for job_id, job in workflow["jobs"].items():
            permissions = job.get("permissions") or {}
            expected = "write" if (name, job_id) == ("release.yml", "publish") else None
            assert permissions.get("id-token") == expected, (name, job_id)


def test_ci_matrix_job_steps_in_order() -> None:
    steps = _load("ci.yml")["jobs"]["suite"]["steps"]
    text = [str(s.get("run") or s.get("uses")) for s in steps]
    before = next(i for i, t in enumerate(text) if "runner --phase before" in t)
    install = next(i for i, t in enumerate(text) if "nix-installer-action" in t)
    after = next(i for i, t in enumerate(text) if "runner --phase after" in t)
    validate = next(i for i, t in enumerate(text) if "nox -s validate" in t)
    upload = next(i for i, t in enumerate(text) if "upload-artifact" in t)
    assert before < install < after < validate < upload
    assert '--suite "$SUITE" --require-live' in text[validate]
    release = _load("release.yml")
    assert release["on"] if "on" in release else release[True]
    assert release["jobs"]["publish"]["needs"] == ["validate", "gate"]
    assert "nox -s release_gate" in str(release["jobs"]["gate"]["steps"])


def test_graph_of_this_repository_has_a_complete_release_path() -> None:
    ctx = make_context(ROOT)
    graph = build_graph(ctx.workflows, ctx.contract)
    [path] = graph.publish_paths
    assert path.publish == "publish"
    assert path.path[-1] == "publish" and "gate" in path.path and "validate" in path.path
    assert path.missing == []
    jobs = {(j.workflow.rsplit("/", 1)[-1], j.id): j for j in graph.jobs}
    suite = jobs[("ci.yml", "suite")]
    assert suite.certainty == UNKNOWN and suite.bootstrap is not None
    assert jobs[("release.yml", "gate")].role == "gate"
    assert jobs[("release.yml", "publish")].role == "publish"
    assert jobs[("ci.yml", "plan")].lanes == ["tinyland-nix"]
    assert jobs[("ci.yml", "plan")].certainty == RESOLVED
    caller = jobs[("release.yml", "validate")]
    assert caller.calls == "./.github/workflows/ci.yml"
    assert caller.certainty == PARTIAL and caller.lanes == ["tinyland-nix"]
    assert {"bootstrap", "validate"} <= set(caller.roles)
    dot = to_dot(graph)
    assert dot.startswith("digraph jobs {") and "-> " in dot


def test_graph_certainty_and_did_you_mean(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "ci.yml").write_text(
        "on: push\njobs:\n"
        "  typo:\n    runs-on: tinyland-nix-hevy\n    steps:\n      - run: echo\n"
        '  mixed:\n    runs-on: [tinyland-nix, "${{ vars.EXTRA }}"]\n'
        "    steps:\n      - run: echo\n"
        "  unknown:\n    runs-on: ${{ vars.LANE }}\n    steps:\n      - run: echo\n"
        "  build:\n    runs-on: tinyland-nix\n    needs: typo\n    steps:\n"
        "      - uses: DeterminateSystems/nix-installer-action@main\n"
        "      - run: nix build\n",
        encoding="utf-8",
    )
    assert main(["graph", "--repo", str(tmp_path)]) == 0
    data = json.loads(capsys.readouterr().out)
    jobs = {j["id"]: j for j in data["jobs"]}
    assert jobs["typo"]["did_you_mean"] == {"tinyland-nix-hevy": "tinyland-nix-heavy"}
    assert jobs["typo"]["certainty"] == RESOLVED and jobs["typo"]["lanes"] == []
    assert jobs["mixed"]["certainty"] == PARTIAL
    assert jobs["mixed"]["lanes"] == ["tinyland-nix"]
    assert jobs["unknown"]["certainty"] == UNKNOWN
    assert jobs["unknown"]["unresolved"] == ["${{ vars.LANE }}"]
    assert jobs["build"]["bootstrap"]["step"] == 1
    assert jobs["build"]["first_nix_use"]["step"] == 2
    assert jobs["build"]["role"] == "bootstrap"
    assert jobs["build"]["needs"] == ["typo"]
    assert main(["graph", "--repo", str(tmp_path), "--format", "text"]) == 0
    text = capsys.readouterr().out
    assert "label `tinyland-nix-hevy` is not a lane: did you mean `tinyland-nix-heavy`?" in text


def test_matrix_maps_suites_to_lanes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["matrix", "--repo", str(tmp_path)]) == 0
    data = json.loads(capsys.readouterr().out)
    lanes = {entry["suite"]: entry["lane"] for entry in data["include"]}
    assert lanes["memory"] == "tinyland-nix-heavy"
    assert lanes["workflows"] == "tinyland-nix"
    assert lanes["bootstrap"] == "tinyland-nix"
    contract = tmp_path / "fleet.yaml"
    contract.write_text(
        BUNDLED_CONTRACT.read_text(encoding="utf-8").replace(
            "heavy_lane: tinyland-nix-heavy", "heavy_lane: tinyland-nix-kvm"
        ),
        encoding="utf-8",
    )
    assert (
        main(["matrix", "--repo", str(tmp_path), "--suite", "memory", "--suite", "workflows"]) == 0
    )
    assert json.loads(capsys.readouterr().out) == {
        "include": [
            {"suite": "memory", "lane": "tinyland-nix-kvm"},
            {"suite": "workflows", "lane": "tinyland-nix"},
        ]
    }


_OUTPUTS_EXPR = """
let
  flake = import {flake};
  stub = {{
    lib.genAttrs = names: f: builtins.listToAttrs (map (n: {{ name = n; value = f n; }}) names);
    legacyPackages.x86_64-linux.python3Packages.buildPythonApplication = args: args;
  }};
  out = flake.outputs {{ self = out; nixpkgs = stub; }};
  names = attr: builtins.mapAttrs (_: v: builtins.attrNames v) attr;
in {{
  outputs = builtins.attrNames out;
  packages = names out.packages;
  apps = names out.apps;
  devShells = names out.devShells;
  checks = names out.checks;
  appType = out.apps.x86_64-linux.default.type;
  inputs = builtins.attrNames flake.inputs;
  version = out.packages.x86_64-linux.default.version;
}}
"""


@pytest.mark.needs_nix
def test_flake_parses_and_declares_its_outputs(tmp_path: Path) -> None:
    tool = require_tool("nix-instantiate")
    flake = ROOT / "flake.nix"
    parsed = subprocess.run(
        [tool, "--parse", str(flake)], capture_output=True, text=True, timeout=60, check=False
    )
    assert parsed.returncode == 0, parsed.stderr
    expr = tmp_path / "outputs.nix"
    expr.write_text(_OUTPUTS_EXPR.format(flake=flake), encoding="utf-8")
    done = subprocess.run(
        [tool, "--eval", "--strict", "--json", str(expr)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["outputs"] == ["apps", "checks", "devShells", "packages"]
    assert data["inputs"] == ["nixpkgs"]
    assert data["appType"] == "app"
    assert data["version"] == __version__  # read from harness/__init__.py, not written twice
    for system in ("x86_64-linux", "aarch64-linux"):
        assert "default" in data["packages"][system]
        assert data["apps"][system] == ["default"]
        assert data["devShells"][system] == ["default"]
        assert "tests" in data["checks"][system]


def test_actionlint_when_available() -> None:
    tool = shutil.which("actionlint")
    if tool is None:
        pytest.skip("actionlint is not installed")
    done = subprocess.run(
        [tool, str(WORKFLOWS / "ci.yml"), str(WORKFLOWS / "release.yml")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
