"""The methods `dataclasses` writes for the harness's classes, compiled once, not per start-up.

`@dataclass` writes the source of `__init__`, `__repr__`, `__eq__`, `__hash__` (and, frozen,
`__setattr__`, `__delattr__`) of every class and compiles it when the class is created: on
this project's machines about a millisecond per class, some sixty classes per `check`. Here
the compiled code of each source text is kept beside the package's bytecode (where Python
keeps it, `sys.pycache_prefix` included) and used again: the same text compiles to the
same code, so the classes are the same. Only the harness's own modules go through the
cache; every other module's dataclasses are compiled as before. Nothing is written where
bytecode is not (`PYTHONDONTWRITEBYTECODE`, a read-only installation): then every start-up
compiles, as without the cache.

Python 3.11 and 3.12 only (their `dataclasses` compiles each method with one `exec`);
elsewhere `install` does nothing.
"""

from __future__ import annotations

import builtins
import contextlib
import dataclasses
import importlib.util
import marshal
import os
import sys
from pathlib import Path
from types import CodeType
from typing import Any

MAX_ENTRIES = 4096
"""Most method sources kept (the harness has a few hundred)."""
_CODE: dict[str, CodeType] = {}
_STATE = {"new": False, "installed": False}


def _cache_file() -> Path:
    compiled = importlib.util.cache_from_source(str(Path(__file__).with_name("__init__.py")))
    return Path(compiled).with_name(f"dataclass-methods.{sys.implementation.cache_tag}.bin")


def _exec(source: Any, globals: Any = None, locals: Any = None, /) -> None:
    """`exec` as `dataclasses` calls it; the harness's method sources are compiled once."""
    if (
        isinstance(source, str)
        and isinstance(globals, dict)
        and str(globals.get("__name__", "")).startswith("harness")
    ):
        code = _CODE.get(source)
        if code is None:
            # as exec(source) compiles it: no `from __future__` flags of this module
            code = compile(source, "<string>", "exec", dont_inherit=True)
            if len(_CODE) < MAX_ENTRIES:
                _CODE[source] = code
                _STATE["new"] = True
        builtins.exec(code, globals, locals)
        return
    if isinstance(source, str):  # compiled as `dataclasses` would: not with this module's
        source = compile(source, "<string>", "exec", dont_inherit=True)  # `annotations`
    builtins.exec(source, globals, locals)


def _load(path: Path) -> None:
    with contextlib.suppress(OSError, ValueError, EOFError, TypeError):
        data = path.read_bytes()
        magic = importlib.util.MAGIC_NUMBER
        if data[: len(magic)] == magic:
            loaded = marshal.loads(data[len(magic) :])
            if isinstance(loaded, dict):
                _CODE.update(
                    (k, v)
                    for k, v in loaded.items()
                    if isinstance(k, str) and isinstance(v, CodeType)
                )


def _save() -> None:
    """Write the cache when new methods were compiled (whole or not at all)."""
    if not _STATE["new"] or sys.dont_write_bytecode:
        return
    import tempfile

    path = _cache_file()
    with contextlib.suppress(OSError, ValueError):
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".dataclass-methods")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(importlib.util.MAGIC_NUMBER + marshal.dumps(dict(_CODE)))
            Path(temporary).chmod(0o644)  # readable as the bytecode beside it is
            Path(temporary).replace(path)
        except BaseException:
            with contextlib.suppress(OSError):
                Path(temporary).unlink()
            raise


def install() -> None:
    """Route `dataclasses`' compiling of the harness's methods through the cache."""
    if _STATE["installed"] or sys.version_info[:2] not in ((3, 11), (3, 12)):
        return
    if not callable(getattr(dataclasses, "_create_fn", None)) or "exec" in vars(dataclasses):
        return
    _STATE["installed"] = True
    _load(_cache_file())
    dataclasses.exec = _exec  # type: ignore[attr-defined]
    import atexit

    atexit.register(_save)
