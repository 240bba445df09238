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
    "workflows.remote_uses": "harness.checks.workflows:check_remote_uses",
    "lanes.known_labels": "harness.checks.lanes:check_known_labels",
    "lanes.scale_set_label_alone": "harness.checks.lanes:check_label_alone",
    "lanes.hosted_linux": "harness.checks.lanes:check_hosted_linux",
    "bootstrap.workflow_owned_nix": "harness.checks.bootstrap:check_workflow_owned_nix",
    "placement.heavy_on_heavy_lane": "harness.checks.placement:check_heavy_on_heavy_lane",
    "placement.light_off_heavy_lane": "harness.checks.placement:check_light_off_heavy_lane",
    "publication.order": "harness.checks.publication:check_order",
    "publication.not_runtime": "harness.checks.publication:check_not_runtime",
    "publication.permissions": "harness.checks.publication:check_permissions",
    "runner.nix_absent": "harness.checks.runner:check_nix_absent",
    "runner.nix_working": "harness.checks.runner:check_nix_working",
    "memory.workload": "harness.checks.memory:check_workload",
    "memory.pod_envelope": "harness.checks.memory:check_pod_envelope",
    "state.backend": "harness.checks.state:check_backend",
    "state.agreement": "harness.checks.state:check_agreement",
    "cluster.context": "harness.checks.state:check_cluster_context",
    "arc.envelope": "harness.checks.arc:check_envelope",
    "arc.capacity": "harness.checks.arc:check_capacity",
    "arc.lanes": "harness.checks.arc:check_lanes",
    "arc.runner_counts": "harness.checks.arc:check_runner_counts",
    "arc.burst": "harness.checks.arc_scale:check_burst",
    "arc.live_desired": "harness.checks.arc_scale:check_live_desired",
    "attic.reachable": "harness.checks.attic:check_reachable",
    "attic.signatures": "harness.checks.attic:check_signatures_case",
    "attic.hit_ratio": "harness.checks.attic:check_hit_ratio",
    "attic.substitution": "harness.checks.attic:check_substitution",
    "attic.outage": "harness.checks.attic:check_outage",
    "bazel.cache_answers": "harness.checks.bazel:check_cache_answers",
    "bazel.round_trip": "harness.checks.bazel:check_round_trip",
    "bazel.warm_hit_ratio": "harness.checks.bazel:check_warm_hit_ratio",
    "bazel.outage_tolerance": "harness.checks.bazel:check_outage_tolerance",
}


def resolve_check(name: str) -> CheckFn:
    """The check function registered under `name`; KeyError when there is none."""
    target = CHECKS[name]
    module_name, _, attr = target.partition(":")
    fn: CheckFn = getattr(importlib.import_module(module_name), attr)
    return fn
