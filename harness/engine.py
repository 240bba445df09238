"""The one engine behind both front doors (CLI and pytest): run a case, get a CaseResult."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from harness.checks import resolve_check
from harness.checks.api import CheckContext, CheckFn, Skip
from harness.contract import BUNDLED_CONTRACT, find_contract, load_contract
from harness.demand import EndpointDown
from harness.errors import HarnessError, HarnessInputError
from harness.options import Options
from harness.probes.budget import CASE_BUDGET, case_budget
from harness.redact import scrub_credentials
from harness.results import CaseResult, CheckOutput, Finding, Status
from harness.scenario import Case, Suite
from harness.suppress import apply_suppressions


def make_context(
    repo: Path | None, contract_path: Path | None = None, options: Options | None = None
) -> CheckContext:
    """Resolve the repository (default: the working directory) and contract (lookup order:
    flag, fleet.yaml, bundled)."""
    repo = (repo or Path()).resolve()
    if not repo.is_dir():
        raise HarnessInputError(f"{repo}: repository directory does not exist")
    path = find_contract(repo, contract_path)
    display = str(path)
    if path == BUNDLED_CONTRACT:
        display = f"bundled:{path.name}"
    else:
        with contextlib.suppress(ValueError):
            display = str(path.resolve().relative_to(repo)) if path.is_file() else display
    return CheckContext(
        repo=repo, contract=load_contract(path, display), options=options or Options()
    )


def _declared(case: Case) -> Mapping[str, Any]:
    """The case's params, readable only as its check's registration declares them."""
    from harness.checks.declared import DeclaredParams
    from harness.checks.registry import CHECKS

    spec = CHECKS.get(case.check)
    return case.params if spec is None else DeclaredParams(spec.name, case.params, spec.declared)


def run_case(
    ctx: CheckContext, suite: Suite | str, case: Case, check: CheckFn | None = None
) -> CaseResult:
    """Run one case and classify it: passed, failed (an error finding), skipped or error.

    `check` runs instead of the registered `case.check` (a command that measures ad hoc);
    suppressions and credential scrubbing apply all the same.
    """
    suite_name = suite if isinstance(suite, str) else suite.name
    started = time.perf_counter()
    result = CaseResult(
        suite=suite_name,
        case=case.name,
        status=Status.PASSED,
        scenario_sha256=None if isinstance(suite, str) else suite.sha256 or None,
    )
    output: CheckOutput | None
    try:
        with case_budget(_budget(case)):  # every request of the case ends within it
            output = (check or resolve_check(case.check))(ctx, _declared(case))
    except EndpointDown as down:
        output = _down(ctx, result, case, down)
    except Skip as skip:
        result.live = skip.live
        if skip.live and ctx.options.require_live:
            result.status = Status.FAILED
            result.reason = f"live case skipped under --require-live: {skip.reason}"
        else:
            result.status = Status.SKIPPED
            result.reason = skip.reason
        output = None
    except HarnessInputError as exc:
        result.status = Status.ERROR
        result.reason = str(exc).replace("\n", "; ")
        output = None
    except HarnessError as exc:  # a missing tool, a failing Nix, an endpoint that misbehaves
        result.status = Status.ERROR
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        result.reason = f"broken environment: {text}"
        output = None
    except Exception as exc:  # a bug in the check: report it, never lose the other cases
        result.status = Status.ERROR
        result.reason = f"bug in check {case.check}: {type(exc).__name__}: {exc}".splitlines()[0]
        output = None
    if output is not None:
        _fold(ctx, result, output)
    result.reason = scrub_credentials(result.reason)
    for finding in result.findings:
        finding.message = scrub_credentials(finding.message)
    result.duration = time.perf_counter() - started
    return result


def _down(
    ctx: CheckContext, result: CaseResult, case: Case, down: EndpointDown
) -> CheckOutput | None:
    """A named endpoint does not serve: the one finding of its rule from the case that
    reports it; every other case skips, pointing at that rule (not a live skip: the
    demand has failed already)."""
    if ctx.demands.reports(down.rule, case.check, result.node_id):
        return CheckOutput(findings=[Finding(down.rule, down.message)], examined={"endpoints": 1})
    result.status = Status.SKIPPED
    result.reason = f"see {down.rule}: {down.endpoint} does not serve"
    return None


def _budget(case: Case) -> float:
    """The case's `budget` parameter (seconds for all its requests), else `CASE_BUDGET`."""
    value = case.params.get("budget", CASE_BUDGET)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise HarnessInputError(
            f"case {case.name}: budget must be a positive number of seconds, got {value!r}"
        )
    return float(value)


def _relative_to_cwd(path: str) -> str:
    """An artifact path relative to the working directory when it lies under it."""
    candidate = Path(path)
    if candidate.is_absolute():
        with contextlib.suppress(ValueError, OSError):
            return str(candidate.relative_to(Path.cwd()))
    return path


def one_per_place(findings: list[Finding]) -> list[Finding]:
    """Each (rule, file, line, message) once: a file reached from several jobs reports a
    finding once, with `callers` naming the jobs (messages compared with the job named
    the same way)."""
    groups: dict[tuple[Any, ...], list[Finding]] = {}
    for finding in findings:
        message = finding.message
        if finding.job:
            message = message.replace(f"`{finding.job}`", "`<job>`")
        key = (finding.rule, finding.severity, finding.file, finding.line, finding.column, message)
        groups.setdefault(key, []).append(finding)
    out = []
    for group in groups.values():
        first = group[0]
        jobs = list(dict.fromkeys(f.job for f in group if f.job))
        if len(jobs) > 1:
            first.callers = jobs
        out.append(first)
    return out


def _fold(ctx: CheckContext, result: CaseResult, output: CheckOutput) -> None:
    guidance = 0
    if not ctx.enrolled:
        from harness.rollout.guidance import as_guidance

        guidance = as_guidance(output.findings)
    result.findings = apply_suppressions(ctx, one_per_place(output.findings))
    result.measurements = list(output.measurements)
    result.loopback = output.loopback
    result.artifacts = [_relative_to_cwd(path) for path in output.artifacts]
    result.examined = {kind: count for kind, count in output.examined.items() if count > 0}
    failing = [f for f in result.findings if f.fails]
    if failing:
        result.status = Status.FAILED
        rules = sorted({f.rule for f in failing})
        result.reason = f"{len(failing)} finding(s): {', '.join(rules)}"
    elif output.notes:
        result.reason = "; ".join(output.notes)
    if guidance:
        why = f"{guidance} finding(s) are rollout guidance: {ctx.repo_name} is not enrolled"
        result.reason = f"{result.reason}; {why}" if result.reason else why
