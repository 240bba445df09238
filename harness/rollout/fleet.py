"""A fleet run: every repository through the normal check pipeline in a process pool, then
per-tranche readiness and promotion candidates, as the `flywheel-harness/fleet@1` document.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from harness import __version__
from harness.contract.model import Contract
from harness.errors import HarnessInputError
from harness.rollout.row import BLOCKED, EXCEPTED, READY, FleetSetup, check_repo
from harness.rollout.targets import Target
from harness.scenario import Suite

SCHEMA = "flywheel-harness/fleet@1"
DEFAULT_SUITES = ("workflows", "placement", "bootstrap", "publication")
"""The static suites a fleet run checks unless `--suite` names others."""


def static_suites(suites: Sequence[Suite]) -> tuple[Suite, ...]:
    """The suites with only their static cases: a fleet run never probes endpoints or
    runners."""
    from harness.scheduler import static_only

    chosen = static_only(suites)
    if not chosen:
        raise HarnessInputError("none of the chosen suites has static cases")
    return tuple(chosen)


_WORKER: dict[str, FleetSetup] = {}
"""The setup a worker process checks against (set once per worker by `_init`)."""


def _init(setup: FleetSetup) -> None:
    _WORKER["setup"] = setup


def _work(target: Target) -> dict[str, Any]:
    return check_repo(_WORKER["setup"], target)


def run_rows(
    setup: FleetSetup, targets: Sequence[Target], jobs: int | None
) -> list[dict[str, Any]]:
    """One row per repository, checked in `jobs` worker processes (default: one per CPU)."""
    workers = min(jobs or os.cpu_count() or 1, len(targets))
    if workers <= 1:
        return [check_repo(setup, target) for target in targets]
    import gc
    import multiprocessing

    # many small, long-lived objects per repository (the workflow model): collect young
    # objects less often, as `check` does
    gc.set_threshold(50_000, 20, 100)
    _import_checks(setup)  # once, before forking: the workers inherit the modules
    context = multiprocessing.get_context("fork")
    chunk = max(1, len(targets) // (workers * 8))
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=_init, initargs=(setup,)
    ) as pool:
        return list(pool.map(_work, targets, chunksize=chunk))


def _import_checks(setup: FleetSetup) -> None:
    """Import the module of every check the suites run."""
    from harness.checks import resolve_check

    for suite in setup.suites:
        for case in suite.cases:
            with contextlib.suppress(Exception):  # an unknown check errs in its own case
                resolve_check(case.check)


def tranche_order(contract: Contract) -> dict[str, list[str]]:
    """The contract's tranches, in order, with their repositories."""
    if contract.enrollment is None:
        return {}
    return {name: list(repos) for name, repos in contract.enrollment.tranches.items()}


def summarise(
    rows: Iterable[dict[str, Any]], tranches: dict[str, list[str]], tranche: str | None
) -> tuple[dict[str, Any], list[str]]:
    """Per-tranche readiness and the promotion candidates for `tranche` (any when None)."""
    by_name = {row["repo"].lower(): row for row in rows}
    summary: dict[str, Any] = {}
    for name, repos in tranches.items():
        present = [by_name[r.lower()] for r in repos if r.lower() in by_name]
        ready = [row for row in present if row["verdict"] in (READY, EXCEPTED)]
        summary[name] = {
            "ready": len(ready),
            "total": len(repos),
            "blocked": [row["repo"] for row in present if row["verdict"] == BLOCKED],
            "missing": [r for r in repos if r.lower() not in by_name],
            "repos": list(repos),
        }
    names = list(tranches)
    settled = set(names[: names.index(tranche) + 1]) if tranche in tranches else set(names)
    candidates = sorted(
        row["repo"]
        for row in by_name.values()
        if row["promotion"]["passes"] and row["tranche"] not in settled
    )
    return summary, candidates


def fleet_document(
    rows: list[dict[str, Any]],
    tranches: dict[str, list[str]],
    tranche: str | None,
    contract: dict[str, str],
    *,
    created: str,
    activity: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The `flywheel-harness/fleet@1` document."""
    rows = sorted(rows, key=lambda row: row["repo"].lower())
    summary, candidates = summarise(rows, tranches, tranche)
    data: dict[str, Any] = {
        "schema": SCHEMA,
        "tool": {"name": "flywheel-harness", "version": __version__},
        "created": created,
        "contract": contract,
        "tranche": tranche,
        "repos": rows,
        "tranches": summary,
        "promotion_candidates": candidates,
    }
    if activity is not None:
        data["activity"] = activity
    return data


def check_tranche(tranches: dict[str, list[str]], tranche: str | None) -> None:
    """A named tranche must exist in the contract."""
    if tranche is not None and tranche not in tranches:
        known = ", ".join(tranches) or "none: the contract has no enrollment section"
        raise HarnessInputError(f"--tranche {tranche}: no such tranche (known: {known})")


def exit_code(document: dict[str, Any]) -> int:
    """1 when the named tranche has a blocked (or unchecked) repository, else 0."""
    name = document.get("tranche")
    if name is None:
        return 0
    entry = document["tranches"][name]
    return 1 if entry["blocked"] or entry["missing"] else 0
