"""README.md opens the door; docs/ holds the reference. Both document the public interface."""

from __future__ import annotations

import json
import re

from harness.commands import COMMANDS
from harness.report.catalogue import catalogue_markdown
from harness.rules import all_rules
from tests.helpers.cli import run_harness
from tests.helpers.paths import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
DOCS = ROOT / "docs"
LINK = re.compile(r"\]\(([^)\s#]*)(#[^)\s]*)?\)")


def doc(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def test_the_readme_stays_a_front_door() -> None:
    assert len(README.splitlines()) < 250


def test_the_rule_page_is_the_generated_catalogue() -> None:
    assert doc("rules.md") == catalogue_markdown(all_rules()), (
        "docs/rules.md is out of date: run "
        "`flywheel-harness rules --format markdown > docs/rules.md`"
    )


def test_every_rule_is_documented() -> None:
    rules_page = doc("rules.md")
    missing = [rule.id for rule in all_rules() if f"## {rule.id}\n" not in rules_page]
    assert missing == []


def test_every_command_is_documented_with_its_help() -> None:
    cli = doc("cli.md")
    missing = [
        name
        for name, (_, help_text) in COMMANDS.items()
        if f"| `flywheel-harness {name}` | {help_text} |" not in cli
    ]
    assert missing == [], "add a row `| `flywheel-harness NAME` | HELP | link |` to docs/cli.md"


def test_the_flag_reference_is_generated_from_the_parsers() -> None:
    from harness.cliref import rewritten

    page = doc("cli.md")
    assert page == rewritten(page), (
        "docs/cli.md's flag reference is out of date: run `python -m harness.cliref`"
    )


def test_the_two_commands_and_every_session_are_shown() -> None:
    noxfile = (ROOT / "noxfile.py").read_text(encoding="utf-8")
    sessions = re.findall(r"^@nox.session[^\n]*\ndef (\w+)\(", noxfile, re.MULTILINE)
    assert {"validate", "tests", "lint", "bench", "release_gate"} <= set(sessions)
    assert "nox -s validate" in README and "nox -s tests" in README
    missing = [name for name in sessions if f"nox -s {name}" not in README]
    assert missing == []


def test_ci_runs_the_readme_test_command() -> None:
    ci_lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert "nox -s tests" in ci_lines


def test_every_docs_page_is_linked_from_the_index() -> None:
    index = doc("index.md")
    linked = {match.group(1) for match in LINK.finditer(index)}
    pages = {path.name for path in DOCS.glob("*.md")} - {"index.md"}
    assert sorted(pages - linked) == [], "link every docs/*.md page from docs/index.md"


def test_relative_links_point_at_files() -> None:
    broken = []
    for page in [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]:
        for match in LINK.finditer(page.read_text(encoding="utf-8")):
            target = match.group(1)
            if target and "://" not in target and not (page.parent / target).exists():
                broken.append(f"{page.relative_to(ROOT)}: {target}")
    assert broken == []


def test_the_tour_shows_what_the_example_really_reports() -> None:
    done = run_harness(
        "check",
        "--repo",
        str(DOCS / "example"),
        "--suite",
        "placement",
        "--suite",
        "bootstrap",
        "--format",
        "json",
    )
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    rules = {f["rule"] for r in report["results"] for f in r["findings"]}
    assert rules == {"BOOT001", "PLACE001", "LANE002"}
    shown = set(re.findall(r"\[([A-Z]+\d{3})\]$", README, re.MULTILINE))
    assert shown == rules


def test_the_fix_example_is_what_fix_prints_on_the_example() -> None:
    """Every line of the README's `fix` block (`...` ends a line shown cut) is fix's output."""
    block = README.split("$ flywheel-harness fix --repo docs/example --unsafe\n", 1)[1]
    shown = block.split("```", 1)[0].splitlines()
    done = run_harness("fix", "--repo", str(DOCS / "example"), "--unsafe")
    assert done.returncode == 1, done.stderr  # --diff with changes to show
    printed = (done.stderr + done.stdout).splitlines()  # the fixes, then the diff
    missing = [
        line
        for line in shown
        if not any(
            out == line or (line.endswith("...") and out.startswith(line[:-3])) for out in printed
        )
    ]
    assert len(shown) >= 10 and missing == []
