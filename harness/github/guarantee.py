"""What a job certainly has when it reaches a step: is Nix certainly installed before its
first use, in one variant (matrix combination and inputs) of the job?

Step `if:` conditions are evaluated three-valued in the variant's context; a step inside a
composite action is guarded by the `if:` of every `uses:` step that led to it, each in its
own scope (the composite's `inputs` come from the caller's `with:` and its defaults). An
install counts only when it is certain:

- its conditions are true (not MAYBE) in this variant, or several install steps' conditions
  complement each other (`if: X` on one, `if: !X` on another);
- neither it nor a composite step around it has `continue-on-error` (a failed install then
  does not stop the job).

An install that may or may not run (a detect-or-install composite: `if:
steps.detect.outputs.installed == 'false'`) is not a workflow-owned bootstrap.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from harness.github.conditions import MAYBE, evaluate_condition
from harness.github.expressions import Unknown, has_expression, kleene_and, substitute
from harness.github.model import Step
from harness.github.nix import NixUse, installs_first, installs_nix, nix_use
from harness.github.repo import EffectiveStep, RepoModel

OK_STATUS = {"success": True, "always": True, "failure": False, "cancelled": False}
"""Earlier steps succeeded: a failure before the use stops the job anyway."""
_WRAPPED = re.compile(r"^\$\{\{(.*)\}\}$", re.DOTALL)


@dataclass(frozen=True)
class Uncertain:
    """An install step that may not run or may fail without stopping the job."""

    step: EffectiveStep
    condition: str | None
    """The condition that makes it uncertain (None when `continue-on-error` does)."""
    continue_on_error: bool = False


@dataclass(frozen=True)
class Verdict:
    """How one variant of a job reaches its first Nix use."""

    use_step: EffectiveStep | None
    use: NixUse | None
    certain: EffectiveStep | None
    """The install step that certainly ran before the use (None when none did)."""
    uncertain: tuple[Uncertain, ...] = ()
    later_install: bool = False
    """An install comes after the use (the use is `before`, not `without`, an install)."""

    @property
    def fault(self) -> str | None:
        """`BOOT001` (no install certainly before the use, none even possible), `BOOT002`
        (only an uncertain install before it), or None."""
        if self.use is None or self.certain is not None:
            return None
        return "BOOT002" if self.uncertain else "BOOT001"


def continue_on_error(step: Step) -> bool:
    """True when `continue-on-error` is set, or is an expression (not a guarantee either)."""
    raw = step.raw.get("continue-on-error") if step.raw is not None else None
    if raw is None or raw is False:
        return False
    return not (isinstance(raw, str) and raw.strip().lower() == "false")


def _action_inputs(model: RepoModel, step: Step, scope: Mapping[str, Any]) -> dict[str, Any]:
    """The `inputs` a composite action sees: its defaults, then the caller's `with:`."""
    action = model.step_action(step)
    values: dict[str, Any] = {}
    if action is not None:
        values.update({k: v for k, v in action.inputs.items() if v is not None})
    for name, value in step.with_.items():
        if has_expression(value):
            try:
                values[name] = substitute(value, scope)
            except Unknown:
                values.pop(name, None)
                values[name] = MAYBE
        else:
            values[name] = value
    return {k: v for k, v in values.items() if v is not MAYBE}


def condition_of(model: RepoModel, step: EffectiveStep, context: Mapping[str, Any]) -> Any:
    """True, False or MAYBE: will this step run in this variant (earlier steps succeeding)?"""
    if guard(step) is None:
        return True  # no `if:` on the way: it runs once the steps before it succeed
    scope: dict[str, Any] = {**context, "__status__": OK_STATUS}
    value: Any = True
    for outer in (*step.outer, step.step):
        value = kleene_and(value, evaluate_condition(outer.if_, scope))
        if value is False:
            return False
        if outer is not step.step:
            scope = {
                "matrix": context.get("matrix", {}),
                "inputs": _action_inputs(model, outer, scope),
                "__status__": OK_STATUS,
            }
    return value


def _normal(condition: str | None) -> str:
    text = (condition or "").strip()
    whole = _WRAPPED.match(text)
    text = whole.group(1).strip() if whole else text
    return " ".join(text.split())


def _negations(text: str) -> set[str]:
    """Texts that are the negation of `text`, written the usual ways."""
    out = {f"!{text}", f"!({text})", f"! {text}", f"! ({text})"}
    for bang in ("!(", "! ("):
        if text.startswith(bang) and text.endswith(")"):
            out.add(text[len(bang) : -1].strip())
    if text.startswith("!") and not text.startswith("!("):
        out.add(text[1:].strip())
    for op, neg in ((" == ", " != "), (" != ", " == ")):
        if text.count(op) == 1:
            out.add(text.replace(op, neg))
    return out


def complementary(conditions: list[str | None]) -> bool:
    """True when some two of the conditions always hold together (`X` and `!X`)."""
    texts = [_normal(c) for c in conditions if c]
    return any(b in _negations(a) for i, a in enumerate(texts) for b in texts[i + 1 :])


def guard(step: EffectiveStep) -> str | None:
    """The condition that guards a step (its own, else the nearest composite step's); None
    when no `if:` on the way decides whether it runs (then it runs in every variant)."""
    for candidate in (step.step, *reversed(step.outer)):
        if candidate.if_:
            return candidate.if_
    return None


def verdict(model: RepoModel, steps: list[EffectiveStep], context: Mapping[str, Any]) -> Verdict:
    """The first Nix use of a job's steps in one variant, and what installed Nix before it."""
    uncertain: list[Uncertain] = []
    for position, step in enumerate(steps):
        runs = condition_of(model, step, context)
        if runs is False:
            continue
        fragile = any(continue_on_error(s) for s in (*step.outer, step.step))
        if installs_first(step):
            if runs is True and not fragile:
                return Verdict(None, None, step)
            uncertain.append(Uncertain(step, None if runs is True else guard(step), fragile))
            solid = [u for u in uncertain if not u.continue_on_error]
            if len(solid) > 1 and complementary([u.condition for u in solid]):
                return Verdict(None, None, step)
            continue
        use = nix_use(step)
        if use is not None:
            later = any(installs_nix(s) for s in steps[position + 1 :])
            return Verdict(step, use, None, tuple(uncertain), later)
        if installs_nix(step) and runs is True and not fragile:
            return Verdict(None, None, step)
    return Verdict(None, None, None, tuple(uncertain))


def certain_install(
    model: RepoModel, steps: list[EffectiveStep], context: Mapping[str, Any]
) -> EffectiveStep | None:
    """The step that certainly installs Nix in this context, else None."""
    for step in steps:
        runs = condition_of(model, step, context)
        if (
            runs is True
            and installs_nix(step)
            and not any(continue_on_error(s) for s in (*step.outer, step.step))
        ):
            return step
    return None
