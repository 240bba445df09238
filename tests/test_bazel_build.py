"""Real Bazel against a real nginx cache: exact hit ratios, partial hits, PATH leakage, outages.

One output root per xdist worker (session scope) shares Bazel's install base; every build
runs in `--batch` mode, so no Bazel server outlives a test.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.checks._bazel_env import SAMPLE_WORKSPACE
from harness.checks.api import CheckContext
from harness.checks.bazel import check_outage_tolerance, evaluate_warm, outage_bound
from harness.contract import find_contract, load_contract
from harness.engine import run_case
from harness.options import Options
from harness.probes.bazel_run import STRICT_ENV_FLAG, Bazel, copy_workspace, warm_build
from harness.probes.loopback_http_cache import LoopbackHttpCache, start_cache
from harness.results import Severity, Status
from harness.scenario import Case
from tests.helpers.tools import require_tool

TIMEOUT = 300.0
pytestmark = [pytest.mark.needs_bazel, pytest.mark.needs_nginx]


@pytest.fixture(scope="session")
def bazel(tmp_path_factory: pytest.TempPathFactory) -> Bazel:
    """One Bazel output root per worker (tmp_path_factory is per xdist worker)."""
    require_tool("bazel", "bazel is not installed (apt-get install bazel-bootstrap)")
    return Bazel(tmp_path_factory.mktemp("bazel-root"))


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[LoopbackHttpCache]:
    require_tool("nginx")
    server = start_cache(tmp_path / "cache")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    return copy_workspace(SAMPLE_WORKSPACE, tmp_path / "ws")


def test_cold_then_warm_hits_every_cacheable_spawn(
    bazel: Bazel, cache: LoopbackHttpCache, workspace: Path, tmp_path: Path
) -> None:
    result = warm_build(
        bazel,
        workspace,
        ["//:report", "//:local_only"],
        cache.url,
        scratch=tmp_path / "s",
        timeout=TIMEOUT,
    )
    assert result.cold.ok and result.warm is not None and result.warm.ok, result.cold.tail()
    stats = result.stats
    assert stats is not None
    assert (stats.hits, stats.cacheable) == (4, 4)
    assert stats.ratio == 1.0
    assert [s.label for s in stats.not_cacheable] == ["Executing genrule //:local_only"]
    summary = result.warm.summary
    assert summary is not None and summary.remote_cache_hits == 4 and summary.consistent()
    cold_stats = result.cold.spawns
    assert not any(s.cache_hit for s in cold_stats)  # a fresh key space starts cold
    out = evaluate_warm(result, min_ratio=1.0, flags=[], workspace=workspace)
    assert not [f for f in out.findings if f.fails]
    values = {m.name: m.value for m in out.measurements}
    assert values["bazel.hit_ratio"] == 1.0
    assert (values["bazel.spawns_hit"], values["bazel.spawns_cacheable"]) == (4, 4)
    assert values["bazel.cold_seconds"] > 0 and values["bazel.warm_seconds"] > 0
    # //:banner sleeps 1 s when it runs; a hit skips it
    assert result.cold.critical_path is not None and result.cold.critical_path >= 1.0
    assert values["bazel.critical_path_acceleration"] > 1.0
    notes = [f for f in out.findings if f.severity is Severity.NOTE]
    assert notes and "local_only" in notes[0].message


def test_changing_one_input_gives_a_partial_hit(
    bazel: Bazel, cache: LoopbackHttpCache, workspace: Path, tmp_path: Path
) -> None:
    def change() -> None:
        (workspace / "numbers.txt").write_text("9\n7\n8\n", encoding="utf-8")

    result = warm_build(
        bazel,
        workspace,
        ["//:report"],
        cache.url,
        scratch=tmp_path / "s",
        timeout=TIMEOUT,
        between=change,
    )
    assert result.stats is not None
    assert (result.stats.hits, result.stats.cacheable) == (2, 4)
    assert result.stats.misses_by_mnemonic() == {
        "Genrule": ["Executing genrule //:numbers", "Executing genrule //:report"]
    }
    out = evaluate_warm(result, min_ratio=0.8, flags=[], workspace=workspace)
    failing = [f for f in out.findings if f.fails]
    assert len(failing) == 1 and failing[0].rule == "BAZEL003"
    assert "0.50 (2/4) < 0.80" in failing[0].message
    assert "//:numbers" in failing[0].message


def test_path_leaks_into_action_keys_without_strict_env(
    bazel: Bazel, cache: LoopbackHttpCache, workspace: Path, tmp_path: Path
) -> None:
    other_bin = tmp_path / "extra-bin"
    other_bin.mkdir()
    moved = {"PATH": f"{other_bin}:{os.environ.get('PATH', '/usr/bin:/bin')}"}
    leaky = warm_build(
        bazel,
        workspace,
        ["//:report"],
        cache.url,
        scratch=tmp_path / "a",
        timeout=TIMEOUT,
        warm_env=moved,
    )
    assert leaky.stats is not None and leaky.stats.ratio == 0.0
    out = evaluate_warm(leaky, min_ratio=0.8, flags=[], workspace=workspace)
    failing = [f for f in out.findings if f.fails]
    assert failing and STRICT_ENV_FLAG in failing[0].message
    assert "PATH changed between the builds for 4 of them" in failing[0].message
    strict = warm_build(
        bazel,
        workspace,
        ["//:report"],
        cache.url,
        scratch=tmp_path / "b",
        timeout=TIMEOUT,
        warm_env=moved,
        extra_flags=[STRICT_ENV_FLAG],
    )
    assert strict.stats is not None and strict.stats.ratio == 1.0


def test_builds_survive_refused_500_and_silent_caches(bazel: Bazel, tmp_path: Path) -> None:
    """BAZEL004 end to end: three outage modes, each build succeeding within the bound."""
    ctx = CheckContext(
        repo=tmp_path,
        contract=load_contract(find_contract(tmp_path, None)),
        options=Options(artifacts_dir=tmp_path / ".harness"),
    )
    out = check_outage_tolerance(
        ctx, {"remote_timeout": 1, "remote_retries": 0, "slack_seconds": 30, "timeout": TIMEOUT}
    )
    assert [f.message for f in out.findings] == []
    values = {m.name: m.value for m in out.measurements}
    bound = values["bazel.outage.bound_seconds"]
    assert bound == pytest.approx(
        outage_bound(values["bazel.outage.baseline_seconds"], 4, 1, 0, 30), abs=0.01
    )
    for mode in ("refuse", "http500", "hang"):
        assert 0 < values[f"bazel.outage.{mode}.seconds"] <= bound
    # a silent cache costs at least one remote timeout per spawn on the critical path
    assert values["bazel.outage.hang.slowdown_seconds"] >= 1.0


def test_warm_hit_ratio_case_on_the_embedded_default(tmp_path: Path) -> None:
    """The scenario case with no endpoint configured: loopback nginx + bundled workspace."""
    require_tool("bazel")
    require_tool("nginx")
    ctx = CheckContext(
        repo=tmp_path,
        contract=load_contract(find_contract(tmp_path, None)),
        options=Options(artifacts_dir=tmp_path / ".harness"),
    )
    case = Case(
        "bazel-warm-hit-ratio",
        "bazel.warm_hit_ratio",
        1,
        params={"timeout": TIMEOUT, "min_hit_ratio": 1.0},
    )
    result = run_case(ctx, "caches", case)
    assert result.status is Status.PASSED, result.reason
    values = {m.name: (m.value, m.unit) for m in result.measurements}
    assert values["bazel.hit_ratio"] == (1.0, "ratio")
    assert values["bazel.spawns_cacheable"][0] == 4
    assert "(embedded)" in result.reason
    # scratch output roots are removed; the execution log stays as an artifact
    assert result.artifacts and Path(result.artifacts[0]).is_file()
    assert not list((tmp_path / ".harness" / "bazel").glob("*/out"))


def test_a_build_over_its_timeout_is_killed_with_its_process_group(
    bazel: Bazel, tmp_path: Path
) -> None:
    import psutil

    workspace = tmp_path / "slow"
    workspace.mkdir()
    (workspace / "WORKSPACE").write_text("", encoding="utf-8")
    (workspace / "BUILD").write_text(
        'genrule(name = "slow", outs = ["slow.out"], cmd = "sleep 117.25; touch $@")\n',
        encoding="utf-8",
    )
    run = bazel.build(workspace, ["//:slow"], [], log=tmp_path / "log.json", timeout=8)
    assert run.timed_out and not run.ok
    assert run.seconds < 40
    time.sleep(1)
    leftovers = [
        p
        for p in psutil.process_iter(["cmdline"])
        if str(workspace) in " ".join(p.info["cmdline"] or [])
        or p.info["cmdline"] == ["sleep", "117.25"]
    ]
    assert leftovers == []


def test_bazel_accepts_an_action_result_we_encoded(
    cache: LoopbackHttpCache, workspace: Path, tmp_path: Path
) -> None:
    """Bazel's protobuf parser reads our ActionResult: it materialises the output we name."""
    import httpx

    from harness.probes.action_result import (
        Digest,
        OutputFile,
        decode_action_result,
        encode_action_result,
    )
    from harness.probes.bazel_run import cache_flags, new_silo

    bazel = Bazel(tmp_path / "root")  # its own root, so the one output file is easy to find
    flags = cache_flags(cache.url, silo=new_silo())
    cold = bazel.build(workspace, ["//:greeting"], flags, log=tmp_path / "c.json", timeout=TIMEOUT)
    assert cold.ok, cold.tail()
    entries = list((cache.data / "ac").iterdir())
    assert len(entries) == 1
    stored = decode_action_result(entries[0].read_bytes())  # written by Bazel
    assert [f.path.rsplit("/", 1)[-1] for f in stored.output_files] == ["greeting.out"]
    forged = b"FORGED BY THE ROUND-TRIP TEST\n"
    httpx.put(f"{cache.url}/cas/{Digest.of(forged).hash}", content=forged, timeout=10)
    ours = type(stored)(
        output_files=(OutputFile(stored.output_files[0].path, Digest.of(forged)),), exit_code=0
    )
    entries[0].write_bytes(encode_action_result(ours))
    bazel.clean(workspace, timeout=TIMEOUT)
    warm = bazel.build(workspace, ["//:greeting"], flags, log=tmp_path / "w.json", timeout=TIMEOUT)
    assert warm.ok and [s.cache_hit for s in warm.spawns] == [True]
    outputs = list(bazel.output_user_root.rglob("bazel-out/*/bin/greeting.out"))
    assert len(outputs) == 1 and outputs[0].read_bytes() == forged
