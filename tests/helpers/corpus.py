"""The per-rule corpus: small repositories in txtar form, with the findings they must give.

A `.txtar` file is a description, then files, each after a `-- path --` line (the format Go
uses for test data). Two sections are not files of the repository:

- `-- expected.txt --`: the findings of the example's rule, one `path:line: RULE` per line;
- `-- args --`: extra `flywheel-harness check` arguments (whitespace-separated; a word naming
  a file of the example is given as that file's path), e.g. `--kubectl-file nodes.json`.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from harness.rules import all_rules
from tests.helpers.paths import ROOT

CORPUS = ROOT / "tests" / "rules"
"""`tests/rules/<RULE>/{bad,good}/<name>.txtar`."""

_MARKER = re.compile(r"^-- (.+?) --$", re.MULTILINE)
_SPECIAL = ("expected.txt", "args")


def parse_txtar(text: str) -> tuple[str, dict[str, str]]:
    """The description and the files (path -> text) of a txtar archive."""
    parts = _MARKER.split(text)
    description, rest = parts[0], parts[1:]
    return description, {
        rest[i].strip(): rest[i + 1].removeprefix("\n") for i in range(0, len(rest), 2)
    }


@dataclass(frozen=True)
class Example:
    """One corpus example: `tests/rules/<rule>/<kind>/<name>.txtar`."""

    path: Path
    rule: str
    kind: str
    suite: str
    files: dict[str, str] = field(hash=False)

    @property
    def id(self) -> str:
        """The pytest id: `RULE/kind/name`."""
        return f"{self.rule}/{self.kind}/{self.path.stem}"

    @property
    def expected(self) -> list[str]:
        """The `path:line: RULE` lines of `expected.txt`, sorted."""
        text = self.files.get("expected.txt", "")
        return sorted(line.strip() for line in text.splitlines() if line.strip())

    def args(self, repo: Path) -> list[str]:
        """Extra `check` arguments, file names resolved inside the materialized `repo`."""
        words = shlex.split(self.files.get("args", ""))
        return [str(repo / w) if w in self.files else w for w in words]

    def materialize(self, root: Path) -> Path:
        """Write the repository's files under `root` and return it."""
        for name, text in self.files.items():
            if name in _SPECIAL:
                continue
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
    for path in sorted(CORPUS.glob("*/*/*.txtar")):
        rule, kind = path.parent.parent.name, path.parent.name
        assert kind in ("bad", "good"), f"{path}: examples live in bad/ or good/"
        _, files = parse_txtar(path.read_text(encoding="utf-8"))
        found.append(
            Example(path=path, rule=rule, kind=kind, suite=suites.get(rule, ""), files=files)
        )
    return found


def finding_lines(rule: str, report: dict[str, Any], repo: Path) -> list[str]:
    """The report's findings of `rule` as sorted `path:line: RULE` lines (`-` for no file).

    A file given on the command line (`--metrics-file`) is reported as given, absolute: it
    is shown relative to `repo` here.
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
            lines.append(f"{where}: {rule}")
    return sorted(lines)
