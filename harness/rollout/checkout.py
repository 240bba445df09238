"""`OWNER/REPO@REF` lines of a repo list: the repository's files at REF, fetched by the
remote-uses sources into the uses cache, checked there.

Sources, in order: the local clone `--uses-source OWNER/REPO=DIR` names (git), else the
cache (`UsesCache.commit_of`, then `UsesCache.tree_dir`), else GitHub's API (skipped with
`--offline`). A snapshot is kept by its full commit SHA and never expires; which commit a tag
or branch names is asked again after `--uses-ttl`. Every failure is one `FetchError` line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harness.github.uses.api import ContentsApi
from harness.github.uses.cache import UsesCache, default_cache_dir
from harness.github.uses.failures import ApiFailure
from harness.github.uses.setup import api_for
from harness.github.uses.tree import GitTree, TreeError, TreeSource
from harness.options import Options
from harness.rollout.snapshot import write_snapshot

FETCH_DEADLINE = 300.0
"""Seconds all API requests of one repository's snapshot may take together."""


class FetchError(Exception):
    """The files of `OWNER/REPO@REF` could not be had; the message is one line."""


@dataclass(frozen=True)
class Snapshot:
    """A repository's files at a commit: the folder, the commit, and where they came from
    (`dir`: a local clone, `api`: GitHub's API, `cache`: an earlier run)."""

    path: Path
    commit: str
    origin: str

    def to_json(self, ref: str) -> dict[str, str]:
        """The row's `fetched` entry."""
        return {"ref": ref, "commit": self.commit, "from": self.origin}


def fetch(repo: str, ref: str, options: Options, api: ContentsApi | None = None) -> Snapshot:
    """The snapshot of `repo` at `ref`; FetchError saying why there is none. `api`: the
    client to ask (default: one for `--github-api`)."""
    cache = UsesCache(default_cache_dir(), options.uses_ttl)
    clone = next((d for n, d in options.uses_sources if n.lower() == repo.lower()), None)
    try:
        if clone is not None:
            return _store(cache, repo, GitTree(clone), "dir", ref)
        commit = cache.commit_of(repo, ref)
        if commit is not None and cache.tree_dir(repo, commit).is_dir():
            return Snapshot(cache.tree_dir(repo, commit), commit, "cache")
        if options.offline:
            raise FetchError(
                f"offline (--offline), and the cache holds no copy of {repo} at {ref}: "
                f"run once online, or give --uses-source {repo}=DIR"
            )
        return _from_api(cache, repo, ref, api or api_for(options))
    except (ApiFailure, TreeError) as exc:
        raise FetchError(str(exc)) from None
    except OSError as exc:
        raise FetchError(f"cannot write the snapshot into {cache.directory}: {exc}") from None


def _from_api(cache: UsesCache, repo: str, ref: str, api: ContentsApi) -> Snapshot:
    from harness.github.uses.apitree import GitHubTree
    from harness.probes.budget import request_deadline

    with request_deadline(FETCH_DEADLINE):
        return _store(cache, repo, GitHubTree(api, repo), "api", ref)


def _store(cache: UsesCache, repo: str, source: TreeSource, origin: str, ref: str) -> Snapshot:
    """Resolve `ref` with `source`, then write the snapshot unless the cache has it."""
    commit = source.commit(ref)
    if origin == "api":
        cache.put_commit(repo, ref, commit)
    target = cache.tree_dir(repo, commit)
    if target.is_dir():
        return Snapshot(target, commit, "cache")
    write_snapshot(target, source, commit, f"{repo} at {commit[:12]}")
    return Snapshot(target, commit, origin)
