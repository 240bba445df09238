"""Start-up costs of imported packages that the harness does not pay: each run starts a process.

`dataclasses` imports `inspect` when it is imported, and with it `ast`, `dis`, `tokenize`
and `linecache`: about 7 ms of every start-up, a fortieth of a static `check`. It reads
`inspect` for one thing only, the signature it writes as the docstring of a class that has
none. `import_dataclasses()` imports `dataclasses` with a stand-in for `inspect` that
imports the real module the first time anything is read from it; every other importer of
`inspect`, then or later, gets the real module.

PyYAML's pure-Python reader compiles a character class of nearly all of Unicode when
`yaml` is imported (5 ms), although the harness reads YAML with libyaml. `seed_yaml_reader()`
puts the same class, written as its small complement (compiled in under a millisecond),
in `re`'s cache under PyYAML's pattern first: the reader gets a pattern that matches
exactly the same characters.

Python's cyclic garbage collector looks at every young container once some hundreds have
been made. What imports make (modules, classes, functions) lives as long as the process,
so those looks find nothing: about a dozen collections, 5 to 10 ms of a start-up.
`CollectorPaused` turns the collector off for a block of imports, and back on after it
when it was on.
"""

from __future__ import annotations

import gc
import sys
import types

# nothing costly is imported here: `CollectorPaused` is in force before `re` and `typing`


class _Deferred(types.ModuleType):
    """Stands in for `inspect` in `dataclasses`' globals until an attribute is read."""

    def __getattr__(self, name: str) -> object:
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


YAML_NON_PRINTABLE = "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
"""The characters PyYAML's reader refuses, as `yaml.reader.Reader.NON_PRINTABLE` writes them."""
YAML_NON_PRINTABLE_COMPLEMENT = (
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufffe\uffff]"
)
"""The same characters, listed instead of excluded."""


def seed_yaml_reader() -> None:
    """Have `re.compile(YAML_NON_PRINTABLE)` return the complement's pattern (nothing to do
    once `yaml` is imported, or where `re` keeps its cache otherwise)."""
    import re

    cache = getattr(re, "_cache", None)
    if "yaml.reader" in sys.modules or not isinstance(cache, dict):
        return
    key = (str, YAML_NON_PRINTABLE, 0)
    if key in cache:
        return
    cache[key] = cheap = re.compile(YAML_NON_PRINTABLE_COMPLEMENT)
    if re.compile(YAML_NON_PRINTABLE) is not cheap:  # a cache this code does not know
        cache.pop(key, None)


class CollectorPaused:
    """`with CollectorPaused():` the cyclic garbage collector is off in the block, and after
    it as it was before (reference counting frees what the block drops all the same)."""

    def __enter__(self) -> None:
        self._was_enabled = gc.isenabled()
        gc.disable()

    def __exit__(self, *exc: object) -> None:
        if self._was_enabled:
            gc.enable()
