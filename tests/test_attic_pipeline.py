"""Pipelined narinfo lookups: in order, with fall-back, against real nginx and faulty servers."""

from __future__ import annotations

import pytest

from harness.probes.binary_cache import CacheClient, Presence
from harness.probes.faultserver import FaultServer, Reply
from harness.probes.loopback_cache import LoopbackCache
from harness.probes.narinfo import store_path_hash

FAKES = [f"{i:032d}" for i in range(40)]  # valid nix32 hashes, never in a cache


def mixed(lb: LoopbackCache) -> list[str]:
    real = [store_path_hash(p) for p in sorted(lb.closure)]
    return FAKES[:10] + real[:2] + FAKES[10:30] + real[2:] + FAKES[30:]


@pytest.mark.needs_nix
@pytest.mark.needs_nginx
def test_pipelined_answers_match_one_by_one_against_nginx(lb: LoopbackCache) -> None:
    hashes = mixed(lb)
    with CacheClient(lb.url, "main") as fast, CacheClient(lb.url, "main", pipeline=False) as slow:
        piped = fast.narinfos(hashes)
        each = slow.narinfos(hashes)
    assert [lk.hash_part for lk in piped] == hashes
    assert [lk.presence for lk in piped] == [lk.presence for lk in each]
    assert [lk.info for lk in piped] == [lk.info for lk in each]
    assert sum(lk.presence is Presence.HIT for lk in piped) == 4


@pytest.mark.needs_nix
@pytest.mark.needs_nginx
def test_500_and_malformed_answers_inside_a_pipeline(lb: LoopbackCache) -> None:
    hashes = mixed(lb)
    broken = store_path_hash(lb.paths["lib"])
    bad = store_path_hash(lb.paths["tool"])
    server = FaultServer.from_directory(
        lb.root / "www", {f"/main/{broken}.narinfo": "500", f"/main/{bad}.narinfo": "malformed"}
    )
    with server, CacheClient(server.url, "main") as client:
        lookups = {lk.hash_part: lk for lk in client.narinfos(hashes)}
    assert lookups[broken].presence is Presence.ERROR
    assert "HTTP 500 (after 3 attempts)" in lookups[broken].error
    assert lookups[bad].presence is Presence.ERROR and "malformed" in lookups[bad].error
    assert lookups[store_path_hash(lb.top)].presence is Presence.HIT
    assert all(lookups[h].presence is Presence.MISS for h in FAKES)


@pytest.mark.needs_nix
@pytest.mark.needs_nginx
def test_server_closing_the_connection_falls_back(lb: LoopbackCache) -> None:
    hashes = mixed(lb)
    closer = FAKES[5]
    server = FaultServer.from_directory(lb.root / "www")
    server.set(f"/main/{closer}.narinfo", Reply(404, b"gone\n", {"Connection": "close"}))
    with server, CacheClient(server.url, "main") as client:
        lookups = client.narinfos(hashes)
    assert [lk.hash_part for lk in lookups] == hashes
    assert sum(lk.presence is Presence.HIT for lk in lookups) == 4
    assert all(lk.presence is Presence.MISS for lk in lookups if lk.hash_part in FAKES)
