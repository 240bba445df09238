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
from typing import Any

from harness.commands.common import command_parser
from harness.errors import HarnessInputError, Problem
from harness.report.model import Report
from harness.results import CaseResult, Status

_RANK = {Status.ERROR: 0, Status.FAILED: 1, Status.PASSED: 2, Status.SKIPPED: 3}


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `evidence merge` and `evidence render`."""
    parser = command_parser(subparsers, "evidence",
                            "Merge the evidence files of matrix jobs, or render one in any "
                            "format.")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    merge = actions.add_parser("merge", help="merge evidence files into one",
                               description="Merge evidence from several matrix jobs (same "
                                           "commit and contract required).")
    merge.add_argument("inputs", nargs="+", type=Path, metavar="FILE")
    merge.add_argument("-o", "--output", type=Path, required=True, metavar="FILE")
    render = actions.add_parser("render", help="render an evidence file in another format",
                                description="Render evidence as text, github, markdown, "
                                            "sarif or json (e.g. SARIF for code scanning).")
    render.add_argument("input", type=Path, metavar="FILE")
    render.add_argument("--format", default="text",
                        choices=["text", "json", "github", "markdown", "sarif"])
    render.add_argument("-o", "--output", type=Path, default=None, metavar="FILE")


def _worse(a: CaseResult, b: CaseResult) -> CaseResult:
    return a if _RANK[a.status] <= _RANK[b.status] else b


def merge_reports(reports: list[tuple[Path, Report]]) -> Report:
    """One report from several made on the same commit against the same contract."""
    first_path, first = reports[0]
    problems: list[Problem] = []
    for path, report in reports[1:]:
        if report.repo.commit != first.repo.commit:
            problems.append(Problem(str(path), None, f"commit {report.repo.commit} differs "
                                                     f"from {first.repo.commit} in {first_path}"))
        if report.repo.dirty != first.repo.dirty:
            problems.append(Problem(str(path), None, f"dirty={report.repo.dirty} differs from "
                                                     f"dirty={first.repo.dirty} in {first_path}"))
        if report.contract_sha256 != first.contract_sha256:
            problems.append(Problem(str(path), None, "made against another contract (sha256 "
                                                     f"{report.contract_sha256[:12]} vs "
                                                     f"{first.contract_sha256[:12]})"))
    if problems:
        raise HarnessInputError(problems)
    cases: dict[str, CaseResult] = {}
    for _, report in reports:
        for result in report.results:
            known = cases.get(result.node_id)
            cases[result.node_id] = result if known is None else _worse(known, result)
    created = [r.created for _, r in reports if r.created]
    extra: dict[str, Any] = {"merged_from": [{"file": str(p), "created": r.created,
                                              "cases": len(r.results)} for p, r in reports]}
    return Report(repo=first.repo, contract_path=first.contract_path,
                  contract_sha256=first.contract_sha256, results=list(cases.values()),
                  created=min(created) if len(created) == len(reports) else None, extra=extra)


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
    print(f"merged {len(reports)} evidence file(s) into {args.output}: "
          f"{summary['passed']} passed, {summary['failed']} failed, "
          f"{summary['skipped']} skipped, {summary['errors']} errors")
    return 0
