"""The check registry is the one source of checks, rules, suites, marks and params schemas."""

from __future__ import annotations

import ast
import dataclasses
import importlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from harness.checks import registry as reg
from harness.checks import resolve_check
from harness.errors import HarnessInputError
from harness.plugin import KNOWN_MARKS
from harness.rules import CatalogueError, all_rules
from harness.scenario import bundled_scenarios_dir, load_suite, scenario_files
from tests.helpers.cli import python_output


def _emitted_ids(module_name: str) -> set[str]:
    """Rule ids written as string constants in a module, outside its `Rule(...)` texts."""
    module = importlib.import_module(module_name)
    tree = ast.parse(Path(str(module.__file__)).read_text(encoding="utf-8"))
    declared: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Rule":
            declared |= {id(sub) for sub in ast.walk(node)}
    return {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in declared
    }


def test_every_rule_is_reported_by_the_module_the_catalogue_names() -> None:
    rules = all_rules()
    assert {r.id for r in rules} == {r for spec in reg.REGISTRY for r in spec.rules}
    for rule in rules:
        assert rule.id in _emitted_ids(rule.module), f"{rule.id} is not reported in {rule.module}"


def test_mem002_lives_where_its_judgement_is() -> None:
    mem002 = next(r for r in all_rules() if r.id == "MEM002")
    assert mem002.module == "harness.checks.memory"
    assert mem002.suite == "memory" and mem002.checks == ("memory.workload",)


def test_every_registration_resolves_to_a_function_and_a_known_suite() -> None:
    for spec in reg.REGISTRY:
        assert callable(resolve_check(spec.name)), spec.name
        assert spec.suite in reg.SUITES, spec.name


def test_a_rule_registered_without_its_text_is_a_catalogue_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    broken = dataclasses.replace(reg.CHECKS["workflows.needs"], rules=("WF003", "WF999"))
    monkeypatch.setattr(reg, "REGISTRY", (*reg.REGISTRY, broken))
    with pytest.raises(CatalogueError, match=r"WF999: registered for harness\.checks\.workflows"):
        all_rules()


def test_plugin_marks_are_the_registry_suites_plus_its_marks() -> None:
    assert set(KNOWN_MARKS) == set(reg.SUITES) | set(reg.MARKS)
    assert KNOWN_MARKS["state"].endswith("(STATE, CLUSTER rules)")


def test_bundled_cases_belong_to_their_checks_suite() -> None:
    for path in scenario_files(bundled_scenarios_dir()):
        suite = load_suite(path)
        for case in suite.cases:
            assert reg.CHECKS[case.check].suite == suite.name, (path.name, case.name)


def _write(tmp_path: Path, cases: str) -> Path:
    path = tmp_path / "x.scenario.yaml"
    path.write_text("suite: caches\ncases:\n" + cases, encoding="utf-8")
    return path


def test_a_params_typo_is_an_error_at_its_line(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "  - name: y\n    check: attic.hit_ratio\n    params:\n"
        "      http_timeout: 5\n      min_hit_ration: 0.5\n",
    )
    with pytest.raises(HarnessInputError) as info:
        load_suite(path, "scenarios/x.scenario.yaml")
    message = str(info.value)
    assert message.startswith(
        "scenarios/x.scenario.yaml:7: case 'y': unknown param 'min_hit_ration' (known: "
    )
    assert "min_hit_ratio" in message


def test_params_of_the_wrong_type_and_range_name_each_param(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "  - name: z\n    check: bazel.outage_tolerance\n    params:\n"
        "      modes: [flood]\n      remote_retries: -1\n"
        "  - name: w\n    check: workflows.needs\n    params: {x: 1}\n",
    )
    with pytest.raises(HarnessInputError) as info:
        load_suite(path, "s.yaml")
    assert [str(p) for p in info.value.problems] == [
        "s.yaml:6: case 'z': param 'modes.0': 'flood' is not one of ['refuse', 'http500', 'hang']",
        "s.yaml:7: case 'z': param 'remote_retries': -1 is less than the minimum of 0",
        "s.yaml:10: case 'w': unknown param 'x' (known: none)",
    ]


def test_loading_a_scenario_imports_no_check_module(tmp_path: Path) -> None:
    path = _write(
        tmp_path, "  - name: y\n    check: attic.hit_ratio\n    params: {min_hit_ratio: 0.5}\n"
    )
    code = (
        "import sys; from harness.scenario import load_suite; "
        f"load_suite(__import__('pathlib').Path({str(path)!r})); "
        "print(sorted(m for m in sys.modules if m.startswith('harness.checks.')"
        " or m == 'jsonschema'))"
    )
    out = python_output(code)
    assert out.strip() == "['harness.checks.api', 'harness.checks.registry']"


def test_a_check_reading_an_undeclared_param_is_a_bug_in_the_check(tmp_path: Path) -> None:
    """Every key a check reads must be in its params schema: reading another one errors."""
    from harness.checks.api import CheckContext
    from harness.contract import BUNDLED_CONTRACT, load_contract
    from harness.engine import run_case
    from harness.options import Options
    from harness.results import CheckOutput, Status
    from harness.scenario import Case

    def reads_a_typo(ctx: CheckContext, params: Mapping[str, Any]) -> CheckOutput:
        params.get("min_hit_ration")
        return CheckOutput()

    ctx = CheckContext(tmp_path, load_contract(BUNDLED_CONTRACT), Options())
    case = Case("c", "attic.hit_ratio", 1, params={"min_hit_ratio": 0.5})
    result = run_case(ctx, "caches", case, check=reads_a_typo)
    assert result.status is Status.ERROR
    assert "reads params key 'min_hit_ration'" in result.reason
    assert "min_hit_ratio" in result.reason  # the declared keys are named

    def reads_declared(ctx: CheckContext, params: Mapping[str, Any]) -> CheckOutput:
        assert params.get("min_hit_ratio") == 0.5 and params.get("budget") is None
        return CheckOutput()

    assert run_case(ctx, "caches", case, check=reads_declared).status is Status.PASSED
