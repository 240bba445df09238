"""ARC runner scale sets: what is declared, and what the fleet does with it at scale.

Read from the three places scale sets live, each value with its origin: OpenTofu modules
(`tofu.py`), Helm values of `gha-runner-scale-set` (`helm.py`), and saved `kubectl get
autoscalingrunnersets -A -o json` output (`kubectl.py`). Then: ARC's burst model on the
nodes (`burst.py`) and live listener state from recorded files (`live.py`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from harness.arc.helm import scale_sets_from_helm
from harness.arc.kubectl import read_kubectl
from harness.arc.model import ScaleSet
from harness.arc.tofu import scale_sets_from_tofu
from harness.tofu import HclProblem, TofuRepo, load_tofu

__all__ = ["ArcConfig", "ScaleSet", "read_arc"]


@dataclass
class ArcConfig:
    """Every scale set found, by source."""

    scale_sets: list[ScaleSet] = field(default_factory=list)
    disabled: list[ScaleSet] = field(default_factory=list)
    """Scale sets declared but switched off (`count` false); never in `scale_sets`."""
    problems: list[HclProblem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def by_source(self, *sources: str) -> list[ScaleSet]:
        """Scale sets from the given sources."""
        return [s for s in self.scale_sets if s.source in sources]

    @property
    def declared(self) -> list[ScaleSet]:
        """What the repository declares (OpenTofu and Helm); the live state when it declares
        nothing."""
        return self.by_source("tofu", "helm") or self.by_source("kubectl")


def _display(repo: Path, path: Path) -> str:
    try:
        return path.resolve().relative_to(repo.resolve()).as_posix()
    except ValueError:
        return str(path)


def read_arc(
    repo: Path, kubectl_files: Iterable[Path] = (), tofu: TofuRepo | None = None
) -> ArcConfig:
    """Read the repository's scale sets and the given kubectl outputs (`tofu`: its OpenTofu
    stacks, when already read)."""
    tofu = tofu if tofu is not None else load_tofu(repo)
    config = ArcConfig(problems=list(tofu.problems))
    if "arc.scale_sets" not in tofu.memo:  # every ARC case reads the same stacks
        notes: list[str] = []
        tofu.memo["arc.scale_sets"] = (scale_sets_from_tofu(tofu, notes), notes)
    scale_sets, notes = tofu.memo["arc.scale_sets"]
    config.notes.extend(notes)
    for scale_set in scale_sets:
        (config.disabled if scale_set.disabled else config.scale_sets).append(scale_set)
    config.scale_sets.extend(scale_sets_from_helm(repo))
    for path in kubectl_files:
        config.scale_sets.extend(read_kubectl(path, _display(repo, path)))
    return config
