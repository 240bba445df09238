"""GitHub's hosted runner labels, the platform each one runs on, and platforms of label sets.

A platform is `OS/ARCH` as Go and OCI write it: `linux/amd64`, `linux/arm64`,
`darwin/arm64`, `windows/amd64`. The built-in catalogue knows the standard labels by
family (`ubuntu`, `ubuntu-arm`, `macos`, `windows`), the `-latest` aliases, and larger
runners by their usual name patterns (`ubuntu-latest-8-cores`, `macos-15-xlarge`,
`windows-latest-16-cores`). The contract's `hosted_labels` extends it: a list of labels
(platform taken from the catalogue's patterns, else `linux/amd64`) or a mapping of label
or glob to platform.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase

DEFAULT_PLATFORM = "linux/amd64"
"""The platform of a lane that declares none, and of a contract hosted label without one."""

_CORES = r"(-\d+-?cores?)?"
_FAMILIES: tuple[tuple[str, str, str], ...] = (
    # (family, pattern, platform); the first match wins, so special cases come first
    ("ubuntu-arm", rf"ubuntu-(latest|\d+\.\d+)-arm(64)?{_CORES}", "linux/arm64"),
    ("ubuntu", rf"ubuntu-(latest|slim|\d+\.\d+){_CORES}", "linux/amd64"),
    ("macos", r"macos-(latest|\d+)-(xlarge|xl)", "darwin/arm64"),
    ("macos", r"macos-(latest|\d+)-(intel|large)", "darwin/amd64"),
    ("macos", r"macos-(1[0-3]|10\.\d+)", "darwin/amd64"),
    ("macos", r"macos-(latest|\d+)", "darwin/arm64"),
    ("windows", r"windows-(11|latest)-arm(64)?", "windows/arm64"),
    ("windows", rf"windows-(latest|\d{{4}}){_CORES}", "windows/amd64"),
)
_COMPILED = tuple(
    (family, re.compile(pattern), platform) for family, pattern, platform in _FAMILIES
)

_SELF_HOSTED_OS = {"linux": "linux", "macos": "darwin", "windows": "windows"}
_SELF_HOSTED_ARCH = {"x64": "amd64", "arm64": "arm64", "arm": "arm"}

COMMON_LABELS: tuple[str, ...] = (
    "ubuntu-latest",
    "ubuntu-24.04",
    "ubuntu-22.04",
    "ubuntu-slim",
    "ubuntu-24.04-arm",
    "ubuntu-22.04-arm",
    "macos-latest",
    "macos-14",
    "macos-15",
    "macos-26",
    "macos-13",
    "macos-15-intel",
    "windows-latest",
    "windows-2025",
    "windows-2022",
    "windows-11-arm",
)
"""GitHub's standard hosted labels: the ones a near-miss hint ("did you mean ...") names."""

_HINT_OS = {
    "linux": "linux",
    "ubuntu": "linux",
    "macos": "darwin",
    "darwin": "darwin",
    "osx": "darwin",
    "mac": "darwin",
    "windows": "windows",
    "win": "windows",
}
_HINT_ARCH = {
    "x64": "amd64",
    "amd64": "amd64",
    "x86_64": "amd64",
    "intel": "amd64",
    "arm64": "arm64",
    "aarch64": "arm64",
    "arm": "arm64",
}
_WORD = re.compile(r"([a-z]+?)\d*")


@dataclass(frozen=True)
class HostedLabel:
    """A GitHub-hosted label: its family and the platform a job on it runs on."""

    label: str
    family: str
    platform: str

    @property
    def os(self) -> str:
        """The operating system part of the platform (`linux`, `darwin`, `windows`)."""
        return self.platform.split("/", 1)[0]


@dataclass(frozen=True)
class PlatformHint:
    """What a text tells of a platform: its operating system, its architecture, or both."""

    os: str | None
    arch: str | None

    @classmethod
    def of(cls, platform: str) -> PlatformHint:
        """The hint a known platform (`OS/ARCH`) gives."""
        os_name, _, arch = platform.partition("/")
        return cls(os_name or None, arch or None)

    def matches(self, platform: str) -> bool:
        """True when `platform` (`OS/ARCH`) agrees with every part the hint knows."""
        os_name, _, arch = platform.partition("/")
        return self.os in (None, os_name) and self.arch in (None, arch)

    def merged(self, other: PlatformHint | None) -> PlatformHint:
        """This hint with the parts it lacks taken from `other`."""
        if other is None:
            return self
        return PlatformHint(self.os or other.os, self.arch or other.arch)


def platform_hint(text: str) -> PlatformHint | None:
    """The platform words of a label or a matrix value name (`macos-14-arm` is darwin/arm64,
    `aarch64-linux` linux/arm64, `my-windows-box` windows), or None when it names none."""
    os_name = arch = None
    for token in re.split(r"[^a-z0-9_]+", text.lower()):
        word = _WORD.fullmatch(token)
        key = token if token in _HINT_ARCH else (word.group(1) if word else token)
        os_name = os_name or _HINT_OS.get(key)
        arch = arch or _HINT_ARCH.get(key)
    return None if os_name is None and arch is None else PlatformHint(os_name, arch)


def builtin_label(label: str) -> HostedLabel | None:
    """The catalogue entry of a GitHub-hosted label (matched ignoring case), or None."""
    lowered = label.lower()
    for family, pattern, platform in _COMPILED:
        if pattern.fullmatch(lowered):
            return HostedLabel(label, family, platform)
    return None


def family_of_platform(platform: str) -> str:
    """The family a contract label belongs to, from its platform."""
    os_name, _, arch = platform.partition("/")
    family = {"linux": "ubuntu", "darwin": "macos"}.get(os_name, os_name)
    return f"{family}-arm" if family == "ubuntu" and arch.startswith("arm") else family


class HostedCatalogue:
    """The built-in catalogue plus the contract's hosted labels."""

    def __init__(self, extra: Mapping[str, str | None] | None = None) -> None:
        self.extra = {label.lower(): platform for label, platform in (extra or {}).items()}
        self._seen: dict[str, HostedLabel | None] = {}

    def lookup(self, label: str) -> HostedLabel | None:
        """The hosted label `label` is (contract entries first), or None."""
        lowered = label.lower()
        if lowered in self._seen:
            return self._seen[lowered]
        found = builtin_label(label)
        for pattern, platform in self.extra.items():
            if lowered == pattern or fnmatchcase(lowered, pattern):
                chosen = platform or (found.platform if found else DEFAULT_PLATFORM)
                found = HostedLabel(
                    label,
                    found.family if found and not platform else family_of_platform(chosen),
                    chosen,
                )
                break
        self._seen[lowered] = found
        return found

    def hosted(self, labels: Iterable[str]) -> HostedLabel | None:
        """The hosted label a `runs-on` label set asks for (the first one found), or None."""
        for label in labels:
            entry = self.lookup(label)
            if entry is not None:
                return entry
        return None


def self_hosted_platform(labels: Iterable[str]) -> str | None:
    """The platform a self-hosted label set names with GitHub's default runner labels
    (`[self-hosted, macOS, ARM64]`), or None when it names no operating system."""
    lowered = [label.lower() for label in labels]
    os_name = next((_SELF_HOSTED_OS[x] for x in lowered if x in _SELF_HOSTED_OS), None)
    if os_name is None:
        return None
    arch = next((_SELF_HOSTED_ARCH[x] for x in lowered if x in _SELF_HOSTED_ARCH), "amd64")
    return f"{os_name}/{arch}"
