"""The release gate on a real temporary git repository: every refusal, and a pass."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from harness.cli import main
from harness.contract import BUNDLED_CONTRACT
from harness.engine import make_context
from harness.evidence import KEY_ENV, read_evidence
from harness.gate import evaluate, parse_created

CLEAN_WORKFLOW = """\
name: ci
on: push
jobs:
  build:
    runs-on: tinyland-nix
    steps:
      - run: echo hello
"""
BROKEN_WORKFLOW = """\
name: ci
on: push
jobs:
  build:
    runs-on: tinyland-nix
    needs: [missing-job]
    steps:
      - run: echo hello
"""


def _contract(
    suites: list[str],
    after: list[str],
    max_age: str = "24h",
    extra: str = "    require_signature: false\n",
) -> str:
    """The bundled contract with its publication block replaced (unsigned evidence allowed
    unless `extra` says otherwise: signatures are tested in test_gate_bypasses.py)."""
    text = BUNDLED_CONTRACT.read_text(encoding="utf-8")
    start = text.index("publication:")
    end = text.index("state:")
    block = (
        f"publication:\n  flakehub:\n    after: [{', '.join(after)}]\n"
        f"    suites: [{', '.join(suites)}]\n    max_age: {max_age}\n{extra}"
    )
    return text[:start] + block + text[end:]


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True, timeout=30
    )
    return done.stdout.strip()


@pytest.fixture(autouse=True)
def _no_key_no_runner(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (KEY_ENV, "RUNNER_ENVIRONMENT", "ACTIONS_RUNNER_POD_NAME", "HARNESS_ON_RUNNER"):
        monkeypatch.delenv(name, raising=False)


def make_repo(
    root: Path,
    workflow: str = CLEAN_WORKFLOW,
    suites: tuple[str, ...] = ("workflows",),
    after: tuple[str, ...] = ("validate", "gate"),
) -> Path:
    """A committed repository with one workflow and a fleet.yaml requiring `suites`."""
    repo = root / "repo"
    (repo / ".github" / "workflows").mkdir(parents=True)
    (repo / ".github" / "workflows" / "ci.yml").write_text(workflow, encoding="utf-8")
    (repo / "fleet.yaml").write_text(_contract(list(suites), list(after)), encoding="utf-8")
    _git(root, "init", "-q", str(repo))
    _git(repo, "config", "user.email", "ci@example.invalid")
    _git(repo, "config", "user.name", "CI")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "initial")
    return repo


def check(repo: Path, evidence: Path, *suites: str, scenarios: Path | None = None) -> int:
    args = [
        "check",
        "--repo",
        str(repo),
        "--evidence",
        str(evidence),
        "--format",
        "json",
        "--output",
        str(evidence.with_suffix(".out.json")),
    ]
    for suite in suites:
        args += ["--suite", suite]
    if scenarios is not None:
        args += ["--scenarios", str(scenarios)]
    return main(args)


def gate(repo: Path, evidence: Path, *extra: str) -> int:
    return main(["gate", "--evidence", str(evidence), "--repo", str(repo), *extra])


def refusals(capsys: pytest.CaptureFixture[str]) -> list[str]:
    return [line for line in capsys.readouterr().err.splitlines() if "REFUSED" in line]


def test_gate_passes_for_fresh_clean_evidence_of_this_commit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(tmp_path)
    evidence = tmp_path / "evidence.json"
    assert check(repo, evidence, "workflows") == 0
    capsys.readouterr()
    assert gate(repo, evidence) == 0
    out = capsys.readouterr()
    assert "PASS" in out.out
    assert _git(repo, "rev-parse", "HEAD")[:12] in out.out
    assert "REFUSED" not in out.err


def test_gate_refuses_evidence_of_another_commit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(tmp_path)
    evidence = tmp_path / "evidence.json"
    check(repo, evidence, "workflows")
    old = _git(repo, "rev-parse", "HEAD")
    (repo / "README.md").write_text("later\n", encoding="utf-8")
    _git(repo, "add", "README.md")
    _git(repo, "commit", "-q", "-m", "later")
    capsys.readouterr()
    assert gate(repo, evidence) == 1
    lines = refusals(capsys)
    assert lines == [
        f"gate: REFUSED: evidence is for commit {old[:12]}, this checkout is at "
        f"{_git(repo, 'rev-parse', 'HEAD')[:12]}"
    ]


def test_gate_refuses_a_dirty_checkout(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = make_repo(tmp_path)
    evidence = tmp_path / "evidence.json"
    check(repo, evidence, "workflows")
    workflow = repo / ".github" / "workflows" / "ci.yml"
    workflow.write_text(CLEAN_WORKFLOW + "# edited after the evidence\n", encoding="utf-8")
    capsys.readouterr()
    assert gate(repo, evidence) == 1
    lines = refusals(capsys)
    assert len(lines) == 1 and "uncommitted changes to tracked files" in lines[0]


def test_gate_refuses_evidence_made_on_a_dirty_tree(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(tmp_path)
    workflow = repo / ".github" / "workflows" / "ci.yml"
    workflow.write_text(CLEAN_WORKFLOW + "# local edit\n", encoding="utf-8")
    evidence = tmp_path / "evidence.json"
    check(repo, evidence, "workflows")
    assert read_evidence(evidence)["repo"]["dirty"] is True
    _git(repo, "checkout", "--", ".")
    capsys.readouterr()
    assert gate(repo, evidence) == 1
    assert refusals(capsys) == [
        "gate: REFUSED: evidence was made on a tree with uncommitted changes"
    ]


def test_gate_refuses_evidence_made_against_another_contract(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(tmp_path)
    evidence = tmp_path / "evidence.json"
    check(repo, evidence, "workflows")
    other = tmp_path / "other.yaml"
    other.write_text(
        _contract(["workflows"], ["validate", "gate"], max_age="48h"), encoding="utf-8"
    )
    capsys.readouterr()
    assert gate(repo, evidence, "--contract", str(other)) == 1
    lines = refusals(capsys)
    assert len(lines) == 1 and "evidence was made against contract sha256" in lines[0]


def test_gate_refuses_evidence_missing_a_required_suite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(tmp_path, suites=("workflows", "placement"))
    evidence = tmp_path / "evidence.json"
    check(repo, evidence, "workflows")
    capsys.readouterr()
    assert gate(repo, evidence) == 1
    assert refusals(capsys) == [
        "gate: REFUSED: suite `placement` is required before "
        "publication but is missing from the evidence"
    ]


def test_gate_role_bootstrap_requires_the_bootstrap_suite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(tmp_path, after=("bootstrap", "validate", "gate"))
    evidence = tmp_path / "evidence.json"
    check(repo, evidence, "workflows")
    capsys.readouterr()
    assert gate(repo, evidence) == 1
    assert any("suite `bootstrap` is required" in line for line in refusals(capsys))


def test_gate_rejects_a_contract_with_an_unknown_role(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(tmp_path)
    evidence = tmp_path / "evidence.json"
    check(repo, evidence, "workflows")
    bad = tmp_path / "bad.yaml"
    bad.write_text(_contract(["workflows"], ["validate", "deploy"]), encoding="utf-8")
    capsys.readouterr()
    assert gate(repo, evidence, "--contract", str(bad)) == 2
    assert "'deploy' is not one of" in capsys.readouterr().err


def test_gate_refuses_a_failed_case(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = make_repo(tmp_path, workflow=BROKEN_WORKFLOW)
    evidence = tmp_path / "evidence.json"
    assert check(repo, evidence, "workflows") == 1
    capsys.readouterr()
    assert gate(repo, evidence) == 1
    lines = refusals(capsys)
    assert len(lines) == 1
    assert lines[0].startswith("gate: REFUSED: case workflows::") and "failed" in lines[0]
    assert "WF003" in lines[0]


def _scenarios(tmp_path: Path, text: str) -> Path:
    directory = tmp_path / "scenarios"
    directory.mkdir()
    (directory / "workflows.scenario.yaml").write_text(text, encoding="utf-8")
    return directory


def _beyond_custom_scenarios(lines: list[str]) -> list[str]:
    """Refusals other than those every custom scenario set gets (not bundled, examined
    nothing): test_gate_bypasses.py covers those."""
    return [
        line for line in lines if "bundled scenarios" not in line and "examined nothing" not in line
    ]


def test_gate_refuses_an_errored_case(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = make_repo(tmp_path)
    scenarios = _scenarios(
        tmp_path,
        "suite: workflows\ncases:\n  - name: crashes\n"
        "    check: memory.workload\n"
        "    params: {command: 'true', lane: no-such-lane}\n",
    )
    evidence = tmp_path / "evidence.json"
    monkeypatch.setenv("HARNESS_ON_RUNNER", "1")
    assert check(repo, evidence, scenarios=scenarios) == 1
    monkeypatch.delenv("HARNESS_ON_RUNNER")
    capsys.readouterr()
    assert gate(repo, evidence) == 1
    lines = _beyond_custom_scenarios(refusals(capsys))
    assert len(lines) == 1 and lines[0].startswith("gate: REFUSED: case workflows::crashes errored")


def test_gate_refuses_a_skipped_live_case(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(tmp_path)
    scenarios = _scenarios(
        tmp_path, "suite: workflows\ncases:\n  - name: on-runner\n    check: runner.nix_working\n"
    )
    evidence = tmp_path / "evidence.json"
    assert check(repo, evidence, scenarios=scenarios) == 0
    capsys.readouterr()
    assert gate(repo, evidence) == 1
    lines = _beyond_custom_scenarios(refusals(capsys))
    assert len(lines) == 1
    assert lines[0].startswith(
        "gate: REFUSED: live case workflows::on-runner was skipped: not on a self-hosted runner"
    )


def test_gate_refuses_stale_and_future_evidence(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    evidence = tmp_path / "evidence.json"
    check(repo, evidence, "workflows")
    data = read_evidence(evidence)
    ctx = make_context(repo)
    created = parse_created(data["created"])
    assert created is not None
    fresh = evaluate(
        data, evidence, repo, ctx.contract, key=None, now=created + timedelta(hours=23)
    )
    assert fresh.passed, fresh.refusals
    stale = evaluate(
        data, evidence, repo, ctx.contract, key=None, now=created + timedelta(hours=30)
    )
    assert stale.refusals == [
        f"evidence is 30h old, older than max_age 24h (created {data['created']})"
    ]
    future = evaluate(
        data, evidence, repo, ctx.contract, key=None, now=created - timedelta(hours=2)
    )
    assert len(future.refusals) == 1 and "in the future" in future.refusals[0]


def test_gate_refuses_evidence_without_a_creation_time(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    evidence = tmp_path / "evidence.json"
    check(repo, evidence, "workflows")
    data = read_evidence(evidence)
    del data["created"]
    verdict = evaluate(
        data, evidence, repo, make_context(repo).contract, key=None, now=datetime.now(UTC)
    )
    assert verdict.refusals == [
        "evidence has no valid `created` time: its freshness cannot be judged"
    ]


def test_gate_detects_a_hand_edited_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(tmp_path, workflow=BROKEN_WORKFLOW)
    evidence = tmp_path / "evidence.json"
    check(repo, evidence, "workflows")
    data = json.loads(evidence.read_text())
    data["summary"]["failed"] = 0
    data["summary"]["passed"] += 1
    evidence.write_text(json.dumps(data), encoding="utf-8")
    capsys.readouterr()
    assert gate(repo, evidence) == 1
    lines = refusals(capsys)
    assert any("does not match its results" in line for line in lines)
    assert any("failed" in line and "WF003" in line for line in lines)


def test_signed_evidence_passes_and_tampering_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_ENV, "release-key-for-tests")
    repo = make_repo(tmp_path, workflow=BROKEN_WORKFLOW)
    evidence = tmp_path / "evidence.json"
    check(repo, evidence, "workflows")
    data = json.loads(evidence.read_text())
    assert data["signature"]["algorithm"] == "hmac-sha256"
    assert "release-key-for-tests" not in evidence.read_text()
    # Turn the failure into a pass, consistently: only the signature can tell.
    for result in data["results"]:
        result["status"] = "passed"
        result["findings"] = []
        result["reason"] = ""
    data["summary"] = {"passed": len(data["results"]), "failed": 0, "skipped": 0, "errors": 0}
    evidence.write_text(json.dumps(data), encoding="utf-8")
    capsys.readouterr()
    assert gate(repo, evidence) == 1
    assert refusals(capsys) == [
        "gate: REFUSED: evidence signature does not match: the file was "
        "changed after signing, or signed with another key"
    ]
    monkeypatch.setenv(KEY_ENV, "another-key")
    clean = make_repo(tmp_path / "second")
    signed = tmp_path / "signed.json"
    check(clean, signed, "workflows")
    monkeypatch.setenv(KEY_ENV, "release-key-for-tests")
    capsys.readouterr()
    assert gate(clean, signed) == 1
    assert "signature does not match" in refusals(capsys)[0]
    check(clean, signed, "workflows")
    capsys.readouterr()
    assert gate(clean, signed) == 0


def test_gate_refuses_unsigned_evidence_when_a_key_is_set(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = make_repo(tmp_path)
    evidence = tmp_path / "evidence.json"
    check(repo, evidence, "workflows")
    assert "signature" not in read_evidence(evidence)
    monkeypatch.setenv(KEY_ENV, "release-key-for-tests")
    capsys.readouterr()
    assert gate(repo, evidence) == 1
    assert refusals(capsys) == [f"gate: REFUSED: evidence is not signed, but {KEY_ENV} is set"]


def test_gate_refuses_outside_a_git_checkout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(tmp_path)
    evidence = tmp_path / "evidence.json"
    check(repo, evidence, "workflows")
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "fleet.yaml").write_text((repo / "fleet.yaml").read_text(), encoding="utf-8")
    capsys.readouterr()
    assert gate(plain, evidence) == 1
    assert any("is not a git checkout" in line for line in refusals(capsys))


def test_gate_bad_input_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = make_repo(tmp_path)
    assert gate(repo, tmp_path / "missing.json") == 2
    assert "cannot read evidence" in capsys.readouterr().err
    junk = tmp_path / "junk.json"
    junk.write_text("{not json", encoding="utf-8")
    assert gate(repo, junk) == 2
    assert "evidence is not JSON" in capsys.readouterr().err
    other = tmp_path / "other.json"
    other.write_text('{"schema": "something-else"}', encoding="utf-8")
    assert gate(repo, other) == 2
    assert "not a flywheel-harness report" in capsys.readouterr().err


def test_merged_matrix_evidence_passes_the_gate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_ENV, "matrix-key")
    repo = make_repo(tmp_path, suites=("workflows", "placement"))
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    check(repo, first, "workflows")
    check(repo, second, "placement")
    capsys.readouterr()
    assert gate(repo, first) == 1
    merged = tmp_path / "all.json"
    assert main(["evidence", "merge", str(first), str(second), "-o", str(merged)]) == 0
    data = read_evidence(merged)
    assert {r["suite"] for r in data["results"]} == {"workflows", "placement"}
    assert data["created"] == min(read_evidence(first)["created"], read_evidence(second)["created"])
    assert [m["file"] for m in data["merged_from"]] == [str(first), str(second)]
    capsys.readouterr()
    assert gate(repo, merged) == 0, capsys.readouterr().err


def test_merge_refuses_evidence_of_different_commits(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(tmp_path)
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    check(repo, first, "workflows")
    (repo / "README.md").write_text("x\n", encoding="utf-8")
    _git(repo, "add", "README.md")
    _git(repo, "commit", "-q", "-m", "x")
    check(repo, second, "placement")
    capsys.readouterr()
    assert (
        main(["evidence", "merge", str(first), str(second), "-o", str(tmp_path / "all.json")]) == 2
    )
    assert "differs from" in capsys.readouterr().err
    assert not (tmp_path / "all.json").exists()


def test_gate_json_verdict(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = make_repo(tmp_path, suites=("workflows", "placement"))
    evidence = tmp_path / "evidence.json"
    check(repo, evidence, "workflows")
    capsys.readouterr()
    assert gate(repo, evidence, "--format", "json") == 1
    verdict = json.loads(capsys.readouterr().out)
    assert verdict["passed"] is False
    assert verdict["checked"]["required_suites"] == ["workflows", "placement"]
    assert len(verdict["refusals"]) == 1


def _dry_run(directory: Path, version: str, revision: str, tarball: bool = True) -> None:
    """What flakehub-push writes with FLAKEHUB_DEST_DIR: `<version>.json` and `.tar.gz`."""
    directory.mkdir(exist_ok=True)
    (directory / f"{version}.json").write_text(
        json.dumps(
            {
                "commit_count": 3,
                "description": "x",
                "outputs": {},
                "raw_flake_metadata": {},
                "readme": None,
                "repo": "tinyland/flywheel-harness",
                "revision": revision,
                "visibility": "public",
                "mirrored": False,
                "source_subdirectory": "",
                "spdx_identifier": None,
                "labels": [],
            }
        ),
        encoding="utf-8",
    )
    if tarball:
        (directory / f"{version}.tar.gz").write_bytes(b"\x1f\x8b")


def test_gate_inspects_a_flakehub_dry_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(tmp_path)
    evidence = tmp_path / "evidence.json"
    check(repo, evidence, "workflows")
    head = _git(repo, "rev-parse", "HEAD")
    dest = tmp_path / "flakehub"
    capsys.readouterr()
    assert gate(repo, evidence, "--flakehub-dir", str(dest)) == 1
    assert "no flakehub-push release metadata" in refusals(capsys)[0]
    _dry_run(dest, "0.1.3", head)
    assert gate(repo, evidence, "--flakehub-dir", str(dest), "--format", "json") == 0
    verdict = json.loads(capsys.readouterr().out)
    assert verdict["checked"]["flakehub_dry_run"] == [
        {"version": "0.1.3", "revision": head, "visibility": "public"}
    ]
    _dry_run(dest, "0.1.4", "f" * 40, tarball=False)
    assert gate(repo, evidence, "--flakehub-dir", str(dest)) == 1
    assert refusals(capsys) == [
        f"gate: REFUSED: the FlakeHub dry run 0.1.4 is of revision ffffffffffff, the evidence "
        f"proves {head[:12]}",
        "gate: REFUSED: the FlakeHub dry run 0.1.4 has metadata but no 0.1.4.tar.gz",
    ]


def test_plugin_evidence_is_signed_and_passes_the_gate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import os
    import sys

    from tests.helpers.paths import ROOT

    repo = make_repo(tmp_path)
    evidence = tmp_path / "plugin-evidence.json"
    env = dict(os.environ, HARNESS_EVIDENCE_KEY="plugin-key")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            str(ROOT / "scenarios"),
            "-p",
            "no:cacheprovider",
            "-q",
            "--suite",
            "workflows",
            "--harness-repo",
            str(repo),
            f"--evidence={evidence}",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env=env,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    data = read_evidence(evidence)
    assert data["signature"]["algorithm"] == "hmac-sha256"
    assert {r["suite"] for r in data["results"]} == {"workflows"}
    monkeypatch.setenv(KEY_ENV, "plugin-key")
    assert gate(repo, evidence) == 0, capsys.readouterr().err


def test_merge_refuses_unsigned_inputs_when_a_key_is_set(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = make_repo(tmp_path)
    unsigned = tmp_path / "a.json"
    check(repo, unsigned, "workflows")
    monkeypatch.setenv(KEY_ENV, "matrix-key")
    capsys.readouterr()
    assert main(["evidence", "merge", str(unsigned), "-o", str(tmp_path / "all.json")]) == 2
    assert f"a.json: evidence is not signed, but {KEY_ENV} is set" in capsys.readouterr().err


def test_gate_ignores_a_skipped_live_case_outside_the_required_suites(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(tmp_path)
    scenarios = _scenarios(
        tmp_path, "suite: extra\ncases:\n  - name: on-runner\n    check: runner.nix_working\n"
    )
    evidence = tmp_path / "evidence.json"
    assert check(repo, evidence, scenarios=scenarios) == 0
    capsys.readouterr()
    gate(repo, evidence)
    assert not any("live case" in line for line in refusals(capsys))
