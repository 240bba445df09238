"""Attic: the Nix binary cache is reachable, trusted, warm, really used, and optional.

Each case runs against the live Attic (`--attic-url` or `caches.attic.url`, token from
`ATTIC_TOKEN`) or, when none is configured, against a loopback binary cache built from
a bundled derivation with real Nix and served by a real nginx.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

from harness.checks._attic_target import (
    Target,
    open_target,
    reachable_info,
    require_named,
    scratch_dir,
    target_closure,
)
from harness.checks.api import CheckContext, Skip
from harness.errors import HarnessInputError
from harness.probes.binary_cache import AuthError, CacheClient, CacheError, Lookup, Presence
from harness.probes.faultserver import FaultServer, Reply
from harness.probes.loopback_cache import NIX_FILE
from harness.probes.narinfo import Trust, check_many, store_path_hash
from harness.probes.nix import NixError, nix_missing_reason, realise, remove_tree, show_config
from harness.probes.ports import closed_port
from harness.results import CheckOutput, Finding
from harness.rules import Rule
from harness.secret_files import secret_file

RULES = (
    Rule(
        "ATTIC001",
        "the Attic cache answers nix-cache-info for the client's store, and its "
        "public key is trusted by the contract (and the runner)",
        "--attic-url names a cache that does not serve (connection refused, HTTP 500, no "
        "answer); nix-cache-info says StoreDir: /gnu/store; or Attic's key "
        "main:AAAA... is not in caches.attic.public_keys",
        "bring the cache up, or point --attic-url / caches.attic.url at the right server "
        "and cache; add the key from `attic cache info main` to public_keys and to the "
        "runners' trusted-public-keys",
    ),
    Rule(
        "ATTIC002",
        "every narinfo the cache serves carries a signature by a contract key "
        "that verifies (unsigned or untrusted hits are silently rebuilt by Nix)",
        "Sig: other-cache:... on a path Nix needs, or no Sig at all",
        "sign with the cache's key (Attic signs on push) and list it in public_keys",
    ),
    Rule(
        "ATTIC003",
        "the closure of the target hits the cache at least min_hit_ratio "
        "(by count); 401/403 are auth problems, not misses",
        "12 of 40 paths missing, biggest /nix/store/...-rustc-1.80 (300 MiB)",
        "push the closure after CI builds (`attic push main result`), or fix ATTIC_TOKEN",
    ),
    Rule(
        "ATTIC004",
        "realising the target in a fresh store with only this cache copies "
        "every path from it and builds nothing",
        "building '/nix/store/...-app.drv' although the cache has the path",
        "check the signatures (ATTIC002) and that the pushed paths match the evaluated ones",
    ),
    Rule(
        "ATTIC005",
        "with the cache unreachable or hung, builds still succeed within a bound "
        "(Attic is acceleration, not a dependency)",
        "nix build fails with 'unable to download' when the cache is down",
        "keep `fallback = true`, a short connect-timeout and stalled-download-timeout, and "
        "few download-attempts on the runners",
    ),
)

MAX_LISTED = 5
LATENCY_SAMPLE = 20


def _finding(rule: str, message: str) -> Finding:
    return Finding(rule=rule, message=message)


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def _note_embedded(target: Target, out: CheckOutput) -> None:
    if not target.live:
        out.loopback = True
        out.notes.append(
            f"embedded loopback cache {target.url}/{target.cache} "
            "(no caches.attic.url or --attic-url)"
        )


def _on_runner() -> bool:
    return os.environ.get("GITHUB_ACTIONS") == "true" or bool(os.environ.get("RUNNER_NAME"))


# -- ATTIC001 ---------------------------------------------------------------------------
def check_reachable(ctx: CheckContext, params: Mapping[str, Any]) -> CheckOutput:
    """ATTIC001: nix-cache-info answers for our store dir; Attic's key is trusted."""
    out = CheckOutput(examined={"endpoints": 1})
    store_dir = str(params.get("store_dir", "/nix/store"))
    with open_target(ctx, params) as target, target.client() as client:
        _note_embedded(target, out)
        try:
            info = reachable_info(target, client)
        except CacheError:
            _reachable_or_finding(target, client, out, "ATTIC001")
            return out
        out.measure("attic.cache_info_latency_seconds", round(info.latency, 6), "seconds")
        if info.priority is not None:
            out.measure("attic.priority", info.priority)
        if info.store_dir != store_dir:
            out.add(
                _finding(
                    "ATTIC001",
                    f"{client.url}/nix-cache-info has StoreDir "
                    f"{info.store_dir}, the client's store is {store_dir}",
                )
            )
        if not target.public_keys:
            out.add(
                _finding(
                    "ATTIC001",
                    "no public keys for the cache (caches.attic.public_keys):"
                    " Nix would refuse every substitute from it",
                )
            )
        config = client.attic_cache_config()
        key = config.get("public_key") if config else None
        if isinstance(key, str):
            out.notes.append(f"Attic cache {target.cache} signs with {key.split(':')[0]}")
            if key not in target.public_keys:
                out.add(
                    _finding(
                        "ATTIC001",
                        f"Attic's public key {key} for cache "
                        f"{target.cache} is not in caches.attic.public_keys",
                    )
                )
            if (params.get("check_runner_keys") or _on_runner()) and not nix_missing_reason():
                try:
                    trusted = show_config().get("trusted-public-keys", "").split()
                except NixError as exc:
                    out.notes.append(f"could not read the runner's Nix settings: {exc}")
                else:
                    if key not in trusted:
                        out.add(
                            _finding(
                                "ATTIC001",
                                f"this runner's Nix does not trust "
                                f"{key.split(':')[0]} (trusted-public-keys)",
                            )
                        )
        elif info.is_attic:
            out.notes.append("the server is Attic but its cache config is not readable")
    return out


# -- ATTIC002 ---------------------------------------------------------------------------
def check_signatures_case(ctx: CheckContext, params: Mapping[str, Any]) -> CheckOutput:
    """ATTIC002: every narinfo looked at is signed by a contract key that verifies."""
    out = CheckOutput(examined={"endpoints": 1})
    sample = int(params.get("sample", 200))
    with open_target(ctx, params) as target, target.client() as client:
        _note_embedded(target, out)
        _reachable_or_finding(target, client, out, "ATTIC002")
        if out.findings:
            return out
        keys = target.keys()
        paths = sorted(target_closure(target, client))[:sample]
        lookups = client.narinfos([store_path_hash(p) for p in paths])
        counts = {t: 0 for t in Trust}
        bad: list[str] = []
        for path, lookup in zip(paths, lookups, strict=True):
            if lookup.presence is Presence.ERROR:
                out.add(_finding("ATTIC002", f"{path}: {lookup.error}"))
        signed = [
            (path, lookup.info)
            for path, lookup in zip(paths, lookups, strict=True)
            if lookup.presence is Presence.HIT and lookup.info is not None
        ]
        checks = check_many([info for _, info in signed], keys)
        for (path, _), result in zip(signed, checks, strict=True):
            counts[result.trust] += 1
            if not result.ok:
                names = ", ".join(result.key_names) or "no Sig"
                bad.append(f"{path} is {result.trust} ({names})")
        for message in bad[:MAX_LISTED]:
            out.add(_finding("ATTIC002", message + ": Nix will rebuild it"))
        if len(bad) > MAX_LISTED:
            out.add(
                _finding(
                    "ATTIC002",
                    f"... and {len(bad) - MAX_LISTED} more narinfos without a trusted signature",
                )
            )
        checked = sum(counts.values())
        out.measure("attic.narinfos_checked", checked)
        out.measure("attic.narinfos_trusted", counts[Trust.TRUSTED])
        if not checked:
            out.notes.append("the cache holds none of the paths: no signature to check")
    return out


def _reachable_or_finding(target: Target, client: CacheClient, out: CheckOutput, rule: str) -> None:
    try:
        reachable_info(target, client)
    except AuthError as exc:
        out.add(_finding(rule, f"{exc}: set {target.token_env} to a token that may pull"))
    except CacheError as exc:
        out.add(_finding(rule, f"{target.describe()}: {exc}"))


# -- ATTIC003 ---------------------------------------------------------------------------
def check_hit_ratio(ctx: CheckContext, params: Mapping[str, Any]) -> CheckOutput:
    """ATTIC003: the closure's hit ratio (by count and bytes) reaches min_hit_ratio."""
    out = CheckOutput(examined={"endpoints": 1})
    with open_target(ctx, params) as target, target.client(workers=4) as client:
        _note_embedded(target, out)
        _reachable_or_finding(target, client, out, "ATTIC003")
        if out.findings:
            return out
        sizes = target_closure(target, client)
        hits, auth, errors, untrusted = _presence(target, client, sorted(sizes), params, out)
        counted = [p for p in sizes if p not in auth]
        hit_paths = [p for p in counted if p in hits]
        missing = [p for p in counted if p not in hits]
        total_bytes = sum(sizes[p] for p in counted)
        hit_bytes = sum(sizes[p] for p in hit_paths)
        ratio = len(hit_paths) / len(counted) if counted else 0.0
        out.measure("attic.hit_ratio", round(ratio, 6), "ratio")
        out.measure("attic.paths_hit", len(hit_paths), "paths")
        out.measure("attic.paths_total", len(counted), "paths")
        out.measure("attic.bytes_hit", hit_bytes, "bytes")
        out.measure("attic.bytes_total", total_bytes, "bytes")
        out.measure("attic.bytes_missed", total_bytes - hit_bytes, "bytes")
        out.measure(
            "attic.hit_ratio_bytes",
            round(hit_bytes / total_bytes, 6) if total_bytes else 0.0,
            "ratio",
        )
        out.measure("attic.paths_untrusted", len(untrusted), "paths")
        if auth:
            out.add(
                _finding(
                    "ATTIC003",
                    f"{len(auth)} narinfo(s) answered 401/403 (not counted "
                    f"as misses): set {target.token_env} to a token that may pull",
                )
            )
        if errors:
            first = next(iter(errors.values()))
            out.add(
                _finding(
                    "ATTIC003",
                    f"{len(errors)} narinfo(s) could not be read (counted as misses): {first}",
                )
            )
        if untrusted:
            out.notes.append(
                f"{len(untrusted)} hit(s) without a trusted signature count as "
                "misses (see ATTIC002)"
            )
        if counted and ratio < target.min_hit_ratio:
            biggest = sorted(missing, key=lambda p: (-sizes[p], p))[:MAX_LISTED]
            listed = ", ".join(f"{p} ({sizes[p]} bytes)" for p in biggest)
            out.add(
                _finding(
                    "ATTIC003",
                    f"hit ratio {ratio:.2f} ({len(hit_paths)}/{len(counted)}"
                    f" paths) is below {target.min_hit_ratio:.2f}; biggest missing: "
                    f"{listed}",
                )
            )
    return out


def _presence(
    target: Target,
    client: CacheClient,
    paths: list[str],
    params: Mapping[str, Any],
    out: CheckOutput,
) -> tuple[set[str], set[str], dict[str, str], set[str]]:
    """Hits, auth-refused paths, unreadable paths (with their error), untrusted hits."""
    by_hash = {store_path_hash(p): p for p in paths}
    use_api = params.get("use_api", "auto")
    if target.token and use_api in ("auto", True):
        try:
            missing = client.attic_missing(by_hash)
        except AuthError:
            out.notes.append(
                "the token may not use get-missing-paths (no push permission); "
                "asked per narinfo instead"
            )
        except CacheError as exc:
            out.notes.append(f"get-missing-paths unavailable ({exc}); asked per narinfo")
        else:
            out.notes.append("presence from Attic's get-missing-paths; signatures: ATTIC002")
            return {p for h, p in by_hash.items() if h not in missing}, set(), {}, set()
    keys = target.keys()
    lookups: list[Lookup] = client.narinfos(list(by_hash))
    sample = [
        lk.hash_part
        for lk in lookups  # one at a time: true round trips
        if lk.presence in (Presence.HIT, Presence.MISS)
    ][:LATENCY_SAMPLE]
    latencies = [client.narinfo(h).latency for h in sample]
    out.measure("attic.narinfo_p50_seconds", round(_pct(latencies, 0.5), 6), "seconds")
    out.measure("attic.narinfo_p95_seconds", round(_pct(latencies, 0.95), 6), "seconds")
    hits: set[str] = set()
    auth: set[str] = set()
    errors: dict[str, str] = {}
    untrusted: set[str] = set()
    found = [
        (by_hash[lk.hash_part], lk.info)
        for lk in lookups
        if lk.presence is Presence.HIT and lk.info is not None
    ]
    for lookup in lookups:
        path = by_hash[lookup.hash_part]
        if lookup.presence is Presence.AUTH:
            auth.add(path)
        elif lookup.presence is Presence.ERROR:
            errors[path] = lookup.error
    for (path, _), result in zip(found, check_many([i for _, i in found], keys), strict=True):
        (hits if result.ok else untrusted).add(path)
    return hits, auth, errors, untrusted


# -- ATTIC004 ---------------------------------------------------------------------------
def check_substitution(ctx: CheckContext, params: Mapping[str, Any]) -> CheckOutput:
    """ATTIC004: a fresh store realises the target from this cache alone, building nothing."""
    out = CheckOutput(examined={"endpoints": 1})
    reason = nix_missing_reason()
    if reason:
        raise Skip(f"real substitution needs Nix: {reason}")
    timeout = float(params.get("timeout", 600))
    with open_target(ctx, params) as target, target.client() as client:
        _note_embedded(target, out)
        _reachable_or_finding(target, client, out, "ATTIC004")
        if out.findings:
            return out
        if not target.paths:
            raise Skip(
                "nothing to realise: set caches.attic.installables or the case's "
                "store_paths/installables",
                live=target.live,
            )
        installables = ["app"] if target.nix_file else list(target.paths)
        with _netrc_settings(target) as settings:
            warm = realise(
                installables,
                store=target.workdir / "warm-store",
                substituters=[client.url],
                trusted_keys=target.public_keys,
                cache_home=target.workdir / "xdg-warm",
                file=target.nix_file,
                settings=settings,
                timeout=timeout,
            )
        ours = sorted(
            p for p, src in warm.events.substituted.items() if src.rstrip("/") == client.url
        )
        out.measure("attic.paths_substituted", len(ours), "paths")
        out.measure("attic.warm_seconds", round(warm.run.seconds, 4), "seconds")
        if not warm.run.ok:
            out.add(
                _finding(
                    "ATTIC004",
                    f"realising {' '.join(installables)} from "
                    f"{client.url} failed: {warm.run.tail(3)}",
                )
            )
        for message in warm.events.untrusted[:MAX_LISTED]:
            out.add(_finding("ATTIC004", f"Nix refused a substitute: {message}"))
        if warm.events.built:
            out.add(
                _finding(
                    "ATTIC004",
                    f"{len(warm.events.built)} derivation(s) were built "
                    f"instead of substituted: {', '.join(warm.events.built[:3])}",
                )
            )
        if warm.run.ok and not ours:
            out.add(_finding("ATTIC004", f"no path was copied from {client.url}"))
        elif warm.run.ok and target.sizes:
            skipped = sorted(set(target.sizes) - set(ours))
            if skipped:
                out.add(
                    _finding(
                        "ATTIC004",
                        f"{len(skipped)} closure path(s) did not come "
                        f"from {client.url}: {', '.join(skipped[:3])}",
                    )
                )
        if params.get("cold_build", target.nix_file is not None):
            cold = realise(
                installables,
                store=target.workdir / "cold-store",
                substituters=[],
                trusted_keys=[],
                cache_home=target.workdir / "xdg-cold",
                file=target.nix_file,
                timeout=timeout,
            )
            if cold.run.ok:
                out.measure("attic.cold_seconds", round(cold.run.seconds, 4), "seconds")
                if warm.run.seconds > 0:
                    out.measure(
                        "attic.acceleration", round(cold.run.seconds / warm.run.seconds, 3), "ratio"
                    )
        if params.get("fetch_nar", True) and ours:
            _fetch_biggest(client, ours, out)
    return out


@contextlib.contextmanager
def _netrc_settings(target: Target) -> Iterator[dict[str, str]]:
    """A private netrc with the token (as `attic use` writes it), for Nix to authenticate.

    It lives in the private secret directory, never under the artifacts (see
    `harness.secret_files`), and is removed when the block ends.
    """
    if not target.token:
        yield {}
        return
    host = urlsplit(target.url).hostname or ""
    with secret_file("netrc", f"machine {host}\npassword {target.token}\n") as netrc:
        yield {"netrc-file": str(netrc)}


def _fetch_biggest(client: CacheClient, paths: list[str], out: CheckOutput) -> None:
    lookups = [lk for lk in client.narinfos([store_path_hash(p) for p in paths]) if lk.info]
    if not lookups:
        return
    biggest = max(lookups, key=lambda lk: lk.info.nar_size if lk.info else 0)
    assert biggest.info is not None
    size, problem = client.fetch_nar(biggest.info)
    out.measure("attic.nar_bytes_fetched", size, "bytes")
    if problem:
        out.add(_finding("ATTIC004", f"NAR of {biggest.info.store_path}: {problem}"))


# -- ATTIC005 ---------------------------------------------------------------------------
def check_outage(ctx: CheckContext, params: Mapping[str, Any]) -> CheckOutput:
    """ATTIC005: with the cache unreachable or hung, a build still succeeds within a bound.

    It builds against caches of its own, never the named one; yet when the named one
    does not serve, it skips like every other Attic case (see ATTIC001).
    """
    require_named(ctx, {})  # the named cache with its defaults: outage params do not name one
    out = CheckOutput(examined={"endpoints": 1})
    reason = nix_missing_reason()
    if reason:
        raise Skip(f"the outage case needs Nix: {reason}")
    mode = str(params.get("mode", "refuse"))
    if mode not in ("refuse", "hang"):
        raise HarnessInputError(f"attic.outage: mode {mode!r} is not 'refuse' or 'hang'")
    bound = float(params.get("max_seconds", 60))
    settings = {
        "connect-timeout": str(params.get("connect_timeout", 2)),
        "fallback": "true",
        "download-attempts": str(params.get("download_attempts", 5)),
        "stalled-download-timeout": str(params.get("stalled_download_timeout", 300)),
        "narinfo-cache-negative-ttl": "0",
    }
    with contextlib.ExitStack() as stack:
        if mode == "hang":
            hung = stack.enter_context(FaultServer(default=Reply(fault="slow")))
            url = f"{hung.url}/main"
        else:
            url = str(params.get("url") or f"http://127.0.0.1:{closed_port()}/main")
        workdir = scratch_dir(ctx, "outage-")
        stack.callback(remove_tree, workdir)
        what = f"with {url} {'hung' if mode == 'hang' else 'unreachable'}"
        try:
            down = realise(
                ["app"],
                store=workdir / "outage-store",
                substituters=[url],
                trusted_keys=[],
                cache_home=workdir / "xdg-outage",
                file=NIX_FILE,
                settings=settings,
                timeout=bound + 30,
            )
            base = realise(
                ["app"],
                store=workdir / "base-store",
                substituters=[],
                trusted_keys=[],
                cache_home=workdir / "xdg-base",
                file=NIX_FILE,
                timeout=bound + 30,
            )
        except NixError as exc:
            out.add(_finding("ATTIC005", f"{what} the build did not finish: {exc}"))
            return out
    prefix = "attic.outage" if mode == "refuse" else "attic.outage_hang"
    out.measure(f"{prefix}_build_seconds", round(down.run.seconds, 4), "seconds")
    if base.run.ok:
        out.measure("attic.baseline_build_seconds", round(base.run.seconds, 4), "seconds")
        out.measure(
            f"{prefix}_slowdown_seconds", round(down.run.seconds - base.run.seconds, 4), "seconds"
        )
    if not down.run.ok and not base.run.ok:
        out.add(_finding("ATTIC005", f"the build fails even with no cache: {base.run.tail(3)}"))
    elif not down.run.ok:
        out.add(_finding("ATTIC005", f"{what} the build failed: {down.run.tail(3)}"))
    elif down.run.seconds > bound:
        out.add(
            _finding(
                "ATTIC005",
                f"{what} the build took {down.run.seconds:.1f}s, over "
                f"the bound of {bound:g}s (connect-timeout, stalled-download-timeout "
                f"and download-attempts decide it)",
            )
        )
    return out
