"""`flywheel-harness fleet` over fourteen real git checkouts: verdicts, tranches, promotion,
activity joined from recorded `gh api` payloads, every output format, shards and merge."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from harness.cli import main
from harness.rollout.html import render_html
from harness.rollout.render import render_markdown, render_text
from tests.helpers.fleet import EXPECTED, ORG, REPOS, write_contract, write_fleet
from tests.helpers.paths import FIXTURES

ACTIVITY = FIXTURES / "activity"


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("fleet")
    repos = write_fleet(root / "repos")
    contract = write_contract(root / "contract.yaml")
    out = root / "fleet.json"
    code = main(
        [
            "fleet",
            "--repos",
            str(repos),
            "--contract",
            str(contract),
            "--tranche",
            "tranche-1",
            "--jobs",
            "2",
            "--format",
            "json",
            "--output",
            str(out),
            "--activity",
            str(ACTIVITY / "runs.json"),
            "--activity",
            str(ACTIVITY / "jobs.json"),
        ]
    )
    document = json.loads(out.read_text(encoding="utf-8"))
    return {
        "root": root,
        "repos": repos,
        "contract": contract,
        "code": code,
        "document": document,
        "rows": {r["repo"]: r for r in document["repos"]},
    }


def test_every_verdict_as_the_contract_says(fleet: dict[str, Any]) -> None:
    verdicts = {repo.split("/")[1]: row["verdict"] for repo, row in fleet["rows"].items()}
    assert verdicts == EXPECTED
    assert len(fleet["rows"]) == len(REPOS) >= 12


def test_each_verdict_is_explained(fleet: dict[str, Any]) -> None:
    rows = fleet["rows"]
    assert all(row["reasons"] for row in rows.values())
    assert rows[f"{ORG}/b"]["reasons"] == ["1 error finding(s) of PLACE001 (placement)"]
    assert rows[f"{ORG}/docs"]["reasons"] == ["1 error finding(s) of LANE004 (lanes)"]
    assert rows[f"{ORG}/boot"]["reasons"] == ["1 error finding(s) of BOOT001 (bootstrap)"]
    assert rows[f"{ORG}/legacy"]["reasons"][1].startswith("hosted exception expired on ")
    assert (
        "covers mac-release (macos-15), win-release (windows-latest)"
        in rows[f"{ORG}/mac-app"]["reasons"][0]
    )
    assert "1 lane/placement finding(s) shown as guidance" in rows[f"{ORG}/heavy-out"]["reasons"][0]
    assert "WF001" in " ".join(rows[f"{ORG}/empty"]["reasons"])  # no workflows


def _findings(row: dict[str, Any]) -> list[dict[str, Any]]:
    return [f for r in row["report"]["results"] for f in r["findings"]]


def test_macos_and_windows_jobs_never_get_place001(fleet: dict[str, Any]) -> None:
    for name in ("mac-app", "win-only"):
        row = fleet["rows"][f"{ORG}/{name}"]
        assert not [f for f in _findings(row) if f["rule"] in ("PLACE001", "LANE001")]
    assert fleet["rows"][f"{ORG}/mac-app"]["hosted"] == {
        "darwin/arm64": ["mac-release (macos-15)"],
        "windows/amd64": ["win-release (windows-latest)"],
    }


def test_not_enrolled_findings_are_notes(fleet: dict[str, Any]) -> None:
    row = fleet["rows"][f"{ORG}/heavy-out"]
    (finding,) = _findings(row)
    assert (finding["rule"], finding["severity"]) == ("PLACE001", "note")
    assert row["counts"]["placement"] == 1 and row["counts"]["error"] == 0
    assert row["promotion"]["passes"] is False
    assert row["promotion"]["reasons"] == ["1 error finding(s) of PLACE001"]


def test_row_shape_and_schema(fleet: dict[str, Any]) -> None:
    document = fleet["document"]
    assert document["schema"] == "flywheel-harness/fleet@1"
    row = fleet["rows"][f"{ORG}/user-tool"]
    assert {"repo", "path", "tranche", "ownership", "verdict", "counts", "report"} <= set(row)
    assert row["ownership"] == "user-owned" and row["tranche"] is None
    assert row["report"]["schema"] == "flywheel-harness/report@1"
    assert set(row["counts"]) >= {"bootstrap", "placement", "lanes", "publication", "workflows"}
    assert fleet["rows"][f"{ORG}/legacy"]["exceptions"][0]["state"] == "expired"


def test_tranches_and_promotion_candidates(fleet: dict[str, Any]) -> None:
    document = fleet["document"]
    one = document["tranches"]["tranche-1"]
    assert (one["ready"], one["total"]) == (2, 4)
    assert one["blocked"] == [f"{ORG}/b", f"{ORG}/docs"] and one["missing"] == []
    assert document["tranches"]["tranche-2"]["ready"] == 2
    assert document["promotion_candidates"] == [
        f"{ORG}/arm",
        f"{ORG}/c",
        f"{ORG}/candidate",
        f"{ORG}/win-only",
    ]
    assert fleet["code"] == 1  # tranche-1 has blocked repositories


def test_activity_joined_to_rows(fleet: dict[str, Any]) -> None:
    activity = fleet["document"]["activity"]
    assert activity["runs"] == 5 and activity["jobs"] == 4
    assert [i["repo"] for i in activity["enrolled_on_hosted"]] == [f"{ORG}/docs"]
    (slow,) = activity["slow_lane_queues"]
    assert slow["repo"] == f"{ORG}/a" and slow["labels"] == ["self-hosted", "tinyland-nix"]
    assert slow["queued_seconds"] == 7202
    assert [(i["repo"], i["in_fleet"]) for i in activity["active_not_enrolled"]] == [
        (f"{ORG}/outside", False),
        (f"{ORG}/user-tool", True),
    ]
    docs = fleet["rows"][f"{ORG}/docs"]["activity"]
    assert (docs["runs"], docs["hosted_jobs"]) == (1, 1)


def test_text_markdown_and_html(fleet: dict[str, Any]) -> None:
    document = fleet["document"]
    text = render_text(document)
    assert "tranche-1 (named): ready 2 of 4; blocked: tinyland-inc/b, tinyland-inc/docs" in text
    assert re.search(r"tinyland-inc/mac-app\s+tranche-1\s+repo-owned\s+excepted", text)
    markdown = render_markdown(document)
    assert "| repo | tranche | ownership | verdict |" in markdown
    assert "| tinyland-inc/b | tranche-1 | repo-owned | ❌ blocked |" in markdown
    page = render_html(document)
    assert page.startswith("<!doctype html>") and "<script>" in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)  # no external assets
    assert '<details id="repo-tinyland-inc-docs">' in page
    assert 'class="sortable"' in page


def test_a_tranche_that_is_ready_passes(
    fleet: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    listing = tmp_path / "repos.txt"
    listing.write_text(
        "".join(f"{ORG}/{name}={fleet['repos'] / name}\n" for name in ("c", "arm")),
        encoding="utf-8",
    )
    code = main(
        [
            "fleet",
            "--repo-list",
            str(listing),
            "--contract",
            str(fleet["contract"]),
            "--tranche",
            "tranche-2",
            "--jobs",
            "1",
        ]
    )
    assert code == 0
    assert "tranche-2 (named): ready 2 of 2" in capsys.readouterr().out


def test_a_tranche_with_an_unchecked_repository_fails(
    fleet: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    listing = tmp_path / "repos.txt"
    listing.write_text(f"{ORG}/c={fleet['repos'] / 'c'}\n", encoding="utf-8")
    code = main(
        [
            "fleet",
            "--repo-list",
            str(listing),
            "--contract",
            str(fleet["contract"]),
            "--tranche",
            "tranche-2",
            "--jobs",
            "1",
        ]
    )
    assert code == 1
    assert "not checked: tinyland-inc/arm" in capsys.readouterr().out


def test_bad_input_is_one_line_each(
    fleet: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    listing = tmp_path / "repos.txt"
    listing.write_text(
        "# the fleet\nnot a repo\ntinyland-inc/x@v1.2.0\ntinyland-inc/y=missing-dir\n",
        encoding="utf-8",
    )
    assert main(["fleet", "--repo-list", str(listing)]) == 2
    err = capsys.readouterr().err
    assert f"{listing}:2: 'not a repo': expected OWNER/REPO=PATH or OWNER/REPO@REF" in err
    assert f"{listing}:3" not in err  # a well-formed OWNER/REPO@REF is fetched when checked
    assert f"{listing}:4: tinyland-inc/y: missing-dir is not a directory" in err
    assert (
        main(
            [
                "fleet",
                "--repos",
                str(fleet["repos"]),
                "--contract",
                str(fleet["contract"]),
                "--tranche",
                "nope",
            ]
        )
        == 2
    )
    assert (
        "--tranche nope: no such tranche (known: tranche-1, tranche-2, tranche-3)"
        in capsys.readouterr().err
    )


def test_shards_then_merge_match_the_whole_run(
    fleet: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    listing = tmp_path / "repos.txt"
    listing.write_text(
        "".join(f"{ORG}/{name}={fleet['repos'] / name}\n" for name in REPOS), encoding="utf-8"
    )
    assert (
        main(
            [
                "matrix",
                "--repo",
                str(tmp_path),
                "--contract",
                str(fleet["contract"]),
                "--fleet",
                str(listing),
                "--shards",
                "3",
            ]
        )
        == 0
    )
    matrix = json.loads(capsys.readouterr().out)
    shards = [entry["shard"] for entry in matrix["include"]]
    assert shards == ["1/3", "2/3", "3/3"]
    listed = sorted(repo for entry in matrix["include"] for repo in entry["repos"])
    assert listed == sorted(f"{ORG}/{name}" for name in REPOS)
    reports = []
    for shard in shards:
        out = tmp_path / f"shard-{shard.replace('/', '-')}.json"
        main(
            [
                "fleet",
                "--repo-list",
                str(listing),
                "--contract",
                str(fleet["contract"]),
                "--shard",
                shard,
                "--jobs",
                "1",
                "--format",
                "json",
                "--output",
                str(out),
            ]
        )
        reports.append(str(out))
    merged = tmp_path / "merged.json"
    code = main(
        [
            "fleet",
            "merge",
            *reports,
            "--tranche",
            "tranche-1",
            "--format",
            "json",
            "--output",
            str(merged),
        ]
    )
    document = json.loads(merged.read_text(encoding="utf-8"))
    assert code == 1
    assert {r["repo"]: r["verdict"] for r in document["repos"]} == {
        repo: row["verdict"] for repo, row in fleet["rows"].items()
    }
    assert document["tranches"]["tranche-1"] == fleet["document"]["tranches"]["tranche-1"]
    assert main(["fleet", "merge", reports[0], reports[0]]) == 2
    assert "is in more than one report" in capsys.readouterr().err


def test_a_repository_that_cannot_be_checked_is_a_blocked_row(
    fleet: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import date

    import harness.scheduler
    from harness.contract import load_contract
    from harness.options import Options
    from harness.rollout.row import FleetSetup, check_repo
    from harness.rollout.targets import Target

    def broken(*args: object) -> None:
        raise OSError("disk gone")

    monkeypatch.setattr(harness.scheduler, "run_suites", broken)
    setup = FleetSetup(load_contract(fleet["contract"]), (), Options(), date.today())
    row = check_repo(setup, Target(f"{ORG}/a", fleet["repos"] / "a"))
    assert (row["verdict"], row["tranche"]) == ("blocked", "tranche-1")
    assert row["reasons"] == ["could not be checked: OSError: disk gone"]


def test_repo_at_a_ref_is_read_from_a_local_clone(
    fleet: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import subprocess

    clone = tmp_path / "clone"
    (clone / ".github" / "workflows").mkdir(parents=True)
    workflow = clone / ".github" / "workflows" / "ci.yml"
    workflow.write_text("on: push\njobs:\n  b: {runs-on: tinyland-nix, steps: [{run: echo}]}\n")

    def git(*args: str) -> None:
        subprocess.run(
            ["git", "-C", str(clone), "-c", "user.name=t", "-c", "user.email=t@t", *args],
            check=True,
            capture_output=True,
            timeout=30,
        )

    git("init", "-q")
    git("add", ".")
    git("commit", "-qm", "lane only")
    git("tag", "v1")
    workflow.write_text("on: push\njobs:\n  b: {runs-on: ubuntu-latest, steps: [{run: echo}]}\n")
    git("commit", "-qam", "hosted")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    listing = tmp_path / "repos.txt"
    listing.write_text(f"{ORG}/c@v1\n", encoding="utf-8")
    out = tmp_path / "at-ref.json"
    code = main(
        [
            "fleet",
            "--repo-list",
            str(listing),
            "--contract",
            str(fleet["contract"]),
            "--uses-source",
            f"{ORG}/c={clone}",
            "--jobs",
            "1",
            "--format",
            "json",
            "--output",
            str(out),
        ]
    )
    (row,) = json.loads(out.read_text(encoding="utf-8"))["repos"]
    assert code == 0 and row["verdict"] == "ready"  # v1 ran on the lane; HEAD would not
    assert row["fetched"]["from"] == "dir"
    assert (tmp_path / "cache" / "flywheel-harness" / "uses" / "_trees").is_dir()
    listing.write_text(f"{ORG}/c@HEAD\n", encoding="utf-8")
    main(
        [
            "fleet",
            "--repo-list",
            str(listing),
            "--contract",
            str(fleet["contract"]),
            "--uses-source",
            f"{ORG}/c={clone}",
            "--jobs",
            "1",
            "--format",
            "json",
            "--output",
            str(out),
        ]
    )
    (row,) = json.loads(out.read_text(encoding="utf-8"))["repos"]
    assert row["verdict"] == "blocked" and "LANE004" in row["reasons"][0]
