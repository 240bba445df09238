"""Unified diffs of a plan's changes, and patches in `git format-patch` form for a rollout."""

from __future__ import annotations

import difflib
import email.utils
import os
import tempfile
from pathlib import Path

from harness import __version__
from harness.fixes.model import FixPlan
from harness.fixes.verify import finding_key
from harness.results import Finding

_NO_NEWLINE = "\\ No newline at end of file\n"


def file_diff(path: str, before: str, after: str) -> str:
    """A git-style unified diff of one file (`a/` and `b/` prefixes, 3 lines of context).

    Lines keep their own endings (a CRLF file's lines end in CR LF in the patch, as git
    writes them); a last line without a newline is marked as git marks it.
    """
    old = before.splitlines(keepends=True)
    new = after.splitlines(keepends=True)
    body = []
    for line in difflib.unified_diff(old, new, f"a/{path}", f"b/{path}", n=3):
        if line.startswith(("---", "+++")):
            body.append(line if line.endswith("\n") else line + "\n")
        elif line.endswith("\n"):
            body.append(line)
        else:
            body.append(line + "\n" + _NO_NEWLINE)
    if not body:
        return ""
    return f"diff --git a/{path} b/{path}\n" + "".join(body)


def plan_diff(plan: FixPlan) -> str:
    """The diff of every file the plan's applied fixes change, in path order."""
    return "".join(
        file_diff(path, plan.before[path], text) for path, text in sorted(plan.changed.items())
    )


def where(finding: Finding) -> str:
    """`RULE file:line (job J)`: a finding as a patch message names it."""
    location = finding.file or "?"
    if finding.line:
        location += f":{finding.line}"
    return f"{finding.rule} {location}" + (f" (job {finding.job})" if finding.job else "")


def left_reason(plan: FixPlan, finding: Finding) -> str:
    """Why the plan leaves `finding`: its outcome's reason, else no fix or not selected."""
    key = finding_key(finding)
    for outcome in reversed(plan.outcomes):
        if finding_key(outcome.finding) == key and not outcome.applied:
            return outcome.why
    from harness.fixes.registry import registry

    if finding.rule not in registry():
        return f"no automatic fix for {finding.rule}"
    return f"{finding.rule} was not selected"


def fixed_lines(plan: FixPlan) -> list[str]:
    """Every finding the plan's change fixes, with the fix and its kind."""
    lines = []
    for outcome in plan.applied:
        lines.append(f"{where(outcome.finding)}: {outcome.description} [{outcome.kind}]")
        lines += [f"{where(f)}: fixed by the same edit" for f in outcome.also_fixed]
    return lines


def left_lines(plan: FixPlan) -> list[str]:
    """Every finding still reported after the change, with the reason it is left."""
    return [f"{where(f)}: {left_reason(plan, f)}" for f in plan.remaining]


def message(plan: FixPlan, repo_name: str) -> str:
    """The commit message: every finding fixed and every one left, with the reason."""
    fixed = fixed_lines(plan)
    lines = [f"Fix {len(fixed)} flywheel-harness finding(s) in {repo_name}", ""]
    if fixed:
        lines += ["Fixed:", *(f"- {line}" for line in fixed), ""]
    left = left_lines(plan)
    if left:
        lines += ["Left:", *(f"- {line}" for line in left), ""]
    lines.append(
        f"Each fix was verified before it was offered: the file parsed again and "
        f"the static suites, re-run, no longer reported the finding and reported "
        f"nothing new (flywheel-harness {__version__})."
    )
    return "\n".join(lines) + "\n"


def format_patch(plan: FixPlan, repo_name: str) -> str:
    """The plan's change as one patch in `git format-patch` form (`git am`/`git apply`)."""
    subject, _, body = message(plan, repo_name).partition("\n\n")
    stat = [f" {path} | changed" for path in sorted(plan.changed)]
    return (
        f"From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001\n"
        f"From: flywheel-harness <flywheel-harness@localhost>\n"
        f"Date: {email.utils.formatdate(usegmt=True)}\n"
        f"Subject: [PATCH] {subject}\n\n{body}---\n"
        + "\n".join(stat)
        + f"\n {len(stat)} file(s) changed\n\n"
        + plan_diff(plan)
        + f"-- \nflywheel-harness {__version__}\n\n"
    )


def patch_name(repo_name: str) -> str:
    """`OWNER/REPO` -> `OWNER__REPO.patch`."""
    return repo_name.replace("/", "__") + ".patch"


def write_patch(plan: FixPlan, out_dir: Path, repo_name: str) -> Path | None:
    """Write `out_dir/OWNER__REPO.patch` when the plan changes anything; return its path."""
    if not plan.changed:
        return None
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / patch_name(repo_name)
    write_atomic(target, format_patch(plan, repo_name))
    return target


def write_atomic(path: Path, text: str) -> None:
    """Replace `path` with `text` (bytes as given: no newline translation), atomically,
    keeping the file's mode."""
    mode = path.stat().st_mode & 0o7777 if path.exists() else 0o644
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        Path(temp).chmod(mode)
        Path(temp).replace(path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def write_changes(plan: FixPlan) -> list[str]:
    """Write the plan's changed files into its repository; return their paths."""
    root = Path(plan.repo)
    written = []
    for path, text in sorted(plan.changed.items()):
        target = root / path
        if target.is_symlink() or not target.resolve().is_relative_to(root.resolve()):
            raise OSError(f"{path}: not a regular file inside the repository")
        write_atomic(target, text)
        written.append(path)
    return written
