"""The Attic cases against a real signed binary cache: real Nix builds, real nginx serves.

One loopback cache per test worker (the `lb` fixture of conftest.py) is shared by the tests.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from harness.checks import attic
from harness.checks.api import CheckContext, Skip
from harness.contract import BUNDLED_CONTRACT, load_contract
from harness.contract.model import AtticCache
from harness.engine import run_case
from harness.options import Options
from harness.probes.binary_cache import CacheClient
from harness.probes.loopback_cache import LoopbackCache
from harness.probes.narinfo import parse_narinfo, store_path_hash
from harness.probes.nix import BuildEvents, NixRun, Realisation, signing_key
from harness.results import CheckOutput, Status
from harness.scenario import Case
from tests.helpers.tools import require_tool


def ctx_for(
    tmp_path: Path,
    url: str | None,
    cache: str = "main",
    keys: tuple[str, ...] = (),
    require_live: bool = False,
) -> CheckContext:
    contract = load_contract(BUNDLED_CONTRACT)
    contract = dataclasses.replace(
        contract, attic=AtticCache(cache=cache, url=url, public_keys=keys, min_hit_ratio=0.9)
    )
    return CheckContext(
        repo=tmp_path,
        contract=contract,
        options=Options(
            attic_url=url,
            attic_cache=cache,
            require_live=require_live,
            artifacts_dir=tmp_path / "artifacts",
        ),
    )


def values(out: CheckOutput) -> dict[str, float]:
    return {m.name: m.value for m in out.measurements}


def live_params(lb: LoopbackCache, **extra: Any) -> dict[str, Any]:
    return {"store_paths": [lb.top], "store": str(lb.store), **extra}


@pytest.mark.needs_nix
@pytest.mark.needs_nginx
def test_full_hit_by_count_and_bytes(lb: LoopbackCache, tmp_path: Path) -> None:
    out = attic.check_hit_ratio(ctx_for(tmp_path, lb.url, keys=(lb.public_key,)), live_params(lb))
    got = values(out)
    assert out.findings == []
    assert got["attic.hit_ratio"] == 1.0
    assert got["attic.paths_hit"] == got["attic.paths_total"] == 4
    assert got["attic.bytes_hit"] == got["attic.bytes_total"] == sum(lb.closure.values())


@pytest.mark.needs_nix
@pytest.mark.needs_nginx
def test_partial_closure_has_the_exact_ratio(lb: LoopbackCache, tmp_path: Path) -> None:
    out = attic.check_hit_ratio(
        ctx_for(tmp_path, lb.url, "partial", (lb.public_key,)), live_params(lb)
    )
    got = values(out)
    present = [p for p in lb.closure if p.endswith(("-flywheel-data", "-flywheel-lib"))]
    assert got["attic.hit_ratio"] == 0.5
    assert got["attic.paths_hit"] == 2
    assert got["attic.bytes_hit"] == sum(lb.closure[p] for p in present)
    assert got["attic.bytes_missed"] == lb.closure[lb.paths["app"]] + lb.closure[lb.paths["tool"]]
    [finding] = out.findings
    assert finding.rule == "ATTIC003"
    assert "0.50 (2/4 paths) is below 0.90" in finding.message
    assert f"biggest missing: {lb.paths['app']}" in finding.message


@pytest.mark.needs_nix
@pytest.mark.needs_nginx
def test_closure_is_walked_from_the_cache_without_a_local_store(
    lb: LoopbackCache, tmp_path: Path
) -> None:
    out = attic.check_hit_ratio(
        ctx_for(tmp_path, lb.url, keys=(lb.public_key,)),
        {"store_paths": [lb.top], "store": str(tmp_path / "empty")},
    )
    assert values(out)["attic.paths_total"] == 4


@pytest.mark.needs_nix
@pytest.mark.needs_nginx
def test_wrong_public_key_turns_hits_untrusted(lb: LoopbackCache, tmp_path: Path) -> None:
    _, wrong = signing_key(tmp_path / "keys", "flywheel-loopback-1")
    ctx = ctx_for(tmp_path, lb.url, keys=(wrong,))
    sigs = attic.check_signatures_case(ctx, live_params(lb))
    assert {f.rule for f in sigs.findings} == {"ATTIC002"}
    assert "is invalid (flywheel-loopback-1)" in sigs.findings[0].message
    assert values(sigs)["attic.narinfos_trusted"] == 0
    ratio = values(attic.check_hit_ratio(ctx, live_params(lb)))
    assert ratio["attic.hit_ratio"] == 0.0
    assert ratio["attic.paths_untrusted"] == 4


@pytest.mark.needs_nix
@pytest.mark.needs_nginx
def test_unsigned_cache_is_reported(lb: LoopbackCache, tmp_path: Path) -> None:
    ctx = ctx_for(tmp_path, lb.url, "unsigned", (lb.public_key,))
    out = attic.check_signatures_case(ctx, live_params(lb))
    assert len(out.findings) == 4
    assert all("is unsigned (no Sig)" in f.message for f in out.findings)


@pytest.mark.needs_nix
@pytest.mark.needs_nginx
def test_real_nix_signatures_verify(lb: LoopbackCache, tmp_path: Path) -> None:
    ctx = ctx_for(tmp_path, lb.url, keys=(lb.public_key,))
    out = attic.check_signatures_case(ctx, live_params(lb))
    assert out.findings == []
    assert values(out)["attic.narinfos_trusted"] == 4
    with CacheClient(lb.url, "main") as client:
        lookup = client.narinfo(store_path_hash(lb.top))
    assert lookup.info == parse_narinfo(
        (lb.root / "www" / "main" / f"{store_path_hash(lb.top)}.narinfo").read_text(),
        lookup.info.store_path if lookup.info else "",
    )


@pytest.mark.needs_nix
@pytest.mark.needs_nginx
def test_substitution_into_a_fresh_store(lb: LoopbackCache, tmp_path: Path) -> None:
    out = attic.check_substitution(
        ctx_for(tmp_path, lb.url, keys=(lb.public_key,)), live_params(lb, cold_build=False)
    )
    got = values(out)
    assert out.findings == []
    assert got["attic.paths_substituted"] == 4
    assert got["attic.nar_bytes_fetched"] == max(lb.closure.values())


@pytest.mark.needs_nix
@pytest.mark.needs_nginx
def test_substitution_refuses_untrusted_cache(lb: LoopbackCache, tmp_path: Path) -> None:
    _, wrong = signing_key(tmp_path / "keys", "someone-else-1")
    out = attic.check_substitution(ctx_for(tmp_path, lb.url, keys=(wrong,)), live_params(lb))
    assert {f.rule for f in out.findings} == {"ATTIC004"}
    assert any("failed" in f.message for f in out.findings)
    assert values(out)["attic.paths_substituted"] == 0


@pytest.mark.needs_nix
@pytest.mark.needs_nginx
def test_reachable_and_store_dir(lb: LoopbackCache, tmp_path: Path) -> None:
    ctx = ctx_for(tmp_path, lb.url, keys=(lb.public_key,))
    assert attic.check_reachable(ctx, {}).findings == []
    wrong = attic.check_reachable(ctx, {"store_dir": "/gnu/store"})
    assert [f.rule for f in wrong.findings] == ["ATTIC001"]
    assert "StoreDir /nix/store" in wrong.findings[0].message


@pytest.mark.needs_nix
def test_outage_build_still_succeeds(tmp_path: Path) -> None:
    require_tool("nix")
    out = attic.check_outage(ctx_for(tmp_path, None), {"max_seconds": 60, "download_attempts": 2})
    got = values(out)
    assert out.findings == []
    assert got["attic.outage_build_seconds"] > 0
    assert "attic.outage_slowdown_seconds" in got


@pytest.mark.needs_nix
def test_hung_cache_build_still_succeeds_and_slow_settings_fail(tmp_path: Path) -> None:
    require_tool("nix")
    ctx = ctx_for(tmp_path, None)
    params = {
        "mode": "hang",
        "connect_timeout": 2,
        "stalled_download_timeout": 2,
        "download_attempts": 1,
    }
    out = attic.check_outage(ctx, {**params, "max_seconds": 60})
    assert out.findings == []
    assert values(out)["attic.outage_hang_build_seconds"] >= 2  # it did wait for the stall
    tight = attic.check_outage(ctx, {**params, "max_seconds": 1})
    assert [f.rule for f in tight.findings] == ["ATTIC005"]
    assert "hung the build took" in tight.findings[0].message


def test_unreachable_contract_endpoint_is_a_live_skip(tmp_path: Path) -> None:
    """Only a named endpoint (--attic-url) is a demand; the contract's stays a live skip."""
    from harness.probes.faultserver import refused_url

    def contract_only(require_live: bool = False) -> CheckContext:
        ctx = ctx_for(tmp_path, refused_url(), require_live=require_live)
        return dataclasses.replace(ctx, options=dataclasses.replace(ctx.options, attic_url=None))

    with pytest.raises(Skip) as skip:
        attic.check_reachable(contract_only(), {})
    assert skip.value.live and "unreachable" in skip.value.reason
    case = Case("attic-reachable", "attic.reachable", 1)
    assert run_case(contract_only(), "caches", case).status is Status.SKIPPED
    strict = run_case(contract_only(require_live=True), "caches", case)
    assert strict.status is Status.FAILED and "require-live" in strict.reason


def test_named_endpoint_that_does_not_answer_fails_attic001(tmp_path: Path) -> None:
    from harness.probes.faultserver import refused_url

    ctx = ctx_for(tmp_path, refused_url())
    result = run_case(ctx, "caches", Case("attic-reachable", "attic.reachable", 1))
    assert result.status is Status.FAILED
    assert [f.rule for f in result.findings] == ["ATTIC001"]
    assert "does not serve" in result.findings[0].message


@pytest.mark.needs_nix
@pytest.mark.needs_nginx
def test_embedded_default_proves_the_hit_path(tmp_path: Path) -> None:
    require_tool("nix")
    require_tool("nginx")
    ctx = ctx_for(tmp_path, None)
    result = run_case(ctx, "caches", Case("attic-hit-ratio", "attic.hit_ratio", 1))
    assert result.status is Status.PASSED, result.reason
    got = {m.name: m.value for m in result.measurements}
    assert got["attic.hit_ratio"] == 1.0 and got["attic.paths_total"] == 4
    assert not any((tmp_path / "artifacts" / "attic").iterdir())


def test_embedded_default_without_nix_skips_with_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    result = run_case(
        ctx_for(tmp_path, None), "caches", Case("attic-hit-ratio", "attic.hit_ratio", 1)
    )
    assert result.status is Status.SKIPPED
    assert "nix is not installed" in result.reason and not result.live


SANDBOX_ERROR = (
    '@nix {"action":"msg","level":0,"msg":"\\u001b[31;1merror:\\u001b[0m cannot perform a '
    "sandboxed build because user namespaces are not enabled; check "
    '/proc/sys/user/max_user_namespaces"}'
)


def test_a_failed_build_speaks_with_nixs_error_event() -> None:
    """Under --log-format internal-json Nix's error is an event; the message carries its text."""
    start = '@nix {"action":"start","id":1,"level":3,"type":105,"fields":["/nix/store/x.drv"]}'
    stderr = "\n".join([start, SANDBOX_ERROR, '@nix {"action":"stop","id":1}', "@nix {not json"])
    run = NixRun(["nix", "build"], 1, "", stderr, 0.5)
    assert run.tail(3) == (
        "error: cannot perform a sandboxed build because user namespaces are not enabled; "
        "check /proc/sys/user/max_user_namespaces"
    )


def test_outage_where_nix_cannot_build_at_all_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A build that fails with no cache either is not blamed on the outage, and says why."""
    failed = Realisation(NixRun(["nix", "build"], 1, "", SANDBOX_ERROR, 0.1), BuildEvents())
    monkeypatch.setattr(attic, "nix_missing_reason", lambda: "")
    monkeypatch.setattr(attic, "realise", lambda *args, **kwargs: failed)
    out = attic.check_outage(ctx_for(tmp_path, None), {})
    assert [f.rule for f in out.findings] == ["ATTIC005"]
    assert out.findings[0].message == (
        "the build fails even with no cache: error: cannot perform a sandboxed build because "
        "user namespaces are not enabled; check /proc/sys/user/max_user_namespaces"
    )
