"""Scripts parsed ahead by a helper are the scripts the rules would parse themselves."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from benchmarks.bench_check import write_corpus
from harness import helper_process
from harness.cli import main
from harness.github import loader, scripts_ahead, shell
from harness.github.repo import NON_BASH_SHELLS, RepoModel
from tests.helpers.cli import python_output


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


def test_the_model_hands_each_file_s_scripts_on_as_it_reads_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
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
    told: list[list[tuple[str, int]]] = []
    monkeypatch.setattr(loader, "SCRIPTS_READ", [told.append])
    wanted = _model_scripts(repo)
    assert len(wanted) > 20
    assert len(told) == 13 + 3  # one call per workflow (12 and styles.yml) and action
    assert wanted <= {pair for scripts in told for pair in scripts}
    assert [
        ("nix build .#plain", 6),
        ("nix build .#quoted", 7),
        ("nix build .#folded\n", 9),
        ("nix flake check\necho ${{ matrix.x }}\n", 13),
    ] in told


def test_a_check_reads_the_same_with_and_without_the_helper(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = write_corpus(tmp_path / "repo", 40)
    args = ["check", "--repo", str(repo), "--format", "json"]
    args += ["--suite", "workflows", "--suite", "placement", "--suite", "bootstrap"]
    fed: list[int] = []
    feed = helper_process.Fed.feed

    def counted(self: helper_process.Fed[object, object], item: object) -> None:
        fed.append(os.getpid())
        feed(self, item)

    monkeypatch.setattr(helper_process.Fed, "feed", counted)
    _forget_parses()
    code = main(args)
    ahead = json.loads(capsys.readouterr().out)
    assert len(fed) == 43  # the helper was handed all 40 workflows and 3 actions, once
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
    RepoModel(repo)  # hands its scripts to the helper as it reads them
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
    assert loader.SCRIPTS_READ == []  # nothing is handed to it any more
    assert not helper.working
    _forget_parses()
    assert ahead == [shell.commands(script, line) for script, line in scripts]


def test_few_workflows_are_not_worth_a_helper(tmp_path: Path) -> None:
    repo = write_corpus(tmp_path / "repo", scripts_ahead.READ_AHEAD_MIN_WORKFLOWS - 1)
    assert scripts_ahead.start(repo) is None
    assert not scripts_ahead.worth_a_helper(tmp_path / "nothing")
    write_corpus(tmp_path / "more", scripts_ahead.READ_AHEAD_MIN_WORKFLOWS)
    assert scripts_ahead.worth_a_helper(tmp_path / "more")


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
    close = helper_process.Fed.close

    def spy(self: helper_process.Fed[object, object]) -> None:
        closed.append(self._pid > 0)
        close(self)

    monkeypatch.setattr(helper_process.Fed, "close", spy)
    main(["check", "--repo", str(repo), "--suite", "placement", "--format", "json"])
    capsys.readouterr()
    assert closed[0] is True  # a helper still at work was stopped: nothing reads its parses


def test_with_a_helper_this_process_never_loads_a_grammar(tmp_path: Path) -> None:
    repo = write_corpus(tmp_path / "repo", 40)
    program = (
        "import io, sys, contextlib\n"
        "from harness.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    main(['check', '--repo', {str(repo)!r}, '--suite', 'placement',"
        " '--suite', 'bootstrap', '--format', 'json'])\n"
        "print('tree_sitter' in sys.modules, 'tree_sitter_bash' in sys.modules)\n"
    )
    loaded = python_output(program).split()
    # every script was parsed by the helper; without a second CPU, here
    expected = str(not helper_process.available())
    assert loaded == [expected, expected]
