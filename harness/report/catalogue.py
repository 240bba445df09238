"""The rule catalogue as Markdown: what `flywheel-harness rules --format markdown` prints.

`docs/rules.md` is this text for every rule; a test keeps the two equal, so the page is
regenerated with `flywheel-harness rules --format markdown > docs/rules.md`.
"""

from __future__ import annotations

from collections.abc import Sequence

from harness.corpus import CorpusExample, documented_examples, language
from harness.rules import Rule

HEADER = """# Rule catalogue

Every rule the harness reports, with an example violation and its fix. This page is what
`flywheel-harness rules --format markdown` prints (regenerate it with
`flywheel-harness rules --format markdown > docs/rules.md`; a test keeps them equal). How the
rules read workflows, OpenTofu and ARC configuration, caches and memory is explained in the
pages linked from [index.md](index.md).

The worked examples under a rule come from the rule corpus (`tests/rules/<RULE>/`): each is a
small repository, and `tests/test_rule_corpus.py` checks that the harness reports exactly the
findings (and case reasons) shown.
"""


def _module_path(module: str) -> str:
    return module.replace(".", "/") + ".py"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def catalogue_markdown(rules: Sequence[Rule]) -> str:
    """A table of `rules` (id, severity, suite, module, summary), then each with its example."""
    lines = [
        HEADER,
        "| rule | severity | suite | module | what it catches |",
        "| --- | --- | --- | --- | --- |",
    ]
    lines += [
        f"| [{r.id}](#{r.id.lower()}) | {r.severity} | {r.suite} | "
        f"`{_module_path(r.module)}` | {_cell(r.summary)} |"
        for r in rules
    ]
    for rule in rules:
        lines += [
            "",
            f"## {rule.id}",
            "",
            f"{rule.severity}, suite `{rule.suite}`, `{_module_path(rule.module)}`",
            "",
            rule.summary,
            "",
            "Violation:",
            "",
            "```yaml",
            rule.example,
            "```",
            "",
            f"Fix: {rule.fix}",
        ]
        for example in documented_examples(rule.id):
            lines += example_markdown(example, rule.suite)
    return "\n".join(lines) + "\n"


def command_line(example: CorpusExample, suite: str) -> str:
    """The `check` command the corpus test runs on an example (in its repository)."""
    args = example.arguments
    words = ["flywheel-harness", "check", *([] if "--suite" in args else ["--suite", suite])]
    return " ".join([*words, *args])


def example_markdown(example: CorpusExample, suite: str) -> list[str]:
    """One corpus example: what it shows, its files, the command, and what is reported."""
    lines = ["", f"Example `{example.name}`: {example.description}", ""]
    for path, text in example.repository.items():
        lines += [f"`{path}`:", "", f"```{language(path)}", text.rstrip("\n"), "```", ""]
    lines += [f"`{command_line(example, suite)}` reports:", "", "```text"]
    lines += example.expected or [f"no {example.rule} finding"]
    lines += example.reasons
    lines.append("```")
    return lines
