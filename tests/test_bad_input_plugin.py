"""Bad options through the pytest plugin: one usage error before collection, and no
evidence from a run that ran nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

REPOS = Path(__file__).parent / "fixtures" / "repos"
SUITE = """\
suite: {name}
cases:
  - name: files-readable
    check: workflows.readable
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini("[pytest]\n")
    scenarios = pytester.mkdir("scenarios")
    for name in ("workflows", "placement"):
        (scenarios / f"{name}.scenario.yaml").write_text(SUITE.format(name=name))
    return pytester


def _args(*extra: str) -> list[str]:
    return ["-p", "no:cacheprovider", f"--harness-repo={REPOS / 'needs'}", "scenarios", *extra]


def _errors(result: pytest.RunResult) -> list[str]:
    return [line for line in result.outlines + result.errlines if "ERROR" in line]


def test_a_missing_harness_repo_is_one_usage_error(project: pytest.Pytester) -> None:
    missing = project.path / "missing"
    result = project.runpytest("-p", "no:cacheprovider", f"--harness-repo={missing}", "scenarios")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert _errors(result) == [
        f"ERROR: --harness-repo {missing}: repository directory does not exist"
    ]


def test_a_mistyped_suite_is_a_usage_error_and_writes_no_evidence(project: pytest.Pytester) -> None:
    evidence = project.path / "harness-evidence.json"
    evidence.write_text('{"kept": true}')
    result = project.runpytest(*_args("--suite", "placment", f"--evidence={evidence}"))
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert _errors(result) == [
        "ERROR: --suite: unknown suite(s) placment; known: placement, workflows"
    ]
    assert json.loads(evidence.read_text()) == {"kept": True}


def test_a_run_that_collected_nothing_keeps_the_old_evidence(project: pytest.Pytester) -> None:
    evidence = project.path / "harness-evidence.json"
    evidence.write_text('{"kept": true}')
    result = project.runpytest(*_args("-k", "nothing-matches", f"--evidence={evidence}"))
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED
    assert json.loads(evidence.read_text()) == {"kept": True}
    assert "no scenario case ran" in result.stdout.str()


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--kubectl-file", "{tmp}/missing.json", "cannot read: No such file or directory"),
        ("--metrics-file", "{tmp}", "is a directory, not a file"),
        ("--evidence", "{tmp}", "is a folder, not a file"),
        ("--artifacts-dir", "{tmp}/scenarios/workflows.scenario.yaml", "is a file, not a folder"),
        ("--contract", "{tmp}/nope.yaml", "cannot read: No such file or directory"),
    ],
)
def test_bad_paths_are_one_usage_error(
    project: pytest.Pytester, flag: str, value: str, message: str
) -> None:
    path = value.format(tmp=project.path)
    result = project.runpytest(*_args(f"{flag}={path}"))
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert _errors(result) == [f"ERROR: {flag} {path}: {message}"]
