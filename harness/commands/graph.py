"""`flywheel-harness graph [--format json|dot|text]`: the resolved job graph of a repository."""

from __future__ import annotations

import argparse
import json

from harness.commands.common import add_report_arguments, command_parser, emit
from harness.options import USES_OPTIONS, add_cli_options, cli_options


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `graph`."""
    parser = command_parser(
        subparsers,
        "graph",
        "For each job: its possible lanes (resolved, partial, unknown), where Nix is "
        "installed, its role, and the path from bootstrap to publish.",
    )
    add_cli_options(parser, "repo", "contract", *USES_OPTIONS)
    add_report_arguments(parser, ["json", "dot", "text"], "the graph")


def run(args: argparse.Namespace) -> int:
    """Print the graph."""
    from harness.engine import make_context
    from harness.github.graph import build_graph, to_dot, to_text

    options = cli_options(args)
    ctx = make_context(options.repo, options.contract, options)
    graph = build_graph(ctx.workflows, ctx.contract)
    if args.format == "dot":
        text = to_dot(graph)
    elif args.format == "text":
        text = to_text(graph)
    else:
        text = json.dumps(graph.to_json(), indent=2) + "\n"
    emit(text, args.output)
    return 0
