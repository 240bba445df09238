"""Output and input paths from flags, checked before any work: one line, exit 2.

An output file (`--output`, `--evidence`, `--chart`, `-o`) must not be a directory, must not
lie under a file, and its nearest existing folder must be writable; missing parent folders
are created when the file is written. An output folder (`--artifacts-dir`) must be a folder
or creatable. An input file (`--kubectl-file`, `--metrics-file`) must be a readable regular
file.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from harness.errors import HarnessInputError
from harness.safe_read import UnsafeFile, check_regular

_NO_LIMIT = 1 << 62


def _nearest_existing(path: Path) -> tuple[Path, list[Path]]:
    """The deepest existing ancestor of `path` and the missing parts below it."""
    missing: list[Path] = []
    current = path
    while not current.exists() and not current.is_symlink():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    return current, missing


def _writable_folder(flag: str, path: Path, existing: Path) -> None:
    if not existing.is_dir():
        raise HarnessInputError(f"{flag} {path}: {existing} is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise HarnessInputError(f"{flag} {path}: the folder {existing} is not writable")


def check_output_file(flag: str, path: Path | None) -> None:
    """`path` can be written as a file (HarnessInputError naming `flag` otherwise)."""
    if path is None or str(path) == "-":
        return
    if path.is_dir():
        raise HarnessInputError(f"{flag} {path}: is a folder, not a file")
    if path.exists() or path.is_symlink():
        if not path.is_file():
            raise HarnessInputError(f"{flag} {path}: is not a regular file")
        if not os.access(path, os.W_OK):
            raise HarnessInputError(f"{flag} {path}: the file is not writable")
        _writable_folder(flag, path, path.parent)
        return
    existing, _ = _nearest_existing(path.parent)
    _writable_folder(flag, path, existing)


def check_output_dir(flag: str, path: Path | None) -> None:
    """`path` is a writable folder, or can be created as one."""
    if path is None:
        return
    if path.exists() and not path.is_dir():
        raise HarnessInputError(f"{flag} {path}: is a file, not a folder")
    existing, _ = _nearest_existing(path)
    _writable_folder(flag, path, existing)


def check_input_files(flag: str, paths: Iterable[Path]) -> None:
    """Every path is a readable regular file."""
    for path in paths:
        try:
            check_regular(Path(path), _NO_LIMIT)
        except UnsafeFile as exc:
            raise HarnessInputError(f"{flag} {path}: {exc.reason}") from None
        if not os.access(path, os.R_OK):
            raise HarnessInputError(f"{flag} {path}: the file is not readable")


OUTPUT_FILES = {"output": "--output", "evidence": "--evidence", "chart": "--chart"}
"""Argument destinations that name a file a command writes."""
OUTPUT_DIRS = {"artifacts_dir": "--artifacts-dir"}
INPUT_FILES = {"kubectl_files": "--kubectl-file", "metrics_files": "--metrics-file"}
READS_EVIDENCE = {"gate"}
"""Commands whose `--evidence` is read, not written."""


def check_arguments(command: str, args: object) -> None:
    """Check every path flag a parsed command line carries, before the command runs."""
    for dest, flag in OUTPUT_FILES.items():
        value = getattr(args, dest, None)
        if not isinstance(value, Path):
            continue
        if dest == "evidence" and command in READS_EVIDENCE:
            continue  # read, not written: read_evidence reports it in one line
        else:
            check_output_file(
                "-o/--output" if flag == "--output" and command == "evidence" else flag, value
            )
    for dest, flag in OUTPUT_DIRS.items():
        value = getattr(args, dest, None)
        if isinstance(value, Path):
            check_output_dir(flag, value)
    for dest, flag in INPUT_FILES.items():
        values = getattr(args, dest, None)
        if isinstance(values, list | tuple):
            check_input_files(flag, [Path(v) for v in values])
