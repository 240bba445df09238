"""Reading input files safely: regular files only, inside a root when given, with a size cap.

A file in a pull request is attacker-controlled: a symlink to `/dev/zero`, a FIFO, a link
out of the repository or a 50 MB workflow must end in one clear error, never in a hang, a
MemoryError or a read of the host's files. Every reader of user input goes through here.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from harness.errors import HarnessError

MAX_WORKFLOW_BYTES = 2 * 1024 * 1024
"""Largest workflow or action file read (GitHub itself refuses workflows much larger)."""
MAX_TF_BYTES = 4 * 1024 * 1024
"""Largest OpenTofu file read."""
MAX_CONTRACT_BYTES = 4 * 1024 * 1024
"""Largest contract or scenario file read."""
MAX_JSON_BYTES = 64 * 1024 * 1024
"""Largest report, evidence or recorded-payload JSON read."""


class UnsafeFile(HarnessError, ValueError):
    """A file that must not be read; `reason` is one line, without the path."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


def _kernel_real(path: Path) -> str | None:
    """Where the kernel resolves `path` to (the link of an `O_PATH` descriptor in /proc, one
    system call instead of one per folder); None when it cannot tell (a missing or looping
    path, no /proc): `os.path.realpath` decides then."""
    flags = getattr(os, "O_PATH", 0)
    if not flags:
        return None
    try:
        fd = os.open(path, flags | os.O_CLOEXEC)
    except (OSError, ValueError):
        return None
    try:
        link = os.readlink(f"/proc/self/fd/{fd}")  # noqa: PTH115 - no Path for a /proc link
    except OSError:
        return None
    finally:
        os.close(fd)
    return link if link.startswith("/") and not link.endswith(" (deleted)") else None


def _real(path: Path) -> str | None:
    """`path` with symlinks resolved (as `Path.resolve`), None when it is in a symlink loop."""
    found = _kernel_real(path)
    if found is not None:
        return found
    try:
        real = os.path.realpath(path)
    except (OSError, ValueError):  # ValueError: a NUL byte in the path
        return None
    try:
        os.stat(real)  # noqa: PTH116 - realpath leaves a loop unresolved; stat finds it
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return None
    except ValueError:
        return None
    return real


_ROOTS: dict[tuple[str, int, int], str] = {}
"""Roots resolved, by name and the folder they name (device, inode): a repository's folder
is resolved once per run, not once per file read, and again when its name comes to mean
another folder."""
_ROOTS_MAX = 256


def _real_root(root: Path) -> str | None:
    try:
        info = root.stat()
    except (OSError, ValueError):
        return _real(root)
    key = (os.fspath(root), info.st_dev, info.st_ino)
    found = _ROOTS.get(key)
    if found is None:
        found = _real(root)
        if found is None:
            return None
        if len(_ROOTS) >= _ROOTS_MAX:
            _ROOTS.clear()
        _ROOTS[key] = found
    return found


def inside(path: Path, root: Path) -> bool:
    """True when `path`, after resolving symlinks, lies inside `root` (also resolved)."""
    real, base = _real(path), _real_root(root)
    if real is None or base is None:
        return False
    return real == base or real.startswith(base.rstrip(os.sep) + os.sep)


def check_regular(path: Path, limit: int, root: Path | None = None) -> int:
    """The size of `path` when it is a regular file within `limit` (and `root`); else UnsafeFile.

    What the file is comes first (a loop, a dangling link, a directory, a device), then
    where it is: the reason names the most specific problem. Nothing is opened.
    """
    try:
        info = path.stat()  # follows symlinks: a dangling link or a loop fails here
    except RuntimeError:
        raise UnsafeFile(path, "symlink loop") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise UnsafeFile(path, "symlink loop") from None
        if path.is_symlink():
            raise UnsafeFile(path, "dangling symlink") from None
        raise UnsafeFile(path, f"cannot read: {exc.strerror or exc}") from None
    if stat.S_ISDIR(info.st_mode):
        raise UnsafeFile(path, "is a directory, not a file")
    if not stat.S_ISREG(info.st_mode):
        kind = (
            "a FIFO"
            if stat.S_ISFIFO(info.st_mode)
            else "a socket"
            if stat.S_ISSOCK(info.st_mode)
            else "a device"
        )
        raise UnsafeFile(path, f"is not a regular file ({kind})")
    if root is not None and not inside(path, root):
        raise UnsafeFile(path, "resolves outside the repository")
    if info.st_size > limit:
        raise UnsafeFile(path, f"is {info.st_size} bytes, over the {limit}-byte limit")
    return info.st_size


def read_bytes(path: Path, limit: int, root: Path | None = None) -> bytes:
    """The bytes of a regular file of at most `limit` bytes (inside `root` when given)."""
    check_regular(path, limit, root)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise UnsafeFile(path, f"cannot read: {exc.strerror or exc}") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):  # swapped between stat and open
            raise UnsafeFile(path, "is not a regular file")
        chunks: list[bytes] = []
        left = limit + 1
        while left > 0:  # no buffer of `limit` bytes for a small file
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        data = b"".join(chunks)
    finally:
        os.close(fd)
    if len(data) > limit:
        raise UnsafeFile(path, f"grew past the {limit}-byte limit while read")
    return data


def read_text(path: Path, limit: int, root: Path | None = None, errors: str = "strict") -> str:
    """The UTF-8 text of a regular file of at most `limit` bytes (inside `root` when given)."""
    data = read_bytes(path, limit, root)
    try:
        return data.decode("utf-8", errors=errors)
    except UnicodeDecodeError as exc:
        raise UnsafeFile(path, f"is not UTF-8 text (byte {exc.start})") from None
