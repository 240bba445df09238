"""`OWNER/REPO@REF` lines of a repo list: the repository's `.github/` at REF, read from a local
clone named by `--uses-source OWNER/REPO=DIR` and kept in the on-disk cache by commit."""

from __future__ import annotations

import io
import os
import subprocess
import tarfile
import tempfile
from collections.abc import Mapping
from pathlib import Path

from harness.errors import HarnessInputError

GIT_TIMEOUT = 120.0
MAX_ARCHIVE_BYTES = 256 << 20


def default_cache() -> Path:
    """`$XDG_CACHE_HOME/flywheel-harness/fleet` (else `~/.cache/...`)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "flywheel-harness" / "fleet"


def _git(clone: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(["git", "-C", str(clone), *args], capture_output=True,
                              timeout=GIT_TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise HarnessInputError(f"git in {clone}: {exc}") from None


def materialize(repo: str, ref: str, sources: Mapping[str, Path], cache: Path) -> Path:
    """A directory holding `.github/` of `repo` at `ref`; bad input when no source has it."""
    clone = next((path for name, path in sources.items() if name.lower() == repo.lower()), None)
    if clone is None:
        raise HarnessInputError(
            f"{repo}@{ref}: no --uses-source {repo}=DIR names a local clone to read {ref} "
            "from (list a checkout as OWNER/REPO=PATH instead)")
    found = _git(clone, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if found.returncode != 0:
        raise HarnessInputError(f"{repo}@{ref}: {ref} is not a commit, tag or branch of "
                                f"{clone}")
    sha = found.stdout.decode().strip()
    target = cache / repo.replace("/", "__") / sha
    if target.is_dir():
        return target
    archive = _git(clone, "archive", "--format=tar", sha, "--", ".github")
    if archive.returncode != 0 or len(archive.stdout) > MAX_ARCHIVE_BYTES:
        why = archive.stderr.decode(errors="replace").strip().splitlines()[:1] or ["too big"]
        raise HarnessInputError(f"{repo}@{ref}: cannot read .github at {sha[:12]}: {why[0]}")
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".partial-", dir=target.parent))
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(scratch, filter="data")
    try:
        scratch.rename(target)
    except OSError:  # another run put it there first
        if not target.is_dir():
            raise
    return target
