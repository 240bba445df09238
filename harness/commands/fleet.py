"""`flywheel-harness fleet`: the static suites over many repositories, one row per repository,
per-tranche readiness and promotion candidates; `fleet merge` combines shard reports.

Exit codes: 0 done (and the named tranche has no blocked repository), 1 the named tranche
has a blocked or unchecked repository, 2 bad input.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from harness.commands.common import add_report_arguments, add_scenarios_argument, emit
from harness.errors import HarnessInputError, Problem
from harness.options import USES_OPTIONS, Options, add_cli_options, cli_options
from harness.rollout.render import FORMATS

FLEET_USES_OPTIONS = tuple(name for name in USES_OPTIONS if name != "repo_name")
"""How remote `uses:` (and `OWNER/REPO@REF` lines) are read: as for `check`."""


def _output_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--tranche",
        default=None,
        metavar="NAME",
        help="the tranche to judge: exit 1 when one of its repositories is "
        "blocked or was not checked; promotion candidates are the "
        "repositories outside it and the tranches before it",
    )
    add_report_arguments(parser, FORMATS)


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `fleet` and `fleet merge`."""
    parser = subparsers.add_parser(
        "fleet",
        help="check many repositories: enrollment, tranches, promotion",
        description="Run the static suites over a folder of checkouts or a repo list, one "
        "row per repository with its verdict explained, per-tranche readiness "
        "and promotion candidates. Exit 1 when the --tranche has a blocked "
        "repository; 2 on bad input.",
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--repos",
        type=Path,
        default=None,
        metavar="DIR",
        help="a folder of git checkouts, each named by its origin remote",
    )
    source.add_argument(
        "--repo-list",
        type=Path,
        default=None,
        metavar="FILE",
        help="lines of OWNER/REPO=PATH, or OWNER/REPO@REF (fetched from a --uses-source "
        "clone, the cache or the GitHub API)",
    )
    parser.add_argument(
        "--contract",
        type=Path,
        default=None,
        help="the fleet contract (default: the bundled honey contract; "
        "repositories' own fleet.yaml files are not read)",
    )
    add_cli_options(parser, *FLEET_USES_OPTIONS)
    parser.add_argument(
        "--jobs",
        type=int,
        default=None,
        metavar="N",
        help="worker processes (default: one per CPU)",
    )
    parser.add_argument(
        "--activity",
        type=Path,
        action="append",
        default=[],
        metavar="FILE",
        help="saved `gh api` output of workflow runs or their jobs (repeatable)",
    )
    parser.add_argument(
        "--queue-threshold",
        type=float,
        default=None,
        metavar="SECONDS",
        help="report lane jobs that waited longer than this (default 600)",
    )
    parser.add_argument(
        "--suite",
        action="append",
        default=[],
        metavar="NAME",
        help="suites to run (repeatable; default: workflows, placement, "
        "bootstrap, publication; only their static cases run)",
    )
    add_scenarios_argument(parser)
    parser.add_argument(
        "--shard",
        default=None,
        metavar="K/N",
        help="check only shard K of N (as `matrix --fleet FILE --shards N` splits the list)",
    )
    parser.add_argument(
        "--patches",
        type=Path,
        default=None,
        metavar="DIR",
        help="write DIR/OWNER__REPO.patch (git format-patch) for each repository with "
        "fixes, naming every finding it fixes and every one it leaves; with --shard, the "
        "shard's repositories",
    )
    parser.add_argument(
        "--unsafe",
        action="store_true",
        help="with --patches: unsafe fixes go into the patches too (they change what runs)",
    )
    _output_arguments(parser)
    commands = parser.add_subparsers(dest="fleet_command", metavar="merge")
    merge = commands.add_parser(
        "merge",
        help="combine fleet reports of matrix shards",
        description="Combine the JSON fleet reports of shards into "
        "one report (and judge --tranche over all).",
    )
    merge.add_argument(
        "reports", type=Path, nargs="+", metavar="FILE", help="JSON fleet reports of the shards"
    )
    _output_arguments(merge)


def run(args: argparse.Namespace) -> int:
    """Check the fleet (or merge shard reports), print the report, return the exit code."""
    from harness.rollout.fleet import exit_code
    from harness.rollout.render import renderer

    if args.fleet_command == "merge":
        from harness.rollout.merge import merge_documents

        if args.patches is not None or args.unsafe:
            raise HarnessInputError(
                "--patches is written by each shard's own run (`fleet --shard K/N --patches "
                "DIR`); `fleet merge` only combines reports, and lists the shards' patches"
            )

        document = merge_documents([_read_report(p) for p in args.reports], args.tranche)
    else:
        document = _check_fleet(args)
    emit(renderer(args.format)(document), args.output)
    return exit_code(document)


def _read_report(path: Path) -> dict[str, Any]:
    from harness.safe_read import MAX_JSON_BYTES, UnsafeFile, read_text

    try:
        data = json.loads(read_text(path, MAX_JSON_BYTES))
    except (UnsafeFile, OSError) as exc:
        raise HarnessInputError(Problem(str(path), None, f"cannot read: {exc}")) from None
    except json.JSONDecodeError as exc:
        raise HarnessInputError(Problem(str(path), exc.lineno, f"not JSON: {exc.msg}")) from None
    return data if isinstance(data, dict) else {}


def _options(args: argparse.Namespace) -> Options:
    """How every repository is checked: the remote-uses flags, as for `check` (each
    repository's name comes from its row, never from a flag)."""
    return cli_options(argparse.Namespace(**{n: getattr(args, n) for n in FLEET_USES_OPTIONS}))


def _check_fleet(args: argparse.Namespace) -> dict[str, Any]:
    from datetime import date

    from harness.contract import BUNDLED_CONTRACT, load_contract
    from harness.github.uses.setup import api_for
    from harness.report.build import now_iso
    from harness.rollout import targets as t
    from harness.rollout.fleet import (
        DEFAULT_SUITES,
        check_tranche,
        fleet_document,
        run_rows,
        static_suites,
        tranche_order,
    )
    from harness.rollout.row import FleetSetup
    from harness.suites import load_suites, select_suites

    if args.repos is None and args.repo_list is None:
        raise HarnessInputError(
            "fleet needs --repos DIR or --repo-list FILE (or `fleet merge FILE...`)"
        )
    if args.unsafe and args.patches is None:
        raise HarnessInputError("--unsafe chooses the fixes of --patches DIR; give --patches")
    if args.patches is not None:
        from harness.rollout.patches import check_patch_dir

        check_patch_dir(args.patches)
    if args.jobs is not None and args.jobs < 1:
        raise HarnessInputError("--jobs must be at least 1")
    path = args.contract or BUNDLED_CONTRACT
    display = f"bundled:{path.name}" if path == BUNDLED_CONTRACT else str(path)
    contract = load_contract(path, display)
    tranches = tranche_order(contract)
    check_tranche(tranches, args.tranche)
    options = _options(args)
    targets = t.from_folder(args.repos) if args.repos is not None else t.from_list(args.repo_list)
    if args.shard is not None:
        targets = t.shard(targets, *t.parse_shard(args.shard))
    names = args.suite or list(DEFAULT_SUITES)
    suites = static_suites(select_suites(load_suites(args.scenarios, names), names))
    activity = None
    if args.activity:
        from harness.rollout.activity import Activity

        activity = Activity()
        for file in args.activity:
            activity.read(file)
    setup = FleetSetup(
        contract,
        suites,
        options,
        date.today(),
        patches=None if args.patches is None else args.patches.resolve(),
        unsafe=args.unsafe,
        api=api_for(options),
    )
    rows = run_rows(setup, targets, args.jobs)
    for row in rows:
        error = (row.get("fetched") or {}).get("error")
        if error:
            sys.stderr.write(f"flywheel-harness: {error}\n")
    joined = None
    if activity is not None:
        from harness.rollout.activity import DEFAULT_QUEUE_THRESHOLD, join

        threshold = (
            DEFAULT_QUEUE_THRESHOLD if args.queue_threshold is None else args.queue_threshold
        )
        joined = join(activity, contract, rows, threshold)
    return fleet_document(
        rows,
        tranches,
        args.tranche,
        {"path": contract.path, "sha256": contract.sha256},
        created=now_iso(),
        activity=joined,
    )
