"""The per-rule corpus as the tests use it: each example materialized as a repository and
checked. The txtar format and where the corpus lives are `harness.corpus`'s."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from harness.corpus import CorpusExample, corpus_examples, expected_line
from harness.rules import all_rules
from tests.helpers.paths import ROOT

CORPUS = ROOT / "tests" / "rules"
"""`tests/rules/<RULE>/{bad,good}/<name>.txtar`."""


@dataclass(frozen=True)
class Example(CorpusExample):
    """One corpus example, with the suite of its rule."""

    suite: str = ""

    @property
    def id(self) -> str:
        """The pytest id: `RULE/kind/name`."""
        return f"{self.rule}/{self.kind}/{self.path.stem}"

    @property
    def with_messages(self) -> bool:
        """True when `expected.txt` gives each finding's message too."""
        return any(expected_line(line)[1] for line in self.expected)

    def args(self, repo: Path) -> list[str]:
        """Extra `check` arguments, file names resolved inside the materialized `repo`."""
        return [str(repo / w) if w in self.files else w for w in self.arguments]

    def materialize(self, root: Path) -> Path:
        """Write the repository's files under `root` and return it."""
        for name, text in self.repository.items():
            relative = PurePosixPath(name)
            assert not relative.is_absolute() and ".." not in relative.parts, name
            target = root / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        root.mkdir(parents=True, exist_ok=True)
        return root


def examples() -> list[Example]:
    """Every example of the corpus, sorted by rule, kind and name."""
    suites = {rule.id: rule.suite for rule in all_rules()}
    found = []
    for e in corpus_examples():
        assert e.path.is_relative_to(CORPUS), f"{e.path}: the corpus is read from {CORPUS}"
        assert e.kind in ("bad", "good"), f"{e.path}: examples live in bad/ or good/"
        found.append(
            Example(e.path, e.rule, e.kind, e.description, e.files, suite=suites.get(e.rule, ""))
        )
    return found


def finding_lines(
    rule: str, report: dict[str, Any], repo: Path, *, messages: bool = False
) -> list[str]:
    """The report's findings of `rule` as sorted `path:line: RULE` lines (`-` for no file),
    each followed by its message when `messages` is set.

    A file given on the command line (`--metrics-file`) is reported as given, absolute: it
    is shown relative to `repo` here, in the message too.
    """
    lines = []
    for result in report["results"]:
        for finding in result["findings"]:
            if finding["rule"] != rule:
                continue
            where = finding["file"] or "-"
            if where.startswith(f"{repo}/"):
                where = where[len(f"{repo}/") :]
            if finding["file"] and finding["line"]:
                where += f":{finding['line']}"
            line = f"{where}: {rule}"
            if messages:
                line += " " + finding["message"].replace(f"{repo}/", "")
            lines.append(line)
    return sorted(lines)


def reason_lines(report: dict[str, Any], wanted: list[str]) -> list[str]:
    """`suite::case: status: reason` of the report's cases that `wanted` lines name."""
    named = {line.split(": ", 1)[0] for line in wanted}
    return [
        f"{r['suite']}::{r['case']}: {r['status']}: {r['reason']}"
        for r in report["results"]
        if f"{r['suite']}::{r['case']}" in named
    ]
