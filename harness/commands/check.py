"""`flywheel-harness check`: run the scenario suites against a repository and report."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from harness.commands.common import (
    add_report_arguments,
    add_scenarios_argument,
    command_parser,
    emit,
)
from harness.github import scripts_ahead  # forks the script helper first thing in `run`
from harness.options import add_cli_options, cli_options
from harness.report import FORMATS, renderer

if TYPE_CHECKING:
    from harness.checks.api import CheckContext
    from harness.github.scripts_ahead import Parsed, Scripts
    from harness.helper_process import Fed
    from harness.options import Options
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

    from harness.startup import CollectorPaused

    # a run allocates many small, long-lived objects (the workflow model); collecting
    # young objects less often saves a tenth of a static run's time
    gc.set_threshold(50_000, 20, 100)
    helper = None
    try:
        # nothing is collected until the model is read and frozen (`_read_ahead`): it
        # would find only the model, which lives as long as the run
        with CollectorPaused():
            options = cli_options(args)
            # a repository checked from its top level: its scripts are parsed while this
            # process imports the rest and reads the workflow model
            given = (options.repo or Path()).resolve()
            helper = scripts_ahead.start(given)
            prepared = _prepare(args, options, helper, given)
            helper = prepared.helper
        return _check(args, prepared)
    finally:
        scripts_ahead.close(helper)


class _Run(NamedTuple):
    """What `check` runs, prepared: the suites, the context, the script helper (if any)."""

    suites: list[Suite]
    ctx: CheckContext
    options: Options
    helper: Fed[Scripts, Parsed] | None
    key: bytes | None
    started: float


def _prepare(
    args: argparse.Namespace,
    options: Options,
    helper: Fed[Scripts, Parsed] | None,
    tried: Path | None = None,
) -> _Run:
    """The suites and the context of the run; the model read ahead while `helper` (forked
    for the folder `tried`, or now for the repository when that is another folder) parses
    the scripts."""
    import time

    from harness.engine import make_context
    from harness.errors import HarnessInputError
    from harness.scheduler import static_only
    from harness.suites import load_suites, select_suites

    started = time.perf_counter()
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
    static = static_only(suites)
    if static:
        if helper is None and ctx.repo != tried:  # given a subfolder: try its repository
            helper = scripts_ahead.start(ctx.repo)
        helper = _read_ahead(ctx, helper, static)
    else:
        scripts_ahead.close(helper)  # nothing reads the scripts
        helper = None
    return _Run(suites, ctx, options, helper, key, started)


def _check(args: argparse.Namespace, run: _Run) -> int:
    import time

    from harness.progress import Progress, wanted
    from harness.report.build import build_report
    from harness.scheduler import run_suites

    progress = None
    if wanted(run.options.progress):
        progress = Progress(sum(len(suite.cases) for suite in run.suites))
    with scripts_ahead.arriving(run.helper):  # the helper's last scripts arrive while the rules run
        results = run_suites(run.ctx, run.suites, progress.case_done if progress else None)
    if progress is not None:
        progress.summary(results, time.perf_counter() - run.started)
    report = build_report(run.ctx, results)
    emit(renderer(args.format)(report), args.output)
    if run.options.evidence is not None:
        from harness.evidence import write_evidence

        write_evidence(report, run.options.evidence, run.key)
    return 1 if report.failed else 0


def _read_ahead(
    ctx: CheckContext, helper: Fed[Scripts, Parsed] | None, static: list[Suite]
) -> Fed[Scripts, Parsed] | None:
    """Read the workflow model while the helper parses the bash scripts of the workflows
    (`harness.github.scripts_ahead`); work out the job instances and import the checks of
    the `static` suites meanwhile too. The helper, still sending its last scripts (none:
    few workflows, the model is read when a rule needs it)."""
    import contextlib
    import gc

    from harness.checks import resolve_check

    if helper is None:
        return None
    try:
        # a model that cannot be read is reported by the cases themselves
        with contextlib.suppress(Exception):
            ctx.workflows.instances  # noqa: B018
        for suite in static:
            for case in suite.cases:
                with contextlib.suppress(Exception):  # an unknown check: its case says so
                    resolve_check(case.check)
    except BaseException:
        scripts_ahead.close(helper)
        raise
    # the model lives as long as the run: the collector need not look at it again
    gc.freeze()
    return helper


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
