"""Scale sets from Helm values files of the `gha-runner-scale-set` chart, and the pod
template reading shared with the kubectl reader.

A values file is any YAML file in the repository (outside hidden, `fixtures` and
`node_modules` directories) whose top level has `runnerScaleSetName` or
`githubConfigUrl` and no `apiVersion`. Read: `runnerScaleSetName`, `minRunners`,
`maxRunners`, `containerMode.type`, and in `template.spec` the `runner` container's memory
limit and request and any Docker-in-Docker sidecar (a container or init container named
`dind` or running a `docker:*dind*` image) with its memory limit. `containerMode.type: dind`
without an explicit dind container means the chart injects one without resources.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from harness.arc.model import ScaleSet, count, quantity
from harness.tofu import Origin, Resolved
from harness.tofu.stacks import SKIP_DIRS
from harness.yamlnodes import LList, LMap, YamlError, load

MAX_BYTES = 1 << 20
MARKERS = ("runnerScaleSetName", "githubConfigUrl")


def get_path(node: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(node, LMap):
            return None
        node = node.get(key)
    return node


def sourced(parent: Any, key: str, file: str, how: str) -> Resolved:
    if not isinstance(parent, LMap) or key not in parent:
        line = parent.mark.line if isinstance(parent, LMap | LList) else 1
        return Resolved(None, Origin(file, line, f"{how} not set"))
    return Resolved(parent[key], Origin(file, parent.line_of(key), how))


def _is_dind(container: Any) -> bool:
    if not isinstance(container, LMap):
        return False
    image = str(container.get("image", ""))
    return container.get("name") == "dind" or ("docker" in image and "dind" in image)


def read_pod_template(scale_set: ScaleSet, spec: Any, file: str, prefix: str) -> None:
    """Fill the runner's memory and the dind sidecar from `spec` (the pod template's spec)."""
    containers = get_path(spec, "containers")
    init = get_path(spec, "initContainers")
    items = [c for c in (containers or []) if isinstance(c, LMap)]
    runner = next((c for c in items if c.get("name") == "runner"), None)
    if runner is None:
        where = (
            containers.mark.line
            if isinstance(containers, LList)
            else (spec.mark.line if isinstance(spec, LMap) else scale_set.where.line)
        )
        scale_set.memory_limit = Resolved(
            None, Origin(file, where, f"{prefix}: no `runner` container")
        )
    else:
        path = f"{prefix}.containers[runner].resources"
        limits = get_path(runner, "resources", "limits")
        scale_set.memory_limit = quantity(
            sourced(limits, "memory", file, f"{path}.limits.memory")
            if limits is not None
            else Resolved(None, Origin(file, runner.mark.line, f"{path}.limits not set")),
            "memory limit",
        )
        requests = get_path(runner, "resources", "requests")
        scale_set.memory_request = quantity(
            sourced(requests, "memory", file, f"{path}.requests.memory")
            if requests is not None
            else Resolved(None, Origin(file, runner.mark.line, "unset")),
            "memory request",
        )
    sidecars = [
        c for c in [*items, *(c for c in (init or []) if isinstance(c, LMap))] if _is_dind(c)
    ]
    if sidecars:
        scale_set.dind = True
        sidecar = sidecars[0]
        limits = get_path(sidecar, "resources", "limits")
        scale_set.dind_memory_limit = quantity(
            sourced(limits, "memory", file, f"{prefix} dind container limits.memory")
            if limits is not None
            else Resolved(None, Origin(file, sidecar.mark.line, "dind container without limits")),
            "dind memory limit",
        )


def _values_files(root: Path) -> Iterator[Path]:
    for current, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
        for name in sorted(files):
            if name.endswith((".yaml", ".yml")):
                path = Path(current) / name
                try:
                    if path.stat().st_size > MAX_BYTES:
                        continue
                    text = path.read_text(errors="replace")
                except OSError:
                    continue
                if any(marker in text for marker in MARKERS):
                    yield path


def read_values(path: Path, file: str) -> ScaleSet | None:
    """The scale set one values file declares (None when it is not such a file)."""
    try:
        data = load(path, file)
    except (YamlError, ValueError):
        return None
    if (
        not isinstance(data, LMap)
        or "apiVersion" in data
        or not any(marker in data for marker in MARKERS)
    ):
        return None
    label = sourced(data, "runnerScaleSetName", file, "runnerScaleSetName")
    if label.value is None:
        label = Resolved(
            problem=f"{file} sets no runnerScaleSetName (the label is then the "
            "Helm release name, which a values file does not hold)"
        )
    mode = sourced(get_path(data, "containerMode"), "type", file, "containerMode.type")
    scale_set = ScaleSet(
        "helm",
        file,
        Origin(file, 1, "Helm values"),
        label,
        min_runners=count(sourced(data, "minRunners", file, "minRunners"), "minRunners"),
        max_runners=count(sourced(data, "maxRunners", file, "maxRunners"), "maxRunners"),
        container_mode=mode,
    )
    read_pod_template(scale_set, get_path(data, "template", "spec"), file, "template.spec")
    if mode.value == "dind" and not scale_set.dind:
        scale_set.dind = True
        scale_set.dind_memory_limit = Resolved(
            None,
            Origin(
                file,
                mode.origin.line if mode.origin else 1,
                "containerMode dind: the chart's own dind container has no resources",
            ),
        )
    return scale_set


def scale_sets_from_helm(root: Path) -> list[ScaleSet]:
    """Every gha-runner-scale-set values file under `root`."""
    out = []
    for path in _values_files(root):
        found = read_values(path, path.relative_to(root).as_posix())
        if found is not None:
            out.append(found)
    return out
