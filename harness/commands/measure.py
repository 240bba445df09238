"""`flywheel-harness measure`: run one command under a lane's memory envelope and judge it.

    flywheel-harness measure --lane tinyland-nix -- nix build .#x
    flywheel-harness measure --limit 8Gi --format json --output mem.json -- make -j8

Exit 0: it fits; 1: MEM001 (over the envelope, OOM-killed, or timed out) or MEM004 (the
command exited non-zero or could not start, unless --allow-failure); 2: bad input.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from harness.commands.common import add_report_arguments, command_parser, emit
from harness.errors import HarnessInputError

if TYPE_CHECKING:
    from harness.contract.model import Contract, Lane


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `measure` and its arguments."""
    from harness.options import add_cli_options

    parser = command_parser(
        subparsers,
        "measure",
        "Run CMD inside a fresh memory cgroup whose limit is the lane's envelope "
        "(root on cgroup v1, or a delegated v2 subtree; elsewhere the process "
        "tree is sampled in the current cgroup) and judge it by the kernel's "
        "counters. Exit 0: fits; 1: MEM001, or MEM004 (the command failed); 2: bad "
        "input.",
    )
    add_cli_options(parser, "repo", "contract")
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--lane", help="contract lane whose memory_limit is the envelope")
    where.add_argument("--limit", help="an explicit envelope, e.g. 8Gi")
    add_report_arguments(parser, ["text", "json"])
    parser.add_argument(
        "--chart",
        type=Path,
        default=None,
        help="memory timeline SVG (default: next to --output, else "
        ".harness/memory-<lane>-<command>.svg)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=3600.0,
        help="seconds before the command is killed (default 3600)",
    )
    parser.add_argument(
        "--interval",
        type=float,
        default=None,
        help="sampling interval in seconds (default: contract memory.sample_interval, 0.1)",
    )
    parser.add_argument(
        "--allow-failure",
        action="store_true",
        help="judge only the memory: a command that exits non-zero (or cannot start) is not MEM004",
    )
    parser.add_argument(
        "cmd", nargs=argparse.REMAINDER, metavar="-- CMD", help="the command to run"
    )


def _envelope(contract: Contract, args: argparse.Namespace) -> tuple[Lane | None, int | None]:
    """The lane of `--lane`, or the bytes of `--limit`."""
    from harness.quantity import parse_quantity

    if args.lane:
        lane = contract.lane(args.lane)
        if lane is None:
            raise HarnessInputError(
                f"--lane {args.lane}: not a lane of {contract.path} "
                f"({', '.join(sorted(contract.lanes))})"
            )
        return lane, None
    try:
        return None, parse_quantity(args.limit)
    except ValueError as exc:
        raise HarnessInputError(f"--limit: {exc}") from None


def run(args: argparse.Namespace) -> int:
    """Measure the command; print text or the JSON report; exit 1 when MEM001 fires."""
    from harness.checks.memory import Verdict, measure_workload
    from harness.engine import make_context, run_case
    from harness.probes.workload import WorkloadRun
    from harness.quantity import format_bytes
    from harness.report import renderer
    from harness.report.build import build_report
    from harness.results import CheckOutput, Status
    from harness.scenario import Case

    command = list(args.cmd)
    if command[:1] == ["--"]:
        command = command[1:]
    if not command:
        raise HarnessInputError("measure: give the command after `--`")
    for flag, value, top in (
        ("--timeout", args.timeout, 7 * 86400.0),
        ("--interval", args.interval, 60.0),
    ):
        if value is not None and not 0 < value <= top:
            raise HarnessInputError(f"{flag} {value:g}: must be over 0 and at most {top:g} s")
    ctx = make_context(args.repo, args.contract)
    lane, limit = _envelope(ctx.contract, args)
    chart = args.chart
    if chart is None and args.output is not None:
        chart = args.output.with_suffix(".svg")
    measured: list[tuple[WorkloadRun, Verdict]] = []

    def measure(_ctx: object, _params: object) -> CheckOutput:
        run_, verdict, output = measure_workload(
            ctx.contract,
            command,
            lane=lane,
            limit=limit,
            timeout=args.timeout,
            chart=chart,
            chart_dir=Path(".harness"),
            interval=args.interval,
            allow_failure=args.allow_failure,
        )
        measured.append((run_, verdict))
        return output

    label = lane.name if lane is not None else format_bytes(limit or 0)
    # SIGTERM (CI cancel) unwinds like Ctrl-C (see cli.main), so the cgroup is removed.
    result = run_case(ctx, "memory", Case(f"measure-{label}", "memory.workload", 0), check=measure)
    failed = result.status in (Status.FAILED, Status.ERROR)
    if args.format == "json":
        emit(renderer("json")(build_report(ctx, [result])), args.output)
    else:
        from harness.report.memory_text import render_text

        text = (
            render_text(*measured[0])
            if measured
            else f"measure: {result.status}: {result.reason}\n"
        )
        text += "".join(f"chart:             {a}\n" for a in result.artifacts)
        emit(text, args.output)
        if args.output is not None:
            sys.stderr.write(f"report: {args.output}\n")
    return 1 if failed else 0
