"""`flywheel-harness attic` end to end: a real process against a real loopback cache."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from harness.probes.loopback_cache import LoopbackCache
from tests.helpers.cli import run_harness

SECRET = "do-not-print-this-token"


def harness(*args: str, cwd: str) -> subprocess.CompletedProcess[str]:
    return run_harness("attic", *args, cwd=cwd, env={"ATTIC_TOKEN": SECRET})


@pytest.mark.needs_nix
@pytest.mark.needs_nginx
def test_hit_ratio_report_as_json(lb: LoopbackCache, tmp_path: os.PathLike[str]) -> None:
    done = harness(
        "--url",
        lb.url,
        "--cache",
        "main",
        "--public-key",
        lb.public_key,
        "--case",
        "hit-ratio",
        "--case",
        "signatures",
        "--format",
        "json",
        lb.top,
        cwd=str(tmp_path),
    )
    assert done.returncode == 0, done.stderr
    assert SECRET not in done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert report["schema"] == "flywheel-harness/report@1"
    [ratio] = [r for r in report["results"] if r["case"] == "attic-hit-ratio"]
    got = {m["name"]: (m["value"], m["unit"]) for m in ratio["measurements"]}
    assert got["attic.hit_ratio"] == (1.0, "ratio")
    assert got["attic.paths_hit"][0] == got["attic.paths_total"][0] == 4
    assert got["attic.bytes_hit"][0] == got["attic.bytes_total"][0] == sum(lb.closure.values())


@pytest.mark.needs_nix
@pytest.mark.needs_nginx
def test_untrusted_cache_exits_1(lb: LoopbackCache, tmp_path: os.PathLike[str]) -> None:
    other = "other-1:" + lb.public_key.split(":", 1)[1]
    done = harness(
        "--url",
        lb.url,
        "--public-key",
        other,
        "--case",
        "hit-ratio",
        "--format",
        "github",
        lb.top,
        cwd=str(tmp_path),
    )
    assert done.returncode == 1
    assert "ATTIC003" in done.stdout and "hit ratio 0.00" in done.stdout


def test_bad_input_exits_2(tmp_path: os.PathLike[str]) -> None:
    done = harness("--url", "http://127.0.0.1:9", "--public-key", "garbage", cwd=str(tmp_path))
    assert done.returncode == 2
    assert "--public-key" in done.stderr and "Traceback" not in done.stderr
    done = harness("--url", "ftp://x", cwd=str(tmp_path))
    assert done.returncode == 2 and "--url must start with http:// or https://" in done.stderr
