"""`flywheel-harness runner --phase before|after`: prove the Nix bootstrap on this runner.

`before` (run before the workflow's Nix install step) checks that Nix is absent (NIX001) and
records it with the time; `after` checks that the installed Nix works as the contract needs
(NIX002) and reports the install duration from that record. Exit 0 proven, 1 not, 2 bad input.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from harness.commands.common import add_report_arguments, command_parser, emit
from harness.options import add_cli_options, cli_options
from harness.report import FORMATS

_CASES = {
    "before": ("runner-nix-absent-before-install", "runner.nix_absent"),
    "after": ("runner-nix-working-after-install", "runner.nix_working"),
}


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `runner` and its arguments."""
    parser = command_parser(
        subparsers,
        "runner",
        "Before the install step: Nix must be absent (NIX001). After it: Nix works, flakes "
        "on, store writable, user trusted, Attic configured (NIX002).",
    )
    add_cli_options(parser, "repo", "contract", "evidence", "attic_url", "artifacts_dir")
    parser.add_argument(
        "--phase",
        choices=sorted(_CASES),
        required=True,
        help="`before` or `after` the workflow's own Nix install step",
    )
    add_report_arguments(parser, list(FORMATS))
    parser.add_argument(
        "--root",
        type=Path,
        default=Path("/"),
        help="filesystem root to look for /nix under (default: /)",
    )
    parser.add_argument(
        "--path",
        dest="search_path",
        default=None,
        metavar="PATH",
        help="PATH to look for nix on (default: $PATH)",
    )
    parser.add_argument(
        "--state",
        type=Path,
        default=None,
        help="before-install record (default: $HARNESS_RUNNER_STATE, else "
        "$RUNNER_TEMP/flywheel-harness-runner.json, else "
        ".harness/runner-before.json)",
    )


def run(args: argparse.Namespace) -> int:
    """Run the phase's case; print the report; exit 1 when it failed."""
    from harness.engine import make_context, run_case
    from harness.evidence import write_evidence
    from harness.report import renderer
    from harness.report.build import build_report
    from harness.scenario import Case

    options = cli_options(args, runner_phase=args.phase)
    ctx = make_context(options.repo, options.contract, options)
    name, check = _CASES[args.phase]
    params: dict[str, object] = {"root": str(args.root)}
    if args.search_path is not None:
        params["path"] = args.search_path
    if args.state is not None:
        params["state"] = str(args.state)
    result = run_case(ctx, "bootstrap", Case(name=name, check=check, line=0, params=params))
    report = build_report(ctx, [result])
    report.extra["runner"] = {"phase": args.phase}
    text = renderer(args.format)(report)
    if args.format == "text" and result.reason and not report.failed:
        text = f"{result.node_id}: {result.reason}\n{text}"
    emit(text, args.output)
    if options.evidence is not None:
        write_evidence(report, options.evidence)
    return 1 if report.failed else 0
