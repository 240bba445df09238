"""What of a repository the fleet reads at a commit, and its limits, for every tree source.

The static suites read, of a repository:

- everything under `.github/` (workflows, local actions, and what they name);
- `fleet.yaml` at the top (a repository's own contract, as `check` reads it);
- `action.yml` / `action.yaml` anywhere (local actions outside `.github/`);
- `*.nix` anywhere (`flake.nix` and the files it imports: placement, publication);
- `*.tf`, `*.tfvars`, `*.tfvars.json`, `*.tfbackend` anywhere (the state and arc suites);
- `*.yaml` / `*.yml` of at most `harness.arc.helm.MAX_BYTES` outside the folders the
  OpenTofu reader skips (`fixtures`, `testdata`, ...): Helm values files of the
  `gha-runner-scale-set` chart, which the arc suite finds by their content.

Outside `.github/`, hidden folders and `node_modules` are not read. A snapshot is refused
(not read in part) when it has more than `MAX_FILES` such files or more than `MAX_BYTES`
bytes of them. It is written to a scratch folder and renamed into place, so a folder that
exists is complete.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from harness.arc.helm import MAX_BYTES as MAX_VALUES_BYTES
from harness.github.uses.tree import TreeEntry, TreeError, TreeSource
from harness.tofu.stacks import SKIP_DIRS as TOFU_SKIPPED_DIRS

MAX_FILES = 5_000
"""Most files one snapshot holds."""
MAX_BYTES = 64 << 20
"""Most bytes one snapshot holds."""
ROOT_FILES = frozenset({"fleet.yaml"})
NAMES = frozenset({"action.yml", "action.yaml"})
SUFFIXES = (".nix", ".tf", ".tfvars", ".tfvars.json", ".tfbackend")
SKIPPED_DIRS = frozenset({"node_modules"})
VALUES_SUFFIXES = (".yaml", ".yml")


def wanted(path: str, size: int = 0) -> bool:
    """True for a file (path relative to the repository, `/`-separated, of `size` bytes)
    the suites read."""
    if path.startswith(".github/") or path in ROOT_FILES:
        return True
    *folders, name = path.split("/")
    if any(part.startswith(".") or part in SKIPPED_DIRS for part in folders):
        return False
    if name in NAMES or name.endswith(SUFFIXES):
        return True
    return (
        name.endswith(VALUES_SUFFIXES)
        and size <= MAX_VALUES_BYTES
        and not any(part in TOFU_SKIPPED_DIRS for part in folders)
    )


def _safe(path: str) -> bool:
    """A relative path that stays inside the snapshot."""
    parts = path.split("/")
    return (
        bool(path)
        and "\0" not in path
        and "\\" not in path
        and all(part not in ("", ".", "..") for part in parts)
    )


def select(entries: list[TreeEntry], what: str) -> list[TreeEntry]:
    """The entries the suites read; TreeError when they are over the limits."""
    chosen = [entry for entry in entries if _safe(entry.path) and wanted(entry.path, entry.size)]
    if len(chosen) > MAX_FILES:
        raise TreeError(f"{what}: {len(chosen)} files to read, more than {MAX_FILES}")
    total = sum(entry.size for entry in chosen)
    if total > MAX_BYTES:
        raise TreeError(f"{what}: {total} bytes to read, over the {MAX_BYTES}-byte limit")
    return chosen


def write_snapshot(target: Path, source: TreeSource, commit: str, what: str) -> None:
    """Write the files the suites read of `commit` into `target` (whole or not at all)."""
    chosen = select(source.entries(commit), what)
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".partial-", dir=target.parent))
    try:
        for entry, data in source.read(chosen):
            path = scratch / entry.path
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        try:
            scratch.rename(target)
        except OSError:  # another run put it there first
            if not target.is_dir():
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
