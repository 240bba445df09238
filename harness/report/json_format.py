"""`--format json`: the report's stable JSON document."""

from __future__ import annotations

import json

from harness.report.model import Report


def render(report: Report) -> str:
    """The report as indented JSON (keys in schema order)."""
    return json.dumps(report.to_json(), indent=2) + "\n"
