"""PLACE001/PLACE002 on fixture repos: matrices, reusable workflows, wrapped commands."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from harness.checks.api import CheckContext, CheckFn, Skip
from harness.checks.placement import (
    BUILTIN_HEAVY,
    Pattern,
    Patterns,
    check_heavy_on_heavy_lane,
    check_light_off_heavy_lane,
)
from harness.contract import BUNDLED_CONTRACT
from harness.engine import make_context
from harness.github.shell import commands
from harness.results import CheckOutput, Severity

FIXTURES = Path(__file__).parent / "fixtures" / "repos"
PLACEMENT = FIXTURES / "placement"
BUILD = ".github/workflows/build.yml"


def run(
    check: CheckFn,
    repo: Path,
    contract: Path | None = None,
    params: Mapping[str, Any] | None = None,
) -> CheckOutput:
    ctx: CheckContext = make_context(repo, contract)
    return check(ctx, params or {})


def contract_with(tmp_path: Path, placement: str) -> Path:
    """The bundled contract with its `placement:` section replaced."""
    text = BUNDLED_CONTRACT.read_text()
    head, rest = text.split("placement:\n", 1)
    tail = rest.split("\n", 1)[1] if rest.startswith("  heavy_lane") else rest
    path = tmp_path / "fleet.yaml"
    path.write_text(head + placement.rstrip("\n") + "\n" + tail)
    return path


def words(script: str) -> list[tuple[str, ...]]:
    return [c.words for c in commands(script)]


@pytest.mark.parametrize(
    ("pattern", "script", "expected"),
    [
        ("cargo build --release", "cargo build --release", True),
        ("cargo build --release", "cargo build -p core --locked --release", True),
        ("cargo build --release", "cargo --release build", False),
        ("cargo build --release", "cargo build", False),
        ("cargo nextest", "cargo nextest run --workspace", True),
        (
            "nix build *nixosConfigurations.*.config.system.build.toplevel",
            "nix build -L .#nixosConfigurations.sting.config.system.build.toplevel",
            True,
        ),
        (
            "nix build *nixosConfigurations.*.config.system.build.toplevel",
            "nix build .#docs",
            False,
        ),
        ("nixos-rebuild build", "/run/current-system/sw/bin/nixos-rebuild build --flake .#h", True),
    ],
)
def test_pattern_matching(pattern: str, script: str, expected: bool) -> None:
    command = commands(script)[0]
    assert Pattern.parse(pattern).matches(command) is expected


def test_wrapped_commands_are_seen_and_light_patterns_exempt() -> None:
    patterns = Patterns.build(light=["cargo build --release -p docs-gen"])
    wrapped = [
        c
        for c in commands("nix develop --command cargo build --release")
        if patterns.heavy_match(c)
    ]
    assert [c.words for c in wrapped] == [("cargo", "build", "--release")]
    exempt = commands("cargo build --release -p docs-gen")[0]
    assert patterns.heavy_match(exempt) is None
    assert not [c for c in commands('echo "cargo build --release"') if patterns.heavy_match(c)]


def test_builtin_patterns_parse() -> None:
    assert all(Pattern.parse(p).words for p in BUILTIN_HEAVY)
    with pytest.raises(ValueError, match="empty"):
        Pattern.parse("   ")


def test_place001_true_and_false_positives() -> None:
    out = run(check_heavy_on_heavy_lane, PLACEMENT)
    got = sorted((f.job, f.file, f.line) for f in out.findings)
    assert got == sorted(
        [
            ("release-wrapped", BUILD, 7),  # nix develop --command cargo build --release
            ("include-lanes", BUILD, 34),  # only the aarch64 include lands on tinyland-nix
            ("nixos-system", BUILD, 58),  # sudo nixos-rebuild build
            ("hosted-release", BUILD, 73),  # env X=1 cargo build --release on ubuntu-latest
            ("call-light/test", BUILD, 79),  # the caller's `with: lane:` line
            ("call-light/via-action-heavy", BUILD, 79),  # composite action input `command:`
        ]
    )
    assert all(f.rule == "PLACE001" and f.severity is Severity.ERROR for f in out.findings)
    include = next(f for f in out.findings if f.job == "include-lanes")
    assert "target=aarch64" in include.message and "x86_64" not in include.message
    jobs = {f.job for f in out.findings}
    # per-variant truth: matrix-selected heavy lane, step if: on the matrix, plain nix build
    assert not jobs & {
        "profiles",
        "step-if",
        "docs",
        "release-on-heavy",
        "nixos-toplevel",
        "call-heavy/test",
        "call-heavy/via-action-heavy",
        "call-light/via-action-light",
        "call-light/via-action-skipped",
    }
    via = next(f for f in out.findings if f.job == "call-light/via-action-heavy")
    assert ".github/actions/rust-build/action.yml:12" in via.message


def test_place002_warns_only_for_light_jobs_on_heavy_lane() -> None:
    out = run(check_light_off_heavy_lane, PLACEMENT)
    assert [(f.rule, f.job, f.line, f.severity) for f in out.findings] == [
        ("PLACE002", "lint-on-heavy", 68, Severity.WARNING)
    ]


def test_contract_light_commands_override_builtin(tmp_path: Path) -> None:
    contract = contract_with(
        tmp_path,
        "placement:\n  heavy_lane: tinyland-nix-heavy\n"
        "  light_commands: ['cargo build --release --locked']\n",
    )
    jobs = {f.job for f in run(check_heavy_on_heavy_lane, PLACEMENT, contract).findings}
    assert "release-wrapped" not in jobs
    assert "hosted-release" in jobs


def test_contract_heavy_commands_extend(tmp_path: Path) -> None:
    contract = contract_with(
        tmp_path,
        "placement:\n  heavy_lane: tinyland-nix-heavy\n  heavy_commands: ['nix build .#docs']\n",
    )
    out = run(check_heavy_on_heavy_lane, PLACEMENT, contract)
    docs = [f for f in out.findings if f.job == "docs"]
    assert len(docs) == 1 and "nix build .#docs" in docs[0].message
    light = run(check_light_off_heavy_lane, PLACEMENT, contract)
    assert {f.job for f in light.findings} == {"lint-on-heavy"}


def test_reusable_default_input_used_when_caller_passes_none(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(PLACEMENT, repo)
    build = repo / BUILD
    text = build.read_text().replace("    with:\n      lane: tinyland-nix\n", "")
    build.write_text(text)
    jobs = {f.job for f in run(check_heavy_on_heavy_lane, repo).findings}
    assert "call-light/test" not in jobs  # the callee's default is the heavy lane


def test_skips_without_workflows(tmp_path: Path) -> None:
    with pytest.raises(Skip, match="no GitHub Actions workflows"):
        run(check_heavy_on_heavy_lane, tmp_path)


TOLD_APART = {
    # a step's `if:` without `${{ }}`: variant `b` skips the heavy step
    "bare-if": "      - if: matrix.x == 'a'\n        run: cargo build --release\n",
    # an expression with both kinds of quotes around it (Python's repr would escape them):
    # variant `b` runs a light command
    "quoted-expression": (
        "      - run: ${{ matrix.x == 'a' && 'cargo' || 'echo' }} build --release \"now\"\n"
    ),
}


@pytest.mark.parametrize("order", ["[a, b]", "[b, a]"])
@pytest.mark.parametrize("step", sorted(TOLD_APART))
def test_variants_told_apart_by_what_their_steps_read(
    tmp_path: Path, order: str, step: str
) -> None:
    """What a step's expressions and bare `if:` read is part of what a variant changes, read
    as written: variant `a` runs the heavy command off the heavy lane, variant `b` runs none
    on the heavy lane, whichever variant is read first."""
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "a.yml").write_text(
        "on: push\njobs:\n  build:\n    strategy:\n      matrix:\n"
        f"        x: {order}\n"
        "    runs-on: ${{ matrix.x == 'a' && 'tinyland-nix' || 'tinyland-nix-heavy' }}\n"
        "    steps:\n" + TOLD_APART[step]
    )
    ctx = make_context(tmp_path)  # both rules share what the model remembers, as in a run
    heavy = check_heavy_on_heavy_lane(ctx, {}).findings
    light = check_light_off_heavy_lane(ctx, {}).findings
    assert [(f.rule, "x=a" in f.message) for f in heavy] == [("PLACE001", True)]
    assert [(f.rule, "x=b" in f.message) for f in light] == [("PLACE002", True)]
