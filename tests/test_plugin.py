"""The pytest plugin, driven by pytester: collection, node ids, marks, xdist, JUnit
properties, broken scenario files and the evidence file."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from harness.schemas import report_schema

pytest_plugins = ["pytester"]

REPOS = Path(__file__).parent / "fixtures" / "repos"
SCHEMA = report_schema()

WORKFLOWS = """\
suite: workflows
marks: [static]
cases:
  - name: files-readable
    check: workflows.readable
  - name: needs-graph
    check: workflows.needs
    marks: [graph]
"""
BOOTSTRAP = """\
cases:
  - name: workflow-owned-nix
    check: bootstrap.workflow_owned_nix
    marks: [nixcheck]
"""
NOT_A_SCENARIO = """\
cases:
  - name: should-not-be-collected
    check: workflows.readable
"""
BROKEN = """\
suite: broken
cases:
  - name: fine
    check: workflows.readable
  - name: bad
    check: workflows.readable
    colour: red
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini("[pytest]\n")  # the rootdir, as pyproject.toml is for a project
    scenarios = pytester.mkdir("scenarios")
    (scenarios / "workflows.scenario.yaml").write_text(WORKFLOWS)
    (scenarios / "bootstrap.scenario.yaml").write_text(BOOTSTRAP)
    (scenarios / "workflows.yaml").write_text(NOT_A_SCENARIO)
    (scenarios / "notes.scenario.yml").write_text(NOT_A_SCENARIO)
    return pytester


def repo_args(name: str = "needs") -> list[str]:
    return ["-p", "no:cacheprovider", f"--harness-repo={REPOS / name}", "scenarios"]


def collected(result: pytest.RunResult) -> list[str]:
    return sorted(line for line in result.outlines if "::" in line)


def test_collects_only_scenario_files_with_stable_node_ids(project: pytest.Pytester) -> None:
    result = project.runpytest(*repo_args(), "--collect-only", "-q")
    assert collected(result) == [
        "scenarios/bootstrap.scenario.yaml::workflow-owned-nix",
        "scenarios/workflows.scenario.yaml::files-readable",
        "scenarios/workflows.scenario.yaml::needs-graph",
    ]


@pytest.mark.parametrize(
    ("selection", "expected"),
    [
        (["-m", "workflows"], ["files-readable", "needs-graph"]),
        (["-m", "bootstrap"], ["workflow-owned-nix"]),
        (["-m", "static"], ["files-readable", "needs-graph"]),
        (["-m", "graph"], ["needs-graph"]),
        (["-m", "nixcheck or graph"], ["needs-graph", "workflow-owned-nix"]),
        (["-m", "not workflows"], ["workflow-owned-nix"]),
        (["-k", "readable"], ["files-readable"]),
        (["-k", "workflows and not needs"], ["files-readable"]),
        (["--suite", "bootstrap"], ["workflow-owned-nix"]),
    ],
)
def test_suite_and_case_marks_select(
    project: pytest.Pytester, selection: list[str], expected: list[str]
) -> None:
    result = project.runpytest(*repo_args(), "--collect-only", "-q", *selection)
    assert sorted(line.rsplit("::", 1)[1] for line in collected(result)) == expected


def test_outcomes_and_failure_report(project: pytest.Pytester) -> None:
    result = project.runpytest(*repo_args(), "-rA")
    result.assert_outcomes(passed=2, failed=1)
    output = result.stdout.str()
    assert "needs `biuld`, which is not a job" in output
    assert ".github/workflows/graph.yml:14:1: error:" in output
    assert "[WF003]" in output
    assert "Traceback" not in output


def test_skip_reason_is_shown(project: pytest.Pytester, tmp_path: Path) -> None:
    result = project.runpytest(
        "-p", "no:cacheprovider", f"--harness-repo={tmp_path}", "scenarios", "-rs"
    )
    # no workflows: WF001 fails the readable case; the others skip, saying why
    result.assert_outcomes(failed=1, skipped=2)
    result.stdout.fnmatch_lines(["*SKIPPED*no GitHub Actions workflows in this repository*"])


def test_broken_scenario_file_is_one_failing_item_and_the_rest_run(
    project: pytest.Pytester,
) -> None:
    (project.path / "scenarios" / "broken.scenario.yaml").write_text(BROKEN)
    result = project.runpytest(*repo_args("runs_on_forms"), "-rf")
    result.assert_outcomes(passed=3, failed=1)
    output = result.stdout.str()
    assert "scenarios/broken.scenario.yaml:7: unknown key 'colour'" in output
    assert output.count("FAILED") == 1
    assert "FAILED scenarios/broken.scenario.yaml" in output


def test_broken_file_of_another_suite_does_not_fail_a_suite_run(project: pytest.Pytester) -> None:
    (project.path / "scenarios" / "broken.scenario.yaml").write_text(BROKEN)
    result = project.runpytest(*repo_args("runs_on_forms"), "--suite", "workflows")
    result.assert_outcomes(passed=2)
    result = project.runpytest(*repo_args("runs_on_forms"), "--suite", "broken")
    result.assert_outcomes(failed=1)


def test_yaml_error_in_a_scenario_file(project: pytest.Pytester) -> None:
    (project.path / "scenarios" / "broken.scenario.yaml").write_text(
        "cases:\n  - name: a\n    check: workflows.readable\n    check: workflows.needs\n"
    )
    result = project.runpytest(*repo_args("runs_on_forms"))
    result.assert_outcomes(passed=3, failed=1)
    assert "scenarios/broken.scenario.yaml:4: duplicate key 'check'" in result.stdout.str()


def test_xdist_junit_properties_and_evidence(project: pytest.Pytester) -> None:
    junit = project.path / "junit.xml"
    evidence = project.path / "out" / "evidence.json"
    result = project.runpytest_subprocess(
        *repo_args(), "-n", "2", f"--junitxml={junit}", f"--evidence={evidence}"
    )
    result.assert_outcomes(passed=2, failed=1)
    assert "2 workers" in result.stdout.str() or "gw1" in result.stdout.str()

    tree = ET.parse(junit)
    cases = {case.get("name"): case for case in tree.iter("testcase")}
    assert set(cases) == {"files-readable", "needs-graph", "workflow-owned-nix"}
    properties = {(p.get("name"), p.get("value")) for p in tree.iter("property")}
    assert ("workflows.files", "1") in properties
    assert ("workflows.jobs", "7") in properties
    assert ("bootstrap.jobs_checked", "7") in properties
    assert not any((name or "").startswith("flywheel-harness") for name, _ in properties)

    report = json.loads(evidence.read_text())
    errors = list(Draft202012Validator(SCHEMA).iter_errors(report))
    assert not errors, errors
    statuses = {(r["suite"], r["case"]): r["status"] for r in report["results"]}
    assert statuses == {
        ("workflows", "files-readable"): "passed",
        ("workflows", "needs-graph"): "failed",
        ("bootstrap", "workflow-owned-nix"): "passed",
    }
    assert report["summary"] == {"passed": 2, "failed": 1, "skipped": 0, "errors": 0}
    needs = next(r for r in report["results"] if r["case"] == "needs-graph")
    assert {f["rule"] for f in needs["findings"]} == {"WF003"}


def test_evidence_without_xdist_and_sessions_do_not_leak(project: pytest.Pytester) -> None:
    first = project.path / "first.json"
    second = project.path / "second.json"
    project.runpytest(*repo_args(), f"--evidence={first}").assert_outcomes(passed=2, failed=1)
    project.runpytest(*repo_args(), "--suite", "bootstrap", f"--evidence={second}")
    assert len(json.loads(first.read_text())["results"]) == 3
    assert [r["case"] for r in json.loads(second.read_text())["results"]] == ["workflow-owned-nix"]


def test_bad_contract_fails_every_case_with_its_lines(project: pytest.Pytester) -> None:
    contract = project.path / "bad.yaml"
    contract.write_text("version: 1\nfleet: honey\nwhat: 1\n")
    result = project.runpytest(*repo_args(), f"--contract={contract}")
    result.assert_outcomes(failed=3)
    assert f"{contract}:3: unknown key 'what'" in result.stdout.str()


@pytest.mark.parametrize("how", ["flag", "ini"])
def test_static_collects_only_static_cases(project: pytest.Pytester, how: str) -> None:
    """`--static` (or `harness_static = true`) leaves out the cases not marked static."""
    if how == "ini":
        project.makeini("[pytest]\nharness_static = true\n")
    extra = ["--static"] if how == "flag" else []
    result = project.runpytest(*repo_args(), "--collect-only", "-q", *extra)
    assert collected(result) == [
        "scenarios/workflows.scenario.yaml::files-readable",
        "scenarios/workflows.scenario.yaml::needs-graph",
    ]


def test_progress_prints_what_was_proven(project: pytest.Pytester) -> None:
    """`--progress` closes the run with the summary `check --progress` prints."""
    result = project.runpytest(*repo_args(), "--progress")
    result.stdout.fnmatch_lines(
        [
            "*flywheel-harness*",
            "3 cases in *s: 2 passed, 1 failed, 0 skipped, 0 errors",
            "*not proven: workflows::needs-graph (failed)*",
        ]
    )
    assert "cases in" not in project.runpytest(*repo_args()).stdout.str()
