"""The option table: each option is declared once and reaches both front doors alike."""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

import pytest

from harness.cli import build_parser
from harness.commands import COMMANDS
from harness.errors import HarnessInputError
from harness.options import OPTION_TABLE, Options, options_from, resolve

pytest_plugins = ["pytester"]

REPOS = Path(__file__).parent / "fixtures" / "repos"


def _subparser(command: str) -> argparse.ArgumentParser:
    parser = build_parser(command)
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    sub: argparse.ArgumentParser = action.choices[command]
    return sub


def _helps(parser: argparse.ArgumentParser) -> dict[str, str | None]:
    return {flag: action.help for action in parser._actions for flag in action.option_strings}


def test_every_option_is_a_check_flag_and_a_plugin_option_with_the_same_help(
    pytester: pytest.Pytester,
) -> None:
    cli = _helps(_subparser("check"))
    config = pytester.parseconfig()
    plugin = {
        name: argument.attrs()["help"]
        for argument in config._parser.getgroup("flywheel-harness").options
        for name in argument.names()
    }
    for name, declared in OPTION_TABLE.items():
        assert cli[declared.flag] == declared.help, name
        for flag in declared.pytest_flags:
            assert plugin[flag] == declared.help, (name, flag)
        assert config.getini(f"harness_{name}") in (None, [], False, ""), name


def test_a_command_help_is_written_once() -> None:
    top = build_parser(None)
    action = next(a for a in top._actions if isinstance(a, argparse._SubParsersAction))
    listed = {choice.dest: choice.help for choice in action._choices_actions}
    for name, (_, text) in COMMANDS.items():
        assert listed[name] == text
        own = build_parser(name)
        sub = next(a for a in own._actions if isinstance(a, argparse._SubParsersAction))
        assert {c.dest: c.help for c in sub._choices_actions}[name] == text, name


def test_endpoint_schemes_are_checked_by_options_whichever_door() -> None:
    with pytest.raises(HarnessInputError) as info:
        Options(attic_url="ftp://user:secret@cache")
    assert str(info.value) == "--attic-url must start with http:// or https://, got 'ftp://cache'"
    with pytest.raises(HarnessInputError, match="got no scheme"):
        options_from({"bazel_cache": "cache.example:8080"})
    assert Options(bazel_cache="grpcs://cache:9092").bazel_cache == "grpcs://cache:9092"


def test_flag_over_environment_over_ini(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(
        OPTION_TABLE,
        "attic_cache",
        dataclasses.replace(OPTION_TABLE["attic_cache"], env="HARNESS_CACHE"),
    )
    assert resolve("attic_cache", None, "from-ini") == "from-ini"
    monkeypatch.setenv("HARNESS_CACHE", "from-env")
    assert resolve("attic_cache", None, "from-ini") == "from-env"
    assert resolve("attic_cache", "from-flag", "from-ini") == "from-flag"
    assert resolve("kubectl_files", None, ["a.json", "b.json"]) == (Path("a.json"), Path("b.json"))


def test_ini_keys_drive_the_plugin(pytester: pytest.Pytester) -> None:
    pytester.makeini(
        "[pytest]\nharness_suites = placement\n"
        f"harness_repo = {REPOS / 'placement'}\n"
        "harness_attic_url = ftp://nowhere\n"
    )
    scenarios = pytester.mkdir("scenarios")
    (scenarios / "placement.scenario.yaml").write_text(
        "cases:\n  - name: labels\n    check: lanes.known_labels\n"
    )
    (scenarios / "workflows.scenario.yaml").write_text(
        "cases:\n  - name: readable\n    check: workflows.readable\n"
    )
    result = pytester.runpytest("-p", "no:randomly", "-p", "no:cacheprovider")
    result.assert_outcomes(errors=0, failed=1)
    result.stdout.fnmatch_lines(["*--attic-url must start with http:// or https://*"])
    passed = pytester.runpytest(
        "-p", "no:randomly", "--attic-url", "http://127.0.0.1:9", "--evidence", "ev.json"
    )
    passed.assert_outcomes(passed=1)
    evidence = json.loads((pytester.path / "ev.json").read_text())
    assert [r["suite"] for r in evidence["results"]] == ["placement"]
