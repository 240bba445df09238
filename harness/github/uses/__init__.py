"""Resolving remote `uses: OWNER/REPO[/PATH]@REF` references to file text at that ref.

Public API (also used by the fleet command, which shares one resolver and one cache
across repositories):

    shared = UsesResolver(cache=UsesCache(default_cache_dir(), ttl=3600.0),
                          api=ContentsApi(url), offline=False)
    resolver = shared.for_repository("o/r", root, [LocalSource("o/t", clone)])
    outcome = resolver.resolve(parse_uses("o/t/.github/workflows/ci.yml@v1"))
    if isinstance(outcome, Resolved): outcome.text, outcome.commit, outcome.origin
    else: outcome.kind, outcome.reason  (WF004)

Sources are tried in order: the checked repository itself (git), local clones (git, or a
plain directory's working tree), the on-disk cache, then GitHub's contents API.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harness.github.uses.api import ContentsApi
    from harness.github.uses.cache import UsesCache, default_cache_dir
    from harness.github.uses.failures import ApiFailure
    from harness.github.uses.ref import UsesRef, is_full_sha, parse_uses
    from harness.github.uses.resolver import Resolved, Unresolved, UsesResolver
    from harness.github.uses.sources import LocalSource

_HOMES = {
    "ApiFailure": "failures",
    "ContentsApi": "api",
    "UsesCache": "cache",
    "default_cache_dir": "cache",
    "UsesRef": "ref",
    "is_full_sha": "ref",
    "parse_uses": "ref",
    "Resolved": "resolver",
    "Unresolved": "resolver",
    "UsesResolver": "resolver",
    "LocalSource": "sources",
}
"""Name -> submodule: each is imported when first asked for (a run whose references are
all known by name never imports the API client or the cache)."""


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "ApiFailure",
    "ContentsApi",
    "LocalSource",
    "Resolved",
    "Unresolved",
    "UsesCache",
    "UsesRef",
    "UsesResolver",
    "default_cache_dir",
    "is_full_sha",
    "parse_uses",
]
