"""The Attic cases against misbehaving servers: 500s, slow answers, truncated NARs,
malformed narinfos, and an Attic-shaped server for get-missing-paths and auth.

The cache files are a real signed binary cache made by real Nix (one per module); the
servers are our fault-injecting server and the Attic-shaped server built on it.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from harness.checks import attic
from harness.checks.api import CheckContext
from harness.contract import BUNDLED_CONTRACT, load_contract
from harness.contract.model import AtticCache
from harness.engine import run_case
from harness.options import Options
from harness.probes.binary_cache import AuthError, CacheClient, Presence
from harness.probes.faultserver import FaultServer, Reply
from harness.probes.loopback_cache import LoopbackCache
from harness.probes.narinfo import parse_narinfo, store_path_hash
from harness.results import CheckOutput
from harness.scenario import Case
from tests.helpers.attic_server import AtticShapedServer


def ctx_for(tmp_path: Path, url: str, cache: str, keys: tuple[str, ...]) -> CheckContext:
    contract = dataclasses.replace(
        load_contract(BUNDLED_CONTRACT),
        attic=AtticCache(cache=cache, url=url, public_keys=keys, min_hit_ratio=0.9),
    )
    return CheckContext(
        repo=tmp_path,
        contract=contract,
        options=Options(attic_url=url, attic_cache=cache, artifacts_dir=tmp_path / "artifacts"),
    )


def values(out: CheckOutput) -> dict[str, float]:
    return {m.name: m.value for m in out.measurements}


def faulty(lb: LoopbackCache, faults: dict[str, str]) -> FaultServer:
    """The `main` cache under /main/ with faults on some of its files."""
    return FaultServer.from_directory(lb.root / "www", faults)


def narinfo_path(path: str) -> str:
    return f"/main/{store_path_hash(path)}.narinfo"


@pytest.mark.needs_nix
@pytest.mark.needs_nginx
def test_500_on_a_narinfo_is_retried_then_reported(lb: LoopbackCache, tmp_path: Path) -> None:
    broken = narinfo_path(lb.paths["tool"])
    with faulty(lb, {broken: "500"}) as server:
        out = attic.check_hit_ratio(
            ctx_for(tmp_path, server.url, "main", (lb.public_key,)),
            {"store_paths": [lb.top], "store": str(lb.store)},
        )
        tries = [r for r in server.requests if r.path == broken]
    assert len(tries) == 3  # one request and two bounded retries
    [finding] = [f for f in out.findings if "could not be read" in f.message]
    assert "HTTP 500 (after 3 attempts)" in finding.message
    assert values(out)["attic.paths_hit"] == 3


@pytest.mark.needs_nix
@pytest.mark.needs_nginx
def test_500_on_nix_cache_info_is_a_finding_not_a_skip(lb: LoopbackCache, tmp_path: Path) -> None:
    with faulty(lb, {"/main/nix-cache-info": "500"}) as server:
        ctx = ctx_for(tmp_path, server.url, "main", (lb.public_key,))
        result = run_case(ctx, "caches", Case("attic-reachable", "attic.reachable", 1))
    assert [f.rule for f in result.findings] == ["ATTIC001"]
    assert "HTTP 500" in result.findings[0].message


@pytest.mark.needs_nix
@pytest.mark.needs_nginx
def test_slow_narinfo_times_out(lb: LoopbackCache, tmp_path: Path) -> None:
    slow = narinfo_path(lb.paths["lib"])
    with faulty(lb, {slow: "slow"}) as server:
        out = attic.check_hit_ratio(
            ctx_for(tmp_path, server.url, "main", (lb.public_key,)),
            {"store_paths": [lb.top], "store": str(lb.store), "http_timeout": 0.5},
        )
    [finding] = [f for f in out.findings if "could not be read" in f.message]
    assert "no answer within 0.5s" in finding.message
    assert values(out)["attic.paths_hit"] == 3
    assert [r.path for r in server.requests].count(slow) == 1  # a read timeout is not retried


@pytest.mark.needs_nix
@pytest.mark.needs_nginx
def test_malformed_narinfo_is_a_clear_finding(lb: LoopbackCache, tmp_path: Path) -> None:
    bad = narinfo_path(lb.paths["data"])
    with faulty(lb, {bad: "malformed"}) as server:
        ctx = ctx_for(tmp_path, server.url, "main", (lb.public_key,))
        params = {"store_paths": [lb.top], "store": str(lb.store)}
        ratio = attic.check_hit_ratio(ctx, params)
        sigs = attic.check_signatures_case(ctx, params)
    assert any(
        "malformed narinfo" in f.message and "not a 'Key: value' line" in f.message
        for f in ratio.findings
    )
    assert any(f.rule == "ATTIC002" and "malformed narinfo" in f.message for f in sigs.findings)


@pytest.mark.needs_nix
@pytest.mark.needs_nginx
def test_truncated_nar_is_caught(lb: LoopbackCache, tmp_path: Path) -> None:
    info = parse_narinfo(
        (lb.root / "www" / "main" / f"{store_path_hash(lb.paths['data'])}.narinfo").read_text()
    )
    with (
        faulty(lb, {f"/main/{info.url}": "truncate"}) as server,
        CacheClient(server.url, "main", timeout=5) as client,
    ):
        size, problem = client.fetch_nar(info)
    assert problem is not None and size < (info.file_size or 0)
    with (
        FaultServer.from_directory(lb.root / "www") as server,
        CacheClient(server.url, "main", timeout=5) as client,
    ):
        assert client.fetch_nar(info) == (info.file_size, None)


@pytest.mark.needs_nix
@pytest.mark.needs_nginx
def test_truncated_nar_fails_real_substitution(lb: LoopbackCache, tmp_path: Path) -> None:
    info = parse_narinfo(
        (lb.root / "www" / "main" / f"{store_path_hash(lb.paths['data'])}.narinfo").read_text()
    )
    with faulty(lb, {f"/main/{info.url}": "truncate"}) as server:
        out = attic.check_substitution(
            ctx_for(tmp_path, server.url, "main", (lb.public_key,)),
            {"store_paths": [lb.top], "cold_build": False, "timeout": 120},
        )
    assert any(f.rule == "ATTIC004" and "failed" in f.message for f in out.findings)


# -- the Attic-shaped server -----------------------------------------------------------
def attic_server(
    lb: LoopbackCache, cache: str = "partial", *, private: bool = False
) -> AtticShapedServer:
    server = AtticShapedServer(
        lb.root / "www" / cache,
        cache,
        lb.public_key,
        {"push-token": "push", "pull-token": "pull"},
        private=private,
    )
    return server


@pytest.mark.needs_nix
@pytest.mark.needs_nginx
def test_get_missing_paths_has_attics_shapes(
    lb: LoopbackCache, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ATTIC_TOKEN", "push-token")
    with attic_server(lb) as server:
        out = attic.check_hit_ratio(
            ctx_for(tmp_path, server.url, "partial", (lb.public_key,)),
            {"store_paths": [lb.top], "store": str(lb.store)},
        )
        narinfo_gets = [r for r in server.requests if r.path.endswith(".narinfo")]
    [request] = server.missing_requests
    assert request == {
        "cache": "partial",
        "store_path_hashes": sorted(store_path_hash(p) for p in lb.closure),
    }
    assert narinfo_gets == []  # one POST answered everything
    assert values(out)["attic.hit_ratio"] == 0.5
    assert any("get-missing-paths" in note for note in out.notes)
    assert "push-token" not in repr(out)


@pytest.mark.needs_nix
@pytest.mark.needs_nginx
def test_pull_only_token_falls_back_to_narinfos(
    lb: LoopbackCache, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ATTIC_TOKEN", "pull-token")
    with attic_server(lb) as server:
        with (
            CacheClient(server.url, "partial", token="pull-token") as client,
            pytest.raises(AuthError) as denied,
        ):
            client.attic_missing(["0" * 32])
        out = attic.check_hit_ratio(
            ctx_for(tmp_path, server.url, "partial", (lb.public_key,)),
            {"store_paths": [lb.top], "store": str(lb.store)},
        )
    assert denied.value.status == 403
    with (
        attic_server(lb) as server,
        CacheClient(server.url, "partial") as anonymous,
        pytest.raises(AuthError) as unauthenticated,
    ):
        anonymous.attic_missing(["0" * 32])
    assert unauthenticated.value.status == 401
    assert values(out)["attic.hit_ratio"] == 0.5  # hex NarHash signatures still verify
    assert any("no push permission" in note for note in out.notes)


@pytest.mark.needs_nix
@pytest.mark.needs_nginx
def test_auth_refusal_is_a_finding_never_a_miss(
    lb: LoopbackCache, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ATTIC_TOKEN", raising=False)
    refused = narinfo_path(lb.paths["tool"])
    with faulty(lb, {}) as server:
        server.set(refused, Reply(403, b"forbidden\n"))
        with CacheClient(server.url, "main") as client:
            assert client.narinfo(store_path_hash(lb.top)).presence is Presence.HIT
            assert client.narinfo(store_path_hash(lb.paths["tool"])).presence is Presence.AUTH
        ctx = ctx_for(tmp_path, server.url, "main", (lb.public_key,))
        out = attic.check_hit_ratio(ctx, {"store_paths": [lb.top], "store": str(lb.store)})
    assert [f.rule for f in out.findings] == ["ATTIC003"]
    assert "1 narinfo(s) answered 401/403 (not counted as misses)" in out.findings[0].message
    assert values(out)["attic.paths_total"] == 3
    assert values(out)["attic.hit_ratio"] == 1.0


@pytest.mark.needs_nix
@pytest.mark.needs_nginx
def test_private_attic_without_token_is_an_auth_finding(
    lb: LoopbackCache, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ATTIC_TOKEN", raising=False)
    with attic_server(lb, "main", private=True) as server:
        params = {"store_paths": [lb.top], "store": str(lb.store)}
        result = run_case(
            ctx_for(tmp_path, server.url, "main", (lb.public_key,)),
            "caches",
            Case("attic-hit-ratio", "attic.hit_ratio", 1, params=params),
        )
    # nix-cache-info refuses this client: the named cache does not serve (ATTIC001, once;
    # reported by this case, as no attic.reachable case runs)
    assert [f.rule for f in result.findings] == ["ATTIC001"]
    assert "answered 401" in result.findings[0].message
    assert "set ATTIC_TOKEN" in result.findings[0].message
    assert result.measurements == []


@pytest.mark.needs_nix
@pytest.mark.needs_nginx
def test_attic_cache_config_key_must_be_in_the_contract(lb: LoopbackCache, tmp_path: Path) -> None:
    with attic_server(lb, "main") as server:
        good = attic.check_reachable(ctx_for(tmp_path, server.url, "main", (lb.public_key,)), {})
        other = "other-1:" + lb.public_key.split(":", 1)[1]
        bad = attic.check_reachable(ctx_for(tmp_path, server.url, "main", (other,)), {})
    assert good.findings == []
    assert values(good)["attic.priority"] == 41
    assert [f.rule for f in bad.findings] == ["ATTIC001"]
    assert "is not in caches.attic.public_keys" in bad.findings[0].message


@pytest.mark.needs_nix
@pytest.mark.needs_nginx
def test_private_attic_substitution_uses_the_token(
    lb: LoopbackCache, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ATTIC_TOKEN", "pull-token")
    with attic_server(lb, "main", private=True) as server:
        out = attic.check_substitution(
            ctx_for(tmp_path, server.url, "main", (lb.public_key,)),
            {"store_paths": [lb.top], "cold_build": False, "timeout": 120},
        )
    assert out.findings == []
    assert values(out)["attic.paths_substituted"] == 4
    assert "pull-token" not in repr(out)
    assert not (tmp_path / "artifacts" / "attic").exists() or not any(
        (tmp_path / "artifacts" / "attic").iterdir()
    )  # the netrc went with the scratch dir
