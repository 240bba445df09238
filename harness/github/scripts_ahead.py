"""A repository's bash scripts parsed in a forked helper while this process reads its workflows.

`start(root)` forks a helper (`harness.helper_process.start_fed`) that loads the bash
grammar at once and then waits for scripts. As this process reads the workflow model, each
workflow and action it reads hands its `run:` scripts to the helper
(`harness.github.loader.SCRIPTS_READ`), which parses them as `harness.github.shell` will
and sends them back file by file. YAML is read once, here; the helper only parses bash.
Then the rules run while the helper sends its last files (`arriving`): a rule that reads a
script not here yet waits for it. This process need not load the bash grammar at all. A
script is keyed by its text, so a script the helper did not get (or lost) costs nothing but
a parse here. Nothing the helper finds is reported: it only saves work.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from harness.github import shell
from harness.github.shell import Parsed

if TYPE_CHECKING:
    from harness.helper_process import Fed

__all__ = ["Parsed", "Scripts", "arriving", "close", "start", "worth_a_helper"]

Scripts = list[tuple[str, int]]
"""The `run:` scripts of one file, each with the line its text starts on."""

READ_AHEAD_MIN_WORKFLOWS = 32
"""Workflow files from which their scripts are parsed ahead (below, the fork costs more than
it saves)."""


def worth_a_helper(root: Path) -> bool:
    """True when the repository at `root` has enough workflows for their scripts to be worth
    parsing ahead, and a helper can run beside this process."""
    try:
        entries = (root / ".github" / "workflows").iterdir()
        workflows = (p for p in entries if p.suffix in (".yml", ".yaml"))
        # counted up to the threshold only: a folder of any size is looked at briefly
        count = sum(1 for _ in itertools.islice(workflows, READ_AHEAD_MIN_WORKFLOWS))
    except OSError:
        return False
    if count < READ_AHEAD_MIN_WORKFLOWS:
        return False
    from harness.helper_process import available  # only where a helper may be worth it

    return available()


def start(root: Path) -> Fed[Scripts, Parsed] | None:
    """A helper forked now that parses the scripts of each workflow and action this process
    reads from now on (None when not worth it: few workflows in the repository at `root`,
    or no second CPU). `arriving` keeps its parses as they come; `close` stops it."""
    if not worth_a_helper(root):
        return None
    from harness.helper_process import start_fed

    # the grammar is loaded and its query compiled by the helper, before its first script:
    # once every script is parsed ahead, this process needs neither
    helper: Fed[Scripts, Parsed] | None = start_fed(shell.parsed, warm=shell.ready)
    if helper is not None:
        # imported after the fork: the helper reads no YAML
        from harness.github import loader

        loader.SCRIPTS_READ.append(helper.feed)
    return helper


def _unhook(helper: Fed[Scripts, Parsed]) -> None:
    from harness.github import loader

    if helper.feed in loader.SCRIPTS_READ:
        loader.SCRIPTS_READ.remove(helper.feed)


def close(helper: Fed[Scripts, Parsed] | None) -> None:
    """Stop the helper (what it has not sent is dropped); nothing is handed to it any more."""
    if helper is not None:
        _unhook(helper)
        helper.close()


@contextmanager
def arriving(helper: Fed[Scripts, Parsed] | None) -> Iterator[None]:
    """While the block runs (the rules), scripts the helper sends are kept as they arrive: a
    rule that reads a script not here yet waits for the helper's next files, and parses the
    script here only once the helper is done without it. The helper gets no more scripts
    from here on. At the end the helper is stopped: what it has not sent by then was not
    needed."""
    if helper is None:
        yield
        return
    _unhook(helper)
    helper.done_feeding()
    lock = threading.Lock()  # live cases run on threads beside the rules

    def wait_for(script: str) -> None:
        with lock:
            while not shell.is_parsed(script) and helper.working:
                _keep(helper.received(block=True))

    _keep(helper.received())
    shell.AHEAD.append(wait_for)
    try:
        yield
    finally:
        shell.AHEAD.remove(wait_for)
        close(helper)


def _keep(received: dict[int, Parsed]) -> None:
    for found in received.values():
        shell.adopt(found)
