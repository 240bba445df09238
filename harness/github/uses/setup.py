"""The resolver of one run, and its API client, from its options and contract."""

from __future__ import annotations

from pathlib import Path

from harness.contract.model import Contract
from harness.github.identity import repo_identity
from harness.github.uses.api import ContentsApi, default_api_url
from harness.github.uses.cache import UsesCache, default_cache_dir
from harness.github.uses.resolver import UsesResolver
from harness.github.uses.sources import DIR, LocalSource
from harness.options import Options


def api_for(options: Options) -> ContentsApi:
    """The API client of `--github-api` (default `$GITHUB_API_URL`, else api.github.com)."""
    return ContentsApi((options.github_api or default_api_url()).rstrip("/"))


def resolver_for(repo: Path, contract: Contract, options: Options) -> UsesResolver:
    """Sources in order: the repository itself, `--uses-source` clones, the contract's
    `sources:`, then the cache and the API (not when offline)."""
    name = repo_identity(repo, options.repo_name, contract.forge_repository)
    sources = [
        LocalSource(n, d if d.is_absolute() else Path.cwd() / d, DIR)
        for n, d in options.uses_sources
    ]
    sources += [LocalSource(n, (repo / d).resolve(), DIR) for n, d in contract.sources.items()]
    base = UsesResolver(
        sources,
        UsesCache(default_cache_dir(), options.uses_ttl),
        api_for(options),
        options.offline,
    )
    return base.for_repository(name, repo)
