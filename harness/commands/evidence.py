"""`flywheel-harness evidence merge a.json b.json -o all.json`, and `evidence render FILE`.

Each matrix job writes evidence for its suites; merging requires the same commit, the same
dirtiness and the same contract in every file (and valid signatures when
`HARNESS_EVIDENCE_KEY` is set). A case present in several files keeps its worst outcome
(error, failed, then passed, then skipped). The merged file's `created` is the oldest input's,
so freshness is judged by the oldest proof. Exit 0 merged, 2 bad input.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from harness.commands.common import add_report_arguments, command_parser
from harness.errors import HarnessInputError, Problem
from harness.report import FORMATS
from harness.report.model import Report


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `evidence merge` and `evidence render`."""
    parser = command_parser(
        subparsers,
        "evidence",
        "Merge the evidence files of matrix jobs, or render one in any format.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    merge = actions.add_parser(
        "merge",
        help="merge evidence files into one",
        description="Merge evidence from several matrix jobs (same commit and contract required).",
    )
    merge.add_argument(
        "inputs", nargs="+", type=Path, metavar="FILE", help="evidence files of matrix jobs"
    )
    merge.add_argument(
        "-o", "--output", type=Path, required=True, metavar="FILE", help="the merged evidence file"
    )
    render = actions.add_parser(
        "render",
        help="render an evidence file in another format",
        description="Render evidence as text, github, markdown, "
        "sarif or json (e.g. SARIF for code scanning).",
    )
    render.add_argument("input", type=Path, metavar="FILE", help="the evidence file to render")
    add_report_arguments(render, list(FORMATS), "the evidence", output=("-o", "--output"))


def run(args: argparse.Namespace) -> int:
    """Run `evidence merge` or `evidence render`."""
    if args.action == "render":
        return _render(args)
    return _merge(args)


def _render(args: argparse.Namespace) -> int:
    from harness.commands.common import emit
    from harness.evidence import load_report, read_evidence
    from harness.report import renderer

    report = load_report(read_evidence(args.input), args.input)
    emit(renderer(args.format)(report), args.output)
    return 0


def _merge(args: argparse.Namespace) -> int:
    """Read, check and merge the inputs; write the merged (and signed) evidence."""
    from harness.evidence import (
        evidence_key,
        load_report,
        read_evidence,
        signature_problem,
        write_evidence,
    )
    from harness.report.build import merge_reports

    key = evidence_key()
    reports: list[tuple[Path, Report]] = []
    problems: list[Problem] = []
    for path in args.inputs:
        data = read_evidence(path)
        if key is not None:
            problem = signature_problem(data, key)
            if problem:
                problems.append(Problem(str(path), None, problem))
                continue
        reports.append((path, load_report(data, path)))
    if problems:
        raise HarnessInputError(problems)
    merged = merge_reports(reports)
    write_evidence(merged, args.output, key)
    summary = merged.summary()
    print(
        f"merged {len(reports)} evidence file(s) into {args.output}: "
        f"{summary['passed']} passed, {summary['failed']} failed, "
        f"{summary['skipped']} skipped, {summary['errors']} errors"
    )
    return 0
