"""Read workflow and action files into the model, collecting WF001 problems instead of crashing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness.github.model import Action, InputSpec, Job, ParseProblem, Step, Workflow
from harness.safe_read import MAX_WORKFLOW_BYTES
from harness.yamlnodes import LList, LMap, YamlError, load, loads

SCRIPTS_READ: list[Callable[[list[tuple[str, int]]], None]] = []
"""Told of the `run:` scripts of each workflow and action as it is read (with the line each
script's text starts on): a helper parses them meanwhile (`harness.github.scripts_ahead`)."""


def _tell(steps: Any) -> None:
    scripts = [(step.run, step.run_line) for step in steps if step.run]
    if scripts:
        for told in SCRIPTS_READ:
            told(scripts)


class ShapeError(ValueError):
    """A file is valid YAML but not the shape of a workflow or action."""

    def __init__(self, line: int | None, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def _str(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _mapping(parent: LMap, key: str, what: str) -> LMap:
    value = parent.get(key)
    if value is None:
        empty = LMap()
        empty.mark = parent.mark
        empty.key_marks = {}
        empty.value_marks = {}
        return empty
    if not isinstance(value, LMap):
        raise ShapeError(parent.line_of(key), f"{what} must be a mapping")
    return value


def _steps(file: str, container: LMap, key: str) -> list[Step]:
    raw = container.get(key)
    if raw is None:
        return []
    if not isinstance(raw, LList):
        raise ShapeError(container.line_of(key), f"{key} must be a list of steps")
    steps = []
    for index, item in enumerate(raw):
        line = raw.line_of(index)
        if not isinstance(item, LMap):
            raise ShapeError(line, f"step {index + 1} must be a mapping")
        if "uses" not in item and "run" not in item:
            raise ShapeError(line, f"step {index + 1} has neither `uses` nor `run`")
        if "uses" in item and "run" in item:
            raise ShapeError(line, f"step {index + 1} has both `uses` and `run`")
        run = item.get("run")
        run_line = item.value_mark("run").text_line if run is not None else 0
        with_ = item.get("with")
        env = item.get("env")
        steps.append(
            Step(
                file=file,
                line=line,
                index=index + 1,
                id=_str(item.get("id")),
                name=_str(item.get("name")),
                uses=_str(item.get("uses")),
                run=_str(run),
                run_line=run_line,
                shell=_str(item.get("shell")),
                with_=dict(with_) if isinstance(with_, dict) else {},
                env=dict(env) if isinstance(env, dict) else {},
                if_=_str(item.get("if")),
                raw=item,
            )
        )
    return steps


def _triggers(raw: LMap) -> dict[str, Any]:
    on = raw.get("on")
    if on is None:
        raise ShapeError(raw.mark.line, "workflow has no `on:` triggers")
    if isinstance(on, str):
        return {on: None}
    if isinstance(on, list):
        return {str(event): None for event in on}
    if isinstance(on, dict):
        return {str(event): config for event, config in on.items()}
    raise ShapeError(raw.line_of("on"), "`on:` must be an event name, a list or a mapping")


def _inputs(config: Any) -> dict[str, InputSpec]:
    if not isinstance(config, LMap) or not isinstance(config.get("inputs"), LMap):
        return {}
    inputs = config["inputs"]
    out = {}
    for name, raw_spec in inputs.items():
        spec = raw_spec if isinstance(raw_spec, dict) else {}
        out[name] = InputSpec(
            name,
            spec.get("default"),
            str(spec.get("type", "string")),
            bool(spec.get("required", False)),
            inputs.line_of(name),
        )
    return out


def _needs(raw: LMap) -> tuple[str, ...]:
    needs = raw.get("needs")
    if needs is None:
        return ()
    if isinstance(needs, str):
        return (needs,)
    if isinstance(needs, list) and all(isinstance(n, str) for n in needs):
        return tuple(needs)
    raise ShapeError(raw.line_of("needs"), "`needs` must be a job id or a list of job ids")


def _job(file: str, job_id: str, raw: Any, line: int) -> Job:
    if not isinstance(raw, LMap):
        raise ShapeError(line, f"job {job_id!r} must be a mapping")
    uses = _str(raw.get("uses"))
    if uses is None and "runs-on" not in raw:
        raise ShapeError(line, f"job {job_id!r} has no `runs-on` (and calls no reusable workflow)")
    if uses is None and "steps" not in raw:
        raise ShapeError(line, f"job {job_id!r} has no `steps`")
    strategy = raw.get("strategy")
    matrix = strategy.get("matrix") if isinstance(strategy, LMap) else None
    with_ = raw.get("with")
    return Job(
        id=job_id,
        file=file,
        line=line,
        name=_str(raw.get("name")),
        runs_on=raw.get("runs-on"),
        runs_on_line=raw.line_of("runs-on"),
        needs=_needs(raw),
        needs_line=raw.line_of("needs"),
        if_=_str(raw.get("if")),
        permissions=raw.get("permissions"),
        permissions_line=raw.line_of("permissions"),
        container=raw.get("container"),
        environment=raw.get("environment"),
        matrix=matrix,
        matrix_line=strategy.line_of("matrix") if isinstance(strategy, LMap) else line,
        steps=_steps(file, raw, "steps"),
        uses=uses,
        uses_line=raw.line_of("uses"),
        with_=dict(with_) if isinstance(with_, dict) else {},
        with_lines={k: with_.line_of(k) for k in with_} if isinstance(with_, LMap) else {},
        raw=raw,
    )


def parse_workflow(path: Path, file: str, root: Path | None = None) -> Workflow:
    """Parse one workflow file (a regular file inside `root`); raises YamlError or ShapeError."""
    return workflow_of(load(path, file, MAX_WORKFLOW_BYTES, root=root), file)


def parse_workflow_text(text: str, file: str) -> Workflow:
    """Parse a workflow given as text (a remote file); raises YamlError or ShapeError."""
    return workflow_of(loads(text, file), file)


def workflow_of(raw: Any, file: str) -> Workflow:
    """The workflow of a parsed YAML document; raises ShapeError."""
    if not isinstance(raw, LMap):
        raise ShapeError(1, "a workflow must be a YAML mapping")
    on = _triggers(raw)
    jobs_raw = raw.get("jobs")
    if not isinstance(jobs_raw, LMap) or not jobs_raw:
        raise ShapeError(
            raw.line_of("jobs") if "jobs" in raw else 1, "workflow has no `jobs` mapping"
        )
    jobs = {
        str(job_id): _job(file, str(job_id), spec, jobs_raw.line_of(job_id))
        for job_id, spec in jobs_raw.items()
    }
    call_inputs = _inputs(on.get("workflow_call"))
    if SCRIPTS_READ:
        _tell(step for job in jobs.values() for step in job.steps)
    return Workflow(
        file=file,
        line=1,
        name=_str(raw.get("name")),
        on=on,
        on_line=raw.line_of("on"),
        jobs=jobs,
        permissions=raw.get("permissions"),
        call_inputs=call_inputs,
        raw=raw,
    )


def parse_action(path: Path, file: str, directory: str, root: Path | None = None) -> Action:
    """Parse one `action.yml` (a regular file inside `root`); raises YamlError or ShapeError."""
    return action_of(load(path, file, MAX_WORKFLOW_BYTES, root=root), file, directory)


def parse_action_text(text: str, file: str, directory: str) -> Action:
    """Parse an action given as text (a remote file); raises YamlError or ShapeError."""
    return action_of(loads(text, file), file, directory)


def action_of(raw: Any, file: str, directory: str) -> Action:
    """The action of a parsed YAML document; raises ShapeError."""
    if not isinstance(raw, LMap):
        raise ShapeError(1, "an action must be a YAML mapping")
    runs = _mapping(raw, "runs", "`runs`")
    if "runs" not in raw:
        raise ShapeError(1, "action has no `runs`")
    using = _str(runs.get("using"))
    steps = _steps(file, runs, "steps") if using == "composite" else []
    if SCRIPTS_READ:
        _tell(steps)
    inputs_raw = raw.get("inputs")
    inputs = {}
    if isinstance(inputs_raw, dict):
        inputs = {
            k: (v.get("default") if isinstance(v, dict) else None) for k, v in inputs_raw.items()
        }
    return Action(
        file=file,
        directory=directory,
        line=1,
        name=_str(raw.get("name")),
        using=using,
        steps=steps,
        inputs=inputs,
        raw=raw,
    )


def problem_of(file: str, exc: Exception) -> ParseProblem:
    """The WF001 problem for a file that failed to parse."""
    if isinstance(exc, YamlError):
        return ParseProblem(file, exc.line, exc.message)
    if isinstance(exc, ShapeError):
        return ParseProblem(file, exc.line, exc.message)
    return ParseProblem(file, None, str(exc))
