"""A repository's bash scripts parsed in a forked helper while this process reads its workflows.

`start(root)` forks a helper (`harness.helper_process`) that takes the workflow files, and
the actions under `.github/actions`, one by one: it finds each `run:` script with a quick
look at the YAML (no workflow model) and parses it as `harness.github.shell` will.
Meanwhile this process imports what it needs and reads the workflow model; then the rules
run while the helper sends its last files (`arriving`): a rule that reads a script not here
yet waits for it. This process need not load the bash grammar at all. A script is keyed by
its text, so a file the helper read differently (or not at all) costs nothing but a parse
here later. Nothing the helper finds is reported: it only saves work.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from harness.github import shell
from harness.github.shell import Parsed

if TYPE_CHECKING:
    from harness.helper_process import Helper

__all__ = ["Parsed", "arriving", "run_scripts", "start", "workflow_files"]


def run_scripts(path: Path, root: Path) -> list[tuple[str, int]]:
    """Every `run:` script of the workflow or action file at `path` (inside `root`), with
    the line its text starts on, as the workflow model counts it; none when the file cannot
    be read."""
    from harness.safe_read import MAX_WORKFLOW_BYTES, read_text
    from harness.yamlnodes import scalars_of_key

    try:
        text = read_text(path, MAX_WORKFLOW_BYTES, root)
    except (OSError, ValueError):  # the model names what is wrong with the file
        return []
    return [(value, mark.text_line) for value, mark in scalars_of_key(text, "run")]


def _parsed_file(path: Path, root: Path) -> Parsed:
    """The scripts of one workflow or action file, parsed; none on any failure (the rules
    parse them again and name the failure)."""
    try:
        return shell.parsed(run_scripts(path, root))
    except Exception:
        return {}


READ_AHEAD_MIN_WORKFLOWS = 32
"""Workflow files from which their scripts are parsed ahead (below, the fork costs more than
it saves)."""


def workflow_files(root: Path) -> list[Path]:
    """The files of the repository at `root` whose scripts are worth parsing ahead: every
    workflow and every action under `.github/actions` when there are many workflows and a
    helper can run beside this process, else none."""
    from harness.helper_process import available

    try:
        folder = root / ".github" / "workflows"
        files = sorted(p for p in folder.iterdir() if p.suffix in (".yml", ".yaml"))
    except OSError:
        return []
    if len(files) < READ_AHEAD_MIN_WORKFLOWS or not available():
        return []
    actions = root / ".github" / "actions"
    with contextlib.suppress(OSError):
        files += sorted(itertools.islice(actions.rglob("action.y*ml"), MAX_ACTION_FILES))
    return files


MAX_ACTION_FILES = 1000
"""Most action files handed to the helper (the rest are parsed when the rules read them)."""


def start(root: Path) -> Helper[Parsed] | None:
    """A helper forked now that parses the scripts of the workflows of the repository at
    `root`, while this process goes on (None when not worth it: few workflows, or no second
    CPU). `arriving` keeps its parses as they come; `close` stops it."""
    files = workflow_files(root)
    if not files:
        return None
    from harness import safe_read, yamlnodes  # noqa: F401 - read by both: imported once, here
    from harness.helper_process import start as fork_helper

    # the grammar is loaded and its query compiled by the helper: once every script is
    # parsed ahead, this process needs neither
    return fork_helper(len(files), lambda index: _parsed_file(files[index], root))


@contextmanager
def arriving(helper: Helper[Parsed] | None) -> Iterator[None]:
    """While the block runs (the rules), scripts the helper sends are kept as they arrive: a
    rule that reads a script not here yet waits for the helper's next files, and parses the
    script here only once the helper is done without it. The rules start as soon as this
    process is ready, while the helper sends its last files. At the end the helper is
    stopped: what it has not sent by then was not needed."""
    if helper is None:
        yield
        return
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
        helper.close()


def _keep(received: dict[int, Parsed]) -> None:
    for found in received.values():
        shell.adopt(found)
