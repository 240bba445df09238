"""Dataclass methods compiled once: the classes behave as compiled at every start-up."""

from __future__ import annotations

import dataclasses
import inspect
import subprocess
import sys
from pathlib import Path
from typing import Any

from harness import dataclass_code

ROOT = Path(__file__).resolve().parent.parent


def test_harness_methods_go_through_the_cache() -> None:
    if not dataclass_code._STATE["installed"]:
        return  # another Python: nothing was changed
    assert dataclasses.exec is dataclass_code._exec  # type: ignore[attr-defined]
    from harness.results import Finding

    source = inspect.getsource(Finding)
    assert "class Finding" in source
    assert any("def __init__(self,rule" in text for text in dataclass_code._CODE["harness.results"])


def test_classes_from_the_cache_are_the_same(tmp_path: Path) -> None:
    """A process that compiles, one that writes the cache and one that reads it."""
    program = (
        "import inspect, json\n"
        "from harness.results import Finding\n"
        "from harness.github.shell import Command\n"
        "f = Finding('WF001', 'm', line=3)\n"
        "c = Command(('nix', 'build'), 2)\n"
        "print(json.dumps([repr(f), f == Finding('WF001', 'm', line=3), repr(c),\n"
        "    hash(c) == hash(Command(('nix', 'build'), 2)), str(inspect.signature(Finding)),\n"
        "    repr(Finding.__init__.__annotations__)]))\n"
    )

    def run(prefix: Path, write: bool) -> str:
        env = {"PYTHONPYCACHEPREFIX": str(prefix), "PYTHONPATH": str(ROOT), "PATH": "/usr/bin"}
        if not write:
            env["PYTHONDONTWRITEBYTECODE"] = "1"
        done = subprocess.run(
            [sys.executable, "-c", program], env=env, capture_output=True, text=True, check=True
        )
        return done.stdout

    compiled = run(tmp_path / "none", write=False)
    assert not list((tmp_path / "none").rglob("dataclass-methods.*"))
    writing = run(tmp_path / "cache", write=True)
    reading = run(tmp_path / "cache", write=True)
    assert compiled == writing == reading
    if dataclass_code._STATE["installed"]:
        assert list((tmp_path / "cache").rglob("dataclass-methods.*.bin"))


def test_other_dataclasses_keep_their_annotations() -> None:
    namespace: dict[str, object] = {"dataclasses": dataclasses, "__name__": "elsewhere"}
    source = "@dataclasses.dataclass\nclass Point:\n    x: int\n    y: float = 0.0\n"
    # a module outside the harness, without `from __future__ import annotations`
    exec(compile(source, "elsewhere.py", "exec", dont_inherit=True), namespace)
    point: Any = namespace["Point"]
    assert inspect.signature(point).parameters["x"].annotation is int
    assert point.__doc__ == "Point(x: int, y: float = 0.0)"
