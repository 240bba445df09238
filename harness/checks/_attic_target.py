"""Which Attic cache the Attic cases look at, and the store paths they look for.

A live endpoint comes from `--attic-url` or the contract's `caches.attic.url`; without
one, the cases build the loopback cache (real Nix, real nginx) and prove the hit path
against it. Parameters of a case may override the cache name, keys and paths. An endpoint
named by `--attic-url` is a demand (`require_named`, see harness.demand): when it does not
serve, ATTIC001 fails once and every other Attic case skips.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.checks.api import CheckContext, Skip
from harness.contract.model import AtticCache
from harness.demand import FIRST_CONTACT_SECONDS
from harness.errors import HarnessInputError, ToolMissing
from harness.probes.binary_cache import AuthError, CacheClient, CacheError, CacheInfo, Presence
from harness.probes.budget import request_deadline
from harness.probes.http_bounds import REQUEST_DEADLINE
from harness.probes.loopback_cache import loopback_cache, loopback_missing_reason
from harness.probes.narinfo import NarInfoError, PublicKey, store_path_hash
from harness.probes.nix import NixError, closure, nix_missing_reason, remove_tree
from harness.redact import redact_url

MAX_CLOSURE_PATHS = 200_000
"""Most store paths a closure walked through a cache's narinfos may have."""


@dataclass
class Target:
    """An Attic cache and what to ask it for."""

    url: str
    cache: str
    public_keys: tuple[str, ...]
    token: str | None
    live: bool
    workdir: Path
    paths: tuple[str, ...] = ()
    """store paths or installables whose closure is checked"""
    store: str | None = None
    """the store holding `paths` (a scratch store for the loopback cache)"""
    nix_file: Path | None = None
    """with the loopback cache: the bundled Nix file `paths` are attributes of"""
    min_hit_ratio: float = 0.9
    token_env: str = "ATTIC_TOKEN"
    sizes: dict[str, int] = field(default_factory=dict)
    http_timeout: float = 10.0
    """seconds each read of an HTTP answer may wait (`http_timeout` parameter)"""
    http_deadline: float = REQUEST_DEADLINE
    """seconds each HTTP request may take in total (`http_deadline` parameter)"""

    def client(self, **kwargs: Any) -> CacheClient:
        """An HTTP client for this cache (the token never leaves it)."""
        kwargs.setdefault("timeout", self.http_timeout)
        kwargs.setdefault("deadline", self.http_deadline)
        return CacheClient(self.url, self.cache, token=self.token, **kwargs)

    def keys(self) -> list[PublicKey]:
        """The trusted public keys, parsed; HarnessInputError for a malformed one."""
        try:
            return [PublicKey.parse(k) for k in self.public_keys]
        except NarInfoError as exc:
            raise HarnessInputError(str(exc)) from None

    def describe(self) -> str:
        """`URL (cache NAME)`, for messages."""
        return f"{self.url} (cache {self.cache})"


def _params_list(params: Mapping[str, Any], key: str) -> tuple[str, ...]:
    value = params.get(key, ())
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise HarnessInputError(f"parameter {key!r} must be a string or a list of strings")
    return tuple(value)


def scratch_dir(ctx: CheckContext, prefix: str) -> Path:
    """A fresh directory under the run's artifacts (`.harness/attic/...`)."""
    base = ctx.artifacts_dir() / "attic"
    base.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=prefix, dir=base))


def require_named(ctx: CheckContext, params: Mapping[str, Any]) -> None:
    """When `--attic-url` names the endpoint: EndpointDown (ATTIC001) unless its
    `nix-cache-info` answers, asked once per run within `FIRST_CONTACT_SECONDS` (or the
    case's shorter `http_timeout` / `http_deadline`)."""
    url = ctx.options.attic_url
    if not url:
        return
    attic = ctx.contract.attic or AtticCache(cache="main")
    cache = str(params.get("cache") or ctx.options.attic_cache or attic.cache)
    token_env = attic.token_env
    timeout = min(FIRST_CONTACT_SECONDS, float(params.get("http_timeout", FIRST_CONTACT_SECONDS)))
    deadline = min(FIRST_CONTACT_SECONDS, float(params.get("http_deadline", FIRST_CONTACT_SECONDS)))

    def first_contact() -> str | None:
        client = CacheClient(
            url,
            cache,
            token=os.environ.get(token_env) or None,
            timeout=timeout,
            deadline=deadline,
        )
        with client, request_deadline(deadline):
            try:
                client.cache_info()
            except AuthError as exc:
                return f"{exc}: set {token_env} to a token that may pull"
            except CacheError as exc:
                return str(exc)
        return None

    where = f"Attic at {redact_url(url)} (cache {cache})"
    ctx.demands.require("ATTIC001", where, first_contact)


@contextlib.contextmanager
def open_target(
    ctx: CheckContext, params: Mapping[str, Any], prefix: str = "case-"
) -> Iterator[Target]:
    """The live Attic cache, or a loopback cache built for this case (Skip when impossible;
    EndpointDown when the named one does not serve)."""
    require_named(ctx, params)
    attic = ctx.contract.attic or AtticCache(cache="main")
    url = ctx.options.attic_url or attic.url
    cache = params.get("cache") or ctx.options.attic_cache or attic.cache
    keys = _params_list(params, "public_keys") or attic.public_keys
    ratio = float(params.get("min_hit_ratio", attic.min_hit_ratio))
    http_timeout = float(params.get("http_timeout", 10.0))
    http_deadline = float(params.get("http_deadline", REQUEST_DEADLINE))
    workdir = scratch_dir(ctx, prefix)
    try:
        if url:
            paths = (
                _params_list(params, "store_paths") + _params_list(params, "installables")
                or attic.installables
            )
            yield Target(
                url=url,
                cache=str(cache),
                public_keys=tuple(keys),
                token=os.environ.get(attic.token_env) or None,
                live=True,
                workdir=workdir,
                paths=paths,
                store=params.get("store"),
                min_hit_ratio=ratio,
                token_env=attic.token_env,
                http_timeout=http_timeout,
                http_deadline=http_deadline,
            )
            return
        reason = loopback_missing_reason()
        if reason:
            raise Skip(
                f"no Attic endpoint configured and the loopback cache cannot be built: {reason}"
            )
        try:
            with loopback_cache(workdir / "loopback") as lb:
                yield Target(
                    url=lb.url,
                    cache=str(params.get("cache", "main")),
                    public_keys=(lb.public_key,),
                    token=None,
                    live=False,
                    workdir=workdir,
                    paths=(lb.top,),
                    store=str(lb.store),
                    nix_file=lb.nix_file,
                    min_hit_ratio=ratio,
                    sizes=dict(lb.closure),
                    http_timeout=http_timeout,
                    http_deadline=http_deadline,
                )
        except (NixError, ToolMissing) as exc:
            raise Skip(f"the loopback cache could not be built: {exc}") from None
    finally:
        remove_tree(workdir)


def reachable_info(target: Target, client: CacheClient) -> CacheInfo:
    """`nix-cache-info` of the target; Skip (live) when the endpoint does not answer at all.

    CacheError (with its HTTP status) when it answers, but not as a binary cache should.
    """
    try:
        return client.cache_info()
    except CacheError as exc:
        if exc.status is not None:
            raise
        raise Skip(
            f"Attic at {target.describe()} is unreachable: {exc}", live=target.live
        ) from None


def target_closure(target: Target, client: CacheClient) -> dict[str, int]:
    """Every store path of the target's closure with its NAR size (0 when unknown).

    From the local (or scratch) store when the paths are valid there; otherwise by
    walking `References` of the cache's narinfos (paths the cache lacks end the walk).
    """
    if not target.paths:
        raise Skip(
            "nothing to look up: set caches.attic.installables in the contract, or "
            "the case's store_paths/installables parameter",
            live=target.live,
        )
    if target.sizes and target.store and not target.live:
        return dict(target.sizes)
    if nix_missing_reason() is None:
        try:
            infos = closure(
                list(target.paths), store=target.store, cache_home=target.workdir / "xdg-cache"
            )
            return {p.path: p.nar_size for p in infos}
        except NixError:
            pass
    store_paths = [p for p in target.paths if p.startswith("/")]
    if not store_paths:
        raise Skip(
            f"cannot compute the closure of {', '.join(target.paths)}: Nix is missing "
            f"or they are not valid in the local store"
        )
    return walk_closure(client, store_paths)


def walk_closure(client: CacheClient, tops: list[str]) -> dict[str, int]:
    """The closure of store paths as the cache describes it (References of each narinfo)."""
    store_dir = tops[0].rsplit("/", 1)[0]
    sizes: dict[str, int] = {}
    frontier = list(dict.fromkeys(tops))
    while frontier:
        if len(sizes) + len(frontier) > MAX_CLOSURE_PATHS:
            raise CacheError(
                f"{client.url}: the narinfos' References name more than "
                f"{MAX_CLOSURE_PATHS} paths (an endless closure)"
            )
        for path in frontier:
            sizes[path] = 0
        lookups = client.narinfos([store_path_hash(p) for p in frontier])
        following: list[str] = []
        for path, lookup in zip(frontier, lookups, strict=True):
            if lookup.presence is Presence.HIT and lookup.info is not None:
                sizes[path] = lookup.info.nar_size
                following.extend(f"{store_dir}/{r}" for r in lookup.info.references)
        frontier = [p for p in dict.fromkeys(following) if p not in sizes]
    return sizes
