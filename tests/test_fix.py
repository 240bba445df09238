"""`flywheel-harness fix`: golden before/after files, real `git apply` of the patches,
idempotence, refusal when verification fails, and `--unsafe` gating."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from harness.cli import main
from harness.engine import make_context
from harness.fixes import plan_fixes, write_patch
from harness.fixes.bootstrap import INSTALLER_PIN
from harness.fixes.plan import verified_suites
from harness.fixes.verify import finding_key, run_static, static_cases
from harness.suites import load_suites
from tests.helpers.paths import FIXTURES, ROOT
from tests.helpers.repos import workflow, write_repo

GOLDEN = FIXTURES / "fix"
CASES = sorted(p.name for p in GOLDEN.iterdir() if (p / "before").is_dir())


def _args(case: str) -> list[str]:
    path = GOLDEN / case / "args"
    return path.read_text().split() if path.is_file() else []


def _files(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.parts
    }


def _expected(case: str) -> dict[str, bytes]:
    files = _files(GOLDEN / case / "before")
    files.update(_files(GOLDEN / case / "after"))
    return files


def _copy(case: str, tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    shutil.copytree(GOLDEN / case / "before", repo)
    return repo


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _commit(repo: Path) -> None:
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "config", "core.autocrlf", "false")
    _git(repo, "add", "-A")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "init")


def _static_keys(repo: Path) -> list[tuple[str, str, str, str]]:
    ctx = make_context(repo)
    cases = static_cases(load_suites(), verified_suites())
    return [finding_key(f) for f in run_static(ctx, cases) if not f.suppressed]


@pytest.mark.parametrize("case", CASES)
def test_golden_write_then_nothing_more(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = _copy(case, tmp_path)
    assert main(["fix", "--repo", str(repo), "--write", *_args(case)]) == 0
    assert _files(repo) == _expected(case)
    capsys.readouterr()
    # idempotent: a second run finds nothing more to change
    assert main(["fix", "--repo", str(repo), "--diff", *_args(case)]) == 0
    assert capsys.readouterr().out == ""
    assert main(["fix", "--repo", str(repo), "--write", *_args(case)]) == 0
    assert _files(repo) == _expected(case)


@pytest.mark.parametrize("case", CASES)
def test_golden_check_after_fix_has_nothing_new(case: str, tmp_path: Path) -> None:
    before = _static_keys(GOLDEN / case / "before")
    repo = _copy(case, tmp_path)
    main(["fix", "--repo", str(repo), "--write", *_args(case)])
    after = _static_keys(repo)
    assert set(after) <= set(before)
    assert len(after) < len(before)


@pytest.mark.parametrize("case", CASES)
def test_golden_patch_applies_to_a_clone(case: str, tmp_path: Path) -> None:
    origin = _copy(case, tmp_path)
    _commit(origin)
    clone = tmp_path / "clone"
    subprocess.run(
        ["git", "clone", "-q", "-c", "core.autocrlf=false", str(origin), str(clone)],
        check=True,
        timeout=60,
    )
    plan = plan_fixes(
        origin, rules=[a for a in _args(case) if a.isupper()], unsafe="--unsafe" in _args(case)
    )
    patch = write_patch(plan, tmp_path / "patches", "tinyland-inc/example")
    assert patch == tmp_path / "patches" / "tinyland-inc__example.patch"
    text = patch.read_text()
    assert text.startswith("From 0000000000000000000000000000000000000000 ")
    assert "Subject: [PATCH] Fix " in text
    for outcome in plan.applied:
        assert f"- {outcome.finding.rule} {outcome.finding.file}:{outcome.finding.line}" in text
    _git(clone, "apply", "--check", str(patch))
    # a CRLF file's lines end in CR LF in the patch: `git am` keeps them with --keep-cr
    _git(
        clone,
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@example.com",
        "am",
        "-q",
        "--keep-cr",
        str(patch),
    )
    assert _files(clone) == _expected(case)
    assert "flywheel-harness finding" in _git(clone, "log", "-1", "--format=%s")


def test_unsafe_fixes_are_offered_but_applied_only_with_unsafe(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = _copy("crlf-no-final-newline", tmp_path)
    assert main(["fix", "--repo", str(repo), "--write", "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    by_rule = {fix["rule"]: fix for fix in report["fixes"]}
    assert by_rule["WF002"] | {"kind": "safe", "applied": True} == by_rule["WF002"]
    for rule in ("LANE001", "BOOT001"):
        assert by_rule[rule]["kind"] == "unsafe"
        assert by_rule[rule]["offered"] is True
        assert by_rule[rule]["applied"] is False
        assert "--unsafe" in by_rule[rule]["why"]
    text = (repo / ".github/workflows/ci.yml").read_bytes()
    assert b"./.github/actions/setup" in text
    assert b"tinyland-nixx" in text
    assert b"nix-installer-action" not in text
    assert text.count(b"\r\n") == text.count(b"\n")
    assert not text.endswith(b"\n")


def test_json_lists_rule_file_line_kind_applied_and_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = _copy("lane002-styles", tmp_path)
    assert main(["fix", "--repo", str(repo), "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["mode"] == "diff"
    assert report["written"] == []
    first = report["fixes"][0]
    assert {k: first[k] for k in ("rule", "file", "line", "kind", "applied")} == {
        "rule": "LANE002",
        "file": ".github/workflows/ci.yml",
        "line": 9,
        "kind": "safe",
        "applied": True,
    }
    assert first["why"].startswith("verified")
    assert "-    runs-on: [self-hosted, tinyland-nix]   # the old label set" in report["diff"]
    anchored = next(f for f in report["fixes"] if f["line"] == 26)
    assert [a["line"] for a in anchored["also_fixed"]] == [30]
    assert (repo / ".github/workflows/ci.yml").read_bytes() == (
        GOLDEN / "lane002-styles/before/.github/workflows/ci.yml"
    ).read_bytes()


def test_a_fix_that_adds_a_finding_is_refused(tmp_path: Path) -> None:
    repo = write_repo(
        tmp_path,
        workflow("""\
        on: push
        jobs:
          lint:
            runs-on: tinyland-nix-heavi
            steps:
              - run: echo lint
        """),
    )
    before = (repo / ".github/workflows/ci.yml").read_bytes()
    plan = plan_fixes(repo, unsafe=True)
    [outcome] = plan.outcomes
    assert outcome.finding.rule == "LANE001"
    assert not outcome.offered and not outcome.applied
    assert outcome.why.startswith("verification failed: the edit adds a finding: PLACE002")
    assert plan.changed == {}
    assert main(["fix", "--repo", str(repo), "--write", "--unsafe"]) == 0
    assert (repo / ".github/workflows/ci.yml").read_bytes() == before


def test_a_label_near_two_names_is_left_alone(tmp_path: Path) -> None:
    repo = write_repo(
        tmp_path,
        workflow("""\
        on: push
        jobs:
          build:
            runs-on: ubuntu-2x.04
            steps: [{run: echo hi}]
        """),
    )
    [outcome] = plan_fixes(repo, unsafe=True).outcomes
    assert not outcome.offered
    assert "one edit away from 2 labels (`ubuntu-22.04`, `ubuntu-24.04`)" in outcome.why


def test_a_file_with_two_documents_is_reported_not_touched(tmp_path: Path) -> None:
    repo = write_repo(
        tmp_path,
        workflow("""\
        on: push
        jobs:
          build:
            runs-on: [self-hosted, tinyland-nix]
            steps: [{run: echo hi}]
        ---
        on: push
        """),
    )
    plan = plan_fixes(repo, unsafe=True)
    assert plan.outcomes == []
    assert [f.rule for f in plan.remaining] == ["WF001"]


def test_the_contract_install_step_is_the_one_inserted(tmp_path: Path) -> None:
    contract = (ROOT / "harness/contract/honey.yaml").read_text()
    contract += (
        "bootstrap:\n  install_step:\n    uses: cachix/install-nix-action@v27\n"
        "    with: {nix_path: 'nixpkgs=channel:nixos-unstable'}\n"
    )
    repo = write_repo(
        tmp_path,
        {
            "fleet.yaml": contract,
            **workflow("""\
        on: push
        jobs:
          build:
            runs-on: tinyland-nix
            steps:
              - run: nix build
        """),
        },
    )
    plan = plan_fixes(repo, unsafe=True)
    assert [o.finding.rule for o in plan.applied] == ["BOOT001"]
    assert plan.changed[".github/workflows/ci.yml"].endswith(
        "    steps:\n"
        "      - uses: cachix/install-nix-action@v27\n"
        "        with:\n"
        "          nix_path: nixpkgs=channel:nixos-unstable\n"
        "      - run: nix build\n"
    )


def test_the_default_installer_pin_is_the_one_this_project_uses() -> None:
    pins = set(
        re.findall(
            r"nix-installer-action@([0-9a-f]{40})", (ROOT / ".github/workflows/ci.yml").read_text()
        )
    )
    assert pins == {INSTALLER_PIN}


def test_an_unknown_rule_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = write_repo(tmp_path, workflow("on: push\njobs: {a: {runs-on: x, steps: []}}\n"))
    assert main(["fix", "--repo", str(repo), "--rule", "NOPE001"]) == 2
    assert "no fix for rule(s) NOPE001" in capsys.readouterr().err


def _busy_repo(root: Path, jobs: int) -> Path:
    """A repository with several findings in every one of `jobs` jobs of three workflows."""
    files: dict[str, str] = {
        ".github/actions/setup/action.yml": (
            "runs: {using: composite, steps: [{run: echo, shell: bash}]}\n"
        )
    }
    for number in range(3):
        body = [f"# workflow {number}", "on: [push]", "jobs:"]
        for job in range(jobs):
            body += [
                f"  build{job}:",
                "    runs-on: [self-hosted, tinyland-nix]  # LANE002",
                "    steps:",
                "      - uses: ./github/actions/setup   # WF002",
                "      - run: nix build .#default       # BOOT001",
                f"  lint{job}:",
                "    runs-on: tinyland-nix-heavy        # PLACE002",
                "    steps:",
                "      - uses: DeterminateSystems/nix-installer-action@v16",
                "      - run: nix flake check",
                f"  rust{job}:",
                "    runs-on: tinyland-nixx             # LANE001, then PLACE001",
                "    steps:",
                "      - uses: DeterminateSystems/nix-installer-action@v16",
                "      - run: cargo build --release",
            ]
        files[f".github/workflows/w{number}.yml"] = "\n".join(body) + "\n"
    return write_repo(root, files)


def test_dozens_of_findings_are_fixed_and_check_then_finds_nothing_new(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = _busy_repo(tmp_path, jobs=2)
    before = _static_keys(repo)
    assert len(before) >= 36
    static = [arg for suite in sorted(verified_suites()) for arg in ("--suite", suite)]
    assert main(["check", "--repo", str(repo), "--format", "json", *static]) == 1
    capsys.readouterr()
    assert main(["fix", "--repo", str(repo), "--write", "--unsafe"]) == 0
    after = _static_keys(repo)
    assert set(after) <= set(before)
    assert after == []
    assert main(["check", "--repo", str(repo), "--format", "json", *static]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [f for r in report["results"] for f in r["findings"]] == []
