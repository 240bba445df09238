"""HTTP cache probes against a real nginx WebDAV cache and against broken servers."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from harness.checks.api import CheckContext
from harness.checks.bazel import check_cache_answers, check_round_trip
from harness.contract import find_contract, load_contract
from harness.engine import run_case
from harness.options import Options
from harness.probes.bazel_http import EMPTY_SHA256, probe_answers, probe_round_trip
from harness.probes.faultserver import FaultServer, Reply, Request
from harness.probes.loopback_http_cache import LoopbackHttpCache, start_cache
from harness.probes.outage import outage
from harness.redact import redact_url as redact
from harness.scenario import Case
from tests.helpers.tools import require_tool


@pytest.fixture
def nginx_cache(tmp_path: Path) -> Iterator[LoopbackHttpCache]:
    require_tool(
        "nginx", "nginx is not installed (apt-get install nginx libnginx-mod-http-dav-ext)"
    )
    cache = start_cache(tmp_path / "cache")
    try:
        yield cache
    finally:
        cache.stop()


def _bazel_remote(store: dict[str, bytes]) -> Callable[[Request], Reply]:
    """bazel-remote's /status, a store that keeps CAS but corrupts AC entries on read."""

    def handler(request: Request) -> Reply:
        if request.method == "PUT":
            store[request.path] = request.body
            return Reply(200)
        if request.path == "/status":
            return Reply(
                200,
                json.dumps(
                    {
                        "CurrSize": 4096,
                        "MaxSize": 10**9,
                        "NumFiles": 3,
                        "ServerTime": 0,
                        "GitCommit": "test",
                    }
                ).encode(),
            )
        if request.path.startswith("/ac/") and request.path in store:
            return Reply(200, b"\xff\xff\xff")  # not an ActionResult
        if request.path in store:
            return Reply(200, store[request.path])
        return Reply(404)

    return handler


@pytest.fixture
def fake_remote() -> Iterator[str]:
    with FaultServer(default=_bazel_remote({})) as server:
        yield server.url


@pytest.mark.needs_nginx
def test_nginx_cache_answers_and_round_trips(nginx_cache: LoopbackHttpCache) -> None:
    answers = probe_answers(nginx_cache.url, timeout=5)
    assert answers.ok, answers.failures
    assert answers.status is None  # nginx is a generic cache, not bazel-remote
    assert [s.name for s in answers.steps] == [
        "GET /status",
        "GET /ac/<fresh key>",
        "HEAD /cas/<empty>",
        "GET /cas/<empty>",
    ]
    trip = probe_round_trip(nginx_cache.url, timeout=5)
    assert trip.ok, trip.failures
    stored = sorted(p.parent.name for p in nginx_cache.data.rglob("*") if p.is_file())
    assert stored == ["ac", "cas", "cas"]


@pytest.mark.needs_nginx
def test_empty_blob_served_with_content_is_a_failure(nginx_cache: LoopbackHttpCache) -> None:
    httpx.put(f"{nginx_cache.url}/cas/{EMPTY_SHA256}", content=b"not empty", timeout=5)
    report = probe_answers(nginx_cache.url, timeout=5)
    assert [s.name for s in report.failures] == ["GET /cas/<empty>"]
    assert "must return none" in report.failures[0].detail


def test_bazel_remote_status_is_recorded_and_corrupt_ac_is_caught(fake_remote: str) -> None:
    answers = probe_answers(fake_remote, timeout=5)
    assert answers.ok and answers.status is not None
    assert answers.status["NumFiles"] == 3
    trip = probe_round_trip(fake_remote, timeout=5)
    assert [s.name for s in trip.failures] == ["GET /ac/<fresh key>"]
    assert "does not parse" in trip.failures[0].detail


@pytest.mark.parametrize("mode", ["refuse", "http500", "hang"])
def test_broken_caches_fail_within_the_timeout(mode: str) -> None:
    with outage(mode) as server:
        answers = probe_answers(server.url, timeout=1)
        trip = probe_round_trip(server.url, timeout=1)
    assert not answers.ok and not trip.ok
    assert all(step.seconds < 5 for step in answers.steps + trip.steps)
    detail = answers.failures[0].detail if mode != "http500" else trip.failures[0].detail
    expected = {"refuse": "ConnectError", "http500": "HTTP 500", "hang": "no answer"}[mode]
    assert expected in detail


def test_credentials_never_appear_in_messages(tmp_path: Path) -> None:
    assert (
        redact("https://ci:s3cret@cache.example:8443/prefix?x=1")
        == "https://cache.example:8443/prefix"
    )
    with outage("http500") as server:
        url = server.url.replace("http://", "http://ci:s3cret@")
        case = Case("bazel-round-trip", "bazel.round_trip", 1, params={"timeout": 2})
        down = run_case(_ctx(tmp_path, url), "caches", case)
    # the named cache answers 500: BAZEL001 (from this case, as no answers case runs)
    assert [f.rule for f in down.findings] == ["BAZEL001"]
    assert all("s3cret" not in text for text in (down.reason, down.findings[0].message))

    def read_only(request: Request) -> Reply:
        return Reply(403) if request.method == "PUT" else Reply(404)

    with FaultServer(default=read_only) as cache:
        url = cache.url.replace("http://", "http://ci:s3cret@")
        out = check_round_trip(_ctx(tmp_path, url), {"timeout": 2})
    assert [f.rule for f in out.findings] == ["BAZEL002"]
    assert "answered HTTP 403" in out.findings[0].message
    assert "s3cret" not in out.findings[0].message


def _ctx(tmp: Path, url: str | None) -> CheckContext:
    contract = load_contract(find_contract(tmp, None))
    return CheckContext(
        repo=tmp,
        contract=contract,
        options=Options(bazel_cache=url, artifacts_dir=tmp / ".harness"),
    )


@pytest.mark.needs_nginx
def test_checks_on_the_embedded_default(tmp_path: Path) -> None:
    require_tool("nginx")
    ctx = _ctx(tmp_path, None)  # bundled contract: caches.bazel.url is null
    answers = check_cache_answers(ctx, {"timeout": 5})
    trip = check_round_trip(ctx, {"timeout": 5})
    assert answers.findings == [] and trip.findings == []
    names = {m.name for m in trip.measurements}
    assert "bazel.latency.get_ac_fresh_key" in names
    assert all(m.unit == "seconds" for m in trip.measurements)


def test_check_reports_a_dead_cache_from_the_option(tmp_path: Path) -> None:
    with outage("refuse") as server:
        case = Case("bazel-cache-answers", "bazel.cache_answers", 1, params={"timeout": 2})
        result = run_case(_ctx(tmp_path, server.url), "caches", case)
    assert [f.rule for f in result.findings] == ["BAZEL001"]
    assert f"Bazel cache {server.url} does not serve" in result.findings[0].message


def test_truncated_blobs_and_malformed_results_are_caught() -> None:
    """A cache that stores fine but truncates CAS reads and garbles AC reads."""
    store: dict[str, bytes] = {}

    def handler(request: Request) -> Reply:
        if request.method == "PUT":
            store[request.path] = request.body
            return Reply(201)
        if request.path not in store:
            return Reply(404)
        fault = "truncate" if request.path.startswith("/cas/") else "malformed"
        return Reply(200, store[request.path], fault=fault if request.method == "GET" else "ok")

    with FaultServer(default=handler) as server:
        trip = probe_round_trip(server.url, timeout=5)
    failed = {s.name: s.detail for s in trip.failures}
    assert set(failed) == {"GET /cas/<blob>", "GET /ac/<fresh key>"}
    assert "does not parse" in failed["GET /ac/<fresh key>"]
    assert "HEAD /cas/<blob>" not in failed


def test_a_cache_that_wants_credentials_says_so() -> None:
    with FaultServer(default=Reply(401, b"auth required")) as server:
        answers = probe_answers(server.url, timeout=5)
        trip = probe_round_trip(server.url, timeout=5)
    assert "credentials missing or refused" in answers.failures[0].detail
    assert "PUT /cas/ answered HTTP 401" in trip.failures[0].detail


def test_missing_tools_are_live_skips(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.engine import run_case
    from harness.results import Status
    from harness.scenario import Case

    monkeypatch.setenv("PATH", str(tmp_path))  # no bazel, no nginx
    monkeypatch.setattr("harness.probes.nginx.nginx_binary", lambda: None)
    ctx = _ctx(tmp_path, None)
    for check in ("bazel.cache_answers", "bazel.warm_hit_ratio"):
        result = run_case(ctx, "caches", Case("c", check, 1))
        assert result.status is Status.SKIPPED and result.live, result.reason
    assert (
        "nginx is not installed" in run_case(ctx, "caches", Case("c", "bazel.round_trip", 1)).reason
    )
    strict = CheckContext(
        repo=tmp_path,
        contract=ctx.contract,
        options=Options(require_live=True, artifacts_dir=tmp_path / "a"),
    )
    failed = run_case(strict, "caches", Case("c", "bazel.outage_tolerance", 1))
    assert failed.status is Status.FAILED and "bazel is not installed" in failed.reason
