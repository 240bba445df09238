"""`flywheel-harness attic`: the Attic cases against any cache, without a contract.

    flywheel-harness attic --url https://attic.example --cache main \\
        --public-key main:BASE64 --min-hit-ratio 0.9 /nix/store/...-app --format json

Without `--url` the cases build the loopback cache (real Nix and nginx) and run against
it; a `--url` that does not serve fails ATTIC001 once and the other cases skip. The token
comes from `ATTIC_TOKEN` and never appears in any output. Cases, layout and exit codes
are shared with `flywheel-harness bazel` (harness.commands.cache_cases).
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import Any

from harness.commands.cache_cases import add_output_arguments
from harness.commands.common import command_parser
from harness.options import add_cli_options

CASES: dict[str, str] = {
    "reachable": "attic-reachable",
    "signatures": "attic-signatures",
    "hit-ratio": "attic-hit-ratio",
    "substitution": "attic-substitution",
    "outage": "attic-outage",
}
"""`--case` choice -> the case of the bundled `caches` suite it runs."""


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `attic` and its arguments."""
    parser = command_parser(
        subparsers,
        "attic",
        "Run the Attic cases (ATTIC001-005) against a cache without a contract. Exit 0: "
        "nothing failed; 1: a rule failed; 2: bad input.",
    )
    parser.add_argument(
        "--url",
        default=None,
        help="Attic server URL; the cache is {url}/{cache} (default: build "
        "and serve a loopback cache)",
    )
    parser.add_argument("--cache", default="main", help="Attic cache name (default: main)")
    parser.add_argument(
        "--public-key",
        action="append",
        default=[],
        metavar="NAME:KEY",
        help="trusted signing key (repeatable)",
    )
    parser.add_argument(
        "--min-hit-ratio",
        type=float,
        default=0.9,
        metavar="R",
        help="fail ATTIC003 under this ratio (0..1, default 0.9)",
    )
    parser.add_argument(
        "--installable",
        action="append",
        default=[],
        metavar="X",
        help="an installable whose closure to look up (repeatable)",
    )
    parser.add_argument(
        "paths", nargs="*", metavar="STORE_PATH", help="store paths whose closure to look up"
    )
    parser.add_argument(
        "--case",
        action="append",
        choices=sorted(CASES),
        default=[],
        help="run only this case (repeatable; default: all)",
    )
    parser.add_argument(
        "--token-env",
        default="ATTIC_TOKEN",
        help="environment variable holding the token (default: ATTIC_TOKEN)",
    )
    add_output_arguments(parser)
    add_cli_options(parser, "require_live", "artifacts_dir")


def run(args: argparse.Namespace) -> int:
    """Run the selected Attic cases and print the report; 1 when a case failed."""
    from harness.checks.api import CheckContext
    from harness.commands.cache_cases import bundled_cases, run_cases
    from harness.contract import BUNDLED_CONTRACT, load_contract
    from harness.contract.model import AtticCache
    from harness.errors import HarnessInputError
    from harness.options import Options
    from harness.probes.narinfo import NarInfoError, PublicKey
    from harness.urls import HTTP, require_scheme

    if not 0.0 <= args.min_hit_ratio <= 1.0:
        raise HarnessInputError(f"--min-hit-ratio {args.min_hit_ratio} is not within 0..1")
    for key in args.public_key:
        try:
            PublicKey.parse(key)
        except NarInfoError as exc:
            raise HarnessInputError(f"--public-key: {exc}") from None
    if args.url:
        require_scheme(args.url, HTTP, "--url")
    attic = AtticCache(
        cache=args.cache,
        url=args.url,
        public_keys=tuple(args.public_key),
        min_hit_ratio=args.min_hit_ratio,
        token_env=args.token_env,
        installables=tuple(args.installable),
    )
    contract = dataclasses.replace(load_contract(BUNDLED_CONTRACT), attic=attic)
    options = Options(
        require_live=args.require_live,
        attic_url=args.url,
        attic_cache=args.cache,
        artifacts_dir=args.artifacts_dir,
    )
    ctx = CheckContext(repo=Path.cwd(), contract=contract, options=options)
    params: dict[str, Any] = {}
    if args.url and args.paths:
        params["store_paths"] = list(args.paths)
    if args.url and args.installable:
        params["installables"] = list(args.installable)
    cases = bundled_cases(CASES)
    chosen = [cases[name] for name in dict.fromkeys(args.case or CASES)]
    return run_cases(ctx, chosen, {c.name: params for c in chosen}, args.format, args.output)
