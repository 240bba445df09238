"""`flywheel-harness` (also `python -m harness`): the command-line front door.

Exit codes: 0 nothing failed, 1 a rule failed, 2 bad input (contract, repo, scenario, flags).
"""

from __future__ import annotations

from harness.startup import CollectorPaused

with CollectorPaused():  # what imports make lives as long as the process
    import argparse
    import importlib
    import os
    import sys
    from collections.abc import Sequence

    from harness import __version__
    from harness.commands import COMMANDS
    from harness.errors import HarnessInputError
    from harness.outpaths import check_arguments
    from harness.redact import ScrubbedStream, scrub_credentials
    from harness.signals import EXIT_TERMINATED, Terminated, terminate_unwinds


def terminal_columns() -> int:
    """The width help text is laid out for, found as `shutil.get_terminal_size` finds it:
    `COLUMNS`, else the terminal of standard output, else 80."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns or 80  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):
        return 80


class _Formatter(argparse.HelpFormatter):
    """argparse's help layout, given its width: argparse would import `shutil` (and with it
    the compression modules) to find it, for every parser built, a help shown or not."""

    def __init__(
        self,
        prog: str,
        indent_increment: int = 2,
        max_help_position: int = 24,
        width: int | None = None,
    ) -> None:
        width = terminal_columns() - 2 if width is None else width
        super().__init__(prog, indent_increment, max_help_position, width)


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("formatter_class", _Formatter)  # every command's parser, too
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        sys.stderr.write(f"flywheel-harness: error: {scrub_credentials(message)}\n")
        raise SystemExit(2)


def build_parser(command: str | None) -> argparse.ArgumentParser:
    """The parser; only the chosen command's module is imported and its parser built (fast
    start-up); without a command, every command is listed."""
    parser = _Parser(
        prog="flywheel-harness",
        description="Prove that a self-hosted Nix CI fleet keeps its contract.",
    )
    parser.add_argument("--version", action="version", version=f"flywheel-harness {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    if command is not None:  # the other commands' parsers would only serve the help
        importlib.import_module(COMMANDS[command][0]).add_parser(subparsers)
        return parser
    for name, (_module, help_text) in COMMANDS.items():
        subparsers.add_parser(name, help=help_text, add_help=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    command = next((a for a in args_list if not a.startswith("-")), None)
    if command is not None and {"-h", "--help"} & set(args_list[: args_list.index(command)]):
        command = None  # the help of the whole program lists every command
    with CollectorPaused():  # the command's imports live as long as the process
        parser = build_parser(command if command in COMMANDS else None)
        args = parser.parse_args(args_list)
        if args.command is None:
            parser.print_help()
            return 2
        module = importlib.import_module(COMMANDS[args.command][0])
    streams = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = ScrubbedStream(sys.stdout), ScrubbedStream(sys.stderr)
    try:
        check_arguments(args.command, args)
        with terminate_unwinds():  # a CI cancel unwinds: cgroups, workloads, secrets go
            code: int = module.run(args)
    except HarnessInputError as exc:
        for problem in exc.problems:
            sys.stderr.write(f"flywheel-harness: {scrub_credentials(str(problem))}\n")
        return 2
    except Terminated:
        sys.stderr.write("flywheel-harness: terminated\n")
        return EXIT_TERMINATED
    except KeyboardInterrupt:
        sys.stderr.write("flywheel-harness: interrupted\n")
        return 130
    except BrokenPipeError:
        return 0
    finally:
        sys.stdout, sys.stderr = streams
    return code


def run() -> None:
    """The `flywheel-harness` program: `main`, then the end of the process without Python's
    teardown of the run's objects (`harness.process_exit`)."""
    from harness.process_exit import exit_process

    exit_process(main())
