"""`fleet --repo-list` lines `OWNER/REPO@REF` fetched through the GitHub API (commits, recursive
trees, blobs) of a server of our own, into the uses cache: checked like a checkout of the
same files, a second run asks nothing, and every failure is one line and a row not checked."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.cli import main
from harness.github.uses.api import ContentsApi
from harness.github.uses.apitree import GitHubTree
from harness.github.uses.tree import GitTree
from harness.rollout import checkout, snapshot
from harness.rollout.snapshot import wanted, write_snapshot
from tests.helpers.fleet import LANE_ONLY, ORG, write_contract
from tests.helpers.paths import ROOT
from tests.helpers.uses import ContentsServer, commit, contents_api, git, git_repo

SERVED = f"{ORG}/b"
"""The repository the API serves (tranche-1 of the test contract)."""
WORKFLOW = """\
on: push
jobs:
  daemon:
    runs-on: tinyland-nix
    steps:
      - uses: ./.github/actions/setup
      - run: nix build .#daemon
  site:
    runs-on: ubuntu-latest
    steps: [{run: echo site}]
"""
SETUP = """\
name: setup
runs:
  using: composite
  steps:
    - uses: DeterminateSystems/nix-installer-action@v16
"""
FLAKE = """\
{
  outputs = { self, nixpkgs, crane, ... }:
    let
      pkgs = nixpkgs.legacyPackages.x86_64-linux;
      craneLib = crane.mkLib pkgs;
    in {
      packages.x86_64-linux.daemon = pkgs.callPackage ./nix/daemon.nix { inherit craneLib; };
    };
}
"""
DAEMON = '{ craneLib }:\n\ncraneLib.buildPackage { pname = "daemon"; src = ../.; }\n'
VALUES = """\
runnerScaleSetName: tinyland-nix
template:
  spec:
    containers:
      - name: sidecar
        image: busybox
"""
"""Helm values of the scale-set chart with no `runner` container: no memory limit (ARC001)."""
FILES = {
    ".github/workflows/ci.yml": WORKFLOW,
    ".github/actions/setup/action.yml": SETUP,
    "flake.nix": FLAKE,
    "nix/daemon.nix": DAEMON,
    "infra/main.tf": 'terraform {\n  backend "local" {}\n}\n',
    "deploy/runners/values.yaml": VALUES,
    "tests/fixtures/values.yaml": VALUES,
    "fleet.yaml": "# the repository's own contract (the fleet reads its own)\n",
    "README.md": "# b\n",
    "node_modules/x/action.yml": "name: vendored\n",
    ".hidden/x.nix": "{ }\n",
}
"""The served repository at `v1`: a heavy flake output built on the light lane (PLACE001,
seen only when `flake.nix` and `nix/daemon.nix` are read), a hosted Linux job (LANE004), and
a scale set without a memory limit (ARC001, seen only when its Helm values are read)."""
TOKEN = "ghp_fleetS3cretValue0123456789"


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """The served repository (tag v1), a local checkout of `a`, a contract, an empty cache
    and the API server."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    source = git_repo(tmp_path / "b", FILES)
    git(source, "tag", "v1")
    local = git_repo(tmp_path / "a", {".github/workflows/ci.yml": LANE_ONLY})
    contract = write_contract(tmp_path / "contract.yaml")
    with contents_api() as api:
        api.repos[SERVED] = source
        yield {"tmp": tmp_path, "source": source, "local": local, "contract": contract, "api": api}


def fleet(
    served: dict[str, Any], lines: list[str], *flags: str, name: str = "repos.txt"
) -> tuple[int, dict[str, Any], Path]:
    """Run `fleet --repo-list` in this process; the exit code, the JSON report, the list."""
    listing = served["tmp"] / name
    listing.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    out = served["tmp"] / "fleet.json"
    code = main(
        [
            "fleet",
            "--repo-list",
            str(listing),
            "--contract",
            str(served["contract"]),
            "--github-api",
            served["api"].url,
            "--jobs",
            "1",
            "--format",
            "json",
            "--output",
            str(out),
            *flags,
        ]
    )
    return code, json.loads(out.read_text(encoding="utf-8")), listing


def rows(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["repo"]: row for row in document["repos"]}


def findings(row: dict[str, Any]) -> list[tuple[Any, ...]]:
    """What a row's report found, without where the checkout was."""
    return sorted(
        (f["rule"], f.get("file"), f.get("line"), f["message"])
        for case in row["report"]["results"]
        for f in case["findings"]
    )


def test_a_list_mixing_checkouts_and_refs_is_checked_like_checkouts(
    served: dict[str, Any],
) -> None:
    code, document, _ = fleet(
        served, [f"{ORG}/a={served['local']}", f"{SERVED}@v1"], "--tranche", "tranche-1"
    )
    api: ContentsServer = served["api"]
    fetched = rows(document)[SERVED]
    assert fetched["fetched"]["from"] == "api" and fetched["fetched"]["ref"] == "v1"
    assert fetched["fetched"]["commit"] == git(served["source"], "rev-parse", "v1")
    assert rows(document)[f"{ORG}/a"]["verdict"] == "ready" and code == 1
    rules = {f[0] for f in findings(fetched)}
    assert {"PLACE001", "LANE004"} <= rules  # the flake and the hosted job were read
    # only what the suites read was asked for: no README, vendored, fixture or hidden files
    blobs = [r for r in api.requests if "/git/blobs/" in r]
    assert len(blobs) == 7 and len(api.requests) == 9  # commit, tree, seven blobs
    kept = sorted(
        p.relative_to(fetched["path"]).as_posix()
        for p in Path(fetched["path"]).rglob("*")
        if p.is_file()
    )
    assert kept == [
        ".github/actions/setup/action.yml",
        ".github/workflows/ci.yml",
        "deploy/runners/values.yaml",
        "flake.nix",
        "fleet.yaml",
        "infra/main.tf",
        "nix/daemon.nix",
    ]
    # the same files as a checkout give the same row
    _, local, _ = fleet(served, [f"{SERVED}={served['source']}"], name="local.txt")
    checkout_row = rows(local)[SERVED]
    for key in ("verdict", "reasons", "lanes", "hosted", "counts", "promotion"):
        assert fetched[key] == checkout_row[key], key
    assert findings(fetched) == findings(checkout_row)


def test_helm_values_of_a_ref_are_read_like_a_checkouts(served: dict[str, Any]) -> None:
    _, fetched, _ = fleet(served, [f"{SERVED}@v1"], "--suite", "arc")
    _, local, _ = fleet(served, [f"{SERVED}={served['source']}"], "--suite", "arc", name="l.txt")
    arc = [f for f in findings(rows(fetched)[SERVED]) if f[0] == "ARC001"]
    assert [f[1] for f in arc] == ["deploy/runners/values.yaml"]  # not the fixture's copy
    assert findings(rows(fetched)[SERVED]) == findings(rows(local)[SERVED])


def test_a_second_run_asks_nothing_and_offline_reads_the_cache(served: dict[str, Any]) -> None:
    api: ContentsServer = served["api"]
    _, first, _ = fleet(served, [f"{SERVED}@v1"])
    asked = len(api.requests)
    # in a process pool: each worker reads the same cache
    _, second, _ = fleet(served, [f"{SERVED}@v1", f"{ORG}/a={served['local']}"], "--jobs", "2")
    _, offline, _ = fleet(served, [f"{SERVED}@v1"], "--offline")
    assert len(api.requests) == asked  # zero requests after the first run
    for document in (second, offline):
        row = rows(document)[SERVED]
        assert row["fetched"]["from"] == "cache"
        assert findings(row) == findings(rows(first)[SERVED])
    # a moved tag is seen after --uses-ttl; the snapshot of a commit is reused
    commit(served["source"], {"README.md": "# moved\n"}, "docs only")
    git(served["source"], "tag", "-f", "v1")
    _, moved, _ = fleet(served, [f"{SERVED}@v1"], "--uses-ttl", "0")
    row = rows(moved)[SERVED]
    assert row["fetched"]["commit"] == git(served["source"], "rev-parse", "v1")
    assert row["fetched"]["from"] == "api" and findings(row) == findings(rows(first)[SERVED])


def test_offline_without_a_cache_is_a_row_not_checked(
    served: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    code, document, listing = fleet(
        served,
        [f"{ORG}/a={served['local']}", f"{SERVED}@v1"],
        "--offline",
        "--tranche",
        "tranche-1",
    )
    row = rows(document)[SERVED]
    line = (
        f"not checked: {listing}:2: {SERVED}@v1: offline (--offline), and the cache holds no "
        f"copy of {SERVED} at v1: run once online, or give --uses-source {SERVED}=DIR"
    )
    assert row["verdict"] == "blocked" and row["reasons"] == [line]
    assert row["path"] is None and row["fetched"] == {"ref": "v1", "error": line}
    assert rows(document)[f"{ORG}/a"]["verdict"] == "ready"
    assert code == 1 and served["api"].requests == []
    assert capsys.readouterr().err == f"flywheel-harness: {line}\n"


@pytest.mark.parametrize(
    ("line", "status", "words"),
    [
        (
            f"{ORG}/ghost@v1",
            None,
            "no such repository, or a private one: set GITHUB_TOKEN (HTTP 404)",
        ),
        (f"{SERVED}@nope", None, f"nope is not a commit, tag or branch of {SERVED} (HTTP 422)"),
        (
            f"{SERVED}@v1",
            403,
            "GitHub API rate limit exhausted until 2030-03-17 17:46:40 UTC; set GITHUB_TOKEN, "
            f"or give --uses-source for {SERVED}",
        ),
    ],
)
def test_api_failures_are_one_line_naming_the_list_line(
    served: dict[str, Any],
    capsys: pytest.CaptureFixture[str],
    line: str,
    status: int | None,
    words: str,
) -> None:
    served["api"].status = status
    code, document, listing = fleet(served, ["# fleet", line], "--tranche", "tranche-1")
    (row,) = document["repos"]
    expected = f"not checked: {listing}:2: {line}: {words}"
    assert row["reasons"] == [expected] and row["verdict"] == "blocked"
    err = capsys.readouterr().err
    assert err == f"flywheel-harness: {expected}\n" and "Traceback" not in err
    assert code == 1  # the named tranche has a repository not checked
    assert len(served["api"].requests) == 1  # no retries of an answer that will not change


def test_a_truncated_tree_or_an_oversized_one_is_not_read_in_part(
    served: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    served["api"].truncated = True
    _, document, listing = fleet(served, [f"{SERVED}@v1"])
    (row,) = document["repos"]
    assert row["reasons"][0].startswith(f"not checked: {listing}:1: {SERVED}@v1: the file list")
    assert "is truncated (GitHub lists at most 100000 entries, 7 MB)" in row["reasons"][0]
    assert not any("/git/blobs/" in r for r in served["api"].requests)
    served["api"].truncated = False
    monkeypatch.setattr(snapshot, "MAX_BYTES", 100)
    _, document, _ = fleet(served, [f"{SERVED}@v1"])
    (row,) = document["repos"]
    assert "bytes to read, over the 100-byte limit" in row["reasons"][0]
    assert not any((served["tmp"] / "xdg").rglob("ci.yml"))  # nothing half-written


def test_a_slow_api_ends_at_the_time_limit(
    served: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    served["api"].delay = 5.0
    monkeypatch.setattr(checkout, "FETCH_DEADLINE", 1.0)
    _, document, _ = fleet(served, [f"{SERVED}@v1"])
    (row,) = document["repos"]
    assert row["reasons"][0].endswith("the time limit of the GitHub API reads passed")


def test_token_reaches_a_private_repository_and_never_the_output(served: dict[str, Any]) -> None:
    api: ContentsServer = served["api"]
    api.private.add(SERVED)
    api.token = TOKEN
    listing = served["tmp"] / "repos.txt"
    listing.write_text(f"{SERVED}@v1\n", encoding="utf-8")

    def run(token: str | None, *flags: str) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if k != "GITHUB_TOKEN"}
        env.update(PYTHONPATH=str(ROOT), **({"GITHUB_TOKEN": token} if token else {}))
        return subprocess.run(
            [
                *(sys.executable, "-m", "harness", "fleet", "--repo-list", str(listing)),
                *("--contract", str(served["contract"]), "--github-api", api.url),
                *("--jobs", "1", *flags),
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )

    without = run(None)
    assert "no such repository, or a private one: set GITHUB_TOKEN (HTTP 404)" in without.stderr
    with_token = run(TOKEN, "--format", "json")
    (row,) = json.loads(with_token.stdout)["repos"]
    assert row["fetched"]["from"] == "api" and "PLACE001" in {f[0] for f in findings(row)}
    assert f"Bearer {TOKEN}" in api.authorizations
    wrong = run("ghp_wrongS3cret", "--uses-ttl", "0")
    assert "the token cannot read it (HTTP 404)" in wrong.stderr
    for done in (without, with_token, wrong):
        assert "S3cret" not in done.stdout + done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("json_answers", [False, True])
def test_git_and_api_sources_write_the_same_snapshot(
    served: dict[str, Any], json_answers: bool
) -> None:
    served["api"].json_answers = json_answers
    sha = git(served["source"], "rev-parse", "v1")
    by_git, by_api = served["tmp"] / "git", served["tmp"] / "api"
    write_snapshot(by_git, GitTree(served["source"]), sha, "b")
    api_tree = GitHubTree(ContentsApi(served["api"].url, token=None), SERVED)
    assert api_tree.commit("v1") == sha
    write_snapshot(by_api, api_tree, sha, "b")

    def files(root: Path) -> dict[str, bytes]:
        return {
            p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()
        }

    assert files(by_git) == files(by_api) and len(files(by_git)) == 7


def test_a_clone_names_the_ref_and_a_bad_one_is_a_row_not_checked(
    served: dict[str, Any],
) -> None:
    clone = f"{SERVED}={served['source']}"
    _, document, listing = fleet(
        served, [f"{SERVED}@nope", f"{ORG}/a={served['local']}"], "--uses-source", clone
    )
    row = rows(document)[SERVED]
    assert row["reasons"] == [
        f"not checked: {listing}:1: {SERVED}@nope: nope is not a commit, tag or branch of "
        f"{served['source']}"
    ]
    _, document, _ = fleet(served, [f"{SERVED}@v1"], "--uses-source", clone)
    assert rows(document)[SERVED]["fetched"]["from"] == "dir"
    assert served["api"].requests == []


def test_what_the_suites_read() -> None:
    assert wanted(".github/workflows/ci.yml") and wanted(".github/actions/x/run.sh")
    assert wanted("fleet.yaml") and wanted("sub/fleet.yaml", 100)  # a contract, or values
    assert wanted("tools/check/action.yaml") and wanted("nix/pkgs/default.nix")
    assert wanted("infra/prod/main.tf") and wanted("infra/prod.auto.tfvars.json")
    assert not wanted("README.md") and not wanted("node_modules/a/action.yml")
    assert not wanted(".direnv/flake.nix") and not wanted("terraform.tfvars.example")
    # Helm values files are found by their content: any YAML small enough to be one
    assert wanted("deploy/values.yaml", 100) and wanted("k8s/runners.yml", 1 << 20)
    assert not wanted("deploy/values.yaml", (1 << 20) + 1)
    assert not wanted("tests/fixtures/values.yaml", 100) and not wanted("a/testdata/v.yml")


def test_matrix_splits_ref_lines_without_fetching(served: dict[str, Any]) -> None:
    listing = served["tmp"] / "repos.txt"
    listing.write_text(f"{SERVED}@v1\n{ORG}/a={served['local']}\n", encoding="utf-8")
    from harness.commands.matrix import fleet_matrix
    from harness.contract import load_contract

    matrix = fleet_matrix(listing, 2, load_contract(served["contract"]))
    assert [entry["repos"] for entry in matrix["include"]] == [[f"{ORG}/a"], [SERVED]]
    assert served["api"].requests == []
