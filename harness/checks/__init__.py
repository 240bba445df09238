"""Checks: one module per area, no pytest imports. Scenario cases name them by `CHECKS` key.

The registry maps a check name to "module:function" so imports stay lazy (a run of the
static suites never imports the HTTP or Bazel probes) and the list of checks is greppable.
"""

from __future__ import annotations

import importlib

from harness.checks.api import CheckFn

CHECKS: dict[str, str] = {
    "workflows.readable": "harness.checks.workflows:check_readable",
    "workflows.local_uses": "harness.checks.workflows:check_local_uses",
    "workflows.needs": "harness.checks.workflows:check_needs",
    "lanes.known_labels": "harness.checks.lanes:check_known_labels",
    "lanes.scale_set_label_alone": "harness.checks.lanes:check_label_alone",
    "bootstrap.workflow_owned_nix": "harness.checks.bootstrap:check_workflow_owned_nix",
}


def resolve_check(name: str) -> CheckFn:
    """The check function registered under `name`; KeyError when there is none."""
    target = CHECKS[name]
    module_name, _, attr = target.partition(":")
    fn: CheckFn = getattr(importlib.import_module(module_name), attr)
    return fn
