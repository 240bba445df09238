"""`dataclasses` imported without `inspect`, which still works when it is read."""

from __future__ import annotations

import json
import subprocess
import sys

PROGRAM = """
import json, sys
import harness
before = "inspect" in sys.modules
import dataclasses

@dataclasses.dataclass
class Undocumented:
    x: int

import inspect
print(json.dumps({
    "inspect_at_start": before,
    "doc": Undocumented.__doc__,
    "real": type(sys.modules["inspect"]).__name__ == "module" and hasattr(inspect, "signature"),
}))
"""


def test_inspect_is_imported_only_when_read() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM], capture_output=True, text=True, timeout=60, check=True
    )
    found = json.loads(done.stdout)
    assert found["inspect_at_start"] is False
    assert found["doc"] == "Undocumented(x: int)"  # written with the real `inspect`
    assert found["real"] is True


def test_a_process_that_has_inspect_keeps_it() -> None:
    import inspect

    from harness.lazy_inspect import import_dataclasses

    import_dataclasses()
    assert sys.modules["inspect"] is inspect
