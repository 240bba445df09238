"""`--format json`: the report's stable JSON document."""

from __future__ import annotations

from harness.jsontext import dumps_indented
from harness.report.model import Report


def render(report: Report) -> str:
    """The report as indented JSON (keys in schema order)."""
    return dumps_indented(report.to_json()) + "\n"
