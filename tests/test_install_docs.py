"""A fresh Debian 12 works from docs/install.md: PEP 668-safe commands, a nox that has what
the noxfile uses, the plugin's `-n auto` after a plain install, and the nix.conf lines."""

from __future__ import annotations

import re
import tomllib

from tests.helpers.paths import ROOT

INSTALL = (ROOT / "docs" / "install.md").read_text(encoding="utf-8")
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
NOXFILE = (ROOT / "noxfile.py").read_text(encoding="utf-8")


def _version(spec: str) -> tuple[int, ...]:
    found = re.search(r">=\s*([\d.]+)", spec)
    assert found, spec
    return tuple(int(part) for part in found.group(1).split("."))


def test_the_noxfile_needs_a_nox_with_dependency_groups() -> None:
    # nox.project.dependency_groups arrived in 2025.02.09; 2024.4.15 fails with AttributeError
    assert "nox.project.dependency_groups" in NOXFILE
    needs = re.search(r'^nox\.needs_version = "([^"]+)"', NOXFILE, re.MULTILINE)
    assert needs is not None and _version(needs.group(1)) >= (2025, 2, 9)
    pinned = [d for d in PYPROJECT["dependency-groups"]["test"] if d.startswith("nox")]
    assert pinned and _version(pinned[0]) >= _version(needs.group(1))


def test_a_plain_install_runs_the_plugin_with_n_auto() -> None:
    runtime = [
        re.split(r"[<>=!~ ;\[]", d, maxsplit=1)[0] for d in PYPROJECT["project"]["dependencies"]
    ]
    assert "pytest" in runtime and "pytest-xdist" in runtime
    assert "pytest scenarios/ -n auto" in INSTALL


def test_the_install_commands_work_under_pep_668() -> None:
    commands = [
        line.strip()
        for line in INSTALL.splitlines()
        if re.match(r"\s*(sudo )?(pip|pipx|python3|\S*/pip) ", line)
    ]
    assert "pipx install nox" in " ".join(commands)
    bare = [c for c in commands if re.match(r"(sudo )?pip3? install", c)]
    assert bare == [], "a bare pip install fails with externally-managed-environment"


def test_the_nix_conf_lines_are_the_ones_ci_installs() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "install -D -m 0644 .ci/nix.conf /etc/nix/nix.conf" in ci.splitlines()
    lines = (ROOT / ".ci" / "nix.conf").read_text(encoding="utf-8").splitlines()
    assert "experimental-features = nix-command flakes" in lines
    assert f"```\n{chr(10).join(lines)}\n```" in INSTALL
