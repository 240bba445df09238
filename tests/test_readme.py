"""README.md documents the public interface: every rule, command and Nox session."""

from __future__ import annotations

import re

from harness.commands import COMMANDS
from harness.rules import all_rules
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
DOCS = README + "".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "docs").glob("*.md")))


def test_every_rule_is_documented() -> None:
    missing = [rule.id for rule in all_rules() if rule.id not in DOCS]
    assert missing == []


def test_every_command_is_documented() -> None:
    missing = [name for name in COMMANDS if f"flywheel-harness {name}" not in README]
    assert missing == []


def test_the_two_commands_and_every_session_are_shown() -> None:
    noxfile = (ROOT / "noxfile.py").read_text(encoding="utf-8")
    sessions = re.findall(r"^@nox.session[^\n]*\ndef (\w+)\(", noxfile, re.MULTILINE)
    assert {"validate", "tests", "lint", "bench", "release_gate"} <= set(sessions)
    missing = [name for name in sessions if f"nox -s {name}" not in README]
    assert missing == []
