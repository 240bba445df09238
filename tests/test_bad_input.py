"""Every case of the bad-input corpus ends in its one line: no traceback, no hang, bounded.

Cases run in-process through the CLI's `main` with a clean bound: an alarm fails a case
after 5 s, and the process's peak resident memory may not grow by more than 500 MB in one.
"""

from __future__ import annotations

import re
import resource
import signal
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

import pytest

from harness.cli import main
from harness.contract import BUNDLED_CONTRACT
from tests.bad_input_corpus import BadInput, corpus

CASES = corpus(BUNDLED_CONTRACT.read_text(encoding="utf-8"))
SECONDS = 5
MEGABYTES = 500
CLEAN_WORKFLOW = "on: push\njobs:\n  a:\n    runs-on: tinyland-nix\n    steps: [{run: echo}]\n"
FINDING = re.compile(r"^\S+:\d+(:\d+)?: (error|warning|note): |^\S+: (error|warning|note): ")


class TooSlow(Exception):
    """A case ran past its time bound."""


def _alarm(signum: int, frame: FrameType | None) -> None:
    raise TooSlow(f"over {SECONDS} s")


@pytest.fixture
def bounded() -> Iterator[None]:
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(SECONDS)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < MEGABYTES, f"peak memory grew by {grown_mb:.0f} MB"


def _place(case: BadInput, tmp: Path) -> list[str]:
    """Write the case's file where its kind says; the command line to run."""
    repo = tmp / "repo"
    workflows = repo / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "ci.yml").write_text(CLEAN_WORKFLOW, encoding="utf-8")
    (tmp / "empty").mkdir()
    content = case.data if case.data is not None else case.text.encode("utf-8")
    target = {
        "workflow": workflows / "ci.yml",
        "placement": workflows / "ci.yml",
        "contract": repo / "fleet.yaml",
        "scenario": tmp / "scenarios" / "x.scenario.yaml",
        "evidence": tmp / "evidence.json",
        "render": tmp / "evidence.json",
        "tf": repo / "infra" / "main.tf",
        "argv": tmp / "file.json",
    }[case.kind]
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(content if case.kind != "argv" else b"{}")
    common = ["--repo", str(repo)]
    if case.kind == "argv":
        return case.text.format(repo=repo, file=target, tmp=tmp).split()
    return {
        "workflow": ["check", *common, "--suite", "workflows"],
        "placement": ["check", *common, "--suite", "workflows", "--suite", "placement"],
        "contract": ["check", *common, "--suite", "workflows"],
        "scenario": ["check", *common, "--scenarios", str(target.parent)],
        "evidence": ["gate", *common, "--evidence", str(target)],
        "render": ["evidence", "render", str(target)],
        "tf": ["check", *common, "--suite", "state"],
    }[case.kind]


def test_the_corpus_has_a_hundred_distinct_cases() -> None:
    names = [case.name for case in CASES]
    assert len(names) >= 100
    assert len(set(names)) == len(names)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_bad_input_gets_its_one_line(
    case: BadInput,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    bounded: None,
) -> None:
    argv = _place(case, tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HARNESS_EVIDENCE_KEY", raising=False)
    code = main(argv)
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert code == case.exit, out + err
    pattern = re.compile(case.expect)
    if case.exit == 2:
        lines = [line.removeprefix("flywheel-harness: ") for line in err.splitlines()]
        assert len(lines) == 1, err
        assert pattern.search(lines[0]), lines[0]
    else:  # the one finding line for the file, among the findings other cases add
        findings = [line for line in out.splitlines() if FINDING.match(line)]
        assert len([line for line in findings if pattern.search(line)]) == 1, out
