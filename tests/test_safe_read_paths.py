"""Symlinks resolve as `os.path.realpath` resolves them, however they are resolved."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness.safe_read import _kernel_real, _real, inside, read_bytes


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "repo" / "a" / "b").mkdir(parents=True)
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret").write_text("x")
    (tmp_path / "repo" / "a" / "b" / "f.yml").write_text("k: v\n")
    (tmp_path / "repo" / "link").symlink_to(tmp_path / "repo" / "a" / "b")
    (tmp_path / "repo" / "out").symlink_to(tmp_path / "outside")
    (tmp_path / "repo" / "loop").symlink_to(tmp_path / "repo" / "loop")
    (tmp_path / "repo" / "dangling").symlink_to(tmp_path / "nowhere")
    return tmp_path / "repo"


@pytest.mark.parametrize(
    "relative",
    ["a/b/f.yml", "link/f.yml", "link/../b/f.yml", "out/secret", "a/./b", "link", "dangling"],
)
def test_resolved_as_realpath_resolves(tree: Path, relative: str) -> None:
    path = tree / relative
    assert _real(path) == os.path.realpath(path)
    found = _kernel_real(path)
    assert found is None or found == os.path.realpath(path)


def test_a_loop_resolves_to_nothing_and_is_not_inside(tree: Path) -> None:
    assert _real(tree / "loop") is None
    assert not inside(tree / "loop", tree)


def test_inside_and_outside(tree: Path) -> None:
    assert inside(tree / "link" / "f.yml", tree)
    assert not inside(tree / "out" / "secret", tree)


def test_files_of_any_size_read_whole(tmp_path: Path) -> None:
    for size in (0, 1, 4096, (1 << 20) + 7):
        path = tmp_path / f"f{size}"
        path.write_bytes(b"x" * size)
        assert read_bytes(path, size) == b"x" * size


def test_a_root_that_comes_to_name_another_folder_is_resolved_again(tmp_path: Path) -> None:
    from harness.safe_read import inside

    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    (first / "a.yml").write_text("a: 1\n", encoding="utf-8")
    (second / "b.yml").write_text("b: 1\n", encoding="utf-8")
    root = tmp_path / "repo"
    root.symlink_to(first)
    assert inside(root / "a.yml", root)
    assert not inside(second / "b.yml", root)
    root.unlink()
    root.symlink_to(second)  # the same name, another folder
    assert inside(root / "b.yml", root)
    assert not inside(first / "a.yml", root)
