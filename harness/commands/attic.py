"""`flywheel-harness attic`: the Attic cases against any cache, without a contract.

    flywheel-harness attic --url https://attic.example --cache main \\
        --public-key main:BASE64 --min-hit-ratio 0.9 /nix/store/...-app --format json

Without `--url` the cases build the loopback cache (real Nix and nginx) and run against
it. The token comes from `ATTIC_TOKEN` and never appears in any output.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import Any

from harness.commands.common import command_parser, emit
from harness.options import add_cli_options

CASES: dict[str, tuple[str, str]] = {
    "reachable": ("attic.reachable", "nix-cache-info answers; the cache's key is trusted"),
    "signatures": ("attic.signatures", "narinfos carry a trusted signature that verifies"),
    "hit-ratio": ("attic.hit_ratio", "the closure hits the cache at least min_hit_ratio"),
    "substitution": ("attic.substitution", "a fresh store realises the target from the cache"),
    "outage": ("attic.outage", "builds still succeed with the cache unreachable"),
}


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
    parser.add_argument("--format", choices=["text", "json", "github"], default="text")
    parser.add_argument("--output", type=Path, default=None, help="write the report here")
    add_cli_options(parser, "require_live", "artifacts_dir")


def run(args: argparse.Namespace) -> int:
    """Run the selected Attic cases and print the report; 1 when a case failed."""
    from harness.checks.api import CheckContext
    from harness.contract import BUNDLED_CONTRACT, load_contract
    from harness.contract.model import AtticCache
    from harness.engine import run_case
    from harness.errors import HarnessInputError
    from harness.options import Options
    from harness.probes.narinfo import NarInfoError, PublicKey
    from harness.report import renderer
    from harness.report.build import build_report
    from harness.scenario import Case
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
    results = []
    for name in args.case or list(CASES):
        check, description = CASES[name]
        case = Case(
            name=f"attic-{name}", check=check, line=0, description=description, params=dict(params)
        )
        results.append(run_case(ctx, "attic", case))
    report = build_report(ctx, results)
    text = renderer(args.format)(report)
    if args.format == "text":
        text += _measurements_text(results)
    emit(text, args.output)
    return 1 if report.failed else 0


def _measurements_text(results: list[Any]) -> str:
    """Each case's status, reason and measurements, for the text format."""
    lines = ["", "Measurements:"]
    for result in results:
        reason = f" ({result.reason})" if result.reason else ""
        lines.append(f"  {result.case}: {result.status}{reason}")
        for m in result.measurements:
            value = f"{m.value:g}" if isinstance(m.value, float) else str(m.value)
            lines.append(f"    {m.name} = {value}{' ' + m.unit if m.unit else ''}")
    return "\n".join(lines) + "\n"
