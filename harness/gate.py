"""The release gate: may this commit be published to FlakeHub, on the strength of its evidence?

The gate fails closed. It passes only when the evidence
- is signed with `HARNESS_EVIDENCE_KEY` (when that key is set, and always under
  `--require-signature` or `publication.flakehub.require_signature`) and internally consistent,
- belongs to the commit checked out here, made on a clean tree, and this tree is clean
  (a tree whose state git cannot tell is not clean; index flags cannot hide edits),
- was made against the same contract (sha256),
- came from the installed harness's bundled scenarios (or a scenario set the contract names),
- covers every suite in `publication.flakehub.suites` and the roles in `publication.flakehub.after`,
  and each of those suites examined something (a passed case that looked at an input),
- has no failed or errored case, and no skipped live case in a required suite,
- is no older than `publication.flakehub.max_age`.
Every reason it refuses is one line. docs/gate.md says what this proves and what it does not.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness.contract.model import Contract, FlakeHubPublication, Role
from harness.evidence import KEY_ENV, SIGNATURE, load_report, signature_problem
from harness.report.model import Report, scenario_set
from harness.results import Status
from harness.worktree import tree_state

FUTURE_TOLERANCE = 300.0
"""Seconds of clock skew allowed between the machine that made the evidence and this one."""

ROLE_SUITES: dict[Role, tuple[str, ...]] = {
    Role.BOOTSTRAP: ("bootstrap",),
    Role.VALIDATE: (),
    Role.GATE: (),
}
"""What each role of `publication.flakehub.after` asks of the evidence.

`bootstrap`: the bootstrap suite ran (BOOT001, and on a runner NIX001/NIX002); `validate`: the
evidence holds results at all (the required suites are listed in `suites`); `gate`: this gate
itself is running.
"""


@dataclass
class GateVerdict:
    """The gate's answer: the reasons it refused (none means pass) and what it checked."""

    refusals: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    checked: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        """True when nothing was refused."""
        return not self.refusals

    def refuse(self, reason: str) -> None:
        """Record one reason to refuse."""
        self.refusals.append(reason)

    def to_json(self) -> dict[str, Any]:
        """The verdict as JSON."""
        return {
            "passed": self.passed,
            "refusals": list(self.refusals),
            "notes": list(self.notes),
            "checked": dict(self.checked),
        }


def format_age(seconds: float) -> str:
    """A duration the way max_age is written (`90s`, `12m`, `30h`, `2d`)."""
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f}m"
    if seconds < 3 * 86400:
        return f"{seconds / 3600:.1f}h".replace(".0h", "h")
    return f"{seconds / 86400:.1f}d".replace(".0d", "d")


def parse_created(value: Any) -> datetime | None:
    """The `created` timestamp of a report (ISO 8601, `Z` or offset), or None."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _short(sha: str | None) -> str:
    return (sha or "none")[:12]


def _check_signature(
    verdict: GateVerdict, data: dict[str, Any], key: bytes | None, required: bool
) -> None:
    if key is None and required:
        verdict.checked["signature"] = "required, no key"
        verdict.refuse(
            f"signed evidence is required (--require-signature or "
            f"publication.flakehub.require_signature) but {KEY_ENV} is not set "
            "here: the signature cannot be verified"
        )
        return
    if key is None:
        if SIGNATURE in data:
            verdict.notes.append(
                f"evidence is signed but {KEY_ENV} is not set here: signature not verified"
            )
        verdict.checked["signature"] = "not required"
        return
    problem = signature_problem(data, key)
    verdict.checked["signature"] = "valid" if problem is None else "invalid"
    if problem:
        verdict.refuse(problem)


def _check_consistency(verdict: GateVerdict, data: dict[str, Any], report: Report) -> None:
    recorded = data.get("summary")
    if recorded != report.summary():
        verdict.refuse(
            f"evidence summary {recorded} does not match its results "
            f"{report.summary()}: the file was edited"
        )


def _check_commit(verdict: GateVerdict, report: Report, repo: Path) -> None:
    here = tree_state(repo)
    verdict.checked["commit"] = here.commit
    verdict.checked["dirty"] = here.dirty
    if here.commit is None:
        verdict.refuse(f"{repo} is not a git checkout: the evidence cannot be tied to a commit")
    elif report.repo.commit is None:
        verdict.refuse("evidence was not made in a git checkout (no commit recorded)")
    elif report.repo.commit != here.commit:
        verdict.refuse(
            f"evidence is for commit {_short(report.repo.commit)}, this checkout is "
            f"at {_short(here.commit)}"
        )
    if report.repo.dirty:
        verdict.refuse("evidence was made on a tree with uncommitted changes")
    elif report.repo.dirty is None and report.repo.commit is not None:
        verdict.refuse("evidence does not record whether its tree was clean (dirty: unknown)")
    if here.commit is None:
        return
    if here.dirty:
        verdict.refuse(
            f"{repo} is not its commit: {here.why}: the release would not be the "
            "commit the evidence proves"
        )
    elif here.dirty is None:
        verdict.refuse(
            f"cannot tell whether {repo} has uncommitted changes ({here.why}): unknown is not clean"
        )


def _check_contract(verdict: GateVerdict, report: Report, contract: Contract) -> None:
    verdict.checked["contract_sha256"] = contract.sha256
    if report.contract_sha256 != contract.sha256:
        verdict.refuse(
            f"evidence was made against contract sha256 "
            f"{_short(report.contract_sha256)} ({report.contract_path or '?'}), the "
            f"gate's contract {contract.path} is {_short(contract.sha256)}"
        )


def _check_coverage(verdict: GateVerdict, report: Report, spec: FlakeHubPublication) -> None:
    present = {r.suite for r in report.results}
    required = list(dict.fromkeys(spec.suites))
    for role in spec.after:
        required += [s for s in ROLE_SUITES[role] if s not in required]
    verdict.checked["required_suites"] = required
    for suite in required:
        if suite not in present:
            verdict.refuse(
                f"suite `{suite}` is required before publication but is missing from the evidence"
            )
    if Role.VALIDATE in spec.after and not report.results:
        verdict.refuse("evidence holds no results: nothing was validated")


def _check_scenarios(verdict: GateVerdict, report: Report, spec: FlakeHubPublication) -> None:
    """Every result came from the installed harness's bundled scenario files, unless the
    contract accepts the evidence's scenario set by its digest."""
    from harness.suites import bundled_suite_digests

    recorded = scenario_set(report.results)
    verdict.checked["scenarios_sha256"] = recorded["sha256"]
    if recorded["sha256"] in spec.scenarios_sha256:
        verdict.notes.append(
            f"scenario set {_short(recorded['sha256'])} is accepted by "
            "publication.flakehub.scenarios_sha256"
        )
        return
    bundled = bundled_suite_digests()
    for suite, digest in sorted(recorded["suites"].items()):
        if digest is None:
            verdict.refuse(
                f"suite `{suite}`: the evidence does not record which scenario file it ran"
            )
        elif bundled.get(suite) != digest:
            verdict.refuse(
                f"suite `{suite}` did not run the installed harness's bundled "
                f"scenarios (sha256 {_short(digest)}, bundled "
                f"{_short(bundled.get(suite))}); to accept this scenario set, name "
                f"its digest {recorded['sha256']} in "
                "publication.flakehub.scenarios_sha256"
            )


def _check_examined(verdict: GateVerdict, report: Report, required: list[str]) -> None:
    """A required suite must have examined its input: one passed case that looked at some."""
    for suite in required:
        results = [r for r in report.results if r.suite == suite]
        if not results:
            continue  # refused as missing
        if any(r.status is Status.PASSED and r.examined_anything for r in results):
            continue
        skipped = [r for r in results if r.status is Status.SKIPPED]
        if len(skipped) == len(results):
            why = f"every case was skipped ({skipped[0].case}: {skipped[0].reason})"
        else:
            why = "no passed case examined any input (files, jobs, stacks, endpoints)"
        verdict.refuse(f"required suite `{suite}` examined nothing: {why}")


def _check_results(verdict: GateVerdict, report: Report, required: list[str]) -> None:
    """No case may fail or error; no live case of a required suite may be skipped."""
    for result in report.sorted_results():
        reason = f": {result.reason}" if result.reason else ""
        if result.status is Status.FAILED:
            verdict.refuse(f"case {result.node_id} failed{reason}")
        elif result.status is Status.ERROR:
            verdict.refuse(f"case {result.node_id} errored{reason}")
        elif result.status is Status.SKIPPED and result.live and result.suite in required:
            verdict.refuse(f"live case {result.node_id} was skipped{reason}")


def _check_age(verdict: GateVerdict, report: Report, max_age: float, now: datetime) -> None:
    created = parse_created(report.created)
    verdict.checked["max_age_seconds"] = max_age
    if created is None:
        verdict.refuse("evidence has no valid `created` time: its freshness cannot be judged")
        return
    age = (now - created).total_seconds()
    verdict.checked["age_seconds"] = round(age, 1)
    if age < -FUTURE_TOLERANCE:
        verdict.refuse(f"evidence was created {format_age(-age)} in the future ({report.created})")
    elif age > max_age:
        verdict.refuse(
            f"evidence is {format_age(age)} old, older than max_age "
            f"{format_age(max_age)} (created {report.created})"
        )


def check_flakehub_dry_run(verdict: GateVerdict, directory: Path) -> None:
    """Inspect what `flakehub-push` wrote with `FLAKEHUB_DEST_DIR` (a dry run of the publish).

    flakehub-push writes `<version>.tar.gz` and `<version>.json` (its release metadata, with
    the `revision` it would publish) there instead of uploading. The release must be of the
    commit the evidence proves, and every metadata file needs its tarball.
    """
    commit = verdict.checked.get("commit")
    files = sorted(directory.glob("*.json")) if directory.is_dir() else []
    if not files:
        verdict.refuse(
            f"no flakehub-push release metadata (*.json) in {directory}: run "
            "flakehub-push with FLAKEHUB_DEST_DIR first"
        )
        return
    releases = []
    for meta in files:
        version = meta.name[: -len(".json")]
        try:
            data = json.loads(meta.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            verdict.refuse(f"{meta}: not flakehub-push release metadata: {exc}")
            continue
        revision = data.get("revision") if isinstance(data, dict) else None
        if not isinstance(revision, str):
            verdict.refuse(f"{meta}: release metadata has no `revision`")
            continue
        if commit and revision != commit:
            verdict.refuse(
                f"the FlakeHub dry run {version} is of revision {_short(revision)}, "
                f"the evidence proves {_short(commit)}"
            )
        if not (directory / f"{version}.tar.gz").is_file():
            verdict.refuse(f"the FlakeHub dry run {version} has metadata but no {version}.tar.gz")
        releases.append(
            {"version": version, "revision": revision, "visibility": data.get("visibility")}
        )
    verdict.checked["flakehub_dry_run"] = releases


def evaluate(
    data: dict[str, Any],
    evidence_path: Path,
    repo: Path,
    contract: Contract,
    *,
    key: bytes | None,
    now: datetime | None = None,
    require_signature: bool = False,
) -> GateVerdict:
    """Judge evidence `data` (read from `evidence_path`) for the checkout at `repo`.

    A signature is required when `require_signature` is set or the contract's
    `publication.flakehub.require_signature` is true (its default).
    """
    verdict = GateVerdict()
    spec = contract.flakehub or FlakeHubPublication(require_signature=False)
    if contract.flakehub is None:
        verdict.notes.append(
            "the contract has no publication.flakehub section: using the "
            "defaults (after: bootstrap, validate, gate; max_age 24h)"
        )
    _check_signature(verdict, data, key, require_signature or spec.require_signature)
    report = load_report(data, evidence_path)
    _check_consistency(verdict, data, report)
    _check_commit(verdict, report, repo)
    _check_contract(verdict, report, contract)
    _check_scenarios(verdict, report, spec)
    _check_coverage(verdict, report, spec)
    required = list(verdict.checked.get("required_suites", []))
    _check_examined(verdict, report, required)
    _check_results(verdict, report, required)
    _check_age(verdict, report, spec.max_age_seconds, now or datetime.now(UTC))
    return verdict
