"""Fixes of PLACE001 and PLACE002 (rules in harness/checks/placement.py): move a job, a
matrix entry or a caller's `with:` input to the lane its work belongs on."""

from __future__ import annotations

from harness.checks.placement import first_heavy_hit, patterns_of
from harness.fixes.context import FixContext
from harness.fixes.model import Candidate, Edit, Fix, FixKind, NoFix
from harness.fixes.sites import WHERE, instance_of, label_sites, unique, whole_sites
from harness.github.labels import UNKNOWN
from harness.results import Finding


def _heavy_lane(ctx: FixContext) -> str:
    lane = ctx.contract.heavy_lane
    if lane is None:
        raise NoFix("the contract has no `placement.heavy_lane`")
    return lane


def fix_heavy_on_heavy_lane(ctx: FixContext, finding: Finding) -> Candidate:
    """PLACE001: the variants that run heavy builds elsewhere move to the heavy lane."""
    heavy_lane = _heavy_lane(ctx)
    instance = instance_of(ctx, finding)
    patterns = patterns_of(ctx.check)
    edits: list[Edit] = []
    vias: set[str] = set()
    for variant in instance.variants:
        labels = variant.labels
        if labels.certainty == UNKNOWN or not labels.labels or heavy_lane in labels.labels:
            continue
        if first_heavy_hit(ctx.model, instance, variant, patterns) is None:
            continue
        for site in whole_sites(ctx, instance, variant):
            edits.append(site.replace([heavy_lane]))
            vias.add(site.via)
    if not edits:
        raise NoFix("no variant of this job runs a heavy build off the heavy lane any more")
    return Candidate(
        f"{' and '.join(WHERE[v] for v in sorted(vias))} -> `{heavy_lane}`", unique(edits)
    )


def light_lane(ctx: FixContext, heavy_lane: str) -> str:
    """The one lane of the heavy lane's kind (and platform) that is not heavy."""
    lanes = ctx.contract.lanes
    heavy = lanes[heavy_lane]
    found = sorted(
        name
        for name, lane in lanes.items()
        if lane.kind == heavy.kind and not lane.heavy and lane.platform == heavy.platform
    )
    if len(found) != 1:
        raise NoFix(f"{len(found)} lanes of kind `{heavy.kind}` are not heavy; choose by hand")
    return found[0]


def fix_light_off_heavy_lane(ctx: FixContext, finding: Finding) -> Candidate:
    """PLACE002: a job on the heavy lane that runs no heavy build moves to the lane of the
    same kind that is not heavy."""
    heavy_lane = _heavy_lane(ctx)
    target = light_lane(ctx, heavy_lane)
    instance = instance_of(ctx, finding)
    patterns = patterns_of(ctx.check)
    edits: list[Edit] = []
    for variant in instance.variants:
        if heavy_lane not in variant.labels.labels:
            continue
        if first_heavy_hit(ctx.model, instance, variant, patterns) is not None:
            continue
        for site in label_sites(ctx, instance, variant):
            edits += site.rename(heavy_lane, target)
    if not edits:
        raise NoFix("no light variant of this job is written on the heavy lane")
    return Candidate(f"runs-on `{heavy_lane}` -> `{target}`", unique(edits))


FIXES = (
    Fix(
        "PLACE001",
        FixKind.UNSAFE,
        fix_heavy_on_heavy_lane,
        "runs-on, the matrix entry, or the caller's `with:` input -> the heavy lane",
    ),
    Fix(
        "PLACE002",
        FixKind.UNSAFE,
        fix_light_off_heavy_lane,
        "the heavy lane -> the lane of the same kind (and platform) that is not heavy",
    ),
)
