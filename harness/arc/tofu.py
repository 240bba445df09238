"""Scale sets declared in OpenTofu: `module` blocks of an ARC runner module, and
`helm_release` resources of the `gha-runner-scale-set` chart in a stack itself (read from
their `set` blocks: runnerScaleSetName, min/maxRunners, containerMode.type, and
`template.spec.containers[0].resources.limits|requests.memory`).

A module block is an ARC runner when its local source directory holds a `helm_release` of
the `gha-runner-scale-set` chart, or (for remote sources) when its source names
`arc-runner` or `runner-scale-set`. Inputs resolve through `var.*` -> `variables.tf`
defaults -> `terraform.tfvars` / `*.auto.tfvars`; inputs a block does not pass take the
module's own variable defaults. `count = 0` (also `var.flag ? 1 : 0` with the flag false)
deploys nothing; `for_each` over a map variable gives one scale set per key (at most
`MAX_FOR_EACH_INSTANCES` per block), with `optional(type, default)` attributes of the
variable's object type filled in. An empty `container_mode` with `runner_type = "dind"`
means dind (the arc-runner module derives the mode from the runner type).
"""

from __future__ import annotations

import itertools
from typing import Any

from harness.arc.model import ScaleSet, count, quantity
from harness.tofu import Block, Origin, Resolved, Scope, Stack, TofuDir, TofuRepo, resolve
from harness.tofu.hcl import Expr
from harness.tofu.values import resolve_reference

CHART = "gha-runner-scale-set"
MAX_FOR_EACH_INSTANCES = 256
"""Most `for_each` instances of one module block expanded into scale sets (a real fleet
has tens; a 100,000-entry map must not cost minutes): the rest are left out, said in a
note naming the block's file and line."""
INPUTS: dict[str, tuple[str, ...]] = {
    "label": ("runner_label", "runner_scale_set_name", "scale_set_name", "runs_on_label"),
    "min_runners": ("min_runners",),
    "max_runners": ("max_runners",),
    "memory_limit": ("memory_limit", "runner_memory_limit"),
    "memory_request": ("memory_request", "runner_memory_request"),
    "container_mode": ("container_mode", "containermode"),
    "dind_memory_limit": ("dind_memory_limit", "docker_memory_limit"),
    "runner_type": ("runner_type",),
}


def is_scale_set_chart(chart: object) -> bool:
    """True for the `gha-runner-scale-set` chart itself (by name, repository URL or OCI
    reference), never for `gha-runner-scale-set-controller`."""
    return str(chart).strip().rstrip("/").rsplit("/", 1)[-1].split(":")[0] == CHART


def _charts(directory: TofuDir) -> list[str]:
    charts = []
    for resource in directory.blocks("resource"):
        if resource.labels and resource.labels[0] == "helm_release":
            chart = resource.get("chart")
            charts.append(str(chart))
    return charts


def is_arc_module(source: str, directory: TofuDir | None) -> bool:
    """True for a module that deploys a gha-runner-scale-set."""
    if directory is not None:
        return any(is_scale_set_chart(chart) for chart in _charts(directory))
    if "controller" in source:
        return False
    return "arc-runner" in source or "runner-scale-set" in source


def _deployed(module: Block, scope: Scope) -> tuple[bool, str | None]:
    """Whether `count` deploys the module, with a note: why not, or that it cannot be told."""
    raw = module.get("count")
    if raw is None:
        return True, None
    where = f"{module.file}:{module.line_of('count')}"
    if isinstance(raw, int):
        return raw > 0, None if raw > 0 else f"`count = {raw}` ({where})"
    if isinstance(raw, Expr):
        condition, _, branches = raw.text.partition("?")
        yes, _, no = branches.partition(":")
        if branches and yes.strip().isdigit() and no.strip().isdigit():
            got = resolve_reference(condition.strip(), scope)
            if got.known and isinstance(got.value, bool):
                deployed = int((yes if got.value else no).strip()) > 0
                source = f" from {got.origin.text()}" if got.origin else ""
                return deployed, None if deployed else (
                    f"`count = {raw.text}` ({where}) with {condition.strip()} = "
                    f"{str(got.value).lower()}{source}"
                )
        got = resolve_reference(raw.text, scope)
        if got.known and isinstance(got.value, int):
            return got.value > 0, None if got.value > 0 else (
                f"`count = {raw.text}` ({where}) is {got.value}"
            )
    return True, f"count `{raw}` not evaluated; assumed deployed"


def _capped(module: Block, got: Resolved, size: int, notes: list[str]) -> int:
    """How many of `size` for_each instances to expand; a note naming the block and the
    value when `MAX_FOR_EACH_INSTANCES` cuts them short."""
    if size <= MAX_FOR_EACH_INSTANCES:
        return size
    source = f", the value from {got.origin.text()}" if got.origin else ""
    notes.append(
        f"module.{module.labels[0]} ({module.file}:{module.line_of('for_each')}): for_each "
        f"makes {size} instances{source}; only the first {MAX_FOR_EACH_INSTANCES} are "
        "checked (MAX_FOR_EACH_INSTANCES)"
    )
    return MAX_FOR_EACH_INSTANCES


def _for_each(
    module: Block, stack: Stack, scope: Scope, notes: list[str]
) -> list[tuple[str | None, Resolved | None]] | str:
    """(each.key, each.value) pairs, at most `MAX_FOR_EACH_INSTANCES` (a note in `notes`
    when there are more); a problem string when for_each cannot be resolved."""
    raw = module.get("for_each")
    if raw is None:
        return [(None, None)]
    origin = Origin(module.file, module.line_of("for_each"), f"module.{module.labels[0]}.for_each")
    got = resolve(raw, origin, scope)
    if not got.known:
        return f"for_each not resolved: {got.problem}"
    if isinstance(got.value, dict | list):
        kept = _capped(module, got, len(got.value), notes)
    defaults: dict[str, Any] = {}
    if isinstance(raw, Expr) and raw.text.startswith("var."):
        variable = next(
            (b for b in stack.blocks("variable") if b.labels and b.labels[0] == raw.text[4:]), None
        )
        if variable is not None and "type" in variable.attributes:
            defaults = variable.attributes["type"].optional_defaults or {}
    if isinstance(got.value, dict):
        out: list[tuple[str | None, Resolved | None]] = []
        for key, value in itertools.islice(got.value.items(), kept):
            entry = got.child(str(key), value)
            if isinstance(value, dict):
                entry = Resolved({**defaults, **value}, entry.origin, lines=entry.lines)
            out.append((str(key), entry))
        return out
    if isinstance(got.value, list):
        return [(str(item), Resolved(item, got.origin)) for item in got.value[:kept]]
    return f"for_each value {got.value!r} is neither a map nor a set"


def _input(
    module: Block, names: tuple[str, ...], scope: Scope, defaults: dict[str, Resolved]
) -> Resolved:
    for name in names:
        if name in module.attributes:
            origin = Origin(module.file, module.line_of(name), f"module.{module.labels[0]}.{name}")
            return resolve(module.get(name), origin, scope)
    for name in names:
        if name in defaults:
            got = defaults[name]
            if not got.known or got.origin is None:
                return got
            return Resolved(
                got.value,
                Origin(
                    module.file,
                    module.line,
                    f"{name} not passed: module default at {got.origin.file}:{got.origin.line}",
                ),
            )
    return Resolved(None, Origin(module.file, module.line, "not set"))


SET_NAMES: dict[str, str] = {
    "runnerScaleSetName": "label",
    "minRunners": "min_runners",
    "maxRunners": "max_runners",
    "containerMode.type": "container_mode",
    "template.spec.containers[0].resources.limits.memory": "memory_limit",
    "template.spec.containers[0].resources.requests.memory": "memory_request",
}
"""`set` names of a helm_release of the chart read as scale-set fields."""


def _set_entries(release: Block) -> list[tuple[str, Any, int]]:
    entries = [
        (str(b.get("name")), b.get("value"), b.line_of("value")) for b in release.children("set")
    ]
    listed = release.get("set")
    if isinstance(listed, list):
        entries += [
            (str(e.get("name")), e.get("value"), release.line_of("set"))
            for e in listed
            if isinstance(e, dict)
        ]
    return entries


def _releases(stack: Stack, scope: Scope) -> list[ScaleSet]:
    """`helm_release` resources of the chart declared in the stack itself."""
    out = []
    for release in stack.blocks("resource"):
        if release.labels[:1] != ("helm_release",) or not is_scale_set_chart(release.get("chart")):
            continue
        if not _deployed(release, scope)[0]:
            continue
        name = f"helm_release.{release.labels[1] if len(release.labels) > 1 else '?'}"
        where = Origin(release.file, release.line, f"{stack.path}: {name}")
        values: dict[str, Resolved] = {}
        for key, raw, line in _set_entries(release):
            field = SET_NAMES.get(key)
            if field:
                values[field] = resolve(raw, Origin(release.file, line, f"{name} set {key}"), scope)
        unset = Resolved(None, Origin(release.file, release.line, "not set"))
        label = values.get("label", Resolved(problem=f"{name} sets no runnerScaleSetName"))
        mode = values.get("container_mode", unset)
        out.append(
            ScaleSet(
                "tofu",
                name,
                where,
                label,
                min_runners=count(values.get("min_runners", unset), "minRunners"),
                max_runners=count(values.get("max_runners", unset), "maxRunners"),
                memory_limit=quantity(
                    values.get(
                        "memory_limit",
                        Resolved(
                            problem=(
                                f"{name}: the runner's memory limit is not in a `set` block "
                                "(values are not "
                                "evaluated)"
                            )
                        ),
                    ),
                    "memory limit",
                ),
                memory_request=quantity(values.get("memory_request", unset), "memory request"),
                container_mode=mode,
                dind=mode.known and mode.value == "dind",
                dind_memory_limit=unset,
            )
        )
    return out


def scale_sets_from_tofu(tofu: TofuRepo, notes: list[str] | None = None) -> list[ScaleSet]:
    """Every ARC runner module instance and chart release of every stack; what was left
    out (`MAX_FOR_EACH_INSTANCES`) is said in `notes`."""
    notes = [] if notes is None else notes
    out: list[ScaleSet] = []
    for stack in tofu.stacks:
        scope = stack.scope()
        out.extend(_releases(stack, scope))
        for module in stack.blocks("module"):
            source = str(module.get("source", ""))
            directory = tofu.module_dir(stack.path, source)
            if not is_arc_module(source, directory):
                continue
            deployed, note = _deployed(module, scope)
            defaults = directory.variable_defaults() if directory else {}
            name = f"module.{module.labels[0] if module.labels else '?'}"
            where = Origin(module.file, module.line, f"{stack.path}: {name}")
            if not deployed:
                label = _input(module, INPUTS["label"], scope, defaults)
                out.append(ScaleSet("tofu", name, where, label, disabled=note))
                continue
            pairs = _for_each(module, stack, scope, notes)
            if isinstance(pairs, str):
                failed = ScaleSet(
                    "tofu", f"{name}[*]", where, Resolved(problem=pairs), notes=[pairs]
                )
                out.append(failed)
                continue
            for key, value in pairs:
                inner = Scope(scope.variables, scope.locals, key, value)
                values = {
                    field: _input(module, names, inner, defaults) for field, names in INPUTS.items()
                }
                mode = values["container_mode"]
                kind = values["runner_type"]
                if (not mode.known or not mode.value) and kind.known and kind.value == "dind":
                    mode = Resolved("dind", kind.origin)  # the arc-runner module's convention
                scale_set = ScaleSet(
                    "tofu",
                    name if key is None else f'{name}["{key}"]',
                    where,
                    label=values["label"],
                    min_runners=count(values["min_runners"], "min_runners"),
                    max_runners=count(values["max_runners"], "max_runners"),
                    memory_limit=quantity(values["memory_limit"], "memory_limit"),
                    memory_request=quantity(values["memory_request"], "memory_request"),
                    container_mode=mode,
                    dind=mode.known and str(mode.value) == "dind",
                    dind_memory_limit=quantity(values["dind_memory_limit"], "dind_memory_limit"),
                    notes=[note] if note else [],
                )
                out.append(scale_set)
    return out
