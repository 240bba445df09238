"""Scripts parsed ahead by a helper are the scripts the rules would parse themselves."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from benchmarks.bench_check import write_corpus
from harness import helper_process
from harness.cli import main
from harness.github import scripts_ahead, shell
from harness.github.repo import NON_BASH_SHELLS, RepoModel


@pytest.fixture(autouse=True)
def _one_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    """pytest-xdist runs a thread beside the tests; the work here takes no lock."""
    monkeypatch.setattr(helper_process, "_alone", lambda: True)


def _forget_parses() -> None:
    shell._PARSED.clear()
    shell._commands.cache_clear()
    shell._filled.cache_clear()


def _model_scripts(repo: Path) -> set[tuple[str, int]]:
    model = RepoModel(repo)
    return {
        (step.run, step.run_line or step.line)
        for workflow in model.workflows.values()
        for job in workflow.jobs.values()
        for step in job.steps
        if step.run and (step.shell or "bash") not in NON_BASH_SHELLS
    }


def test_the_quick_look_finds_each_script_where_the_model_does(tmp_path: Path) -> None:
    repo = write_corpus(tmp_path / "repo", 12)
    (repo / ".github" / "workflows" / "styles.yml").write_text(
        "on: push\n"
        "jobs:\n"
        "  a:\n"
        "    runs-on: tinyland-nix\n"
        "    steps:\n"
        "      - run: nix build .#plain\n"
        "      - run: 'nix build .#quoted'\n"
        "      - run: >\n"
        "          nix build\n"
        "          .#folded\n"
        "      - name: literal\n"
        "        run: |\n"
        "          nix flake check\n"
        "          echo ${{ matrix.x }}\n",
        encoding="utf-8",
    )
    found = {
        pair
        for path in sorted((repo / ".github" / "workflows").iterdir())
        for pair in scripts_ahead.run_scripts(path, repo)
    }
    wanted = _model_scripts(repo)
    assert len(wanted) > 20
    assert wanted <= found


def test_a_check_reads_the_same_with_and_without_the_helper(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = write_corpus(tmp_path / "repo", 40)
    args = ["check", "--repo", str(repo), "--format", "json"]
    args += ["--suite", "workflows", "--suite", "placement", "--suite", "bootstrap"]
    forks: list[int] = []
    start = helper_process.start

    def counted(count: int, work: object) -> object:
        forks.append(count)
        return start(count, work)  # type: ignore[arg-type]

    monkeypatch.setattr(helper_process, "start", counted)
    _forget_parses()
    code = main(args)
    ahead = json.loads(capsys.readouterr().out)
    assert forks == [43]  # the helper was asked to read all 40 workflows and 3 actions, once
    assert len(shell._PARSED) > 40

    _forget_parses()
    monkeypatch.setattr(helper_process, "available", lambda: False)
    assert main(args) == code
    alone = json.loads(capsys.readouterr().out)
    for report in (ahead, alone):
        report.pop("created")
        for result in report["results"]:
            result.pop("duration")
    assert ahead == alone
    assert any(result["findings"] for result in alone["results"])  # something was found


def test_parsed_ahead_is_what_a_cold_parse_gives(tmp_path: Path) -> None:
    repo = write_corpus(tmp_path / "repo", 35)
    scripts = sorted(_model_scripts(repo))
    _forget_parses()
    helper = scripts_ahead.start(repo)
    assert helper is not None
    parsed_here: list[str] = []
    parse = shell._parse

    def counted(script: str, first_line: int, depth: int) -> object:
        if depth == 0:
            parsed_here.append(script)
        return parse(script, first_line, depth)

    shell._parse = counted  # type: ignore[assignment]
    try:
        with scripts_ahead.arriving(helper):
            ahead = [shell.commands(script, line) for script, line in scripts]
            late = shell.commands("echo in no workflow file", 1)  # parsed here, no hang
    finally:
        shell._parse = parse
    assert parsed_here == ["echo in no workflow file"]  # every other script came ahead
    assert [c.words for c in late] == [("echo", "in", "no", "workflow", "file")]
    assert shell.AHEAD == []  # nothing waits for the helper after the block
    assert not helper.working
    _forget_parses()
    assert ahead == [shell.commands(script, line) for script, line in scripts]


def test_a_file_that_cannot_be_read_holds_no_scripts(tmp_path: Path) -> None:
    folder = tmp_path / ".github" / "workflows"
    folder.mkdir(parents=True)
    os.mkfifo(folder / "pipe.yml")  # reading it would wait forever
    (folder / "zero.yml").symlink_to("/dev/zero")
    (folder / "broken.yml").write_text("jobs: [\n  run: x\n", encoding="utf-8")
    for name in ("pipe.yml", "zero.yml"):
        assert scripts_ahead.run_scripts(folder / name, tmp_path) == []
    # a YAML error ends the look: what came before it is kept
    assert scripts_ahead.run_scripts(folder / "broken.yml", tmp_path) == [("x", 2)]


def test_few_workflows_are_not_worth_a_helper(tmp_path: Path) -> None:
    repo = write_corpus(tmp_path / "repo", scripts_ahead.READ_AHEAD_MIN_WORKFLOWS - 1)
    assert scripts_ahead.start(repo) is None
    assert scripts_ahead.workflow_files(tmp_path / "nothing") == []


def test_a_check_from_a_subfolder_reads_ahead_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import subprocess

    repo = write_corpus(tmp_path / "repo", 33)
    subprocess.run(["git", "init", "-q", str(repo)], check=True, timeout=60)
    (repo / "docs").mkdir()
    roots: list[Path] = []
    start = scripts_ahead.start

    def seen(root: Path) -> object:
        roots.append(root)
        return start(root)

    monkeypatch.setattr(scripts_ahead, "start", seen)
    _forget_parses()
    args = ["check", "--repo", str(repo / "docs"), "--suite", "placement", "--format", "json"]
    main(args)
    assert json.loads(capsys.readouterr().out)["summary"]
    assert roots == [repo / "docs", repo]  # nothing to read from the subfolder: the top level
    assert len(shell._PARSED) > 33


def test_a_live_only_run_stops_the_helper(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from harness import scheduler

    repo = write_corpus(tmp_path / "repo", 33)
    closed: list[bool] = []
    monkeypatch.setattr(scheduler, "static_only", lambda suites: [])
    monkeypatch.setattr(scheduler, "run_suites", lambda *args, **kwargs: [])
    close = helper_process.Helper.close

    def spy(self: helper_process.Helper[object]) -> None:
        closed.append(self._pid > 0)
        close(self)

    monkeypatch.setattr(helper_process.Helper, "close", spy)
    main(["check", "--repo", str(repo), "--suite", "placement", "--format", "json"])
    capsys.readouterr()
    assert closed[0] is True  # a helper still at work was stopped: nothing reads its parses
