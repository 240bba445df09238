"""WF001-WF003: true and false positives."""

from __future__ import annotations

from pathlib import Path

from harness.results import Status
from tests.helpers.repos import findings, run_check, workflow, write_repo

REPOS = Path(__file__).parent / "fixtures" / "repos"
GOOD = """\
name: ci
on: push
jobs:
  build:
    runs-on: tinyland-nix
    steps:
      - uses: ./.github/actions/setup
      - run: echo ok
  test:
    needs: build
    uses: ./.github/workflows/reusable.yml
"""
REUSABLE = """\
on: workflow_call
jobs:
  inner:
    runs-on: tinyland-nix
    steps:
      - run: echo inner
"""
ACTION = """\
name: setup
runs:
  using: composite
  steps:
    - shell: bash
      run: echo setup
"""


def good_repo(root: Path) -> Path:
    return write_repo(
        root,
        {
            ".github/workflows/ci.yml": GOOD,
            ".github/workflows/reusable.yml": REUSABLE,
            ".github/actions/setup/action.yml": ACTION,
        },
    )


# -- WF001 ---------------------------------------------------------------------------------


def test_wf001_each_bad_file_is_one_finding_with_its_line() -> None:
    found = findings(REPOS / "broken", "workflows.readable", "WF001")
    by_file = {f.file: f for f in found}
    assert len(found) == len(by_file) == 7
    assert by_file[".github/workflows/dup.yml"].line == 6
    assert "duplicate key 'runs-on'" in by_file[".github/workflows/dup.yml"].message
    assert by_file[".github/workflows/list.yml"].line == 1
    assert by_file[".github/actions/bad/action.yml"].line == 7


def test_wf001_sees_a_bad_action_outside_github_actions(tmp_path: Path) -> None:
    write_repo(
        tmp_path,
        {
            ".github/workflows/ci.yml": """\
            on: push
            jobs:
              build:
                runs-on: tinyland-nix
                steps:
                  - uses: ./ci/setup
            """,
            "ci/setup/action.yml": "runs:\n  using: composite\n  steps:\n    - run: a\n"
            "      uses: actions/checkout@v4\n",
        },
    )
    (finding,) = findings(tmp_path, "workflows.readable", "WF001")
    assert (finding.file, finding.line) == ("ci/setup/action.yml", 4)
    assert "both `uses` and `run`" in finding.message


def test_wf001_the_run_goes_on_after_a_bad_file() -> None:
    # the good workflow of the same repository is still checked by the other rules
    result = run_check(REPOS / "broken", "lanes.known_labels")
    assert result.status is Status.PASSED


def test_wf001_false_positives(tmp_path: Path) -> None:
    good_repo(tmp_path)
    write_repo(
        tmp_path,
        {
            ".github/workflows/on.yml": """\
        on:
          push:
        jobs:
          j:
            runs-on: ubuntu-latest
            steps: [{run: echo}]
        """,
            ".github/workflows/notes.txt": "not: [yaml",
        },
    )
    assert findings(tmp_path, "workflows.readable", "WF001") == []


def test_wf001_measures_files_and_jobs(tmp_path: Path) -> None:
    result = run_check(good_repo(tmp_path), "workflows.readable")
    measured = {m.name: m.value for m in result.measurements}
    assert measured == {"workflows.files": 2, "workflows.jobs": 3}


def test_no_workflows_is_a_wf001_finding(tmp_path: Path) -> None:
    result = run_check(tmp_path, "workflows.readable")
    assert result.status is Status.FAILED
    assert [(f.rule, f.file) for f in result.findings] == [("WF001", ".github/workflows")]
    assert "no GitHub Actions workflows in this repository" in result.findings[0].message


# -- WF002 ---------------------------------------------------------------------------------


def test_wf002_false_positives(tmp_path: Path) -> None:
    assert findings(good_repo(tmp_path), "workflows.local_uses") == []


def test_wf002_missing_action_reusable_workflow_and_nested_action(tmp_path: Path) -> None:
    write_repo(
        tmp_path,
        {
            ".github/workflows/ci.yml": """\
            on: push
            jobs:
              build:
                runs-on: tinyland-nix
                steps:
                  - uses: actions/checkout@v4
                  - uses: ./.github/actions/nix-jbo
                  - uses: ./.github/actions/setup
              call:
                uses: ./.github/workflows/missing.yml
              remote:
                uses: octo/repo/.github/workflows/x.yml@v1
            """,
            ".github/actions/setup/action.yml": """\
            name: setup
            runs:
              using: composite
              steps:
                - uses: ./.github/actions/gone
            """,
        },
    )
    found = {(f.file, f.line): f for f in findings(tmp_path, "workflows.local_uses", "WF002")}
    assert set(found) == {
        (".github/workflows/ci.yml", 7),
        (".github/workflows/ci.yml", 10),
        (".github/actions/setup/action.yml", 5),
    }
    assert "nix-jbo" in found[(".github/workflows/ci.yml", 7)].message
    assert found[(".github/workflows/ci.yml", 7)].job == "build"
    assert found[(".github/workflows/ci.yml", 7)].step == 2
    assert "missing.yml" in found[(".github/workflows/ci.yml", 10)].message


def test_wf002_unreadable_action_is_wf001_not_wf002() -> None:
    assert findings(REPOS / "broken", "workflows.local_uses", "WF002") == []


# -- WF003 ---------------------------------------------------------------------------------


def test_wf003_dangling_needs_and_cycles() -> None:
    found = findings(REPOS / "needs", "workflows.needs", "WF003")
    messages = sorted(f.message for f in found)
    assert any("needs `biuld`, which is not a job" in m for m in messages)
    cycles = [m for m in messages if m.startswith("needs cycle")]
    assert len(cycles) == 2
    assert any(set(m.split(": ")[1].split(" -> ")) == {"a", "b", "c"} for m in cycles)
    assert "needs cycle: self -> self" in cycles
    dangling = next(f for f in found if "biuld" in f.message)
    assert (dangling.file, dangling.line, dangling.job) == (
        ".github/workflows/graph.yml",
        14,
        "publish",
    )


def test_wf003_false_positives(tmp_path: Path) -> None:
    write_repo(
        tmp_path,
        workflow("""\
        on: push
        jobs:
          a: {runs-on: ubuntu-latest, steps: [{run: echo}]}
          b: {needs: a, runs-on: ubuntu-latest, steps: [{run: echo}]}
          c: {needs: [a, b], runs-on: ubuntu-latest, steps: [{run: echo}]}
          d: {needs: [c, a, b], runs-on: ubuntu-latest, steps: [{run: echo}]}
        """),
    )
    assert findings(tmp_path, "workflows.needs") == []


def test_wf003_needs_of_wrong_shape_is_wf001(tmp_path: Path) -> None:
    write_repo(
        tmp_path,
        workflow("""\
        on: push
        jobs:
          a: {needs: {x: 1}, runs-on: ubuntu-latest, steps: [{run: echo}]}
        """),
    )
    found = findings(tmp_path, "workflows.readable", "WF001")
    assert len(found) == 1 and found[0].line == 3 and "needs" in found[0].message
