"""Which lane or hosted label an unknown `runs-on` label was meant to be, never one of
another platform: `macos-14-arm` is told of `macos-14`, not of a Linux lane."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from harness.contract.model import Contract
from harness.github.hosted import (
    COMMON_LABELS,
    PlatformHint,
    platform_hint,
    self_hosted_platform,
)
from harness.nearmiss import closest

PLATFORM_KEYS = ("os", "platform", "system")
"""Matrix keys whose value names the job's platform (`os: macos-14`, `system: aarch64-linux`)."""


def label_hint(
    contract: Contract,
    label: str,
    labels: Iterable[str] = (),
    matrix: Mapping[str, Any] | None = None,
) -> PlatformHint | None:
    """What can be told of the platform an unknown `label` was meant for, each part from the
    first source that tells it: the label's own words (`macos-14-arm`), the other labels of
    its `runs-on` (a lane, a hosted label, GitHub's self-hosted OS labels), the job's matrix
    `os` (`platform`, `system`)."""
    others = tuple(other for other in labels if other.lower() != label.lower())
    catalogue = contract.hosted_catalogue
    told = [lane.platform for o in others if (lane := contract.lane(o)) is not None]
    told += [entry.platform for o in others if (entry := catalogue.lookup(o)) is not None]
    told += [p for p in [self_hosted_platform(others)] if p is not None]
    hints = [platform_hint(label), *(PlatformHint.of(platform) for platform in told)]
    hints += [
        platform_hint(value)
        for key in PLATFORM_KEYS
        if isinstance(value := (matrix or {}).get(key), str)
    ]
    found = None
    for hint in hints:
        found = hint if found is None else found.merged(hint)
    return found


def label_candidates(contract: Contract, hint: PlatformHint | None) -> list[str]:
    """The lanes and hosted labels a near miss may name: those of the hinted platform (every
    one when nothing is known of it), so a suggestion never crosses platforms."""
    catalogue = contract.hosted_catalogue
    named = [(lane.name, lane.platform) for lane in contract.lanes.values()]
    for label in dict.fromkeys([*contract.hosted_labels, *COMMON_LABELS]):
        entry = catalogue.lookup(label)
        if entry is not None and "*" not in label:
            named.append((label, entry.platform))
    return sorted({name for name, platform in named if hint is None or hint.matches(platform)})


def suggest_label(
    contract: Contract,
    label: str,
    labels: Iterable[str] = (),
    matrix: Mapping[str, Any] | None = None,
) -> str | None:
    """The lane or hosted label an unknown `label` most likely meant, of its platform."""
    return closest(label, label_candidates(contract, label_hint(contract, label, labels, matrix)))
