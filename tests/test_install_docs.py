"""A fresh Debian 12 works from the README: PEP 668-safe commands, a nox that has what the
noxfile uses, the plugin's `-n auto` after a plain install, and the nix.conf lines `.ci/run`
installs. tests/debian/quickstart.sh runs the quick start itself in a fresh Debian 12 root."""

from __future__ import annotations

import re
import tomllib

import pytest

from tests.helpers.paths import ROOT
from tests.helpers.readme import commands, heredoc, quick_start, section, sh_blocks

README = (ROOT / "README.md").read_text(encoding="utf-8")
INSTALL = (ROOT / "docs" / "install.md").read_text(encoding="utf-8")
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
NOXFILE = (ROOT / "noxfile.py").read_text(encoding="utf-8")
CI_RUN = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
NIX_CONF = (ROOT / ".ci" / "nix.conf").read_text(encoding="utf-8").splitlines()

ACTIVATE = re.compile(r"(\.|source) (\S*/)?bin/activate")
PIP_INSTALL = re.compile(r"^(sudo )?(\S*/)?(pip3?|python3? -m pip) install\b")


def bare_pip_installs(block: str) -> list[str]:
    """The `pip install` commands of a block that run outside a virtual environment.

    Inside one: after `. VENV/bin/activate` in the same block, or as `VENV/bin/pip`.
    """
    bare, in_venv = [], False
    for command in commands(block):
        if ACTIVATE.fullmatch(command):
            in_venv = True
        found = PIP_INSTALL.match(command)
        if found and not in_venv and not (found.group(2) or "").endswith("/bin/"):
            bare.append(command)
    return bare


def _version(spec: str) -> tuple[int, ...]:
    found = re.search(r">=\s*([\d.]+)", spec)
    assert found, spec
    return tuple(int(part) for part in found.group(1).split("."))


def test_the_noxfile_needs_a_nox_with_dependency_groups() -> None:
    # nox.project.dependency_groups arrived in 2025.02.09; 2024.10.9 fails with AttributeError
    assert "nox.project.dependency_groups" in NOXFILE
    needs = re.search(r'^nox\.needs_version = "([^"]+)"', NOXFILE, re.MULTILINE)
    assert needs is not None and _version(needs.group(1)) >= (2025, 2, 9)
    pinned = [d for d in PYPROJECT["dependency-groups"]["test"] if d.startswith("nox")]
    assert pinned and _version(pinned[0]) >= _version(needs.group(1))
    assert f">={'.'.join(map(str, _version(needs.group(1))))}" in README + INSTALL


def test_the_quick_start_is_an_install_line_and_the_two_commands() -> None:
    blocks = quick_start(README)
    assert len(blocks) == 2, "the quick start: the Debian packages (root), then the checkout"
    lines = [line.split("#", 1)[0].strip() for line in blocks[-1].splitlines()]
    assert lines[1:] == ["nox -s validate", "nox -s tests"]
    assert commands(lines[0]) == [
        "python3 -m venv .venv",
        ". .venv/bin/activate",
        "pip install nox",
    ]


def test_the_quick_start_installs_what_a_fresh_debian_lacks() -> None:
    debian = commands(quick_start(README)[0])
    assert debian[0] == "apt-get update", "a container image has no package lists"
    packages = set(debian[1].split())
    # python3-venv (ensurepip, for both venvs), git, pip's CA bundle, the live-case tools
    assert {"python3-venv", "git", "ca-certificates", "nix-bin", "bazel-bootstrap"} <= packages
    assert {"nginx", "libnginx-mod-http-dav-ext"} <= packages
    ci_install = re.search(r"apt-get install[^\n]*\\\n([^\n>]*)", CI_RUN)
    assert ci_install is not None
    ci_packages = set(ci_install.group(1).split())
    assert packages - {"apt-get", "install", "-y", "--no-install-recommends"} <= ci_packages


@pytest.mark.parametrize(
    ("where", "block"),
    [
        *((f"README quick start block {i}", b) for i, b in enumerate(quick_start(README), 1)),
        *((f"README block {i}", b) for i, b in enumerate(sh_blocks(README), 1)),
        *((f"install.md block {i}", b) for i, b in enumerate(sh_blocks(INSTALL), 1)),
    ],
)
def test_no_bare_pip_install_outside_a_venv(where: str, block: str) -> None:
    assert bare_pip_installs(block) == [], (
        f"{where}: a bare pip install fails with externally-managed-environment on Debian 12"
    )


def test_the_check_catches_the_old_quick_start() -> None:
    assert bare_pip_installs("pip install nox\nnox -s validate\n") == ["pip install nox"]
    assert bare_pip_installs("sudo python3 -m pip install nox") == [
        "sudo python3 -m pip install nox"
    ]
    assert bare_pip_installs("pipx install nox\n~/.venvs/nox/bin/pip install nox") == []
    assert bare_pip_installs("python3 -m venv v && . v/bin/activate && pip install .") == []


def test_a_plain_install_runs_the_plugin_with_n_auto() -> None:
    runtime = [
        re.split(r"[<>=!~ ;\[]", d, maxsplit=1)[0] for d in PYPROJECT["project"]["dependencies"]
    ]
    assert "pytest" in runtime and "pytest-xdist" in runtime
    tour = commands(sh_blocks(section(README, "## A short tour"))[0])
    assert tour[:3] == ["python3 -m venv .venv", ". .venv/bin/activate", "pip install ."]
    assert any(c.startswith("pytest scenarios/ -n auto") for c in tour)
    assert "pytest scenarios/ -n auto" in INSTALL


def test_the_nix_conf_lines_are_the_ones_ci_installs() -> None:
    assert "experimental-features = nix-command flakes" in NIX_CONF
    assert "build-users-group =" in NIX_CONF and "sandbox = false" in NIX_CONF
    assert "install -D -m 0644 .ci/nix.conf /etc/nix/nix.conf" in CI_RUN.splitlines()
    assert "<<" not in CI_RUN.split("nix.conf", 1)[0], ".ci/run takes the lines from .ci/nix.conf"
    assert heredoc(quick_start(README)[0], "/etc/nix/nix.conf") == NIX_CONF
    install_blocks = [heredoc(b, "/etc/nix/nix.conf") for b in sh_blocks(INSTALL)]
    assert NIX_CONF in install_blocks
    assert f"```\n{chr(10).join(NIX_CONF)}\n```" in INSTALL


def test_ci_runs_nox_from_a_venv() -> None:
    assert bare_pip_installs(CI_RUN) == []
    assert "nox -s tests" in CI_RUN.splitlines()
