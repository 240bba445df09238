"""BOOT001: every job that uses Nix installs it in the workflow itself, before first use."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.results import Finding, Status
from tests.helpers.repos import findings, run_check, write_repo

REPOS = Path(__file__).parent / "fixtures" / "repos"
CHECK = "bootstrap.workflow_owned_nix"

INSTALL_FORMS = [
    "- uses: cachix/install-nix-action@v30",
    "- uses: DeterminateSystems/nix-installer-action@main",
    "- uses: DeterminateSystems/determinate-nix-action@v3",
    "- uses: nixbuild/nix-quick-install-action@v30",
    "- uses: cachix/install-nix-action@08dcb3a5e62fa31e2da3d490afc4176ef55ecd72  # v30",
    "- run: curl -L https://nixos.org/nix/install | sh -s -- --daemon",
    "- run: sh <(curl -L https://nixos.org/nix/install) --no-daemon",
    "- run: |\n    curl --proto '=https' --tlsv1.2 -sSf -L \\\n"
    "      https://install.determinate.systems/nix | sh -s -- install --no-confirm",
    "- run: curl -fsSL https://install.determinate.systems/nix | sudo sh -s -- install",
    "- run: wget -qO- https://nixos.org/nix/install | bash",
    "- run: |\n    curl -L https://nixos.org/nix/install -o install-nix.sh\n"
    "    sha256sum -c install-nix.sh.sha256\n    sh install-nix.sh --daemon",
    "- run: |\n    curl -sSfLo inst https://install.determinate.systems/nix\n"
    "    chmod +x inst && ./inst install --no-confirm",
    "- uses: ./.github/actions/setup-nix",
    "- uses: ./.github/actions/nix-job",
]

USE_FORMS = [
    "- run: nix build .#default",
    "- run: |\n    echo building\n    nix flake check",
    "- run: sudo nix-env -iA nixpkgs.hello",
    "- run: env NIX_CONFIG='x' nix-build",
    "- run: test -f flake.nix && nix build",
    "- run: out=$(nix eval --raw .#version)",
    "- run: nix develop --command cargo build",
    "- run: nix-shell --run 'make test'",
    "- run: cachix push mycache ./result",
    "- run: attic push main ./result",
    "- run: nixos-rebuild build --flake .#host",
    "- run: home-manager switch",
    "- run: devenv test",
    "- run: cargo build\n  shell: nix develop --command bash -e {0}",
    "- run: make\n  shell: nix-shell --run {0}",
    "- uses: DeterminateSystems/flakehub-push@main",
    "- uses: DeterminateSystems/flakehub-cache-action@main",
    "- uses: DeterminateSystems/magic-nix-cache-action@v8",
    "- uses: DeterminateSystems/flake-checker-action@v9",
    "- uses: ryanccn/attic-action@v0\n  with: {endpoint: 'http://127.0.0.1', cache: main}",
    "- uses: cachix/cachix-action@v15\n  with: {name: mycache}",
    "- uses: ./.github/actions/build",
]

NO_USE_FORMS = [
    '- run: echo "nix build"',
    "- run: echo 'run nix build to build'",
    "- run: |\n    # nix build .#default\n    make",
    "- run: |\n    cat > build.sh <<'EOF'\n    nix build\n    EOF",
    "- run: grep -r 'nix-shell' docs/",
    "- run: print('nix build')\n  shell: python",
    "- run: Write-Host 'nix build'\n  shell: pwsh",
    "- run: npm run build:nix",
    "- uses: actions/checkout@v4\n  with: {path: nix}",
    "- uses: docker://nixos/nix:latest",
    "- uses: ./.github/actions/plain",
    "- run: |\n    curl -L https://nixos.org/nix/install -o install-nix.sh\n    cat install-nix.sh",
]

ACTIONS = {
    ".github/actions/setup-nix/action.yml": """\
        name: setup nix
        runs:
          using: composite
          steps:
            - uses: DeterminateSystems/nix-installer-action@v16
        """,
    ".github/actions/nix-job/action.yml": """\
        name: nix job
        runs:
          using: composite
          steps:
            - uses: ./.github/actions/setup-nix
            - shell: bash
              run: nix --version
        """,
    ".github/actions/build/action.yml": """\
        name: build
        runs:
          using: composite
          steps:
            - shell: bash
              run: |
                echo build
                nix build
        """,
    ".github/actions/plain/action.yml": """\
        name: plain
        runs:
          using: composite
          steps:
            - shell: bash
              run: echo "nix build"
        """,
}


def indent(step: str) -> str:
    return "\n".join("      " + line for line in step.splitlines())


def repo_with(root: Path, *steps: str, runs_on: str = "tinyland-nix", extra: str = "") -> Path:
    body = "on: push\njobs:\n  build:\n" + extra + f"    runs-on: {runs_on}\n    steps:\n"
    body += "\n".join(indent(step) for step in steps) + "\n"
    files = {".github/workflows/ci.yml": body}
    files.update(ACTIONS)
    return write_repo(root, files)


def boot(root: Path) -> list[Finding]:
    return findings(root, CHECK, "BOOT001")


@pytest.mark.parametrize("use", USE_FORMS)
def test_use_without_install(tmp_path: Path, use: str) -> None:
    found = boot(repo_with(tmp_path, "- uses: actions/checkout@v4", use))
    assert len(found) == 1, found
    finding = found[0]
    assert finding.job == "build"
    assert finding.step == 2
    assert "without a workflow-owned Nix install" in finding.message


@pytest.mark.parametrize("install", INSTALL_FORMS)
@pytest.mark.parametrize("use", [USE_FORMS[0], USE_FORMS[13], USE_FORMS[15]])
def test_install_then_use_passes(tmp_path: Path, install: str, use: str) -> None:
    root = repo_with(tmp_path, "- uses: actions/checkout@v4", install, use)
    assert boot(root) == []
    assert run_check(root, CHECK).status is Status.PASSED


@pytest.mark.parametrize("install", [INSTALL_FORMS[1], INSTALL_FORMS[5], INSTALL_FORMS[-2]])
def test_install_after_use_says_before(tmp_path: Path, install: str) -> None:
    (finding,) = boot(repo_with(tmp_path, "- run: nix build", install))
    assert finding.step == 1
    assert "before a workflow-owned Nix install" in finding.message


@pytest.mark.parametrize("no_use", NO_USE_FORMS)
def test_no_nix_use_no_finding(tmp_path: Path, no_use: str) -> None:
    assert boot(repo_with(tmp_path, "- uses: actions/checkout@v4", no_use)) == []


def test_installer_and_use_in_the_same_script(tmp_path: Path) -> None:
    script = (
        "- run: |\n    curl -L https://nixos.org/nix/install | sh -s -- --daemon\n"
        "    . /nix/var/nix/profiles/default/etc/profile.d/nix-daemon.sh\n"
        "    nix build"
    )
    assert boot(repo_with(tmp_path, script)) == []
    backwards = "- run: |\n    nix build\n    curl -L https://nixos.org/nix/install | sh"
    (finding,) = boot(repo_with(tmp_path / "b", backwards))
    assert finding.line == 7


def test_checking_for_nix_before_installing_it(tmp_path: Path) -> None:
    script = (
        "- run: |\n    if ! command -v nix >/dev/null; then\n"
        "      curl -L https://nixos.org/nix/install | sh -s -- --daemon\n    fi\n"
        "    nix build"
    )
    assert boot(repo_with(tmp_path, script)) == []


def test_container_image_is_not_a_bootstrap(tmp_path: Path) -> None:
    root = repo_with(
        tmp_path,
        "- run: nix build",
        runs_on="ubuntu-latest",
        extra="    container: nixos/nix:2.24.9\n",
    )
    (finding,) = boot(root)
    assert "without" in finding.message


def test_each_job_starts_bare(tmp_path: Path) -> None:
    write_repo(
        tmp_path,
        {
            ".github/workflows/ci.yml": """\
        on: push
        jobs:
          setup:
            runs-on: tinyland-nix
            steps:
              - uses: DeterminateSystems/nix-installer-action@v16
          build:
            needs: setup
            runs-on: tinyland-nix
            steps:
              - run: nix build
        """
        },
    )
    (finding,) = boot(tmp_path)
    assert (finding.job, finding.step, finding.line) == ("build", 1, 11)


def test_finding_inside_a_composite_action_names_the_action(tmp_path: Path) -> None:
    (finding,) = boot(
        repo_with(tmp_path, "- uses: actions/checkout@v4", "- uses: ./.github/actions/build")
    )
    assert finding.file == ".github/actions/build/action.yml"
    assert finding.line == 8
    assert finding.step == 2
    assert "(inside .github/actions/build/action.yml)" in finding.message


def test_only_the_first_use_is_reported_per_job(tmp_path: Path) -> None:
    found = boot(
        repo_with(
            tmp_path,
            "- run: nix build",
            "- run: nix flake check",
            "- uses: DeterminateSystems/magic-nix-cache-action@v8",
        )
    )
    assert [f.step for f in found] == [1]


def test_reusable_workflow_job_is_named_with_its_caller(tmp_path: Path) -> None:
    write_repo(
        tmp_path,
        {
            ".github/workflows/ci.yml": """\
            on: push
            jobs:
              release:
                uses: ./.github/workflows/build.yml
            """,
            ".github/workflows/build.yml": """\
            on: workflow_call
            jobs:
              compile:
                runs-on: tinyland-nix
                steps:
                  - run: nix build
            """,
        },
    )
    (finding,) = boot(tmp_path)
    assert finding.job == "release/compile"
    assert finding.file == ".github/workflows/build.yml"


def test_fixture_composite_repository() -> None:
    found = {f.job: f for f in boot(REPOS / "composite")}
    assert set(found) == {"via-build", "deep"}
    assert found["deep"].file == ".github/actions/deep-0/action.yml"


def test_measures_jobs_checked(tmp_path: Path) -> None:
    result = run_check(repo_with(tmp_path, "- run: echo hi"), CHECK)
    assert [(m.name, m.value) for m in result.measurements] == [("bootstrap.jobs_checked", 1)]


def test_inline_suppression_keeps_the_finding_but_passes(tmp_path: Path) -> None:
    root = repo_with(
        tmp_path, "- run: nix build  # flywheel-harness: ignore[BOOT001] runner image has Nix"
    )
    result = run_check(root, CHECK)
    assert result.status is Status.PASSED
    (finding,) = result.findings
    assert finding.suppressed and finding.suppression == "runner image has Nix"


def test_edited_file_is_read_again_for_suppressions(tmp_path: Path) -> None:
    root = repo_with(tmp_path, "- run: nix build")
    assert run_check(root, CHECK).status is Status.FAILED
    repo_with(tmp_path, "- run: nix build  # flywheel-harness: ignore[BOOT001] image has Nix")
    assert run_check(root, CHECK).status is Status.PASSED


def test_a_downloaded_installer_that_is_not_run_installs_nothing(tmp_path: Path) -> None:
    script = (
        "- run: |\n    curl -L https://nixos.org/nix/install -o install-nix.sh\n"
        "    sh other.sh\n    nix build"
    )
    (finding,) = boot(repo_with(tmp_path, script))
    assert "without" in finding.message


def test_install_later_inside_the_same_composite_action_says_before(tmp_path: Path) -> None:
    root = repo_with(tmp_path, "- uses: ./.github/actions/backwards")
    write_repo(
        root,
        {
            ".github/actions/backwards/action.yml": """\
        name: backwards
        runs:
          using: composite
          steps:
            - shell: bash
              run: nix build
            - uses: cachix/install-nix-action@v30
        """
        },
    )
    (finding,) = boot(root)
    assert "before a workflow-owned Nix install" in finding.message
    assert (finding.file, finding.line, finding.step) == (
        ".github/actions/backwards/action.yml",
        6,
        1,
    )
