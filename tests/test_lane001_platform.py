"""LANE001's "did you mean" never names a lane or hosted label of another platform; the
platform is told by the label, the other labels of its `runs-on`, or the matrix `os`.
Fixtures are shaped like the labels real repositories mistype."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.contract import BUNDLED_CONTRACT, load_contract
from harness.fixes import plan_fixes
from harness.github.hosted import PlatformHint, platform_hint
from harness.github.suggest import label_candidates, label_hint, suggest_label
from tests.helpers.repos import findings, workflow, write_repo

HONEY = load_contract(BUNDLED_CONTRACT, "bundled:honey.yaml")


def _message(tmp_path: Path, runs_on: str, extra: str = "") -> str:
    write_repo(
        tmp_path,
        workflow(
            "on: push\njobs:\n  build:\n"
            f"{extra}    runs-on: {runs_on}\n    steps: [{{run: echo}}]\n"
        ),
    )
    (finding,) = findings(tmp_path, "lanes.known_labels", "LANE001")
    return finding.message


@pytest.mark.parametrize(
    ("runs_on", "meant"),
    [
        ("macos-14-arm", "macos-14"),  # an arm64 macOS label that does not exist
        ("macos-15-arm", "macos-15"),
        ("macos-lastest", "macos-latest"),
        ("windows-latests", "windows-latest"),
        ("ubuntu-2404-arm", "ubuntu-24.04-arm"),  # arm64 Linux: no arm64 lane in honey
        ("tinyland-nix-hevy", "tinyland-nix-heavy"),  # a lane typo: no platform words
        ("tinyland-nixx", "tinyland-nix"),
        ("[self-hosted, macOS, ARM64, tinyland-nixx]", None),  # a mac: never a Linux lane
    ],
)
def test_the_suggestion_is_of_the_labels_platform(
    tmp_path: Path, runs_on: str, meant: str | None
) -> None:
    message = _message(tmp_path, runs_on)
    if meant is None:
        assert "did you mean" not in message
    else:
        assert message.endswith(f"(did you mean `{meant}`?)")
    assert "tinyland-nix`?" not in message or meant == "tinyland-nix"


def test_macos_arm_is_never_told_to_use_a_linux_lane(tmp_path: Path) -> None:
    message = _message(tmp_path, "macos-14-arm")
    assert "tinyland-nix" not in message
    assert "`macos-14`" in message


def test_the_matrix_os_tells_the_platform(tmp_path: Path) -> None:
    matrix = (
        "    strategy:\n      matrix:\n        include:\n"
        "          - {os: macos-14, runner: tinyland-mac}\n"
    )
    message = _message(tmp_path, "${{ matrix.runner }}", extra=matrix)
    assert "`tinyland-mac`" in message
    assert "did you mean" not in message  # no darwin lane; Linux lanes are not offered


def test_a_linux_matrix_keeps_the_lane_suggestion(tmp_path: Path) -> None:
    matrix = "    strategy:\n      matrix:\n        os: [ubuntu-latest]\n"
    message = _message(tmp_path, "[tinyland-nix-hevy]", extra=matrix)
    assert message.endswith("(did you mean `tinyland-nix-heavy`?)")


def test_hints_read_label_words_and_nix_systems() -> None:
    assert platform_hint("macos-14-arm") == PlatformHint("darwin", "arm64")
    assert platform_hint("aarch64-linux") == PlatformHint("linux", "arm64")
    assert platform_hint("x86_64-darwin") == PlatformHint("darwin", "amd64")
    assert platform_hint("win11-builder") == PlatformHint("windows", None)
    assert platform_hint("tinyland-nix-hevy") is None
    assert label_hint(HONEY, "my-box", ["self-hosted", "Linux", "ARM64"]) == PlatformHint(
        "linux", "arm64"
    )
    assert label_hint(HONEY, "my-box", (), {"system": "aarch64-darwin"}) == PlatformHint(
        "darwin", "arm64"
    )


def test_candidates_of_a_platform_hold_no_other_platform() -> None:
    darwin = label_candidates(HONEY, PlatformHint("darwin", None))
    assert "macos-14" in darwin and "macos-13" in darwin
    assert not [c for c in darwin if c.startswith(("tinyland", "ubuntu", "windows"))]
    assert "tinyland-nix" in label_candidates(HONEY, None)
    assert suggest_label(HONEY, "macos-14-arm") == "macos-14"


def test_the_fix_takes_its_one_candidate_from_the_same_platform(tmp_path: Path) -> None:
    write_repo(
        tmp_path,
        workflow("on: push\njobs:\n  mac:\n    runs-on: macos-15x\n    steps: [{run: echo}]\n"),
    )
    plan = plan_fixes(tmp_path, rules=["LANE001"], unsafe=True)
    assert [o.description for o in plan.applied] == ["runs-on `macos-15x` -> `macos-15`"]
