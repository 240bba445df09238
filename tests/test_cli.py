"""The command line, whole-process: exit codes 0/1/2, one line per input problem, the JSON
report against its schema, and GitHub annotations."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from harness.schemas import report_schema
from tests.helpers.cli import run_harness
from tests.helpers.repos import write_repo

ROOT = Path(__file__).parent.parent
REPOS = Path(__file__).parent / "fixtures" / "repos"
SCHEMA = report_schema()
STATIC = ["--suite", "workflows", "--suite", "placement", "--suite", "bootstrap"]

CLEAN = """\
name: ci
on: [push, pull_request]
jobs:
  check:
    runs-on: tinyland-nix
    steps:
      - uses: actions/checkout@v4
      - uses: DeterminateSystems/nix-installer-action@v16
      - run: nix flake check
  docs:
    needs: check
    runs-on: ubuntu-latest
    steps:
      - run: echo "nix build is documented here"
"""


def harness(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_harness(*args, cwd=cwd, drop=["CI"])


def clean_repo(root: Path) -> Path:
    return write_repo(root / "repo", {".github/workflows/ci.yml": CLEAN})


def validate(report: dict[str, Any]) -> None:
    errors = sorted(Draft202012Validator(SCHEMA).iter_errors(report), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)


def test_clean_repository_exits_0(tmp_path: Path) -> None:
    done = harness("check", "--repo", str(clean_repo(tmp_path)), *STATIC, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 failed" in done.stdout
    assert "[BOOT001]" not in done.stdout


def test_violations_exit_1_with_located_lines(tmp_path: Path) -> None:
    done = harness("check", "--repo", str(REPOS / "needs"), *STATIC, cwd=tmp_path)
    assert done.returncode == 1
    assert ".github/workflows/graph.yml:14:1: error: job `publish` needs `biuld`" in done.stdout
    assert "FAILED workflows::needs-graph" in done.stdout
    assert done.stderr == ""


def test_bad_contract_exits_2_one_line_per_problem(tmp_path: Path) -> None:
    contract = tmp_path / "bad.yaml"
    contract.write_text(
        "version: 1\nfleet: honey\nextra: 1\ncluster:\n  name: honey\n"
        "  nodes: {sting: {role: stateless-compute, allocatable_memory: 8GB}}\n"
        "lanes: {tinyland-nix: {kind: nix, memory_limit: 8Gi, oops: 1}}\n"
    )
    done = harness(
        "check",
        "--repo",
        str(clean_repo(tmp_path)),
        "--contract",
        str(contract),
        *STATIC,
        cwd=tmp_path,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 3, done.stderr
    assert all(line.startswith(f"flywheel-harness: {contract}:") for line in lines)
    assert f"{contract}:3: unknown key 'extra'" in done.stderr
    assert f"{contract}:6: cluster.nodes.sting.allocatable_memory" in done.stderr
    assert f"{contract}:7: unknown key 'oops'" in done.stderr
    assert done.stdout == ""


def test_bad_fleet_yaml_in_the_repository_exits_2(tmp_path: Path) -> None:
    repo = clean_repo(tmp_path)
    (repo / "fleet.yaml").write_text("version: 1\nversion: 2\n")
    done = harness("check", "--repo", str(repo), *STATIC, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "flywheel-harness: fleet.yaml:2: duplicate key 'version' (first at line 1)"
    )


@pytest.mark.parametrize(
    "args",
    [
        ["check", "--no-such-flag"],
        ["check", "--format", "xml"],
        ["no-such-command"],
        [],
    ],
)
def test_bad_flags_exit_2(tmp_path: Path, args: list[str]) -> None:
    done = harness(*args, cwd=tmp_path)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr


def test_unknown_suite_exits_2(tmp_path: Path) -> None:
    done = harness("check", "--repo", str(clean_repo(tmp_path)), "--suite", "nope", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith("flywheel-harness: ")
    assert "unknown suite(s) nope" in done.stderr
    assert "placement" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        (
            "--bazel-cache",
            "ftp://user:secret@cache:21",
            "--bazel-cache must start with http://, https://, grpc:// or grpcs://, got 'ftp://cache:21'",
        ),
        (
            "--attic-url",
            "attic.honey.internal",
            "--attic-url must start with http:// or https://, got no scheme",
        ),
    ],
)
def test_endpoint_flags_without_a_known_scheme_exit_2(
    tmp_path: Path, flag: str, value: str, message: str
) -> None:
    done = harness(
        "check", "--repo", str(clean_repo(tmp_path)), "--suite", "caches", flag, value, cwd=tmp_path
    )
    assert done.returncode == 2
    assert done.stderr == f"flywheel-harness: {message}\n"
    assert done.stdout == ""


def test_missing_repository_exits_2(tmp_path: Path) -> None:
    done = harness("check", "--repo", str(tmp_path / "gone"), *STATIC, cwd=tmp_path)
    assert done.returncode == 2
    assert "repository directory does not exist" in done.stderr


def test_json_report_matches_the_schema(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    done = harness(
        "check",
        "--repo",
        str(REPOS / "composite"),
        *STATIC,
        "--format",
        "json",
        "--output",
        str(out),
        cwd=tmp_path,
    )
    assert done.returncode == 1
    assert done.stdout == ""
    report = json.loads(out.read_text())
    validate(report)
    assert report["contract"]["path"] == "bundled:honey.yaml"
    findings = [f for r in report["results"] for f in r["findings"]]
    assert findings and all(not f["file"].startswith("/") for f in findings)
    boot = [f for f in findings if f["rule"] == "BOOT001"]
    assert {f["job"] for f in boot} == {"via-build", "deep"}
    summary = report["summary"]
    statuses = [r["status"] for r in report["results"]]
    assert summary["failed"] == statuses.count("failed") >= 1
    assert sum(summary.values()) == len(report["results"])
    measured = {m["name"] for r in report["results"] for m in r["measurements"]}
    assert "bootstrap.jobs_checked" in measured


def test_json_report_of_a_clean_git_repository(tmp_path: Path) -> None:
    repo = clean_repo(tmp_path)
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    subprocess.run([*git, "init", "-q"], check=True, timeout=30)
    subprocess.run([*git, "add", "."], check=True, timeout=30)
    subprocess.run([*git, "commit", "-qm", "init"], check=True, timeout=30)
    done = harness("check", "--repo", str(repo), *STATIC, "--format", "json", cwd=tmp_path)
    assert done.returncode == 0
    report = json.loads(done.stdout)
    validate(report)
    assert len(report["repo"]["commit"]) == 40
    assert report["repo"]["dirty"] is False
    suites = {r["suite"] for r in report["results"]}
    assert suites == {"workflows", "placement", "bootstrap"}


def test_github_annotations(tmp_path: Path) -> None:
    done = harness(
        "check",
        "--repo",
        str(REPOS / "runs_on_forms"),
        "--suite",
        "placement",
        "--format",
        "github",
        cwd=tmp_path,
    )
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    errors = [line for line in lines if line.startswith("::error ")]
    warnings = [line for line in lines if line.startswith("::warning ")]
    assert "::error file=.github/workflows/forms.yml,line=13,title=LANE002::" in done.stdout
    assert any(
        line.startswith("::error file=.github/workflows/forms.yml,line=38,title=LANE001::")
        for line in errors
    )
    assert any("title=LANE003::" in line for line in warnings)
    # messages are escaped: no raw newlines or percent signs inside one annotation
    assert all("\n" not in line for line in errors)
    assert lines[-1].endswith("errors")


def test_rules_catalogue(tmp_path: Path) -> None:
    done = harness("rules", "--format", "json", cwd=tmp_path)
    assert done.returncode == 0
    rules = {r["id"]: r for r in json.loads(done.stdout)}
    for rule in ("WF001", "WF002", "WF003", "LANE001", "LANE002", "LANE003", "BOOT001"):
        assert rules[rule]["summary"] and rules[rule]["example"] and rules[rule]["fix"]
    text = harness("rules", "BOOT001", cwd=tmp_path).stdout
    assert text.startswith("BOOT001") and "example:" in text and "fix:" in text


def test_rules_with_an_unknown_id_is_bad_input(tmp_path: Path) -> None:
    done = harness("rules", "BOOT001", "BOOT999", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.strip() == (
        "flywheel-harness: unknown rule id(s) BOOT999; `flywheel-harness rules` lists them all"
    )


def test_a_broken_suite_file_blocks_only_runs_that_include_it(tmp_path: Path) -> None:
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    (scenarios / "workflows.scenario.yaml").write_text(
        "cases:\n  - name: needs-graph\n    check: workflows.needs\n"
    )
    (scenarios / "broken.scenario.yaml").write_text(
        "cases:\n  - name: x\n    check: no.such_check\n    colour: red\n"
    )
    repo = str(clean_repo(tmp_path))
    done = harness(
        "check", "--repo", repo, "--scenarios", str(scenarios), "--suite", "workflows", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    done = harness("check", "--repo", repo, "--scenarios", str(scenarios), cwd=tmp_path)
    assert done.returncode == 2
    lines = done.stderr.splitlines()
    assert len(lines) == 1
    assert f"{scenarios / 'broken.scenario.yaml'}:4: unknown key 'colour'" in lines[0]


def test_github_annotations_are_escaped_and_capped() -> None:
    from harness.report.github import MAX_PER_LEVEL, render
    from harness.report.model import RepoInfo, Report
    from harness.results import CaseResult, Finding, Severity, Status

    findings = [
        Finding("LANE001", f"job {i}: 100% wrong,\nsecond line", file="a,b:c.yml", line=i + 1)
        for i in range(MAX_PER_LEVEL + 2)
    ]
    findings.append(Finding("LANE003", "unknown", Severity.WARNING, file="w.yml", line=3))
    findings.append(
        Finding(
            "BOOT001", "quiet", file="s.yml", line=1, suppressed=True, suppression="image has Nix"
        )
    )
    result = CaseResult("placement", "labels", Status.FAILED, "12 finding(s)", findings)
    text = render(Report(RepoInfo("/r", None, False), "bundled:honey.yaml", "0" * 64, [result]))
    lines = text.splitlines()
    errors = [line for line in lines if line.startswith("::error ")]
    assert len(errors) == MAX_PER_LEVEL
    assert errors[0] == (
        "::error file=a%2Cb%3Ac.yml,line=1,title=LANE001::job 0: 100%25 wrong,%0Asecond line"
    )
    assert "::warning file=w.yml,line=3,title=LANE003::unknown" in lines
    assert any("2 error annotation(s) left out" in line for line in lines)
    assert "quiet" not in text
