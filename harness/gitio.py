"""Running git: one place for its timeout, environment and failure handling."""

from __future__ import annotations

import os
import time
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
    max_output: int | None = None,
) -> GitResult:
    """Run `git -C root ARGS` without prompts; never raises for a missing git or a timeout.

    `input_text` is given to git on standard input (else standard input is empty); with
    `text=False` it is sent UTF-8 encoded and `stdout` holds bytes. With `max_output` (and
    no input), git is stopped once it prints more than that many bytes: a failed result
    saying so, never the whole output in memory."""
    import subprocess  # here: a run that starts no git (no checkout) does not import it

    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0"}
    if max_output is not None and input_text is None:
        return _run_capped(["git", "-C", str(root), *args], env, timeout, text, max_output)
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


def _run_capped(
    argv: list[str], env: dict[str, str], timeout: float, text: bool, max_output: int
) -> GitResult:
    """`argv` with its standard output read as it comes, up to `max_output` bytes."""
    import selectors
    import subprocess

    name = argv[3] if len(argv) > 3 else "git"
    try:
        proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
        )
    except FileNotFoundError:
        return GitResult(-1, "", "git is not installed")
    except OSError as exc:
        return GitResult(-1, "", str(exc))
    out, err = bytearray(), bytearray()
    deadline = time.monotonic() + timeout
    problem = ""
    with proc, selectors.DefaultSelector() as selector:
        assert proc.stdout is not None and proc.stderr is not None
        selector.register(proc.stdout, selectors.EVENT_READ, out)
        selector.register(proc.stderr, selectors.EVENT_READ, err)
        while selector.get_map() and not problem:
            left = deadline - time.monotonic()
            if left <= 0:
                problem = f"git {name} timed out after {timeout:g} s"
                break
            for key, _ in selector.select(left):
                chunk = os.read(key.fd, 1 << 16)
                if not chunk:
                    selector.unregister(key.fileobj)
                elif key.data is out and len(out) + len(chunk) > max_output:
                    problem = f"git {name} printed over {max_output} bytes"
                    break
                elif key.data is out or len(err) < 1 << 16:
                    key.data.extend(chunk)
        if problem:
            proc.kill()
        code = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    if problem:
        return GitResult(-1, "", problem)
    stdout = out.decode(errors="replace") if text else bytes(out)
    return GitResult(code, stdout, err.decode(errors="replace"))  # type: ignore[arg-type]


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
