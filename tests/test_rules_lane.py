"""LANE001-LANE003: true and false positives, after matrices and caller inputs are resolved."""

from __future__ import annotations

from pathlib import Path

from harness.results import Severity, Status
from tests.helpers.repos import findings, run_check, workflow, write_repo

REPOS = Path(__file__).parent / "fixtures" / "repos"


def job(runs_on: str, extra: str = "") -> dict[str, str]:
    return workflow(f"""\
on: push
jobs:
  build:
{extra}    runs-on: {runs_on}
    steps:
      - run: echo hi
""")


# -- LANE001 -------------------------------------------------------------------------------


def test_lane001_repo_shaped_label(tmp_path: Path) -> None:
    write_repo(tmp_path, job("myapp-nix"))
    found = findings(tmp_path, "lanes.known_labels", "LANE001")
    assert len(found) == 1
    finding = found[0]
    assert (finding.file, finding.line, finding.job) == (".github/workflows/ci.yml", 4, "build")
    assert "`myapp-nix`" in finding.message
    assert finding.severity is Severity.ERROR


def test_lane001_suggests_a_close_lane(tmp_path: Path) -> None:
    write_repo(tmp_path, job("tinyland-nixx"))
    (finding,) = findings(tmp_path, "lanes.known_labels", "LANE001")
    assert "did you mean `tinyland-nix`?" in finding.message


def test_lane001_each_bad_matrix_label_once(tmp_path: Path) -> None:
    write_repo(
        tmp_path,
        job(
            "${{ matrix.lane }}",
            """\
    strategy:
      matrix:
        lane: [tinyland-nix, myapp-nix, macos-fancy]
        py: ['3.11', '3.12']
""",
        ),
    )
    found = findings(tmp_path, "lanes.known_labels", "LANE001")
    assert len(found) == 2
    assert sum("`macos-fancy`" in f.message for f in found) == 1
    assert sum("`myapp-nix`" in f.message for f in found) == 1
    assert not any("tinyland-nix`" in f.message for f in found)


def test_lane001_false_positives(tmp_path: Path) -> None:
    write_repo(
        tmp_path,
        workflow("""\
        on: push
        jobs:
          lane: {runs-on: tinyland-nix, steps: [{run: echo}]}
          hosted: {runs-on: ubuntu-latest, steps: [{run: echo}]}
          listed: {runs-on: [ubuntu-24.04], steps: [{run: echo}]}
          matrix:
            strategy: {matrix: {lane: [tinyland-nix-heavy, tinyland-docker, ubuntu-22.04]}}
            runs-on: ${{ matrix.lane }}
            steps: [{run: echo}]
          formatted:
            strategy: {matrix: {kind: [nix, dind]}}
            runs-on: tinyland-${{ matrix.kind }}
            steps: [{run: echo}]
        """),
    )
    result = run_check(tmp_path, "lanes.known_labels")
    assert result.status is Status.PASSED
    assert result.findings == []


def test_lane001_through_a_reusable_workflow_points_at_the_callers_with(tmp_path: Path) -> None:
    write_repo(
        tmp_path,
        {
            ".github/workflows/ci.yml": """\
            on: push
            jobs:
              good:
                uses: ./.github/workflows/build.yml
              bad:
                uses: ./.github/workflows/build.yml
                with:
                  runner: myrepo-nix
            """,
            ".github/workflows/build.yml": """\
            on:
              workflow_call:
                inputs:
                  runner: {type: string, default: tinyland-nix}
            jobs:
              compile:
                runs-on: ${{ inputs.runner }}
                steps: [{run: echo}]
            """,
        },
    )
    (finding,) = findings(tmp_path, "lanes.known_labels", "LANE001")
    assert finding.job == "bad/compile"
    assert (finding.file, finding.line) == (".github/workflows/ci.yml", 8)


def test_lane001_on_the_fixture_with_every_runs_on_form() -> None:
    found = findings(REPOS / "runs_on_forms", "lanes.known_labels")
    lane001 = {f.job: f.message for f in found if f.rule == "LANE001"}
    assert set(lane001) == {"matrix-list", "from-vars"}
    assert "`self-hosted`, `linux` are neither" in lane001["matrix-list"]
    lane003 = {f.job for f in found if f.rule == "LANE003"}
    assert lane003 == {"unresolvable", "from-vars", "event-input"}


# -- LANE002 -------------------------------------------------------------------------------


def test_lane002_lane_with_other_labels(tmp_path: Path) -> None:
    write_repo(tmp_path, job("[self-hosted, tinyland-nix]"))
    (finding,) = findings(tmp_path, "lanes.scale_set_label_alone", "LANE002")
    assert (finding.line, finding.job) == (4, "build")
    assert "use `runs-on: tinyland-nix`" in finding.message
    # not also LANE001 for `self-hosted`: the lane is named, the extra label is LANE002's
    assert findings(tmp_path, "lanes.known_labels", "LANE001") == []


def test_lane002_from_a_matrix_list(tmp_path: Path) -> None:
    write_repo(
        tmp_path,
        job(
            "${{ matrix.runner }}",
            """\
    strategy:
      matrix:
        runner: [[self-hosted, tinyland-nix-heavy], [tinyland-nix]]
""",
        ),
    )
    (finding,) = findings(tmp_path, "lanes.scale_set_label_alone", "LANE002")
    assert "[self-hosted, tinyland-nix-heavy]" in finding.message


def test_lane002_false_positives(tmp_path: Path) -> None:
    write_repo(
        tmp_path,
        workflow("""\
        on: push
        jobs:
          alone: {runs-on: tinyland-nix, steps: [{run: echo}]}
          listed: {runs-on: [tinyland-nix], steps: [{run: echo}]}
          hosted: {runs-on: [ubuntu-latest, self-hosted], steps: [{run: echo}]}
          group:
            runs-on: {group: honey, labels: [tinyland-nix]}
            steps: [{run: echo}]
        """),
    )
    assert findings(tmp_path, "lanes.scale_set_label_alone") == []


# -- LANE003 -------------------------------------------------------------------------------


def test_lane003_unresolvable_is_a_warning_and_does_not_fail(tmp_path: Path) -> None:
    write_repo(tmp_path, job("${{ needs.plan.outputs.lane }}"))
    result = run_check(tmp_path, "lanes.known_labels")
    assert result.status is Status.PASSED
    (finding,) = result.findings
    assert finding.rule == "LANE003"
    assert finding.severity is Severity.WARNING
    assert "${{ needs.plan.outputs.lane }}" in finding.message
    assert finding.line == 4


def test_lane003_runtime_caller_input(tmp_path: Path) -> None:
    found = findings(REPOS / "reusable", "lanes.known_labels")
    assert [(f.rule, f.job, f.file, f.line) for f in found] == [
        ("LANE003", "runtime/compile", ".github/workflows/caller.yml", 24)
    ]


def test_lane003_false_positive_when_a_default_resolves(tmp_path: Path) -> None:
    write_repo(
        tmp_path,
        workflow("""\
        on:
          workflow_dispatch:
            inputs:
              lane: {type: string, default: tinyland-nix}
        jobs:
          j: {runs-on: "${{ inputs.lane }}", steps: [{run: echo}]}
        """),
    )
    assert findings(tmp_path, "lanes.known_labels") == []


def test_lane003_names_why_a_matrix_label_is_unknown(tmp_path: Path) -> None:
    write_repo(
        tmp_path,
        job(
            "${{ matrix.lane }}",
            """\
    strategy:
      matrix: ${{ fromJSON(needs.plan.outputs.matrix) }}
""",
        ),
    )
    (finding,) = findings(tmp_path, "lanes.known_labels")
    assert finding.rule == "LANE003"
    assert "runs-on `${{ matrix.lane }}` cannot be resolved statically" in finding.message
    assert "the matrix is not static" in finding.message


def test_lane001_on_a_static_axis_of_a_runtime_matrix(tmp_path: Path) -> None:
    write_repo(
        tmp_path,
        job(
            "${{ matrix.os }}",
            """\
    strategy:
      matrix:
        python: ${{ fromJSON(needs.plan.outputs.versions) }}
        os: [tinyland-nix, macos-fancy]
""",
        ),
    )
    (finding,) = findings(tmp_path, "lanes.known_labels")
    assert finding.rule == "LANE001" and "`macos-fancy`" in finding.message


def test_labels_match_ignoring_case_as_on_github(tmp_path: Path) -> None:
    write_repo(
        tmp_path,
        workflow("""\
        on: push
        jobs:
          lane: {runs-on: Tinyland-Nix, steps: [{run: echo}]}
          hosted: {runs-on: Ubuntu-Latest, steps: [{run: echo}]}
          extra: {runs-on: [Self-Hosted, TINYLAND-NIX], steps: [{run: echo}]}
        """),
    )
    assert findings(tmp_path, "lanes.known_labels") == []
    (finding,) = findings(tmp_path, "lanes.scale_set_label_alone", "LANE002")
    assert finding.job == "extra"
