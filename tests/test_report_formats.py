"""Output formats CI users read: SARIF 2.1.0 (schema-validated), Markdown, GitHub annotations."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft4Validator

from harness.cli import main
from harness.report import FORMATS, renderer
from harness.report.github import MAX_PER_LEVEL
from harness.report.model import RepoInfo, Report
from harness.report.sarif import sarif_log
from harness.results import CaseResult, Finding, Measurement, Severity, Status
from harness.rules import all_rules

SCHEMA = Path(__file__).parent / "data" / "sarif-schema-2.1.0.json"


def sarif_validator() -> Draft4Validator:
    schema: dict[str, Any] = json.loads(SCHEMA.read_text(encoding="utf-8"))
    return Draft4Validator(schema)


def sample_report() -> Report:
    findings = [
        Finding(
            "LANE001",
            "job `build` runs on `myapp-nix`",
            file=".github/workflows/ci.yml",
            line=7,
            column=14,
            job="build",
        ),
        Finding(
            "LANE003",
            "runs-on cannot be resolved",
            Severity.WARNING,
            file=".github/workflows/ci.yml",
            line=12,
            job="suite",
            suppressed=True,
            suppression="lanes come from the matrix",
        ),
        Finding(
            "BOOT001",
            "job `x` runs `nix build` before installing Nix",
            file=".github/workflows/other.yml",
            line=3,
            job="x",
            step=2,
        ),
        Finding("NIX002", "flakes are not enabled"),
    ]
    results = [
        CaseResult(
            "placement",
            "known-labels",
            Status.FAILED,
            "1 finding(s): LANE001",
            findings=findings[:2],
        ),
        CaseResult(
            "bootstrap", "workflow-owned-nix", Status.FAILED, "BOOT001", findings=[findings[2]]
        ),
        CaseResult(
            "bootstrap",
            "runner-nix-working-after-install",
            Status.FAILED,
            "NIX002",
            findings=[findings[3]],
        ),
        CaseResult(
            "caches",
            "attic-hit-ratio",
            Status.PASSED,
            measurements=[
                Measurement("attic.hit_ratio", 0.9375, "ratio"),
                Measurement("attic.bytes_hit", 3 * 1024**2, "bytes"),
            ],
        ),
        CaseResult(
            "memory",
            "nix-build",
            Status.PASSED,
            measurements=[
                Measurement("memory.peak_working_set_bytes", 3 * 1024**3, "bytes"),
                Measurement("memory.limit_bytes", 8 * 1024**3, "bytes"),
                Measurement("memory.wall_seconds", 12.5, "seconds"),
            ],
        ),
        CaseResult("caches", "attic-reachable", Status.SKIPPED, "no endpoint", live=True),
        CaseResult("arc", "burst", Status.ERROR, "KeyError: 'x' | pipe"),
    ]
    return Report(
        RepoInfo("/repo", "a" * 40, False),
        "fleet.yaml",
        "b" * 64,
        results,
        created="2026-01-01T00:00:00Z",
    )


def test_formats_are_registered() -> None:
    assert {"text", "json", "github", "sarif", "markdown"} <= set(FORMATS)


def test_sarif_validates_against_the_2_1_0_schema() -> None:
    log = sarif_log(sample_report())
    errors = sorted(sarif_validator().iter_errors(log), key=lambda e: list(e.path))
    assert errors == [], [f"{list(e.path)}: {e.message}" for e in errors]
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [r.id for r in all_rules()]
    assert all(r["help"]["text"] and "Fix:" in r["help"]["text"] for r in rules)
    by_rule = {r["ruleId"]: r for r in run["results"]}
    lane = by_rule["LANE001"]
    assert lane["level"] == "error"
    assert rules[lane["ruleIndex"]]["id"] == "LANE001"
    region = lane["locations"][0]["physicalLocation"]["region"]
    assert region == {"startLine": 7, "startColumn": 14}
    assert by_rule["LANE003"]["level"] == "warning"
    assert by_rule["LANE003"]["suppressions"][0]["justification"] == "lanes come from the matrix"
    assert "locations" not in by_rule["NIX002"]
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert run["invocations"][0]["executionSuccessful"] is False
    assert notes[0]["message"]["text"].startswith("arc::burst: KeyError")


def test_sarif_of_a_real_check_run_validates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "ci.yml").write_text(
        "on: push\njobs:\n  build:\n    runs-on: [self-hosted, tinyland-nix]\n"
        "    steps:\n      - run: nix build\n  typo:\n    runs-on: tinyland-nixx\n"
        "    steps:\n      - run: echo hi\n",
        encoding="utf-8",
    )
    code = main(
        [
            "check",
            "--repo",
            str(tmp_path),
            "--suite",
            "placement",
            "--suite",
            "bootstrap",
            "--format",
            "sarif",
        ]
    )
    assert code == 1
    log = json.loads(capsys.readouterr().out)
    assert list(sarif_validator().iter_errors(log)) == []
    ids = sorted(r["ruleId"] for r in log["runs"][0]["results"])
    assert ids == ["BOOT001", "LANE001", "LANE002"]
    lane001 = next(r for r in log["runs"][0]["results"] if r["ruleId"] == "LANE001")
    assert "did you mean `tinyland-nix`" in lane001["message"]["text"]
    assert (
        lane001["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        == ".github/workflows/ci.yml"
    )


def test_markdown_summary() -> None:
    text = renderer("markdown")(sample_report())
    assert text.startswith("## flywheel-harness: ❌ failed\n")
    assert "| suite | passed | failed | skipped | errors |" in text
    assert "| bootstrap | 0 | 2 | 0 | 0 |" in text
    assert "| caches | 1 | 0 | 1 | 0 |" in text
    assert "| caches | attic-reachable | ⏭️ skipped (live) | no endpoint |" in text
    assert "| arc | burst | 💥 error | KeyError: 'x' \\| pipe |" in text
    assert "- **attic.hit_ratio** (caches::attic-hit-ratio): 93.8%" in text
    assert (
        "- **peak memory** (memory::nix-build): 3.0Gi of the 8.0Gi envelope (38%)" in text
        or re.search(
            r"peak memory\*\* \(memory::nix-build\): 3(\.0)?Gi of the 8(\.0)?Gi "
            r"envelope \(38%\)",
            text,
        )
    )
    assert "| memory::nix-build | memory.wall_seconds | 12.500 s |" in text
    top = text.split("### Top findings", 1)[1]
    assert (
        "- **LANE001** error `.github/workflows/ci.yml:7`: job `build` runs on `myapp-nix`" in top
    )
    assert "**BOOT001**" in top and "**NIX002**" in top
    assert "LANE003" not in top  # suppressed
    assert "1 suppressed finding(s) not shown" in top


def test_markdown_of_a_passing_run_says_so() -> None:
    report = Report(
        RepoInfo("/r", None, False),
        "bundled:honey.yaml",
        "c" * 64,
        [CaseResult("workflows", "readable", Status.PASSED)],
    )
    text = renderer("markdown")(report)
    assert text.startswith("## flywheel-harness: ✅ passed")
    assert "no commit" in text


def test_markdown_shows_a_speed_up_as_a_factor_and_a_hit_ratio_in_percent() -> None:
    report = Report(
        RepoInfo("/r", None, False),
        "bundled:honey.yaml",
        "c" * 64,
        [
            CaseResult(
                "caches",
                "attic-substitution",
                Status.PASSED,
                measurements=[
                    Measurement("attic.acceleration", 3.576, "ratio"),
                    Measurement("attic.hit_ratio_bytes", 0.5, "ratio"),
                ],
            )
        ],
    )
    text = renderer("markdown")(report)
    assert "| caches::attic-substitution | attic.acceleration | 3.58x |" in text
    assert "| caches::attic-substitution | attic.hit_ratio_bytes | 50.0% |" in text


def test_github_annotations_keep_within_limits_and_count_the_rest() -> None:
    findings = [Finding("LANE001", f"label {i}", file="ci.yml", line=i + 1) for i in range(25)]
    findings += [
        Finding("LANE003", f"unresolved {i}", Severity.WARNING, file="ci.yml", line=100 + i)
        for i in range(3)
    ]
    findings += [Finding("X", f"note {i}", Severity.NOTE) for i in range(12)]
    report = Report(
        RepoInfo("/r", None, False),
        "c",
        "d",
        [
            CaseResult("placement", "labels", Status.FAILED, findings=findings),
            CaseResult("arc", "burst", Status.ERROR, "boom"),
        ],
    )
    lines = renderer("github")(report).splitlines()
    errors = [ln for ln in lines if ln.startswith("::error")]
    warnings = [ln for ln in lines if ln.startswith("::warning")]
    notices = [ln for ln in lines if ln.startswith("::notice")]
    assert len(errors) == MAX_PER_LEVEL and len(warnings) == 3
    assert len(notices) == MAX_PER_LEVEL
    assert errors[0] == "::error title=arc::burst::boom".replace("arc::burst", "arc%3A%3Aburst")
    assert notices[-1].startswith(
        "::notice title=flywheel-harness::16 error, 3 notice annotation(s) left out"
    )
    assert lines[-1] == "0 passed, 1 failed, 0 skipped, 1 errors"


def test_github_annotates_a_failed_case_that_has_no_finding() -> None:
    reason = "live case skipped under --require-live: not on a self-hosted runner"
    report = Report(
        RepoInfo("/r", None, False),
        "c",
        "d",
        [
            CaseResult(
                "bootstrap", "runner-nix-working-after-install", Status.FAILED, reason, live=True
            ),
            CaseResult(
                "placement",
                "labels",
                Status.FAILED,
                "1 finding(s): LANE001",
                findings=[Finding("LANE001", "bad label", file="ci.yml", line=3)],
            ),
        ],
    )
    lines = renderer("github")(report).splitlines()
    assert lines[0] == ("::error title=bootstrap%3A%3Arunner-nix-working-after-install::" + reason)
    assert lines[1].startswith("::error file=ci.yml,line=3,title=LANE001::")
    assert len([ln for ln in lines if ln.startswith("::error")]) == 2


def test_text_line_is_what_problem_matchers_parse() -> None:
    text = renderer("text")(sample_report())
    pattern = re.compile(r"^(.+):(\d+):(\d+): (error|warning|note): (.+) \[([A-Z]+\d+)\]")
    lines = [ln for ln in text.splitlines() if pattern.match(ln)]
    assert (
        ".github/workflows/ci.yml:7:14: error: job `build` runs on `myapp-nix` [LANE001]" in lines
    )
    assert any(ln.endswith("(suppressed: lanes come from the matrix)") for ln in lines)


def test_a_finding_as_json_keeps_every_field_in_order() -> None:
    import dataclasses

    from harness.results import Finding, Severity

    plain = Finding("WF001", "m", Severity.WARNING, "a.yml", 3, 5, "build", 2)
    assert plain.to_json() == {
        k: (str(v) if k == "severity" else v)
        for k, v in dataclasses.asdict(plain).items()
        if k not in ("suppressed", "suppression", "callers")
    }
    fields = ["rule", "message", "severity", "file", "line", "column", "job", "step"]
    assert list(plain.to_json()) == fields
    full = dataclasses.replace(plain, suppressed=True, suppression="why", callers=["a", "b"])
    assert full.to_json() == {**dataclasses.asdict(full), "severity": "warning"}
    assert list(full.to_json()) == list(dataclasses.asdict(full))
