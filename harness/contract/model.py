"""The fleet contract as typed values. Quantities are bytes; ratios are 0..1."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import Any

from harness.contract.enrollment import Enrollment
from harness.github.hosted import DEFAULT_PLATFORM, HostedCatalogue, self_hosted_platform


@dataclass(frozen=True)
class ClusterNode:
    """A node of the cluster and what it is for."""

    name: str
    role: str
    allocatable_memory: int


@dataclass(frozen=True)
class Cluster:
    """The one physical cluster (honey) and its nodes."""

    name: str
    nodes: dict[str, ClusterNode]
    contexts: tuple[str, ...] = ()
    namespace: str | None = None
    namespace_memory_quota: int | None = None


@dataclass(frozen=True)
class Lane:
    """A runner capability class: one ARC scale set, addressed by its `runs-on` label."""

    name: str
    kind: str
    memory_limit: int
    heavy: bool = False
    memory_request: int | None = None
    min_runners: int = 0
    max_runners: int | None = None
    nodes: tuple[str, ...] = ()
    burst: int | None = None
    description: str = ""
    platform: str = DEFAULT_PLATFORM
    """`OS/ARCH` of the runner pods (`linux/amd64` unless declared)."""


@dataclass(frozen=True)
class Placement:
    """Which lane heavy work belongs on, and what counts as heavy."""

    heavy_lane: str
    heavy_commands: tuple[str, ...] = ()
    light_commands: tuple[str, ...] = ()
    heavy_outputs: tuple[str, ...] | None = None
    """Flake outputs that are heavy, replacing the static reading of flake.nix when set."""


@dataclass(frozen=True)
class AtticCache:
    """The Attic Nix binary cache."""

    cache: str
    url: str | None = None
    public_keys: tuple[str, ...] = ()
    min_hit_ratio: float = 0.9
    token_env: str = "ATTIC_TOKEN"
    installables: tuple[str, ...] = ()


@dataclass(frozen=True)
class BazelCache:
    """The Bazel remote cache (bazel-remote)."""

    url: str | None = None
    min_hit_ratio: float = 0.8
    targets: tuple[str, ...] = ()
    workspace: str | None = None


class Role(StrEnum):
    """What a job does in the release path (read from its steps by harness.github.roles)."""

    BOOTSTRAP = "bootstrap"
    """installs Nix"""
    VALIDATE = "validate"
    """runs the validation (`nox -s validate`, `flywheel-harness check`, `nix flake check`)"""
    GATE = "gate"
    """runs the release gate"""
    PUBLISH = "publish"
    """publishes to FlakeHub"""


PREREQUISITES: tuple[Role, ...] = (Role.BOOTSTRAP, Role.VALIDATE, Role.GATE)
"""The roles that may (and by default must) pass before a publish job."""


@dataclass(frozen=True)
class FlakeHubPublication:
    """What must have passed before a FlakeHub publish."""

    after: tuple[Role, ...] = PREREQUISITES
    suites: tuple[str, ...] = ()
    max_age_seconds: float = 24 * 3600
    require_signature: bool = True
    """Refuse evidence not signed with HARNESS_EVIDENCE_KEY (`require_signature`)."""
    scenarios_sha256: tuple[str, ...] = ()
    """Scenario-set digests accepted besides the installed harness's bundled scenarios."""


@dataclass(frozen=True)
class StateBackend:
    """The one canonical OpenTofu state backend."""

    backend: str = "s3"
    bucket: str | None = None
    endpoint: str | None = None
    region: str | None = None


@dataclass(frozen=True)
class Ignore:
    """A per-path suppression from the contract."""

    path: str
    rules: tuple[str, ...]
    reason: str = ""


@dataclass
class Contract:
    """The fleet contract: settled boundaries in machine-readable form."""

    path: str
    sha256: str
    fleet: str
    cluster: Cluster
    lanes: dict[str, Lane]
    hosted_labels: tuple[str, ...] = ()
    hosted_platforms: dict[str, str | None] = field(default_factory=dict)
    """Contract hosted labels (or globs) and the platform each declares (None: inferred)."""
    enrollment: Enrollment | None = None
    forge_primary: str = "github"
    forge_compatibility: tuple[str, ...] = ()
    forge_repository: str | None = None
    """`forge.repository`: the checked repository's `OWNER/REPO` (else from its origin)."""
    sources: dict[str, str] = field(default_factory=dict)
    """`sources:` local clones of remote repositories, `OWNER/REPO` -> directory."""
    placement: Placement | None = None
    attic: AtticCache | None = None
    bazel: BazelCache | None = None
    flakehub: FlakeHubPublication | None = None
    state: StateBackend | None = None
    memory_margin: float = 0.15
    sample_interval: float = 0.1
    ignores: tuple[Ignore, ...] = ()
    install_step: dict[str, Any] | None = None
    """`bootstrap.install_step`: the step the BOOT001 fix inserts (None: the default)."""
    version: int = 1
    raw: Any = field(default=None, repr=False)

    @property
    def heavy_lane(self) -> str | None:
        """The lane heavy Rust and Nix builds must run on."""
        return self.placement.heavy_lane if self.placement else None

    def lane(self, label: str) -> Lane | None:
        """The lane a `runs-on` label names, if it is one."""
        return self.lanes.get(label)

    @cached_property
    def hosted_catalogue(self) -> HostedCatalogue:
        """GitHub's hosted labels, extended by `hosted_labels`."""
        return HostedCatalogue(self.hosted_platforms)

    @cached_property
    def lane_platforms(self) -> frozenset[str]:
        """Every platform some lane of the contract serves."""
        return frozenset(lane.platform for lane in self.lanes.values())

    @cached_property
    def _platforms(self) -> dict[tuple[str, ...], str]:
        """`platform_of`'s answers so far: a repository has few distinct label sets, read once
        per job variant by several rules."""
        return {}

    def platform_of(self, labels: tuple[str, ...]) -> str:
        """The platform a `runs-on` label set runs on: its lane's, its hosted label's, the one
        GitHub's self-hosted OS labels name, else the default (`linux/amd64`)."""
        known = self._platforms.get(labels)
        if known is None:
            known = self._platform_of(labels)
            if len(self._platforms) < 4096:
                self._platforms[labels] = known
        return known

    def _platform_of(self, labels: tuple[str, ...]) -> str:
        lowered = {label.lower() for label in labels}
        for lane in self.lanes.values():
            if lane.name.lower() in lowered:
                return lane.platform
        hosted = self.hosted_catalogue.hosted(labels)
        if hosted is not None:
            return hosted.platform
        return self_hosted_platform(labels) or DEFAULT_PLATFORM

    def enrolled(self, repo: str | None) -> bool:
        """True when `repo` is in a tranche; every repository is enrolled without an
        `enrollment` section, and an unidentified one counts as enrolled (fail closed)."""
        if self.enrollment is None or repo is None:
            return True
        return self.enrollment.tranche_of(repo) is not None
