"""The repository under test cannot escape: no read outside it, no read of a non-file.

A pull request controls every file: `uses: ./../X`, a workflow that is a symlink to
`/dev/zero`, a `.tf` symlinked to a FIFO or a directory. Each must end in one finding
saying why (WF002 "outside the repository", WF001 or STATE003 "cannot read: ..."), never in a
read of the host's files, a hang or a MemoryError.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.helpers.repos import findings, workflow, write_repo

JOB = """\
    on: push
    jobs:
      build:
        runs-on: ubuntu-latest
        steps:
          - uses: {uses}
    """


@pytest.mark.parametrize("uses", ["./../outside", "./../../../../../../etc/passwd", "./link-out"])
def test_local_uses_outside_the_repository_is_wf002(uses: str, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "action.yml").write_text("runs: {using: composite, steps: []}\n")
    repo = write_repo(tmp_path / "repo", workflow(JOB.format(uses=uses)))
    (repo / "link-out").symlink_to(outside)  # a committed symlink out of the repository
    found = findings(repo, "workflows.local_uses", "WF002")
    assert [f.message for f in found] == [f"step `uses: {uses}` resolves outside the repository"]
    assert not findings(repo, "workflows.readable", "WF001")  # nothing outside was parsed


def test_reusable_workflow_outside_the_repository_is_wf002(tmp_path: Path) -> None:
    repo = write_repo(
        tmp_path / "repo",
        workflow("""\
        on: push
        jobs:
          call:
            uses: ./../../etc/passwd
        """),
    )
    found = findings(repo, "workflows.local_uses", "WF002")
    assert [f.message for f in found] == [
        "job calls `./../../etc/passwd`, which resolves outside the repository"
    ]


def _special(kind: str, path: Path, tmp_path: Path) -> str:
    """Make `path` a file of `kind`; the reason a skipped file names."""
    if kind == "device":
        path.symlink_to("/dev/zero")
        return "is not a regular file (a device)"
    if kind == "fifo":
        os.mkfifo(path)
        return "is not a regular file (a FIFO)"
    if kind == "loop":
        path.symlink_to(path.name)
        return "symlink loop"
    if kind == "dangling":
        path.symlink_to(tmp_path / "nowhere")
        return "dangling symlink"
    if kind == "directory":
        target = tmp_path / "a-directory"
        target.mkdir(exist_ok=True)
        path.symlink_to(target)
        return "is a directory, not a file"
    if kind == "outside":
        target = tmp_path / "host-file.yml"
        target.write_text("on: push\n")
        path.symlink_to(target)
        return "resolves outside the repository"
    raise AssertionError(kind)


KINDS = ["device", "fifo", "loop", "dangling", "directory", "outside"]


@pytest.mark.parametrize("kind", KINDS)
def test_workflow_that_is_no_regular_file_is_wf001(kind: str, tmp_path: Path) -> None:
    repo = write_repo(tmp_path / "repo", workflow(JOB.format(uses="actions/checkout@v4")))
    reason = _special(kind, repo / ".github" / "workflows" / "evil.yml", tmp_path)
    found = findings(repo, "workflows.readable", "WF001")
    assert [(f.file, f.message) for f in found] == [
        (".github/workflows/evil.yml", f"cannot read: {reason}")
    ]


@pytest.mark.parametrize("kind", ["device", "fifo", "dangling"])
def test_local_action_that_is_no_regular_file_is_wf001(kind: str, tmp_path: Path) -> None:
    repo = write_repo(tmp_path / "repo", workflow(JOB.format(uses="./.github/actions/x")))
    action = repo / ".github" / "actions" / "x"
    action.mkdir(parents=True)
    reason = _special(kind, action / "action.yml", tmp_path)
    found = findings(repo, "workflows.readable", "WF001")
    assert [(f.file, f.message) for f in found] == [
        (".github/actions/x/action.yml", f"cannot read: {reason}")
    ]


def test_oversized_workflow_is_wf001(tmp_path: Path) -> None:
    from harness.safe_read import MAX_WORKFLOW_BYTES

    repo = write_repo(tmp_path / "repo", workflow(JOB.format(uses="actions/checkout@v4")))
    big = repo / ".github" / "workflows" / "big.yml"
    with big.open("w") as handle:
        handle.write("on: push\n#" + "x" * MAX_WORKFLOW_BYTES + "\n")
    [found] = findings(repo, "workflows.readable", "WF001")
    assert found.message.startswith(f"cannot read: is {big.stat().st_size} bytes, over the")


@pytest.mark.parametrize("kind", ["device", "fifo", "loop", "dangling", "directory"])
def test_tf_file_that_is_no_regular_file_is_state003(kind: str, tmp_path: Path) -> None:
    repo = write_repo(tmp_path / "repo", {"infra/main.tf": 'terraform {\n  backend "s3" {}\n}\n'})
    reason = _special(kind, repo / "infra" / "x.tf", tmp_path)
    found = findings(repo, "state.backend", "STATE003")
    assert [(f.file, f.message) for f in found] == [
        ("infra/x.tf", f"cannot read: {reason}; its blocks are not checked")
    ]
