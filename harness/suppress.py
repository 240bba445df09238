"""Suppressions: inline `# flywheel-harness: ignore[RULE] reason` and contract `ignore:` paths.

A suppressed finding stays in the report (marked `suppressed`, with its reason) and is
counted, but no longer fails its case.
"""

from __future__ import annotations

import fnmatch
import os
import re
import stat
from functools import lru_cache
from pathlib import Path

from harness.checks.api import CheckContext
from harness.results import Finding

MARKER = "flywheel-harness:"
"""What every inline suppression holds: a file without it suppresses nothing."""
_MARKER_BYTES = MARKER.encode()
_INLINE = re.compile(rf"#\s*{re.escape(MARKER)}\s*ignore\[([A-Z0-9_, ]+)\]\s*(.*)$")
MAX_SUPPRESSION_FILE_BYTES = 64 * 1024 * 1024
"""Largest file looked through for inline suppressions (every input reader has a lower cap)."""


def _lines(path: str) -> tuple[str, ...]:
    try:
        info = os.stat(path)  # noqa: PTH116 - a string path, hashed cheaply by the cache below
    except OSError:
        return ()
    if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_SUPPRESSION_FILE_BYTES:
        return ()  # a FIFO or device is never read (it could block); findings name files
    return _read_lines(path, info.st_mtime_ns, info.st_size)


@lru_cache(maxsize=256)
def _read_lines(path: str, mtime_ns: int, size: int) -> tuple[str, ...]:
    """The file's lines when it holds the marker (else none), cached per version of the file
    (a long-lived process sees edits). Most files hold no marker: their bytes are searched,
    never decoded."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)  # a FIFO swapped in since the stat does not block the open
    except OSError:
        return ()
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return ()
        data = os.read(fd, size + 1)  # one read; a file that grew since is read in part
    except OSError:
        return ()
    finally:
        os.close(fd)
    if _MARKER_BYTES not in data:
        return ()
    return tuple(data.decode("utf-8", errors="replace").splitlines())


def inline_suppression(
    repo: Path, finding: Finding, read: dict[str, tuple[str, ...]] | None = None
) -> str | None:
    """The reason of an inline suppression on the finding's line or the line above it
    (`read`: the lines of files already read, by name, filled in as files are read)."""
    if not finding.file or not finding.line:
        return None
    if read is not None and finding.file in read:
        lines = read[finding.file]
    else:
        lines = _lines(os.path.join(repo, finding.file))  # noqa: PTH118 - a string for the cache
        if read is not None:
            read[finding.file] = lines
    for number in (finding.line, finding.line - 1):
        if 1 <= number <= len(lines):
            match = _INLINE.search(lines[number - 1])
            if match and finding.rule in {r.strip() for r in match.group(1).split(",")}:
                return match.group(2).strip() or "suppressed inline"
    return None


def apply_suppressions(ctx: CheckContext, findings: list[Finding]) -> list[Finding]:
    """Mark findings suppressed inline or by a contract `ignore` entry; return them all."""
    read: dict[str, tuple[str, ...]] = {}
    for finding in findings:
        reason = inline_suppression(ctx.repo, finding, read)
        if reason is None and finding.file:
            for ignore in ctx.contract.ignores:
                if finding.rule in ignore.rules and fnmatch.fnmatch(finding.file, ignore.path):
                    reason = ignore.reason or f"ignored by contract for {ignore.path}"
                    break
        if reason is not None:
            finding.suppressed = True
            finding.suppression = reason
    return findings
