"""`flywheel-harness matrix`: the GitHub Actions matrix that maps each suite to its lane.

Prints `{"include": [{"suite": "workflows", "lane": "tinyland-nix"}, ...]}` on one line, for
`strategy.matrix: ${{ fromJSON(needs.plan.outputs.matrix) }}` and `runs-on: ${{ matrix.lane }}`.
Suites that run heavy workload measurements (`memory`, or any suite marked `heavy`) go to the
contract's heavy lane (`placement.heavy_lane`); every other suite goes to the first non-heavy
`nix` lane of the contract (`tinyland-nix` for honey).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from harness.commands.common import add_scenarios_argument, command_parser
from harness.contract.model import Contract
from harness.errors import HarnessInputError
from harness.options import add_cli_options
from harness.scenario import Suite

HEAVY_SUITES = frozenset({"memory"})


def default_lane(contract: Contract) -> str:
    """The lane for ordinary suites: the first non-heavy Nix lane (else the first lane)."""
    for lane in contract.lanes.values():
        if lane.kind == "nix" and not lane.heavy:
            return lane.name
    if not contract.lanes:
        raise HarnessInputError(f"{contract.path}: the contract declares no lanes")
    return next(iter(contract.lanes))


def lane_for(suite: Suite, contract: Contract) -> str:
    """The lane a suite must run on."""
    if (suite.name in HEAVY_SUITES or "heavy" in suite.marks) and contract.heavy_lane:
        return contract.heavy_lane
    return default_lane(contract)


def matrix(suites: list[Suite], contract: Contract) -> dict[str, list[dict[str, str]]]:
    """The matrix object: one entry per suite, with its lane."""
    return {
        "include": [
            {"suite": s.name, "lane": lane_for(s, contract)}
            for s in sorted(suites, key=lambda s: s.name)
        ]
    }


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `matrix`."""
    parser = command_parser(
        subparsers, "matrix", "Print the matrix (JSON for fromJSON) mapping each suite to its lane."
    )
    add_cli_options(parser, "repo", "contract", "suites")
    add_scenarios_argument(parser)
    parser.add_argument("--pretty", action="store_true", help="indented JSON")
    parser.add_argument(
        "--fleet",
        type=Path,
        default=None,
        metavar="FILE",
        help="instead: split this repo list (as for `fleet --repo-list`) into "
        "--shards matrix entries for `fleet --shard K/N`",
    )
    parser.add_argument(
        "--shards", type=int, default=None, metavar="N", help="how many shards --fleet makes"
    )


def fleet_matrix(path: Path, shards: int, contract: Contract) -> dict[str, list[dict[str, Any]]]:
    """One entry per shard: `{"shard": "K/N", "lane": ..., "repos": [...]}`; empty shards
    are left out."""
    from harness.rollout.targets import from_list, shard

    targets = from_list(path)
    lane = default_lane(contract)
    entries = []
    for index in range(1, shards + 1):
        repos = [t.repo for t in shard(targets, index, shards)]
        if repos:
            entries.append({"shard": f"{index}/{shards}", "lane": lane, "repos": repos})
    return {"include": entries}


def run(args: argparse.Namespace) -> int:
    """Print the matrix."""
    from harness.engine import make_context
    from harness.suites import load_suites, select_suites

    ctx = make_context(args.repo, args.contract)
    if args.fleet is not None or args.shards is not None:
        if args.fleet is None or args.shards is None or args.shards < 1:
            raise HarnessInputError("--fleet FILE and --shards N (N >= 1) go together")
        fleet = fleet_matrix(args.fleet, args.shards, ctx.contract)
        print(
            json.dumps(
                fleet,
                indent=2 if args.pretty else None,
                separators=None if args.pretty else (",", ":"),
            )
        )
        return 0
    suites = select_suites(load_suites(args.scenarios), args.suites)
    data = matrix(suites, ctx.contract)
    print(
        json.dumps(
            data, indent=2 if args.pretty else None, separators=None if args.pretty else (",", ":")
        )
    )
    return 0
