"""The rule catalogue: every rule id, what it means, and an example of a violation and its fix.

A rule's text (`Rule(...)`) is declared in the `RULES` tuple of the module that implements
it, next to the code that reports it. Which check reports it, its suite and that module
come from the check registry (`harness.checks.registry`), so a newcomer finds `PLACE001`
in `harness/checks/placement.py` by `flywheel-harness rules PLACE001`.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from harness.errors import HarnessError
from harness.results import Severity


class CatalogueError(HarnessError, RuntimeError):
    """The registry and the modules' `RULES` disagree (a bug in the harness, not bad input)."""


@dataclass(frozen=True)
class Rule:
    """One rule of the catalogue."""

    id: str
    summary: str
    example: str
    fix: str
    severity: Severity = Severity.ERROR

    @property
    def checks(self) -> tuple[str, ...]:
        """The names of the checks that report this rule."""
        from harness.checks.registry import rule_checks

        return tuple(spec.name for spec in rule_checks(self.id))

    @property
    def suite(self) -> str:
        """The suite of the (first) check that reports this rule."""
        from harness.checks.registry import rule_checks

        specs = rule_checks(self.id)
        return specs[0].suite if specs else ""

    @property
    def module(self) -> str:
        """The module that implements this rule (and declares it)."""
        from harness.checks.registry import rule_checks

        specs = rule_checks(self.id)
        return specs[0].module if specs else ""


def _family(rule_id: str) -> str:
    return rule_id.rstrip("0123456789")


def all_rules() -> list[Rule]:
    """Every registered rule, sorted by family and id; CatalogueError when a text is missing.

    Imports the module of every check (for the `RULES` texts): fine for the `rules`
    command and report formats that list rules, never done when loading a scenario.
    """
    from harness.checks.registry import REGISTRY

    rules: dict[str, Rule] = {}
    problems = []
    for module_name in dict.fromkeys(spec.module for spec in REGISTRY):
        wanted = {r for spec in REGISTRY if spec.module == module_name for r in spec.rules}
        declared = {
            rule.id: rule for rule in getattr(importlib.import_module(module_name), "RULES", ())
        }
        problems += [
            f"{r}: registered for {module_name} but not in its RULES"
            for r in sorted(wanted - set(declared))
        ]
        problems += [
            f"{r}: in {module_name}.RULES but no check there registers it"
            for r in sorted(set(declared) - wanted)
        ]
        problems += [f"{r}: also declared in {rules[r].module}" for r in declared if r in rules]
        rules.update({r: rule for r, rule in declared.items() if r in wanted})
    if problems:
        raise CatalogueError("; ".join(problems))
    return sorted(rules.values(), key=lambda r: (_family(r.id), r.id))
