"""What `flywheel-harness attic` and `flywheel-harness bazel` share.

Their cases are those of the bundled `caches` suite (scenarios/caches.scenario.yaml):
each `--case` choice names one case there, whose check, description and params the
command takes (its own flags add params). They run as `check` runs them (the scheduler,
suite `caches`, the same case names), so one named endpoint that does not serve is one
finding (ATTIC001, BAZEL001) and the other cases skip, pointing at it. Both commands
print the same layout, take the same `--format` and `--output`, and exit alike: 0
nothing failed, 1 a case failed or errored, 2 bad input.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.commands.common import add_report_arguments, emit
from harness.report import FORMATS

if TYPE_CHECKING:
    from harness.checks.api import CheckContext
    from harness.report.model import Report
    from harness.scenario import Case

SUITE = "caches"
"""The bundled suite whose cases the commands run (and the suite name they report)."""


def add_output_arguments(parser: argparse.ArgumentParser) -> None:
    """`--format` and `--output`, as `check` has them."""
    add_report_arguments(parser, list(FORMATS))


def bundled_cases(choices: Mapping[str, str]) -> dict[str, Case]:
    """`--case` choice -> its case of the bundled suite (`choices`: choice -> case name)."""
    from harness.scenario import bundled_scenarios_dir, load_suite

    suite = load_suite(bundled_scenarios_dir() / f"{SUITE}.scenario.yaml")
    by_name = {case.name: case for case in suite.cases}
    return {choice: by_name[name] for choice, name in choices.items()}


def run_cases(
    ctx: CheckContext,
    cases: Sequence[Case],
    params: Mapping[str, Mapping[str, Any]],
    fmt: str,
    output: Path | None,
) -> int:
    """Run `cases` (each with its bundled params, then `params[case.name]`), write the
    report in `fmt`; 1 when a case failed or errored, else 0."""
    import dataclasses

    from harness.report.build import build_report
    from harness.scenario import Suite
    from harness.scheduler import run_suites

    chosen = tuple(
        dataclasses.replace(case, params={**case.params, **params.get(case.name, {})})
        for case in cases
    )
    suite = Suite(SUITE, Path(f"{SUITE}.scenario.yaml"), chosen)
    report = build_report(ctx, run_suites(ctx, [suite]))
    emit(render(report, fmt), output)
    return 1 if report.failed else 0


def render(report: Report, fmt: str) -> str:
    """The report in `fmt`. `text`: one line per case (status, case, and the reason of a
    case that did not pass, or the label of one that passed against a loopback cache, as
    `check` prints them) with its measurements under it, then the finding lines and the
    counts."""
    from harness.report import renderer
    from harness.report.text import LOOPBACK, counts_line, finding_lines
    from harness.results import Status

    if fmt != "text":
        return renderer(fmt)(report)
    lines: list[str] = []
    for result in report.results:
        passed = result.status is Status.PASSED
        why = result.reason if not passed else LOOPBACK if result.loopback else ""
        reason = f" ({why})" if why else ""
        lines.append(f"{result.status.upper():7} {result.case}{reason}")
        for m in result.measurements:
            value = f"{m.value:g}" if isinstance(m.value, float) else str(m.value)
            lines.append(f"    {m.name} = {value}{' ' + m.unit if m.unit else ''}")
    findings = finding_lines(report)
    return (
        "\n".join([*lines, "", *findings, *([""] if findings else []), counts_line(report)]) + "\n"
    )
