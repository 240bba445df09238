"""Evidence files: the JSON report a release gate later reads."""

from __future__ import annotations

import json
from pathlib import Path

from harness.report.model import Report


def write_evidence(report: Report, path: Path) -> None:
    """Write the report as evidence JSON at `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report.to_json(), indent=2) + "\n", encoding="utf-8")
