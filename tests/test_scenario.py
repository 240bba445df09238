"""Scenario files: every problem on its own located line; the bundled suites load."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.checks import CHECKS
from harness.errors import HarnessInputError
from harness.scenario import bundled_scenarios_dir, load_suite, scenario_files
from harness.suites import load_suites, select_suites


def problems(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "x.scenario.yaml"
    path.write_text(text)
    with pytest.raises(HarnessInputError) as info:
        load_suite(path, "x.scenario.yaml")
    return str(info.value).splitlines()


def test_bundled_suites_load_and_name_registered_checks() -> None:
    suites = load_suites()
    names = {s.name for s in suites}
    assert {"workflows", "bootstrap", "placement"} <= names
    assert all(case.check in CHECKS for s in suites for case in s.cases)
    assert len(suites) == len(scenario_files(bundled_scenarios_dir()))


def test_suite_name_defaults_to_the_file_name(tmp_path: Path) -> None:
    path = tmp_path / "mine.scenario.yaml"
    path.write_text("cases:\n  - name: a\n    check: workflows.needs\n    marks: [x]\n")
    suite = load_suite(path)
    assert suite.name == "mine"
    assert (suite.cases[0].name, suite.cases[0].line, suite.cases[0].marks) == ("a", 2, ("x",))


def test_unknown_check_duplicate_case_are_all_reported(tmp_path: Path) -> None:
    lines = problems(
        tmp_path,
        "cases:\n  - name: a\n    check: workflows.need\n  - name: a\n    check: workflows.needs\n",
    )
    assert lines == [
        "x.scenario.yaml:3: unknown check 'workflows.need' (known in that area: "
        "workflows.local_uses, workflows.needs, workflows.readable, workflows.remote_uses)",
        "x.scenario.yaml:4: case 'a' is defined twice (first at line 2)",
    ]


def test_schema_problems_each_with_a_line(tmp_path: Path) -> None:
    lines = problems(
        tmp_path, "suite: Bad Name\ncases:\n  - name: a\n    chek: x\n    marks: [Not-Valid]\n"
    )
    assert len(lines) == 4
    assert all(line.startswith("x.scenario.yaml:") for line in lines)
    text = "\n".join(lines)
    assert "x.scenario.yaml:1: suite: 'Bad Name' does not match" in text
    assert "'check' is a required property" in text
    assert "unknown key 'chek'" in text
    assert "x.scenario.yaml:5: cases.0.marks.0: 'Not-Valid' does not match" in text


def test_select_suites_keeps_the_order_asked_for() -> None:
    suites = load_suites()
    chosen = select_suites(suites, ["workflows", "bootstrap", "workflows"])
    assert [s.name for s in chosen] == ["workflows", "bootstrap"]
    assert select_suites(suites, []) == suites
    with pytest.raises(HarnessInputError, match="unknown suite"):
        select_suites(suites, ["nope"])


def test_wanted_suites_are_read_from_their_own_files_or_from_all(tmp_path: Path) -> None:
    case = "cases:\n  - name: a\n    check: workflows.needs\n"
    (tmp_path / "one.scenario.yaml").write_text(case)
    (tmp_path / "two.scenario.yaml").write_text("suite: three\n" + case)
    (tmp_path / "broken.scenario.yaml").write_text("cases: [")
    assert [s.name for s in load_suites(tmp_path, ["one"])] == ["one"]
    # `three` is declared in two.scenario.yaml: every file is read to find it
    assert {s.name for s in load_suites(tmp_path, ["three"])} == {"one", "three"}
    # `two` names a file whose suite is another: every file is read, `two` is unknown
    suites = load_suites(tmp_path, ["two"])
    with pytest.raises(HarnessInputError, match="unknown suite"):
        select_suites(suites, ["two"])
    with pytest.raises(HarnessInputError, match=r"broken\.scenario\.yaml"):
        load_suites(tmp_path)
