"""Closure scan of 2,001 store paths against a loopback binary cache, versus Nix itself.

Real Nix writes 2,000 small store paths plus one that references them all into a scratch
store and publishes them, signed, as a binary cache that a real nginx serves on loopback.
In the same run it then times, as medians of several rounds:

- `nix path-info --store http://... -r TOP` with a fresh narinfo disk cache (Nix's own
  closure query: about 25 parallel connections);
- the harness asking for every narinfo of the same 2,001 paths (GET, parse, verify every
  ed25519 signature, which `nix path-info` does not do): HTTP/1.1-pipelined on one
  connection (what the Attic cases use), pipelined on two connections, one request at a
  time on one keep-alive connection, and on 4 threads with one keep-alive connection each;
  signatures are checked on two threads (libsodium runs without Python's lock);
- the harness walking the closure from TOP through the cache (as Nix does);
- the pipelined scan of the first 500 and 1,000 paths, for the growth fit.

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
    "sequential_one_connection": (False, 1, 1),
    "threads_4_one_connection_each": (False, 4, 1),
}
GROWTH = (500, 1000)
_EXPR = ('let leaves = builtins.genList (i: builtins.toFile "leaf-${toString i}" '
         '"leaf ${toString i}\\n") %d; '
         'in builtins.toFile "top" (builtins.concatStringsSep "\\n" leaves)')


def _median(fn: Callable[[int], Any], rounds: int = ROUNDS) -> dict[str, float]:
    times = []
    for index in range(rounds):
        started = time.perf_counter()
        fn(index)
        times.append(time.perf_counter() - started)
    return {"median": round(statistics.median(times), 4), "min": round(min(times), 4),
            "max": round(max(times), 4), "rounds": rounds}


def _build_cache(work: Path) -> tuple[str, str, list[str]]:
    """Real Nix writes the 2,001 paths and publishes them, signed: (top, public key, paths)."""
    from harness.probes.loopback_cache import publish
    from harness.probes.nix import closure, run_nix, signing_key

    store = work / "store"
    run = run_nix(["nix", "eval", "--raw", "--store", str(store), "--expr", _EXPR % LEAVES],
                  settings={"substituters": ""}, cache_home=work / "xdg", timeout=900)
    top = run.stdout.strip()
    secret, public = signing_key(work / "keys", "bench-1")
    publish(store, [top], work / "www" / "bench", secret, cache_home=work / "xdg",
            timeout=1800)
    return top, public, [p.path for p in closure([top], store=store, cache_home=work / "xdg")]


def main() -> dict[str, Any]:
    """Build the cache, time both scans, and report whether the target is met."""
    from harness.probes.binary_cache import CacheClient, Presence
    from harness.probes.loopback_cache import NginxStatic, loopback_missing_reason
    from harness.probes.narinfo import PublicKey, check_many, store_path_hash
    from harness.probes.nix import remove_tree, run_nix

    reason = loopback_missing_reason()
    if reason:
        return {"name": "attic_scan", "skipped": reason, "passed": None}
    work = Path(tempfile.mkdtemp(prefix="bench-attic-"))
    top, public, paths = _build_cache(work)
    hashes = [store_path_hash(p) for p in paths]
    keys = [PublicKey.parse(public)]
    server = NginxStatic(work / "www", work / "nginx").start()
    cache_url = f"{server.url}/bench"
    try:
        def nix_query(index: int) -> None:
            done = run_nix(["nix", "path-info", "--store", cache_url, "-r", top],
                           cache_home=work / f"xdg-nix-{index}", timeout=300)
            assert len(done.stdout.split()) == len(paths), "nix saw a different closure"

        def harness_scan(pipeline: bool, workers: int, connections: int,
                         subset: list[str] | None = None) -> Callable[[int], None]:
            wanted = subset or hashes

            def fetch(part: list[str]) -> list[Any]:
                with CacheClient(server.url, "bench", workers=workers,
                                 pipeline=pipeline) as client:
                    return client.narinfos(part)

            def scan(_index: int) -> None:
                if connections == 1:
                    lookups = fetch(wanted)
                else:
                    from concurrent.futures import ThreadPoolExecutor

                    size = -(-len(wanted) // connections)
                    with ThreadPoolExecutor(connections) as pool:
                        parts = pool.map(fetch, [wanted[i:i + size]
                                                 for i in range(0, len(wanted), size)])
                        lookups = [lookup for part in parts for lookup in part]
                infos = [lk.info for lk in lookups if lk.presence is Presence.HIT and lk.info]
                trusted = sum(1 for check in check_many(infos, keys) if check.ok)
                assert trusted == len(wanted), f"only {trusted} trusted hits"
            return scan

        def harness_walk(_index: int) -> None:
            from harness.checks._attic_target import walk_closure

            with CacheClient(server.url, "bench", workers=8) as client:
                assert len(walk_closure(client, [top])) == len(paths)

        nix = _median(nix_query)
        scans = {name: _median(harness_scan(pipeline, workers, connections))
                 for name, (pipeline, workers, connections) in VARIANTS.items()}
        walk = _median(harness_walk)
        growth = {size: _median(harness_scan(True, 1, 1, hashes[:size]), 3)["median"]
                  for size in GROWTH}
        nix_again = _median(nix_query)  # the anchor before and after: the load drifts
    finally:
        server.stop()
        remove_tree(work)
    growth[len(paths)] = scans["pipelined"]["median"]
    return _verdict(len(paths), (nix, nix_again), scans, walk, growth)


def _verdict(paths: int, nix: tuple[dict[str, float], dict[str, float]],
             scans: dict[str, dict[str, float]], walk: dict[str, float],
             growth: dict[int, float]) -> dict[str, Any]:
    best_name = min(scans, key=lambda name: scans[name]["median"])
    best = scans[best_name]["median"]
    anchor = statistics.median([nix[0]["median"], nix[1]["median"]])
    return {
        "name": "attic_scan",
        "paths": paths,
        "target": f"best harness scan median <= {TARGET_RATIO} x nix path-info -r median "
                  "(every signature verified)",
        "anchor": "nix path-info --store http://... -r TOP, fresh narinfo cache",
        "nix_path_info_seconds": {"before": nix[0], "after": nix[1]},
        "harness_scan_seconds": scans,
        "harness_walk_seconds": walk,
        "best_variant": best_name,
        "best_harness_seconds": best,
        "ratio_to_anchor": round(best / anchor, 3) if anchor else None,
        "growth": {"points": {str(k): v for k, v in sorted(growth.items())},
                   **fit(dict(sorted(growth.items())))},
        **load(),
        "passed": best <= TARGET_RATIO * anchor,
    }

if __name__ == "__main__":
    import json

    print(json.dumps(main(), indent=2))
