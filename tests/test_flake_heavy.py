"""Heavy work hidden behind a flake: `nix build .#X` is heavy when X builds Rust (PLACE001)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from harness.checks.placement import check_heavy_on_heavy_lane, check_light_off_heavy_lane
from harness.engine import make_context
from harness.nixflake import FlakeHeaviness, heavy_reason, installables, load_flake
from tests.test_placement_rules import contract_with

FLAKE_RUST = Path(__file__).parent / "fixtures" / "repos" / "flake_rust"


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        ("daemon", "crane buildPackage in nix/daemon.nix:3"),
        ("default", "crane buildPackage in nix/daemon.nix:3"),
        ("tool", "naersk buildPackage in nix/naersk-tool.nix:2"),
        ("cli", "rustPlatform.buildRustPackage in flake.nix:16"),
        ("site", "a derivation running `cargo build` in flake.nix:18"),
        ("clippy", "crane cargoClippy in flake.nix:24"),
        ("docs", None),
        ("fmt", None),
        ("missing", None),
    ],
)
def test_outputs_are_judged_from_their_definitions(output: str, expected: str | None) -> None:
    index = load_flake(FLAKE_RUST)
    assert index is not None
    reason = heavy_reason(index, output)
    assert (str(reason) if reason else None) == expected


@pytest.mark.parametrize(
    ("args", "heavy"),
    [
        ("build .#daemon --print-build-logs", "flake output `daemon`"),
        ("build -L -o result .#packages.x86_64-linux.tool", "flake output `tool`"),
        ("build", "flake output `default`"),
        ("build path:.#cli", "flake output `cli`"),
        ("run .#cli -- build", "flake output `cli`"),
        ("flake check --print-build-logs", "check `clippy`"),
        ("build .#docs", None),
        ("build github:tinyland-inc/other#daemon", None),
        ("build nixpkgs#hello", None),
        ("develop -c make docs", None),
        ("build ./../outside#daemon", None),
        ("eval .#daemon.name", None),
    ],
)
def test_nix_commands_name_the_output_they_build(args: str, heavy: str | None) -> None:
    why = FlakeHeaviness(FLAKE_RUST).explain("nix", tuple(args.split()))
    if heavy is None:
        assert why is None
    else:
        assert why is not None and heavy in why


def test_installables_skip_option_values() -> None:
    assert installables(("build", "--option", "cores", "4", "-o", "out", ".#a", ".#b")) == (
        "build",
        [".#a", ".#b"],
    )
    assert installables(("flake", "check", "./sub")) == ("flake check", ["./sub"])


def test_place001_names_the_output_and_why(tmp_path: Path) -> None:
    out = check_heavy_on_heavy_lane(make_context(FLAKE_RUST), {})
    found = {f.job: f.message for f in out.findings}
    assert set(found) == {"daemon", "check"}
    assert (
        "flake output `daemon` is a Rust build: crane buildPackage in nix/daemon.nix:3"
        in found["daemon"]
    )
    assert "builds check `clippy`: crane cargoClippy in flake.nix:24" in found["check"]


def test_heavy_lane_job_building_a_rust_output_is_not_place002() -> None:
    out = check_light_off_heavy_lane(make_context(FLAKE_RUST), {})
    assert [f.job for f in out.findings] == []


def test_contract_heavy_outputs_override_the_reading(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(FLAKE_RUST, repo)
    contract = contract_with(
        tmp_path, "placement:\n  heavy_lane: tinyland-nix-heavy\n  heavy_outputs: [docs]\n"
    )
    out = check_heavy_on_heavy_lane(make_context(repo, contract), {})
    found = {f.job: f.message for f in out.findings}
    assert set(found) == {"docs"}
    assert "listed in placement.heavy_outputs" in found["docs"]


def test_a_flake_with_syntax_errors_is_read_tolerantly(tmp_path: Path) -> None:
    (tmp_path / "flake.nix").write_text(
        "{ outputs = { self, crane }: {\n"
        "  packages.x86_64-linux.app = craneLib.buildPackage { src = ./.; };\n"
        "  packages.x86_64-linux.broken = { = ;\n}; }\n"
    )
    index = load_flake(tmp_path)
    assert index is not None
    assert str(heavy_reason(index, "app")) == "crane buildPackage in flake.nix:2"


def test_imports_outside_the_repository_are_not_read(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (tmp_path / "evil.nix").write_text("craneLib.buildPackage { }\n")
    (repo / "flake.nix").write_text(
        "{ outputs = _: { packages.x86_64-linux.app = import ../evil.nix; }; }\n"
    )
    index = load_flake(repo)
    assert index is not None
    assert heavy_reason(index, "app") is None
