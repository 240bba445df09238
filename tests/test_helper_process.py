"""Work shared with a forked helper: every item computed once, whatever the helper does."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

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


def _fed_results(helper: helper_process.Fed[Any, Any]) -> dict[int, Any]:
    helper.done_feeding()
    seen: dict[int, Any] = {}
    while helper.working:
        seen.update(helper.received(block=True))
    seen.update(helper.received())
    return seen


def test_fed_items_come_back_in_the_order_fed() -> None:
    here = os.getpid()
    warmed: list[int] = []
    helper: helper_process.Fed[str, tuple[str, bool]] | None = helper_process.start_fed(
        lambda item: (item, os.getpid() != here), warm=lambda: warmed.append(1)
    )
    assert helper is not None
    with helper:
        for word in ("a", "b", "c"):
            helper.feed(word)
        assert _fed_results(helper) == {0: ("a", True), 1: ("b", True), 2: ("c", True)}
        helper.feed("late")  # fed after the end: nothing
        assert helper.received() == {}
    assert warmed == []  # warmed in the helper, not here


def test_a_full_feed_holds_neither_process_up() -> None:
    import time

    def slow(item: bytes) -> bytes:
        time.sleep(0.0005)
        return item  # results as big as the items: both pipes fill

    helper = helper_process.start_fed(slow)
    assert helper is not None
    with helper:
        items = [bytes([n % 251]) * 40_000 for n in range(120)]  # 4.8 MB both ways
        for item in items:
            helper.feed(item)  # returns at once, whatever the helper does
        seen = _fed_results(helper)
    assert seen == dict(enumerate(items))


def test_a_fed_helper_that_dies_leaves_the_rest_unanswered() -> None:
    here = os.getpid()

    def work(item: int) -> int:
        if item == 3 and os.getpid() != here:
            os._exit(3)
        return item

    helper = helper_process.start_fed(work)
    assert helper is not None
    with helper:
        for n in range(8):
            helper.feed(n)
        seen = _fed_results(helper)
    assert seen == {0: 0, 1: 1, 2: 2}  # the caller computes what it needs itself


def test_fed_items_that_fail_or_do_not_pickle_are_skipped() -> None:
    def work(item: int) -> object:
        if item == 1:
            raise ValueError("no")
        return (lambda: item) if item == 2 else item

    helper = helper_process.start_fed(work)
    assert helper is not None
    with helper:
        helper.feed(0)
        helper.feed(1)
        helper.feed(2)
        helper.feed(lambda: 0)  # type: ignore[arg-type] # does not pickle: not fed, and takes no index
        helper.feed(3)
        assert _fed_results(helper) == {0: 0, 3: 3}


def test_closing_a_fed_helper_stops_it() -> None:
    import time

    helper: helper_process.Fed[int, None] | None = helper_process.start_fed(
        lambda item: time.sleep(30)
    )
    assert helper is not None
    helper.feed(1)
    started = time.monotonic()
    helper.close()
    assert not helper.working
    assert time.monotonic() - started < 10  # killed, not waited for
    helper.close()  # twice is harmless


def test_no_fed_helper_without_a_second_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(helper_process, "available", lambda: False)
    assert helper_process.start_fed(lambda item: item) is None


def test_a_fed_helper_that_takes_nothing_is_stopped_after_the_timeout() -> None:
    import time

    helper: helper_process.Fed[bytes, None] | None = helper_process.start_fed(
        lambda item: time.sleep(60)
    )
    assert helper is not None
    for _ in range(40):
        helper.feed(b"x" * 100_000)  # more than the pipe holds: the rest waits here
    started = time.monotonic()
    helper.done_feeding(timeout=0.5)
    assert time.monotonic() - started < 10
    assert not helper.working  # stopped
    assert helper.received() == {}
