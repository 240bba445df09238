"""STATE001-STATE003 and CLUSTER001: one S3-compatible state authority, one cluster.

Cases of the `state` suite; each takes `exclude` (directory prefixes whose stacks are not
checked, e.g. `[examples]`; see harness/checks/registry.py).

- `state.backend` (STATE001, STATE003): every stack has `backend "<state.backend>"`
  (default `s3`); files tree-sitter-hcl cannot parse are noted once (STATE003, warning).
- `state.agreement` (STATE002): S3 backends name the contract's `state.bucket` /
  `state.endpoint` (when set) and agree with each other; no two stacks share a state key.
- `cluster.context` (CLUSTER001): kube contexts of `kubernetes`/`helm`/`kubectl` providers,
  resolved through variables and tfvars, are in `cluster.contexts` (default: the cluster's
  name); variables named `cluster_context` (or `kube_context`, `k8s_context`, ...) are
  checked even where no provider reads them. Each per-deployment var file of a stack
  (`beehive.tfvars`, given with `-var-file=`) is checked as one more deployment.

Every case skips when the repository holds no OpenTofu stack.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any

from harness.checks.api import CheckContext, Skip
from harness.errors import HarnessInputError
from harness.results import CheckOutput, Finding, Severity
from harness.rules import Rule
from harness.tofu import Block, Expr, Origin, Stack, resolve

RULES = (
    Rule(
        "STATE001",
        "An OpenTofu stack does not use the canonical `s3` backend "
        "(the transitional `http` backend, `local`, or no backend block).",
        example='terraform {\n  backend "http" {}\n}',
        fix='terraform {\n  backend "s3" {\n    bucket = "honey-tofu-state"\n'
        '    key    = "arc-runners/terraform.tfstate"\n  }\n}',
    ),
    Rule(
        "STATE002",
        "S3 backends disagree with each other or with the contract's "
        "`state` (bucket, endpoint), or two stacks share one state key.",
        example='backend "s3" { bucket = "old-state" }   # contract: honey-tofu-state',
        fix="Use the contract's bucket and endpoint everywhere; one key per stack.",
    ),
    Rule(
        "STATE003",
        "An OpenTofu file cannot be parsed; what it declares is not checked.",
        example='variable "x" {\n  default = \n}',
        fix="Fix the syntax (`tofu validate`), or exclude the directory with the case's "
        "`exclude` param.",
        severity=Severity.WARNING,
    ),
    Rule(
        "CLUSTER001",
        "A stack targets a kube context other than the contract's cluster "
        "(`config_context` of a provider, through variables and tfvars).",
        example='variable "cluster_context" { default = "kind-dev" }',
        fix="Target the contract's cluster (`cluster.contexts`, default its name: honey).",
    ),
)

KUBE_PROVIDERS = frozenset({"kubernetes", "helm", "kubectl", "kustomization"})
CONTEXT_KEYS = ("config_context",)
CONTEXT_VARIABLES = (
    "cluster_context",
    "kube_context",
    "kubernetes_context",
    "config_context",
    "k8s_context",
)
"""Variables that name a kube context even where no provider in the stack reads them."""


def stacks_of(ctx: CheckContext, params: Mapping[str, Any]) -> list[Stack]:
    """The repository's stacks minus excluded prefixes; Skip when there is none."""
    exclude = params.get("exclude", [])
    if isinstance(exclude, str):
        exclude = [exclude]
    if not isinstance(exclude, list):
        raise HarnessInputError("state: `exclude` must be a list of directories")
    prefixes = [str(e).strip("/") for e in exclude]
    tofu = ctx.tofu
    stacks = [
        s
        for s in tofu.stacks
        if not any(s.path == p or s.path.startswith(p + "/") for p in prefixes)
    ]
    if not stacks:
        raise Skip("no OpenTofu stacks in this repository (no root module with .tf files)")
    return stacks


def _first_line(stack: Stack) -> tuple[str, int]:
    return (stack.files[0].path, 1) if stack.files else (stack.path, 1)


def check_backend(ctx: CheckContext, params: Mapping[str, Any]) -> CheckOutput:
    """STATE001 and STATE003."""
    stacks = stacks_of(ctx, params)
    wanted = ctx.contract.state.backend if ctx.contract.state else "s3"
    out = CheckOutput(examined={"stacks": len(stacks)})
    for problem in ctx.tofu.problems:
        out.add(
            Finding(
                "STATE003",
                f"{problem.message}; its blocks are not checked",
                Severity.WARNING,
                file=problem.file,
                line=problem.line,
            )
        )
    for stack in stacks:
        backend = stack.backend
        if backend is None:
            file, line = _first_line(stack)
            out.add(
                Finding(
                    "STATE001",
                    f"stack `{stack.path}` has no backend block: its state "
                    f"is local to whoever runs tofu (want `backend "
                    f'"{wanted}"`)',
                    file=file,
                    line=line,
                )
            )
        elif backend.type != wanted:
            note = " (the transitional HTTP state)" if backend.type == "http" else ""
            out.add(
                Finding(
                    "STATE001",
                    f'stack `{stack.path}` uses `backend "{backend.type}"`'
                    f"{note}, not the canonical `{wanted}`",
                    file=backend.block.file,
                    line=backend.block.line,
                )
            )
    out.measure("state.stacks", len(stacks), "stacks")
    return out


def _setting(stack: Stack, name: str) -> tuple[str | None, str, int]:
    """A backend setting's value (as text), file and line; the block's place when unset."""
    assert stack.backend is not None
    block = stack.backend.block
    setting = stack.backend.settings.get(name)
    if name == "endpoint" and setting is None:
        endpoints = stack.backend.settings.get("endpoints")
        if endpoints is not None and isinstance(endpoints.value, Mapping):
            value = endpoints.value.get("s3")
            return (None if value is None else str(value), endpoints.file, endpoints.line)
    if setting is None:
        return None, block.file, block.line
    return str(setting.value), setting.file, setting.line


def check_agreement(ctx: CheckContext, params: Mapping[str, Any]) -> CheckOutput:
    """STATE002: one bucket and endpoint for every S3 backend, one key per stack."""
    stacks = [s for s in stacks_of(ctx, params) if s.backend and s.backend.type == "s3"]
    out = CheckOutput(examined={"stacks": len(stacks)})
    if not stacks:
        out.notes.append("no S3 backends to compare")
        return out
    contract = ctx.contract.state
    for name, wanted in (
        ("bucket", contract.bucket if contract else None),
        ("endpoint", contract.endpoint if contract else None),
    ):
        values = {s.path: _setting(s, name) for s in stacks}
        known = Counter(v for v, _f, _l in values.values() if v is not None)
        majority = wanted or (known.most_common(1)[0][0] if known else None)
        for stack in stacks:
            value, file, line = values[stack.path]
            if value is None:
                if wanted is not None:
                    out.add(
                        Finding(
                            "STATE002",
                            f"stack `{stack.path}`: the S3 backend sets no "
                            f"`{name}` (the contract's is `{wanted}`; fine "
                            "only if `-backend-config` supplies it)",
                            Severity.WARNING,
                            file=file,
                            line=line,
                        )
                    )
                continue
            if majority is not None and value != majority:
                against = "the contract's" if wanted else "the other stacks'"
                out.add(
                    Finding(
                        "STATE002",
                        f"stack `{stack.path}`: S3 backend {name} "
                        f"`{value}` differs from {against} `{majority}`",
                        file=file,
                        line=line,
                    )
                )
    seen: dict[tuple[str | None, str], Stack] = {}
    for stack in stacks:
        bucket = _setting(stack, "bucket")[0]
        key, file, line = _setting(stack, "key")
        if key is None:
            continue
        other = seen.get((bucket, key))
        if other is not None:
            out.add(
                Finding(
                    "STATE002",
                    f"stacks `{other.path}` and `{stack.path}` share the "
                    f"state key `{key}`: each overwrites the other's state",
                    file=file,
                    line=line,
                )
            )
        seen[(bucket, key)] = stack
    return out


def _contexts(stack: Stack) -> Iterator[tuple[Block, str]]:
    for provider in stack.blocks("provider"):
        name = provider.labels[0] if provider.labels else ""
        if name not in KUBE_PROVIDERS:
            continue
        for key in CONTEXT_KEYS:
            if key in provider.attributes:
                yield provider, key
        for inner in provider.children("kubernetes"):
            for key in CONTEXT_KEYS:
                if key in inner.attributes:
                    yield inner, key


def check_cluster_context(ctx: CheckContext, params: Mapping[str, Any]) -> CheckOutput:
    """CLUSTER001: providers target one of the contract's contexts."""
    stacks = stacks_of(ctx, params)
    cluster = ctx.contract.cluster
    allowed = set(cluster.contexts or (cluster.name,))
    out = CheckOutput(examined={"stacks": len(stacks)})
    reported: set[tuple[str, int, str]] = set()
    contexts = "" if allowed == {cluster.name} else f" (contexts: {', '.join(sorted(allowed))})"
    for stack in stacks:
        deployments = [
            (None, ""),
            *((f, f" with -var-file={f.path.rsplit('/', 1)[-1]}") for f in stack.var_files),
        ]
        for var_file, how in deployments:
            scope = stack.scope(var_file)
            uses: list[tuple[Any, Origin, str]] = []
            for block, key in _contexts(stack):
                origin = Origin(block.file, block.line_of(key), f"{block.type}.{key}")
                uses.append((block.get(key), origin, f"{block.file}:{block.line_of(key)}"))
            for name in CONTEXT_VARIABLES:
                declared = next(
                    (b for b in stack.blocks("variable") if b.labels and b.labels[0] == name), None
                )
                if declared is not None:
                    origin = Origin(declared.file, declared.line, f"var.{name}")
                    uses.append((Expr(f"var.{name}"), origin, f"var.{name}"))
            for raw, origin, used_by in uses:
                got = resolve(raw, origin, scope)
                if not got.known:
                    note = f"{stack.path}: kube context not resolved ({got.problem})"
                    if var_file is None and note not in out.notes:
                        out.notes.append(note)
                    continue
                where = got.origin or origin
                value = str(got.value)
                if (
                    got.value in (None, "")
                    or value in allowed
                    or (where.file, where.line, value) in reported
                ):
                    continue
                reported.add((where.file, where.line, value))
                out.add(
                    Finding(
                        "CLUSTER001",
                        (
                            f"stack `{stack.path}`{how} targets kube context `{value}` (set at "
                            f"{where.text()}, used by {used_by}); the "
                            f"contract's cluster is {cluster.name}{contexts}"
                        ),
                        file=where.file,
                        line=where.line,
                    )
                )
    return out
