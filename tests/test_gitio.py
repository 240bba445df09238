"""Git is not started for a folder that no repository can hold; its answers stay the same."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from harness.github.identity import origin_repo_name
from harness.gitio import outside_any_repository, run_git
from harness.repo_root import find_repo_root
from harness.worktree import tree_state


def _plain(tmp_path: Path) -> Path:
    folder = tmp_path / "plain" / "sub"
    folder.mkdir(parents=True)
    if not outside_any_repository(tmp_path):
        pytest.skip("the temporary folder lies inside a git repository")
    return folder


def test_a_plain_folder_is_outside_any_repository(tmp_path: Path) -> None:
    folder = _plain(tmp_path)
    assert outside_any_repository(folder)
    assert not run_git(folder, "rev-parse", "--show-toplevel").ok  # git agrees


def test_a_checkout_and_its_subfolders_are_left_to_git(tmp_path: Path) -> None:
    folder = _plain(tmp_path)
    subprocess.run(["git", "init", "-q", str(tmp_path / "plain")], check=True)
    assert not outside_any_repository(folder)
    assert not outside_any_repository(tmp_path / "plain")


def test_a_bare_looking_folder_and_git_dir_are_left_to_git(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _plain(tmp_path)
    monkeypatch.setenv("GIT_DIR", str(tmp_path / "elsewhere"))
    assert not outside_any_repository(folder)
    monkeypatch.delenv("GIT_DIR")
    (tmp_path / "plain" / "HEAD").write_text("ref: refs/heads/main\n")
    assert not outside_any_repository(folder)


def test_answers_outside_a_repository_are_those_git_gives(tmp_path: Path) -> None:
    folder = _plain(tmp_path)
    state = tree_state(folder)
    assert (state.commit, state.dirty) == (None, None)
    root = find_repo_root(folder)
    assert (root.path, root.is_git, root.note) == (folder.resolve(), False, None)
    assert origin_repo_name(folder) is None


def _repo_with_files(tmp_path: Path, count: int) -> Path:
    repo = tmp_path / "many"
    repo.mkdir()
    for index in range(count):
        (repo / f"file-{index:04d}.txt").write_text("x\n")
    for args in (["init", "-q"], ["add", "."], ["commit", "-qm", "files"]):
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
            cwd=repo,
            check=True,
            timeout=60,
        )
    return repo


def test_capped_output_is_read_whole_under_the_cap_and_refused_over_it(tmp_path: Path) -> None:
    repo = _repo_with_files(tmp_path, 200)
    whole = run_git(repo, "ls-tree", "-r", "-z", "HEAD", text=False)
    capped = run_git(repo, "ls-tree", "-r", "-z", "HEAD", text=False, max_output=1 << 20)
    assert capped.ok and capped.stdout == whole.stdout and len(whole.stdout) > 4096
    over = run_git(repo, "ls-tree", "-r", "-z", "HEAD", text=False, max_output=4096)
    assert not over.ok and over.stderr == "git ls-tree printed over 4096 bytes"


def test_a_clone_listing_over_the_limits_is_one_tree_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from harness.github.uses import tree

    repo = _repo_with_files(tmp_path, 30)
    source = tree.GitTree(repo)
    commit = source.commit("HEAD")
    assert len(source.entries(commit)) == 30
    monkeypatch.setattr(tree, "MAX_TREE_ENTRIES", 20)
    with pytest.raises(tree.TreeError, match="has over 20 entries"):
        source.entries(commit)
    monkeypatch.setattr(tree, "MAX_LISTING_BYTES", 100)
    with pytest.raises(tree.TreeError, match="printed over 100 bytes"):
        source.entries(commit)
