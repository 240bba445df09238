"""The check registry: one registration per check, the only place these facts are written.

Each registration names the check (the `check:` of a scenario case), the function that
implements it (`"module:function"`, imported only when the check runs), the suite it
belongs to, the rule ids it reports, and the JSON Schema of its `params`. Everything else
is derived from this table:

- the rule catalogue (`harness.rules.all_rules`): a rule's suite, its checks and the module
  that implements it (where its `Rule(...)` text is declared, in that module's `RULES`);
- the pytest plugin's suite marks (`suite_marks`);
- params validation when a scenario file is loaded (`params_problems`, file and line);
- the rules page of the docs (`harness.report.catalogue`, docs/rules.md).

This module imports nothing heavy: loading a scenario never imports a check module.

Adding a rule: add its id to `rules=` of the check that reports it, declare its
`Rule(...)` in that check's module `RULES`, and emit it there. Adding a check: one
`_check(...)` entry below plus its function. A new suite also needs one `SUITES` entry.
See docs/development.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from harness.errors import Problem

SUITES: dict[str, str] = {
    "workflows": "workflow files, local references and needs graphs",
    "bootstrap": "Nix installed by the workflow before first use",
    "placement": "lanes and heavy-lane placement",
    "publication": "FlakeHub publication order",
    "state": "OpenTofu state backend authority",
    "arc": "ARC scale sets and fleet capacity",
    "caches": "Attic and Bazel cache hit paths",
    "memory": "per-pod memory against lane envelopes",
}
"""Suite name -> what it proves (the text of its pytest mark)."""

MARKS: dict[str, str] = {
    "attic": "Attic cases of the caches suite",
    "bazel": "Bazel cases of the caches suite",
    "static": "cases that read files only",
    "live": "cases that need a live endpoint or runner",
    "runner": "cases that probe the runner itself",
    "needs_nix": "cases that run real Nix",
    "needs_bazel": "cases that run real Bazel",
    "needs_cgroup": "cases that create memory cgroups",
    "long": "the run's critical path: starts first; other live cases yield to it",
}
"""Marks scenario files use besides the suite names."""


_COMMON: dict[str, dict[str, Any]] = {
    "budget": {
        "type": "number",
        "exclusiveMinimum": 0,
        "description": "seconds all requests of the case may take (default 1200)",
    },
}
"""Params every check takes (the engine reads them)."""


@dataclass(frozen=True)
class CheckSpec:
    """One check: where it lives, which suite and rules it belongs to, what params it takes."""

    name: str
    target: str
    """`module:function` implementing the check."""
    suite: str
    rules: tuple[str, ...]
    summary: str
    properties: Mapping[str, dict[str, Any]] = field(default_factory=dict)
    required: tuple[str, ...] = ()

    @property
    def module(self) -> str:
        """The module that implements the check (and declares its rules)."""
        return self.target.partition(":")[0]

    @property
    def declared(self) -> frozenset[str]:
        """The params keys a case of this check may set (and the check may read)."""
        return frozenset(_COMMON) | frozenset(self.properties)

    @property
    def schema(self) -> dict[str, Any]:
        """The JSON Schema of the case's `params` mapping."""
        schema: dict[str, Any] = {
            "type": "object",
            "additionalProperties": False,
            "properties": {**_COMMON, **self.properties},
        }
        if self.required:
            schema["required"] = list(self.required)
        return schema


# -- params schema building blocks (keywords harness.schema_check knows: fast path) ----------
def _number(
    text: str, *, minimum: float | None = None, maximum: float | None = None, positive: bool = False
) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "number", "description": text}
    if minimum is not None:
        schema["minimum"] = minimum
    if maximum is not None:
        schema["maximum"] = maximum
    if positive:
        schema["exclusiveMinimum"] = 0
    return schema


def _integer(text: str, minimum: int = 0) -> dict[str, Any]:
    return {"type": "integer", "minimum": minimum, "description": text}


def _string(text: str, *choices: str) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string", "description": text}
    if choices:
        schema["enum"] = list(choices)
    return schema


def _flag(text: str) -> dict[str, Any]:
    return {"type": "boolean", "description": text}


def _strings(text: str) -> dict[str, Any]:
    """A string or a list of strings."""
    return {"type": ["string", "array"], "items": {"type": "string"}, "description": text}


_QUANTITY = {"type": ["string", "integer"], "pattern": r"^[0-9.]+([KMGTPE]i?|[kmgtpe])?$"}


def _quantity(text: str) -> dict[str, Any]:
    return {**_QUANTITY, "description": text}


_RATIO = _number("fail under this ratio (0..1; default: the contract's)", minimum=0, maximum=1)
_TIMEOUT = _number("seconds before the probe gives up", positive=True)
_KUBECTL = _strings("saved `kubectl get ... -o json` files, relative to the repository")
_EXCLUDE = _strings("stack directories (prefixes) to leave out")
_RUNNER = {
    "root": _string("filesystem root to look for /nix under (default /)"),
    "path": _string("PATH to look for nix on (default $PATH)"),
    "state": _string("the before-install record (default: see `runner --state`)"),
}
_ATTIC = {
    "cache": _string("Attic cache name (default: the contract's)"),
    "public_keys": _strings("trusted signing keys, NAME:BASE64"),
    "min_hit_ratio": _RATIO,
    "http_timeout": _number("seconds per HTTP request (default 10)", positive=True),
    "http_deadline": _number(
        "seconds one HTTP request may take in total (default 60)", positive=True
    ),
    "store_paths": _strings("store paths whose closure to look up"),
    "installables": _strings("installables whose closure to look up"),
    "store": _string("the Nix store holding the paths (default: the local store)"),
}
_BUILD = {
    "workspace": _string(
        "Bazel workspace, relative to the repository (default: the "
        "contract's, else the bundled sample)"
    ),
    "targets": _strings("target patterns to build"),
    "flags": _strings("extra `bazel build` flags"),
    "timeout": _number("seconds per bazel invocation (default 600)", positive=True),
}


def _check(  # noqa: PLR0917 - one row per check reads best positionally
    name: str,
    target: str,
    suite: str,
    rules: tuple[str, ...],
    summary: str,
    params: Mapping[str, dict[str, Any]] | None = None,
    required: tuple[str, ...] = (),
) -> CheckSpec:
    return CheckSpec(
        name, f"harness.checks.{target}", suite, rules, summary, params or {}, required
    )


REGISTRY: tuple[CheckSpec, ...] = (
    _check(
        "workflows.readable",
        "workflows:check_readable",
        "workflows",
        ("WF001", "WF005"),
        "every workflow and local action parses",
    ),
    _check(
        "workflows.local_uses",
        "workflows:check_local_uses",
        "workflows",
        ("WF002",),
        "local actions and reusable workflows named by `uses:` exist",
    ),
    _check(
        "workflows.needs",
        "workflows:check_needs",
        "workflows",
        ("WF003",),
        "needs targets exist; no cycle of needs or calls; GitHub's nesting limits hold",
    ),
    _check(
        "workflows.remote_uses",
        "workflows:check_remote_uses",
        "workflows",
        ("WF004",),
        "every remote reusable workflow and action could be read at its ref",
    ),
    _check(
        "lanes.known_labels",
        "lanes:check_known_labels",
        "placement",
        ("LANE001", "LANE003"),
        "every resolved runs-on label is a lane or allowed hosted",
    ),
    _check(
        "lanes.scale_set_label_alone",
        "lanes:check_label_alone",
        "placement",
        ("LANE002",),
        "a lane label is never combined with other labels",
    ),
    _check(
        "lanes.hosted_linux",
        "lanes:check_hosted_linux",
        "placement",
        ("LANE004",),
        "Linux jobs of enrolled repositories run on lanes, or under a hosted exception",
    ),
    _check(
        "bootstrap.workflow_owned_nix",
        "bootstrap:check_workflow_owned_nix",
        "bootstrap",
        ("BOOT001", "BOOT002"),
        "every job that uses Nix installs it first, unconditionally, in the same job",
    ),
    _check(
        "placement.heavy_on_heavy_lane",
        "placement:check_heavy_on_heavy_lane",
        "placement",
        ("PLACE001",),
        "heavy Rust or Nix builds run on the heavy lane",
    ),
    _check(
        "placement.light_off_heavy_lane",
        "placement:check_light_off_heavy_lane",
        "placement",
        ("PLACE002",),
        "a job on the heavy lane runs a heavy command",
    ),
    _check(
        "publication.order",
        "publication:check_order",
        "publication",
        ("PUB001", "PUB002"),
        "the publish job follows validation and the release gate",
    ),
    _check(
        "publication.not_runtime",
        "publication:check_not_runtime",
        "publication",
        ("PUB003",),
        "FlakeHub is not used outside the publish job",
    ),
    _check(
        "publication.permissions",
        "publication:check_permissions",
        "publication",
        ("PUB004",),
        "the publish job has id-token write and no pull-request trigger",
    ),
    _check(
        "runner.nix_absent",
        "runner:check_nix_absent",
        "bootstrap",
        ("NIX001",),
        "no Nix on the runner before the workflow's install step",
        _RUNNER,
    ),
    _check(
        "runner.nix_working",
        "runner:check_nix_working",
        "bootstrap",
        ("NIX002",),
        "Nix works as the fleet needs after the install step",
        _RUNNER,
    ),
    _check(
        "memory.workload",
        "memory:check_workload",
        "memory",
        ("MEM001", "MEM002", "MEM003", "MEM004"),
        "a workload run under its lane's limit fits it with margin",
        {
            "command": _strings("`sh -c` text, or argv; {python} and {data} are expanded"),
            "lane": _string("contract lane whose memory_limit is the envelope"),
            "limit": _quantity("an explicit envelope instead of a lane, e.g. 8Gi"),
            "timeout": _number("seconds before the command is killed (default 600)", positive=True),
            "margin": _number(
                "headroom MEM002 asks for (default: contract memory.margin)", minimum=0, maximum=1
            ),
            "chart": _string("SVG file name under the artifacts directory"),
            "allow_failure": _flag("judge memory only: a failing command is no MEM004"),
        },
        required=("command",),
    ),
    _check(
        "memory.pod_envelope",
        "memory:check_pod_envelope",
        "memory",
        (),
        "records the memory envelope of the cgroup this run is in",
        {"lane": _string("contract lane to compare the envelope with")},
    ),
    _check(
        "state.backend",
        "state:check_backend",
        "state",
        ("STATE001", "STATE003"),
        "every stack uses the canonical backend",
        {"exclude": _EXCLUDE},
    ),
    _check(
        "state.agreement",
        "state:check_agreement",
        "state",
        ("STATE002",),
        "S3 backends agree with the contract and each other",
        {"exclude": _EXCLUDE},
    ),
    _check(
        "cluster.context",
        "state:check_cluster_context",
        "state",
        ("CLUSTER001",),
        "provider kube contexts are the contract's cluster",
        {"exclude": _EXCLUDE},
    ),
    _check(
        "arc.envelope",
        "arc:check_envelope",
        "arc",
        ("ARC001", "ARC004"),
        "every scale set keeps its lane's memory limit",
        {"kubectl": _KUBECTL},
    ),
    _check(
        "arc.capacity",
        "arc:check_capacity",
        "arc",
        ("ARC002",),
        "per node, maxRunners x memory fits allocatable memory",
        {"kubectl": _KUBECTL},
    ),
    _check(
        "arc.lanes",
        "arc:check_lanes",
        "arc",
        ("ARC003",),
        "every lane has a scale set and every scale set is a lane",
        {"kubectl": _KUBECTL},
    ),
    _check(
        "arc.runner_counts",
        "arc:check_runner_counts",
        "arc",
        ("ARC007",),
        "scale sets' min/max runners equal their lane's",
        {"kubectl": _KUBECTL},
    ),
    _check(
        "arc.burst",
        "arc_scale:check_burst",
        "arc",
        ("ARC005",),
        "every lane's contract burst at once fits the nodes",
        {
            "jobs": {
                "type": "object",
                "additionalProperties": {"type": "integer", "minimum": 0},
                "description": "jobs per lane (default: each lane's contract burst)",
            },
            "peaks": {
                "type": "object",
                "additionalProperties": _QUANTITY,
                "description": "each job's peak working set per lane",
            },
            "measured": _strings("JSON reports whose memory cases measured peaks per lane"),
            "idle_memory": _quantity("memory of an idle runner pod (default 256Mi)"),
            "kubectl": _KUBECTL,
        },
    ),
    _check(
        "arc.live_desired",
        "arc_scale:check_live_desired",
        "arc",
        ("ARC006",),
        "each listener's desired runner count follows ARC's rule",
        {
            "metrics": _strings("saved ARC listener metrics pages, relative to the repository"),
            "kubectl": _KUBECTL,
        },
    ),
    _check(
        "attic.reachable",
        "attic:check_reachable",
        "caches",
        ("ATTIC001",),
        "nix-cache-info answers and the cache's key is trusted",
        {
            **_ATTIC,
            "store_dir": _string("the client's store directory (default /nix/store)"),
            "check_runner_keys": _flag("also check this machine's Nix trusts the key"),
        },
    ),
    _check(
        "attic.signatures",
        "attic:check_signatures_case",
        "caches",
        ("ATTIC002",),
        "every narinfo carries a trusted signature that verifies",
        {**_ATTIC, "sample": _integer("narinfos to verify at most (default 200)", 1)},
    ),
    _check(
        "attic.hit_ratio",
        "attic:check_hit_ratio",
        "caches",
        ("ATTIC003",),
        "the closure hits the cache at least min_hit_ratio",
        {
            **_ATTIC,
            "use_api": {
                "enum": ["auto", True, False],
                "description": "ask Attic's get-missing-paths API "
                "(default auto: when a token is set)",
            },
        },
    ),
    _check(
        "attic.substitution",
        "attic:check_substitution",
        "caches",
        ("ATTIC004",),
        "a fresh store realises the target from the cache alone",
        {
            **_ATTIC,
            "timeout": _number("seconds for the realisation (default 600)", positive=True),
            "cold_build": _flag("build the target cold first (default: loopback only)"),
            "fetch_nar": _flag("also fetch and check the biggest NAR (default true)"),
        },
    ),
    _check(
        "attic.outage",
        "attic:check_outage",
        "caches",
        ("ATTIC005",),
        "builds still succeed with the cache unreachable or hung",
        {
            "mode": _string("how the cache is down (default refuse)", "refuse", "hang"),
            "max_seconds": _number("the bound on the build (default 60)", positive=True),
            "connect_timeout": _number("Nix connect-timeout (default 2)", minimum=0),
            "download_attempts": _integer("Nix download-attempts (default 5)"),
            "stalled_download_timeout": _number(
                "Nix stalled-download-timeout (default 300)", minimum=0
            ),
            "url": _string("the down cache's URL (default: a closed loopback port)"),
        },
    ),
    _check(
        "bazel.cache_answers",
        "bazel:check_cache_answers",
        "caches",
        ("BAZEL001",),
        "the cache answers; a miss is a clean 404",
        {"timeout": _TIMEOUT},
    ),
    _check(
        "bazel.round_trip",
        "bazel:check_round_trip",
        "caches",
        ("BAZEL002",),
        "a CAS blob and an ActionResult read back equal",
        {"timeout": _TIMEOUT},
    ),
    _check(
        "bazel.warm_hit_ratio",
        "bazel:check_warm_hit_ratio",
        "caches",
        ("BAZEL003",),
        "a warm build hits the remote cache at least min_hit_ratio",
        {**_BUILD, "min_hit_ratio": _RATIO},
    ),
    _check(
        "bazel.outage_tolerance",
        "bazel:check_outage_tolerance",
        "caches",
        ("BAZEL004",),
        "builds succeed within a bound while the cache refuses, fails or hangs",
        {
            **_BUILD,
            "remote_timeout": _number("--remote_timeout seconds (default 2)", positive=True),
            "remote_retries": _integer("--remote_retries (default 0)"),
            "slack_seconds": _number("allowed slowdown over the baseline (default 30)", minimum=0),
            "modes": {
                "type": "array",
                "items": {"enum": ["refuse", "http500", "hang"]},
                "description": "outage modes to try (default all)",
            },
        },
    ),
)
"""Every check, in catalogue order."""

CHECKS: dict[str, CheckSpec] = {spec.name: spec for spec in REGISTRY}
"""Check name -> its registration."""


def check_spec(name: str) -> CheckSpec:
    """The registration of check `name`; KeyError when there is none."""
    return CHECKS[name]


def rule_checks(rule_id: str) -> list[CheckSpec]:
    """The checks that report `rule_id`, in registry order."""
    return [spec for spec in REGISTRY if rule_id in spec.rules]


def suite_marks() -> dict[str, str]:
    """Suite name -> mark text, naming the rule families each suite reports."""
    marks = {}
    for suite, text in SUITES.items():
        families = dict.fromkeys(
            r.rstrip("0123456789") for spec in REGISTRY if spec.suite == suite for r in spec.rules
        )
        marks[suite] = f"{text} ({', '.join(families)} rules)" if families else text
    return marks


def params_problems(
    spec: CheckSpec, params: Any, file: str, case: str, line: int | None
) -> list[Problem]:
    """Every problem with a case's `params` against its check's schema, located by line."""
    from harness.schema_check import is_valid

    schema = spec.schema
    if is_valid(schema, params):
        return []
    from harness.yamlnodes import line_of_path

    def at(path: list[str | int]) -> int | None:
        return line_of_path(params, path) if path else line

    problems = []
    known = ", ".join(sorted(spec.properties)) or "none"
    if isinstance(params, dict):
        for key in params:
            if key not in spec.properties:
                problems.append(
                    Problem(
                        file, at([key]), f"case {case!r}: unknown param {key!r} (known: {known})"
                    )
                )
    from jsonschema import Draft202012Validator

    for error in Draft202012Validator(schema).iter_errors(params):
        if error.validator == "additionalProperties" and not error.absolute_path:
            continue  # worded above, one problem per key
        path = list(error.absolute_path)
        where = ".".join(str(p) for p in path)
        what = f"param {where!r}" if where else "params"
        problems.append(Problem(file, at(path), f"case {case!r}: {what}: {error.message}"))
    return sorted(problems, key=lambda p: (p.line or 0, p.message))
