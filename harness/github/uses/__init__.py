"""Resolving remote `uses: OWNER/REPO[/PATH]@REF` references to file text at that ref.

Public API (also used by the fleet command, which shares one resolver and one cache
across repositories):

    resolver = UsesResolver(sources, cache_dir=default_cache_dir(), api=ContentsApi(url),
                            offline=False, ttl=3600.0, self_name="o/r", self_root=path)
    outcome = resolver.resolve(parse_uses("o/r/.github/workflows/ci.yml@v1"))
    if isinstance(outcome, Resolved): outcome.text, outcome.commit, outcome.origin

Sources are tried in order: the checked repository itself (git), local clones (git, or a
plain directory's working tree), the on-disk cache, then GitHub's contents API.
"""

from harness.github.uses.api import ApiFailure, ContentsApi
from harness.github.uses.cache import UsesCache, default_cache_dir
from harness.github.uses.ref import UsesRef, is_full_sha, parse_uses
from harness.github.uses.resolver import Resolved, Unresolved, UsesResolver

__all__ = ["ApiFailure", "ContentsApi", "Resolved", "Unresolved", "UsesCache", "UsesRef",
           "UsesResolver", "default_cache_dir", "is_full_sha", "parse_uses"]
