"""Inline `# flywheel-harness: ignore[RULE] reason` and contract `ignore:` suppressions."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from harness.cli import main
from harness.contract import BUNDLED_CONTRACT

LEGACY = """\
on: push
jobs:
  build:
    runs-on: myapp-nix  # flywheel-harness: ignore[LANE001] legacy label until the move
    steps:
      - run: echo hi
  above:
    # flywheel-harness: ignore[LANE002, LANE001] scale set migration
    runs-on: [self-hosted, tinyland-nix]
    steps:
      - run: echo hi
  other-rule:
    runs-on: myapp-docker  # flywheel-harness: ignore[BOOT001] wrong rule, still reported
    steps:
      - run: echo hi
"""


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def run_json(
    repo: Path, capsys: pytest.CaptureFixture[str], *extra: str
) -> tuple[int, dict[str, Any]]:
    code = main(["check", "--repo", str(repo), "--suite", "placement", "--format", "json", *extra])
    return code, json.loads(capsys.readouterr().out)


def findings(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [f for r in report["results"] for f in r["findings"]]


def test_inline_suppression_on_the_line_and_the_line_above(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = write(tmp_path, {".github/workflows/ci.yml": LEGACY})
    code, report = run_json(repo, capsys)
    assert code == 1  # other-rule's LANE001 is not suppressed by an ignore of BOOT001
    by_job = {(f["job"], f["rule"]): f for f in findings(report)}
    build = by_job[("build", "LANE001")]
    assert build["suppressed"] is True
    assert build["suppression"] == "legacy label until the move"
    above = by_job[("above", "LANE002")]
    assert above["suppressed"] is True and above["suppression"] == "scale set migration"
    other = by_job[("other-rule", "LANE001")]
    assert "suppressed" not in other
    failing = [f for f in findings(report) if not f.get("suppressed")]
    assert [f["job"] for f in failing] == ["other-rule"]


def test_suppressed_findings_are_still_counted_in_text(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = write(tmp_path, {".github/workflows/ci.yml": LEGACY.partition("  other-rule:")[0]})
    code = main(["check", "--repo", str(repo), "--suite", "placement"])
    out = capsys.readouterr().out
    assert code == 0
    assert "(suppressed: legacy label until the move)" in out
    assert "(suppressed: scale set migration)" in out


def test_contract_ignore_by_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    contract = BUNDLED_CONTRACT.read_text(encoding="utf-8") + (
        "ignore:\n"
        "  - path: .github/workflows/legacy-*.yml\n"
        "    rules: [LANE001]\n"
        "    reason: legacy workflows move in Q3\n"
    )
    workflow = "on: push\njobs:\n  build:\n    runs-on: myapp-nix\n    steps:\n      - run: x\n"
    repo = write(
        tmp_path,
        {
            "fleet.yaml": contract,
            ".github/workflows/legacy-build.yml": workflow,
            ".github/workflows/new.yml": workflow,
        },
    )
    code, report = run_json(repo, capsys)
    assert code == 1
    lane = {f["file"]: f for f in findings(report) if f["rule"] == "LANE001"}
    assert (
        lane[".github/workflows/legacy-build.yml"]["suppression"] == "legacy workflows move in Q3"
    )
    assert "suppressed" not in lane[".github/workflows/new.yml"]
    (repo / ".github/workflows/new.yml").unlink()
    code, report = run_json(repo, capsys)
    assert code == 0
    assert sum(1 for f in findings(report) if f.get("suppressed")) == 1


def test_a_finding_on_a_fifo_is_never_read_for_suppressions(tmp_path: Path) -> None:
    """Reading a FIFO would block until a writer comes: it is not a file to look through."""
    import threading

    from harness.results import Finding
    from harness.suppress import inline_suppression

    os.mkfifo(tmp_path / "pipe.yml")
    found: list[str | None] = []
    worker = threading.Thread(
        target=lambda: found.append(
            inline_suppression(tmp_path, Finding("LANE001", "m", file="pipe.yml", line=1))
        ),
        daemon=True,
    )
    worker.start()
    worker.join(timeout=10)
    assert not worker.is_alive()
    assert found == [None]


def test_suppression_reads_the_file_as_it_is_now(tmp_path: Path) -> None:
    """A file edited between two checks of one process is read again."""
    from harness.results import Finding
    from harness.suppress import inline_suppression

    path = tmp_path / "ci.yml"
    path.write_text("runs-on: x\n", encoding="utf-8")
    finding = Finding("LANE001", "m", file="ci.yml", line=1)
    assert inline_suppression(tmp_path, finding) is None
    path.write_text("runs-on: x  # flywheel-harness: ignore[LANE001] moving soon\n", "utf-8")
    later = path.stat().st_mtime_ns + 1_000_000
    os.utime(path, ns=(later, later))  # a new version even on a coarse clock
    assert inline_suppression(tmp_path, finding) == "moving soon"
