"""The per-rule corpus: small repositories, in txtar form, that break or keep each rule.

`tests/rules/<RULE>/{bad,good}/<name>.txtar` (shipped in the wheel as `harness/_rules`) is a
description, then files, each after a `-- path --` line (the format Go uses for test data).
Three sections are not files of the repository:

- `-- expected.txt --`: the findings of the example's rule, one `path:line: RULE` per line
  (`-` for a finding with no file), optionally followed by the finding's message;
- `-- args --`: extra `flywheel-harness check` arguments (e.g. `--repo-name OWNER/REPO`);
- `-- reasons.txt --`: `suite::case: status: reason` lines the run must report.

`tests/test_rule_corpus.py` runs every example, so what the corpus says is what the harness
does. An example whose findings carry messages, or that has `reasons.txt`, is also shown in
the rule catalogue (`flywheel-harness rules`, docs/rules.md): the corpus is the one place
the catalogue's worked examples are written.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

SPECIAL = ("expected.txt", "args", "reasons.txt")
"""Sections of an example that are not files of its repository."""

_MARKER = re.compile(r"^-- (.+?) --$", re.MULTILINE)
_FINDING = re.compile(r"^(?P<where>\S+): (?P<rule>[A-Z]+[0-9]+)(?: (?P<message>.+))?$")
_LANGUAGES = {
    ".yml": "yaml",
    ".yaml": "yaml",
    ".tf": "hcl",
    ".tfvars": "hcl",
    ".nix": "nix",
    ".json": "json",
}


def corpus_dir() -> Path:
    """The corpus: `tests/rules/` of a source checkout, or the copy in the wheel."""
    package = Path(__file__).parent
    installed = package / "_rules"
    if installed.is_dir():
        return installed
    return package.parent / "tests" / "rules"


def parse_txtar(text: str) -> tuple[str, dict[str, str]]:
    """The description and the files (path -> text) of a txtar archive."""
    parts = _MARKER.split(text)
    description, rest = parts[0], parts[1:]
    return description, {
        rest[i].strip(): rest[i + 1].removeprefix("\n") for i in range(0, len(rest), 2)
    }


def expected_line(line: str) -> tuple[str, str | None]:
    """`path:line: RULE [message]` -> (`path:line: RULE`, the message or None)."""
    match = _FINDING.match(line.strip())
    if match is None:
        return line.strip(), None
    return f"{match['where']}: {match['rule']}", match["message"]


def language(path: str) -> str:
    """The Markdown fence language of a corpus file."""
    return _LANGUAGES.get(Path(path).suffix, "text")


@dataclass(frozen=True)
class CorpusExample:
    """One example: `<corpus>/<rule>/<kind>/<name>.txtar`."""

    path: Path
    rule: str
    kind: str
    description: str
    files: dict[str, str] = field(hash=False)

    @property
    def name(self) -> str:
        """`kind/name`, as the catalogue names it."""
        return f"{self.kind}/{self.path.stem}"

    @property
    def expected(self) -> list[str]:
        """The lines of `expected.txt`, sorted (with their messages, when written)."""
        text = self.files.get("expected.txt", "")
        return sorted(line.strip() for line in text.splitlines() if line.strip())

    @property
    def reasons(self) -> list[str]:
        """The `suite::case: status: reason` lines of `reasons.txt`."""
        text = self.files.get("reasons.txt", "")
        return [line.strip() for line in text.splitlines() if line.strip()]

    @property
    def arguments(self) -> list[str]:
        """The extra `check` arguments, as written."""
        return shlex.split(self.files.get("args", ""))

    @property
    def repository(self) -> dict[str, str]:
        """The repository's files (path -> text), without the special sections."""
        return {name: text for name, text in self.files.items() if name not in SPECIAL}

    @property
    def documented(self) -> bool:
        """True when the catalogue shows this example: its findings carry their messages,
        or it states the reasons of cases."""
        with_messages = any(expected_line(line)[1] for line in self.expected)
        return with_messages or bool(self.reasons)

    def to_json(self) -> dict[str, Any]:
        """The example as `rules --format json` shows it."""
        return {
            "name": self.name,
            "description": self.description,
            "files": self.repository,
            "args": self.arguments,
            "findings": self.expected,
            "reasons": self.reasons,
        }


@cache
def corpus_examples() -> tuple[CorpusExample, ...]:
    """Every example of the corpus, sorted by rule, kind and name (none without a corpus)."""
    found = []
    for path in sorted(corpus_dir().glob("*/*/*.txtar")):
        description, files = parse_txtar(path.read_text(encoding="utf-8"))
        found.append(
            CorpusExample(
                path=path,
                rule=path.parent.parent.name,
                kind=path.parent.name,
                description=" ".join(description.split()),
                files=files,
            )
        )
    return tuple(found)


def documented_examples(rule: str) -> list[CorpusExample]:
    """The examples of `rule` the catalogue shows."""
    return [e for e in corpus_examples() if e.rule == rule and e.documented]
