"""`fleet --patches DIR`: a patch per repository with fixes, made from real git checkouts,
applied with `git apply --check` and `git am` to fresh clones, after which `check` no longer
reports the fixed findings and reports nothing new; DIR is checked before any work."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from harness.cli import main
from tests.helpers.fleet import COMMITTER, ORG, write_contract, write_fleet

FIXED = {"b": "PLACE001", "boot": "BOOT001", "docs": "LANE004"}
"""Checkout -> the finding its patch fixes (with --unsafe); every other one has no patch."""


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _fleet(root: Path, *extra: str) -> dict[str, Any]:
    out = root / f"fleet{len(list(root.glob('fleet*.json')))}.json"
    code = main(
        [
            "fleet",
            "--repos",
            str(root / "repos"),
            "--contract",
            str(root / "contract.yaml"),
            "--jobs",
            "1",
            "--format",
            "json",
            "--output",
            str(out),
            *extra,
        ]
    )
    assert code in (0, 1)
    document: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return document


def _findings(root: Path, repo: Path, name: str) -> list[tuple[str, str, str]]:
    out = root / f"check-{name}.json"
    static = [
        a for s in ("workflows", "placement", "bootstrap", "publication") for a in ("--suite", s)
    ]
    argv = ["check", "--repo", str(repo), "--contract", str(root / "contract.yaml")]
    argv += ["--repo-name", f"{ORG}/{name}", "--format", "json", "--output", str(out), *static]
    assert main(argv) in (0, 1)
    report = json.loads(out.read_text(encoding="utf-8"))
    return sorted(
        (f["rule"], f["file"] or "", f["job"] or "")
        for r in report["results"]
        for f in r["findings"]
        if not f.get("suppressed")
    )


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("patches")
    write_fleet(root / "repos", commit=True)
    write_contract(root / "contract.yaml")
    return root


def test_each_patch_applies_to_a_fresh_clone_and_fixes_its_findings(fleet: Path) -> None:
    patches = fleet / "patches"
    document = _fleet(fleet, "--patches", str(patches), "--unsafe")
    rows = {row["repo"]: row for row in document["repos"]}
    written = sorted(p.name for p in patches.iterdir())
    assert written == sorted(f"{ORG}__{name}.patch" for name in FIXED)
    for name, rule in FIXED.items():
        entry = rows[f"{ORG}/{name}"]["patch"]
        assert entry["file"] == str(patches / f"{ORG}__{name}.patch")
        assert [line.split()[0] for line in entry["fixed"]] == [rule]
        patch = Path(entry["file"])
        text = patch.read_text(encoding="utf-8")
        assert f"- {entry['fixed'][0]}" in text
        clone = fleet / "clones" / name
        subprocess.run(
            [
                "git",
                "clone",
                "-q",
                "-c",
                "core.autocrlf=false",
                str(fleet / "repos" / name),
                str(clone),
            ],
            check=True,
            timeout=60,
        )
        _git(clone, "apply", "--check", str(patch))
        _git(clone, *COMMITTER, "am", "-q", "--keep-cr", str(patch))
        assert "flywheel-harness finding" in _git(clone, "log", "-1", "--format=%s")
        before = _findings(fleet, fleet / "repos" / name, name)
        after = _findings(fleet, clone, name)
        assert (rule, ".github/workflows/ci.yml") in {(r, f) for r, f, _ in before}
        assert set(after) <= set(before)  # nothing new
        assert rule not in {r for r, _, _ in after}  # the fixed finding is gone
    # a repository left with findings and no patch says why, finding by finding
    legacy = rows[f"{ORG}/legacy"]["patch"]
    assert legacy["file"] is None
    [reason] = legacy["left"]
    assert reason.startswith("LANE004 .github/workflows/ci.yml:4 (job deploy): the hosted")
    assert reason.endswith("renew it or remove it from the contract")


def test_without_unsafe_no_unsafe_fix_is_written_and_old_patches_go(fleet: Path) -> None:
    patches = fleet / "patches-safe"
    patches.mkdir()
    stale = patches / f"{ORG}__docs.patch"
    stale.write_text("an old patch\n", encoding="utf-8")
    document = _fleet(fleet, "--patches", str(patches))
    assert list(patches.iterdir()) == []
    docs = next(row for row in document["repos"] if row["repo"] == f"{ORG}/docs")
    assert docs["patch"]["file"] is None
    assert "pass --unsafe to apply it" in docs["patch"]["left"][0]


def test_patches_are_written_per_shard_and_the_merge_lists_them(
    fleet: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    patches = fleet / "patches-sharded"
    shards = [
        _fleet(fleet, "--shard", f"{k}/2", "--patches", str(patches), "--unsafe") for k in (1, 2)
    ]
    assert sorted(p.name for p in patches.iterdir()) == sorted(f"{ORG}__{n}.patch" for n in FIXED)
    for index, shard in enumerate(shards):
        (fleet / f"shard{index}.json").write_text(json.dumps(shard), encoding="utf-8")
    capsys.readouterr()
    merge = ["fleet", "merge", str(fleet / "shard0.json"), str(fleet / "shard1.json")]
    assert main(merge) == 0
    text = capsys.readouterr().out
    assert "Patches:\n  3 patch(es) for 14 repositories" in text
    for name in FIXED:
        assert f"{ORG}/{name}: {patches / f'{ORG}__{name}.patch'} fixes 1 finding(s)" in text
    for form, heading in (("markdown", "### Patches"), ("html", "<h2>Patches</h2>")):
        assert main([*merge, "--format", form]) == 0
        assert heading in capsys.readouterr().out


def _one_line_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    capsys.readouterr()
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1, err
    return err


def test_a_file_or_an_unwritable_path_is_bad_input_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a_file = tmp_path / "not-a-dir"
    a_file.write_text("x", encoding="utf-8")
    out = tmp_path / "report.json"
    # --repos names nothing: the --patches problem is found before the repositories are read
    base = ["fleet", "--repos", str(tmp_path / "nowhere"), "--output", str(out)]
    err = _one_line_exit_2([*base, "--patches", str(a_file)], capsys)
    assert f"--patches {a_file}: is a file, not a folder" in err
    err = _one_line_exit_2([*base, "--patches", str(a_file / "sub")], capsys)
    assert "--patches" in err and "is a file, not a folder" in err
    assert not out.exists()


@pytest.mark.skipif(
    not hasattr(__import__("os"), "geteuid") or __import__("os").geteuid() == 0,
    reason="root writes into read-only folders",
)
def test_a_read_only_folder_is_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    err = _one_line_exit_2(
        ["fleet", "--repos", str(tmp_path), "--patches", str(locked / "p")], capsys
    )
    assert "not writable" in err


def test_unsafe_needs_patches_and_merge_takes_none(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    err = _one_line_exit_2(["fleet", "--repos", str(tmp_path), "--unsafe"], capsys)
    assert "--unsafe chooses the fixes of --patches DIR" in err
    err = _one_line_exit_2(
        ["fleet", "--patches", str(tmp_path / "p"), "merge", str(tmp_path / "r.json")], capsys
    )
    assert "written by each shard's own run" in err
