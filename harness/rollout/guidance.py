"""Rollout guidance: in a repository that is not enrolled, lane and placement findings are
shown with severity `note` and fail nothing."""

from __future__ import annotations

from collections.abc import Iterable

from harness.results import Finding, Severity

GUIDANCE_PREFIXES = ("LANE", "PLACE")
"""Rule families that become guidance outside the tranches."""


def is_guidance_rule(rule: str) -> bool:
    """True for the lane and placement rules (LANE*, PLACE*)."""
    return rule.rstrip("0123456789") in GUIDANCE_PREFIXES


def as_guidance(findings: Iterable[Finding]) -> int:
    """Turn lane and placement findings into notes; return how many changed severity."""
    changed = 0
    for finding in findings:
        if is_guidance_rule(finding.rule) and finding.severity is not Severity.NOTE:
            finding.severity = Severity.NOTE
            changed += 1
    return changed
