"""Recent activity from saved `gh api` output, joined to the fleet's rows.

Reads what these commands print (one file or several; pages concatenated as
`gh api --paginate` writes them, or wrapped in an array by `--slurp`):

    gh api --paginate repos/OWNER/REPO/actions/runs > runs.json
    gh api --paginate repos/OWNER/REPO/actions/runs/RUN_ID/jobs > jobs.json

From the runs (`workflow_runs[]`: `repository.full_name`, `created_at`, `conclusion`) and
jobs (`jobs[]`: `run_url`, `labels`, `runner_name`, `runner_group_name`, `created_at`,
`started_at`, `completed_at`, `conclusion`) it shows enrolled repositories whose recent jobs
ran on hosted runners, jobs that waited longer than a threshold for a lane (a job ARC never
picks up, such as `[self-hosted, tinyland-nix]`, waits until it is cancelled), and active
repositories that are not enrolled.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from harness.contract.model import Contract
from harness.errors import HarnessInputError, Problem
from harness.safe_read import MAX_JSON_BYTES, UnsafeFile, read_text

DEFAULT_QUEUE_THRESHOLD = 600.0
"""Seconds a job may wait for a lane runner before the report calls it out."""
MAX_RECORDS = 1_000_000
HOSTED_GROUP = "GitHub Actions"
"""`runner_group_name` of GitHub-hosted runners."""
_REPO_IN_URL = re.compile(r"/repos/([^/]+/[^/]+)/actions/|github\.com/([^/]+/[^/]+)/actions/")


@dataclass(frozen=True)
class Run:
    """One workflow run."""

    repo: str
    name: str
    created_at: datetime
    conclusion: str | None


@dataclass(frozen=True)
class Job:
    """One job of a workflow run, as the runner that took it saw it."""

    repo: str
    name: str
    labels: tuple[str, ...]
    runner_name: str | None
    runner_group: str | None
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    conclusion: str | None


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _repo_of_url(*urls: Any) -> str | None:
    for url in urls:
        if isinstance(url, str):
            match = _REPO_IN_URL.search(url)
            if match:
                return match.group(1) or match.group(2)
    return None


def _values(text: str, name: str) -> Iterator[Any]:
    """Every JSON value in a file of concatenated values (`gh api --paginate`)."""
    decoder = json.JSONDecoder()
    index = 0
    while True:
        while index < len(text) and text[index].isspace():
            index += 1
        if index >= len(text):
            return
        try:
            value, index = decoder.raw_decode(text, index)
        except json.JSONDecodeError as exc:
            raise HarnessInputError(
                Problem(name, exc.lineno, f"not gh api JSON: {exc.msg}")
            ) from None
        yield value


class Activity:
    """Runs and jobs read from saved `gh api` output."""

    def __init__(self) -> None:
        self.runs: list[Run] = []
        self.jobs: list[Job] = []
        self.files: list[str] = []

    def read(self, path: Path) -> None:
        """Add the runs and jobs of one file."""
        try:
            text = read_text(path, MAX_JSON_BYTES)
        except (UnsafeFile, OSError) as exc:
            raise HarnessInputError(
                Problem(str(path), None, f"cannot read activity: {exc}")
            ) from None
        before = len(self.runs) + len(self.jobs)
        for value in _values(text, str(path)):
            self._take(value, str(path))
        if len(self.runs) + len(self.jobs) == before:
            raise HarnessInputError(
                Problem(
                    str(path),
                    None,
                    (
                        "no workflow runs or jobs here: expected the output of gh api "
                        "repos/OWNER/REPO/actions/runs or .../actions/runs/ID/jobs"
                    ),
                )
            )
        self.files.append(str(path))

    def _take(self, value: Any, name: str) -> None:
        if len(self.runs) + len(self.jobs) > MAX_RECORDS:
            raise HarnessInputError(Problem(name, None, f"more than {MAX_RECORDS} records"))
        if isinstance(value, list):
            for item in value:
                self._take(item, name)
        elif isinstance(value, dict):
            if isinstance(value.get("workflow_runs"), list):
                for item in value["workflow_runs"]:
                    self._run(item)
            elif isinstance(value.get("jobs"), list):
                for item in value["jobs"]:
                    self._job(item)
            elif "run_url" in value and "labels" in value:
                self._job(value)
            elif "workflow_id" in value:
                self._run(value)

    def _run(self, item: Any) -> None:
        if not isinstance(item, dict):
            return
        repository = item.get("repository") or {}
        repo = repository.get("full_name") if isinstance(repository, dict) else None
        created = _time(item.get("created_at"))
        repo = repo or _repo_of_url(item.get("url"), item.get("html_url"))
        if repo and created:
            self.runs.append(
                Run(repo, str(item.get("name") or ""), created, item.get("conclusion"))
            )

    def _job(self, item: Any) -> None:
        if not isinstance(item, dict):
            return
        repo = _repo_of_url(item.get("run_url"), item.get("html_url"), item.get("url"))
        created = _time(item.get("created_at")) or _time(item.get("started_at"))
        if not repo or created is None:
            return
        labels = item.get("labels") or []
        self.jobs.append(
            Job(
                repo=repo,
                name=str(item.get("name") or ""),
                labels=tuple(str(label) for label in labels if isinstance(label, str)),
                runner_name=item.get("runner_name"),
                runner_group=item.get("runner_group_name"),
                created_at=created,
                started_at=_time(item.get("started_at")),
                completed_at=_time(item.get("completed_at")),
                conclusion=item.get("conclusion"),
            )
        )

    def as_of(self) -> datetime | None:
        """The latest time the files mention: "now" for jobs still queued."""
        times = [
            t for job in self.jobs for t in (job.created_at, job.started_at, job.completed_at) if t
        ]
        times += [run.created_at for run in self.runs]
        return max(times) if times else None


def queued_seconds(job: Job, as_of: datetime | None) -> float:
    """How long a job waited for a runner: until it started, or, when no runner ever took
    it, until it ended (cancelled) or until the latest time in the files."""
    if job.runner_name and job.started_at is not None:
        end: datetime | None = job.started_at
    else:
        end = job.completed_at or as_of
    return max(0.0, (end - job.created_at).total_seconds()) if end else 0.0


def is_hosted(job: Job, contract: Contract) -> bool:
    """True for a job that ran (or asked to run) on a GitHub-hosted runner."""
    lanes = {lane.lower() for lane in contract.lanes}
    if any(label.lower() in lanes for label in job.labels):
        return False
    return (
        job.runner_group == HOSTED_GROUP or contract.hosted_catalogue.hosted(job.labels) is not None
    )


def _stamp(moment: datetime | None) -> str | None:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def _no_activity() -> dict[str, Any]:
    """A repository's activity when the saved runs hold none of it."""
    return {
        "runs": 0,
        "jobs": 0,
        "hosted_jobs": 0,
        "lane_jobs": 0,
        "slow_queues": 0,
        "last_run": None,
        "hosted_labels": [],
    }


def join(
    activity: Activity,
    contract: Contract,
    rows: list[dict[str, Any]],
    threshold: float = DEFAULT_QUEUE_THRESHOLD,
) -> dict[str, Any]:
    """Attach per-repository activity to `rows` and return the fleet's activity section."""
    lanes = {lane.lower() for lane in contract.lanes}
    as_of = activity.as_of()
    in_fleet = {row["repo"].lower() for row in rows}
    per_repo: dict[str, dict[str, Any]] = {}

    def entry(repo: str) -> dict[str, Any]:
        return per_repo.setdefault(
            repo.lower(), {"repo": repo, **_no_activity(), "hosted_labels": set()}
        )

    for run in activity.runs:
        item = entry(run.repo)
        item["runs"] += 1
        if item["last_run"] is None or run.created_at > item["last_run"]:
            item["last_run"] = run.created_at
    slow: list[dict[str, Any]] = []
    for job in activity.jobs:
        item = entry(job.repo)
        item["jobs"] += 1
        if item["last_run"] is None or job.created_at > item["last_run"]:
            item["last_run"] = job.created_at
        if is_hosted(job, contract):
            item["hosted_jobs"] += 1
            item["hosted_labels"].update(job.labels)
        if any(label.lower() in lanes for label in job.labels):
            item["lane_jobs"] += 1
            waited = queued_seconds(job, as_of)
            if waited > threshold:
                item["slow_queues"] += 1
                slow.append(
                    {
                        "repo": job.repo,
                        "job": job.name,
                        "labels": list(job.labels),
                        "queued_seconds": round(waited),
                        "runner_name": job.runner_name,
                        "conclusion": job.conclusion,
                        "created_at": _stamp(job.created_at),
                    }
                )
    for item in per_repo.values():
        item["last_run"] = _stamp(item["last_run"])
        item["hosted_labels"] = sorted(item["hosted_labels"])
    for row in rows:
        found = per_repo.get(row["repo"].lower())
        row["activity"] = (
            {k: v for k, v in found.items() if k != "repo"} if found else _no_activity()
        )
    hosted = [
        {"repo": i["repo"], "hosted_jobs": i["hosted_jobs"], "labels": i["hosted_labels"]}
        for i in per_repo.values()
        if i["hosted_jobs"]
        and contract.enrollment is not None
        and contract.enrollment.tranche_of(i["repo"]) is not None
    ]
    idle = [
        {
            "repo": i["repo"],
            "runs": i["runs"],
            "jobs": i["jobs"],
            "last_run": i["last_run"],
            "in_fleet": i["repo"].lower() in in_fleet,
        }
        for i in per_repo.values()
        if contract.enrollment is not None and contract.enrollment.tranche_of(i["repo"]) is None
    ]
    return {
        "files": list(activity.files),
        "runs": len(activity.runs),
        "jobs": len(activity.jobs),
        "as_of": _stamp(as_of),
        "queue_threshold_seconds": threshold,
        "enrolled_on_hosted": sorted(hosted, key=lambda i: i["repo"].lower()),
        "slow_lane_queues": sorted(slow, key=lambda i: (-i["queued_seconds"], i["repo"])),
        "active_not_enrolled": sorted(idle, key=lambda i: i["repo"].lower()),
    }
