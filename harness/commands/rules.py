"""`flywheel-harness rules`: the rule catalogue with an example violation and its fix."""

from __future__ import annotations

import argparse
import json

from harness.commands.common import add_report_arguments, command_parser
from harness.corpus import documented_examples
from harness.errors import HarnessInputError
from harness.rules import all_rules


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `rules`."""
    parser = command_parser(
        subparsers,
        "rules",
        "The rule catalogue: each rule with an example violation, its fix, "
        "and the module and checks that implement it.",
    )
    add_report_arguments(parser, ["text", "json", "markdown"], "the catalogue", output=())
    parser.add_argument("rule", nargs="*", help="show only these rule ids")


def run(args: argparse.Namespace) -> int:
    """Print the catalogue."""
    catalogue = all_rules()
    unknown = sorted(set(args.rule) - {r.id for r in catalogue})
    if unknown:
        raise HarnessInputError(
            f"unknown rule id(s) {', '.join(unknown)}; `flywheel-harness rules` lists them all"
        )
    rules = [r for r in catalogue if not args.rule or r.id in args.rule]
    if args.format == "json":
        print(
            json.dumps(
                [
                    {
                        "id": r.id,
                        "severity": str(r.severity),
                        "suite": r.suite,
                        "summary": r.summary,
                        "example": r.example,
                        "fix": r.fix,
                        "module": r.module,
                        "checks": list(r.checks),
                        "examples": [e.to_json() for e in documented_examples(r.id)],
                    }
                    for r in rules
                ],
                indent=2,
            )
        )
        return 0
    if args.format == "markdown":
        from harness.report.catalogue import catalogue_markdown

        print(catalogue_markdown(rules), end="")
        return 0
    for rule in rules:
        print(f"{rule.id}  [{rule.severity}] {rule.summary}")
        print("    example: " + rule.example.replace("\n", "\n             "))
        print(f"    fix:     {rule.fix}")
        print(f"    where:   {rule.module} ({', '.join(rule.checks)})")
        for example in documented_examples(rule.id):
            print(f"    corpus:  {example.name}: {example.description}")
            for line in [*example.expected, *example.reasons]:
                print(f"             {line}")
        print()
    return 0
