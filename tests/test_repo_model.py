"""The GitHub Actions model on fixture repositories: every runs-on form, matrices, reusable
workflows with caller inputs, composite actions, triggers and unreadable files."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.github.labels import PARTIAL, RESOLVED, UNKNOWN
from harness.github.repo import (
    MAX_ACTION_DEPTH,
    MAX_CALL_CONTEXTS,
    JobInstance,
    RepoModel,
    local_path,
)

REPOS = Path(__file__).parent / "fixtures" / "repos"


def model(name: str) -> RepoModel:
    return RepoModel(REPOS / name)


def instance(repo: RepoModel, display_id: str, file: str | None = None) -> JobInstance:
    found = [
        i
        for i in repo.instances
        if i.display_id == display_id and (file is None or i.job.file.endswith(file))
    ]
    assert len(found) == 1, [i.display_id for i in repo.instances]
    return found[0]


def labels(repo: RepoModel, display_id: str) -> list[tuple[str, ...]]:
    return [v.labels.labels for v in instance(repo, display_id).variants]


# -- runs-on forms -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def forms() -> RepoModel:
    return model("runs_on_forms")


@pytest.mark.parametrize(
    ("job", "expected"),
    [
        ("plain", [("tinyland-nix",)]),
        ("hosted", [("ubuntu-latest",)]),
        ("listed", [("self-hosted", "tinyland-nix")]),
        ("grouped", [("tinyland-docker",)]),
        ("from-matrix", [("tinyland-nix",), ("tinyland-nix-heavy",)]),
        ("matrix-list", [("self-hosted", "linux"), ("ubuntu-latest",)]),
        ("from-json", [("tinyland-nix",)]),
        ("formatted", [("tinyland-nix",), ("tinyland-docker",)]),
        ("json-input", [("tinyland-nix-heavy",)]),
        ("plain-input", [("tinyland-docker",)]),
    ],
)
def test_resolved_runs_on(forms: RepoModel, job: str, expected: list[tuple[str, ...]]) -> None:
    assert labels(forms, job) == expected
    assert all(v.labels.certainty == RESOLVED for v in instance(forms, job).variants)


def test_group_form_keeps_the_group(forms: RepoModel) -> None:
    grouped = instance(forms, "grouped").variants[0].labels
    assert grouped.group == "honey-runners"
    assert grouped.text() == "group honey-runners: tinyland-docker"
    only = instance(forms, "group-only").variants[0].labels
    assert only.group == "honey-runners" and only.labels == ()


def test_unresolvable_runs_on_is_reported_not_guessed(forms: RepoModel) -> None:
    unknown = instance(forms, "unresolvable").variants[0].labels
    assert unknown.certainty == UNKNOWN
    assert unknown.labels == ()
    assert unknown.unresolved == ("${{ needs.plan.outputs.lane }}",)
    partial = instance(forms, "from-vars").variants[0].labels
    assert partial.certainty == PARTIAL
    assert partial.labels == ("self-hosted",)
    assert partial.unresolved == ("${{ vars.RUNNER }}",)


def test_job_lines_are_kept(forms: RepoModel) -> None:
    job = forms.workflows[".github/workflows/forms.yml"].jobs["listed"]
    assert (job.line, job.runs_on_line) == (12, 13)
    assert job.steps[0].line == 15
    assert job.steps[0].run_line == 15


# -- matrices ------------------------------------------------------------------------------


def test_documented_include_semantics_in_a_workflow() -> None:
    repo = model("matrix_include")
    combos = [v.matrix for v in instance(repo, "documented").variants]
    assert len(combos) == 6
    assert {"fruit": "banana"} in combos
    assert {"fruit": "banana", "animal": "cat"} in combos


def test_include_and_exclude_pick_lanes() -> None:
    repo = model("matrix_include")
    assert labels(repo, "lanes") == [
        ("tinyland-nix",),
        ("tinyland-nix-heavy",),
        ("macos-14",),
        ("windows-latest",),
    ]
    assert labels(repo, "include-only") == [("tinyland-nix",), ("tinyland-docker",)]
    assert labels(repo, "from-json-matrix") == [("tinyland-nix",), ("tinyland-dind",)]


def test_runtime_matrix_is_unknown() -> None:
    variant = instance(model("matrix_include"), "runtime-matrix").variants[0]
    assert variant.labels.certainty == UNKNOWN
    assert variant.labels.unresolved == ("${{ matrix.lane }}",)
    assert "needs" in variant.labels.reason


def test_static_axis_of_a_runtime_matrix_still_resolves() -> None:
    repo = model("matrix_include")
    assert labels(repo, "partial-matrix") == [
        ("tinyland-nix",),
        ("ubuntu-latest",),
        ("tinyland-docker",),
    ]
    unknown = instance(repo, "partial-unknown-key").variants[0].labels
    assert unknown.certainty == UNKNOWN
    assert "matrix.runner is not a static axis" in unknown.reason


# -- reusable workflows --------------------------------------------------------------------


@pytest.fixture(scope="module")
def reusable() -> RepoModel:
    return model("reusable")


def test_caller_matrix_flows_through_with_into_callee_runs_on(reusable: RepoModel) -> None:
    build = instance(reusable, "build/compile")
    assert [v.labels.labels for v in build.variants] == [("tinyland-nix",), ("tinyland-nix-heavy",)]
    assert [v.caller_matrix for v in build.variants] == [
        {"lane": "tinyland-nix"},
        {"lane": "tinyland-nix-heavy"},
    ]
    assert build.entry.id == "build"
    assert build.entry_file == ".github/workflows/caller.yml"
    assert build.job.file == ".github/workflows/build.yml"


def test_callee_default_applies_without_with(reusable: RepoModel) -> None:
    assert labels(reusable, "defaults/compile") == [("tinyland-nix",)]


def test_nested_reusable_workflows(reusable: RepoModel) -> None:
    nested = instance(reusable, "nested/inner/compile")
    assert [c.id for c in nested.chain] == ["nested", "inner"]
    assert [v.labels.labels for v in nested.variants] == [("tinyland-docker",)]


def test_input_fed_matrix_in_callee(reusable: RepoModel) -> None:
    assert labels(reusable, "json/fan") == [("tinyland-nix",), ("tinyland-dind",)]


def test_runtime_input_is_unknown_not_the_default(reusable: RepoModel) -> None:
    variant = instance(reusable, "runtime/compile").variants[0]
    assert variant.labels.certainty == UNKNOWN
    assert variant.labels.labels == ()
    assert variant.labels.unresolved == ("${{ inputs.runner }}",)


def test_called_workflows_are_not_checked_standalone(reusable: RepoModel) -> None:
    ids = [i.display_id for i in reusable.instances]
    assert "compile" not in ids
    assert "fan" not in ids
    assert not any(i.display_id.startswith("remote") for i in reusable.instances)


def test_callers_have_no_steps_of_their_own(reusable: RepoModel) -> None:
    jobs = {(w.file, j.id) for w, j in reusable.jobs_with_steps()}
    assert (".github/workflows/caller.yml", "build") not in jobs
    assert (".github/workflows/build.yml", "compile") in jobs


def test_reusable_workflows_calling_each_other_terminate(tmp_path: Path) -> None:
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "a.yml").write_text(
        "on: [push, workflow_call]\njobs:\n  call-b: {uses: ./.github/workflows/b.yml}\n"
        "  own: {runs-on: tinyland-nix, steps: [{run: echo}]}\n"
    )
    (workflows / "b.yml").write_text(
        "on: workflow_call\njobs:\n  call-a: {uses: ./.github/workflows/a.yml}\n"
        "  leaf: {runs-on: tinyland-docker, steps: [{run: echo}]}\n"
    )
    model = RepoModel(tmp_path)
    ids = sorted(i.display_id for i in model.instances)
    assert ids == ["call-b/leaf", "own"]
    assert [p.message for p in model.call_problems] == [
        "reusable workflows call each other in a cycle: .github/workflows/a.yml -> "
        ".github/workflows/b.yml -> .github/workflows/a.yml"
    ]


def test_nested_caller_matrices_are_bounded(tmp_path: Path) -> None:
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    matrix = "    strategy: {matrix: {a: [1, 2, 3, 4, 5, 6, 7, 8], b: [1, 2, 3, 4, 5, 6, 7, 8]}}\n"
    inputs = "on:\n  workflow_call:\n    inputs: {x: {type: string}}\njobs:\n"
    (workflows / "top.yml").write_text(
        "on: push\njobs:\n  call:\n" + matrix + "    uses: ./.github/workflows/mid.yml\n"
        "    with: {x: '${{ matrix.a }}${{ matrix.b }}'}\n"
    )
    (workflows / "mid.yml").write_text(
        inputs + "  call:\n" + matrix + "    uses: ./.github/workflows/leaf.yml\n"
        "    with: {x: '${{ inputs.x }}${{ matrix.a }}${{ matrix.b }}'}\n"
    )
    (workflows / "leaf.yml").write_text(
        inputs + "  leaf:\n" + matrix + "    runs-on: tinyland-nix\n"
        "    steps: [{run: 'echo ${{ inputs.x }}'}]\n"
    )
    (leaf,) = RepoModel(tmp_path).instances
    # 64 x 64 distinct calls into leaf.yml are cut to MAX_CALL_CONTEXTS, each with 64 combos
    assert len(leaf.variants) == MAX_CALL_CONTEXTS * 64
    assert len({v.inputs["x"] for v in leaf.variants}) == MAX_CALL_CONTEXTS


# -- composite actions ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def composite() -> RepoModel:
    return model("composite")


def job_of(repo: RepoModel, job_id: str):  # type: ignore[no-untyped-def]
    return next(j for _, j in repo.jobs_with_steps() if j.id == job_id)


def test_nested_composite_actions_are_expanded(composite: RepoModel) -> None:
    steps = composite.effective_steps(job_of(composite, "via-nested"))
    uses = [(s.step.uses, s.job_step, s.via) for s in steps if s.step.uses]
    assert (
        "DeterminateSystems/nix-installer-action@v16",
        2,
        (".github/actions/nix-job/action.yml", ".github/actions/setup-nix/action.yml"),
    ) in uses
    runs = [(s.step.run, s.step.file) for s in steps if s.step.run]
    assert ("nix --version", ".github/actions/nix-job/action.yml") in runs
    # job-level order is kept: the action's steps come before step 3
    assert [s.job_step for s in steps] == sorted(s.job_step for s in steps)


def test_action_cycle_terminates(composite: RepoModel) -> None:
    steps = composite.effective_steps(job_of(composite, "cycle"))
    files = [s.step.file for s in steps]
    assert files.count(".github/actions/loop-a/action.yml") == 2
    assert files.count(".github/actions/loop-b/action.yml") == 2


def test_action_depth_is_bounded(composite: RepoModel) -> None:
    steps = composite.effective_steps(job_of(composite, "deep"))
    assert max(len(s.via) for s in steps) == MAX_ACTION_DEPTH
    assert not any(s.step.file.endswith("deep-11/action.yml") for s in steps)


def test_non_composite_action_adds_no_steps(composite: RepoModel) -> None:
    steps = composite.effective_steps(job_of(composite, "node"))
    assert len(steps) == 1
    action = composite.action(".github/actions/plain-node")
    assert action is not None and not action.composite and action.using == "node20"


def test_composite_step_lines(composite: RepoModel) -> None:
    action = composite.action(".github/actions/build")
    assert action is not None
    step = action.steps[0]
    assert (step.line, step.run_line) == (6, 8)
    nix = [
        c
        for c in composite.effective_steps(job_of(composite, "via-build"))[1].commands()
        if c.name == "nix"
    ]
    assert nix[0].line == 9


# -- triggers and unreadable files ---------------------------------------------------------


def test_on_forms() -> None:
    repo = model("triggers")
    on = {file.rsplit("/", 1)[-1]: w.on for file, w in repo.workflows.items()}
    assert on["string.yml"] == {"push": None}
    assert on["list.yml"] == {"push": None, "pull_request": None}
    assert set(on["mapping.yml"]) == {"push", "pull_request", "workflow_dispatch", "schedule"}
    assert on["mapping.yml"]["push"] == {"branches": ["main"]}
    assert on["yes.yml"] == {"push": None}
    call_only = repo.workflows[".github/workflows/call-only.yml"]
    both = repo.workflows[".github/workflows/call-and-push.yml"]
    assert call_only.reusable and call_only.callable_only
    assert both.reusable and not both.callable_only
    assert not repo.problems


def test_uncalled_callable_workflow_is_checked_with_its_defaults() -> None:
    repo = model("triggers")
    assert any(i.job.file.endswith("call-only.yml") for i in repo.instances)


def test_unreadable_files_are_problems_and_the_rest_still_loads() -> None:
    repo = model("broken")
    problems = {p.file: (p.line, p.message) for p in repo.problems}
    assert problems[".github/workflows/dup.yml"][0] == 6
    assert "duplicate key 'runs-on'" in problems[".github/workflows/dup.yml"][1]
    assert problems[".github/workflows/list.yml"] == (1, "a workflow must be a YAML mapping")
    assert problems[".github/workflows/syntax.yaml"][0] == 6
    assert "no `on:`" in problems[".github/workflows/noon.yml"][1]
    assert "no `steps`" in problems[".github/workflows/nosteps.yml"][1]
    assert ".github/workflows/empty.yml" in problems
    assert problems[".github/actions/bad/action.yml"][0] == 7
    assert ".github/workflows/README.md" not in problems
    assert list(repo.workflows) == [".github/workflows/good.yml"]


def test_missing_workflows_directory(tmp_path: Path) -> None:
    repo = RepoModel(tmp_path)
    assert repo.workflows == {} and repo.problems == [] and repo.instances == []


@pytest.mark.parametrize(
    ("uses", "path"),
    [
        ("./.github/actions/x", ".github/actions/x"),
        ("./.github/actions/x/", ".github/actions/x"),
        ("./.github/workflows/b.yml", ".github/workflows/b.yml"),
        ("./", ""),
        ("actions/checkout@v4", None),
        ("docker://alpine", None),
        (None, None),
    ],
)
def test_local_path(uses: str | None, path: str | None) -> None:
    assert local_path(uses) == path


def test_runs_on_without_expressions_resolves_once_for_every_variant(tmp_path: Path) -> None:
    from harness.github.labels import same_in_every_variant
    from tests.helpers.repos import workflow, write_repo

    assert same_in_every_variant("tinyland-nix")
    assert same_in_every_variant(["self-hosted", {"group": "g", "labels": ["x"]}])
    assert not same_in_every_variant(["self-hosted", "${{ matrix.os }}"])
    assert not same_in_every_variant({"group": "${{ inputs.group }}"})
    write_repo(
        tmp_path,
        workflow("""\
        on: push
        jobs:
          fixed:
            strategy: {matrix: {os: [a, b, c]}}
            runs-on: [self-hosted, tinyland-nix]
            steps: [{run: make}]
          moving:
            strategy: {matrix: {os: [a, b]}}
            runs-on: ${{ matrix.os }}
            steps: [{run: make}]
        """),
    )
    by_job = {i.job.id: i.variants for i in RepoModel(tmp_path).instances}
    fixed = [v.labels for v in by_job["fixed"]]
    assert len(fixed) == 3 and all(labels is fixed[0] for labels in fixed)  # resolved once
    assert fixed[0].labels == ("self-hosted", "tinyland-nix")
    assert [v.labels.labels for v in by_job["moving"]] == [("a",), ("b",)]  # per variant
