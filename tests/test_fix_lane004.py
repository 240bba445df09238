"""The LANE004 fix: a hosted Linux label moves to the contract's lane of its platform, only
when there is exactly one; refused with the reason otherwise, and applied only with --unsafe.
(Its golden before/after files are `tests/fixtures/fix/lane004-hosted`.)"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.cli import main
from harness.fixes import plan_fixes
from tests.helpers.repos import workflow, write_repo

CONTRACT = """\
version: 1
fleet: honey
cluster:
  name: honey
  nodes: {sting: {role: stateless-compute, allocatable_memory: 64Gi}}
forge: {primary: github, repository: tinyland-inc/app}
lanes:
  tinyland-nix: {kind: nix, memory_limit: 8Gi}
  tinyland-nix-heavy: {kind: nix, heavy: true, memory_limit: 32Gi}
{extra}placement: {heavy_lane: tinyland-nix-heavy}
enrollment:
  tranches: {tranche-1: [tinyland-inc/app]}
"""


def _repo(tmp_path: Path, runs_on: str, extra: str = "", steps: str = "") -> Path:
    return write_repo(
        tmp_path,
        {
            "fleet.yaml": CONTRACT.replace("{extra}", extra),
            **workflow(
                "on: push\njobs:\n  build:\n"
                f"    runs-on: {runs_on}\n"
                "    steps:\n" + (steps or "      - run: make\n")
            ),
        },
    )


def test_no_lane_of_the_platform_is_refused_with_the_reason(tmp_path: Path) -> None:
    repo = _repo(tmp_path, "ubuntu-24.04-arm")
    [outcome] = plan_fixes(repo, unsafe=True).outcomes
    assert outcome.finding.rule == "LANE004"
    assert not outcome.offered
    assert outcome.why == (
        "no lane of the contract serves linux/arm64 (`ubuntu-24.04-arm`): "
        "record a hosted exception instead"
    )


def test_two_equally_good_lanes_are_refused_with_the_reason(tmp_path: Path) -> None:
    repo = _repo(tmp_path, "ubuntu-latest", extra="  ci-nix: {kind: nix, memory_limit: 4Gi}\n")
    [outcome] = plan_fixes(repo, unsafe=True).outcomes
    assert not outcome.offered
    assert outcome.why == (
        "2 lanes serve linux/amd64 equally (`ci-nix`, `tinyland-nix`); choose by hand"
    )


def test_the_arm64_label_takes_the_arm64_lane(tmp_path: Path) -> None:
    arm = "  tinyland-nix-arm: {kind: nix, memory_limit: 8Gi, platform: linux/arm64}\n"
    repo = _repo(tmp_path, "ubuntu-24.04-arm   # arm64 tests", extra=arm)
    plan = plan_fixes(repo, unsafe=True)
    assert [o.description for o in plan.applied] == [
        "runs-on `ubuntu-24.04-arm` -> `tinyland-nix-arm`"
    ]
    assert (
        "    runs-on: tinyland-nix-arm   # arm64 tests\n"
        in (plan.changed[".github/workflows/ci.yml"])
    )
    assert plan.remaining == []


def test_a_move_that_adds_a_finding_is_refused(tmp_path: Path) -> None:
    """The matrix value also guards the Nix install: on the lane the install never runs."""
    repo = write_repo(
        tmp_path,
        {
            "fleet.yaml": CONTRACT.replace("{extra}", ""),
            **workflow("""\
            on: push
            jobs:
              build:
                strategy: {matrix: {os: [ubuntu-latest]}}
                runs-on: ${{ matrix.os }}
                steps:
                  - if: matrix.os == 'ubuntu-latest'
                    uses: DeterminateSystems/nix-installer-action@v16
                  - run: nix build
            """),
        },
    )
    before = (repo / ".github/workflows/ci.yml").read_bytes()
    [outcome] = plan_fixes(repo, unsafe=True).outcomes
    assert outcome.finding.rule == "LANE004"
    assert not outcome.offered
    assert outcome.why.startswith("verification failed: the edit adds a finding: BOOT001")
    assert main(["fix", "--repo", str(repo), "--write", "--unsafe"]) == 0
    assert (repo / ".github/workflows/ci.yml").read_bytes() == before


def test_offered_but_applied_only_with_unsafe(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = _repo(tmp_path, "ubuntu-latest")
    assert main(["fix", "--repo", str(repo), "--write", "--format", "json"]) == 0
    [fix] = json.loads(capsys.readouterr().out)["fixes"]
    assert (fix["rule"], fix["kind"], fix["offered"], fix["applied"]) == (
        "LANE004",
        "unsafe",
        True,
        False,
    )
    assert "pass --unsafe" in fix["why"]
    assert "ubuntu-latest" in (repo / ".github/workflows/ci.yml").read_text()
    assert main(["fix", "--repo", str(repo), "--write", "--unsafe", "--rule", "LANE004"]) == 0
    assert "runs-on: tinyland-nix\n" in (repo / ".github/workflows/ci.yml").read_text()


def test_a_job_under_an_expired_exception_waits_for_the_contract(tmp_path: Path) -> None:
    """Moving the last job of an expired exception would leave the exception a finding of
    its own: the contract decides first (renew or remove), then the fix moves the job."""
    expired = (
        "  exceptions:\n"
        "    tinyland-inc/app: {reason: old docs build, allow: [ubuntu-latest], "
        'until: "2020-01-01"}\n'
    )
    repo = write_repo(
        tmp_path,
        {
            "fleet.yaml": CONTRACT.replace("{extra}", "") + expired,
            **workflow("on: push\njobs:\n  docs:\n    runs-on: ubuntu-latest\n    steps: []\n"),
        },
    )
    [outcome] = plan_fixes(repo, unsafe=True).outcomes
    assert "expired hosted exception" in outcome.finding.message
    assert outcome.why == (
        "the hosted exception of tinyland-inc/app covering `ubuntu-latest` expired on "
        "2020-01-01: renew it or remove it from the contract"
    )
    (repo / "fleet.yaml").write_text(CONTRACT.replace("{extra}", ""))
    plan = plan_fixes(repo, unsafe=True)
    assert [o.finding.rule for o in plan.applied] == ["LANE004"]
    assert plan.remaining == []


def test_the_repository_name_brings_its_exception(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without a name (no origin, no forge.repository) the repository counts as enrolled
    with no exception; named, its exception in force keeps the job on the hosted runner."""
    contract = CONTRACT.replace("{extra}", "").replace(", repository: tinyland-inc/app", "")
    contract += (
        "  exceptions:\n    tinyland-inc/app: {reason: deploy keys, allow: [ubuntu-latest], "
        'until: "2099-12-31"}\n'
    )
    repo = write_repo(
        tmp_path,
        {
            "fleet.yaml": contract,
            **workflow("on: push\njobs:\n  deploy:\n    runs-on: ubuntu-latest\n    steps: []\n"),
        },
    )
    named = ["fix", "--repo", str(repo), "--unsafe", "--repo-name", "tinyland-inc/app"]
    assert main(named) == 0
    assert capsys.readouterr().out == ""
    assert main(["fix", "--repo", str(repo), "--unsafe"]) == 1
    assert "+    runs-on: tinyland-nix" in capsys.readouterr().out
