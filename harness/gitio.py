"""Running git: one place for its timeout, environment and failure handling."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

GIT_TIMEOUT = 20.0
"""Seconds any one git command may take."""


@dataclass(frozen=True)
class GitResult:
    """What one git command printed and how it ended (`returncode` -1: did not run)."""

    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        """True when git ran and exited 0."""
        return self.returncode == 0


def run_git(
    root: Path,
    *args: str,
    timeout: float = GIT_TIMEOUT,
    text: bool = True,
    input_text: str | None = None,
) -> GitResult:
    """Run `git -C root ARGS` without prompts; never raises for a missing git or a timeout.

    `input_text` is given to git on standard input (else standard input is empty); with
    `text=False` it is sent UTF-8 encoded and `stdout` holds bytes."""
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0"}
    try:
        done = subprocess.run(
            ["git", "-C", str(root), *args],
            capture_output=True,
            text=text,
            timeout=timeout,
            check=False,
            env=env,
            input=input_text if text or input_text is None else input_text.encode(),
            stdin=None if input_text is not None else subprocess.DEVNULL,
        )
    except FileNotFoundError:
        return GitResult(-1, "", "git is not installed")
    except subprocess.TimeoutExpired:
        return GitResult(-1, "", f"git {args[0] if args else ''} timed out after {timeout:g} s")
    except OSError as exc:
        return GitResult(-1, "", str(exc))
    return GitResult(done.returncode, done.stdout, done.stderr)


def git_output(root: Path, *args: str) -> str | None:
    """The stripped standard output of a git command, or None when it failed."""
    result = run_git(root, *args)
    return result.stdout.strip() if result.ok else None


def outside_any_repository(path: Path) -> bool:
    """True when git would certainly find no repository at `path`: neither it nor any folder
    above it holds `.git` or looks like a bare repository (`HEAD`), and `GIT_DIR` is unset.
    Saves starting git (milliseconds each time) for a folder that is no checkout; any doubt
    leaves the answer to git."""
    if "GIT_DIR" in os.environ:
        return False
    logical = Path(os.path.normpath(Path(path).absolute()))
    for start in {logical, logical.resolve()}:  # git walks the real path; both are looked at
        for folder in (start, *start.parents):
            if os.path.lexists(folder / ".git") or os.path.lexists(folder / "HEAD"):
                return False
    return True
