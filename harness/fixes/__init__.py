"""`flywheel-harness fix`: the edit a finding asks for, written and proven.

- `registry.py`: rule id -> `Fix` (safe or unsafe, and its fixer). Each rule family
  declares its fixes in its own module (`workflows`, `lanes`, `placement`, `bootstrap`,
  `publication`), next to nothing but the edits it makes.
- `yamledit.py`: the edit engine. Nodes are found with libyaml's composer and edited
  by their exact character spans, so everything else in a file stays byte for byte.
- `verify.py`: the static suites re-run in memory on the edited texts (`context.py`).
- `plan.py`: `plan_fixes` proposes, verifies and applies fixes one finding at a time.
- `patch.py`: unified diffs, `--write`, and `git format-patch` patches for a rollout.
"""

from __future__ import annotations

from harness.fixes.model import Fix, FixKind, FixPlan, Outcome
from harness.fixes.patch import format_patch, plan_diff, write_changes, write_patch
from harness.fixes.plan import plan_fixes

__all__ = [
    "Fix",
    "FixKind",
    "FixPlan",
    "Outcome",
    "format_patch",
    "plan_diff",
    "plan_fixes",
    "write_changes",
    "write_patch",
]
