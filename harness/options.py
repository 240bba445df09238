"""Run options shared by the CLI and the pytest plugin."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


def artifacts_dir_for(explicit: str | Path | None, evidence: str | Path | None) -> Path:
    """`--artifacts-dir` when given, else `harness-artifacts/` next to the evidence file,
    else `.harness/`."""
    if explicit is not None:
        return Path(explicit)
    if evidence is not None:
        return Path(evidence).parent / "harness-artifacts"
    return Path(".harness")


@dataclass(frozen=True)
class Options:
    """How a run was asked for. Checks read what they need and ignore the rest."""

    require_live: bool = False
    """Turn skips of live cases (no endpoint, no runner) into failures."""
    attic_url: str | None = None
    """Override `caches.attic.url` (`--attic-url`)."""
    attic_cache: str | None = None
    """Override `caches.attic.cache`."""
    bazel_cache: str | None = None
    """Override `caches.bazel.url` (`--bazel-cache`, http(s):// or grpc(s)://)."""
    artifacts_dir: Path = field(default_factory=lambda: Path(".harness"))
    """Where checks write artifacts (memory charts, scratch caches)."""
    kubectl_files: tuple[Path, ...] = ()
    """Recorded `kubectl get ... -o json` outputs to read instead of a cluster."""
    metrics_files: tuple[Path, ...] = ()
    """Recorded Prometheus text from ARC listeners."""
    runner_phase: str | None = None
    """`before` or `after` the workflow's Nix install, for the runner bootstrap cases."""
    repo_name: str | None = None
    """`--repo-name OWNER/REPO`: the checked repository's identity (else contract, origin)."""
    uses_sources: tuple[tuple[str, Path], ...] = ()
    """`--uses-source OWNER/REPO=DIR`: local clones that resolve remote `uses:`."""
    uses_ttl: float = 3600.0
    """`--uses-ttl`: seconds a cached tag or branch stays fresh (full SHAs never expire)."""
    github_api: str | None = None
    """`--github-api URL` (default `$GITHUB_API_URL`, else https://api.github.com)."""
    offline: bool = False
    """`--offline`: never ask the GitHub API for a remote file."""
