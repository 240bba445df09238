"""The flag reference of docs/cli.md, generated from the parsers and the option table.

Every flag's help is written once, where the flag is declared; the reference page shows
it. `python -m harness.cliref` rewrites the generated part of docs/cli.md (between the
`<!-- flags:begin -->` and `<!-- flags:end -->` lines); a test keeps the page in sync.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from harness.commands import COMMANDS
from harness.options import OPTION_TABLE

BEGIN = "<!-- flags:begin -->"
END = "<!-- flags:end -->"
PAGE = Path(__file__).resolve().parent.parent / "docs" / "cli.md"


def _commands() -> Iterator[tuple[str, argparse.ArgumentParser]]:
    """(`check`, its parser), ... and nested commands such as (`fleet merge`, ...)."""
    from harness.cli import build_parser

    def walk(name: str, parser: argparse.ArgumentParser) -> Iterator[tuple[str, Any]]:
        yield name, parser
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for child, sub in action.choices.items():
                    yield from walk(f"{name} {child}", sub)

    for name in COMMANDS:
        top = build_parser(name)
        sub = next(a for a in top._actions if isinstance(a, argparse._SubParsersAction))
        yield from walk(name, sub.choices[name])


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _flag(action: argparse.Action) -> str:
    """`-o`, `--output FILE` (pipes escaped for a table cell)."""
    if action.nargs == 0:
        value = ""
    elif action.choices is not None:
        value = " " + "|".join(str(c) for c in action.choices)
    else:
        value = " " + str(action.metavar or action.dest.upper())
    names = [*action.option_strings[:-1], action.option_strings[-1] + value]
    return ", ".join(f"`{name}`".replace("|", "\\|") for name in names)


def _meaning(action: argparse.Action) -> str:
    text = action.help or ""
    if action.choices is not None and not text:
        text = "one of " + ", ".join(f"`{c}`" for c in action.choices)
        if action.default is not None:
            text += f" (default `{action.default}`)"
    if action.required and action.option_strings:
        text = "required: " + text
    if isinstance(action, argparse._AppendAction):
        text += " (repeatable)" if "repeatable" not in text else ""
    return _cell(text)


def flag_tables() -> str:
    """One table of flags per command, then the pytest plugin's options and ini keys."""
    out: list[str] = []
    for name, parser in _commands():
        rows = [
            f"| {_flag(action)} | {_meaning(action)} |"
            for action in parser._actions
            if action.option_strings and "--help" not in action.option_strings
        ]
        rows += [
            f"| `{action.metavar or action.dest}` | {_meaning(action)} |"
            for action in parser._actions
            if not action.option_strings
            and action.help
            and not isinstance(action, argparse._SubParsersAction)
        ]
        if rows:
            out += [f"### `flywheel-harness {name}`", "", "| flag | meaning |", "| --- | --- |"]
            out += [*rows, ""]
    out += [
        "### Options of the pytest plugin",
        "",
        "| option | ini key | meaning |",
        "| --- | --- | --- |",
    ]
    for field, declared in OPTION_TABLE.items():
        metavar = "" if declared.kind is bool else f" {declared.metavar or field.upper()}"
        flags = ", ".join(f"`{flag}{metavar}`" for flag in declared.pytest_flags)
        env = f" (environment: `{declared.env}`)" if declared.env else ""
        out.append(f"| {flags} | `harness_{field}` | {_cell(declared.help)}{env} |")
    return "\n".join(out) + "\n"


def rewritten(page: str) -> str:
    """`page` with its generated block replaced by today's flag tables."""
    head, sep, rest = page.partition(BEGIN + "\n")
    _, sep_end, tail = rest.partition(END)
    if not sep or not sep_end:
        raise ValueError(f"{PAGE}: the {BEGIN} ... {END} block is missing")
    return f"{head}{BEGIN}\n{flag_tables()}{END}{tail}"


def main() -> int:
    """Rewrite docs/cli.md's flag reference in place."""
    PAGE.write_text(rewritten(PAGE.read_text(encoding="utf-8")), encoding="utf-8")
    sys.stdout.write(f"wrote {PAGE}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
