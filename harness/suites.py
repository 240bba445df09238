"""Loading and selecting scenario suites."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from harness.errors import HarnessInputError, Problem
from harness.scenario import (
    Suite,
    bundled_scenarios_dir,
    load_suite,
    scenario_files,
    suite_name_of,
)


def load_suites(directory: Path | None = None, wanted: Iterable[str] = ()) -> list[Suite]:
    """Every suite in `directory` (default: the bundled suites); all file problems at once.

    With `wanted` suite names, only their files are read when they hold them (a file
    `NAME.scenario.yaml` that declares suite NAME), and a broken file of another suite
    (by file name) is left out instead of failing the run.
    """
    directory = directory or bundled_scenarios_dir()
    files = scenario_files(directory)
    if not files:
        raise HarnessInputError(Problem(str(directory), None, "no *.scenario.yaml files here"))
    names = set(wanted)
    if names:  # the files named after the wanted suites, when they are those suites
        named = [path for path in files if suite_name_of(path) in names]
        if len(named) == len(names):
            try:
                found = [load_suite(path) for path in named]
            except HarnessInputError:
                found = []  # reported below, with every other problem
            if {suite.name for suite in found} == names:
                return found
    suites: list[Suite] = []
    problems: list[Problem] = []
    for path in files:
        try:
            suites.append(load_suite(path))
        except HarnessInputError as exc:
            if names and suite_name_of(path) not in names:
                continue
            problems.extend(exc.problems)
    if problems:
        raise HarnessInputError(problems)
    return suites


def select_suites(suites: Sequence[Suite], names: Iterable[str]) -> list[Suite]:
    """The suites named (all when none are); an unknown name is bad input."""
    wanted = list(dict.fromkeys(names))
    if not wanted:
        return list(suites)
    known = {s.name: s for s in suites}
    unknown = [n for n in wanted if n not in known]
    if unknown:
        raise HarnessInputError(
            f"unknown suite(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )
    return [known[n] for n in wanted]


def bundled_suite_digests() -> dict[str, str]:
    """sha256 of each bundled scenario file, by suite name (what the gate accepts)."""
    return {suite.name: suite.sha256 for suite in load_suites()}
