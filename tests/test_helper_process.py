"""Work shared with a forked helper: every item computed once, whatever the helper does."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness import helper_process
from harness.helper_process import fork_map


@pytest.fixture(autouse=True)
def _one_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    """pytest-xdist runs a thread beside the tests; the work here takes no lock."""
    monkeypatch.setattr(helper_process, "_alone", lambda: True)


def square(index: int) -> int:
    return index * index


@pytest.mark.parametrize("count", [0, 1, 2, 7, 200])
def test_every_item_has_its_result(count: int) -> None:
    assert fork_map(count, square) == {i: i * i for i in range(count)}


def test_items_of_a_helper_that_dies_are_computed_here() -> None:
    here = os.getpid()

    def work(index: int) -> int:
        if os.getpid() != here:
            os._exit(3)  # the helper dies on its first item
        return index + 1

    assert fork_map(50, work) == {i: i + 1 for i in range(50)}


def test_results_that_do_not_pickle_are_computed_here() -> None:
    here = os.getpid()

    def work(index: int) -> object:
        return index if os.getpid() == here else (lambda: index)

    assert fork_map(20, work) == {i: i for i in range(20)}


def test_without_a_second_cpu_everything_is_computed_here(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(helper_process, "available", lambda: False)
    here = os.getpid()
    assert fork_map(10, lambda i: os.getpid() == here) == dict.fromkeys(range(10), True)


def test_the_caller_works_while_the_helper_does() -> None:
    here = os.getpid()
    with helper_process.start(40, lambda i: (i, os.getpid() == here)) as helper:
        meanwhile = sum(range(100_000))  # the caller's own work, before it collects
        results = helper.finish()
    assert meanwhile == 4_999_950_000
    assert {i: r[0] for i, r in results.items()} == {i: i for i in range(40)}


def test_an_item_that_fails_in_the_helper_is_computed_here() -> None:
    here = os.getpid()

    def work(index: int) -> int:
        if index % 3 == 0 and os.getpid() != here:
            raise RuntimeError("only in the helper")
        return -index

    assert helper_process.fork_map(30, work) == {i: -i for i in range(30)}


def test_a_block_that_raises_stops_the_helper() -> None:
    with pytest.raises(KeyError), helper_process.start(5, lambda i: i) as helper:
        pid = helper._pid
        raise KeyError("the caller's block failed")
    assert pid > 0
    with pytest.raises(ChildProcessError):  # reaped: no zombie is left behind
        os.waitpid(pid, os.WNOHANG)


def test_frames_cut_short_are_left_out() -> None:
    import pickle

    whole = helper_process._FRAME.pack(0, 4) + b"abcd"
    body = pickle.dumps("x")
    good = helper_process._FRAME.pack(1, len(body)) + body
    cut = helper_process._FRAME.pack(2, 99) + b"short"
    assert helper_process._frames(whole + good + cut, 3) == ({1: "x"}, len(whole + good))
    assert helper_process._frames(good, 1) == ({}, len(good))  # no item 1: refused


def test_tofu_files_read_ahead_are_the_files_read_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from benchmarks.infra_corpus import write_infra_repo
    from harness.tofu import stacks

    repo = write_infra_repo(tmp_path / "infra", scale=0.5)
    monkeypatch.setattr(stacks, "READ_AHEAD_MIN_FILES", 2)
    ahead = stacks.load_tofu(repo)
    stacks._load_cached.cache_clear()
    monkeypatch.setattr(helper_process, "available", lambda: False)
    here = stacks.load_tofu(repo)
    assert ahead.problems == here.problems
    assert [(s.path, s.files, s.tfvars, s.backend) for s in ahead.stacks] == [
        (s.path, s.files, s.tfvars, s.backend) for s in here.stacks
    ]
    assert {k: v.files for k, v in ahead.modules.items()} == {
        k: v.files for k, v in here.modules.items()
    }


def test_results_are_handed_over_as_they_arrive() -> None:
    import time

    def work(index: int) -> int:
        time.sleep(0.003)
        return index * 10

    with helper_process.start(40, work) as helper:
        first = helper.received(block=True)  # waits for the helper's first results
        assert first
        seen = dict(first)
        while helper.working:
            seen.update(helper.received(block=True))
        assert helper.received() == {}  # nothing is handed over twice
        assert seen == {i: i * 10 for i in range(40)}
        assert helper.finish() == {i: i * 10 for i in range(40)}
