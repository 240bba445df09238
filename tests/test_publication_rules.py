"""PUB001-PUB004, job roles, and three-valued `if:` conditions."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from harness.checks.api import CheckFn, Skip
from harness.checks.publication import check_not_runtime, check_order, check_permissions
from harness.engine import make_context
from harness.github.conditions import MAYBE, evaluate_condition, names_status_function
from harness.github.roles import command_role
from harness.github.shell import commands
from harness.results import CheckOutput, Severity

FIXTURES = Path(__file__).parent / "fixtures" / "repos"
GOOD = FIXTURES / "publication_good"
BAD = FIXTURES / "publication_bad"


def run(check: CheckFn, repo: Path) -> CheckOutput:
    return check(make_context(repo), {})


def summary(out: CheckOutput) -> list[tuple[str, str | None, int | None]]:
    return sorted((f.rule, f.file, f.line) for f in out.findings)


def write_workflow(root: Path, name: str, text: str) -> Path:
    directory = root / ".github" / "workflows"
    directory.mkdir(parents=True, exist_ok=True)
    (directory / name).write_text(textwrap.dedent(text))
    return root


@pytest.mark.parametrize(
    ("script", "role"),
    [
        ("nix flake check", "validate"),
        ("nix --accept-flake-config flake check -L", "validate"),
        ("nix develop --command nox -s validate", "validate"),
        ("pipx run nox -s release_gate", "gate"),
        ("python -m nox --session release_gate", "gate"),
        ("flywheel-harness gate --evidence e.json", "gate"),
        ("flywheel-harness check --repo .", "validate"),
        ("python -m harness check", "validate"),
        ("nix build .#checks.x86_64-linux.default", None),
        ("nox -s tests", None),
        ("echo nox -s release_gate", None),
    ],
)
def test_command_roles(script: str, role: str | None) -> None:
    roles = {command_role(c) for c in commands(script)} - {None}
    assert roles == ({role} if role else set())


def test_conditions_three_valued() -> None:
    failed = {
        "needs": {"a": {"result": "failure"}},
        "__status__": {"success": False, "always": True, "failure": True, "cancelled": False},
    }
    assert evaluate_condition("${{ always() }}", failed) is True
    assert evaluate_condition("!cancelled()", failed) is True
    # no status function: GitHub's implicit success() makes it false when a need failed
    assert evaluate_condition("github.ref == 'refs/heads/main'", failed) is False
    assert evaluate_condition("always() && needs.a.result == 'success'", failed) is False
    assert evaluate_condition("always() && github.ref == 'refs/heads/main'", failed) is MAYBE
    pr = {
        "github": {"event_name": "pull_request"},
        "__status__": {"success": True, "always": True, "failure": False, "cancelled": False},
    }
    assert evaluate_condition("github.event_name == 'push' && unknown.x", pr) is False
    assert evaluate_condition("github.event_name != 'push' || unknown.x", pr) is True
    assert names_status_function("${{ !cancelled() && x }}")
    assert not names_status_function("contains(github.ref, 'always()')")


def test_good_repository_passes_every_case() -> None:
    for check in (check_order, check_not_runtime, check_permissions):
        out = run(check, GOOD)
        assert out.findings == [], (check.__name__, out.findings)


def test_order_findings_in_bad_repository() -> None:
    out = run(check_order, BAD)
    assert summary(out) == [
        ("PUB001", ".github/workflows/publish-after-ci.yml", 13),  # ungated workflow_run
        ("PUB001", ".github/workflows/release.yml", 24),  # always() without fail-first
        ("PUB002", ".github/workflows/ci.yml", 29),  # no gate at all
        ("PUB002", ".github/workflows/publish-after-ci.yml", 13),
        ("PUB002", ".github/workflows/release.yml", 24),
    ]
    always = next(f for f in out.findings if f.rule == "PUB001" and "release" in (f.file or ""))
    assert "always()" in always.message and "needs.*.result" in always.message


def test_fail_first_step_must_cover_cancelled_too(tmp_path: Path) -> None:
    write_workflow(
        tmp_path,
        "release.yml",
        """\
        on: {push: {tags: ["v*"]}}
        jobs:
          validate:
            runs-on: tinyland-nix
            steps:
              - uses: DeterminateSystems/nix-installer-action@v16
              - run: nix flake check
          gate:
            runs-on: tinyland-nix
            steps: [{run: nox -s release_gate}]
          publish:
            needs: [validate, gate]
            if: always()
            runs-on: tinyland-nix
            permissions: {id-token: write}
            steps:
              - if: contains(needs.*.result, 'failure')
                run: exit 1
              - uses: DeterminateSystems/flakehub-push@v5
        """,
    )
    assert {f.rule for f in run(check_order, tmp_path).findings} == {"PUB001", "PUB002"}
    text = (tmp_path / ".github/workflows/release.yml").read_text()
    (tmp_path / ".github/workflows/release.yml").write_text(
        text.replace(
            "if: contains(needs.*.result, 'failure')",
            "if: contains(needs.*.result, 'failure') || contains(needs.*.result, 'cancelled')",
        )
    )
    assert run(check_order, tmp_path).findings == []


def test_publish_step_after_a_failing_step_in_script_form(tmp_path: Path) -> None:
    write_workflow(
        tmp_path,
        "release.yml",
        """\
        on: {push: {tags: ["v*"]}}
        jobs:
          validate:
            runs-on: tinyland-nix
            steps:
              - uses: DeterminateSystems/nix-installer-action@v16
              - run: nix flake check
          gate:
            needs: validate
            runs-on: tinyland-nix
            steps: [{run: flywheel-harness gate}]
          publish:
            needs: gate
            if: ${{ !cancelled() }}
            runs-on: tinyland-nix
            permissions: {id-token: write}
            steps:
              - env:
                  X: 1
                run: |
                  bad="${{ contains(needs.*.result, 'failure')
                           || contains(needs.*.result, 'cancelled') }}"
                  if [ "$bad" = true ]; then
                    exit 1
                  fi
              - uses: DeterminateSystems/flakehub-push@v5
        """,
    )
    assert run(check_order, tmp_path).findings == []


def test_runtime_path_findings() -> None:
    out = run(check_not_runtime, BAD)
    assert summary(out) == [
        ("PUB003", ".github/workflows/ci.yml", 7),  # installer with flakehub: true
        ("PUB003", ".github/workflows/ci.yml", 10),  # flakehub-cache-action
        ("PUB003", ".github/workflows/ci.yml", 16),  # nix run https://flakehub.com/f/...
        ("PUB003", "flake.nix", 2),  # input resolved from FlakeHub
    ]


def test_permissions_and_pull_request_reachability() -> None:
    out = run(check_permissions, BAD)
    assert summary(out) == [
        ("PUB004", ".github/workflows/ci.yml", 2),  # on: pull_request
        ("PUB004", ".github/workflows/ci.yml", 25),  # permissions without id-token
        ("PUB004", ".github/workflows/publish-after-ci.yml", 2),  # workflow_run of a PR run
    ]
    assert all(f.severity is Severity.ERROR for f in out.findings)


def test_unprovable_pull_request_exclusion_is_a_warning(tmp_path: Path) -> None:
    write_workflow(
        tmp_path,
        "ci.yml",
        """\
        on: [push, pull_request]
        permissions: {id-token: write}
        jobs:
          publish:
            if: github.ref == format('refs/heads/{0}', inputs.branch)
            runs-on: tinyland-nix
            steps:
              - uses: DeterminateSystems/flakehub-push@v5
        """,
    )
    out = run(check_permissions, tmp_path)
    assert [(f.rule, f.severity) for f in out.findings] == [("PUB004", Severity.WARNING)]


def test_skip_without_publish_job(tmp_path: Path) -> None:
    write_workflow(
        tmp_path,
        "ci.yml",
        """\
        on: push
        jobs:
          build: {runs-on: tinyland-nix, steps: [{run: echo hi}]}
        """,
    )
    with pytest.raises(Skip, match="no FlakeHub publish job"):
        run(check_order, tmp_path)
    assert run(check_not_runtime, tmp_path).findings == []


def test_publish_in_reusable_workflow_follows_the_callers_needs(tmp_path: Path) -> None:
    write_workflow(
        tmp_path,
        "publish.yml",
        """\
        on:
          workflow_call: {}
        jobs:
          push:
            runs-on: tinyland-nix
            permissions: {id-token: write}
            steps:
              - uses: DeterminateSystems/nix-installer-action@v16
              - uses: DeterminateSystems/flakehub-push@v5
        """,
    )
    write_workflow(
        tmp_path,
        "release.yml",
        """\
        on: {push: {tags: ["v*"]}}
        permissions: {id-token: write, contents: read}
        jobs:
          validate:
            runs-on: tinyland-nix
            steps:
              - uses: DeterminateSystems/nix-installer-action@v16
              - run: nix flake check
          gate:
            needs: validate
            runs-on: tinyland-nix
            steps: [{run: nox -s release_gate}]
          publish:
            needs: gate
            uses: ./.github/workflows/publish.yml
        """,
    )
    assert run(check_order, tmp_path).findings == []
    assert run(check_permissions, tmp_path).findings == []
    release = tmp_path / ".github/workflows/release.yml"
    release.write_text(release.read_text().replace("    needs: gate\n    uses:", "    uses:"))
    out = run(check_order, tmp_path)
    assert sorted((f.rule, f.job, f.file) for f in out.findings) == [
        ("PUB001", "publish/push", ".github/workflows/publish.yml"),
        ("PUB002", "publish/push", ".github/workflows/publish.yml"),
    ]


def test_a_caller_without_permissions_cannot_lend_id_token(tmp_path: Path) -> None:
    write_workflow(
        tmp_path,
        "publish.yml",
        """\
        on:
          workflow_call: {}
        jobs:
          push:
            runs-on: tinyland-nix
            permissions: {id-token: write}
            steps:
              - uses: DeterminateSystems/nix-installer-action@v16
              - uses: DeterminateSystems/flakehub-push@v5
        """,
    )
    write_workflow(
        tmp_path,
        "release.yml",
        """\
        on: {push: {tags: ["v*"]}}
        jobs:
          publish:
            uses: ./.github/workflows/publish.yml
        """,
    )
    out = run(check_permissions, tmp_path)
    assert [(f.rule, f.file, f.line) for f in out.findings] == [
        ("PUB004", ".github/workflows/release.yml", 3)
    ]
    release = tmp_path / ".github/workflows/release.yml"
    release.write_text(
        release.read_text().replace(
            "    uses:", "    permissions: {id-token: write, contents: read}\n    uses:"
        )
    )
    assert run(check_permissions, tmp_path).findings == []


def test_runtime_flakehub_in_a_reusable_workflow_names_the_caller_first(tmp_path: Path) -> None:
    write_workflow(
        tmp_path,
        "build.yml",
        """\
        on: {workflow_call: {}}
        jobs:
          build:
            runs-on: tinyland-nix
            steps:
              - uses: DeterminateSystems/nix-installer-action@v16
              - uses: DeterminateSystems/flakehub-cache-action@v1
        """,
    )
    write_workflow(
        tmp_path,
        "ci.yml",
        """\
        on: push
        jobs:
          call:
            uses: ./.github/workflows/build.yml
        """,
    )
    out = run(check_not_runtime, tmp_path)
    assert [(f.rule, f.job, f.file, f.step) for f in out.findings] == [
        ("PUB003", "call/build", ".github/workflows/build.yml", 2)
    ]


def test_every_flakehub_host_names_flakehub_com() -> None:
    from harness.checks.publication import FLAKEHUB_HOSTS

    assert all("flakehub.com" in host for host in FLAKEHUB_HOSTS)  # _flakehub_text's first test
