"""A hostile or broken cache is bounded: an endless body, a huge Content-Length, slowloris
and a redirect loop each end in a clear error naming the endpoint, within the documented
deadline or budget, and under 256 MB.

Every run is a separate process that reports its own peak RSS when it ends (`VmHWM`, the
peak of this program since exec: `ru_maxrss` would carry over a large parent's peak from
before exec): memory is measured, not guessed from the wall clock.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.checks.bazel import remote_bounds
from harness.probes.faultserver import HUGE_LENGTH, FaultServer, Reply, Request, refused_url
from harness.probes.http_bounds import MAX_CACHE_INFO_BYTES
from tests.helpers.paths import ROOT
from tests.helpers.tools import require_tool

MEMORY_CAP = 256 * 1024 * 1024
RUN = """
import sys
code = 0
try:
    exec(sys.argv[1])
finally:
    with open("/proc/self/status") as status:
        hwm = next(line for line in status if line.startswith("VmHWM:"))
    print(f"PEAK_RSS {int(hwm.split()[1]) * 1024}", file=sys.stderr)
sys.exit(code)
"""
CLI = "from harness.cli import main; code = main(sys.argv[2:])"
CACHE_INFO = b"StoreDir: /nix/store\nWantMassQuery: 1\nPriority: 40\n"
HASH = "0" * 32
NARINFO = (
    f"StorePath: /nix/store/{HASH}-x\nURL: nar/x.nar\nCompression: none\n"
    "FileSize: 1000\nNarHash: sha256:" + "0" * 52 + "\nNarSize: 1000\nReferences: \n"
)


def bounded_run(code: str, *args: str, cwd: Path) -> tuple[subprocess.CompletedProcess[str], int]:
    """Run `code` in a fresh interpreter; the process and its peak RSS in bytes."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("ATTIC_TOKEN", None)
    done = subprocess.run(
        [sys.executable, "-c", RUN, code, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    peaks = [line.split()[1] for line in done.stderr.splitlines() if line.startswith("PEAK_RSS ")]
    assert peaks, done.stderr[-2000:]
    return done, int(peaks[-1])


def check_report(
    tmp_path: Path, server: FaultServer, case: str, params: dict[str, object]
) -> tuple[dict[str, object], int]:
    """`check` of one caches case with `params` against `server`; its result and peak RSS."""
    suite = tmp_path / "scenarios" / "caches.scenario.yaml"
    suite.parent.mkdir(exist_ok=True)
    suite.write_text(json.dumps({"cases": [{"name": "hostile", "check": case, "params": params}]}))
    done, peak = bounded_run(
        CLI,
        "check",
        "--repo",
        str(tmp_path),
        "--scenarios",
        str(suite.parent),
        "--attic-url",
        server.url,
        "--bazel-cache",
        server.url,
        "--require-live",
        "--format",
        "json",
        cwd=tmp_path,
    )
    assert done.returncode == 1, done.stderr[-2000:]
    [result] = json.loads(done.stdout)["results"]
    return result, peak


def text_of(result: dict[str, object]) -> str:
    findings = result.get("findings") or []
    assert isinstance(findings, list)
    return " ".join([str(result.get("reason", "")), *(str(f["message"]) for f in findings)])


FAULTS = {
    "endless": (Reply(fault="endless"), f"sent more than {MAX_CACHE_INFO_BYTES} bytes"),
    "huge": (
        Reply(fault="huge"),
        f"announces {HUGE_LENGTH} bytes, over the {MAX_CACHE_INFO_BYTES}-byte limit",
    ),
    "slowloris": (Reply(200, CACHE_INFO, fault="slowloris"), "2s in total"),
    "redirect-loop": (Reply(302, headers={"Location": "/main/nix-cache-info"}), "TooManyRedirects"),
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_hostile_nix_cache_info_is_bounded(fault: str, tmp_path: Path) -> None:
    reply, expected = FAULTS[fault]
    with FaultServer({"/main/nix-cache-info": reply}) as server:
        result, peak = check_report(
            tmp_path, server, "attic.reachable", {"http_timeout": 1.5, "http_deadline": 2}
        )
    assert result["status"] == "failed"
    assert expected in text_of(result)
    assert f"127.0.0.1:{server.port}" in text_of(result)
    assert peak < MEMORY_CAP


def test_case_budget_ends_a_slow_case_as_an_error_naming_the_endpoint(tmp_path: Path) -> None:
    """Per-request deadlines of 60s, but the case's budget is 3s: the budget wins."""
    routes = {"/main/nix-cache-info": Reply(200, CACHE_INFO, fault="slowloris")}
    with FaultServer(routes) as server:
        result, peak = check_report(
            tmp_path, server, "attic.reachable", {"http_timeout": 1.5, "budget": 3}
        )
    assert result["status"] == "error"
    assert "BudgetExceeded" in str(result["reason"])
    assert f"127.0.0.1:{server.port}" in str(result["reason"])
    assert "budget of 3s is spent" in str(result["reason"])
    assert peak < MEMORY_CAP


NAR_PROBE = """
from harness.probes.binary_cache import CacheClient
from harness.probes.narinfo import parse_narinfo
client = CacheClient(sys.argv[2], "main", timeout=1.5, deadline=2, retries=0)
lookup = client.narinfo(sys.argv[3])
print("NARINFO", lookup.presence, lookup.error)
info = parse_narinfo(sys.argv[4], "test")
print("NAR", *client.fetch_nar(info))
"""


@pytest.mark.parametrize("fault", ["endless", "huge", "slowloris"])
def test_hostile_narinfo_and_nar_are_bounded(fault: str, tmp_path: Path) -> None:
    """A narinfo is at most 1 MiB; a NAR at most its FileSize; both within their deadline."""
    routes = {
        f"/main/{HASH}.narinfo": Reply(200, NARINFO.encode(), fault=fault),
        "/main/nar/x.nar": Reply(200, b"n" * 1000, fault=fault),
    }
    with FaultServer(routes) as server:
        done, peak = bounded_run(NAR_PROBE, server.url, HASH, NARINFO, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    narinfo = next(line for line in done.stdout.splitlines() if line.startswith("NARINFO"))
    nar = next(line for line in done.stdout.splitlines() if line.startswith("NAR "))
    assert narinfo.startswith("NARINFO error")
    if fault == "endless":
        assert f"sent more than {1024 * 1024} bytes" in narinfo
        assert "sent more than 1000 bytes" in nar
    elif fault == "huge":
        assert f"announces {HUGE_LENGTH} bytes" in narinfo
        assert f"announces {HUGE_LENGTH} bytes" in nar
    else:
        assert "in total" in narinfo
        assert "stalled" in nar
    assert peak < MEMORY_CAP


def _bazel_cache(fault: str) -> FaultServer:
    """A Bazel HTTP cache that stores PUTs and answers every GET of a stored key with
    `fault` (a key never stored is a clean 404, so the cache serves its first request)."""
    stored: set[str] = set()

    def answer(request: Request) -> Reply:
        if request.method == "PUT":
            stored.add(request.path)
            return Reply(200)
        if request.path not in stored:
            return Reply(404)
        return Reply(200, b"b" * 64, fault=fault)

    return FaultServer(default=answer)


@pytest.mark.parametrize("fault", ["endless", "huge", "slowloris"])
def test_hostile_bazel_cache_is_bounded(fault: str, tmp_path: Path) -> None:
    """BAZEL002 reads back a CAS blob: never more than the bytes written, within the deadline."""
    with _bazel_cache(fault) as server:
        result, peak = check_report(tmp_path, server, "bazel.round_trip", {"timeout": 1.5})
    text = text_of(result)
    assert result["status"] == "failed"
    assert "GET /cas/<blob>" in text
    expected = {
        "endless": "sent more than 4096 bytes",
        "huge": f"announces {HUGE_LENGTH}",
        "slowloris": "no answer within the timeout",
    }[fault]
    assert expected in text
    assert peak < MEMORY_CAP


def test_bazel_redirect_loop_is_not_followed(tmp_path: Path) -> None:
    loop = Reply(302, headers={"Location": "/status"})
    with FaultServer(default=loop) as server:
        result, peak = check_report(tmp_path, server, "bazel.cache_answers", {"timeout": 1.5})
    assert result["status"] == "failed"
    assert "HTTP 302" in text_of(result)
    assert peak < MEMORY_CAP


def test_remote_bounds_follow_the_budget() -> None:
    remote, flags = remote_bounds(1200.0, grpc=False)
    assert remote == 60.0
    assert flags == ["--remote_timeout=60s", "--remote_retries=1"]
    remote, flags = remote_bounds(100.0, grpc=True)
    assert remote == 5.0
    assert "--grpc_keepalive_time=5s" in flags
    assert "--grpc_keepalive_timeout=5s" in flags
    assert remote_bounds(3.0, grpc=False)[0] == 1.0


@pytest.mark.needs_bazel
def test_bazel003_skips_an_unreachable_cache_naming_bazel001(tmp_path: Path) -> None:
    require_tool("bazel")
    done, _ = bounded_run(
        CLI,
        "bazel",
        "--url",
        refused_url(),
        "--case",
        "answers",
        "--case",
        "hit-ratio",
        "--format",
        "json",
        cwd=tmp_path,
    )
    results = {
        r["check"] if "check" in r else r["case"]: r for r in json.loads(done.stdout)["results"]
    }
    [warm] = [r for name, r in results.items() if "hit" in name]
    assert warm["status"] == "skipped"
    assert "see BAZEL001" in warm["reason"]
    assert "PATH" not in warm["reason"]
