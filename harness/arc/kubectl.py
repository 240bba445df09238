"""Scale sets as the cluster has them: saved `kubectl get autoscalingrunnersets -A -o json`.

Read per item: `spec.runnerScaleSetName` (else `metadata.name`), `spec.minRunners`,
`spec.maxRunners`, and the pod template's runner container and dind sidecar (see
`harness.arc.helm.read_pod_template`). The file is read as YAML (JSON is YAML), so every
value keeps its line. Other kinds in the file are ignored.
"""

from __future__ import annotations

from pathlib import Path

from harness.arc.helm import get_path, read_pod_template, sourced
from harness.arc.model import ScaleSet, count
from harness.errors import HarnessInputError, Problem
from harness.tofu import Origin, Resolved
from harness.yamlnodes import LMap, YamlError, load


def read_kubectl(path: Path, file: str) -> list[ScaleSet]:
    """The AutoscalingRunnerSets in one saved kubectl output."""
    try:
        data = load(path, file)
    except YamlError as exc:
        raise HarnessInputError(Problem(file, exc.line, exc.message)) from None
    except OSError as exc:
        raise HarnessInputError(Problem(file, None, f"cannot read: {exc.strerror}")) from None
    if not isinstance(data, LMap):
        raise HarnessInputError(Problem(file, 1, "expected a kubectl JSON object or List"))
    items = data.get("items") if str(data.get("kind", "")).endswith("List") else [data]
    out = []
    for item in items or []:
        if not isinstance(item, LMap) or item.get("kind") != "AutoscalingRunnerSet":
            continue
        meta, spec = get_path(item, "metadata"), get_path(item, "spec")
        namespace = str(meta.get("namespace", "")) if isinstance(meta, LMap) else ""
        name = str(meta.get("name", "")) if isinstance(meta, LMap) else ""
        label = sourced(spec, "runnerScaleSetName", file, "spec.runnerScaleSetName")
        if label.value is None:
            label = Resolved(name or None, Origin(file, item.mark.line, "metadata.name"))
        scale_set = ScaleSet(
            "kubectl",
            f"{namespace}/{name}" if namespace else name,
            Origin(file, item.mark.line, "AutoscalingRunnerSet"),
            label,
            min_runners=count(sourced(spec, "minRunners", file, "spec.minRunners"), "minRunners"),
            max_runners=count(sourced(spec, "maxRunners", file, "spec.maxRunners"), "maxRunners"),
        )
        read_pod_template(scale_set, get_path(spec, "template", "spec"), file, "spec.template.spec")
        out.append(scale_set)
    return out
