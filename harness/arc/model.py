"""A runner scale set as read from one source, every value with where it came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from harness.quantity import parse_quantity
from harness.tofu.values import Origin, Resolved

SOURCES = ("tofu", "helm", "kubectl")


@dataclass
class ScaleSet:
    """One ARC runner scale set (one `runs-on` label) from one source."""

    source: str
    """`tofu`, `helm` or `kubectl`."""
    name: str
    """How the source names it: `module.gh_nix`, `module.extra["x"]`, a values file, ns/name."""
    where: Origin
    label: Resolved
    min_runners: Resolved = field(default_factory=Resolved)
    max_runners: Resolved = field(default_factory=Resolved)
    memory_limit: Resolved = field(default_factory=Resolved)
    """Bytes, of the runner container."""
    memory_request: Resolved = field(default_factory=Resolved)
    container_mode: Resolved = field(default_factory=Resolved)
    dind: bool = False
    """True when the pod runs a Docker-in-Docker sidecar."""
    dind_memory_limit: Resolved = field(default_factory=Resolved)
    notes: list[str] = field(default_factory=list)
    disabled: str | None = None
    """Why the source declares it but deploys nothing (`count = var.x ? 1 : 0`, x false)."""

    @property
    def label_text(self) -> str | None:
        """The label, when known."""
        return str(self.label.value) if self.label.known and self.label.value else None

    def describe(self) -> str:
        """`tinyland-nix (tofu module.gh_nix)` for messages."""
        return f"{self.label_text or '?'} ({self.source} {self.name})"


def quantity(value: Resolved, what: str) -> Resolved:
    """A resolved quantity in bytes (None stays None); bad notation becomes a problem."""
    if not value.known or value.value is None:
        return value
    try:
        return Resolved(parse_quantity(value.value), value.origin)
    except (ValueError, TypeError):
        where = f" at {value.origin.text()}" if value.origin else ""
        return Resolved(problem=f"{what} {value.value!r}{where} is not a Kubernetes quantity")


def count(value: Resolved, what: str) -> Resolved:
    """A resolved runner count (int or None)."""
    if not value.known or value.value is None:
        return value
    raw: Any = value.value
    try:
        number = int(str(raw))
    except ValueError:
        where = f" at {value.origin.text()}" if value.origin else ""
        return Resolved(problem=f"{what} {raw!r}{where} is not a number")
    return Resolved(number, value.origin)
