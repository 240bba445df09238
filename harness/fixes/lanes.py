"""Fixes of LANE001, LANE002 and LANE004 (rules in harness/checks/lanes.py)."""

from __future__ import annotations

from datetime import date

from harness.checks.lanes import lanes_for_platform
from harness.fixes.context import FixContext
from harness.fixes.model import Candidate, Edit, Fix, FixKind, NoFix
from harness.fixes.sites import WHERE, instance_of, label_sites, unique, whole_sites
from harness.github.labels import RESOLVED, UNKNOWN
from harness.github.repo import Variant
from harness.github.suggest import label_candidates, label_hint
from harness.nearmiss import one_edit_away
from harness.results import Finding


def fix_lane_alone(ctx: FixContext, finding: Finding) -> Candidate:
    """LANE002: `[self-hosted, tinyland-nix]` -> `tinyland-nix`."""
    instance = instance_of(ctx, finding)
    lanes = {lane.lower() for lane in ctx.contract.lanes}
    edits: list[Edit] = []
    shown: list[str] = []
    for variant in instance.variants:
        labels = variant.labels.labels
        lane_labels = [label for label in labels if label.lower() in lanes]
        if not lane_labels or len(labels) == 1:
            continue
        edits += [site.replace([lane_labels[0]]) for site in whole_sites(ctx, instance, variant)]
        shown.append(f"`{variant.labels.text()}` -> `{lane_labels[0]}`")
    if not edits:
        raise NoFix("no variant of this job combines a lane with other labels any more")
    return Candidate(f"runs-on {', '.join(dict.fromkeys(shown))}", unique(edits))


def fix_unknown_label(ctx: FixContext, finding: Finding) -> Candidate:
    """LANE001: a label one edit away from exactly one lane or hosted label of its platform
    -> that label."""
    instance = instance_of(ctx, finding)
    contract = ctx.contract
    catalogue = contract.hosted_catalogue
    lanes = {lane.lower() for lane in contract.lanes}
    edits: list[Edit] = []
    shown: dict[str, str] = {}
    for variant in instance.variants:
        labels = variant.labels
        if labels.certainty != RESOLVED or any(label.lower() in lanes for label in labels.labels):
            continue
        unknown = [label for label in labels.labels if catalogue.lookup(label) is None]
        if not unknown:
            continue
        for label in unknown:
            shown[label] = _only_candidate(ctx, label, variant)
        for site in label_sites(ctx, instance, variant):
            for label in unknown:
                edits += site.rename(label, shown[label])
    if not edits:
        raise NoFix("no unknown label of this job is written where the fix can edit it")
    return Candidate(
        "runs-on " + ", ".join(f"`{old}` -> `{new}`" for old, new in shown.items()), unique(edits)
    )


def _only_candidate(ctx: FixContext, label: str, variant: Variant) -> str:
    """The one lane or hosted label of the label's platform one edit from `label` (GitHub
    ignores case)."""
    hint = label_hint(ctx.contract, label, variant.labels.labels, variant.matrix)
    by_lower = {name.lower(): name for name in label_candidates(ctx.contract, hint)}
    found = one_edit_away(label.lower(), by_lower)
    if len(found) == 1:
        return by_lower[found[0]]
    if not found:
        raise NoFix(f"no lane or hosted label is one edit away from `{label}`")
    names = ", ".join(f"`{by_lower[name]}`" for name in found)
    raise NoFix(f"`{label}` is one edit away from {len(found)} labels ({names}); choose by hand")


def fix_hosted_linux(ctx: FixContext, finding: Finding) -> Candidate:
    """LANE004: a hosted Linux label -> the contract's lane of the same platform."""
    if not finding.job:
        raise NoFix("the finding is about the contract's hosted exception: renew or remove it")
    instance = instance_of(ctx, finding)
    contract = ctx.contract
    enrollment = contract.enrollment
    exception = enrollment.exception_of(ctx.check.repo_name) if enrollment else None
    lanes = {lane.lower() for lane in contract.lanes}
    edits: list[Edit] = []
    shown: dict[str, str] = {}
    refused: list[str] = []
    for variant in _named_variants(instance.variants, finding):
        labels = variant.labels.labels
        if variant.labels.certainty == UNKNOWN or any(label.lower() in lanes for label in labels):
            continue
        hosted = contract.hosted_catalogue.hosted(labels)
        if hosted is None or hosted.os != "linux":
            continue
        if exception is not None and exception.covers(labels):
            if exception.expired(date.today()):
                # moving its last job would leave the expired exception a finding of its own
                refused.append(
                    f"the hosted exception of {exception.repo} covering `{hosted.label}` "
                    f"expired on {exception.until}: renew it or remove it from the contract"
                )
            continue
        found = lanes_for_platform(contract, hosted.platform)
        if len(found) != 1:
            names = ", ".join(f"`{lane}`" for lane in found)
            refused.append(
                f"no lane of the contract serves {hosted.platform} (`{hosted.label}`): "
                "record a hosted exception instead"
                if not found
                else f"{len(found)} lanes serve {hosted.platform} equally ({names}); choose by hand"
            )
            continue
        for site in whole_sites(ctx, instance, variant):
            edits.append(site.replace(found))
            shown[f"{WHERE[site.via]} `{variant.labels.text()}`"] = found[0]
    if not edits:
        raise NoFix(
            "; ".join(dict.fromkeys(refused))
            or "no variant of this job runs on a hosted Linux label without an exception any more"
        )
    return Candidate(
        ", ".join(f"{where} -> `{lane}`" for where, lane in shown.items()), unique(edits)
    )


def _named_variants(variants: list[Variant], finding: Finding) -> list[Variant]:
    """The variants whose labels the finding names (`runs on ... `LABELS``), else all: one job
    gives one LANE004 finding per hosted label set, and each is fixed on its own."""
    named = [v for v in variants if f"`{v.labels.text()}`" in finding.message]
    return named or variants


FIXES = (
    Fix(
        "LANE001",
        FixKind.UNSAFE,
        fix_unknown_label,
        "a label one edit away from exactly one lane or hosted label -> that label",
    ),
    Fix("LANE002", FixKind.SAFE, fix_lane_alone, "`[self-hosted, tinyland-nix]` -> `tinyland-nix`"),
    Fix(
        "LANE004",
        FixKind.UNSAFE,
        fix_hosted_linux,
        "a hosted Linux label -> the contract's one lane of that platform",
    ),
)
