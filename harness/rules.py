"""The rule catalogue: every rule id, what it means, and an example of a violation and its fix.

Each check module declares the rules it reports in a module-level `RULES` tuple. The
prefix of a rule id names the module it lives in (`RULE_MODULES`), so a newcomer finds
`PLACE001` in `harness/checks/placement.py`.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from harness.results import Severity

RULE_MODULES: dict[str, str] = {
    "WF": "harness.checks.workflows",
    "LANE": "harness.checks.lanes",
    "BOOT": "harness.checks.bootstrap",
    "PLACE": "harness.checks.placement",
    "PUB": "harness.checks.publication",
    "STATE": "harness.checks.state",
    "CLUSTER": "harness.checks.state",
    "ARC": "harness.checks.arc",
    "NIX": "harness.checks.runner",
    "MEM": "harness.checks.memory",
    "ATTIC": "harness.checks.attic",
    "BAZEL": "harness.checks.bazel",
    "ARC005": "harness.checks.arc_scale",  # a whole id overrides its prefix's module
    "ARC006": "harness.checks.arc_scale",
}


@dataclass(frozen=True)
class Rule:
    """One rule of the catalogue."""

    id: str
    summary: str
    example: str
    fix: str
    severity: Severity = Severity.ERROR
    suite: str = ""

    @property
    def module(self) -> str:
        """The module that implements this rule."""
        prefix = self.id.rstrip("0123456789")
        return RULE_MODULES.get(self.id) or RULE_MODULES[prefix]


def all_rules() -> list[Rule]:
    """Every rule of every check module, sorted by id."""
    rules: dict[str, Rule] = {}
    for module_name in dict.fromkeys(RULE_MODULES.values()):
        module = importlib.import_module(module_name)
        for rule in getattr(module, "RULES", ()):
            rules[rule.id] = rule
    return sorted(rules.values(), key=lambda r: (r.id.rstrip("0123456789"), r.id))
