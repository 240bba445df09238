"""`flywheel-harness check`: run the scenario suites against a repository and report."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from harness.commands.common import (
    add_report_arguments,
    add_scenarios_argument,
    command_parser,
    emit,
)
from harness.options import add_cli_options, cli_options
from harness.report import FORMATS, renderer

if TYPE_CHECKING:
    from harness.checks.api import CheckContext
    from harness.scenario import Suite


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `check` and its arguments."""
    parser = command_parser(
        subparsers,
        "check",
        "Run the scenario suites against a repository and report. Exit 0: "
        "nothing failed; 1: a rule failed; 2: bad input.",
    )
    add_cli_options(parser)
    add_report_arguments(parser, list(FORMATS))
    add_scenarios_argument(parser)


def run(args: argparse.Namespace) -> int:
    """Run the selected suites; print the report; exit 1 when anything failed."""
    import gc

    # a run allocates many small, long-lived objects (the workflow model); collecting
    # young objects less often saves a tenth of a static run's time
    gc.set_threshold(50_000, 20, 100)
    import time

    from harness.engine import make_context
    from harness.errors import HarnessInputError
    from harness.progress import Progress, wanted
    from harness.report.build import build_report
    from harness.scheduler import run_suites, static_only
    from harness.suites import load_suites, select_suites

    started = time.perf_counter()
    options = cli_options(args)
    key = None
    if options.evidence is not None:
        from harness.evidence import evidence_key

        key = evidence_key()  # a bad key: exit 2 up front
    suites = select_suites(load_suites(args.scenarios, options.suites), options.suites)
    if options.static:
        kept = static_only(suites)
        if not kept:  # nothing to examine is bad input, never a pass
            raise HarnessInputError(
                f"--static: no static case in suite(s) {', '.join(s.name for s in suites)}"
            )
        suites = kept
    repo = repo_to_check(options.repo or Path(), reads_repo=bool(static_only(suites)))
    ctx = make_context(repo, options.contract, options)
    progress = None
    if wanted(options.progress):
        progress = Progress(sum(len(suite.cases) for suite in suites))
    if _worth_reading_ahead(ctx, suites):
        _read_ahead(ctx)
    results = run_suites(ctx, suites, progress.case_done if progress else None)
    if progress is not None:
        progress.summary(results, time.perf_counter() - started)
    report = build_report(ctx, results)
    emit(renderer(args.format)(report), args.output)
    if options.evidence is not None:
        from harness.evidence import write_evidence

        write_evidence(report, options.evidence, key)
    return 1 if report.failed else 0


READ_AHEAD_MIN_WORKFLOWS = 32
"""Workflow files from which their scripts are parsed ahead, in two processes (below, the
fork costs more than it saves)."""


def _worth_reading_ahead(ctx: CheckContext, suites: list[Suite]) -> bool:
    """True when a static case will read the workflow model, the repository has many
    workflows, and a helper process can run beside this one."""
    from harness.helper_process import available
    from harness.scheduler import static_only

    if not static_only(suites) or not available():
        return False
    try:
        folder = ctx.repo / ".github" / "workflows"
        count = sum(1 for p in folder.iterdir() if p.suffix in (".yml", ".yaml"))
    except OSError:
        return False
    return count >= READ_AHEAD_MIN_WORKFLOWS


def _read_ahead(ctx: CheckContext) -> None:
    """Read the workflow model, then parse every bash `run:` script of it in two processes
    (`harness.github.shell.read_ahead`): the rules find them parsed."""
    from harness.github.repo import NON_BASH_SHELLS
    from harness.github.shell import read_ahead

    try:
        model = ctx.workflows
    except Exception:  # a model that cannot be read is reported by the cases themselves
        return
    steps = [s for w in model.workflows.values() for j in w.jobs.values() for s in j.steps]
    steps += [s for a in model.actions.values() if a is not None for s in a.steps]
    read_ahead(
        (s.run, s.run_line or s.line)
        for s in steps
        if s.run and (s.shell or "bash").split()[0].rsplit("/", 1)[-1] not in NON_BASH_SHELLS
    )


def repo_to_check(given: Path, reads_repo: bool = True) -> Path:
    """The repository `check` reads: the top level of the git checkout around `given` (said
    on standard error). When static cases will read it (`reads_repo`), a folder that is
    neither a git checkout nor holds `.github/` or `fleet.yaml` is bad input."""
    import sys

    from harness.errors import HarnessInputError
    from harness.repo_root import PROJECT_MARKERS, find_repo_root

    if not given.is_dir():
        raise HarnessInputError(f"--repo {given}: repository directory does not exist")
    root = find_repo_root(given)
    if root.note:
        sys.stderr.write(f"flywheel-harness: note: {root.note}\n")
    if reads_repo and not root.is_git and not _holds_inputs(root.path, PROJECT_MARKERS):
        raise HarnessInputError(
            f"--repo {given}: not a repository (not a git checkout, and "
            f"no {', '.join(PROJECT_MARKERS)} or *.tf files in it)"
        )
    return root.path


def _holds_inputs(root: Path, markers: tuple[str, ...], depth: int = 3, budget: int = 5000) -> bool:
    """True when `root` holds a marker, or a `.tf` file within `depth` folder levels (at
    most `budget` entries are looked at)."""
    if any((root / marker).exists() for marker in markers):
        return True
    folders = [root]
    for _ in range(depth + 1):
        below: list[Path] = []
        for folder in folders:
            try:
                entries = list(folder.iterdir())
            except OSError:
                continue
            for entry in entries:
                budget -= 1
                if budget < 0:
                    return True  # too big to be "nothing at all"
                if entry.suffix == ".tf" and entry.is_file():
                    return True
                if entry.is_dir() and not entry.is_symlink() and not entry.name.startswith("."):
                    below.append(entry)
        folders = below
    return False
