"""`flywheel-harness fix`: write the edits the findings ask for, each verified first."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from harness.commands.common import add_report_arguments
from harness.options import USES_OPTIONS, add_cli_options, cli_options


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `fix` and its arguments."""
    parser = subparsers.add_parser(
        "fix",
        help="write the edits findings ask for (verified; safe, or unsafe on request)",
        description="Propose the edit for each finding that has a fix, verify it (the file "
        "parses again; the static suites, re-run in memory, no longer report "
        "the finding and report nothing new) and print it as a diff or write "
        "it. Exit 0: done (with --diff: nothing to change); 1: --diff has "
        "changes to show; 2: bad input.",
    )
    add_cli_options(parser, "repo", "contract", *USES_OPTIONS)
    parser.add_argument(
        "--rule",
        action="append",
        default=[],
        metavar="ID",
        help="fix only findings of this rule (repeatable; default: every rule with a fix)",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--diff",
        dest="write",
        action="store_false",
        help="print a unified diff and change nothing (the default)",
    )
    mode.add_argument(
        "--write", dest="write", action="store_true", help="apply the fixes to the files"
    )
    parser.set_defaults(write=False)
    parser.add_argument(
        "--unsafe", action="store_true", help="also apply unsafe fixes (they change what runs)"
    )
    add_report_arguments(parser, ["text", "json"], "the fixes", output=())


def _status(applied: bool, offered: bool, write: bool) -> str:
    if applied:
        return "fixed" if write else "in the diff"
    return "offered" if offered else "not offered"


def run(args: argparse.Namespace) -> int:
    """Plan the fixes; print the diff or write the files; report every outcome."""
    from harness.engine import make_context
    from harness.fixes import plan_diff, plan_fixes, write_changes

    options = cli_options(args)
    ctx = make_context(options.repo or Path(), options.contract, options)
    plan = plan_fixes(ctx, rules=args.rule, unsafe=args.unsafe)
    diff = plan_diff(plan)
    written = write_changes(plan) if args.write else []
    if args.format == "json":
        data = {
            "repo": plan.repo,
            "mode": "write" if args.write else "diff",
            "unsafe": plan.unsafe,
            "fixes": [o.to_json() for o in plan.outcomes],
            "written": written,
            "diff": diff,
            "remaining": [f.to_json() for f in plan.remaining],
        }
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
    else:
        for outcome in plan.outcomes:
            f = outcome.finding
            where = f"{f.file}:{f.line}" if f.line else f"{f.file}"
            what = f" {outcome.description};" if outcome.description else ""
            sys.stderr.write(
                f"{f.rule} {where} [{outcome.kind}] "
                f"{_status(outcome.applied, outcome.offered, args.write)}:{what} "
                f"{outcome.why}\n"
            )
        if not args.write:
            sys.stdout.write(diff)
        applied = len(plan.applied)
        verb = "applied" if args.write else "to apply"
        sys.stderr.write(
            f"{applied} fix(es) {verb}, {len(plan.outcomes) - applied} not; "
            f"{len(plan.changed)} file(s) {'written' if args.write else 'changed'}"
            f"; {len(plan.remaining)} finding(s) remain\n"
        )
    return 1 if diff and not args.write else 0
