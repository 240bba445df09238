"""`flywheel-harness gate`: refuse a FlakeHub publication the evidence does not prove.

Exit 0: the gate passes. 1: it refuses (one line per reason on standard error).
2: bad input (missing or unreadable evidence, bad contract, no repository).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from harness.commands.common import add_report_arguments, command_parser
from harness.options import add_cli_options


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `gate` and its arguments."""
    parser = command_parser(
        subparsers,
        "gate",
        "Pass only when the evidence belongs to this commit (clean tree), the "
        "same contract, covers the required suites and roles, has no failed, "
        "errored or skipped live case, and is fresh. Exit 0 pass, 1 refused, "
        "2 bad input.",
    )
    parser.add_argument(
        "--evidence",
        type=Path,
        required=True,
        metavar="FILE",
        help="evidence JSON (from `check --evidence` or `evidence merge`)",
    )
    add_cli_options(parser, "repo", "contract")
    parser.add_argument(
        "--flakehub-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="also inspect a flakehub-push dry run (its FLAKEHUB_DEST_DIR): "
        "the release must be of the commit the evidence proves",
    )
    parser.add_argument(
        "--require-signature",
        action="store_true",
        help="refuse evidence not signed with HARNESS_EVIDENCE_KEY (also the "
        "default when the contract has publication.flakehub, unless it "
        "sets require_signature: false)",
    )
    add_report_arguments(parser, ["text", "json"], "the verdict", output=())


def run(args: argparse.Namespace) -> int:
    """Judge the evidence; print the verdict; 0 pass, 1 refused."""
    from harness.engine import make_context
    from harness.evidence import evidence_key, read_evidence
    from harness.gate import check_flakehub_dry_run, evaluate

    key = evidence_key()
    ctx = make_context(args.repo, args.contract)
    data = read_evidence(args.evidence)
    verdict = evaluate(
        data,
        args.evidence,
        ctx.repo,
        ctx.contract,
        key=key,
        require_signature=args.require_signature,
    )
    if args.flakehub_dir is not None:
        check_flakehub_dry_run(verdict, args.flakehub_dir)
    if args.format == "json":
        sys.stdout.write(json.dumps(verdict.to_json(), indent=2) + "\n")
    for note in verdict.notes:
        sys.stderr.write(f"gate: note: {note}\n")
    if verdict.passed:
        if args.format == "text":
            commit = verdict.checked.get("commit") or "?"
            suites = ", ".join(verdict.checked.get("required_suites", [])) or "none"
            sys.stdout.write(
                f"gate: PASS {args.evidence} proves commit {commit[:12]} (suites: {suites})\n"
            )
        return 0
    for reason in verdict.refusals:
        sys.stderr.write(f"gate: REFUSED: {reason}\n")
    return 1
