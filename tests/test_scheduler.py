"""Live cases run side by side, static cases in order; `check --static`; progress lines and
the closing summary of a run."""

from __future__ import annotations

import dataclasses
import io
import json
import os
import subprocess
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from harness.checks import CHECKS, CheckSpec
from harness.checks.api import CheckContext
from harness.engine import make_context
from harness.progress import Progress, summary_text, wanted
from harness.results import CaseResult, CheckOutput, Measurement, Status
from harness.scenario import Case, Suite
from harness.scheduler import run_suites, static_only
from tests.helpers.cli import run_harness
from tests.helpers.repos import write_repo

ROOT = Path(__file__).parent.parent
MEETING = threading.Barrier(2, timeout=20)
"""Two live cases meet here: run one after the other, the first would wait in vain."""


def meets_the_other(ctx: CheckContext, params: Mapping[str, Any]) -> CheckOutput:
    MEETING.wait()
    out = CheckOutput()
    out.measure("met", 1.0)
    return out


def static_pass(ctx: CheckContext, params: Mapping[str, Any]) -> CheckOutput:
    return CheckOutput()


STARTED: list[str] = []
"""The cases of `records_niceness`, in the order they started."""


def records_niceness(ctx: CheckContext, params: Mapping[str, Any]) -> CheckOutput:
    """The niceness a process this case starts runs at (coreutils `nice` prints its own)."""
    STARTED.append(str(params["name"]))
    done = subprocess.run(["nice"], capture_output=True, text=True, timeout=10, check=True)
    out = CheckOutput()
    out.measure("niceness", float(done.stdout))
    return out


@pytest.fixture
def ctx(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CheckContext:
    for name in ("meets_the_other", "static_pass", "records_niceness"):
        monkeypatch.setitem(
            CHECKS,
            f"test.{name}",
            CheckSpec(
                f"test.{name}", f"{__name__}:{name}", "caches", (), "", {"name": {"type": "string"}}
            ),
        )
    MEETING.reset()
    return make_context(tmp_path)


def suites() -> list[Suite]:
    static = Suite(
        "lint",
        Path("lint.scenario.yaml"),
        (Case("one", "test.static_pass", 1), Case("two", "test.static_pass", 2)),
        marks=("static",),
    )
    live = Suite(
        "caches",
        Path("caches.scenario.yaml"),
        (
            Case("a", "test.meets_the_other", 1),
            Case("s", "test.static_pass", 2, marks=("static",)),
            Case("b", "test.meets_the_other", 3),
        ),
    )
    return [static, live]


def test_live_cases_run_concurrently_and_results_keep_the_suites_order(ctx: CheckContext) -> None:
    heard: list[str] = []
    results = run_suites(ctx, suites(), lambda r: heard.append(r.node_id))
    assert [(r.node_id, r.status) for r in results] == [
        ("lint::one", Status.PASSED),
        ("lint::two", Status.PASSED),
        ("caches::a", Status.PASSED),
        ("caches::s", Status.PASSED),
        ("caches::b", Status.PASSED),
    ]
    assert sorted(heard) == sorted(r.node_id for r in results)


def test_one_worker_runs_live_cases_one_after_another(ctx: CheckContext) -> None:
    results = run_suites(ctx, suites(), live_workers=1)
    # alone at the barrier, the first live case gives up: proof nothing ran beside it
    assert results[2].status is Status.ERROR and "BrokenBarrierError" in results[2].reason


def test_a_long_case_starts_first_and_the_others_yield_to_it(ctx: CheckContext) -> None:
    STARTED.clear()
    base = os.nice(0)

    def case(name: str, line: int, *marks: str) -> Case:
        return Case(name, "test.records_niceness", line, marks=marks, params={"name": name})

    suite = Suite(
        "caches",
        Path("caches.scenario.yaml"),
        (case("short-1", 1), case("short-2", 2), case("outage", 3, "long")),
    )
    results = run_suites(ctx, [suite], live_workers=1 + 1)
    niceness = {r.case: r.measurements[0].value for r in results}
    # two workers take the first two cases: in the suite's order the long one would be third
    assert "outage" in STARTED[:2] and [r.case for r in results] == ["short-1", "short-2", "outage"]
    assert niceness == {"outage": base, "short-1": max(base, 10), "short-2": max(base, 10)}
    assert os.nice(0) == base  # the calling thread is left as it was
    # without a long case nothing is reprioritised
    plain = dataclasses.replace(suite, cases=(case("a", 1), case("b", 2)))
    assert {r.measurements[0].value for r in run_suites(ctx, [plain])} == {base}


def test_static_only_keeps_the_static_cases_of_each_suite() -> None:
    kept = static_only(suites())
    assert [(s.name, [c.name for c in s.cases]) for s in kept] == [
        ("lint", ["one", "two"]),
        ("caches", ["s"]),
    ]


def result(
    case: str, status: Status, *, loopback: bool = False, suite: str = "caches"
) -> CaseResult:
    return CaseResult(
        suite,
        case,
        status,
        reason="why" if status is not Status.PASSED else "",
        measurements=[Measurement("hit_ratio", 0.975, "ratio")],
        duration=2.25,
        loopback=loopback,
    )


def test_a_progress_line_has_status_duration_measurement_and_the_loopback_label() -> None:
    stream = io.StringIO()
    progress = Progress(12, stream, github=False)
    progress.case_done(result("attic-hit-ratio", Status.PASSED, loopback=True))
    assert stream.getvalue() == (
        "[ 1/12] PASSED   caches::attic-hit-ratio  2.2s  hit_ratio=0.975 ratio  "
        "[loopback cache built here; not the fleet's cache]\n"
    )


def test_in_github_actions_each_case_is_a_group_with_its_reason() -> None:
    stream = io.StringIO()
    Progress(1, stream, github=True).case_done(result("attic-outage", Status.FAILED))
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("::group::[1/1] FAILED   caches::attic-outage  2.2s")
    assert lines[1:] == ["why", "::endgroup::"]


def test_summary_says_what_was_proven_and_what_a_loopback_cache_stood_in_for() -> None:
    text = summary_text(
        [
            result("x", Status.PASSED, suite="workflows"),
            result("hit", Status.PASSED, loopback=True),
            result("outage", Status.PASSED),
            result("sub", Status.SKIPPED),
        ],
        3.0,
    )
    assert text.splitlines() == [
        "4 cases in 3.0s: 3 passed, 0 failed, 1 skipped, 0 errors",
        "proven: workflows (every case passed)",
        "also proven: caches::outage",
        "passed against a loopback cache built here; not the fleet's cache: caches::hit",
        "not proven: caches::sub (skipped)",
    ]


def test_progress_is_wanted_with_the_flag_or_on_a_terminal() -> None:
    assert wanted(True, io.StringIO())
    assert not wanted(False, io.StringIO())


def test_check_static_runs_no_live_case_and_progress_goes_to_stderr(tmp_path: Path) -> None:
    repo = write_repo(
        tmp_path / "repo",
        {
            ".github/workflows/ci.yml": (
                "on: push\njobs:\n  a:\n    runs-on: tinyland-nix\n    steps:\n"
                "      - uses: DeterminateSystems/nix-installer-action@v16\n"
                "      - run: nix build\n"
            )
        },
    )
    done = run_harness(
        "check",
        "--repo",
        str(repo),
        "--static",
        "--progress",
        "--format",
        "json",
        drop=["GITHUB_ACTIONS"],
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    suites_run = {r["suite"] for r in report["results"]}
    assert "caches" not in suites_run and "memory" not in suites_run
    assert "workflows" in suites_run
    lines = done.stderr.splitlines()
    assert len([ln for ln in lines if ln.startswith("[")]) == len(report["results"])
    assert any(ln.startswith("proven: ") and "workflows" in ln for ln in lines)


def test_check_static_of_suites_without_static_cases_is_bad_input(tmp_path: Path) -> None:
    done = run_harness("check", "--repo", str(tmp_path), "--static", "--suite", "caches")
    assert done.returncode == 2
    assert done.stderr.strip().endswith("--static: no static case in suite(s) caches")


def test_live_cases_at_once_follow_the_cpus() -> None:
    from harness.scheduler import MAX_LIVE_WORKERS, live_workers_for

    assert live_workers_for(1) == 2  # still side by side: most of a case is waiting
    assert live_workers_for(2) == 3
    assert live_workers_for(64) == MAX_LIVE_WORKERS
    assert 2 <= live_workers_for() <= MAX_LIVE_WORKERS
    assert live_workers_for() == live_workers_for(len(os.sched_getaffinity(0)))
