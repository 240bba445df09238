"""The release gate fails closed: each way evidence could pass without proving its commit.

Real git repositories, the real CLI. Every test here is a bypass that passed the gate before.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from harness.cli import main
from harness.contract import BUNDLED_CONTRACT
from harness.evidence import KEY_ENV, read_evidence, write_evidence
from harness.report.model import RepoInfo, Report
from harness.results import CaseResult, Status
from harness.worktree import tree_state

KEY = "release-key-for-bypass-tests"
WORKFLOW = """\
name: ci
on: push
jobs:
  build:
    runs-on: tinyland-nix
    steps:
      - run: echo hello
"""
HEAVY = """\
name: ci
on: push
jobs:
  build:
    runs-on: tinyland-nix
    steps:
      - run: cargo build --release --workspace
"""


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True, timeout=30
    )
    return done.stdout.strip()


def contract(suites: str = "[workflows]", extra: str = "") -> str:
    """The bundled contract requiring `suites` (signatures required: the default)."""
    text = BUNDLED_CONTRACT.read_text(encoding="utf-8")
    start, end = text.index("publication:"), text.index("state:")
    block = (
        f"publication:\n  flakehub:\n    after: [validate, gate]\n    suites: {suites}\n"
        f"    max_age: 24h\n{extra}"
    )
    return text[:start] + block + text[end:]


def make_repo(root: Path, workflow: str | None = WORKFLOW, fleet: str | None = None) -> Path:
    """A committed repository (one workflow unless None, and a fleet.yaml)."""
    repo = root / "repo"
    repo.mkdir(parents=True)
    if workflow is not None:
        (repo / ".github" / "workflows").mkdir(parents=True)
        (repo / ".github" / "workflows" / "ci.yml").write_text(workflow, encoding="utf-8")
    (repo / "fleet.yaml").write_text(fleet or contract(), encoding="utf-8")
    (repo / "README").write_text("hello\n", encoding="utf-8")
    _git(root, "init", "-q", str(repo))
    _git(repo, "config", "user.email", "ci@example.invalid")
    _git(repo, "config", "user.name", "CI")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "initial")
    return repo


@pytest.fixture(autouse=True)
def _signing_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, KEY)
    for name in ("RUNNER_ENVIRONMENT", "ACTIONS_RUNNER_POD_NAME", "HARNESS_ON_RUNNER"):
        monkeypatch.delenv(name, raising=False)


def check(repo: Path, evidence: Path, *extra: str) -> int:
    return main(
        [
            "check",
            "--repo",
            str(repo),
            "--suite",
            "workflows",
            "--evidence",
            str(evidence),
            "--format",
            "json",
            "--output",
            str(evidence.with_suffix(".out.json")),
            *extra,
        ]
    )


def gate(repo: Path, evidence: Path, *extra: str) -> int:
    return main(["gate", "--evidence", str(evidence), "--repo", str(repo), *extra])


def refusals(capsys: pytest.CaptureFixture[str]) -> list[str]:
    return [line for line in capsys.readouterr().err.splitlines() if "REFUSED" in line]


def test_signed_evidence_of_a_clean_commit_passes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(tmp_path)
    evidence = tmp_path / "e.json"
    assert check(repo, evidence) == 0
    capsys.readouterr()
    assert gate(repo, evidence) == 0, capsys.readouterr().err
    result = read_evidence(evidence)["results"][0]
    assert result["examined"]["files"] == 1 and result["examined"]["jobs"] == 1


# -- an empty key is an error, unsigned evidence is refused ---------------------------------


def test_an_empty_key_is_an_error_not_no_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = make_repo(tmp_path)
    evidence = tmp_path / "e.json"
    assert check(repo, evidence) == 0
    capsys.readouterr()
    monkeypatch.setenv(KEY_ENV, "")
    assert gate(repo, evidence) == 2
    err = capsys.readouterr().err
    assert err == (
        f"flywheel-harness: {KEY_ENV} is set but empty: set the real key, or unset "
        "the variable to run without signing\n"
    )
    assert check(repo, tmp_path / "other.json") == 2
    assert not (tmp_path / "other.json").exists()


def test_unsigned_evidence_is_refused_by_default_and_with_require_signature(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(KEY_ENV)
    repo = make_repo(tmp_path)
    evidence = tmp_path / "e.json"
    assert check(repo, evidence) == 0
    assert "signature" not in read_evidence(evidence)
    capsys.readouterr()
    # the contract names a FlakeHub publish: require_signature defaults to true
    assert gate(repo, evidence) == 1
    assert any("signed evidence is required" in line for line in refusals(capsys))
    # a contract that opts out passes unsigned evidence, unless the flag asks for a signature
    relaxed = make_repo(
        tmp_path / "relaxed", fleet=contract(extra="    require_signature: false\n")
    )
    assert check(relaxed, evidence) == 0
    capsys.readouterr()
    assert gate(relaxed, evidence) == 0
    assert gate(relaxed, evidence, "--require-signature") == 1
    assert any("signed evidence is required" in line for line in refusals(capsys))


# -- git cannot tell: unknown refuses ---------------------------------------------------------


def test_a_failing_git_status_is_unknown_and_refuses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(tmp_path)
    evidence = tmp_path / "e.json"
    assert check(repo, evidence) == 0
    (repo / ".git" / "index").write_bytes(b"DIRC corrupt index")
    state = tree_state(repo)
    assert state.dirty is None and "git status failed" in state.why
    capsys.readouterr()
    assert gate(repo, evidence) == 1
    assert any(
        "cannot tell whether" in line and "unknown is not clean" in line
        for line in refusals(capsys)
    )
    # evidence made on such a tree records dirty as unknown, and is refused for it
    after = tmp_path / "after.json"
    check(repo, after)
    assert read_evidence(after)["repo"]["dirty"] is None


def test_evidence_recording_an_unknown_tree_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(tmp_path)
    evidence = tmp_path / "e.json"
    assert check(repo, evidence) == 0
    data = read_evidence(evidence)
    report = Report.from_json({k: v for k, v in data.items() if k != "signature"})
    report.repo = RepoInfo(report.repo.path, report.repo.commit, None)
    write_evidence(report, evidence, KEY.encode())
    capsys.readouterr()
    assert gate(repo, evidence) == 1
    assert refusals(capsys) == [
        "gate: REFUSED: evidence does not record whether its tree was clean (dirty: unknown)"
    ]


@pytest.mark.parametrize("flag", ["--skip-worktree", "--assume-unchanged"])
def test_index_flags_cannot_hide_an_edit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flag: str
) -> None:
    repo = make_repo(tmp_path)
    evidence = tmp_path / "e.json"
    assert check(repo, evidence) == 0
    _git(repo, "update-index", flag, "README")
    assert tree_state(repo).dirty is False  # flagged but unchanged: still clean
    (repo / "README").write_text("changed after the evidence\n", encoding="utf-8")
    assert _git(repo, "status", "--porcelain") == ""  # git status itself sees nothing
    capsys.readouterr()
    assert gate(repo, evidence) == 1
    lines = refusals(capsys)
    assert len(lines) == 1
    assert "skip-worktree or assume-unchanged differ from HEAD (first: README)" in lines[0]


# -- the scenarios must be the harness's own --------------------------------------------------


def _fake_scenarios(root: Path) -> Path:
    """A `workflows` suite that checks only that files parse: no placement rule."""
    directory = root / "fake"
    directory.mkdir()
    (directory / "workflows.scenario.yaml").write_text(
        "suite: workflows\ncases:\n  - name: readable\n    check: workflows.readable\n",
        encoding="utf-8",
    )
    (directory / "placement.scenario.yaml").write_text(
        "suite: placement\ncases:\n  - name: readable\n    check: workflows.readable\n",
        encoding="utf-8",
    )
    return directory


def test_evidence_from_other_scenarios_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(tmp_path, workflow=HEAVY, fleet=contract(suites="[workflows, placement]"))
    fake = _fake_scenarios(tmp_path)
    evidence = tmp_path / "e.json"
    # the bundled placement suite fails this commit (heavy build off the heavy lane) ...
    assert check(repo, tmp_path / "real.json", "--suite", "placement") == 1
    # ... the fake one passes it, signed
    assert (
        main(
            [
                "check",
                "--repo",
                str(repo),
                "--scenarios",
                str(fake),
                "--evidence",
                str(evidence),
                "--output",
                str(tmp_path / "out.txt"),
            ]
        )
        == 0
    )
    data = read_evidence(evidence)
    assert "signature" in data and len(data["scenarios"]["sha256"]) == 64
    capsys.readouterr()
    assert gate(repo, evidence) == 1
    lines = refusals(capsys)
    assert any(
        "suite `placement` did not run the installed harness's bundled scenarios" in line
        for line in lines
    )
    assert any(data["scenarios"]["sha256"] in line for line in lines)


def test_a_contract_can_accept_a_scenario_set_by_digest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = _fake_scenarios(tmp_path)
    probe = make_repo(tmp_path / "probe")
    first = tmp_path / "first.json"
    main(
        [
            "check",
            "--repo",
            str(probe),
            "--scenarios",
            str(fake),
            "--suite",
            "workflows",
            "--evidence",
            str(first),
            "--output",
            str(tmp_path / "out.txt"),
        ]
    )
    digest = read_evidence(first)["scenarios"]["sha256"]
    repo = make_repo(tmp_path, fleet=contract(extra=f"    scenarios_sha256: [{digest}]\n"))
    evidence = tmp_path / "e.json"
    assert (
        main(
            [
                "check",
                "--repo",
                str(repo),
                "--scenarios",
                str(fake),
                "--suite",
                "workflows",
                "--evidence",
                str(evidence),
                "--output",
                str(tmp_path / "out.txt"),
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert gate(repo, evidence) == 0, capsys.readouterr().err


# -- a required suite must have examined something --------------------------------------------


def test_a_repository_without_workflows_fails_and_the_gate_refuses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(
        tmp_path, workflow=None, fleet=contract(suites="[workflows, placement, publication]")
    )
    evidence = tmp_path / "e.json"
    assert (
        main(
            [
                "check",
                "--repo",
                str(repo),
                "--evidence",
                str(evidence),
                "--suite",
                "workflows",
                "--suite",
                "placement",
                "--suite",
                "publication",
            ]
        )
        == 1
    )
    out = capsys.readouterr().out
    assert "WF001" in out and "no GitHub Actions workflows in this repository" in out
    assert gate(repo, evidence) == 1
    lines = refusals(capsys)
    assert any(
        "required suite `placement` examined nothing: every case was skipped" in line
        for line in lines
    )
    assert any("case workflows::files-readable failed" in line for line in lines)


def test_a_passed_case_that_examined_nothing_does_not_count(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(tmp_path)
    evidence = tmp_path / "e.json"
    assert check(repo, evidence) == 0
    data = read_evidence(evidence)
    report = Report.from_json({k: v for k, v in data.items() if k != "signature"})
    for result in report.results:
        result.examined = {}
    write_evidence(report, evidence, KEY.encode())
    capsys.readouterr()
    assert gate(repo, evidence) == 1
    assert refusals(capsys) == [
        "gate: REFUSED: required suite `workflows` examined nothing: "
        "no passed case examined any input (files, jobs, stacks, "
        "endpoints)"
    ]


def test_check_from_a_subfolder_checks_the_top_level(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(tmp_path)
    (repo / "docs").mkdir()
    evidence = tmp_path / "e.json"
    assert check(repo / "docs", evidence) == 0
    err = capsys.readouterr().err
    assert f"note: {repo / 'docs'} is inside the git checkout {repo}: checking its top level" in err
    data = read_evidence(evidence)
    assert data["repo"]["path"] == str(repo)
    assert data["results"][0]["examined"]["files"] == 1


def test_check_of_a_folder_that_is_no_repository_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    assert main(["check", "--repo", str(plain), "--suite", "workflows"]) == 2
    assert capsys.readouterr().err == (
        f"flywheel-harness: --repo {plain}: not a repository (not a git checkout, and no "
        ".github, fleet.yaml or *.tf files in it)\n"
    )


# -- evidence is written whole -----------------------------------------------------------------


def test_evidence_is_replaced_whole_never_rewritten_in_place(tmp_path: Path) -> None:
    report = Report(
        RepoInfo("/r", "a" * 40, False),
        "fleet.yaml",
        "b" * 64,
        [CaseResult("workflows", "readable", Status.PASSED)],
        created="x",
    )
    target = tmp_path / "e.json"
    write_evidence(report, target, KEY.encode())
    with target.open(encoding="utf-8") as before:
        report.results.append(CaseResult("workflows", "needs", Status.PASSED))
        write_evidence(report, target, KEY.encode())
        # a reader of the old file still holds the whole old document (rename, not truncate)
        assert len(json.loads(before.read())["results"]) == 1
    assert len(json.loads(target.read_text(encoding="utf-8"))["results"]) == 2
    assert [p.name for p in tmp_path.iterdir()] == ["e.json"]  # no temp file left behind
    assert oct(target.stat().st_mode & 0o777) == "0o644"


def test_a_failed_evidence_write_leaves_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    report = Report(RepoInfo("/r", "a" * 40, False), "fleet.yaml", "b" * 64, [], created="x")
    target = tmp_path / "e.json"
    write_evidence(report, target, KEY.encode())
    old = target.read_text(encoding="utf-8")

    def no_space(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", no_space)
    with pytest.raises(OSError):
        write_evidence(report, target, KEY.encode())
    assert target.read_text(encoding="utf-8") == old
    assert [p.name for p in tmp_path.iterdir()] == ["e.json"]
