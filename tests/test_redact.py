"""User info in endpoint URLs never reaches a report."""

from __future__ import annotations

import json
from pathlib import Path

from harness.probes.faultserver import refused_url
from harness.redact import scrub_credentials
from tests.helpers.cli import run_harness


def test_scrub_removes_user_info_only() -> None:
    assert (
        scrub_credentials("GET http://ci:s3cret@cache:8080/main failed")
        == "GET http://cache:8080/main failed"
    )
    assert (
        scrub_credentials("grpcs://token@bazel:9092 and user@example.org")
        == "grpcs://bazel:9092 and user@example.org"
    )
    assert scrub_credentials("no url here") == "no url here"


def test_attic_url_credentials_do_not_reach_the_report(tmp_path: Path) -> None:
    suite = tmp_path / "scenarios" / "caches.scenario.yaml"
    suite.parent.mkdir()
    suite.write_text(
        "cases:\n  - name: attic-reachable\n    check: attic.reachable\n"
        "  - name: attic-hit-ratio\n    check: attic.hit_ratio\n"
    )
    url = refused_url().replace("http://", "http://ci:pa55word-7f3a@")
    done = run_harness(
        "check",
        "--repo",
        str(tmp_path),
        "--scenarios",
        str(suite.parent),
        "--attic-url",
        url,
        "--format",
        "json",
        "--require-live",
        cwd=tmp_path,
    )
    report = json.loads(done.stdout)
    assert {r["case"] for r in report["results"]} == {"attic-reachable", "attic-hit-ratio"}
    statuses = {r["case"]: r["status"] for r in report["results"]}
    # a named endpoint that does not serve: ATTIC001 once, the other case points at it
    assert statuses == {"attic-reachable": "failed", "attic-hit-ratio": "skipped"}
    assert "127.0.0.1" in done.stdout
    assert "pa55word-7f3a" not in done.stdout + done.stderr
