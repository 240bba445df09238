"""The methods `dataclasses` writes for the harness's classes, compiled once, not per start-up.

`@dataclass` writes the source of `__init__`, `__repr__`, `__eq__`, `__hash__` (and, frozen,
`__setattr__`, `__delattr__`) of every class and compiles it when the class is created: on
this project's machines about a millisecond per class, some sixty classes per `check`. Here
the compiled code of each source text is kept beside the package's bytecode (where Python
keeps it, `sys.pycache_prefix` included) and used again: the same text compiles to the
same code, so the classes are the same. Each module's methods are kept in a file of their
own, read when the module creates its first class: a run reads the methods of the modules
it imports, not of every command's. Only the harness's own modules go through the cache;
every other module's dataclasses are compiled as before. Nothing is written where
bytecode is not (`PYTHONDONTWRITEBYTECODE`, a read-only installation): then every start-up
compiles, as without the cache.

Python 3.11 and 3.12 only (their `dataclasses` compiles each method with one `exec`);
elsewhere `install` does nothing.
"""

from __future__ import annotations

import builtins
import contextlib
import dataclasses
import functools
import importlib.util
import io
import marshal
import os
import sys
from pathlib import Path
from types import CodeType
from typing import Any

MAX_ENTRIES = 4096
"""Most method sources kept (the harness has a few hundred)."""
_CODE: dict[str, dict[str, CodeType]] = {}
"""The compiled methods of each module read or compiled so far: module -> source -> code."""
_NEW: set[str] = set()
"""Modules with methods compiled in this process (their files are written at exit)."""
_STATE = {"installed": False, "entries": 0}


@functools.cache
def _cache_folder() -> str:
    """Where the package's bytecode is kept (`sys.pycache_prefix` included)."""
    compiled = importlib.util.cache_from_source(str(Path(__file__).with_name("__init__.py")))
    return str(Path(compiled).parent) + os.sep


def _cache_file(module: str) -> str:
    """The file of `module`'s methods (a string: read once per module and start-up)."""
    return f"{_cache_folder()}dataclass-methods.{module}.{sys.implementation.cache_tag}.bin"


def _methods(module: str) -> dict[str, CodeType]:
    """The compiled methods of `module`, read from its file the first time."""
    found = _CODE.get(module)
    if found is None:
        found = _CODE[module] = _load(_cache_file(module))
        _STATE["entries"] += len(found)
    return found


def _exec(source: Any, globals: Any = None, locals: Any = None, /) -> None:
    """`exec` as `dataclasses` calls it; the harness's method sources are compiled once."""
    module = str(globals.get("__name__", "")) if isinstance(globals, dict) else ""
    if isinstance(source, str) and (module == "harness" or module.startswith("harness.")):
        methods = _methods(module)
        code = methods.get(source)
        if code is None:
            # as exec(source) compiles it: no `from __future__` flags of this module
            code = compile(source, "<string>", "exec", dont_inherit=True)
            if _STATE["entries"] < MAX_ENTRIES:
                methods[source] = code
                _STATE["entries"] += 1
                _NEW.add(module)
        builtins.exec(code, globals, locals)
        return
    if isinstance(source, str):  # compiled as `dataclasses` would: not with this module's
        source = compile(source, "<string>", "exec", dont_inherit=True)  # `annotations`
    builtins.exec(source, globals, locals)


def _load(path: str) -> dict[str, CodeType]:
    with contextlib.suppress(OSError, ValueError, EOFError, TypeError):
        with io.open_code(path) as file:  # as bytecode is read
            data = file.read()
        magic = importlib.util.MAGIC_NUMBER
        if data[: len(magic)] == magic:
            loaded = marshal.loads(data[len(magic) :])
            if isinstance(loaded, dict):
                return {
                    k: v
                    for k, v in loaded.items()
                    if isinstance(k, str) and isinstance(v, CodeType)
                }
    return {}


def _save() -> None:
    """Write the file of each module whose methods were compiled here (whole or not at
    all)."""
    if sys.dont_write_bytecode:
        return
    for module in sorted(_NEW):
        _write(_cache_file(module), _CODE[module])
    _NEW.clear()


def _write(file: str, methods: dict[str, CodeType]) -> None:
    import tempfile

    path = Path(file)
    with contextlib.suppress(OSError, ValueError):
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".dataclass-methods")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(importlib.util.MAGIC_NUMBER + marshal.dumps(dict(methods)))
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
    dataclasses.exec = _exec  # type: ignore[attr-defined]
    import atexit

    atexit.register(_save)
