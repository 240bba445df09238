"""Fix of WF002 (rule in harness/checks/workflows.py): a local `uses:` one edit away from
exactly one existing action directory or workflow file points there instead."""

from __future__ import annotations

from pathlib import Path

from yaml.nodes import ScalarNode

from harness.checks.workflows import action_directories
from harness.fixes.context import FixContext
from harness.fixes.model import Candidate, Fix, FixKind, NoFix
from harness.github.repo import WORKFLOWS_DIR, local_path
from harness.nearmiss import one_edit_away
from harness.results import Finding


def _workflow_files(repo: Path) -> list[str]:
    directory = repo / WORKFLOWS_DIR
    if not directory.is_dir():
        return []
    return [
        p.relative_to(repo).as_posix()
        for p in directory.iterdir()
        if p.suffix in (".yml", ".yaml") and p.is_file()
    ]


def fix_local_uses(ctx: FixContext, finding: Finding) -> Candidate:
    """WF002: `./github/actions/x` -> `./.github/actions/x` (one edit, one existing target)."""
    if finding.file is None or finding.line is None:
        raise NoFix("the finding has no location")
    doc = ctx.doc(finding.file)
    found = doc.keys_at_line("uses", finding.line)
    if len(found) != 1 or not isinstance(found[0][2], ScalarNode):
        raise NoFix(f"{finding.file}:{finding.line}: no single `uses:` value on this line")
    node = found[0][2]
    old = str(node.value)
    path = local_path(old)
    if path is None:
        raise NoFix(f"`uses: {old}` is not a local reference")
    known = (
        _workflow_files(ctx.repo)
        if path.endswith((".yml", ".yaml"))
        else action_directories(ctx.check)
    )
    near = one_edit_away(path, known)
    if len(near) != 1:
        what = "no existing action or workflow is" if not near else f"{len(near)} are"
        raise NoFix(f"{what} one edit away from `{old}`")
    new = f"./{near[0]}"
    return Candidate(f"uses `{old}` -> `{new}`", (doc.replace_scalar(node, new),))


FIXES = (
    Fix(
        "WF002",
        FixKind.SAFE,
        fix_local_uses,
        "a local `uses:` one edit away from exactly one existing action or workflow -> it",
    ),
)
