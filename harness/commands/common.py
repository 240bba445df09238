"""What subcommands share: their parser (help from `COMMANDS`) and writing their output.

Options shared with the pytest plugin (`--repo`, `--contract`, `--attic-url`, ...) come
from the option table: `harness.options.add_cli_options(parser, *names)`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from harness.commands import COMMANDS
from harness.redact import scrub_credentials


def command_parser(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser], name: str, description: str
) -> argparse.ArgumentParser:
    """The parser of command `name`; its one-line help is the one `COMMANDS` lists."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        name, help=COMMANDS[name][1], description=description
    )
    return parser


def emit(text: str, output: Path | None) -> None:
    """Write `text` (credentials in URLs removed) to `output` (whole or not at all; missing
    folders are created), or to standard output."""
    text = scrub_credentials(text)
    if output is None:
        sys.stdout.write(text)
    else:
        from harness.atomic import write_text_atomic

        write_text_atomic(output, text)


def add_report_arguments(
    parser: argparse.ArgumentParser,
    formats: Sequence[str],
    what: str = "the report",
    output: Sequence[str] = ("--output",),
) -> None:
    """`--format` (the first of `formats` is the default) and `--output FILE` (none when
    `output` is empty)."""
    parser.add_argument(
        "--format",
        choices=list(formats),
        default=formats[0],
        help=f"how to print {what}: "
        + ", ".join(f"`{f}`" for f in formats)
        + f" (default `{formats[0]}`)",
    )
    if not output:
        return
    parser.add_argument(
        *output,
        type=Path,
        default=None,
        metavar="FILE",
        help=f"write {what} to FILE instead of standard output (missing folders are created)",
    )


def add_scenarios_argument(parser: argparse.ArgumentParser) -> None:
    """`--scenarios DIR`: the suites to run instead of the bundled ones."""
    parser.add_argument(
        "--scenarios",
        type=Path,
        default=None,
        metavar="DIR",
        help="directory of *.scenario.yaml suites (default: the bundled ones)",
    )
