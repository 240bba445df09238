"""A fleet of fourteen git checkouts and a contract that enrolls some of them in tranches."""

from __future__ import annotations

import subprocess
import textwrap
from datetime import date, timedelta
from pathlib import Path

from harness.contract import BUNDLED_CONTRACT

ORG = "tinyland-inc"
NIX = "      - uses: DeterminateSystems/nix-installer-action@v16\n"


def _wf(jobs: str) -> str:
    return "on: push\njobs:\n" + textwrap.indent(textwrap.dedent(jobs), "  ")


LANE_ONLY = _wf("""\
    check:
      runs-on: tinyland-nix
      steps:
        - uses: DeterminateSystems/nix-installer-action@v16
        - run: nix flake check
    """)
RELEASE_MAC_WIN = _wf("""\
    check:
      runs-on: tinyland-nix
      steps: [{run: echo lint}]
    mac-release:
      runs-on: macos-15
      steps: [{run: cargo build --release}]
    win-release:
      runs-on: windows-latest
      steps: [{run: cargo build --release --target x86_64-pc-windows-msvc}]
    """)
HEAVY_ON_LIGHT = _wf("""\
    build:
      runs-on: tinyland-nix
      steps:
        - uses: DeterminateSystems/nix-installer-action@v16
        - run: nix develop --command cargo build --release
    """)
HOSTED_LINUX = _wf("""\
    deploy:
      runs-on: ubuntu-latest
      steps: [{run: echo deploy}]
    """)
ARM = _wf("""\
    check:
      runs-on: tinyland-nix
      steps: [{run: echo}]
    arm-build:
      runs-on: ubuntu-24.04-arm
      steps: [{run: cargo build --release}]
    """)
NIX_UNINSTALLED = _wf("""\
    build:
      runs-on: tinyland-nix
      steps: [{run: nix build}]
    """)
WINDOWS_ONLY = _wf("""\
    release:
      runs-on: windows-2025
      steps: [{run: cargo build --release}]
    """)
REPO_SHAPED = _wf("""\
    build:
      runs-on: myapp-nix
      steps: [{run: echo}]
    """)

REPOS: dict[str, str | None] = {
    "a": LANE_ONLY,
    "mac-app": RELEASE_MAC_WIN,
    "b": HEAVY_ON_LIGHT,
    "docs": HOSTED_LINUX,
    "c": LANE_ONLY,
    "arm": ARM,
    "legacy": HOSTED_LINUX,
    "boot": NIX_UNINSTALLED,
    "repo-shaped": REPO_SHAPED,
    "user-tool": HOSTED_LINUX,
    "candidate": LANE_ONLY,
    "heavy-out": HEAVY_ON_LIGHT,
    "win-only": WINDOWS_ONLY,
    "empty": None,
}
"""Checkout name -> its one workflow (None: no workflows)."""

EXPECTED = {
    "a": "ready",
    "mac-app": "excepted",
    "b": "blocked",
    "docs": "blocked",
    "c": "ready",
    "arm": "excepted",
    "legacy": "blocked",
    "boot": "blocked",
    "repo-shaped": "blocked",
    "user-tool": "not-enrolled",
    "candidate": "not-enrolled",
    "heavy-out": "not-enrolled",
    "win-only": "not-enrolled",
    "empty": "not-enrolled",
}


def enrollment_yaml(today: date | None = None) -> str:
    """The enrollment section of the fleet's contract."""
    today = today or date.today()
    later = (today + timedelta(days=120)).isoformat()
    past = (today - timedelta(days=3)).isoformat()
    return f"""\
enrollment:
  tranches:
    tranche-1: [{ORG}/a, {ORG}/mac-app, {ORG}/b, {ORG}/docs]
    tranche-2: [{ORG}/c, {ORG}/arm]
    tranche-3: [{ORG}/legacy, {ORG}/boot, {ORG}/repo-shaped]
  exceptions:
    {ORG}/mac-app: {{reason: macOS and Windows release signing,
                    allow: [macos-15, windows-latest], until: "{later}"}}
    {ORG}/arm: {{reason: arm64 builds until an arm64 lane exists, allow: [ubuntu-24.04-arm],
                until: "{later}"}}
    {ORG}/legacy: {{reason: docs site build, allow: [ubuntu-latest], until: "{past}"}}
  ownership: {{{ORG}/user-tool: user-owned}}
"""


def write_contract(path: Path) -> Path:
    """The bundled contract plus the enrollment section."""
    text = BUNDLED_CONTRACT.read_text(encoding="utf-8") + "\n" + enrollment_yaml()
    path.write_text(text, encoding="utf-8")
    return path


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True, timeout=30)


def write_fleet(folder: Path, *, commit: bool = False) -> Path:
    """Fourteen checkouts under `folder`, each with an origin remote on github.com (and,
    with `commit`, its files committed on `main`)."""
    for name, workflow in REPOS.items():
        root = folder / name
        (root / ".github" / "workflows").mkdir(parents=True)
        if workflow is not None:
            (root / ".github" / "workflows" / "ci.yml").write_text(workflow, encoding="utf-8")
        _git(root, "init", "-q", "-b", "main")
        _git(root, "remote", "add", "origin", f"https://github.com/{ORG}/{name}.git")
        if commit:
            _git(root, "config", "core.autocrlf", "false")
            (root / "README.md").write_text(f"# {name}\n", encoding="utf-8")
            _git(root, "add", "-A")
            _git(root, *COMMITTER, "commit", "-qm", "init")
    return folder


COMMITTER = ("-c", "user.name=t", "-c", "user.email=t@example.com")
"""A committer for test repositories (no global git configuration is assumed)."""
