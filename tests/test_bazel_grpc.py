"""gRPC cache probes and real Bazel against a small in-process REAPI server."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.tools import in_ci, require_tool

if importlib.util.find_spec("grpc") is None and not in_ci():  # in CI the import fails loudly
    pytest.skip(
        "grpcio is not installed (pip install 'flywheel-harness[grpc]')", allow_module_level=True
    )

from harness.checks._bazel_env import SAMPLE_WORKSPACE
from harness.checks.api import CheckContext
from harness.checks.bazel import check_cache_answers, check_outage_tolerance
from harness.contract import find_contract, load_contract
from harness.options import Options
from harness.probes.action_result import decode_action_result
from harness.probes.bazel_grpc import probe_answers, probe_round_trip, target_of
from harness.probes.bazel_run import Bazel, copy_workspace, warm_build
from harness.probes.outage import outage
from tests.helpers.reapi_server import ReapiCache, start_reapi_server


@pytest.fixture
def reapi() -> Iterator[tuple[ReapiCache, str]]:
    cache = ReapiCache()
    server, port = start_reapi_server(cache)
    try:
        yield cache, f"grpc://127.0.0.1:{port}"
    finally:
        server.stop(grace=None)


def test_target_and_instance_name() -> None:
    assert target_of("grpc://127.0.0.1:9092") == ("127.0.0.1:9092", False, "")
    assert target_of("grpcs://cache.example/main") == ("cache.example:443", True, "main")
    with pytest.raises(ValueError, match="not a gRPC"):
        target_of("http://127.0.0.1:8080")


def test_probes_pass_against_a_working_cache(reapi: tuple[ReapiCache, str]) -> None:
    cache, url = reapi
    answers = probe_answers(url, timeout=5)
    assert answers.ok, answers.failures
    assert [s.name for s in answers.steps] == ["Health/Check", "GetCapabilities"]
    trip = probe_round_trip(url, timeout=5)
    assert trip.ok, trip.failures
    assert {
        "FindMissingBlobs",
        "BatchUpdateBlobs",
        "BatchReadBlobs",
        "Write",
        "Read",
        "UpdateActionResult",
        "GetActionResult",
    } <= set(cache.calls)
    assert len(cache.blobs) == 3 and len(cache.results) == 1


def test_capabilities_without_sha256_or_updates_fail(reapi: tuple[ReapiCache, str]) -> None:
    cache, url = reapi
    cache.digest_functions = (2, 3)  # SHA1, MD5
    cache.update_enabled = False
    report = probe_answers(url, timeout=5)
    assert [s.name for s in report.failures] == ["GetCapabilities"]
    detail = report.failures[0].detail
    assert "SHA256 is not among the digest functions [2, 3]" in detail
    assert "action-cache updates are disabled" in detail
    trip = probe_round_trip(url, timeout=5)
    failed = {s.name: s.detail for s in trip.failures}
    assert failed["UpdateActionResult"].startswith("PERMISSION_DENIED")


def test_per_blob_status_is_checked(reapi: tuple[ReapiCache, str]) -> None:
    cache, url = reapi
    cache.fail_batch_update = True
    trip = probe_round_trip(url, timeout=5)
    failed = {s.name: s.detail for s in trip.failures}
    assert failed["BatchUpdateBlobs"].startswith("RESOURCE_EXHAUSTED: quota exhausted")
    assert "GetActionResult" not in failed  # the other calls still ran and passed


@pytest.mark.parametrize(("mode", "expected"), [("refuse", "UNAVAILABLE"), ("hang", "no answer")])
def test_unreachable_grpc_cache(mode: str, expected: str) -> None:
    with outage(mode) as server:
        url = f"grpc://127.0.0.1:{server.port}"
        answers = probe_answers(url, timeout=1)
        trip = probe_round_trip(url, timeout=1)
    assert answers.failures and expected in answers.failures[0].detail
    assert len(trip.steps) == 1 and expected in trip.steps[0].detail


def _ctx(tmp_path: Path, url: str) -> CheckContext:
    return CheckContext(
        repo=tmp_path,
        contract=load_contract(find_contract(tmp_path, None)),
        options=Options(bazel_cache=url, artifacts_dir=tmp_path / ".harness"),
    )


def test_check_uses_grpc_probes_for_a_grpc_url(
    reapi: tuple[ReapiCache, str], tmp_path: Path
) -> None:
    cache, url = reapi
    out = check_cache_answers(_ctx(tmp_path, url), {"timeout": 5})
    assert out.findings == []
    assert {m.name for m in out.measurements} == {
        "bazel.latency.health_check",
        "bazel.latency.getcapabilities",
    }
    assert "GetCapabilities" in cache.calls


@pytest.mark.needs_bazel
def test_real_bazel_round_trips_through_the_grpc_cache(
    reapi: tuple[ReapiCache, str], tmp_path: Path
) -> None:
    """Bazel's own protobuf code writes and reads what our wire format produces and parses."""
    require_tool("bazel")
    cache, url = reapi
    workspace = copy_workspace(SAMPLE_WORKSPACE, tmp_path / "ws")
    bazel = Bazel(tmp_path / "root")
    result = warm_build(bazel, workspace, ["//:report"], url, scratch=tmp_path / "s", timeout=300)
    assert result.stats is not None, result.cold.tail()
    assert (result.stats.hits, result.stats.cacheable) == (4, 4)
    assert len(cache.results) == 4
    for raw in cache.results.values():  # ActionResults serialized by Bazel itself
        parsed = decode_action_result(raw)
        assert parsed.exit_code == 0 and len(parsed.output_files) == 1
        assert parsed.output_files[0].path.startswith("bazel-out/")
        assert parsed.output_files[0].digest.hash in cache.blobs


@pytest.mark.needs_bazel
@pytest.mark.parametrize("fallback", [False, True])
def test_grpc_cache_down_at_start(
    fallback: bool, reapi: tuple[ReapiCache, str], tmp_path: Path
) -> None:
    require_tool("bazel")
    _, url = reapi
    flags = ["--remote_local_fallback"] if fallback else []
    out = check_outage_tolerance(
        _ctx(tmp_path, url), {"modes": [], "remote_timeout": 1, "flags": flags, "timeout": 300}
    )
    names = {m.name for m in out.measurements}
    assert "bazel.outage.grpc_refuse.seconds" in names
    messages = [f.message for f in out.findings]
    if fallback:
        assert messages == []
    else:
        assert len(messages) == 1 and "--remote_local_fallback" in messages[0]
        assert "fails at start" in messages[0]
