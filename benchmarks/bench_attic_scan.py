"""Closure scan of 2,001 store paths against a loopback binary cache, versus Nix itself.

Real Nix writes 2,000 small store paths plus one that references them all into a scratch
store and publishes them, signed, as a binary cache that a real nginx serves on loopback.
In the same run it then times, as medians of several rounds:

- `nix path-info --store http://... -r TOP` with a fresh narinfo disk cache (Nix's own
  closure query: about 25 parallel connections);
- the harness asking for every narinfo of the same 2,001 paths (GET, parse, verify the
  ed25519 signature): HTTP/1.1-pipelined on one connection (what the Attic cases use),
  one request at a time on one keep-alive connection, and on 4 threads with one
  keep-alive connection each;
- the harness walking the closure from TOP through the cache (as Nix does).

Target: the harness's scan is at least as fast as Nix's own query.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

LEAVES = 2000
ROUNDS = 5
VARIANTS = {  # name -> (pipelined, threads for one-by-one requests)
    "pipelined": (True, 1),
    "sequential_one_connection": (False, 1),
    "threads_4_one_connection_each": (False, 4),
}
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


def main() -> dict[str, Any]:
    """Build the cache, time both scans, and report whether the target is met."""
    from harness.probes.binary_cache import CacheClient, Presence
    from harness.probes.loopback_cache import NginxStatic, loopback_missing_reason, publish
    from harness.probes.narinfo import PublicKey, check_signatures, store_path_hash
    from harness.probes.nix import closure, remove_tree, run_nix, signing_key

    reason = loopback_missing_reason()
    if reason:
        return {"name": "attic_scan", "skipped": reason, "passed": None}
    work = Path(tempfile.mkdtemp(prefix="bench-attic-"))
    store = work / "store"
    run = run_nix(["nix", "eval", "--raw", "--store", str(store), "--expr", _EXPR % LEAVES],
                  settings={"substituters": ""}, cache_home=work / "xdg", timeout=300)
    top = run.stdout.strip()
    secret, public = signing_key(work / "keys", "bench-1")
    publish(store, [top], work / "www" / "bench", secret, cache_home=work / "xdg", timeout=600)
    paths = [p.path for p in closure([top], store=store, cache_home=work / "xdg")]
    hashes = [store_path_hash(p) for p in paths]
    keys = [PublicKey.parse(public)]
    server = NginxStatic(work / "www", work / "nginx").start()
    cache_url = f"{server.url}/bench"
    try:
        def nix_query(index: int) -> None:
            done = run_nix(["nix", "path-info", "--store", cache_url, "-r", top],
                           cache_home=work / f"xdg-nix-{index}", timeout=300)
            assert len(done.stdout.split()) == len(paths), "nix saw a different closure"

        def harness_scan(pipeline: bool, workers: int) -> Callable[[int], None]:
            def scan(_index: int) -> None:
                with CacheClient(server.url, "bench", workers=workers,
                                 pipeline=pipeline) as client:
                    lookups = client.narinfos(hashes)
                trusted = sum(1 for lk in lookups if lk.presence is Presence.HIT and lk.info
                              and check_signatures(lk.info, keys).ok)
                assert trusted == len(paths), f"only {trusted} trusted hits"
            return scan

        def harness_walk(_index: int) -> None:
            from harness.checks._attic_target import walk_closure

            with CacheClient(server.url, "bench", workers=8) as client:
                assert len(walk_closure(client, [top])) == len(paths)

        nix = _median(nix_query)
        scans = {name: _median(harness_scan(pipeline, workers))
                 for name, (pipeline, workers) in VARIANTS.items()}
        walk = _median(harness_walk)
    finally:
        server.stop()
        remove_tree(work)
    best = scans["pipelined"]["median"]
    return {
        "name": "attic_scan",
        "paths": len(paths),
        "target": "pipelined harness scan median <= nix path-info -r median",
        "nix_path_info_seconds": nix,
        "harness_scan_seconds": scans,
        "harness_walk_seconds": walk,
        "best_harness_seconds": best,
        "speedup_vs_nix": round(nix["median"] / best, 3) if best else None,
        "passed": best <= nix["median"],
    }


if __name__ == "__main__":
    import json

    print(json.dumps(main(), indent=2))
