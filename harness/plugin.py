"""The pytest plugin (entry point `pytest11`): scenario files become test items.

Only `*.scenario.yaml` files are collected; each case is one item with the node id
`scenarios/<suite>.scenario.yaml::<case>`, marked with its suite name and its own marks.
A broken scenario file is one failing item naming file and line; the rest still run.
Measurements become JUnit `<property>` elements; `--evidence FILE` writes the JSON report
(on the xdist controller, from all workers' results).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import pytest

from harness.checks.api import CheckContext
from harness.checks.registry import MARKS, suite_marks
from harness.errors import HarnessInputError
from harness.options import OPTION_TABLE, options_from, resolve
from harness.results import CaseResult, Finding, Status
from harness.scenario import SUFFIX, Case, Suite, load_suite, suite_name_of, valid_mark
from harness.scheduler import is_static

RESULT_PROPERTY = "flywheel-harness.result"
_CONTEXT_KEY = pytest.StashKey[CheckContext | HarnessInputError]()
_CHECKS_KEY = pytest.StashKey[frozenset[str]]()
KNOWN_MARKS: dict[str, str] = {**suite_marks(), **MARKS}
"""Every mark registered up front: the suites of the check registry and their other marks."""


def pytest_addoption(parser: pytest.Parser) -> None:
    """Every option of the option table, as a flag and as the ini key `harness_<name>`."""
    group = parser.getgroup("flywheel-harness")
    for name, declared in OPTION_TABLE.items():
        kwargs: dict[str, Any] = {"dest": f"harness_{name}", "help": declared.help}
        if declared.kind is bool:
            kwargs.update(action="store_true", default=False)
        else:
            kwargs.update(
                metavar=declared.metavar,
                action="append" if declared.repeatable else "store",
                default=[] if declared.repeatable else None,
            )
        group.addoption(*declared.pytest_flags, **kwargs)
        ini_type: Literal["bool", "linelist", "string"] = (
            "bool" if declared.kind is bool else "linelist" if declared.repeatable else "string"
        )
        parser.addini(f"harness_{name}", help=declared.help, type=ini_type, default=None)


def _ini(config: pytest.Config, name: str) -> Any:
    """The ini value of option `name`; paths are relative to the ini file's directory."""
    value = config.getini(f"harness_{name}")
    if OPTION_TABLE[name].kind is Path and value:
        base = config.inipath.parent if config.inipath else config.rootpath
        return [base / v for v in value] if isinstance(value, list) else base / value
    return value


def _option(config: pytest.Config, name: str) -> Any:
    """Option `name` as given: flag, else environment, else ini key, else default."""
    return resolve(name, config.getoption(f"harness_{name}"), _ini(config, name))


def pytest_configure(config: pytest.Config) -> None:
    """Register the suite and area markers; bad harness options are one usage error."""
    for name, text in KNOWN_MARKS.items():
        config.addinivalue_line("markers", f"{name}: {text}")
    config.pluginmanager.register(_Recorder(config), "flywheel-harness-recorder")
    if not hasattr(config, "workerinput"):  # the controller checks once for all workers
        _check_options(config)


def _check_options(config: pytest.Config) -> None:
    """`--harness-repo`, `--contract`, path flags and `--suite` names, checked before any
    collection: one usage error (exit 4) instead of one error per case."""
    from harness.outpaths import check_input_files, check_output_dir, check_output_file

    try:
        repo = _option(config, "repo")
        if repo is not None and not Path(repo).is_dir():
            raise HarnessInputError(f"--harness-repo {repo}: repository directory does not exist")
        contract = _option(config, "contract")
        if contract is not None:
            check_input_files("--contract", [contract])
        check_output_file("--evidence", _option(config, "evidence"))
        check_output_dir("--artifacts-dir", _option(config, "artifacts_dir"))
        check_input_files("--kubectl-file", list(_option(config, "kubectl_files")))
        check_input_files("--metrics-file", list(_option(config, "metrics_files")))
        wanted = list(_option(config, "suites"))
    except HarnessInputError as exc:
        raise pytest.UsageError(str(exc)) from None
    known = _suites_under(config)
    unknown = [name for name in wanted if name not in known]
    if unknown and known:
        raise pytest.UsageError(
            f"--suite: unknown suite(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )


def _suites_under(config: pytest.Config) -> set[str]:
    """Suite names of the scenario files under the paths pytest was given (a file's name
    when the file cannot be read: collection reports that)."""
    names: set[str] = set()
    for arg in config.args or [str(config.rootpath)]:
        path = Path(arg.split("::")[0])
        if not path.is_absolute():
            path = Path(config.invocation_params.dir) / path
        files = (
            [path]
            if path.is_file()
            else sorted(path.rglob(f"*{SUFFIX}"))[:1000]
            if path.is_dir()
            else []
        )
        for file in files:
            if not file.name.endswith(SUFFIX):
                continue
            try:
                names.add(load_suite(file).name)
            except HarnessInputError:
                names.add(suite_name_of(file))
    return names


def _context(config: pytest.Config) -> CheckContext:
    cached = config.stash.get(_CONTEXT_KEY, None)
    if cached is None:
        from harness.engine import make_context

        try:
            options = options_from(
                {name: config.getoption(f"harness_{name}") for name in OPTION_TABLE},
                {name: _ini(config, name) for name in OPTION_TABLE},
            )
            cached = make_context(options.repo or config.rootpath, options.contract, options)
            planned: frozenset[str] = config.stash.get(_CHECKS_KEY, frozenset())
            cached.demands.plan(planned)
        except HarnessInputError as exc:
            cached = exc
        config.stash[_CONTEXT_KEY] = cached
    if isinstance(cached, HarnessInputError):
        raise cached
    return cached


def pytest_collection_finish(session: pytest.Session) -> None:
    """Remember the checks of the selected cases (on every xdist worker): a named endpoint
    that does not serve is then reported by its rule's own case (see harness.demand)."""
    checks = frozenset(item.case.check for item in session.items if isinstance(item, CaseItem))
    session.config.stash[_CHECKS_KEY] = checks


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    """Collect `*.scenario.yaml` files, and nothing else."""
    if file_path.name.endswith(SUFFIX):
        collector: ScenarioFile = ScenarioFile.from_parent(parent, path=file_path)
        return collector
    return None


class ScenarioFile(pytest.File):
    """One scenario suite file."""

    def collect(self) -> Iterator[pytest.Item]:
        """One item per case, or one failing item when the file is broken."""
        wanted = _option(self.config, "suites")
        try:
            suite = load_suite(self.path, self._display())
        except HarnessInputError as exc:
            # as for `check --suite`: a broken file of a suite not asked for is left out
            if not wanted or suite_name_of(self.path) in wanted:
                yield BrokenScenarioItem.from_parent(self, name="<scenario file>", error=exc)
            return
        if wanted and suite.name not in wanted:
            return
        static = _option(self.config, "static")
        for case in suite.cases:
            if static and not is_static(suite, case):
                continue
            item = CaseItem.from_parent(self, name=case.name, suite=suite, case=case)
            for mark in (suite.name, *suite.marks, *case.marks):
                if valid_mark(mark):
                    if mark not in KNOWN_MARKS:
                        self.config.addinivalue_line("markers", f"{mark}: scenario mark")
                    item.add_marker(mark)
            yield item

    def _display(self) -> str:
        try:
            return self.path.relative_to(self.config.rootpath).as_posix()
        except ValueError:
            return str(self.path)


class CaseFailed(Exception):
    """A case that failed or errored, carrying its result."""

    def __init__(self, result: CaseResult) -> None:
        super().__init__(result.reason)
        self.result = result


class CaseItem(pytest.Item):
    """One scenario case, run by the shared engine."""

    def __init__(self, *, suite: Suite, case: Case, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.suite = suite
        self.case = case

    def runtest(self) -> None:
        """Run the case; record measurements; fail, skip or pass like the engine says."""
        from harness.engine import run_case

        try:
            ctx = _context(self.config)
        except HarnessInputError as exc:
            result = CaseResult(
                self.suite.name, self.case.name, Status.ERROR, str(exc).replace("\n", "; ")
            )
        else:
            from harness.signals import terminate_unwinds

            with terminate_unwinds():  # SIGTERM: the workload and its cgroup still go
                result = run_case(ctx, self.suite, self.case)
        for measurement in result.measurements:
            self.user_properties.append((measurement.name, measurement.value))
        self.user_properties.append((RESULT_PROPERTY, json.dumps(result.to_json())))
        if result.status is Status.SKIPPED:
            raise pytest.skip.Exception(result.reason, _use_item_location=True)
        if result.status in (Status.FAILED, Status.ERROR):
            raise CaseFailed(result)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        """Findings as `path:line: message [RULE]` lines instead of a traceback."""
        if isinstance(excinfo.value, CaseFailed):
            from harness.report.text import finding_line

            result = excinfo.value.result
            lines = [f"{result.status}: {result.reason}"]
            lines += [
                finding_line(f) for f in sorted(result.findings, key=Finding.sort_key) if f.fails
            ]
            return "\n".join(lines)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        """Point pytest at the case's line in the scenario file."""
        return self.path, self.case.line - 1, f"{self.suite.name}::{self.case.name}"


class BrokenScenarioItem(pytest.Item):
    """Stands for a scenario file that could not be read; always fails with the problems."""

    def __init__(self, *, error: HarnessInputError, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.error = error

    def runtest(self) -> None:
        """Fail with the file's problems."""
        raise self.error

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        """One line per problem, with file and line."""
        return str(excinfo.value)

    def reportinfo(self) -> tuple[Path, int, str]:
        """The broken file."""
        return self.path, 0, f"{self.path.name}: invalid scenario file"


class _Recorder:
    """Per-session state: the results of every case, for the evidence file.

    Kept on an object registered per `pytest.Config`, so that several sessions in one
    process (pytester, IDEs) never see each other's results.
    """

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.on_worker = hasattr(config, "workerinput")
        self.results: list[CaseResult] = []
        self.started = time.perf_counter()

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Take each case's result out of its properties (JUnit keeps only measurements).

        On an xdist worker the property stays, so that the controller receives it.
        """
        if self.on_worker:
            return
        kept = []
        for name, value in report.user_properties:
            if name == RESULT_PROPERTY:
                if report.when == "call" or report.outcome != "passed":
                    self.results.append(CaseResult.from_json(json.loads(str(value))))
            else:
                kept.append((name, value))
        report.user_properties = kept

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        """With `--progress` (or the ini key `harness_progress`): what the run proved."""
        if self.on_worker or not self.results or not _option(self.config, "progress"):
            return
        from harness.progress import summary_text

        unique = list({r.node_id: r for r in self.results}.values())
        seconds = time.perf_counter() - self.started
        terminalreporter.section("flywheel-harness")
        for line in summary_text(unique, seconds).splitlines():
            terminalreporter.write_line(line)

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        """On the controller (or without xdist), write the evidence file when asked to."""
        config = self.config
        target = _option(config, "evidence")
        if not target or self.on_worker:
            return
        from harness.evidence import write_evidence
        from harness.report.build import build_report

        try:
            ctx = _context(config)
        except HarnessInputError:
            return
        unique = {r.node_id: r for r in self.results}
        if not unique:  # a run that collected or ran nothing proves nothing: keep the old file
            reporter = config.pluginmanager.get_plugin("terminalreporter")
            if reporter is not None:
                reporter.write_line(
                    f"flywheel-harness: no scenario case ran: {target} was not written"
                )
            return
        write_evidence(build_report(ctx, list(unique.values())), Path(target))
