"""The rule catalogue as Markdown: what `flywheel-harness rules --format markdown` prints.

`docs/rules.md` is this text for every rule; a test keeps the two equal, so the page is
regenerated with `flywheel-harness rules --format markdown > docs/rules.md`.
"""

from __future__ import annotations

from collections.abc import Sequence

from harness.rules import Rule

HEADER = """# Rule catalogue

Every rule the harness reports, with an example violation and its fix. This page is what
`flywheel-harness rules --format markdown` prints (regenerate it with
`flywheel-harness rules --format markdown > docs/rules.md`; a test keeps them equal). How the
rules read workflows, OpenTofu and ARC configuration, caches and memory is explained in the
pages linked from [index.md](index.md).
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
    return "\n".join(lines) + "\n"
