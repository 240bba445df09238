"""`flywheel-harness bazel`: the Bazel cache cases against any cache and workspace, ad hoc.

    flywheel-harness bazel --url http://127.0.0.1:8080 --workspace ~/src/app \\
        --target //app:all --min-hit-ratio 0.9 --format json

Without `--url` the cases use a loopback nginx cache; without `--workspace`, the bundled
sample workspace. Exit codes as for `check`: 0 passed, 1 a rule failed, 2 bad input.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from harness.commands.common import command_parser, emit
from harness.errors import HarnessInputError
from harness.options import add_cli_options
from harness.report.model import Report

CASES: dict[str, tuple[str, str]] = {
    "answers": ("bazel.cache_answers", "the cache answers (BAZEL001)"),
    "round-trip": ("bazel.round_trip", "CAS and AC round trip (BAZEL002)"),
    "hit-ratio": ("bazel.warm_hit_ratio", "cold -> warm remote hit ratio (BAZEL003)"),
    "outage": ("bazel.outage_tolerance", "builds survive a cache outage (BAZEL004)"),
}


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
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("--output", type=Path, default=None, help="write the report here")
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
    from harness.engine import make_context, run_case
    from harness.options import Options
    from harness.report import renderer
    from harness.report.build import build_report
    from harness.scenario import Case
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
    names = list(dict.fromkeys(args.case)) or list(CASES)
    results = []
    for index, name in enumerate(names):
        check, description = CASES[name]
        case = Case(
            name=f"bazel-{name}",
            check=check,
            line=index + 1,
            description=description,
            params=case_params(args, name),
        )
        results.append(run_case(ctx, "bazel", case))
    report = build_report(ctx, results)
    text = renderer("json")(report) if args.format == "json" else render_text(report)
    emit(text, args.output)
    return 1 if report.failed else 0


def render_text(report: Report) -> str:
    """One block per case: status, measurements, findings; then the standard report."""
    from harness.report import renderer

    lines: list[str] = []
    for result in report.results:
        reason = f" ({result.reason})" if result.reason and result.status != "passed" else ""
        lines.append(f"{result.status.upper():7} {result.case}{reason}")
        lines.extend(
            f"    {m.name} = {m.value:g}{' ' + m.unit if m.unit else ''}"
            for m in result.measurements
        )
    return "\n".join(lines) + "\n" + renderer("text")(report)
