"""Plan the fixes of a repository: propose, verify and (when allowed) apply them one by one.

Findings are taken in report order. For each, its rule's fixer proposes edits; the edited
texts are parsed again and the static cases re-run in memory. The fix is offered only when
the targeted finding is gone and no finding is new; it is applied when it is safe, or
unsafe and `unsafe` is set. Later findings are judged against the texts as the applied
fixes left them, so line numbers never go stale and running the plan again changes nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from harness.checks.api import CheckContext
from harness.errors import HarnessInputError
from harness.fixes.context import FixContext, Texts, overlay_context
from harness.fixes.model import FixKind, FixPlan, NoFix, Outcome
from harness.fixes.registry import registry
from harness.fixes.verify import finding_key, gone, judge, run_static, static_cases
from harness.fixes.yamledit import apply_edits, reparse
from harness.results import Finding, Severity

MAX_ROUNDS = 2000
"""Fixes tried in one plan, at most."""


def verified_suites() -> set[str]:
    """The suites whose static cases verify a fix: those of the fixable rules, and the
    workflows suite (an edit must leave every file readable)."""
    from harness.rules import all_rules

    fixable = registry()
    return {"workflows"} | {rule.suite for rule in all_rules() if rule.id in fixable}


def select_rules(rules: Iterable[str]) -> set[str]:
    """The rule ids to fix (all fixable ones when none are named); unknown ids are bad input."""
    fixable = registry()
    wanted = {rule.upper() for rule in rules}
    unknown = sorted(wanted - set(fixable))
    if unknown:
        raise HarnessInputError(
            f"no fix for rule(s) {', '.join(unknown)}; rules with a fix: {', '.join(fixable)}"
        )
    return wanted or set(fixable)


def _eligible(finding: Finding, rules: set[str]) -> bool:
    return (
        finding.rule in rules and not finding.suppressed and finding.severity is not Severity.NOTE
    )


def plan_fixes(
    repo: Path | CheckContext,
    contract: Path | None = None,
    rules: Iterable[str] = (),
    unsafe: bool = False,
) -> FixPlan:
    """Propose, verify and apply (in memory) the fixes for a repository's findings."""
    from harness.engine import make_context
    from harness.suites import load_suites

    base = repo if isinstance(repo, CheckContext) else make_context(repo, contract)
    selected = select_rules(rules)
    cases = static_cases(load_suites(), verified_suites())
    texts = Texts(base.repo)
    state = overlay_context(base, {})
    findings = initial = run_static(state, cases)
    base = state  # later contexts share its resolver of remote `uses:`
    plan = FixPlan(repo=str(base.repo), unsafe=unsafe)
    given_up: Counter[tuple[str, str, str, str]] = Counter()
    fixes = registry()
    for _ in range(MAX_ROUNDS):
        target = _next_target(findings, selected, given_up)
        if target is None:
            break
        fix = fixes[target.rule]
        outcome = Outcome(_as_first_reported(target, initial, plan.outcomes), fix.kind)
        plan.outcomes.append(outcome)
        try:
            candidate = fix.fixer(FixContext(state, texts), target)
            changes: dict[str, str] = {}
            for file in dict.fromkeys(edit.file for edit in candidate.edits):
                ours = [e for e in candidate.edits if e.file == file]
                changes[file] = apply_edits(texts.get(file), ours)
                reparse(file, changes[file])
            trial = overlay_context(base, texts.with_changes(changes))
            after = run_static(trial, cases)
            refusal = judge(target, findings, after)
        except NoFix as exc:
            refusal = exc.reason
        if refusal is not None:
            outcome.why = refusal
            given_up[finding_key(target)] += 1
            continue
        outcome.offered = True
        outcome.description = candidate.description
        outcome.files = tuple(changes)
        if fix.kind is FixKind.UNSAFE and not unsafe:
            outcome.why = (
                "verified, not applied: an unsafe fix (it changes what runs); "
                "pass --unsafe to apply it"
            )
            given_up[finding_key(target)] += 1
            continue
        outcome.applied = True
        outcome.why = "verified: the finding is gone and no finding is new"
        outcome.also_fixed = [
            _as_first_reported(f, initial, plan.outcomes)
            for f in gone(findings, after)
            if finding_key(f) != finding_key(target)
        ]
        texts.current.update(changes)
        state, findings = trial, after
    plan.before = dict(texts.original)
    plan.after = {file: texts.current[file] for file in texts.original}
    plan.remaining = [f for f in findings if not f.suppressed and f.severity is not Severity.NOTE]
    return plan


def _as_first_reported(target: Finding, initial: list[Finding], outcomes: list[Outcome]) -> Finding:
    """The finding as the unedited files report it (its line before earlier fixes moved it)."""
    key = finding_key(target)
    taken = {id(o.finding) for o in outcomes}
    return next((f for f in initial if finding_key(f) == key and id(f) not in taken), target)


def _next_target(
    findings: list[Finding], rules: set[str], given_up: Counter[tuple[str, str, str, str]]
) -> Finding | None:
    """The first finding to try: occurrences of a key that were given up on come first in
    report order, so the next one of that key is the one after them."""
    seen: Counter[tuple[str, str, str, str]] = Counter()
    for finding in findings:
        key = finding_key(finding)
        index = seen[key]
        seen[key] += 1
        if _eligible(finding, rules) and index >= given_up[key]:
            return finding
    return None
