"""Enrollment and platforms: the hosted-label catalogue, PLACE001 only where a lane serves the
job's platform, LANE004, and lane/placement findings as guidance outside the tranches."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from harness.contract import BUNDLED_CONTRACT, load_contract
from harness.engine import make_context, run_case
from harness.errors import HarnessInputError
from harness.github.hosted import HostedCatalogue, builtin_label, self_hosted_platform
from harness.options import Options
from harness.results import CaseResult, Severity, Status
from harness.scenario import Case
from tests.helpers.repos import write_repo

HONEY = BUNDLED_CONTRACT.read_text(encoding="utf-8")
FUTURE = (date.today() + timedelta(days=90)).isoformat()
PAST = (date.today() - timedelta(days=1)).isoformat()


def contract_with(tmp_path: Path, extra: str) -> Path:
    """The bundled contract plus `extra` top-level YAML."""
    path = tmp_path / "contract.yaml"
    path.write_text(HONEY + "\n" + extra, encoding="utf-8")
    return path


ENROLLMENT = f"""\
enrollment:
  tranches:
    tranche-1: [tinyland-inc/a, tinyland-inc/mac]
    tranche-2: [tinyland-inc/b]
  exceptions:
    tinyland-inc/mac: {{reason: macOS signing, allow: [macos-15, ubuntu-24.04-arm],
                       until: "{FUTURE}"}}
    tinyland-inc/b: {{reason: legacy docs build, allow: [ubuntu-latest], until: "{PAST}"}}
  ownership: {{tinyland-inc/b: user-owned}}
  promotion: {{suites: [bootstrap, placement], max_warnings: 1}}
"""

JOBS = """\
on: push
jobs:
  linux:
    runs-on: ubuntu-latest
    steps: [{run: nix develop --command cargo build --release}]
  arm:
    runs-on: ubuntu-24.04-arm
    steps: [{run: echo arm}]
  mac:
    runs-on: macos-15
    steps: [{run: cargo build --release}]
  win:
    runs-on: windows-latest
    steps: [{run: cargo build --release}]
  lane:
    runs-on: tinyland-nix
    steps: [{run: echo}]
"""


def run(
    root: Path, check: str, contract: Path | None = None, repo_name: str | None = None
) -> CaseResult:
    ctx = make_context(root, contract, Options(repo_name=repo_name))
    return run_case(ctx, "placement", Case(name="case", check=check, line=1))


# -- the catalogue -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "family", "platform"),
    [
        ("ubuntu-latest", "ubuntu", "linux/amd64"),
        ("ubuntu-22.04", "ubuntu", "linux/amd64"),
        ("ubuntu-24.04-arm", "ubuntu-arm", "linux/arm64"),
        ("ubuntu-latest-16-cores", "ubuntu", "linux/amd64"),
        ("macos-latest", "macos", "darwin/arm64"),
        ("macos-13", "macos", "darwin/amd64"),
        ("macos-15-intel", "macos", "darwin/amd64"),
        ("macos-14-large", "macos", "darwin/amd64"),
        ("macos-14-xlarge", "macos", "darwin/arm64"),
        ("windows-2025", "windows", "windows/amd64"),
        ("windows-11-arm", "windows", "windows/arm64"),
        ("Windows-Latest-8-Cores", "windows", "windows/amd64"),
    ],
)
def test_builtin_catalogue(label: str, family: str, platform: str) -> None:
    entry = builtin_label(label)
    assert entry is not None and (entry.family, entry.platform) == (family, platform)


def test_unknown_labels_are_not_hosted() -> None:
    assert builtin_label("myapp-nix") is None
    assert builtin_label("macos-fancy") is None
    assert builtin_label("self-hosted") is None


def test_contract_extends_the_catalogue() -> None:
    catalogue = HostedCatalogue(
        {"big-arm-*": "linux/arm64", "ubuntu-26.04": None, "corp-runner": None}
    )
    big = catalogue.lookup("big-arm-32")
    assert big is not None and (big.family, big.platform) == ("ubuntu-arm", "linux/arm64")
    plain = catalogue.lookup("corp-runner")
    assert plain is not None and plain.platform == "linux/amd64"
    listed = catalogue.lookup("ubuntu-26.04")
    assert listed is not None and listed.family == "ubuntu"


def test_self_hosted_os_labels_name_a_platform() -> None:
    assert self_hosted_platform(["self-hosted", "macOS", "ARM64"]) == "darwin/arm64"
    assert self_hosted_platform(["self-hosted", "linux"]) == "linux/amd64"
    assert self_hosted_platform(["self-hosted", "gpu"]) is None


# -- the contract --------------------------------------------------------------------------


def test_enrollment_section_is_read(tmp_path: Path) -> None:
    contract = load_contract(contract_with(tmp_path, ENROLLMENT))
    enrollment = contract.enrollment
    assert enrollment is not None
    assert enrollment.tranche_of("Tinyland-Inc/A") == "tranche-1"
    assert enrollment.ownership_of("tinyland-inc/b") == "user-owned"
    assert enrollment.ownership_of("tinyland-inc/a") == "repo-owned"
    assert enrollment.promotion.suites == ("bootstrap", "placement")
    exception = enrollment.exception_of("tinyland-inc/mac")
    assert exception is not None and exception.covers(("macos-15",))
    assert not exception.covers(("ubuntu-latest",))
    assert contract.enrolled("tinyland-inc/b") and not contract.enrolled("tinyland-inc/zzz")
    assert contract.enrolled(None)  # an unidentified checkout is judged as enrolled


def test_no_enrollment_section_enrols_everyone() -> None:
    contract = load_contract(BUNDLED_CONTRACT)
    assert contract.enrollment is None and contract.enrolled("anyone/anything")


def test_lane_platform_defaults_and_is_read(tmp_path: Path) -> None:
    text = HONEY.replace("  tinyland-dind:\n", "  tinyland-dind:\n    platform: linux/arm64\n")
    path = tmp_path / "c.yaml"
    path.write_text(text, encoding="utf-8")
    contract = load_contract(path)
    assert contract.lanes["tinyland-nix"].platform == "linux/amd64"
    assert contract.lanes["tinyland-dind"].platform == "linux/arm64"
    assert contract.lane_platforms == {"linux/amd64", "linux/arm64"}


def test_enrollment_problems_name_file_and_line(tmp_path: Path) -> None:
    bad = """\
enrollment:
  tranches:
    one: [org/a, org/b]
    two: [org/a]
  exceptions:
    not-a-repo: {reason: x, allow: [macos-15], until: "2027-02-30"}
"""
    path = contract_with(tmp_path, bad)
    with pytest.raises(HarnessInputError) as caught:
        load_contract(path)
    text = str(caught.value)
    base = HONEY.count("\n") + 1
    assert f"contract.yaml:{base + 4}: org/a is in two tranches (one and two)" in text
    assert "'not-a-repo' is not OWNER/REPO" in text
    assert "until '2027-02-30' is not a date" in text


def test_hosted_labels_mapping_form(tmp_path: Path) -> None:
    text = HONEY.replace(
        "hosted_labels: [ubuntu-latest, ubuntu-24.04, ubuntu-22.04]",
        "hosted_labels: {corp-mac-*: darwin/arm64, ubuntu-latest: linux/amd64}",
    )
    path = tmp_path / "c.yaml"
    path.write_text(text, encoding="utf-8")
    contract = load_contract(path)
    entry = contract.hosted_catalogue.lookup("corp-mac-m2")
    assert entry is not None and entry.os == "darwin"


# -- LANE001 and PLACE001 ------------------------------------------------------------------


def test_hosted_labels_of_every_family_are_known(tmp_path: Path) -> None:
    write_repo(tmp_path, {".github/workflows/ci.yml": JOBS})
    result = run(tmp_path, "lanes.known_labels")
    assert result.status is Status.PASSED and result.findings == []


def test_place001_never_for_macos_or_windows(tmp_path: Path) -> None:
    write_repo(tmp_path, {".github/workflows/ci.yml": JOBS})
    result = run(tmp_path, "placement.heavy_on_heavy_lane")
    assert [(f.rule, f.job) for f in result.findings] == [("PLACE001", "linux")]
    other = {m.name: m.value for m in result.measurements}
    assert other["placement.other_platform_variants"] == 3  # arm, mac, win


def test_place001_for_arm_when_the_heavy_lane_is_arm(tmp_path: Path) -> None:
    text = HONEY.replace("    heavy: true\n", "    heavy: true\n    platform: linux/arm64\n")
    path = tmp_path / "arm.yaml"
    path.write_text(text, encoding="utf-8")
    write_repo(
        tmp_path / "r",
        {".github/workflows/ci.yml": JOBS.replace("echo arm", "cargo build --release")},
    )
    result = run(tmp_path / "r", "placement.heavy_on_heavy_lane", path)
    assert [f.job for f in result.findings] == ["arm"]


# -- LANE004 -------------------------------------------------------------------------------


def test_lane004_skips_without_enrollment(tmp_path: Path) -> None:
    write_repo(tmp_path, {".github/workflows/ci.yml": JOBS})
    result = run(tmp_path, "lanes.hosted_linux", repo_name="tinyland-inc/a")
    assert result.status is Status.SKIPPED and "no `enrollment` section" in result.reason


def test_lane004_hosted_linux_in_an_enrolled_repo(tmp_path: Path) -> None:
    contract = contract_with(tmp_path, ENROLLMENT)
    write_repo(tmp_path / "a", {".github/workflows/ci.yml": JOBS})
    result = run(tmp_path / "a", "lanes.hosted_linux", contract, "tinyland-inc/a")
    assert result.status is Status.FAILED
    by_job = {f.job: f for f in result.findings}
    assert set(by_job) == {"linux", "arm"}  # never the macOS or Windows jobs
    assert "move it to the lane `tinyland-nix`" in by_job["linux"].message
    assert "no lane serves linux/arm64: record a hosted exception" in by_job["arm"].message
    assert by_job["linux"].line == 4


def test_lane004_exception_in_force_covers(tmp_path: Path) -> None:
    contract = contract_with(tmp_path, ENROLLMENT)
    write_repo(tmp_path / "mac", {".github/workflows/ci.yml": JOBS})
    result = run(tmp_path / "mac", "lanes.hosted_linux", contract, "tinyland-inc/mac")
    assert [f.job for f in result.findings] == ["linux"]  # arm is allowed until FUTURE


def test_lane004_expired_exception_is_a_finding(tmp_path: Path) -> None:
    contract = contract_with(tmp_path, ENROLLMENT)
    write_repo(tmp_path / "b", {".github/workflows/ci.yml": JOBS})
    result = run(tmp_path / "b", "lanes.hosted_linux", contract, "tinyland-inc/b")
    linux = next(f for f in result.findings if f.job == "linux")
    assert f"expired hosted exception (until {PAST}: legacy docs build)" in linux.message


def test_lane004_expired_exception_covering_nothing_points_at_the_contract(tmp_path: Path) -> None:
    contract = contract_with(tmp_path, ENROLLMENT)
    write_repo(
        tmp_path / "b",
        {
            ".github/workflows/ci.yml": JOBS.replace("ubuntu-latest", "tinyland-nix").replace(
                "ubuntu-24.04-arm", "tinyland-nix"
            )
        },
    )
    result = run(tmp_path / "b", "lanes.hosted_linux", contract, "tinyland-inc/b")
    (finding,) = result.findings
    assert finding.file == str(contract) and finding.line == HONEY.count("\n") + 9
    assert f"expired on {PAST}" in finding.message


# -- guidance outside the tranches ---------------------------------------------------------


def test_not_enrolled_lane_and_placement_findings_are_notes(tmp_path: Path) -> None:
    contract = contract_with(tmp_path, ENROLLMENT)
    write_repo(tmp_path / "z", {".github/workflows/ci.yml": JOBS})
    for check in ("placement.heavy_on_heavy_lane", "lanes.hosted_linux"):
        result = run(tmp_path / "z", check, contract, "tinyland-inc/zzz")
        assert result.status is Status.PASSED
        assert result.findings and {f.severity for f in result.findings} == {Severity.NOTE}
        assert "rollout guidance: tinyland-inc/zzz is not enrolled" in result.reason


def test_unidentified_checkout_is_judged_as_enrolled(tmp_path: Path) -> None:
    contract = contract_with(tmp_path, ENROLLMENT)
    write_repo(tmp_path / "x", {".github/workflows/ci.yml": JOBS})
    result = run(tmp_path / "x", "placement.heavy_on_heavy_lane", contract)
    assert result.status is Status.FAILED


def test_check_command_repo_name_decides_enrollment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from harness.cli import main

    contract = contract_with(tmp_path, ENROLLMENT)
    write_repo(tmp_path / "r", {".github/workflows/ci.yml": JOBS})
    base = [
        "check",
        "--repo",
        str(tmp_path / "r"),
        "--contract",
        str(contract),
        "--suite",
        "placement",
    ]
    assert main([*base, "--repo-name", "tinyland-inc/a"]) == 1
    out = capsys.readouterr().out
    assert "error: job `linux` runs on the GitHub-hosted Linux runner" in out
    assert main([*base, "--repo-name", "tinyland-inc/zzz"]) == 0
    assert "note: job `linux`" in capsys.readouterr().out
    assert main([*base, "--repo-name", "not a name"]) == 2
    assert "--repo-name must be OWNER/REPO, got 'not a name'" in capsys.readouterr().err
