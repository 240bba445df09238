"""BOOT001/BOOT002 under step conditions: three-valued per variant, complementary installs,
continue-on-error, detect-or-install composites, statically false jobs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness.results import Finding
from tests.helpers.repos import findings, workflow, write_repo

INSTALL = "DeterminateSystems/nix-installer-action@v16"


def boot(tmp_path: Path, body: str, extra: dict[str, str] | None = None) -> list[Finding]:
    write_repo(tmp_path, {**workflow(body), **(extra or {})})
    return findings(tmp_path, "bootstrap.workflow_owned_nix")


def brief(found: list[Finding]) -> list[tuple[str, str, str | None, int | None]]:
    return [(f.rule, f.severity.value, f.file, f.line) for f in found]


def test_complementary_conditions_are_certain(tmp_path: Path) -> None:
    assert (
        boot(
            tmp_path,
            f"""\
        on: [push]
        jobs:
          build:
            runs-on: tinyland-nix
            steps:
              - if: runner.os == 'Linux'
                uses: {INSTALL}
              - if: runner.os != 'Linux'
                uses: cachix/install-nix-action@v31
              - run: nix build
        """,
        )
        == []
    )


def test_detect_or_install_composite_is_boot002_error_on_a_lane(tmp_path: Path) -> None:
    found = boot(
        tmp_path,
        """\
        on: [push]
        jobs:
          build:
            runs-on: tinyland-nix
            steps:
              - uses: ./.github/actions/setup-nix
              - run: nix build
          hosted:
            runs-on: ubuntu-latest
            steps:
              - uses: ./.github/actions/setup-nix
              - run: nix build
        """,
        {
            ".github/actions/setup-nix/action.yml": f"""\
        runs:
          using: composite
          steps:
            - id: detect
              shell: bash
              run: command -v nix && echo installed=true >> "$GITHUB_OUTPUT" || true
            - if: steps.detect.outputs.installed != 'true'
              uses: {INSTALL}
        """
        },
    )
    assert brief(found) == [
        ("BOOT002", "error", ".github/workflows/ci.yml", 7),
        ("BOOT002", "warning", ".github/workflows/ci.yml", 12),
    ]
    assert (
        "after `./.github/actions/setup-nix`, which installs Nix only "
        "`if: steps.detect.outputs.installed != 'true'` "
        "(.github/actions/setup-nix/action.yml:7)" in found[0].message
    )


def test_continue_on_error_is_not_a_guarantee(tmp_path: Path) -> None:
    found = boot(
        tmp_path,
        f"""\
        on: [push]
        jobs:
          build:
            runs-on: tinyland-nix
            steps:
              - uses: {INSTALL}
                continue-on-error: true
              - run: nix build
        """,
    )
    assert brief(found) == [("BOOT002", "error", ".github/workflows/ci.yml", 8)]
    assert "with `continue-on-error`" in found[0].message


def test_input_dependent_install_is_judged_per_value(tmp_path: Path) -> None:
    write_repo(
        tmp_path,
        {
            ".github/workflows/build.yml": f"""\
            on:
              workflow_call:
                inputs:
                  install: {{type: boolean, default: true}}
            jobs:
              build:
                runs-on: tinyland-nix
                steps:
                  - if: inputs.install
                    uses: {INSTALL}
                  - run: nix build
            """,
            ".github/workflows/ci.yml": """\
            on: [push]
            jobs:
              yes: {uses: ./.github/workflows/build.yml, with: {install: true}}
              no: {uses: ./.github/workflows/build.yml, with: {install: false}}
            """,
        },
    )
    found = findings(tmp_path, "bootstrap.workflow_owned_nix")
    assert [(f.rule, f.job) for f in found] == [("BOOT001", "no/build")]


def test_statically_false_job_is_not_analysed(tmp_path: Path) -> None:
    assert (
        boot(
            tmp_path,
            """\
        on: [push]
        jobs:
          disabled:
            if: false
            runs-on: tinyland-nix
            steps:
              - run: nix build
        """,
        )
        == []
    )


def test_install_under_a_matrix_condition_fails_only_that_variant(tmp_path: Path) -> None:
    found = boot(
        tmp_path,
        f"""\
        on: [push]
        jobs:
          build:
            strategy:
              matrix:
                nix: [install, preinstalled]
            runs-on: tinyland-nix
            steps:
              - if: matrix.nix == 'install'
                uses: {INSTALL}
              - run: nix build
        """,
    )
    assert [f.rule for f in found] == ["BOOT001"]
    assert found[0].message.endswith("(when nix=preinstalled)")


def test_a_matrix_without_conditions_is_judged_once_for_every_variant(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from harness.checks import bootstrap
    from harness.github.guarantee import verdict as real

    judged: list[object] = []

    def counted(*args: Any) -> Any:
        judged.append(args[2])
        return real(*args)

    monkeypatch.setattr(bootstrap, "verdict", counted)
    found = boot(
        tmp_path,
        """\
        on: [push]
        jobs:
          build:
            strategy:
              matrix:
                os: [a, b, c]
                version: [1, 2]
            runs-on: tinyland-nix
            steps:
              - run: nix build .#${{ matrix.os }}
        """,
    )
    assert len(judged) == 1  # six variants, one set of steps that always run
    assert [f.rule for f in found] == ["BOOT001"]
    assert "(when" not in found[0].message  # every variant fails alike


def test_publish_path_needs_a_certain_bootstrap(tmp_path: Path) -> None:
    write_repo(
        tmp_path,
        workflow(f"""\
        on: {{push: {{tags: ['v*']}}}}
        jobs:
          validate:
            runs-on: tinyland-nix
            steps:
              - uses: {INSTALL}
                continue-on-error: true
              - run: nix flake check
          gate:
            needs: [validate]
            runs-on: tinyland-nix
            steps:
              - run: nox -s release_gate
          publish:
            needs: [gate]
            runs-on: ubuntu-latest
            permissions: {{id-token: write, contents: read}}
            steps:
              - uses: DeterminateSystems/flakehub-push@v5
        """),
    )
    found = findings(tmp_path, "publication.order")
    assert [f.rule for f in found] == ["PUB001"]
