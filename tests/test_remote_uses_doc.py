"""Every example of docs/remote-uses.md runs: files, commands and their output, the contract
keys, the report fields and the resolver API."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from pathlib import Path

import pytest
import yaml

from harness.contract import BUNDLED_CONTRACT, load_contract
from tests.helpers.cli import run_harness
from tests.helpers.paths import ROOT
from tests.helpers.uses import git, git_repo

DOC = (ROOT / "docs" / "remote-uses.md").read_text(encoding="utf-8")
BLOCKS = [
    (m[1], (m[2] or "").strip(), m[3])
    for m in re.finditer(r"^```(\w+)([^\n]*)\n(.*?)^```$", DOC, re.DOTALL | re.MULTILINE)
]


def blocks(kind: str, info: str = "") -> list[str]:
    return [body for k, i, body in BLOCKS if k == kind and i.startswith(info)]


@pytest.fixture
def example(tmp_path: Path) -> Path:
    """The example's two git repositories, the templates tagged v1."""
    files: dict[str, dict[str, str]] = {}
    for _kind, info, body in BLOCKS:
        if info.startswith("file="):
            top, _, rest = info[len("file=") :].partition("/")
            files.setdefault(top, {})[rest] = body
    assert set(files) == {"templates", "caller"}
    git_repo(tmp_path / "templates", files["templates"])
    git(tmp_path / "templates", "tag", "v1")
    git_repo(tmp_path / "caller", files["caller"])
    return tmp_path


def harness(cwd: Path, command: str) -> subprocess.CompletedProcess[str]:
    words = shlex.split(command)
    assert words[0] == "flywheel-harness"
    return run_harness(*words[1:], cwd=cwd)


def test_console_examples_print_what_the_doc_shows(example: Path) -> None:
    consoles = blocks("console")
    assert len(consoles) == 2
    for body in consoles:
        lines = body.splitlines()
        assert lines[0].startswith("$ ")
        done = harness(example, lines[0][2:])
        assert done.stderr == ""
        assert done.stdout.splitlines() == lines[1:]


def test_contract_keys_load(tmp_path: Path) -> None:
    (snippet,) = blocks("yaml", "contract")
    data = yaml.safe_load(BUNDLED_CONTRACT.read_text()) | yaml.safe_load(snippet)
    path = tmp_path / "fleet.yaml"
    path.write_text(yaml.safe_dump(data))
    contract = load_contract(path)
    assert contract.forge_repository == "octo/caller"
    assert contract.sources == {"octo/templates": "../templates"}


def test_report_fields_are_as_shown(example: Path) -> None:
    (body,) = blocks("json", "report")
    shown = json.loads(body)
    done = harness(
        example,
        "flywheel-harness check --repo caller --suite bootstrap "
        "--uses-source octo/templates=templates --offline --format json",
    )
    report = json.loads(done.stdout)
    sha = git(example / "templates", "rev-parse", "v1")
    assert json.loads(json.dumps(report["sources"]).replace(sha, "SHA")) == shown["sources"]
    found = [f for r in report["results"] for f in r["findings"]]
    assert [{k: f[k] for k in shown["finding"]} for f in found] == [shown["finding"]]


def test_resolver_api_example_runs(example: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (code,) = blocks("python")
    monkeypatch.chdir(example)
    exec(compile(code, "docs/remote-uses.md", "exec"), {})
