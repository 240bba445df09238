"""PLACE001-PLACE002: heavy Rust and Nix builds run on the heavy lane, and only they do.

A job is checked once per variant (every matrix combination under every caller's inputs),
with `${{ matrix.* }}` and `${{ inputs.* }}` substituted into its `run:` scripts and step
`if:` conditions that are certainly false for the variant skipped. Inside a local composite
action, `${{ inputs.* }}` are the action's inputs: its defaults and the calling step's
`with:` (so `uses: ./.github/actions/nix-job` with `command: cargo build --release` is
seen). Commands are read by the shell reader, so wrapped commands count (`nix develop
--command cargo build --release`, `nix-shell --run "..."`, `sudo`, `env X=1 ...`).

Command patterns (built in, extended by `placement.heavy_commands`, exempted by
`placement.light_commands`): whitespace-separated words. The first word matches the
command name (its basename); every later word must match a later argument, in order,
with any other arguments allowed in between. Each word is a shell-style glob (`*`, `?`,
`[...]`), matched case-sensitively against the whole argument. A command that matches a
light pattern is never heavy.

A local flake's outputs count too: `nix build .#daemon`, `nix run .#X` and `nix flake check`
are heavy when the output (or a check) builds Rust, as `harness.nixflake` reads `flake.nix`;
`placement.heavy_outputs` in the contract replaces that reading with a list.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from functools import lru_cache
from typing import Any

from harness.checks.api import CheckContext, Skip
from harness.checks.lanes import label_origin
from harness.github.conditions import can_be_true
from harness.github.expressions import (
    _EMBEDDED,
    Unknown,
    _to_string,
    evaluate,
    evaluate_maybe,
)
from harness.github.labels import UNKNOWN
from harness.github.model import Job
from harness.github.repo import (
    NON_BASH_SHELLS,
    EffectiveStep,
    JobInstance,
    RepoModel,
    Variant,
    local_path,
)
from harness.github.shell import Command, substituted_commands
from harness.nixflake import FlakeHeaviness
from harness.results import CheckOutput, Finding, Severity
from harness.rules import Rule
from harness.yamlnodes import MAX_NESTING

BUILTIN_HEAVY: tuple[str, ...] = (
    "cargo build --release",
    "cargo build -r",
    "cargo build --workspace",
    "cargo build --all",
    "cargo test --release",
    "cargo test -r",
    "cargo nextest",
    "nixos-rebuild build",
    "nixos-rebuild build-vm",
    "nixos-rebuild switch",
    "nixos-rebuild boot",
    "nixos-rebuild test",
    "nix build *nixosConfigurations.*.config.system.build.toplevel",
    "nix build *nixosConfigurations.*.config.system.build.vm",
)
"""Heavy by default: Rust release and workspace builds, NixOS system builds."""

RULES = (
    Rule(
        "PLACE001",
        "A job (for some matrix combination or caller input) runs a heavy Rust "
        "or Nix build on a lane other than the contract's heavy lane. Jobs on a "
        "platform the heavy lane does not serve (macOS, Windows, arm64 unless "
        "the lane is arm64) are not placed.",
        example="build:\n  runs-on: tinyland-nix\n  steps:\n"
        "    - run: nix develop --command cargo build --release",
        fix="runs-on: tinyland-nix-heavy (for a reusable workflow: pass the heavy lane in "
        "the caller's `with:`); or list the command under placement.light_commands "
        "if it is not heavy in this repository.",
    ),
    Rule(
        "PLACE002",
        "A job on the heavy lane runs no heavy command: it takes one of the few "
        "heavy runners for light work.",
        example="lint:\n  runs-on: tinyland-nix-heavy\n  steps: [{run: nix flake check}]",
        fix="runs-on: tinyland-nix (or add the command that makes it heavy to "
        "placement.heavy_commands).",
        severity=Severity.WARNING,
    ),
)


@dataclass(frozen=True)
class Pattern:
    """One command pattern: a command name glob and argument globs in order."""

    text: str
    words: tuple[str, ...]

    @classmethod
    def parse(cls, text: str) -> Pattern:
        """Read a pattern; its words are split on whitespace."""
        words = tuple(text.split())
        if not words:
            raise ValueError("empty command pattern")
        return cls(text, words)

    def matches(self, command: Command) -> bool:
        """True when the command name matches the first word and the rest match in order."""
        if not command.words or not fnmatchcase(command.name, self.words[0]):
            return False
        args = iter(command.args)
        return all(any(fnmatchcase(arg, word) for arg in args) for word in self.words[1:])


_MATCHED: dict[tuple[tuple[Pattern, ...], tuple[Pattern, ...]], dict[tuple[str, ...], Any]] = {}
"""The heavy pattern each command's words match (or None), per set of patterns in force."""


@dataclass(frozen=True)
class Patterns:
    """The heavy and light patterns in force."""

    heavy: tuple[Pattern, ...]
    light: tuple[Pattern, ...]
    flake: FlakeHeaviness | None = field(default=None, compare=False, hash=False, repr=False)
    """Heavy outputs of the repository's flakes (`nix build .#daemon`)."""
    _seen: dict[tuple[str, ...], Pattern | None] = field(
        default_factory=dict, compare=False, hash=False, repr=False
    )
    _why: dict[tuple[str, ...], str | None] = field(
        default_factory=dict, compare=False, hash=False, repr=False
    )
    _hash: int = field(default=0, compare=False, hash=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_hash", hash((self.heavy, self.light)))
        # which pattern a command matches depends on the patterns alone: every Patterns of
        # the same patterns (every repository of a fleet run) shares one memo
        object.__setattr__(self, "_seen", _MATCHED.setdefault((self.heavy, self.light), {}))

    def __hash__(self) -> int:
        """Computed once: every variant's memo key holds the patterns."""
        return self._hash

    @classmethod
    def build(
        cls,
        extra_heavy: Iterable[str] = (),
        light: Iterable[str] = (),
        flake: FlakeHeaviness | None = None,
    ) -> Patterns:
        """Built-in heavy patterns plus `extra_heavy`; `light` exempts; `flake` reads outputs."""
        return cls(
            tuple(Pattern.parse(t) for t in (*BUILTIN_HEAVY, *extra_heavy)),
            tuple(Pattern.parse(t) for t in light),
            flake,
        )

    def heavy_match(self, command: Command) -> Pattern | None:
        """The heavy pattern a command matches, unless a light pattern exempts it.

        Matching depends only on the command's words, which recur across matrix variants,
        so answers are remembered per word tuple.
        """
        try:
            return self._seen[command.words]
        except KeyError:
            pass
        found = None
        if not any(p.matches(command) for p in self.light):
            found = next((p for p in self.heavy if p.matches(command)), None)
        if len(self._seen) < 65_536:
            self._seen[command.words] = found
        return found

    def why_heavy(self, command: Command) -> str | None:
        """Why a command is heavy (a pattern, or the flake output it builds), or None."""
        try:
            return self._why[command.words]
        except KeyError:
            pass
        why = None
        pattern = self.heavy_match(command)
        if pattern is not None:
            why = f"heavy by pattern `{pattern.text}`"
        elif self.flake is not None and not any(p.matches(command) for p in self.light):
            why = self.flake.explain(command.name, command.args)
        self._why[command.words] = why
        return why


@dataclass(frozen=True)
class Hit:
    """A heavy command in one job variant."""

    step: EffectiveStep
    command: Command
    why: str


def _value(expression: str, context: Mapping[str, Any]) -> str | None:
    """The text GitHub substitutes for one expression, None when it is not known."""
    try:
        return _to_string(evaluate(expression, context))
    except Unknown:
        return None


def _substitute(script: str, context: Mapping[str, Any]) -> str:
    def one(match: Any) -> str:
        value = _value(match.group(1), context)
        return str(match.group(0)) if value is None else value

    return _EMBEDDED.sub(one, script)


@lru_cache(maxsize=256)
def _shell_name(shell: str | None) -> str:
    """The program a step's `shell:` names (`/bin/bash -e {0}` -> `bash`; none: bash)."""
    return (shell or "bash").split()[0].rsplit("/", 1)[-1]


def _commands(step: EffectiveStep, context: Mapping[str, Any]) -> list[Command]:
    s = step.step
    if not s.run or _shell_name(s.shell) in NON_BASH_SHELLS:
        return []
    return substituted_commands(
        s.run, s.run_line or s.line, lambda expression: _value(expression, context)
    )


def _remember_inputs(
    model: RepoModel,
    step: EffectiveStep,
    scope: Mapping[str, Any],
    action_inputs: dict[str, dict[str, Any]],
) -> str | None:
    """For a step that calls a local composite action: remember the inputs that action will
    see, and return the action's file."""
    directory = local_path(step.step.uses)
    action = model.action(directory) if directory is not None else None
    if action is None or not action.composite:
        return None
    inputs = {k: v for k, v in action.inputs.items() if v is not None}
    for name, value in step.step.with_.items():
        inputs[name] = _substitute(value, scope) if isinstance(value, str) else value
    action_inputs[action.file] = inputs
    return action.file


def _texts_with_expressions(value: Any, depth: int = 0) -> Iterator[str]:
    """Every string in a step's YAML (keys too) that holds a `${{`, at any depth."""
    if isinstance(value, str):
        if "${{" in value:
            yield value
    elif depth < MAX_NESTING and isinstance(value, dict):
        for key, item in value.items():
            yield from _texts_with_expressions(key, depth + 1)
            yield from _texts_with_expressions(item, depth + 1)
    elif depth < MAX_NESTING and isinstance(value, list):
        for item in value:
            yield from _texts_with_expressions(item, depth + 1)


def _expressions(model: RepoModel, job: Job) -> tuple[str, ...]:
    """Every `${{ }}` in the job's own steps, and every `if:` written without one (`if:
    matrix.os == 'linux'`): what a variant can change in them."""
    key = ("placement.expressions", id(job))
    if key not in model.memo:
        found: dict[str, None] = {}
        for step in job.steps:
            if step.if_ and "${{" not in step.if_:
                found[step.if_.strip()] = None
            for text in _texts_with_expressions(step.raw):
                for match in _EMBEDDED.finditer(text):
                    found[match.group(1)] = None
        model.memo[key] = tuple(found)
    cached: tuple[str, ...] = model.memo[key]
    return cached


def _variant_key(model: RepoModel, job: Job, context: Mapping[str, Any]) -> tuple[str, ...]:
    """Variants that give every expression of the job's steps the same value run the same
    commands (composite actions see only what those steps pass them)."""
    values = []
    for expression in _expressions(model, job):
        try:
            values.append(repr(evaluate_maybe(expression, context)))
        except Unknown:
            values.append("?")
    return tuple(values)


def first_heavy_hit(
    model: RepoModel, instance: JobInstance, variant: Variant, patterns: Patterns
) -> Hit | None:
    """The first heavy command the job runs in this variant, or None (whether there is one,
    and which comes first, is all a rule or fix asks): remembered per variant, and per
    distinct values of the job's steps."""
    mine = ("placement.variant", id(variant), patterns)
    seen = model.memo.get(mine)
    if seen is not None and seen[0] is variant:
        found: Hit | None = seen[1]
        return found
    context = {"matrix": variant.matrix, "inputs": variant.inputs}
    key = ("placement.hits", id(instance.job), patterns, _variant_key(model, instance.job, context))
    if key not in model.memo:
        model.memo[key] = _first_heavy_hit(model, instance, context, patterns)
    hit: Hit | None = model.memo[key]
    model.memo[mine] = (variant, hit)
    return hit


def _first_heavy_hit(
    model: RepoModel, instance: JobInstance, context: Mapping[str, Any], patterns: Patterns
) -> Hit | None:
    status = {"success": True, "always": True, "failure": False, "cancelled": False}
    action_inputs: dict[str, dict[str, Any]] = {}
    skipped: set[str] = set()
    for step in model.effective_steps(instance.job):
        if skipped and not skipped.isdisjoint(step.via):
            continue
        outer = action_inputs.get(step.via[-1], {}) if step.via else None
        scope = context if outer is None else {"inputs": outer}
        called = _remember_inputs(model, step, scope, action_inputs)
        if step.step.if_ and not can_be_true(step.step.if_, {**scope, "__status__": status}):
            if called:
                skipped.add(called)
            continue
        for command in _commands(step, scope):
            why = patterns.why_heavy(command)
            if why is not None:
                return Hit(step, command, why)
    return None


def patterns_of(ctx: CheckContext) -> Patterns:
    """The patterns the contract puts in force."""
    placement = ctx.contract.placement
    if placement is None:
        return Patterns.build(flake=FlakeHeaviness(ctx.repo))
    return Patterns.build(
        placement.heavy_commands,
        placement.light_commands,
        FlakeHeaviness(ctx.repo, placement.heavy_outputs),
    )


def _variant_text(variant: Variant) -> str:
    parts = [f"{k}={v}" for k, v in variant.matrix.items() if not isinstance(v, dict | list)]
    return f" (matrix {', '.join(parts)})" if parts else ""


def _on_other_platform(ctx: CheckContext, heavy_lane: str, labels: tuple[str, ...]) -> bool:
    """True when the job runs on a platform the heavy lane does not serve (macOS, Windows,
    arm64): no lane can take it, so placement does not apply."""
    lane = ctx.contract.lane(heavy_lane)
    return lane is not None and ctx.contract.platform_of(labels) != lane.platform


def _setup(ctx: CheckContext) -> tuple[str, Patterns]:
    heavy_lane = ctx.contract.heavy_lane
    if heavy_lane is None:
        raise Skip("the contract has no `placement.heavy_lane`")
    if not ctx.workflows.workflows:
        raise Skip("no GitHub Actions workflows in this repository (.github/workflows)")
    return heavy_lane, patterns_of(ctx)


def check_heavy_on_heavy_lane(ctx: CheckContext, params: Mapping[str, Any]) -> CheckOutput:
    """PLACE001: every variant that runs a heavy command runs on the heavy lane."""
    heavy_lane, patterns = _setup(ctx)
    out = CheckOutput(examined=ctx.workflow_inputs())
    checked = heavy = other = 0
    for instance in ctx.workflows.instances:
        reported: set[tuple[str, ...]] = set()
        for variant in instance.variants:
            if variant.labels.certainty == UNKNOWN or not variant.labels.labels:
                continue  # LANE003 reports labels that cannot be resolved
            if _on_other_platform(ctx, heavy_lane, variant.labels.labels):
                other += 1
                continue
            checked += 1
            hit = first_heavy_hit(ctx.workflows, instance, variant, patterns)
            if hit is None:
                continue
            heavy += 1
            labels = variant.labels.labels
            if heavy_lane in labels or labels in reported:
                continue
            reported.add(labels)
            file, line = label_origin(instance)
            where = f"{hit.step.step.file}:{hit.command.line}"
            out.add(
                Finding(
                    "PLACE001",
                    (
                        f"job `{instance.display_id}`{_variant_text(variant)} runs "
                        f"`{hit.command.text()[:80]}` ({where}, {hit.why}) "
                        f"on `{variant.labels.text()}`, not on the heavy lane "
                        f"`{heavy_lane}`"
                    ),
                    file=file,
                    line=line,
                    job=instance.display_id,
                    step=hit.step.job_step,
                )
            )
    out.measure("placement.variants_checked", checked, "variants")
    out.measure("placement.heavy_variants", heavy, "variants")
    out.measure("placement.other_platform_variants", other, "variants")
    return out


def check_light_off_heavy_lane(ctx: CheckContext, params: Mapping[str, Any]) -> CheckOutput:
    """PLACE002: a variant on the heavy lane runs at least one heavy command."""
    heavy_lane, patterns = _setup(ctx)
    out = CheckOutput(examined=ctx.workflow_inputs())
    for instance in ctx.workflows.instances:
        light = [
            v
            for v in instance.variants
            if heavy_lane in v.labels.labels
            and first_heavy_hit(ctx.workflows, instance, v, patterns) is None
        ]
        if not light:
            continue
        file, line = label_origin(instance)
        which = ", ".join(sorted({_variant_text(v).strip() for v in light} - {""}))
        out.add(
            Finding(
                "PLACE002",
                (
                    f"job `{instance.display_id}`{' ' + which if which else ''} "
                    "runs on the heavy lane "
                    f"`{heavy_lane}` but runs no heavy command; the heavy lane has few runners"
                ),
                Severity.WARNING,
                file=file,
                line=line,
                job=instance.display_id,
            )
        )
    return out
