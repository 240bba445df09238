"""`dataclasses` imported without `inspect`, which it reads only for undocumented classes.

`dataclasses` imports `inspect` when it is imported, and with it `ast`, `dis`, `tokenize`
and `linecache`: about 7 ms of every start-up, a fortieth of a static `check`. It reads
`inspect` for one thing only, the signature it writes as the docstring of a class that has
none. `import_dataclasses()` imports `dataclasses` with a stand-in for `inspect` that
imports the real module the first time anything is read from it; every other importer of
`inspect`, then or later, gets the real module.
"""

from __future__ import annotations

import sys
import types
from typing import Any


class _Deferred(types.ModuleType):
    """Stands in for `inspect` in `dataclasses`' globals until an attribute is read."""

    def __getattr__(self, name: str) -> Any:
        import importlib

        return getattr(importlib.import_module("inspect"), name)


def import_dataclasses() -> None:
    """Import `dataclasses` with `inspect` deferred (nothing to do when either is imported)."""
    if "dataclasses" in sys.modules or "inspect" in sys.modules:
        return
    sys.modules["inspect"] = _Deferred("inspect")
    try:
        import dataclasses  # noqa: F401 - imported here, with the stand-in
    finally:
        if isinstance(sys.modules.get("inspect"), _Deferred):
            del sys.modules["inspect"]
