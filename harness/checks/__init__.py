"""Checks: one module per area, no pytest imports. Scenario cases name them by `CHECKS` key.

`harness.checks.registry` holds one registration per check (name, implementing function,
suite, rules, params schema); implementations are imported only when a check runs, so a
run of the static suites never imports the HTTP or Bazel probes.
"""

from __future__ import annotations

import importlib

from harness.checks.api import CheckFn
from harness.checks.registry import CHECKS, CheckSpec

__all__ = ["CHECKS", "CheckSpec", "resolve_check"]


def resolve_check(name: str) -> CheckFn:
    """The check function registered under `name`; KeyError when there is none."""
    module_name, _, attr = CHECKS[name].target.partition(":")
    fn: CheckFn = getattr(importlib.import_module(module_name), attr)
    return fn
