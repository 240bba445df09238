"""The engine classifies every outcome of a check: passed, failed, skipped, error."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from harness.checks import CHECKS, CheckSpec
from harness.checks.api import CheckContext, Skip
from harness.engine import make_context, run_case
from harness.errors import HarnessInputError, Problem
from harness.options import Options
from harness.probes.nix import NixError
from harness.results import CheckOutput, Finding, Severity, Status
from harness.scenario import Case, Suite
from harness.scheduler import run_suites


def crashes(ctx: CheckContext, params: Mapping[str, Any]) -> CheckOutput:
    raise ZeroDivisionError("division by zero\nsecond line")


def broken_tool(ctx: CheckContext, params: Mapping[str, Any]) -> CheckOutput:
    raise NixError("nix build failed: error: cannot connect to daemon\nmore")


def bad_params(ctx: CheckContext, params: Mapping[str, Any]) -> CheckOutput:
    raise HarnessInputError([Problem("s.yaml", 3, "bad a"), Problem("s.yaml", 4, "bad b")])


def live_skip(ctx: CheckContext, params: Mapping[str, Any]) -> CheckOutput:
    raise Skip("no endpoint", live=True)


def writes_artifacts(ctx: CheckContext, params: Mapping[str, Any]) -> CheckOutput:
    out = CheckOutput()
    chart = ctx.artifacts_dir() / "chart.svg"
    chart.write_text("<svg/>")
    out.artifacts += [str(chart), "/elsewhere/log.txt"]
    return out


def warns(ctx: CheckContext, params: Mapping[str, Any]) -> CheckOutput:
    out = CheckOutput()
    out.add(Finding("LANE003", "unknown", Severity.WARNING, file="a.yml", line=1))
    out.measure("x", 1.5, "s")
    out.notes.append("a note")
    return out


@pytest.fixture
def ctx(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CheckContext:
    for name in ("crashes", "broken_tool", "bad_params", "live_skip", "warns", "writes_artifacts"):
        monkeypatch.setitem(
            CHECKS, f"test.{name}", CheckSpec(f"test.{name}", f"{__name__}:{name}", "suite", (), "")
        )
    return make_context(tmp_path)


def run(ctx: CheckContext, check: str) -> Any:
    return run_case(ctx, "suite", Case("case", check, 1))


def test_a_crashing_check_is_an_error_of_one_line(ctx: CheckContext) -> None:
    result = run(ctx, "test.crashes")
    assert result.status is Status.ERROR
    assert result.reason == "bug in check test.crashes: ZeroDivisionError: division by zero"


def test_a_broken_environment_is_told_from_a_bug_in_the_check(ctx: CheckContext) -> None:
    result = run(ctx, "test.broken_tool")
    assert result.status is Status.ERROR
    assert result.reason == "broken environment: nix build failed: error: cannot connect to daemon"


def test_bad_parameters_are_an_error_naming_every_problem(ctx: CheckContext) -> None:
    result = run(ctx, "test.bad_params")
    assert result.status is Status.ERROR
    assert result.reason == "s.yaml:3: bad a; s.yaml:4: bad b"


def test_live_skips_fail_only_under_require_live(ctx: CheckContext, tmp_path: Path) -> None:
    skipped = run(ctx, "test.live_skip")
    assert (skipped.status, skipped.reason, skipped.live) == (Status.SKIPPED, "no endpoint", True)
    strict = make_context(tmp_path, options=Options(require_live=True))
    failed = run(strict, "test.live_skip")
    assert failed.status is Status.FAILED
    assert "--require-live" in failed.reason


def test_warnings_do_not_fail_and_measurements_and_notes_are_kept(ctx: CheckContext) -> None:
    result = run(ctx, "test.warns")
    assert result.status is Status.PASSED
    assert [m.name for m in result.measurements] == ["x"]
    assert result.reason == "a note"
    assert result.duration >= 0


def test_unknown_check_is_an_error_not_a_crash(ctx: CheckContext) -> None:
    result = run(ctx, "no.such_check")
    assert result.status is Status.ERROR
    assert "no.such_check" in result.reason


def test_run_suites_keeps_order_and_goes_on_after_errors(ctx: CheckContext) -> None:
    suite = Suite(
        "s", Path("s.scenario.yaml"), (Case("a", "test.crashes", 1), Case("b", "test.warns", 2))
    )
    results = run_suites(ctx, [suite])
    assert [(r.case, r.status) for r in results] == [("a", Status.ERROR), ("b", Status.PASSED)]


def test_artifacts_are_reported_relative_to_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(
        CHECKS,
        "test.writes_artifacts",
        CheckSpec("test.writes_artifacts", f"{__name__}:writes_artifacts", "suite", (), ""),
    )
    monkeypatch.chdir(tmp_path)
    ctx = make_context(tmp_path, options=Options(artifacts_dir=Path("out/harness-artifacts")))
    result = run(ctx, "test.writes_artifacts")
    assert result.artifacts == [str(Path("out/harness-artifacts/chart.svg")), "/elsewhere/log.txt"]
    assert (tmp_path / result.artifacts[0]).read_text() == "<svg/>"
