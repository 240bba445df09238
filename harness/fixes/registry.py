"""The fixes, keyed by rule id. Each rule family declares its fixes in one module
(`FIXES`), the way `harness/checks/*` declare their rules (`RULES`)."""

from __future__ import annotations

import importlib
from functools import cache

from harness.fixes.model import Fix

FIX_MODULES: tuple[str, ...] = (
    "harness.fixes.workflows",
    "harness.fixes.lanes",
    "harness.fixes.placement",
    "harness.fixes.bootstrap",
    "harness.fixes.publication",
)


@cache
def registry() -> dict[str, Fix]:
    """Rule id -> its fix, for every rule that has one."""
    fixes: dict[str, Fix] = {}
    for name in FIX_MODULES:
        for fix in importlib.import_module(name).FIXES:
            fixes[fix.rule] = fix
    return dict(sorted(fixes.items()))
