"""Closure scan of 2,001 store paths against a loopback binary cache, versus Nix itself.

Real Nix writes 2,000 small store paths plus one that references them all into a scratch
store and publishes them, signed, as a binary cache that a real nginx serves on loopback.
In the same run it then times, round by round and interleaved (the load drifts):

- `nix path-info --store http://... -r TOP` with a fresh narinfo disk cache (Nix's own
  closure query: about 25 parallel connections; it checks no signature);
- the harness asking for every narinfo of the same 2,001 paths (GET, parse, verify every
  ed25519 signature on two threads): HTTP/1.1-pipelined on one connection (what the Attic
  cases use), pipelined on two connections, and on 4 threads with one keep-alive
  connection each;

then the harness walking the closure from TOP through the cache (as Nix does), and the
pipelined scan of the first 500 and 1,000 paths, for the growth fit.

Target: the harness's best scan takes at most half the time of Nix's own query.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.timing import fit, load

LEAVES = 2000
ROUNDS = 5
TARGET_RATIO = 0.5
VARIANTS = {  # name -> (pipelined, threads for one-by-one requests, connections)
    "pipelined": (True, 1, 1),
    "pipelined_2_connections": (True, 1, 2),
    "threads_4_one_connection_each": (False, 4, 1),
}
GROWTH = (500, 1000)
_EXPR = (
    'let leaves = builtins.genList (i: builtins.toFile "leaf-${toString i}" '
    '"leaf ${toString i}\\n") %d; '
    'in builtins.toFile "top" (builtins.concatStringsSep "\\n" leaves)'
)


def _median(fn: Callable[[int], Any], rounds: int = ROUNDS) -> dict[str, float]:
    return _stats([_timed(fn, index) for index in range(rounds)])


def _timed(fn: Callable[[int], Any], index: int) -> float:
    started = time.perf_counter()
    fn(index)
    return time.perf_counter() - started


def _stats(times: list[float]) -> dict[str, float]:
    return {
        "median": round(statistics.median(times), 4),
        "min": round(min(times), 4),
        "max": round(max(times), 4),
        "rounds": len(times),
    }


def _interleaved(
    fns: dict[str, Callable[[int], Any]], rounds: int = ROUNDS
) -> dict[str, list[float]]:
    """Each function once per round, in turn (A, B, C, A, B, C, ...): the load drifts."""
    times: dict[str, list[float]] = {name: [] for name in fns}
    for index in range(rounds):
        for name, fn in fns.items():
            times[name].append(_timed(fn, index))
    return times


def _build_cache(work: Path) -> tuple[str, str, list[str]]:
    """Real Nix writes the 2,001 paths and publishes them, signed: (top, public key, paths)."""
    from harness.probes.loopback_cache import publish
    from harness.probes.nix import closure, run_nix, signing_key

    store = work / "store"
    run = run_nix(
        ["nix", "eval", "--raw", "--store", str(store), "--expr", _EXPR % LEAVES],
        settings={"substituters": ""},
        cache_home=work / "xdg",
        timeout=900,
    )
    top = run.stdout.strip()
    secret, public = signing_key(work / "keys", "bench-1")
    publish(store, [top], work / "www" / "bench", secret, cache_home=work / "xdg", timeout=1800)
    return top, public, [p.path for p in closure([top], store=store, cache_home=work / "xdg")]


def main() -> dict[str, Any]:
    """Build the cache, time both scans, and report whether the target is met."""
    from harness.probes.binary_cache import CacheClient, Presence
    from harness.probes.loopback_cache import loopback_missing_reason, serve_directory
    from harness.probes.narinfo import PublicKey, check_many, store_path_hash
    from harness.probes.nix import remove_tree, run_nix

    reason = loopback_missing_reason()
    if reason:
        return {"name": "attic_scan", "skipped": reason, "passed": None}
    work = Path(tempfile.mkdtemp(prefix="bench-attic-"))
    top, public, paths = _build_cache(work)
    hashes = [store_path_hash(p) for p in paths]
    keys = [PublicKey.parse(public)]
    server = serve_directory(work / "www", work / "nginx")
    cache_url = f"{server.url}/bench"
    try:

        def nix_query(index: int) -> None:
            done = run_nix(
                ["nix", "path-info", "--store", cache_url, "-r", top],
                cache_home=work / f"xdg-nix-{index}",
                timeout=300,
            )
            assert len(done.stdout.split()) == len(paths), "nix saw a different closure"

        def harness_scan(
            pipeline: bool, workers: int, connections: int, subset: list[str] | None = None
        ) -> Callable[[int], None]:
            wanted = subset or hashes

            def fetch(part: list[str]) -> list[Any]:
                with CacheClient(server.url, "bench", workers=workers, pipeline=pipeline) as client:
                    return client.narinfos(part)

            def scan(_index: int) -> None:
                if connections == 1:
                    lookups = fetch(wanted)
                else:
                    from concurrent.futures import ThreadPoolExecutor

                    size = -(-len(wanted) // connections)
                    with ThreadPoolExecutor(connections) as pool:
                        parts = pool.map(
                            fetch, [wanted[i : i + size] for i in range(0, len(wanted), size)]
                        )
                        lookups = [lookup for part in parts for lookup in part]
                infos = [lk.info for lk in lookups if lk.presence is Presence.HIT and lk.info]
                trusted = sum(1 for check in check_many(infos, keys) if check.ok)
                assert trusted == len(wanted), f"only {trusted} trusted hits"

            return scan

        def harness_walk(_index: int) -> None:
            from harness.checks._attic_target import walk_closure

            with CacheClient(server.url, "bench", workers=8) as client:
                assert len(walk_closure(client, [top])) == len(paths)

        times = _interleaved(
            {
                "nix": nix_query,
                **{name: harness_scan(*variant) for name, variant in VARIANTS.items()},
            }
        )
        walk = _median(harness_walk, 3)
        growth = {
            size: _median(harness_scan(True, 1, 1, hashes[:size]), 3)["median"] for size in GROWTH
        }
    finally:
        server.stop()
        remove_tree(work)
    growth[len(paths)] = statistics.median(times["pipelined"])
    return _verdict(len(paths), times, walk, growth)


def _verdict(
    paths: int, times: dict[str, list[float]], walk: dict[str, float], growth: dict[int, float]
) -> dict[str, Any]:
    nix = times.pop("nix")
    ratios = {
        name: round(statistics.median(t / n for t, n in zip(scan, nix, strict=True)), 3)
        for name, scan in times.items()
    }
    best = min(ratios, key=lambda name: ratios[name])
    return {
        "name": "attic_scan",
        "paths": paths,
        "target": f"best harness scan <= {TARGET_RATIO} x nix path-info -r (median of the "
        "per-round ratios; every signature verified)",
        "anchor": "nix path-info --store http://... -r TOP, fresh narinfo cache, "
        "interleaved round by round",
        "nix_path_info_seconds": _stats(nix),
        "harness_scan_seconds": {name: _stats(t) for name, t in times.items()},
        "ratio_per_variant": ratios,
        "harness_walk_seconds": walk,
        "best_variant": best,
        "ratio_to_anchor": ratios[best],
        "growth": {
            "points": {str(k): v for k, v in sorted(growth.items())},
            **fit(dict(sorted(growth.items()))),
        },
        **load(),
        "passed": ratios[best] <= TARGET_RATIO,
    }


if __name__ == "__main__":
    import json

    print(json.dumps(main(), indent=2))
