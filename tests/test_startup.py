"""Start-up costs avoided: `inspect` deferred, PyYAML's reader pattern cheap and the same."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.cli import python_output

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
    found = json.loads(python_output(PROGRAM))
    assert found["inspect_at_start"] is False
    assert found["doc"] == "Undocumented(x: int)"  # written with the real `inspect`
    assert found["real"] is True


def test_a_process_that_has_inspect_keeps_it() -> None:
    import inspect

    from harness.startup import import_dataclasses

    import_dataclasses()
    assert sys.modules["inspect"] is inspect


def test_a_static_check_never_imports_inspect(tmp_path: Path) -> None:
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".github" / "workflows" / "ci.yml").write_text(
        "on: push\njobs:\n  build:\n    runs-on: tinyland-nix-heavy\n"
        "    steps:\n      - run: nix build .#default\n",
        encoding="utf-8",
    )
    program = (
        "import sys\n"
        "from harness.cli import main\n"
        f"main(['check', '--repo', {str(tmp_path)!r}, '--static', '--format', 'json'])\n"
        "sys.stderr.write('inspect imported: %s\\n' % ('inspect' in sys.modules))\n"
    )
    command = [sys.executable, "-c", program]
    done = subprocess.run(command, check=False, capture_output=True, text=True, timeout=120)
    assert '"results"' in done.stdout  # the check ran
    assert "inspect imported: False" in done.stderr  # every dataclass it made has a docstring


def test_the_yaml_reader_pattern_refuses_the_same_characters() -> None:
    import re

    from harness.startup import YAML_NON_PRINTABLE, YAML_NON_PRINTABLE_COMPLEMENT

    # re.UNICODE is the default for text: another cache key, so PyYAML's class compiled as is
    theirs = re.compile(YAML_NON_PRINTABLE, re.UNICODE)
    ours = re.compile(YAML_NON_PRINTABLE_COMPLEMENT)
    assert theirs.pattern != ours.pattern
    differ = [c for c in range(0x110000) if bool(theirs.match(chr(c))) != bool(ours.match(chr(c)))]
    assert differ == []


def test_yaml_imported_after_the_harness_reads_with_the_seeded_pattern() -> None:
    program = (
        "import json, harness, yaml, yaml.reader\n"
        "from harness.startup import YAML_NON_PRINTABLE_COMPLEMENT as SEEDED\n"
        "pure = lambda text: yaml.load(text, Loader=yaml.SafeLoader)\n"
        "try:\n"
        "    pure('a: b\\x07')\n"
        "    refused = False\n"
        "except yaml.reader.ReaderError:\n"
        "    refused = True\n"
        "print(json.dumps([yaml.reader.Reader.NON_PRINTABLE.pattern == SEEDED,\n"
        "                  pure('a: caf\\u00e9'), refused]))\n"
    )
    assert json.loads(python_output(program)) == [True, {"a": "caf\u00e9"}, True]


COLLECTIONS = """
import gc, json, sys
seen = []
def count(phase, info):
    if phase == "start":
        seen.append(info["generation"])
gc.callbacks.append(count)
import harness
import harness.cli
print(json.dumps({"enabled": gc.isenabled(), "collections": len(seen)}))
"""


def test_the_package_imports_collecting_seldom_and_leaves_the_collector_on() -> None:
    found = json.loads(python_output(COLLECTIONS))
    assert found["enabled"] is True  # as it was before the import
    # two while Python finds and starts the package, before its first line runs, and one
    # when each paused block ends (fourteen when every import was collected over)
    assert found["collections"] <= 5


def test_collector_paused_restores_what_it_found() -> None:
    import gc

    from harness.startup import CollectorPaused

    assert gc.isenabled()
    with CollectorPaused():
        assert not gc.isenabled()
        with CollectorPaused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the inner block found it off
    assert gc.isenabled()
    gc.disable()
    try:
        with CollectorPaused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_static_check_collects_nothing_while_it_reads_the_model(tmp_path: Path) -> None:
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    for n in range(60):
        (workflows / f"w{n}.yml").write_text(
            "on: push\njobs:\n"
            + "".join(
                f"  job{j}:\n    runs-on: tinyland-nix\n    strategy:\n      matrix:\n"
                f"        os: [a, b, c]\n    steps:\n      - uses: actions/checkout@v4\n"
                f"      - run: echo {n} {j} ${{{{ matrix.os }}}}\n"
                for j in range(8)
            ),
            encoding="utf-8",
        )
    program = (
        "import gc, io, sys, contextlib\n"
        "seen = []\n"
        "def count(phase, info):\n"
        "    if phase == 'start':\n"
        "        seen.append(info['generation'])\n"
        "gc.callbacks.append(count)\n"
        "from harness.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    main(['check', '--repo', {str(tmp_path)!r}, '--static', '--format', 'json'])\n"
        "print(len(seen), gc.isenabled())\n"
    )
    collections, enabled = python_output(program).split()
    assert enabled == "True"  # on again once the model is read
    # one when each paused block ends, a few while the rules run; seventeen when the
    # collector looked at the model as it was read
    assert int(collections) <= 6


def test_parsing_a_command_line_imports_no_shutil() -> None:
    """argparse would import `shutil` (and bz2, lzma) for the terminal's width."""
    program = (
        "import sys\n"
        "from harness.cli import build_parser\n"
        "build_parser('check').parse_args(['check', '--repo', '.', '--format', 'json'])\n"
        "print(sorted({'shutil', 'bz2', 'lzma'} & set(sys.modules)))\n"
    )
    assert python_output(program).strip() == "[]"


def test_help_is_laid_out_for_the_columns_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.cli import build_parser, terminal_columns

    monkeypatch.setenv("COLUMNS", "50")
    assert terminal_columns() == 50
    narrow = build_parser("check").format_help()
    monkeypatch.setenv("COLUMNS", "200")
    wide = build_parser("check").format_help()
    assert max(len(line) for line in narrow.splitlines()) <= 50
    assert max(len(line) for line in wide.splitlines()) > 50  # the usage fits on fewer lines
    assert len(wide.splitlines()) < len(narrow.splitlines())
    monkeypatch.setenv("COLUMNS", "not a number")
    assert terminal_columns() > 0
