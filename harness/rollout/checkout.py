"""`OWNER/REPO@REF` lines of a repo list: the repository's `.github/` at REF, read from a local
clone named by `--uses-source OWNER/REPO=DIR` and kept in the on-disk cache by commit."""

from __future__ import annotations

import io
import os
import subprocess
import tarfile
import tempfile
import threading
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
        return subprocess.run(
            ["git", "-C", str(clone), *args], capture_output=True, timeout=GIT_TIMEOUT, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise HarnessInputError(f"git in {clone}: {exc}") from None


def _archive(clone: Path, sha: str, what: str) -> bytes:
    """`git archive` of `.github` at `sha`, read up to MAX_ARCHIVE_BYTES and no further."""
    try:
        proc = subprocess.Popen(
            ["git", "-C", str(clone), "archive", "--format=tar", sha, "--", ".github"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
        )
    except OSError as exc:
        raise HarnessInputError(f"git in {clone}: {exc}") from None
    assert proc.stdout is not None and proc.stderr is not None
    timer = threading.Timer(GIT_TIMEOUT, proc.kill)  # bounds the reads too
    timer.start()
    try:
        data = proc.stdout.read(MAX_ARCHIVE_BYTES + 1)
        if len(data) > MAX_ARCHIVE_BYTES:
            proc.kill()
            raise HarnessInputError(
                f"{what}: .github at {sha[:12]} is over {MAX_ARCHIVE_BYTES} bytes"
            )
        error = proc.stderr.read(4096)
        code = proc.wait(timeout=GIT_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise HarnessInputError(f"{what}: git archive timed out") from None
    finally:
        timer.cancel()
        proc.stdout.close()
        proc.stderr.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if code != 0:
        why = error.decode(errors="replace").strip().splitlines()[:1] or [f"exit {code}"]
        raise HarnessInputError(f"{what}: cannot read .github at {sha[:12]}: {why[0]}")
    return data


def materialize(repo: str, ref: str, sources: Mapping[str, Path], cache: Path) -> Path:
    """A directory holding `.github/` of `repo` at `ref`; bad input when no source has it."""
    clone = next((path for name, path in sources.items() if name.lower() == repo.lower()), None)
    if clone is None:
        raise HarnessInputError(
            f"{repo}@{ref}: no --uses-source {repo}=DIR names a local clone to read {ref} "
            "from (list a checkout as OWNER/REPO=PATH instead)"
        )
    found = _git(clone, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if found.returncode != 0:
        raise HarnessInputError(f"{repo}@{ref}: {ref} is not a commit, tag or branch of {clone}")
    sha = found.stdout.decode().strip()
    target = cache / repo.replace("/", "__") / sha
    if target.is_dir():
        return target
    data = _archive(clone, sha, f"{repo}@{ref}")
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".partial-", dir=target.parent))
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(scratch, filter="data")
    try:
        scratch.rename(target)
    except OSError:  # another run put it there first
        if not target.is_dir():
            raise
    return target
