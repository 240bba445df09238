"""`flywheel-harness bazel`: exit codes, JSON output, a user workspace left untouched."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.checks._bazel_env import SAMPLE_WORKSPACE
from harness.checks.api import CheckContext
from harness.cli import main
from harness.contract import find_contract, load_contract
from harness.engine import run_case
from harness.options import Options
from harness.probes.bazel_run import copy_workspace
from harness.probes.outage import outage
from harness.results import Status
from harness.scenario import Case
from tests.helpers.tools import require_tool


@pytest.mark.needs_nginx
def test_probe_cases_against_the_loopback_default(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    require_tool("nginx")
    code = main(
        [
            "bazel",
            "--case",
            "answers",
            "--case",
            "round-trip",
            "--format",
            "json",
            "--artifacts-dir",
            str(tmp_path / "art"),
        ]
    )
    report = json.loads(capsys.readouterr().out)
    assert code == 0
    assert [(r["case"], r["status"]) for r in report["results"]] == [
        ("bazel-cache-answers", "passed"),
        ("bazel-round-trip", "passed"),
    ]
    assert report["summary"]["passed"] == 2


def test_dead_cache_exits_1_with_the_rule(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with outage("refuse") as server:
        code = main(
            [
                "bazel",
                "--url",
                server.url,
                "--case",
                "answers",
                "--artifacts-dir",
                str(tmp_path / "art"),
            ]
        )
    out = capsys.readouterr().out
    assert code == 1
    assert "FAILED  bazel-cache-answers" in out and "[BAZEL001]" in out


@pytest.mark.parametrize(
    "argv",
    [
        ["--min-hit-ratio", "1.5"],
        ["--url", "ftp://127.0.0.1:21"],
        ["--workspace", "/nonexistent/workspace"],
    ],
)
def test_bad_input_exits_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bazel", *argv]) == 2
    assert "flywheel-harness" in capsys.readouterr().err


def test_unknown_case_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["bazel", "--case", "nope"])
    assert exited.value.code == 2
    assert "invalid choice: 'nope'" in capsys.readouterr().err


@pytest.mark.needs_nginx
@pytest.mark.needs_bazel
def test_hit_ratio_on_a_user_workspace(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    require_tool("bazel")
    require_tool("nginx")
    workspace = copy_workspace(SAMPLE_WORKSPACE, tmp_path / "app")
    before = sorted(p.name for p in workspace.iterdir())
    code = main(
        [
            "bazel",
            "--workspace",
            str(workspace),
            "--target",
            "//:banner",
            "--min-hit-ratio",
            "1",
            "--case",
            "hit-ratio",
            "--flag=--incompatible_strict_action_env",
            "--artifacts-dir",
            str(tmp_path / "art"),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "bazel.hit_ratio = 1 ratio" in out
    assert "bazel.spawns_cacheable = 2" in out  # //:greeting and //:banner
    assert sorted(p.name for p in workspace.iterdir()) == before  # no bazel-* symlinks


@pytest.mark.parametrize(
    "params",
    [{"modes": ["flood"]}, {"remote_timeout": 0}, {"remote_retries": -1}, {"timeout": "soon"}],
)
def test_bad_outage_parameters_are_input_errors(params: dict[str, object], tmp_path: Path) -> None:
    ctx = CheckContext(
        repo=tmp_path,
        contract=load_contract(find_contract(tmp_path, None)),
        options=Options(artifacts_dir=tmp_path / ".harness"),
    )
    result = run_case(
        ctx, "caches", Case("bazel-outage", "bazel.outage_tolerance", 1, params=params)
    )
    assert result.status is Status.ERROR
    assert "must be" in result.reason
