"""`flywheel-harness bazel`: the Bazel cache cases against any cache and workspace, ad hoc.

    flywheel-harness bazel --url http://127.0.0.1:8080 --workspace ~/src/app \\
        --target //app:all --min-hit-ratio 0.9 --format json

Without `--url` the cases use a loopback nginx cache; without `--workspace`, the bundled
sample workspace. A `--url` that does not serve fails BAZEL001 once and the other cases
skip. Cases, layout and exit codes are shared with `flywheel-harness attic`
(harness.commands.cache_cases): 0 passed, 1 a rule failed, 2 bad input.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from harness.commands.cache_cases import add_output_arguments
from harness.commands.common import command_parser
from harness.errors import HarnessInputError
from harness.options import add_cli_options

CASES: dict[str, str] = {
    "answers": "bazel-cache-answers",
    "round-trip": "bazel-round-trip",
    "hit-ratio": "bazel-warm-hit-ratio",
    "outage": "bazel-outage-tolerance",
}
"""`--case` choice -> the case of the bundled `caches` suite it runs."""


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `bazel` and its arguments."""
    parser = command_parser(
        subparsers,
        "bazel",
        "Probe a Bazel remote cache and measure a warm build's hit ratio, without a "
        "contract. Exit 0: passed; 1: a rule failed; 2: bad input.",
    )
    parser.add_argument(
        "--url",
        default=None,
        help="cache URL, http(s):// or grpc(s):// (default: a loopback nginx "
        "WebDAV cache started for the run)",
    )
    parser.add_argument(
        "--workspace",
        type=Path,
        default=None,
        help="Bazel workspace to build (default: the bundled sample)",
    )
    parser.add_argument(
        "--target",
        action="append",
        default=[],
        metavar="T",
        help="target pattern to build (repeatable; default //... or the sample's //:report)",
    )
    parser.add_argument(
        "--min-hit-ratio",
        type=float,
        default=0.8,
        metavar="R",
        help="fail the hit-ratio case below this ratio (default 0.8)",
    )
    parser.add_argument(
        "--flag",
        action="append",
        default=[],
        metavar="F",
        help="extra bazel build flag (repeatable), e.g. --flag=--incompatible_strict_action_env",
    )
    parser.add_argument(
        "--case",
        action="append",
        default=[],
        choices=sorted(CASES),
        help="run only this case (repeatable; default: all)",
    )
    parser.add_argument(
        "--timeout", type=float, default=600.0, help="seconds per bazel invocation (default 600)"
    )
    add_output_arguments(parser)
    add_cli_options(parser, "require_live", "artifacts_dir")


def case_params(args: argparse.Namespace, name: str) -> dict[str, Any]:
    """The parameters one case gets from the command line."""
    if name in ("answers", "round-trip"):
        return {"timeout": min(args.timeout, 30.0)}
    params: dict[str, Any] = {"timeout": args.timeout, "flags": list(args.flag)}
    if args.workspace is not None:
        params["workspace"] = str(args.workspace.resolve())
    if args.target:
        params["targets"] = list(args.target)
    if name == "hit-ratio":
        params["min_hit_ratio"] = args.min_hit_ratio
    return params


def run(args: argparse.Namespace) -> int:
    """Run the selected Bazel cases and print the report."""
    from harness.commands.cache_cases import bundled_cases, run_cases
    from harness.engine import make_context
    from harness.options import Options
    from harness.urls import BAZEL, require_scheme

    if not 0.0 <= args.min_hit_ratio <= 1.0:
        raise HarnessInputError(
            f"--min-hit-ratio must be between 0 and 1, got {args.min_hit_ratio}"
        )
    if args.workspace is not None and not args.workspace.is_dir():
        raise HarnessInputError(f"{args.workspace}: workspace directory does not exist")
    if args.url is not None:
        require_scheme(args.url, BAZEL, "--url")
    options = Options(
        require_live=args.require_live, bazel_cache=args.url, artifacts_dir=args.artifacts_dir
    )
    repo = args.workspace if args.workspace is not None else Path.cwd()
    ctx = make_context(repo, None, options)
    cases = bundled_cases(CASES)
    names = list(dict.fromkeys(args.case)) or list(CASES)
    chosen = [cases[name] for name in names]
    params = {cases[name].name: case_params(args, name) for name in names}
    return run_cases(ctx, chosen, params, args.format, args.output)
