"""`fleet --patches DIR`: one `git format-patch` file per repository with fixes.

Each repository's fixes are planned as `fix` plans them (`harness.fixes.plan_fixes`), against
the fleet's contract and with the repository named as its row names it, so enrollment and
hosted exceptions apply. The patch (`DIR/OWNER__REPO.patch`) names every finding it fixes
and every one it leaves, with the reason. A repository without a change gets no file, and an
old patch of it in DIR is removed, so DIR holds exactly what this run would apply.
"""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.errors import HarnessInputError
from harness.outpaths import check_output_dir

if TYPE_CHECKING:
    from harness.checks.api import CheckContext


def check_patch_dir(path: Path) -> Path:
    """`--patches DIR`, before any work: a folder (made when missing) this process can write
    files in; otherwise bad input, in one line."""
    check_output_dir("--patches", path)
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".flywheel-harness-probe-"):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise HarnessInputError(f"--patches {path}: cannot write in it: {reason}") from None
    return path


def repo_patch(ctx: CheckContext, out_dir: Path, repo: str, unsafe: bool) -> dict[str, Any]:
    """Plan the fixes of one repository and write its patch; the row's `patch` entry:
    `file` (None when nothing changes), the findings `fixed` and those `left` (each as the
    patch message names it, with its reason), and `error` when the fixes could not be
    planned (the row itself stands)."""
    from harness.fixes import plan_fixes, write_patch
    from harness.fixes.patch import fixed_lines, left_lines, patch_name

    try:
        plan = plan_fixes(ctx, unsafe=unsafe)
    except Exception as exc:
        return failed(f"{type(exc).__name__}: {exc}")
    written = write_patch(plan, out_dir, repo)
    if written is None:
        with contextlib.suppress(FileNotFoundError):
            (out_dir / patch_name(repo)).unlink()
    return {
        "file": None if written is None else str(written),
        "fixed": fixed_lines(plan),
        "left": left_lines(plan),
    }


def failed(reason: str) -> dict[str, Any]:
    """The `patch` entry of a repository whose fixes could not be planned."""
    return {"file": None, "fixed": [], "left": [], "error": reason.splitlines()[0]}


def patch_lines(rows: list[dict[str, Any]]) -> list[str]:
    """The `Patches` section: a count, then each patch written, and each repository left
    with findings and no patch, with the reason for each finding."""
    entries = [(row["repo"], row["patch"]) for row in rows if "patch" in row]
    if not entries:
        return []
    written = [(repo, e) for repo, e in entries if e["file"]]
    lines = [
        f"{len(written)} patch(es) for {len(entries)} repositories "
        f"({sum(1 for _, e in entries if not e['file'] and not e['left'] and not e.get('error'))}"
        " with nothing to fix)"
    ]
    for repo, entry in entries:
        if entry.get("error"):
            lines.append(f"{repo}: no patch: {entry['error']}")
        elif entry["file"]:
            lines.append(
                f"{repo}: {entry['file']} fixes {len(entry['fixed'])} finding(s), "
                f"leaves {len(entry['left'])}"
            )
        elif entry["left"]:
            lines.append(f"{repo}: no patch; left: {'; '.join(entry['left'])}")
    return lines
